"""The value of a dollar of current (cured) balance at the horizon, measured by the engine (issue 13).

Re-measures ``[objective] balance_value.current`` of a scenario with an open
book (baseline's by default): the accounts the warm-up cured that still owe
their balance start the measured days current; over ``--days`` days they may
re-default, roll, pay, cure again and charge off, and what each row owes at
the end is worth the value of the state it ends in, current and the
delinquent buckets solved together as a fixed point with the balance carried
past each window discounted at ``simulation.discount_rate``
(``optimizer.allocation.objective.measure_current_value``). Collections
only: interest a revolving cardholder pays is not counted. One run per seed
(``SeedSequence(--seed).spawn(--seeds)``); the standard error is the runs'
spread over √runs.

    python benchmarks/current_value.py [--scenario FILE] [--accounts 3000] [--seeds 4] [--days 180]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from common import BASELINE, positive_int, print_machine, print_table

from optimizer.allocation.objective import measure_current_value
from sim.scenario import load_scenario


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(BASELINE))
    parser.add_argument("--accounts", type=positive_int, default=3000, help="the book at the start of the warm-up")
    parser.add_argument("--seeds", type=positive_int, default=4)
    parser.add_argument("--days", type=positive_int, default=180)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print_machine()
    scenario = load_scenario(args.scenario).with_overrides({"simulation.accounts": args.accounts})
    started, cpu = time.perf_counter(), time.process_time()
    try:
        cv = measure_current_value(scenario, np.random.SeedSequence(args.seed).spawn(args.seeds), days=args.days)
    except ValueError as err:  # a closed book: no account is current when the measured days start
        print(f"error: {args.scenario}: {err}", file=sys.stderr)
        sys.exit(2)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    print(f"scenario {args.scenario}: {args.accounts:,} accounts at the start of the warm-up, {args.seeds} runs "
          f"of {args.days} measured days; {cv.accounts_current:,} rows current at the start "
          f"({cv.balance_current:,.0f} owed); each window's carried balance discounted by {cv.discount:.4f}")
    print_table(["run", "current"], [[k, f"{v:.3f}"] for k, v in enumerate(cv.per_run)])
    print_table(["state", "value per unit of balance"],
                [["current (discounted)", f"{cv.value:.3f} ± {cv.std_error:.3f}"],
                 ["current (undiscounted)", f"{cv.undiscounted:.3f}"],
                 *[[state, f"{value:.3f}"] for state, value in cv.buckets.items()]])
    print(f"wall {wall:.1f} s, CPU {cpu:.1f} s")
    print(f"headline: balance_value.current = {cv.value:.3f} (standard error {cv.std_error:.3f}; "
          f"{cv.undiscounted:.3f} undiscounted)")


if __name__ == "__main__":
    main()
