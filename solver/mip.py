"""The assignment master as a MIP, solved by HiGHS (bundled with OR-Tools, through MathOpt)
in a child process, for one-day problems beside the firm patterns' dive (strategies.one_day).

Where the firm patterns apply (one day, no dependencies, no continuity price, no binding site
limit), the assignment master with integer variables is the whole problem: HiGHS's branch and
cut, on a second core, finds plans and bounds of its own on instances where the columns' dive
does not (the generated type D and E GAP instances of 10x100 and 20x200, docs/benchmarks.md).

HiGHS through MathOpt does not honour a SolveInterrupter, so it runs in a child process
(`python -m solver.mip`) that the parent kills when the stop flag is raised: the stop is then
honoured within stopping.POLL seconds (a parent killed outright leaves the child to end at its own
time limit, the dive's seconds). The child reads the model and the parameters as MathOpt protos
on its standard input and writes the solve result's proto on its standard output.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import os
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import DecodeError
from ortools.math_opt import model_pb2, parameters_pb2, result_pb2
from ortools.math_opt.python import mathopt

from .master import assignment_lp
from .model import Model
from .stopping import POLL

log = logging.getLogger(__name__)

START = 1.0  # seconds past its deadline the child may take (writing its answer)
LENGTH = struct.Struct("<dQ")  # before the model proto on the child's input: the solve's
# deadline (time.time(): the child starts in about 0.4 s, its time limit counts from then)
# and the proto's length


@dataclass(frozen=True)
class MipAnswer:
    """What HiGHS found in its time."""

    chosen: dict[int, int] | None  # item -> option of its best plan, None without one
    bound: float | None  # its proven lower bound of the model's objective (cents), or None
    interrupted: bool  # killed by the stop flag (or past its time), nothing read back


class AssignmentMip:
    """HiGHS on the assignment master with integer variables, for at most `seconds`, in a
    child process started at once: `answer` waits for its best plan and bound, killing it
    when the stop flag is raised; `proved` tells whether it has already ended optimal."""

    def __init__(self, model: Model, seconds: float, seed: int = 0) -> None:
        self.lp = assignment_lp(model)
        self.options = model.core.options
        for var in (*self.lp.x, *self.lp.unassigned):
            var.integer = True
        # with whole coefficients every plan's value is the offset plus a multiple of their
        # gcd: a gap below it is a proof, and a bound rounds up to the next such value.
        # MathOpt's HiGHS refuses the `threads` parameter: its MIP search runs on one
        objective = self.lp.model.objective
        coefficients = [t.coefficient for t in objective.linear_terms()]
        whole = all(c == int(c) for c in coefficients)
        self.step = math.gcd(*(int(c) for c in coefficients)) if whole else 0
        self.offset = objective.offset
        params = mathopt.SolveParameters(
            time_limit=dt.timedelta(seconds=max(0.0, seconds)), random_seed=seed,
            relative_gap_tolerance=0.0,
            absolute_gap_tolerance=self.step - 0.5 if self.step >= 1 else 1e-6)
        body = self.lp.model.export_model().SerializeToString()
        self._input = (LENGTH.pack(time.time() + seconds, len(body)) + body
                       + params.to_proto().SerializeToString())
        self._deadline = time.monotonic() + seconds + START
        self._cancel = threading.Event()
        self._proved = threading.Event()
        self._result: result_pb2.SolveResultProto | None = None  # once the child ends well
        self._errors = tempfile.TemporaryFile()  # a file: a full pipe would block the child
        self._child = _start_child(self._errors)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def proved(self) -> bool:
        """Whether HiGHS has ended with a proof of optimality."""
        return self._proved.is_set()

    def cancel(self) -> None:
        """Kill the child if it still runs (its answer is then lost)."""
        self._cancel.set()
        if self._child.poll() is None:
            self._child.kill()
        self._reader.join()

    def answer(self, stopped: Callable[[], bool]) -> MipAnswer:
        """Its best plan and bound once it ends; nothing when `stopped()` first, or when
        it runs past its deadline (the child is then killed)."""
        while self._reader.is_alive():
            self._reader.join(POLL)
            if self._reader.is_alive() and (stopped() or time.monotonic() > self._deadline):
                self.cancel()
        if self._cancel.is_set():
            return MipAnswer(None, None, True)
        if self._result is None:
            return MipAnswer(None, None, False)
        result = mathopt.parse_solve_result(self._result, self.lp.model, validate=False)
        bound = result.termination.objective_bounds.dual_bound
        if not math.isfinite(bound):
            bound = None
        elif self.step:
            # up to the next plan value, less a relative slack for HiGHS's float bound
            slack = 1e-9 * max(1.0, abs(bound)) / self.step + 1e-6
            bound = self.offset + self.step * math.ceil((bound - self.offset) / self.step - slack)
        if not result.has_primal_feasible_solution():
            return MipAnswer(None, bound, False)
        values = result.variable_values(self.lp.x)
        chosen = {self.options[k].item: k for k, value in enumerate(values) if value > 0.5}
        return MipAnswer(chosen, bound, False)

    def _read(self) -> None:
        """The reader thread: the input to the child (which reads all of it before it
        writes), then its result proto into `_result` once it ends (None when it fails or
        is killed)."""
        child = self._child
        try:
            child.stdin.write(self._input)
        except OSError:
            pass  # it ended early (or was killed): its exit status says why
        try:
            child.stdin.close()
        except OSError:
            pass  # the rest of its input had nowhere to go
        with child.stdout:
            out = child.stdout.read()
        child.wait()
        with self._errors:
            self._errors.seek(0)
            err = self._errors.read().decode(errors="replace")[-2000:]
        if child.returncode != 0:
            if not self._cancel.is_set():
                log.warning("HiGHS's child process ended with %s: %s", child.returncode, err)
            return
        try:
            self._result = result_pb2.SolveResultProto.FromString(out)
        except DecodeError:
            log.warning("HiGHS's child process wrote no result: %s", err)
            return
        if self._result.termination.reason == result_pb2.TERMINATION_REASON_OPTIMAL:
            self._proved.set()


def _start_child(errors) -> subprocess.Popen:
    """`python -m solver.mip` from this package's folder (so that no other `solver` in
    the working directory shadows it), its standard error into the file `errors`."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    return subprocess.Popen([sys.executable, "-m", "solver.mip"], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=errors, env=env, cwd=root)


def _child() -> None:
    """The child: the model and parameters from standard input, HiGHS, the result's proto
    on standard output."""
    from ortools.math_opt.core.python import solver as core_solver
    from ortools.math_opt.python import callback, init_arguments, model_parameters

    # the result goes to the real standard output; anything a library prints, to stderr
    result_out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    data = sys.stdin.buffer.read()
    deadline, length = LENGTH.unpack_from(data)
    body = data[LENGTH.size:LENGTH.size + length]
    model = model_pb2.ModelProto.FromString(body)
    params = parameters_pb2.SolveParametersProto.FromString(data[LENGTH.size + length:])
    params.time_limit.FromTimedelta(dt.timedelta(seconds=max(0.0, deadline - time.time())))
    result = core_solver.solve(
        model, mathopt.SolverType.HIGHS.value,
        init_arguments.StreamableSolverInitArguments().to_proto(), params,
        model_parameters.ModelSolveParameters().to_proto(), None,
        callback.CallbackRegistration().to_proto(), None, None)
    with result_out:
        result_out.write(result.SerializeToString())


if __name__ == "__main__":
    _child()
