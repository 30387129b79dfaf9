"""How long ``python -m sim calibrate`` takes on a large book: read, rebuild, fit and intervals.

The engine writes a ``model = "cgw"`` history (default 100,000 accounts × 180
days, the issue's size) with the exporters of ``python -m sim run``; the
calibration is then timed from the files to the fitted parameters with their
intervals and the goodness of fit, by stage. The limit is 60 s on 2 cores.
With ``--model card`` the history is the card book of
``calibration_recovery.py`` (an SMS every 5 days from 1 day past due), its
contact log written and read too.

Run: ``python benchmarks/calibration_speed.py [--model cgw|card] [--accounts 100000] [--days 180]``.
The last line is the headline: the seconds against the limit.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from calibration_recovery import START, write_scenario
from common import positive_int, print_machine, print_table

from sim import simulate
from sim.calibration import cgw
from sim.calibration.balance_paths import rebuild
from sim.calibration.calibrate import FITTERS, read_history
from sim.calibration.card_paths import rebuild_card
from sim.scenario import load_scenario

LIMIT_SECONDS = 60.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("cgw", "card"), default="cgw")
    parser.add_argument("--accounts", type=positive_int, default=100_000)
    parser.add_argument("--days", type=positive_int, default=180)
    args = parser.parse_args()
    print_machine()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        card = args.model == "card"
        scenario_path = write_scenario(folder, args.accounts, args.days, model=args.model)
        simulated = time.perf_counter()
        result = simulate(load_scenario(scenario_path), 1, contact_log=card, history=True)
        accounts, payments = folder / "accounts.csv", folder / "payments.csv"
        contacts = folder / "contacts.csv" if card else None
        result.history.write_portfolio_csv(accounts)
        result.history.payments.write_csv(payments)
        if contacts is not None:
            result.contact_log.write_csv(contacts)
        print(f"history simulated and written in {time.perf_counter() - simulated:.0f} s (not timed)")
        del result
        stages = []
        began = time.perf_counter(), time.process_time()
        history = read_history(scenario_path, accounts, payments, contacts, start=START, days=args.days,
                               model=args.model)
        stages.append(("read the files", *_since(began)))
        step = time.perf_counter(), time.process_time()
        if card:
            rebuild_card(history.scenario, history.portfolio, history.receipts, history.contacts)
        else:
            cgw.prepare(history.receipts, rebuild(history.scenario, history.portfolio, history.receipts))
        stages.append(("balance paths" if not card else "statements replayed", *_since(step)))
        step = time.perf_counter(), time.process_time()
        fit = FITTERS[args.model](history, str(scenario_path))  # replays again: the whole fit as the command runs it
        stages.append(("paths + fit + intervals + goodness", *_since(step)))
        total_wall, total_cpu = _since(began)
        total_wall -= stages[1][1]
        total_cpu -= stages[1][2]
    print_table(["stage", "wall s", "CPU s"], [[name, f"{w:.1f}", f"{c:.1f}"] for name, w, c in stages])
    found = ", ".join(f"{name} {p.estimate:.4g}" if p.identified else f"{name} not identified"
                      for name, p in fit.parameters.items())
    extra = f", {len(history.contacts)} contacts" if history.contacts is not None else ""
    print(f"{args.model}: {args.accounts} accounts, {len(history.receipts)} receipts{extra} over {args.days} days; "
          f"{found}")
    print(f"headline: calibrate (read + fit + intervals) {total_wall:.1f} s wall, {total_cpu:.1f} s CPU "
          f"against a limit of {LIMIT_SECONDS:.0f} s")


def _since(start: tuple[float, float]) -> tuple[float, float]:
    return time.perf_counter() - start[0], time.process_time() - start[1]


if __name__ == "__main__":
    main()
