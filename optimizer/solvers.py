"""Running a PuLP solver without letting it write to the program's standard output.

Every LP and MIP in the project (capacity allocation, the staffing roster, the
payoff plan) is solved through :func:`solve`. A solver is a library, and a
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
from collections.abc import Iterator

import pulp

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


def solve(problem: pulp.LpProblem, solver: pulp.LpSolver) -> int:
    """``problem.solve(solver)`` with the solver's native output kept off our stdout."""
    with native_stdout_silenced():
        return problem.solve(solver)
