"""``python -m sim calibrate``: fit the borrower behaviour to a lender's history (issue 16)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys

from ..errors import InputError
from ..io import check_output_path
from ..scenario import MAX_DAYS
from .options import positive_int

CMDLINE = "command line"


def register(subparsers) -> None:
    cal = subparsers.add_parser(
        "calibrate", help="fit the behaviour to a lender's accounts, payments and contacts")
    cal.add_argument("--scenario", required=True, metavar="BASE.toml",
                     help="the base scenario: its terms (APR, fees, charge-off) rebuild the balances")
    cal.add_argument("--portfolio", required=True, metavar="ACCOUNTS.csv",
                     help="the accounts at the window's start (the portfolio CSV, with entered_on)")
    cal.add_argument("--payments", required=True, metavar="PAYMENTS.csv",
                     help="cash receipts: account_id,timestamp,amount[,kind]")
    cal.add_argument("--contacts", metavar="CONTACTS.csv",
                     help="the contact log (account_id,timestamp,channel,outcome,agent); legal contacts mark filings")
    cal.add_argument("--start", required=True, type=_date, metavar="YYYY-MM-DD", help="the window's first day")
    cal.add_argument("--days", required=True, type=positive_int(MAX_DAYS), help="the window's length in days")
    cal.add_argument("--model", default="cgw", help="the behaviour model to fit (cgw)")
    cal.add_argument("--time-zone", default="UTC", metavar="ZONE",
                     help="the book's local time, to which timestamps with an offset are converted (IANA name)")
    cal.add_argument("--json", action="store_true", help="print only JSON on stdout")
    cal.add_argument("--out", metavar="FITTED.toml", help="write a scenario that extends the base with the fit")
    cal.add_argument("--plot", metavar="FILE.png", help="write the goodness-of-fit QQ plots")
    cal.set_defaults(func=cmd_calibrate)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text) if len(text) == 10 else dt.date.fromisoformat("invalid")
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a date written as YYYY-MM-DD, got {text[:40]!r}") from None


def _check_outputs(args: argparse.Namespace) -> None:
    check_output_path(args.out, "--out")
    check_output_path(args.plot, "--plot")
    if args.out and args.plot and os.path.realpath(args.out) == os.path.realpath(args.plot):
        raise InputError(args.plot, "--plot", "is also given to --out; each output needs its own file")
    if args.out and not args.out.endswith(".toml"):
        raise InputError(args.out, "--out", "must be a .toml file (the fitted scenario)")


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ..calibration import calibrate
    from ..calibration.goodness import qq_plot
    from ..scenario import load_scenario

    _check_outputs(args)
    fit = calibrate(args.scenario, args.portfolio, args.payments, args.contacts, start=args.start,
                    days=args.days, model=args.model, time_zone=args.time_zone)
    if args.out:
        fit.write_fitted_scenario(args.out, load_scenario(args.scenario))
    if args.plot:
        r_min = fit.parameters["r_min"].estimate if "r_min" in fit.parameters else None
        qq_plot(fit.increments, fit.shares, r_min, args.plot, model=fit.model)
    if args.json:
        sys.stdout.write(json.dumps(fit.as_dict(), indent=2, allow_nan=False) + "\n")
        return 0
    print(_text_report(fit))
    return 0


def _number(value: float | None, digits: int = 4) -> str:
    if value is None or not math.isfinite(value):
        return "—"
    return f"{value:.{digits}g}"


def _text_report(fit) -> str:
    lines = [f"model {fit.model}: {fit.accounts} accounts observed, {fit.payments} receipts, "
             f"{fit.window.days} days from {fit.window.start}",
             f"log-likelihood {_number(fit.log_likelihood, 8)}", "",
             f"{'parameter':<12}{'estimate':>12}{'std error':>12}   95 % interval"]
    for name, p in fit.parameters.items():
        if not p.identified:
            lines.append(f"{name:<12}{'not identified by these data':>40}")
            continue
        lines.append(f"{name:<12}{_number(p.estimate):>12}{_number(p.std_error):>12}   "
                     f"[{_number(p.ci_low)}, {_number(p.ci_high)}]")
    g = fit.goodness_of_fit
    lines += ["", "goodness of fit",
              f"  time rescaling: KS {_number(g.ks_statistic)} (p = {_number(g.ks_pvalue, 3)}) against Exp(1)",
              f"  shares: KS {_number(g.share_ks_statistic)} (p = {_number(g.share_ks_pvalue, 3)}) against the fitted uniform",
              f"  AIC {_number(g.aic, 8)} against {_number(g.aic_constant_hazard, 8)} for a constant hazard "
              f"(lower is better)"]
    return "\n".join(lines)
