"""Parameter recovery: does ``python -m sim calibrate`` find the parameters that wrote the history?

For each seed the real engine simulates a ``model = "cgw"`` book with known
parameters (interest, late fees and charge-off on, so the balance paths and
the censoring are the engine's), the run's history is written by the same
exporters ``python -m sim run --portfolio-out --payments-out`` uses, and the
calibration reads it back and fits it. Over the seeds it counts how often
each 95 % interval contains the truth (target 92–98 %), and the bias of the
estimates relative to the truth.

Run: ``python benchmarks/calibration_recovery.py [--seeds 200] [--accounts 2000] [--days 120] [--dates-only]``
(``--dates-only``: the payments file keeps only each receipt's date, the day-interval likelihood).
The last line is the headline: the coverage of every parameter.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import tempfile
import time
from pathlib import Path

import numpy as np
from common import positive_int, print_machine, print_table

from sim import simulate
from sim.calibration import calibrate
from sim.scenario import load_scenario

TRUTH = {"lambda0": 0.05, "lambda_inf": 0.01, "kappa": 0.15, "delta10": 0.02, "delta11": 0.1, "r_min": 0.1}
START = dt.date(2026, 1, 5)

SCENARIO = """\
name = "cgw-recovery"
[simulation]
days = {days}
accounts = {accounts}
start_date = {start}

[portfolio]
apr = 0.24
late_fee = 30
charge_off_dpd = 180
balance = {{ distribution = "lognormal", median = 2500, sigma = 0.9, min = 50, max = 50000 }}

[behavior]
model = "cgw"
{behavior}

[strategy]
name = "none"
steps = []

[teams]
"""


def write_scenario(folder: Path, accounts: int, days: int, truth: dict[str, float] = TRUTH) -> Path:
    path = folder / "truth.toml"
    behavior = "\n".join(f"{name} = {value!r}" for name, value in truth.items())
    path.write_text(SCENARIO.format(days=days, accounts=accounts, start=START, behavior=behavior))
    return path


def one_seed(folder: Path, scenario_path: Path, seed: int, days: int, dates_only: bool = False):
    """Simulate with ``seed``, export the history as ``run`` would, and fit it back."""
    result = simulate(load_scenario(scenario_path), seed, contact_log=False, history=True)
    portfolio, payments = folder / f"accounts_{seed}.csv", folder / f"payments_{seed}.csv"
    result.history.write_portfolio_csv(portfolio)
    result.history.payments.write_csv(payments)
    if dates_only:  # a lender that exports the day of each receipt, not its time
        lines = payments.read_text().splitlines()
        rows = [line.split(",", 2) for line in lines[1:]]
        payments.write_text("\n".join([lines[0], *(f"{a},{t[:10]},{rest}" for a, t, rest in rows)]) + "\n")
    fit = calibrate(scenario_path, portfolio, payments, start=START, days=days, model="cgw")
    portfolio.unlink()
    payments.unlink()
    return fit


def recovery(seeds: range, accounts: int, days: int, dates_only: bool = False) -> dict[str, dict[str, float]]:
    """Per parameter: the share of seeds whose interval covers the truth, the mean relative error, how many fits."""
    covered = {name: [] for name in TRUTH}
    errors = {name: [] for name in TRUTH}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario_path = write_scenario(folder, accounts, days)
        for seed in seeds:
            fit = one_seed(folder, scenario_path, seed, days, dates_only)
            for name, truth in TRUTH.items():
                p = fit.parameters[name]
                if p.identified:
                    covered[name].append(p.ci_low <= truth <= p.ci_high)
                    errors[name].append(p.estimate / truth - 1.0)
    return {name: {"coverage": float(np.mean(covered[name])) if covered[name] else math.nan,
                   "bias": float(np.mean(errors[name])) if errors[name] else math.nan,
                   "fits": len(covered[name])} for name in TRUTH}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=positive_int, default=200)
    parser.add_argument("--accounts", type=positive_int, default=2000)
    parser.add_argument("--days", type=positive_int, default=120)
    parser.add_argument("--dates-only", action="store_true", help="give the fit only the date of each receipt")
    args = parser.parse_args()
    print_machine()
    began = time.perf_counter()
    table = recovery(range(1, args.seeds + 1), args.accounts, args.days, args.dates_only)
    elapsed = time.perf_counter() - began
    rows = [[name, TRUTH[name], f"{row['coverage']:.1%}", f"{row['bias']:+.2%}", row["fits"]]
            for name, row in table.items()]
    print_table(["parameter", "truth", "95 % interval covers", "mean relative error", "fits"], rows)
    kind = "dates only" if args.dates_only else "date-times"
    print(f"{args.seeds} seeds × {args.accounts} accounts × {args.days} days ({kind}) in {elapsed:.0f} s")
    print("headline: coverage " + ", ".join(f"{name} {row['coverage']:.1%}" for name, row in table.items()))


if __name__ == "__main__":
    main()
