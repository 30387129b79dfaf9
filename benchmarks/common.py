"""Shared helpers of the benchmark scripts: the machine they ran on, tables, intervals.

Benchmarks are scripts, not part of the library: each prints a table and a
last line with its headline ratio. Run them from the repository root, e.g.
``python benchmarks/naive_sim.py``.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np

from sim.cli.options import positive_int as _positive_int

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "scenarios" / "baseline.toml"


def machine() -> dict[str, str]:
    """Where a figure came from: cores, CPU model, Python and library versions, date."""
    import scipy
    import simpy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "date": dt.date.today().isoformat(),
        "nproc": str(os.cpu_count()),
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "simpy": simpy.__version__,
    }


def interpreter_seconds(repeat: int = 3) -> float:
    """Seconds this machine's Python takes to add up 10 million integers in a loop, the best of ``repeat``.

    The engine is Python-bound, so this one number says how fast the machine
    ran: wall figures measured on different days (or machines) compare only
    beside it. On 2026-11-27's machine (a Sapphire Rapids virtual machine,
    OpenBLAS's SkylakeX kernels) 0.23–0.26 s; the same loop at module level,
    as earlier sessions timed it, 0.56–0.62 s there against 0.45–0.61 s on
    the machine of 2026-11-26's figures.
    """
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        total = 0
        for i in range(10_000_000):
            total += i
        best = min(best, time.perf_counter() - started)
    return best


def add_engine_run_options(parser, *, accounts: int = 1_000_000, days: int = 30) -> None:
    """The options of one engine run on a sized book: scenario, accounts, days, call agents, seed."""
    parser.add_argument("--scenario", default=str(BASELINE))
    parser.add_argument("--accounts", type=positive_int, default=accounts)
    parser.add_argument("--days", type=positive_int, default=days)
    parser.add_argument("--agents", type=positive_int, default=100, help="teams.callers.agents")
    parser.add_argument("--seed", type=int, default=1)


def load_engine_run(args):
    """The scenario those options describe; prints the machine line and the run's size."""
    from sim.scenario import load_scenario

    scenario = load_scenario(args.scenario, {"simulation.accounts": args.accounts, "simulation.days": args.days,
                                             "teams.callers.agents": args.agents})
    print_machine()
    print(f"scenario {scenario.display_name}: {args.accounts:,} accounts × {args.days} days, {args.agents} call agents")
    return scenario


def print_machine() -> None:
    info = machine()
    info["load"] = load()
    print("machine: " + ", ".join(f"{k}={v}" for k, v in info.items()))


def load() -> str:
    """The 1-minute load average: above the core count, wall times are inflated by other work."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "unknown"


def print_table(headers: list[str], rows: list[list[object]]) -> None:
    """A plain fixed-width table (numbers right-aligned)."""
    cells = [[_fmt(c) for c in row] for row in rows]
    widths = [max(len(h), *(len(r[k]) for r in cells)) if cells else len(h) for k, h in enumerate(headers)]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in cells:
        print("  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True)))


def _fmt(value: object) -> str:
    if isinstance(value, float):
        if abs(value) >= 100:
            return f"{value:,.0f}"
        if value == 0 or abs(value) >= 0.01:
            return f"{value:.3g}"
        return f"{value:.2e}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def mean_ci(values: list[float] | np.ndarray, level: float = 0.95) -> tuple[float, float]:
    """Mean and half-width of its Student-t confidence interval (nan with one value)."""
    from scipy import stats

    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return float(x.mean()), float("nan")
    half = stats.t.ppf(0.5 + level / 2, x.size - 1) * x.std(ddof=1) / np.sqrt(x.size)
    return float(x.mean()), float(half)


# Benchmarks take the same whole-number options as the command lines.
positive_int = _positive_int(10**9)


def peak_rss_mb(children: bool = False) -> float:
    """Peak resident memory of this process (or its finished children), MB (Linux: ru_maxrss in KiB)."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    return resource.getrusage(who).ru_maxrss / 1024.0


def python() -> str:
    return sys.executable


class Stopwatch:
    """Wall time and this process's CPU time, accumulated over one or more laps.

    The machine is shared (2 cores, other work running), so wall time alone
    moves with the load; CPU time of a single-threaded run does not, and is
    what the headline ratios use. Both are printed.
    """

    __slots__ = ("wall", "cpu", "_wall0", "_cpu0")

    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def __enter__(self) -> Stopwatch:
        self._wall0 = time.perf_counter()
        self._cpu0 = time.process_time()
        return self

    def __exit__(self, *exc) -> None:
        self.wall += time.perf_counter() - self._wall0
        self.cpu += time.process_time() - self._cpu0
