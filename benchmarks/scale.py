"""Scale curve: generated rollouts from the reference size to a nationwide chain, solved
through the product's entry point, beside the greedy baseline a coordinator would do by hand
and, up to --peer-up-to, plain CP-SAT on the monolithic exact model (benchmarks/peers.py).

    python -m benchmarks.scale [--sizes 13x8x20,100x30x30,1000x150x60,5000x400x90]
                               [--limits 10,60 | --time-limit 10] [--workers 2] [--seed 0]
                               [--peer-up-to 100x30x30] [--repeat N] [--busy [P]]

Each (size, time limit) runs in a fresh process, and the peer in another, so that each peak
memory (max RSS) is its own; they run one after the other, with the same limit, workers and
seed. Reported: status, time to the first plan, objective, proven lower bound, gap,
unassigned items, wall time, peak memory; the greedy baseline's objective, unassigned items
and time; the peer's status, objective (its plan valued by the same terms, in euros), bound,
unassigned items, time, peak memory, and the ratio planner / peer (below 1: the planner is
cheaper).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from benchmarks.peers import cpsat_rollout
from benchmarks.runs import (
    add_run_arguments,
    busy,
    cell,
    median,
    ratio,
    settings,
    table_head,
    table_row,
    words,
)
from solver.generate import generate
from solver.prepare import prepare
from solver.report import plan_terms
from solver.schedule import greedy
from solver.solve import MAX_OPTIONS_PER_ITEM, PRUNE_ABOVE, solve
from solver.types import SolveOptions

COLUMNS = ["size", "items", "limit s", "status", "first plan s", "objective", "bound", "gap",
           "unassigned", "wall s", "peak MB", "greedy objective", "greedy unassigned",
           "greedy s", "CP-SAT status", "CP-SAT objective", "CP-SAT bound",
           "CP-SAT unassigned", "CP-SAT s", "CP-SAT peak MB", "planner / CP-SAT"]


def _dimensions(size: str) -> tuple[int, int, int]:
    sites, firms, days = (int(n) for n in size.split("x"))
    return sites, firms, days


def run_one(size: str, limit: float, workers: int, seed: int) -> dict:
    problem = generate(*_dimensions(size), seed)
    result = solve(problem, SolveOptions(time_limit=limit, workers=workers, seed=seed,
                                         explain=False))
    return {
        "size": size, "limit": limit, "items": len(problem.items), "status": result.status,
        "first": result.time_to_first_plan, "objective": result.objective,
        "bound": result.bound, "gap": result.gap,
        "unassigned": len(result.unassigned) if result.objective is not None else None,
        "wall": result.wall_time, "options": result.stats.get("options"),
        "pruned": result.stats.get("pruned_options"),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_peer(size: str, limit: float, workers: int, seed: int) -> dict:
    problem = generate(*_dimensions(size), seed)
    run = cpsat_rollout(problem, limit, workers, seed)
    return {"status": run.status, "objective": run.objective, "bound": run.bound,
            "unassigned": run.unassigned, "violations": run.violations, "wall": run.seconds,
            "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def run_greedy(size: str, seed: int) -> dict:
    problem = generate(*_dimensions(size), seed)
    started = time.monotonic()
    core = prepare(problem, MAX_OPTIONS_PER_ITEM, PRUNE_ABOVE)
    placement = greedy(core)
    return {"objective": sum(plan_terms(core, placement).values()),
            "unassigned": len(core.items) - len(placement.chosen),
            "seconds": time.monotonic() - started}


def peer_runs_on(size: str, up_to: str) -> bool:
    """The peer runs on sizes no larger than `up_to` in sites, firms and days."""
    return all(a <= b for a, b in zip(_dimensions(size), _dimensions(up_to), strict=True))


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="13x8x20,100x30x30,1000x150x60,5000x400x90")
    parser.add_argument("--limits", default="10,60")
    parser.add_argument("--peer-up-to", default="100x30x30",
                        help="largest sites x firms x days the CP-SAT peer runs on")
    add_run_arguments(parser, time_limit=None)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--peer-one", help=argparse.SUPPRESS)
    parser.add_argument("--greedy-only", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.time_limit is not None:
        args.limits = f"{args.time_limit:g}"
    return args


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
    for flag, job in ((args.one, run_one), (args.peer_one, run_peer)):
        if flag:
            size, limit = flag.split("@")
            print(json.dumps(job(size, float(limit), args.workers, args.seed)))
            return 0
    if args.greedy_only:
        print(json.dumps(run_greedy(args.greedy_only, args.seed)))
        return 0
    common = ["--workers", str(args.workers), "--seed", str(args.seed)]
    with busy(args.busy) as load:
        print(settings(args))
        print(table_head(COLUMNS), flush=True)
        for size in args.sizes.split(","):
            base = _child(["--greedy-only", size, "--seed", str(args.seed)])
            for limit in args.limits.split(","):
                rows, peers = [], []
                for _ in range(args.repeat):
                    rows.append(_child(["--one", f"{size}@{limit}", *common]))
                    if peer_runs_on(size, args.peer_up_to):
                        peers.append(_child(["--peer-one", f"{size}@{limit}", *common]))
                print(table_row(_cells(size, limit, rows, base, peers)), flush=True)
    if args.busy:
        print(load.describe())
    return 0


def _cells(size: str, limit: str, rows: list[dict], base: dict, peers: list[dict]) -> list[str]:
    def column(runs, key):
        return [run[key] for run in runs]

    gaps = [None if g is None else 100 * g for g in column(rows, "gap")]
    cells = [size, str(rows[0]["items"]), limit, words(column(rows, "status")),
             cell(column(rows, "first"), 2), cell(column(rows, "objective"), 0, True),
             cell(column(rows, "bound"), 0, True), cell(gaps, 2, unit="%"),
             cell(column(rows, "unassigned")), cell(column(rows, "wall"), 1),
             cell(column(rows, "rss_mb")), f"{base['objective']:.0f}",
             str(base["unassigned"]), f"{base['seconds']:.1f}"]
    if not peers:
        return cells + ["not run"] + ["-"] * 6
    broken = sum(peer["violations"] or 0 for peer in peers)
    status = words(column(peers, "status")) + (f" ({broken} broken rules)" if broken else "")
    return cells + [status, cell(column(peers, "objective"), 0, True),
                    cell(column(peers, "bound"), 0, True), cell(column(peers, "unassigned")),
                    cell(column(peers, "wall"), 1), cell(column(peers, "rss_mb")),
                    ratio(median(column(rows, "objective")),
                          median(column(peers, "objective")))]


def _child(arguments: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.scale", *arguments],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    sys.exit(main())
