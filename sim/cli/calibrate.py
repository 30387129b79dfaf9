"""``python -m sim calibrate`` and ``backtest``: fit the borrower behaviour to a lender's history, and prove it
on held-back days (issue 16)."""

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
from .options import positive_int, seed_arg

CMDLINE = "command line"


def _history_options(parser: argparse.ArgumentParser) -> None:
    """The inputs calibrate and backtest share: the base scenario, the three files, the window."""
    parser.add_argument("--scenario", required=True, metavar="BASE.toml",
                        help="the base scenario: its terms (APR, fees, charge-off) rebuild the balances")
    parser.add_argument("--portfolio", required=True, metavar="ACCOUNTS.csv",
                        help="the accounts at the window's start (the portfolio CSV, with entered_on)")
    parser.add_argument("--payments", required=True, metavar="PAYMENTS.csv",
                        help="cash receipts: account_id,timestamp,amount[,kind]")
    parser.add_argument("--contacts", metavar="CONTACTS.csv",
                        help="the contact log (account_id,timestamp,channel,outcome,agent): the lifts it caused")
    parser.add_argument("--start", required=True, metavar="YYYY-MM-DD", help="the window's first day")
    parser.add_argument("--days", required=True, type=positive_int(MAX_DAYS), help="the window's length in days")
    parser.add_argument("--model", default="cgw", help="the behaviour model to fit: cgw or card")
    parser.add_argument("--time-zone", default="UTC", metavar="ZONE",
                        help="the book's local time, to which timestamps with an offset are converted (IANA name)")
    parser.add_argument("--json", action="store_true", help="print only JSON on stdout")


def register(subparsers) -> None:
    cal = subparsers.add_parser(
        "calibrate", help="fit the behaviour to a lender's accounts, payments and contacts")
    _history_options(cal)
    cal.add_argument("--out", metavar="FITTED.toml", help="write a scenario that extends the base with the fit")
    cal.add_argument("--plot", metavar="FILE.png", help="write the goodness-of-fit QQ plots")
    cal.set_defaults(func=cmd_calibrate)

    back = subparsers.add_parser(
        "backtest", help="fit the first days of a lender's history, simulate the rest, compare")
    _history_options(back)
    back.add_argument("--fit-days", required=True, type=positive_int(MAX_DAYS), metavar="K",
                      help="fit on the window's first K days; simulate the rest")
    back.add_argument("--reps", type=positive_int(10_000), default=50, help="replications (default 50)")
    back.add_argument("--seed", type=seed_arg, default=0, help="seed of the replications (default 0)")
    back.add_argument("--plot", metavar="FILE.png", help="write the recovery curve against its band")
    back.set_defaults(func=cmd_backtest)


def _start(text: str) -> dt.date:
    """``--start``, read after parsing (so an unknown option is named first, like every command's)."""
    try:
        if len(text) == 10:
            return dt.date.fromisoformat(text)
    except ValueError:
        pass
    raise InputError(CMDLINE, "--start", f"must be a date written as YYYY-MM-DD, got {text[:40]!r}")


def _check_outputs(args: argparse.Namespace) -> None:
    check_output_path(getattr(args, "out", None), "--out")
    check_output_path(args.plot, "--plot")
    if getattr(args, "out", None) and args.plot and os.path.realpath(args.out) == os.path.realpath(args.plot):
        raise InputError(args.plot, "--plot", "is also given to --out; each output needs its own file")
    if getattr(args, "out", None) and not args.out.endswith(".toml"):
        raise InputError(args.out, "--out", "must be a .toml file (the fitted scenario)")


def cmd_calibrate(args: argparse.Namespace) -> int:
    from ..calibration import calibrate
    from ..calibration.figures import qq_plot
    from ..scenario import load_scenario

    _check_outputs(args)
    fit = calibrate(args.scenario, args.portfolio, args.payments, args.contacts, start=_start(args.start),
                    days=args.days, model=args.model, time_zone=args.time_zone)
    if args.out:
        fit.write_fitted_scenario(args.out, load_scenario(args.scenario))
    if args.plot:
        low = fit.parameters["r_min"].estimate if "r_min" in fit.parameters else fit.share_low
        qq_plot(fit.increments, fit.shares, low, args.plot, model=fit.model)
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
    width = max([12, *(len(name) + 2 for name in fit.parameters)])
    # cgw: each repayment's share of the balance; card: each partial repayment's share of a minimum.
    amounts = "partial amounts (of a minimum)" if fit.model == "card" else "shares"
    lines = [f"model {fit.model}: {fit.accounts} accounts observed, {fit.payments} receipts, "
             f"{fit.window.days} days from {fit.window.start}",
             f"log-likelihood {_number(fit.log_likelihood, 8)}", "",
             f"{'parameter':<{width}}{'estimate':>12}{'std error':>12}   95 % interval"]
    for name, p in fit.parameters.items():
        if not p.identified:
            lines.append(f"{name:<{width}}{'not identified by these data':>40}")
            continue
        lines.append(f"{name:<{width}}{_number(p.estimate):>12}{_number(p.std_error):>12}   "
                     f"[{_number(p.ci_low)}, {_number(p.ci_high)}]")
    g = fit.goodness_of_fit
    lines += ["", "goodness of fit",
              f"  time rescaling: KS {_number(g.ks_statistic)} (p = {_number(g.ks_pvalue, 3)}) against Exp(1)",
              f"  {amounts}: KS {_number(g.share_ks_statistic)} (p = {_number(g.share_ks_pvalue, 3)}) "
              "against the fitted uniform",
              f"  AIC {_number(g.aic, 8)} against {_number(g.aic_constant_hazard, 8)} for a constant hazard "
              f"(lower is better)"]
    return "\n".join(lines)


def cmd_backtest(args: argparse.Namespace) -> int:
    from ..calibration import read_history
    from ..calibration.backtest import backtest
    from ..calibration.figures import band_plot

    _check_outputs(args)
    if args.model not in ("cgw", "card"):
        raise InputError(CMDLINE, "--model", f"unknown model {args.model!r}; backtest fits: cgw, card")
    history = read_history(args.scenario, args.portfolio, args.payments, args.contacts, start=_start(args.start),
                           days=args.days, model=args.model, time_zone=args.time_zone)
    result = backtest(history, args.scenario, fit_days=args.fit_days, reps=args.reps, seed=args.seed)
    if args.plot:
        band_plot(result.days, result.actual, result.low, result.high, result.fit_days, args.plot)
    if args.json:
        sys.stdout.write(json.dumps(result.as_dict(), indent=2, allow_nan=False) + "\n")
        return 0
    print(_backtest_report(result))
    return 0


def _backtest_report(result) -> str:
    lines = [f"fitted on days 0-{result.fit_days - 1}, simulated days {result.fit_days}-{result.days[-1]} "
             f"{result.reps} times (parameters drawn from the fit's sampling distribution)",
             f"actual recovery inside the simulated 90 % band on {result.inside_share:.0%} of the days", "",
             f"{'day':>5}{'actual':>10}{'band':>22}"]
    step = max(1, len(result.days) // 10)
    for k in sorted({*range(0, len(result.days), step), len(result.days) - 1}):
        lines.append(f"{result.days[k]:>5}{result.actual[k]:>10.2%}   "
                     f"[{result.low[k]:.2%}, {result.high[k]:.2%}]".rjust(22))
    lines += ["", f"{'by bucket at day K':<18}{'30-day roll rate':>22}{'cash':>30}",
              f"{'':<18}{'predicted':>11}{'actual':>11}{'predicted':>15}{'actual':>15}"]
    for bucket, predicted in result.roll_predicted.items():
        cash_predicted, cash_actual = result.cash_by_bucket[bucket]
        lines.append(f"{bucket:<18}{_share(predicted):>11}{_share(result.roll_actual[bucket]):>11}"
                     f"{cash_predicted:>15,.0f}{cash_actual:>15,.0f}")
    predicted, actual = result.paid_share
    lines += ["", f"accounts that paid anything after day K: {predicted:.1%} predicted, {actual:.1%} actual"]
    predicted, actual = result.receipts
    lines.append(f"their repayments and instalments after day K: {predicted:,.0f} predicted, {actual:,.0f} actual")
    return "\n".join(lines)


def _share(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"
