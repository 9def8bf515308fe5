"""Generalized Assignment Problem benchmark: OR-Library and Yagiura instances, solved through
the product's own entry point (`solver.solve.solve`).

    python -m benchmarks.gap [--data DIR] [--only gap1,gapd,d201600] [--time-limit 10]
                             [--workers 2] [--seed 0] [--greedy]

A GAP instance becomes a staffing problem with one working day: agents are firms whose
capacity that day is b_i hours, jobs are work items at one site, and the (job, agent) pairs
are explicit options with hours a_ij and cost c_ij. Every job must be assigned (coverage
outweighs any cost), capacities are hard: exactly the GAP, minimised.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import sys
import time

from solver.prepare import prepare
from solver.schedule import greedy
from solver.solve import solve
from solver.types import (
    Availability,
    Firm,
    Option,
    Policy,
    Problem,
    Site,
    SolveOptions,
    Weights,
    WorkItem,
)

DEFAULT_DATA = os.path.join(os.path.dirname(__file__), "..", "..", "shared", "bench-data", "gap")
DAY = dt.date(2027, 3, 1)
ORLIB_NAMES = ("05100", "05200", "10100", "10200", "20100", "20200")


def read_instances(path: str) -> list[tuple[int, int, list, list, list]]:
    """(m, n, cost[m][n], resource[m][n], capacity[m]) for every instance in the file."""
    with open(path) as handle:
        tokens = [int(t) for t in handle.read().split()]
    pos = 0

    def take(count):
        nonlocal pos
        chunk = tokens[pos:pos + count]
        pos += count
        return chunk

    m, n = tokens[0], tokens[1]
    single = len(tokens) == 2 + 2 * m * n + m
    count = 1 if single else take(1)[0]
    instances = []
    for _ in range(count):
        m, n = take(2)
        cost = [take(n) for _ in range(m)]
        resource = [take(n) for _ in range(m)]
        instances.append((m, n, cost, resource, take(m)))
    return instances


def to_problem(name: str, m: int, n: int, cost, resource, capacity) -> Problem:
    """The GAP as a one-day staffing problem with explicit options."""
    coverage = 10.0 * max(max(row) for row in cost) + 1.0
    firms = tuple(
        Firm(id=f"agent{i}", latitude=0.0, longitude=0.0, skills=(),
             availability=(Availability(DAY, DAY, capacity[i], 1.0),))
        for i in range(m))
    items = tuple(WorkItem(id=f"job{j}", site="all", skill="any", hours=1.0)
                  for j in range(n))
    options = tuple(
        Option(item=f"job{j}", firm=f"agent{i}", hours=float(resource[i][j]),
               cost=float(cost[i][j]), days=1)
        for j in range(n) for i in range(m) if resource[i][j] <= capacity[i])
    policy = Policy(max_firms_per_site=m, face_policy="none", hard_shares=False,
                    weights=Weights(coverage=coverage, cost=1.0, lateness=0.0, fairness=0.0,
                                    continuity=0.0, stability=0.0))
    return Problem(working_days=(DAY,), sites=(Site("all", 0.0, 0.0),), items=items,
                   firms=firms, policy=policy, options=options, name=name)


def best_known(data_dir: str) -> dict[str, int]:
    """Best known (min) values from the data README's table."""
    values = {}
    with open(os.path.join(data_dir, "README.md")) as handle:
        for line in handle:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) >= 6 and re.fullmatch(r"\d+", cells[5] or "x"):
                values[cells[0]] = int(cells[5])
    return values


def instances(data_dir: str, only: set[str] | None):
    """(name, instance) in the table's order; `only` filters by file or instance name."""
    for number in range(1, 13):
        file = f"gap{number}"
        for k, inst in enumerate(read_instances(os.path.join(data_dir, "orlib", f"{file}.txt"))):
            name = f"{file}-{k + 1}"
            if only is None or file in only or name in only:
                yield name, inst
    for letter in "abcd":
        file = f"gap{letter}"
        for k, inst in enumerate(read_instances(os.path.join(data_dir, "orlib", f"{file}.txt"))):
            name = f"{letter}{ORLIB_NAMES[k]}"
            if only is None or file in only or name in only:
                yield name, inst
    for name in sorted(os.listdir(os.path.join(data_dir, "yagiura"))):
        if only is None or name in only or f"type{name[0]}" in only:
            yield name, read_instances(os.path.join(data_dir, "yagiura", name))[0]


def greedy_cost(problem: Problem) -> float | None:
    core = prepare(problem)
    placement = greedy(core)
    if len(placement.chosen) < len(core.items):
        return None
    return sum(option.cost for option in placement.chosen.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--only", help="comma-separated files (gap1, gapd) or instances")
    parser.add_argument("--time-limit", type=float, default=10.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--greedy", action="store_true", help="also run the greedy baseline")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    known = best_known(args.data)
    print("| instance | m x n | status | objective | bound | best known | gap to best known "
          "| time s | greedy | greedy gap |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, (m, n, cost, resource, capacity) in instances(args.data, only):
        problem = to_problem(name, m, n, cost, resource, capacity)
        started = time.monotonic()
        result = solve(problem, SolveOptions(time_limit=args.time_limit, workers=args.workers,
                                             seed=args.seed, explain=False))
        seconds = time.monotonic() - started
        bks = known.get(name)
        objective = result.terms.get("cost") if result.objective is not None else None
        if result.unassigned:
            objective = None
        gap = f"{100 * (objective - bks) / bks:.2f} %" if objective and bks else "-"
        row = [name, f"{m}x{n}", result.status, _num(objective), _num(result.bound),
               _num(bks), gap, f"{seconds:.1f}"]
        if args.greedy:
            base = greedy_cost(problem)
            row += [_num(base), f"{100 * (base - bks) / bks:.2f} %" if base and bks else "-"]
        else:
            row += ["", ""]
        print("| " + " | ".join(row) + " |", flush=True)
    return 0


def _num(value) -> str:
    return "-" if value is None else f"{value:.0f}"


if __name__ == "__main__":
    sys.exit(main())
