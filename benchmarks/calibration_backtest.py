"""Backtest on simulated history: does the actual recovery curve fall inside the simulated 90 % band?

For each seed the engine writes a ``model = "cgw"`` history with known
parameters (as ``calibration_recovery.py`` does; ``--model card``: its card
book, contact log included); ``backtest`` fits its first
``--fit-days`` days and simulates the rest ``--reps`` times with parameters
drawn from the fit's sampling distribution. Over the seeds it reports the
share of (seed, day) pairs whose actual cumulative recovery lies inside the
band (target: about 90 %), and the roll rates predicted against actual.

Run: ``python benchmarks/calibration_backtest.py [--model cgw|card] [--seeds 40] [--reps 50] [--accounts 2000]
[--days 120] [--fit-days 60] [--contacts] [--known-parameters]`` (``--contacts``: the book is treated by SMS,
e-mail and calls, and the held-out days replay its contact log at the fitted lifts; the card model always
reads the log). ``--known-parameters`` (card): every replication at the parameters that wrote the history,
nothing drawn, so what is left between runs and history is the replay's state on day K and chance; it also
prints the mean z-score of the actual last-day recovery against the runs (0 ± 1/√seeds if the state is right)
and the repayments and instalments after day K, actual against predicted, summed over the seeds.
The last line is the headline: the share inside the band.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from calibration_recovery import START, write_scenario
from common import positive_int, print_machine, print_table

from sim import simulate
from sim.calibration.backtest import backtest
from sim.calibration.calibrate import read_history
from sim.scenario import load_scenario


def one_seed(folder: Path, scenario_path: Path, seed: int, days: int, fit_days: int, reps: int,
             model: str = "cgw", contacts: bool = False, known_parameters: bool = False):
    """``contacts``: the contact log is written and given to the backtest, whose held-out days replay it
    (``known_parameters``: the runs at the truth, nothing drawn)."""
    with_log = contacts or model == "card"
    result = simulate(load_scenario(scenario_path), seed, contact_log=with_log, history=True)
    accounts, payments = folder / "accounts.csv", folder / "payments.csv"
    result.history.write_portfolio_csv(accounts)
    result.history.payments.write_csv(payments)
    log = folder / "contacts.csv" if with_log else None
    if log is not None:
        result.contact_log.write_csv(log)
    history = read_history(scenario_path, accounts, payments, log, start=START, days=days, model=model)
    return backtest(history, str(scenario_path), fit_days=fit_days, reps=reps, seed=seed,
                    known_parameters=known_parameters)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("cgw", "card"), default="cgw")
    parser.add_argument("--seeds", type=positive_int, default=40)
    parser.add_argument("--reps", type=positive_int, default=50)
    parser.add_argument("--accounts", type=positive_int, default=2000)
    parser.add_argument("--days", type=positive_int, default=120)
    parser.add_argument("--fit-days", type=positive_int, default=60)
    parser.add_argument("--contacts", action="store_true",
                        help="the book treated by SMS, e-mail and calls (calibration_recovery's --contacts book); "
                             "the backtest fits the lifts and replays the logged contacts")
    parser.add_argument("--known-parameters", action="store_true",
                        help="card: every replication at the parameters that wrote the history (no draws)")
    args = parser.parse_args()
    if args.known_parameters and args.model != "card":
        parser.error("--known-parameters: the card model only")
    print_machine()
    began = time.perf_counter()
    rows, inside, ends, below, above, z, receipts = [], [], [], [], [], [], []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario_path = write_scenario(folder, args.accounts, args.days, model=args.model, contacts=args.contacts)
        for seed in range(1, args.seeds + 1):
            b = one_seed(folder, scenario_path, seed, args.days, args.fit_days, args.reps, args.model, args.contacts,
                         args.known_parameters)
            z.append(b.last_day_z)
            receipts.append(b.receipts)
            inside.append((b.actual >= b.low) & (b.actual <= b.high))
            below.append(b.actual < b.low)  # the runs collected more than the history
            above.append(b.actual > b.high)
            ends.append(b.low[-1] <= b.actual[-1] <= b.high[-1])
            if seed <= 5:
                rows.append([seed, f"{b.actual[-1]:.3f}", f"[{b.low[-1]:.3f}, {b.high[-1]:.3f}]",
                             f"{b.inside_share:.0%}"])
    print_table(["seed", "recovery at the end", "90 % band", "days inside"], rows)
    share = float(np.mean(np.concatenate(inside)))
    print(f"{args.model}: {args.seeds} seeds × {args.reps} replications, {args.accounts} accounts, fitted on "
          f"{args.fit_days} of {args.days} days, in {time.perf_counter() - began:.0f} s; "
          f"last day inside the band in {np.mean(ends):.0%} of seeds; below it on "
          f"{np.mean(np.concatenate(below)):.1%} of pairs, above it on {np.mean(np.concatenate(above)):.1%}")
    if args.known_parameters:
        predicted, actual = np.sum(receipts, axis=0)
        print(f"known parameters: actual last-day recovery against the runs, mean z {np.mean(z):+.2f} "
              f"(± {1 / np.sqrt(len(z)):.2f} if the replay's state on day K is right); repayments and instalments "
              f"after day K {actual:,.0f} actual, {predicted:,.0f} predicted ({actual / predicted - 1:+.1%})")
    print(f"headline: actual recovery inside the simulated 90 % band on {share:.1%} of (seed, day) pairs")


if __name__ == "__main__":
    main()
