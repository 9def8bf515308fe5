"""Re-planning with minimal change (issue 15): how much of the previous plan a re-plan keeps
when one partner drops out, the planner beside plain CP-SAT on the same re-plan problem.

    python -m benchmarks.replan [--sizes 30x8x20,200x30x30,1000x150x60] [--seeds 0,1]
                                [--seconds 10] [--workers 2]

Per generated rollout (solver.generate) and seed: the planner's plan of the whole rollout
(`--seconds`), then the partner with the second most items leaves it (its firm removed), and
the same problem with that plan as the reference (stability at its unit weight, 500 euros per
item moved to another firm, rules.REDATING of it per item kept on other days) is solved again
by the planner and by plain CP-SAT on the exact model (benchmarks.peers.cpsat_rollout), each
with `--seconds` and `--workers`. Columns: the re-plan's objective (euros; lower is better),
whether the checker passes it, the items that had to move (the leaver's), the other items
given to another firm or left out, and the items kept by their firm on another first day.
"""

from __future__ import annotations

import argparse
import collections
import sys
import time
from dataclasses import replace

from solver.check import check
from solver.generate import generate
from solver.instance import Plan
from solver.solve import solve
from solver.types import PlannedItem, SolveOptions

from . import peers


def _changes(reference: dict, assignments, leaver: str) -> tuple[int, int]:
    """(other items moved to another firm or left out, kept items on another first day)."""
    now = {a.item: a for a in assignments}
    moved = redated = 0
    for item, (firm, start) in reference.items():
        if firm == leaver:
            continue
        after = now.get(item)
        if after is None or after.firm != firm:
            moved += 1
        elif after.start_on != start:
            redated += 1
    return moved, redated


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30x8x20,200x30x30,1000x150x60")
    parser.add_argument("--seeds", default="0,1")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    print("| rollout | seed | had to move | solver | objective | checked | seconds "
          "| others moved | kept, other days |")
    print("|---|---|---|---|---|---|---|---|---|")
    for size in args.sizes.split(","):
        sites, firms, days = (int(n) for n in size.split("x"))
        for seed in (int(s) for s in args.seeds.split(",")):
            problem = generate(sites, firms, days, seed=seed)
            options = SolveOptions(time_limit=args.seconds, workers=args.workers, seed=seed,
                                   explain=False)
            first = solve(problem, options)
            reference = {a.item: (a.firm, a.start_on) for a in first.assignments}
            counts = collections.Counter(firm for firm, _ in reference.values())
            leaver = counts.most_common(2)[-1][0]
            replan = replace(
                problem, firms=tuple(f for f in problem.firms if f.id != leaver),
                exclusions=tuple(e for e in problem.exclusions if e.firm != leaver),
                bans=tuple(b for b in problem.bans if b.firm != leaver),
                reference=tuple(PlannedItem(i, f, d) for i, (f, d) in reference.items()
                                if f != leaver),  # as the service makes it
                policy=replace(problem.policy, weights=replace(
                    problem.policy.weights, stability=500.0)))
            started = time.monotonic()
            ours = solve(replan, options)
            ours_seconds = time.monotonic() - started
            plan = Plan(assignments=ours.assignments, face_firms=ours.face_firms,
                        unassigned=tuple(u.item for u in ours.unassigned))
            plain = peers.cpsat_rollout(replan, args.seconds, args.workers, seed)
            rows = [("planner", ours.objective if ours.assignments else None,
                     not check(replan, plan), ours_seconds, ours.assignments),
                    ("plain CP-SAT", plain.objective, plain.violations == 0, plain.seconds,
                     plain.assignments)]
            for name, objective, checked, seconds, assignments in rows:
                moved, redated = _changes(reference, assignments, leaver) if assignments \
                    else ("-", "-")
                value = f"{objective:,.2f}" if objective is not None else "none"
                print(f"| {size} | {seed} | {counts[leaver]} | {name} | {value} "
                      f"| {'yes' if checked and assignments else 'no'} | {seconds:.1f} "
                      f"| {moved} | {redated} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
