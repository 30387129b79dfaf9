"""Scaling: how a run's cost grows with the book (accounts × days) and with the contacts made.

Each size runs in a fresh Python process (so peak memory is that run's own),
with the baseline scenario and 100 call agents by default, without the
contact log (as sweeps run). The child reports wall and CPU time, its peak
resident memory (``ru_maxrss``), and the split between the daily array work
and the agents' events (see ``limits.py``). As in ``limits.py``, the times
are the **measured days'**: a scenario's warm-up (baseline's 150 days) is
simulated first and reported in a column of its own, and the account-days
are the book in collection when the measured days start × the days (until
2026-11-26 this script timed the warm-up with them). Cost is linear when CPU
per account-day of the array part and CPU per contact event of the event
part stay flat as the book grows.

Run: ``python benchmarks/scaling.py [--sizes 10000 100000 1000000 --days 180 --agents 100]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from common import BASELINE, load, peak_rss_mb, positive_int, print_machine, print_table

TARGET_SECONDS, TARGET_GB = 30.0, 3.0


def child(scenario_path: str, accounts: int, days: int, agents: int, seed: int) -> None:
    from limits import timed_engine_run

    from sim.scenario import load_scenario

    scenario = load_scenario(scenario_path, {"simulation.accounts": accounts, "simulation.days": days,
                                             "teams.callers.agents": agents})
    run = timed_engine_run(scenario, seed)
    run["peak_mb"] = peak_rss_mb()
    print(json.dumps(run))


def measure(scenario_path: str, accounts: int, days: int, agents: int, seed: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--scenario", scenario_path,
               "--sizes", str(accounts), "--days", str(days), "--agents", str(agents), "--seed", str(seed)]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(BASELINE))
    parser.add_argument("--sizes", type=positive_int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--days", type=positive_int, default=180)
    parser.add_argument("--agents", type=positive_int, default=100, help="teams.callers.agents")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.scenario, args.sizes[0], args.days, args.agents, args.seed)
        return 0
    print_machine()
    print(f"scenario {Path(args.scenario).stem}: {args.days} days, {args.agents} call agents, no contact log; "
          "each size in a fresh process")
    rows, runs = [], []
    for accounts in args.sizes:
        run = measure(args.scenario, accounts, args.days, args.agents, args.seed)
        runs.append((accounts, run))
        account_days = run["book_at_start"] * args.days  # the measured days' book, as limits.py counts them
        rows.append([accounts, run["book_at_start"], run["total_cpu"] - run["measured_total_cpu"],
                     run["measured_total_wall"], run["measured_total_cpu"], run["peak_mb"],
                     account_days / run["measured_total_cpu"], run["measured_events"],
                     1e9 * run["measured_array_cpu"] / account_days,
                     1e6 * run["measured_event_cpu"] / max(run["measured_events"], 1)])
        print(f"  {accounts:,} accounts: {run['whole_wall']:.1f} s wall", file=sys.stderr, flush=True)
    print_table(["accounts", "book at start", "warm-up CPU s", "wall s", "CPU s", "peak MB", "acct-days/s (CPU)",
                 "contact events", "array ns/acct-day", "event µs/contact"], rows)
    if len(runs) >= 2:
        (n0, r0), (n1, r1) = runs[0], runs[-1]
        print(f"measured days, from {n0:,} to {n1:,} accounts ({n1 / n0:.0f}x): "
              f"array CPU x{r1['measured_array_cpu'] / r0['measured_array_cpu']:.1f}, "
              f"contact events x{r1['measured_events'] / max(r0['measured_events'], 1):.1f}, "
              f"event CPU x{r1['measured_event_cpu'] / max(r0['measured_event_cpu'], 1e-9):.1f}, "
              f"CPU x{r1['measured_total_cpu'] / r0['measured_total_cpu']:.1f}")
    accounts, last = runs[-1]
    wall, cpu = last["measured_total_wall"], last["measured_total_cpu"]
    met_wall = wall <= TARGET_SECONDS
    met_cpu = cpu <= TARGET_SECONDS
    met_memory = last["peak_mb"] <= TARGET_GB * 1024
    print(f"load average now {load()} on {os.cpu_count()} cores (wall time is inflated when it exceeds the cores)")
    print(f"headline: {accounts:,} accounts ({last['book_at_start']:,} in collection at the start of the measured "
          f"days) x {args.days} measured days with {args.agents} agents: "
          f"{cpu:.1f} s CPU ({'met' if met_cpu else 'not met'}), {wall:.1f} s wall "
          f"({'met' if met_wall else 'not met'}; warm-up {last['total_cpu'] - cpu:.1f} s CPU apart), "
          f"peak {last['peak_mb'] / 1024:.2f} GB "
          f"({'met' if met_memory else 'not met'}); targets <= {TARGET_SECONDS:.0f} s, <= {TARGET_GB:.0f} GB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
