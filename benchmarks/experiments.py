"""Experiments in parallel: the same experiment on 2 workers against 1 worker.

An experiment is independent replications (one scenario, one seed each), so
it should parallelise almost perfectly; what is lost is starting the worker
processes (``spawn``: each imports numpy, scipy, simpy and the simulator) and
the tail when the last unit runs alone. The script runs the same experiment
with ``LocalExecutor(workers=1)`` (in process) and ``LocalExecutor(workers=2)``
(a process pool), checks that both give the same numbers bit for bit, and
reports the speed-up and parallel efficiency.

The speed-up is measured in wall time (that is what parallelism buys), so it
is only meaningful when nothing else is using the cores.

Run: ``python benchmarks/experiments.py [--scenarios baseline sms_gentle --reps 4 --accounts 50000 --days 180]``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

from common import ROOT, positive_int, print_machine, print_table

from sim.executors import LocalExecutor
from sim.experiment import run_experiment
from sim.scenario import load_scenario


def _forkserver_cpu() -> float:
    """CPU of the workers forked by the forkserver (they are its children, not ours)."""
    import multiprocessing.forkserver as forkserver

    import psutil

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)
    if pid is None:
        return 0.0
    try:
        times = psutil.Process(pid).cpu_times()
    except psutil.Error:
        return 0.0
    return times.user + times.system + times.children_user + times.children_system


def timed(scenarios, reps: int, workers: int):
    start = time.perf_counter()
    cpu0, server0 = os.times(), _forkserver_cpu()
    with LocalExecutor(workers=workers) as executor:
        comparison = run_experiment(scenarios, reps, rng=1, executor=executor)
    wall = time.perf_counter() - start
    cpu1, server1 = os.times(), _forkserver_cpu()
    # CPU of this process, of its own children, and of the forkserver's workers.
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system) \
        + (cpu1.children_user - cpu0.children_user) + (cpu1.children_system - cpu0.children_system) \
        + (server1 - server0)
    return comparison, wall, cpu


def _same_kpis(a: dict[str, float], b: dict[str, float]) -> bool:
    """Equal bit for bit (NaN equals NaN)."""
    return a.keys() == b.keys() and all(a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", nargs="+", default=["baseline", "sms_gentle"],
                        help="names of files in scenarios/ (or paths)")
    parser.add_argument("--reps", type=positive_int, default=4)
    parser.add_argument("--accounts", type=positive_int, default=50_000)
    parser.add_argument("--days", type=positive_int, default=180)
    args = parser.parse_args(argv)
    overrides = {"simulation.accounts": args.accounts, "simulation.days": args.days}
    scenarios = []
    for name in args.scenarios:
        path = ROOT / "scenarios" / f"{name}.toml" if os.sep not in name and not name.endswith(".toml") else name
        scenarios.append(load_scenario(path, overrides))
    units = len(scenarios) * args.reps
    print_machine()
    print(f"experiment: {', '.join(args.scenarios)} x {args.reps} replications = {units} runs of "
          f"{args.accounts:,} accounts x {args.days} days")
    # Start the forkserver (it imports the simulator once per session) before timing:
    # a long session, the app or a sweep pays that once, not per experiment.
    with LocalExecutor(workers=2) as warm:
        list(warm.map_unordered(abs, [-1, -2]))
    one, wall1, cpu1 = timed(scenarios, args.reps, 1)
    two, wall2, cpu2 = timed(scenarios, args.reps, 2)
    same = all(_same_kpis(a.kpis, b.kpis) for ra, rb in zip(one.replications, two.replications, strict=True)
               for a, b in zip(ra, rb, strict=True))
    speedup = wall1 / wall2
    print_table(["workers", "wall s", "CPU s (all processes)", "runs/s", "speed-up", "efficiency"],
                [[1, wall1, cpu1, units / wall1, 1.0, 1.0],
                 [2, wall2, cpu2, units / wall2, speedup, speedup / 2]])
    print(f"same numbers with 1 and 2 workers: {'yes' if same else 'NO'}")
    print(f"load average at the end: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    print(f"headline: 2 workers are {speedup:.2f}x one worker, parallel efficiency {speedup / 2:.0%} "
          "(target >= 1.8x)")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
