"""``python -m optimizer payoff``: a borrower's payoff plan from a debt file.

Only parses arguments and calls :mod:`optimizer.payoff.advisor` and
:mod:`optimizer.payoff.report`; bad input is a InputError (exit code 2).
"""

from __future__ import annotations

import argparse
import math
import sys

from sim.errors import InputError
from sim.io import check_output_path, write_atomic

from ..payoff import report as payoff_report
from ..payoff.advisor import STRATEGIES, advise
from ..payoff.model import load_debts


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "payoff",
        help="plan a borrower's debt payoff (avalanche, snowball, LP-optimal, minimum trap)",
        description="In what order to pay one's debts, when one is debt-free, what each choice costs.",
    )
    parser.add_argument("file", help="debt file (TOML), e.g. scenarios/household.toml")
    parser.add_argument("--strategy", default="avalanche", choices=[*STRATEGIES, "all"],
                        help="which plan to show (default: avalanche); 'all' compares all but "
                             "snowball_rerank (snowball re-ranked by current balance every month)")
    parser.add_argument("--budget", type=str, default=None,
                        help="monthly budget instead of the file's")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the summary")
    parser.add_argument("--csv", metavar="FILE", help="write every plan's schedule as CSV")
    parser.add_argument("--plot", metavar="FILE.png", help="write a chart of balance over time")
    parser.set_defaults(func=run)


def _budget(text: str | None) -> float | None:
    if text is None:
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError("--budget", "", f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise InputError("--budget", "", f"must be a finite number ≥ 0, got {text!r}")
    return value


def run(args: argparse.Namespace) -> int:
    if args.plot and not args.plot.lower().endswith(".png"):
        raise InputError(args.plot, "", "--plot writes a PNG; give a file name ending in .png")
    # Output paths are checked before any work: a directory or a symlink loop is one line.
    check_output_path(args.csv, "--csv")
    check_output_path(args.plot, "--plot")
    debts = load_debts(args.file)
    advice = advise(debts, [args.strategy], budget=_budget(args.budget))
    # The plan is printed first, so a file that fails to write cannot lose it.
    if args.json:
        sys.stdout.write(payoff_report.advice_json(advice) + "\n")
    else:
        sys.stdout.write(payoff_report.advice_text(advice))
    sys.stdout.flush()
    if args.csv:
        write_atomic(args.csv, payoff_report.schedule_csv(advice), option="--csv")
    if args.plot:
        write_atomic(args.plot, payoff_report.balance_plot_png(advice), option="--plot")
    return 0
