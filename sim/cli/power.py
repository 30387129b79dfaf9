"""``python -m sim power``: how many accounts a champion/challenger test needs (:mod:`sim.power`)."""

from __future__ import annotations

import argparse
import json
import sys

from ..errors import InputError, printable
from .options import seed_arg

MAX_PILOT_REPS = 1000


def register(subparsers) -> None:
    power = subparsers.add_parser(
        "power", help="accounts a champion/challenger test needs to detect a lift (or the lift it can detect)")
    power.add_argument("--kpi", default="cure_rate",
                       help="cure_rate (default), charge_off_rate, or cash_per_account (with --scenario)")
    power.add_argument("--base", type=float, help="the champion's rate, e.g. 0.30 (rate KPIs)")
    size = power.add_mutually_exclusive_group()
    size.add_argument("--lift", type=float,
                      help="the difference to detect: absolute for rates (0.02 = 2 points), money for cash")
    size.add_argument("--accounts", type=int, help="total accounts in the test: find the detectable lift instead")
    power.add_argument("--share", type=float, default=0.5, help="the challenger's share of the book (default 0.5)")
    power.add_argument("--alpha", type=float, default=0.05, help="significance level, two-sided (default 0.05)")
    power.add_argument("--power", type=float, default=0.8, help="chance of detecting the lift (default 0.8)")
    power.add_argument("--inflow", type=float, help="accounts entering the test per month: adds the months needed")
    power.add_argument("--scenario", metavar="FILE", help="cash per account: the scenario of the pilot simulation")
    power.add_argument("--pilot-reps", type=int, default=3, help="pilot replications (default 3)")
    power.add_argument("--seed", type=seed_arg, help="pilot root seed (default: the scenario's simulation.seed)")
    power.add_argument("--json", action="store_true", help="print only JSON on stdout")
    power.set_defaults(func=cmd_power)


def _test_size(args: argparse.Namespace):
    from ..power import (
        CASH_KPIS,
        SOURCE,
        cash_test_size,
        check_design,
        check_kpi,
        pilot_cash,
        rate_test_size,
    )

    check_kpi(args.kpi)
    if args.lift is None and args.accounts is None:
        raise InputError(SOURCE, "--lift/--accounts", "give one: --lift (find the accounts) or --accounts "
                                                      "(find the detectable lift)")
    design = {"share": args.share, "alpha": args.alpha, "power": args.power, "lift": args.lift,
              "accounts": args.accounts, "inflow": args.inflow}
    if args.kpi not in CASH_KPIS:
        if args.scenario is not None:
            raise InputError(SOURCE, "--scenario", f"only for cash per account; {args.kpi} takes --base")
        if args.base is None:
            raise InputError(SOURCE, "--base", f"missing: the champion's {args.kpi}, e.g. --base 0.30")
        return rate_test_size(args.kpi, args.base, **design)
    if args.scenario is None:
        raise InputError(SOURCE, "--scenario", f"{args.kpi} needs a pilot: --scenario FILE [--pilot-reps N]")
    if args.base is not None:
        raise InputError(SOURCE, "--base", "not used for cash per account (the pilot gives the mean)")
    if not 1 <= args.pilot_reps <= MAX_PILOT_REPS:
        raise InputError(SOURCE, "--pilot-reps", f"must be between 1 and {MAX_PILOT_REPS}, got {args.pilot_reps}")
    from ..scenario import load_scenario

    check_design(args.share, args.alpha, args.power)  # a bad option fails before the pilot runs
    pilot = pilot_cash(load_scenario(args.scenario), args.pilot_reps, args.seed)
    return cash_test_size(pilot["sd"], kpi=args.kpi, mean=pilot["mean"], pilot=pilot, **design)


def cmd_power(args: argparse.Namespace) -> int:
    result = _test_size(args)
    if args.json:
        sys.stdout.write(json.dumps(result.to_json(), indent=2, allow_nan=False) + "\n")
    else:
        print(format_test_size(result))
    return 0


def _value(result, value: float, *, signed: bool = False) -> str:
    """A rate in % (a difference in points), cash in money."""
    sign = "+" if signed else ""
    if result.sd_per_account is None:
        return f"{100 * value:{sign}.2f} {'pp' if signed else '%'}"
    return f"{value:{sign},.2f}"


def _question(result) -> list[str]:
    from ..plots import KPI_TITLES

    name = KPI_TITLES.get(result.kpi, result.kpi.replace("_", " "))
    lines = []
    if result.pilot:
        p = result.pilot
        lines.append(f"pilot: {printable(p['scenario'])} (scenario {p['scenario_hash']}), {p['reps']} × "
                     f"{p['accounts']:,} accounts × {p['days']} days: mean {p['mean']:,.2f}, "
                     f"sd {p['sd']:,.2f} per account")
    if result.lift is not None:
        lines.append(f"Accounts needed to detect a {name} lift of {_value(result, result.lift, signed=True)}"
                     + (f" from {_value(result, result.base)}" if result.base is not None else ""))
    else:
        lines.append(f"Smallest change of {name} that {result.accounts_total:,} accounts detect"
                     + (f" from {_value(result, result.base)}" if result.base is not None else ""))
    lines.append(f"challenger share {100 * result.share:g} %, significance {result.alpha:g} (two-sided), "
                 f"power {100 * result.power:g} %")
    return lines


def format_test_size(result) -> str:
    """The table a manager reads, with the method and the assumption under it."""
    rows = [("champion accounts", f"{result.accounts_champion:,}"),
            ("challenger accounts", f"{result.accounts_challenger:,}"),
            ("total accounts", f"{result.accounts_total:,}")]
    if result.detectable_lift is not None:
        rows.append(("detectable lift", _value(result, result.detectable_lift, signed=True)))
    if result.detectable_drop is not None:
        rows.append(("detectable fall", _value(result, -result.detectable_drop, signed=True)))
    if result.months is not None:
        rows.append((f"months at {result.inflow:,.0f} accounts a month", f"{result.months:,}"))
    width = max(len(name) for name, _ in rows)
    lines = [*_question(result), ""]
    lines += [f"{name:<{width}}  {value:>12}" for name, value in rows]
    lines += ["", f"method: {result.method}", f"assumption: {result.assumption}"]
    return "\n".join(lines)
