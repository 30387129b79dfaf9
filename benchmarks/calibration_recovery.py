"""Parameter recovery: does ``python -m sim calibrate`` find the parameters that wrote the history?

For each seed the real engine simulates a ``model = "cgw"`` (or, with
``--model card``, a ``model = "card"``) book with known parameters (interest, late fees and charge-off on, so the balance paths and
the censoring are the engine's), the run's history is written by the same
exporters ``python -m sim run --portfolio-out --payments-out`` uses, and the
calibration reads it back and fits it. Over the seeds it counts how often
each 95 % interval contains the truth (target 92–98 %), and the bias of the
estimates relative to the truth.

Run: ``python benchmarks/calibration_recovery.py [--model cgw|card] [--seeds 200] [--accounts 2000] [--days 120]
[--dates-only]`` (``--dates-only``: the payments file keeps only each receipt's date, the day-interval
likelihood). The card book texts every account from 1 day past due (its contact log is fitted with it:
the SMS lift, fitted with the timing, and the re-defaults it shows), has no calls (so no promises or plans) and its payment-choice
multipliers are 1 (the share fit does not fit them).
``--contacts``: the cgw book treated by SMS, e-mail and calls under ``[contact]``, its contact log
written and fitted: the channels' lifts and the right-party rates by hour and bucket join the parameters
(``--seed-log FILE.jsonl`` writes each seed's estimates as it ends, for a long study).
The last line is the headline: the coverage of every parameter.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
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


# --contacts: the cgw book treated by SMS, e-mail and calls, under [contact] (reach by local hour × bucket ×
# pressure); the contact log is written and fitted: the channels' lifts and the right-party rates.
CONTACT_LIFTS = {"sms": 0.01, "email": 0.004, "call_attempt": 0.005, "right_party_contact": 0.03}
REACH_BY_HOUR = [0.10] * 8 + [0.18] * 4 + [0.15] * 5 + [0.30] * 4 + [0.10] * 3  # the schema's default curve
REACH_BY_BUCKET = {"1-30": 2.2, "31-60": 2.0, "61-90": 1.8, "91-120": 1.6, "121-150": 1.5, "151-180": 1.4}
CALL_HOURS = (*range(8, 13), *range(14, 20))  # the callers' shifts: 08:00-13:00, 14:00-20:00
CONTACT_TRUTH = {**TRUTH, **{f"lift.{k}": v for k, v in CONTACT_LIFTS.items()},
                 **{f"right_party_by_hour.{h}": REACH_BY_HOUR[h] for h in CALL_HOURS},
                 **{f"contact.right_party_by_bucket.{b}": v for b, v in REACH_BY_BUCKET.items() if b != "1-30"}}
CONTACT_BOOK = """
promise_probability = 0.1
plan_uptake = 0.0
dispute_probability = 0.0
callback_probability = {{ sms = 0.0, email = 0.0, letter = 0.0 }}
lift = {{ sms = 0.01, email = 0.004, letter = 0.0, call_attempt = 0.005, right_party_contact = 0.03, inbound_call = 0.0, field_visit = 0.0, legal_filing = 0.0 }}

[contact]

[strategy]
name = "sms-email-call"

[[strategy.steps]]
channel = "sms"
from_dpd = 1
to_dpd = 179
every_days = 5

[[strategy.steps]]
channel = "email"
from_dpd = 1
to_dpd = 179
every_days = 7

[[strategy.steps]]
channel = "call"
from_dpd = 1
to_dpd = 179
every_days = 3

[teams.callers]
kind = "call"
agents = {agents}
shifts = ["08:00-13:00", "14:00-20:00"]
"""

CARD_WEIGHTS = {"minimum": [0.48, 0.45, 0.42, 0.38, 0.35, 0.32], "past_due": [0.26, 0.20, 0.14, 0.10, 0.08, 0.07],
                "partial": [0.20, 0.31, 0.41, 0.50, 0.55, 0.59], "full": [0.06, 0.04, 0.03, 0.02, 0.02, 0.02]}
CARD_FLOORS = {"1-30": 0.06, "31-60": 0.03, "61-90": 0.02, "91-120": 0.015, "121-150": 0.01, "151-180": 0.01}
CARD_TRUTH = {**{f"base_intensity.{b}": v for b, v in CARD_FLOORS.items()},
              "segment_multiplier.low": 1.5, "segment_multiplier.high": 0.5,
              "kappa": 0.15, "delta10": 0.02, "delta11": 0.1,
              **{f"payment_choice.{k}.{i}": w for k, row in CARD_WEIGHTS.items() for i, w in enumerate(row)},
              "redefault_rate.low": 0.05, "redefault_rate.medium": 0.1, "redefault_rate.high": 0.2,
              "lift.sms": 0.01}

CARD_SCENARIO = """\
name = "card-recovery"
[simulation]
days = {days}
accounts = {accounts}
start_date = {start}

[portfolio]
apr = 0.24
late_fee = 30
charge_off_dpd = 180

[behavior]
model = "card"
kappa = 0.15
delta10 = 0.02
delta11 = 0.1
base_intensity = {floors}
segment_multiplier = {{ low = 1.5, medium = 1.0, high = 0.5 }}
payment_choice = {weights}
cure_multiplier = {{ low = 1.0, medium = 1.0, high = 1.0 }}
contact_cure_multiplier = 1.0
promise_cure_multiplier = 1.0
redefault_rate = {{ low = 0.05, medium = 0.1, high = 0.2 }}
lift = {{ sms = 0.01, email = 0.0, letter = 0.0, call_attempt = 0.0, right_party_contact = 0.0, inbound_call = 0.0, field_visit = 0.0, legal_filing = 0.0 }}

[strategy]
name = "sms"

[[strategy.steps]]
channel = "sms"
from_dpd = 1
to_dpd = 179
every_days = 5

[teams]
"""


def _inline(table: dict) -> str:
    return "{ " + ", ".join(f'"{k}" = {v!r}' for k, v in table.items()) + " }"


def write_scenario(folder: Path, accounts: int, days: int, truth: dict[str, float] = TRUTH,
                   model: str = "cgw", contacts: bool = False) -> Path:
    path = folder / "truth.toml"
    if contacts:
        behavior = "\n".join(f"{name} = {value!r}" for name, value in TRUTH.items())
        text = SCENARIO.format(days=days, accounts=accounts, start=START, behavior=behavior)
        text = text.split("\n[strategy]")[0] + CONTACT_BOOK.format(agents=max(1, accounts * 3 // 1000))
        path.write_text(text)
        return path
    if model == "card":
        path.write_text(CARD_SCENARIO.format(days=days, accounts=accounts, start=START, floors=_inline(CARD_FLOORS),
                                             weights=_inline(CARD_WEIGHTS)))
        return path
    behavior = "\n".join(f"{name} = {value!r}" for name, value in truth.items())
    path.write_text(SCENARIO.format(days=days, accounts=accounts, start=START, behavior=behavior))
    return path


def one_seed(folder: Path, scenario_path: Path, seed: int, days: int, dates_only: bool = False,
             model: str = "cgw", with_contacts: bool = False):
    """Simulate with ``seed``, export the history as ``run`` would, and fit it back."""
    card = model == "card" or with_contacts
    result = simulate(load_scenario(scenario_path), seed, contact_log=card, history=True)
    portfolio, payments = folder / f"accounts_{seed}.csv", folder / f"payments_{seed}.csv"
    contacts = folder / f"contacts_{seed}.csv" if card else None
    result.history.write_portfolio_csv(portfolio)
    result.history.payments.write_csv(payments)
    if contacts is not None:
        result.contact_log.write_csv(contacts)
    if dates_only:  # a lender that exports the day of each receipt, not its time
        lines = payments.read_text().splitlines()
        rows = [line.split(",", 2) for line in lines[1:]]
        payments.write_text("\n".join([lines[0], *(f"{a},{t[:10]},{rest}" for a, t, rest in rows)]) + "\n")
    fit = calibrate(scenario_path, portfolio, payments, contacts, start=START, days=days, model=model)
    for path in (portfolio, payments, contacts):
        if path is not None:
            path.unlink()
    return fit


def recovery(seeds: range, accounts: int, days: int, dates_only: bool = False,
             model: str = "cgw", contacts: bool = False, seed_log=None,
             earlier: list[dict] = ()) -> dict[str, dict[str, float]]:
    """Per parameter: the share of seeds whose interval covers the truth, the mean relative error, how many fits.

    ``earlier``: seeds of an earlier study as its seed log wrote them ({"seed", NAME: [estimate, low, high]}),
    counted with these (a parameter not identified in a seed has no estimate there)."""
    truths = CARD_TRUTH if model == "card" else CONTACT_TRUTH if contacts else TRUTH
    covered = {name: [] for name in truths}
    errors = {name: [] for name in truths}
    for row in earlier:
        for name, truth in truths.items():
            estimate, low, high = row[name]
            if estimate is not None and low is not None and high is not None:
                covered[name].append(low <= truth <= high)
                errors[name].append(estimate / truth - 1.0)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        scenario_path = write_scenario(folder, accounts, days, model=model, contacts=contacts)
        for seed in seeds:
            fit = one_seed(folder, scenario_path, seed, days, dates_only, model, contacts)
            if seed_log is not None:  # one JSON line a seed, so that a long study can be read as it goes
                seed_log.write(json.dumps({"seed": seed, **{name: [p.estimate, p.ci_low, p.ci_high]
                                                             for name, p in fit.parameters.items()}}) + "\n")
                seed_log.flush()
            for name, truth in truths.items():
                p = fit.parameters[name]
                if p.identified:
                    covered[name].append(p.ci_low <= truth <= p.ci_high)
                    errors[name].append(p.estimate / truth - 1.0)
    return {name: {"coverage": float(np.mean(covered[name])) if covered[name] else math.nan,
                   "bias": float(np.mean(errors[name])) if errors[name] else math.nan,
                   "fits": len(covered[name])} for name in truths}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=("cgw", "card"), default="cgw")
    parser.add_argument("--seeds", type=positive_int, default=200)
    parser.add_argument("--accounts", type=positive_int, default=2000)
    parser.add_argument("--days", type=positive_int, default=120)
    parser.add_argument("--dates-only", action="store_true", help="give the fit only the date of each receipt")
    parser.add_argument("--contacts", action="store_true",
                        help="cgw: a book treated by SMS, e-mail and calls under [contact]; fit the lifts and reach")
    parser.add_argument("--seed-log", metavar="FILE.jsonl", help="write each seed's estimates and intervals as it ends")
    parser.add_argument("--first-seed", type=positive_int, default=1,
                        help="the study's seeds are FIRST … FIRST + SEEDS − 1 (to extend an earlier study)")
    parser.add_argument("--with-log", metavar="FILE.jsonl", action="append", default=[],
                        help="count an earlier study's seeds too, from its --seed-log (its seeds must not overlap)")
    args = parser.parse_args()
    print_machine()
    began = time.perf_counter()
    seed_log = open(args.seed_log, "w") if args.seed_log else None  # noqa: SIM115 (open for the whole study)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    earlier = [json.loads(line) for path in args.with_log for line in Path(path).read_text().splitlines() if line]
    if overlap := sorted({row["seed"] for row in earlier} & set(seeds)):
        parser.error(f"--with-log: seeds {overlap[0]}… are in this study too")
    table = recovery(seeds, args.accounts, args.days, args.dates_only, args.model, args.contacts, seed_log, earlier)
    if seed_log is not None:
        seed_log.close()
    elapsed = time.perf_counter() - began
    truths = CARD_TRUTH if args.model == "card" else CONTACT_TRUTH if args.contacts else TRUTH
    rows = [[name, truths[name], f"{row['coverage']:.1%}", f"{row['bias']:+.2%}", row["fits"]]
            for name, row in table.items()]
    print_table(["parameter", "truth", "95 % interval covers", "mean relative error", "fits"], rows)
    kind = "dates only" if args.dates_only else "date-times"
    print(f"{args.model}: {args.seeds + len(earlier)} seeds × {args.accounts} accounts × {args.days} days ({kind}) "
          f"in {elapsed:.0f} s")
    rates = [row["coverage"] for row in table.values() if math.isfinite(row["coverage"])]
    print(f"parameters covered in 92-98 % of seeds: {sum(0.92 <= c <= 0.98 for c in rates)} of {len(rates)}; "
          f"mean coverage {np.mean(rates):.1%}")
    print("headline: coverage " + ", ".join(f"{name} {row['coverage']:.1%}" for name, row in table.items()))


if __name__ == "__main__":
    main()
