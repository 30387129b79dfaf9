"""The advisor's answers to a client's other questions, as text and JSON.

How much a month to be debt-free by a date (:mod:`optimizer.payoff.target`),
what each option would do next to carrying on as today
(:mod:`optimizer.payoff.options`), and what a drop in the budget does to each
plan (:mod:`optimizer.payoff.stress`).
"""

from __future__ import annotations

from typing import Any

from .model import DebtFile
from .options import OptionOutcome, OptionsComparison
from .stress import Stress, StressOutcome
from .target import TargetAnswer


def _money(debts: DebtFile, amount: float | None) -> str:
    if amount is None:
        return "-"
    sign = "-" if amount < 0 else ""
    return f"{sign}{debts.currency}{abs(amount):,.2f}"


def _rate(value: float | None) -> str:
    return "-" if value is None else f"{value:.2%}"


# ----------------------------------------------------------------------------- debt-free by a date


def target_lines(answer: TargetAnswer, debts: DebtFile) -> list[str]:
    lines = [f"Debt-free by {answer.target_date} (month {answer.months}): the least monthly budget, to the cent",
             "  (constant; the file's budget changes are ignored, its one-off extras count)"]
    for b in answer.budgets:
        if b.plan is None:
            lines.append(f"  {b.strategy:<16} no budget up to the cap gets there")
            continue
        lines.append(f"  {b.strategy:<16} {_money(debts, b.budget):>14} a month: debt-free in "
                     f"{debts.calendar_month(b.plan.months) or b.plan.months}, interest "
                     f"{_money(debts, b.plan.total_interest)}")
    return lines


# ----------------------------------------------------------------------------- options


def options_json(comparison: OptionsComparison) -> dict[str, Any]:
    return {"strategy": comparison.strategy,
            "options": [o.as_dict() for o in comparison.rows()],
            "assumptions": {o.name: list(o.notes) for o in comparison.rows() if o.notes}}


def verdict(comparison: OptionsComparison, outcome: OptionOutcome, debts: DebtFile) -> str:
    """Saves, costs more, or cannot say; an option that can only cost more is never called a saving."""
    if outcome.kind == "as_today":
        return ""
    if not outcome.plan.pays_off:
        return "never debt-free"
    saved = comparison.saving(outcome)
    if saved is None:
        return "today's plan never ends"
    if outcome.can_only_cost_more:
        return f"costs {_money(debts, -saved / 100)} more: no lower rate, and a fee"
    if saved > 0:
        return f"saves {_money(debts, saved / 100)}"
    return "costs the same" if saved == 0 else f"costs {_money(debts, -saved / 100)} more"


def options_lines(comparison: OptionsComparison, debts: DebtFile) -> list[str]:
    lines = [f"Options next to carrying on as today ({comparison.strategy}, the same budget each month)",
             f"  {'option':<30} {'months':>6} {'interest':>12} {'fees':>10} {'paid':>13} {'1st month':>11} "
             f"{'APR':>7} {'eff.':>7}  against today"]
    for o in comparison.rows():
        row = o.as_dict()
        months = str(row["months"]) if row["months"] is not None else o.plan.status
        lines.append(f"  {o.name[:30]:<30} {months:>6} {_money(debts, row['total_interest']):>12} "
                     f"{_money(debts, row['total_fees']):>10} {_money(debts, row['total_paid']):>13} "
                     f"{_money(debts, row['monthly_payment']):>11} {_rate(row['apr_nominal']):>7} "
                     f"{_rate(row['apr_effective']):>7}  {verdict(comparison, o, debts)}".rstrip())
    notes = [(o.name, n) for o in comparison.options for n in o.notes]
    if notes:
        lines.append("  Assumptions:")
        lines += [f"  - {name}: {note}" for name, note in notes]
    return lines


# ----------------------------------------------------------------------------- stress


def stress_json(stress: Stress, outcomes: list[StressOutcome], debts: DebtFile) -> dict[str, Any]:
    return {"from": debts.calendar_month(stress.month), "from_month": stress.month, "drop": stress.drop,
            "plans": [o.as_dict(debts) for o in outcomes]}


def stress_lines(stress: Stress, outcomes: list[StressOutcome], debts: DebtFile) -> list[str]:
    lines = [f"Stress: {stress.label(debts)}"]
    for o in outcomes:
        d = o.as_dict(debts)
        was = debts.calendar_month(o.planned.months) if o.planned.months else "never"
        short = d["shortfall_months"]
        when = (f"debt-free {d['debt_free']} instead of {was}" if d["debt_free"] else
                f"never debt-free (planned: {was}); figures for the {o.stressed.months_simulated} months booked")
        lines.append(f"  {o.strategy}: {when}; "
                     + (f"a minimum unpaid in {len(short)} months (first in "
                        f"{debts.calendar_month(short[0]) or 'month ' + str(short[0])}), "
                        f"late fees {_money(debts, d['late_fees'])}; " if short else "every minimum met; ")
                     + f"{_money(debts, d['extra_cost'])} more interest and fees")
        lines.append(f"    from then on, {_money(debts, d['budget_to_meet_minimums'])} a month meets every minimum; "
                     + (f"{_money(debts, d['budget_to_stay_on_track'])} keeps the debt-free date {was}"
                        if d["budget_to_stay_on_track"] is not None else "no budget from then keeps the date"))
    return lines
