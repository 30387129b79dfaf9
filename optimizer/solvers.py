"""The one place the project chooses and runs a PuLP solver.

Every LP and MIP in the project (capacity allocation, the staffing roster, the
payoff plan) gets its solver from :func:`get_solver` and is solved through
:func:`solve`, so there is one fallback rule: HiGHS through ``highspy``; CBC
(a ``cbc`` binary on the path through ``COIN_CMD``, else the one bundled with
PuLP) when ``highspy`` is missing or fails.

:func:`solve` also keeps the solver's native output off our stdout. A solver is a library, and a
library never writes to our stdout: ``--json`` commands print one JSON document
and nothing else. HiGHS writes its banner from C++ straight to file
descriptor 1 when a ``Highs`` object is made (highspy 1.16 does so even with
``output_flag`` off, because the option can only be set after construction),
so silencing it at the Python level (``sys.stdout``) is not enough: the file
descriptor itself is pointed elsewhere for the length of the solve.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator

import pulp

SOLVERS = ("highs", "cbc")

# One solve at a time may own fd 1: the app solves in Streamlit's script threads.
_FD_LOCK = threading.RLock()


def _flush_c_stdio() -> None:
    """Flush the C library's stdout buffer, so native text buffered in the block lands in the block."""
    with contextlib.suppress(Exception):
        ctypes.CDLL(None).fflush(None)


@contextlib.contextmanager
def native_stdout_silenced() -> Iterator[None]:
    """Point file descriptor 1 at a scratch file while the block runs, then restore it.

    Whatever native code writes there is dropped. Python's own ``sys.stdout``
    is flushed first so nothing the program printed before is lost or reordered.
    """
    with _FD_LOCK:
        try:
            stdout_fd = sys.__stdout__.fileno() if sys.__stdout__ is not None else 1
        except (AttributeError, OSError, ValueError):
            stdout_fd = 1
        try:
            saved = os.dup(stdout_fd)
        except OSError:  # no fd 1 at all (a daemon): nothing can be written there anyway
            yield
            return
        for stream in (sys.stdout, sys.__stdout__):
            with contextlib.suppress(Exception):
                stream.flush()
        try:
            with tempfile.TemporaryFile() as scratch:
                os.dup2(scratch.fileno(), stdout_fd)
                try:
                    yield
                finally:
                    _flush_c_stdio()
                    os.dup2(saved, stdout_fd)
        finally:
            os.close(saved)


def get_solver(name: str, *, mip: bool, time_limit: float | None = None, gap_rel: float | None = None,
               gap_abs: float | None = None, fallback: bool = True,
               highs: Callable[..., pulp.LpSolver] = pulp.HiGHS) -> pulp.LpSolver:
    """A quiet PuLP solver by name, with the project's one fallback rule.

    Parameters
    ----------
    name
        ``"highs"`` or ``"cbc"``.
    mip
        Whether integer variables are kept integer (False solves the relaxation).
    time_limit, gap_rel, gap_abs
        Stop after this many seconds, or within this relative or absolute gap
        of the best bound (None: the solver's default).
    fallback
        For ``"highs"``: CBC when ``highspy`` is missing (returned instead) or
        fails (:func:`solve` runs CBC then). Without it, HiGHS is returned
        even when it cannot run, and its failure is the caller's to report.
    highs
        The HiGHS class to build (a subclass that hands over a prebuilt model
        or a starting solution); called with PuLP's HiGHS options.

    Returns
    -------
    pulp.LpSolver
        With an attribute ``fallback``: the solver :func:`solve` tries if this
        one raises, or None. :func:`solver_name` names the one that ran.
    """
    if name not in SOLVERS:
        raise ValueError(f"unknown solver {name!r}; use highs or cbc")
    options = {"mip": mip, "msg": False, "timeLimit": time_limit, "gapRel": gap_rel, "gapAbs": gap_abs}
    if name == "cbc":
        return _quiet(_cbc(options), None)
    first = highs(**options)
    if not fallback:
        return _quiet(first, None)
    cbc = _cbc(options)
    if not first.available():
        return _quiet(cbc, None)
    return _quiet(first, cbc)


def _cbc(options: dict) -> pulp.LpSolver:
    coin = pulp.COIN_CMD(**options)
    if coin.available():
        return coin
    # The CBC binary bundled with PuLP: it needs nothing else installed. PuLP 3.3
    # marks the class as going away in 4.0 (pyproject pins below 4).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(**options)


def _quiet(solver: pulp.LpSolver, fallback: pulp.LpSolver | None) -> pulp.LpSolver:
    solver.fallback = fallback
    return solver


def solver_name(solver: pulp.LpSolver) -> str:
    """``"highs"`` or ``"cbc"``: which kind of solver this is (after :func:`solve`: ``problem.solver``)."""
    return "highs" if isinstance(solver, pulp.HiGHS) else "cbc"


def solve(problem: pulp.LpProblem, solver: pulp.LpSolver) -> int:
    """``problem.solve(solver)`` with the solver's native output kept off our stdout.

    If the solver raises ``pulp.PulpSolverError`` and has a ``fallback`` (see
    :func:`get_solver`), the fallback solves instead; if that fails too, one
    ``PulpSolverError`` names both failures. ``problem.solver`` is the solver
    that produced the answer.
    """
    with native_stdout_silenced():
        try:
            return problem.solve(solver)
        except pulp.PulpSolverError as err:
            backup = getattr(solver, "fallback", None)
            if backup is None:
                raise
            first = f"{solver_name(solver)}: {err}"
        try:
            return problem.solve(backup)
        except pulp.PulpSolverError as err:
            raise pulp.PulpSolverError(f"{first}; {solver_name(backup)}: {err}") from err
