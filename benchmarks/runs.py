"""What every benchmark table shares: a loaded machine on demand (`--busy`), repeated rows
summarised as median and spread (`--repeat`), and the cells comparing the planner with a peer.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

SPIN = "while True:\n    pass\n"  # one core's worth of pure Python work


@dataclass
class Load:
    """The CPU-bound processes of `busy()`: how many, and what they got of the machine."""

    processes: int
    pids: list[int] = field(default_factory=list)
    wall_seconds: float = 0.0
    cpu_seconds: float | None = None  # None where /proc cannot tell

    def describe(self) -> str:
        if not self.processes:
            return "busy: no"
        used = "" if self.cpu_seconds is None else f", {self.cpu_seconds:.1f} CPU s of them"
        return (f"busy: {self.processes} CPU-bound process(es) for {self.wall_seconds:.1f} s"
                f"{used}")


@contextlib.contextmanager
def busy(processes: int = 1) -> Iterator[Load]:
    """Keep `processes` CPU-bound Python processes running for the whole block (0: none), so
    that a run measures a loaded machine; they are stopped, by their own pid, on the way out."""
    spinners = [subprocess.Popen([sys.executable, "-c", SPIN], stdin=subprocess.DEVNULL)
                for _ in range(processes)]
    load = Load(processes, pids=[p.pid for p in spinners])
    started = time.monotonic()
    try:
        yield load
    finally:
        load.wall_seconds = time.monotonic() - started
        used = [_cpu_seconds(p.pid) for p in spinners]
        load.cpu_seconds = None if None in used else sum(used)
        for spinner in spinners:
            spinner.terminate()
        for spinner in spinners:
            spinner.wait()


def _cpu_seconds(pid: int) -> float | None:
    """User and system CPU seconds of a running process (Linux /proc), else None."""
    try:
        with open(f"/proc/{pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def add_run_arguments(parser: argparse.ArgumentParser, time_limit: float | None = 10.0) -> None:
    """--time-limit, --workers, --seed, --repeat and --busy, the same in every benchmark."""
    parser.add_argument("--time-limit", type=float, default=time_limit,
                        help="seconds for each solver on each row"
                        + ("" if time_limit is None else f" (default {time_limit:g})"))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run each row N times; cells show the median (min-max)")
    parser.add_argument("--busy", type=int, nargs="?", const=1, default=0, metavar="P",
                        help="keep P CPU-bound processes running meanwhile (default 1)")


def settings(args: argparse.Namespace) -> str:
    """One line saying how the table was run."""
    limit = "" if args.time_limit is None else f"time limit {args.time_limit:g} s, "
    return (f"{limit}{args.workers} workers, seed {args.seed}, repeat {args.repeat}, "
            f"busy {args.busy}, {os.cpu_count()} cores")


def median(values: Sequence[float | None]) -> float | None:
    """The median of the values that exist; None when none does."""
    present = [v for v in values if v is not None]
    return statistics.median(present) if present else None


def cell(values: Sequence[float | None], digits: int = 0, thousands: bool = False,
         unit: str = "") -> str:
    """'-' when no value; one value as it is; several as 'median (min-max)', and how many runs
    had no value ('2 none'). `unit` follows the median ('2.43 % (2.40-2.51)')."""
    present = [v for v in values if v is not None]
    if not present:
        return "-"
    spec = f"{',' if thousands else ''}.{digits}f"
    text = format(statistics.median(present), spec) + (f" {unit}" if unit else "")
    if len(values) > 1:
        text += f" ({format(min(present), spec)}-{format(max(present), spec)})"
    if len(present) < len(values):
        text += f" {len(values) - len(present)} none"
    return text


def words(values: Sequence[str]) -> str:
    """Statuses of repeated runs: each distinct one once, in order."""
    return "/".join(dict.fromkeys(values))


def ratio(planner: float | None, peer: float | None) -> str:
    """planner / peer (below 1: the planner is better on a minimisation)."""
    if planner is None or not peer:
        return "-"
    return f"{planner / peer:.4f}"


def above(value: float | None, reference: float | None) -> str:
    """How far above the reference (best known, or best bound) a value lies, in percent."""
    if value is None or not reference:
        return "-"
    return f"{100 * (value - reference) / reference:.2f} %"


def table_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(cells) + " |"


def table_head(columns: Sequence[str]) -> str:
    return table_row(columns) + "\n|" + "---|" * len(columns)
