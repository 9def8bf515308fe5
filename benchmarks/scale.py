"""Scale curve: generated rollouts from the reference size to a nationwide chain, solved
through the product's entry point, beside the greedy baseline a coordinator would do by hand.

    python -m benchmarks.scale [--sizes 13x8x20,100x30x30,1000x150x60,5000x400x90]
                               [--limits 10,60] [--workers 2] [--seed 0]

Each (size, time limit) runs in a fresh process so that its peak memory (max RSS) is its own.
Reported: status, time to the first plan, objective, proven lower bound, gap, unassigned items,
wall time, peak memory; and the greedy baseline's objective, unassigned items and time.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time

from solver.generate import generate
from solver.prepare import prepare
from solver.report import plan_terms
from solver.schedule import greedy
from solver.solve import MAX_OPTIONS_PER_ITEM, PRUNE_ABOVE, solve
from solver.types import SolveOptions


def run_one(size: str, limit: float, workers: int, seed: int) -> dict:
    sites, firms, days = (int(n) for n in size.split("x"))
    problem = generate(sites, firms, days, seed)
    result = solve(problem, SolveOptions(time_limit=limit, workers=workers, seed=seed,
                                         explain=False))
    return {
        "size": size, "limit": limit, "items": len(problem.items), "status": result.status,
        "first": result.time_to_first_plan, "objective": result.objective,
        "bound": result.bound, "gap": result.gap,
        "unassigned": len(result.unassigned) if result.objective is not None else "-",
        "wall": result.wall_time, "options": result.stats.get("options"),
        "pruned": result.stats.get("pruned_options"),
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def run_greedy(size: str, seed: int) -> dict:
    sites, firms, days = (int(n) for n in size.split("x"))
    problem = generate(sites, firms, days, seed)
    started = time.monotonic()
    core = prepare(problem, MAX_OPTIONS_PER_ITEM, PRUNE_ABOVE)
    placement = greedy(core)
    return {"objective": sum(plan_terms(core, placement).values()),
            "unassigned": len(core.items) - len(placement.chosen),
            "seconds": time.monotonic() - started}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="13x8x20,100x30x30,1000x150x60,5000x400x90")
    parser.add_argument("--limits", default="10,60")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--greedy-only", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        size, limit = args.one.split("@")
        print(json.dumps(run_one(size, float(limit), args.workers, args.seed)))
        return 0
    if args.greedy_only:
        print(json.dumps(run_greedy(args.greedy_only, args.seed)))
        return 0
    print("| size | items | limit s | status | first plan s | objective | bound | gap "
          "| unassigned | wall s | peak MB | greedy objective | greedy unassigned | greedy s |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        base = _child(["--greedy-only", size, "--seed", str(args.seed)])
        for limit in args.limits.split(","):
            row = _child(["--one", f"{size}@{limit}", "--workers", str(args.workers),
                          "--seed", str(args.seed)])
            gap = f"{100 * row['gap']:.2f} %" if row["gap"] is not None else "-"
            print(f"| {size} | {row['items']} | {limit} | {row['status']} | "
                  f"{_f(row['first'], 2)} | {_f(row['objective'], 0)} | {_f(row['bound'], 0)} "
                  f"| {gap} | {row['unassigned']} | {row['wall']:.1f} | {row['rss_mb']:.0f} | "
                  f"{base['objective']:.0f} | {base['unassigned']} | {base['seconds']:.1f} |",
                  flush=True)
    return 0


def _child(arguments: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.scale", *arguments],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _f(value, digits: int) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


if __name__ == "__main__":
    sys.exit(main())
