"""``python -m optimizer payoff``: a borrower's payoff plan from a debt file.

Only parses arguments and calls :mod:`optimizer.payoff.advisor` and
:mod:`optimizer.payoff.report`; bad input is a InputError (exit code 2).
"""

from __future__ import annotations

import argparse
import json
import math
import sys

from sim.errors import InputError
from sim.io import check_output_path, write_atomic

from ..payoff import answers
from ..payoff import report as payoff_report
from ..payoff.advisor import STRATEGIES, advise, plan
from ..payoff.client_plan import plan_html
from ..payoff.model import DebtFile, load_debts
from ..payoff.options import compare_options
from ..payoff.stress import parse_stress, stress_plans
from ..payoff.target import budgets_for_date

HEURISTIC = ("avalanche", "snowball", "custom", "minimum", "snowball_rerank")


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "payoff",
        help="plan a borrower's debt payoff (avalanche, snowball, LP-optimal, minimum trap)",
        description="In what order to pay one's debts, when one is debt-free, what each choice costs.",
    )
    parser.add_argument("file", help="debt file (TOML), e.g. scenarios/household.toml")
    parser.add_argument("--strategy", default=None, choices=[*STRATEGIES, "all"],
                        help="which plan to show (default: avalanche; with --target-date: all); 'all' compares "
                             "all but snowball_rerank (snowball re-ranked by current balance every month)")
    parser.add_argument("--budget", type=str, default=None,
                        help="monthly budget instead of the file's")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the summary")
    parser.add_argument("--csv", metavar="FILE", help="write every plan's schedule as CSV")
    parser.add_argument("--plot", metavar="FILE.png", help="write a chart of balance over time")
    parser.add_argument("--target-date", metavar="YYYY-MM",
                        help="the least monthly budget (to the cent) to be debt-free by this month, per strategy")
    parser.add_argument("--options", action="store_true",
                        help="compare the file's [[options]] (loan, transfer, DMP, settlement, 账单分期) with "
                             "carrying on as today")
    parser.add_argument("--stress", metavar="from=YYYY-MM,drop=0.4",
                        help="the budget drops by a share from a month: shortfalls, fees, the budget to stay on track")
    parser.add_argument("--plan-out", metavar="FILE.html",
                        help="write the client's printable plan (self-contained HTML)")
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


def _questions(args: argparse.Namespace, debts: DebtFile) -> tuple[dict, list[str], dict]:
    """The answers to --target-date, --options and --stress: (JSON, text lines, the parts for the plan page)."""
    data: dict = {}
    lines: list[str] = []
    parts: dict = {}
    chosen = args.strategy or "avalanche"
    if args.target_date:
        answer = budgets_for_date(debts, args.target_date, [args.strategy or "all"])
        data.update(answer.as_dict())
        lines += [*answers.target_lines(answer, debts), ""]
        parts["target"] = answer
    if args.options:
        if not debts.options:
            raise InputError(debts.source, "options", "the file has no [[options]] to compare "
                                                      "(kind = \"consolidation_loan\", … ; see docs/payoff.md)")
        comparison = compare_options(debts, chosen if chosen in HEURISTIC else "avalanche")
        data.update(answers.options_json(comparison))
        lines += [*answers.options_lines(comparison, debts), ""]
        parts["options"] = comparison
    if args.stress:
        stress = parse_stress(args.stress, debts)
        strategies = [s for s in debts_strategies(debts, args.strategy) if s != "optimal"] or ["avalanche"]
        outcomes = stress_plans(debts, stress, strategies)
        data["stress"] = answers.stress_json(stress, outcomes, debts)
        lines += [*answers.stress_lines(stress, outcomes, debts), ""]
        parts["stress"] = (stress, outcomes)
    return data, lines, parts


def debts_strategies(debts: DebtFile, strategy: str | None) -> list[str]:
    if strategy == "all":
        return [s for s in ("avalanche", "snowball", "custom", "minimum") if s != "custom" or debts.custom_order]
    return [strategy or "avalanche"]


def _plan_page(args: argparse.Namespace, debts: DebtFile, parts: dict, advice) -> str:
    """The client's page: the chosen plan (with 'all', the optimal one if it has a plan, else avalanche)
    and every answer asked for."""
    planned = {p.strategy: p for p in advice.plans} if advice is not None else {}
    if args.strategy == "all":
        chosen = planned.get("optimal") or plan(debts, "optimal")
        if chosen.status == "infeasible":
            chosen = planned.get("avalanche") or plan(debts, "avalanche")
    else:
        name = args.strategy or "avalanche"
        chosen = planned.get(name) or plan(debts, name)
    if "options" not in parts and debts.options:
        parts["options"] = compare_options(debts, chosen.strategy if chosen.strategy in HEURISTIC else "avalanche")
    return plan_html(debts, chosen, **parts)


def run(args: argparse.Namespace) -> int:
    if args.plot and not args.plot.lower().endswith(".png"):
        raise InputError(args.plot, "", "--plot writes a PNG; give a file name ending in .png")
    if args.plan_out and not args.plan_out.lower().endswith((".html", ".htm")):
        raise InputError(args.plan_out, "", "--plan-out writes HTML; give a file name ending in .html")
    # Output paths are checked before any work: a directory or a symlink loop is one line.
    check_output_path(args.csv, "--csv")
    check_output_path(args.plot, "--plot")
    check_output_path(args.plan_out, "--plan-out")
    debts = load_debts(args.file)
    budget = _budget(args.budget)
    if budget is not None:
        debts = debts.with_budget(budget)
    data, lines, parts = _questions(args, debts)
    advice = None
    # The answer is printed first, so a file that fails to write cannot lose it.
    if lines:
        sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n" if args.json
                         else "\n".join(lines).rstrip() + "\n")
    else:
        advice = advise(debts, [args.strategy or "avalanche"])
        sys.stdout.write(payoff_report.advice_json(advice) + "\n" if args.json
                         else payoff_report.advice_text(advice))
    sys.stdout.flush()
    if args.csv or args.plot:
        advice = advice or advise(debts, [args.strategy or "avalanche"])
    if args.csv:
        write_atomic(args.csv, payoff_report.schedule_csv(advice), option="--csv")
    if args.plot:
        write_atomic(args.plot, payoff_report.balance_plot_png(advice), option="--plot")
    if args.plan_out:
        write_atomic(args.plan_out, _plan_page(args, debts, parts, advice), option="--plan-out")
    return 0
