"""What the payoff advisor tells a borrower: a readable summary, JSON, CSV and a chart.

The command line writes the CSV and the chart with :func:`sim.io.write_atomic`,
so a failed run never leaves a half-written file behind.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from .advisor import Advice
from .amortisation import PayoffResult
from .model import DebtFile

DESCRIPTIONS = {
    "avalanche": "highest rate first after all minimums",
    "snowball": "smallest starting balance first after all minimums, the order set once",
    "snowball_rerank": "smallest current balance first after all minimums, re-ranked every month",
    "custom": "your own order after all minimums",
    "minimum": "minimum payments only",
    "optimal": "least total interest and fees (linear program)",
}


# ----------------------------------------------------------------------------- JSON


def result_dict(result: PayoffResult, debts: DebtFile) -> dict[str, object]:
    """One plan as plain data: the fields the issue names, then the details."""
    return {
        "strategy": result.strategy,
        "pays_off": result.pays_off,
        "months": result.months,
        "total_interest": round(result.total_interest, 2),
        "total_paid": round(result.total_paid, 2),
        "schedule": [row.as_dict() for row in result.schedule],
        "status": result.status,
        "total_fees": round(result.total_fees, 2),
        "remaining": round(result.remaining, 2),
        "debt_free": debts.calendar_month(result.months) if result.months else None,
        "payoff_order": [{"debt": name, "month": result.payoff_months[name]}
                         for name in result.payoff_order],
        "missed_minimums": [
            {"month": m.month, "debt": m.debt, "minimum": m.minimum / 100, "paid": m.paid / 100,
             "late_fee": m.late_fee / 100, "penalty_apr": m.penalty_apr}
            for m in result.missed
        ],
        "balance_trend": None if result.trend is None else {
            "start": result.trend.start / 100, "end": result.trend.end / 100,
            "months": result.trend.months, "per_month": round(result.trend.per_month, 2)},
        "lp_bound": result.lp_bound,
        "proven_optimal": result.proven,
        "solver": result.solver,
        "message": result.message,
    }


def _with_needed(advice: Advice, result: PayoffResult) -> dict[str, object]:
    data = result_dict(result, advice.debts)
    data["budget_needed"] = advice.budget_needed.get(result.strategy)
    return data


def advice_json(advice: Advice) -> str:
    """One plan as an object; several (``--strategy all``) as plans plus a comparison."""
    plans = [_with_needed(advice, p) for p in advice.plans]
    if len(plans) == 1:
        return json.dumps(plans[0], indent=2, ensure_ascii=False)
    payload = {
        "plans": plans,
        "comparison": advice.comparison(),
        "minimum_trap": {k: v for k, v in _with_needed(advice, advice.trap).items()
                         if k != "schedule"},
    }
    return json.dumps(payload, indent=2, ensure_ascii=False)


# ----------------------------------------------------------------------------- text


def _money(debts: DebtFile, amount: float) -> str:
    sign = "-" if amount < 0 else ""
    return f"{sign}{debts.currency}{abs(amount):,.2f}"


def _when(debts: DebtFile, month: int) -> str:
    label = debts.calendar_month(month)
    return f"{label} (month {month})" if label else f"month {month}"


def _months(count: int) -> str:
    return f"{count} month" if count == 1 else f"{count} months"


def _duration(months: int) -> str:
    years, rest = divmod(months, 12)
    if years == 0:
        return f"{months} months"
    return f"{months} months ({years} y {rest} m)" if rest else f"{months} months ({years} y)"


def plan_lines(result: PayoffResult, debts: DebtFile) -> list[str]:
    """The summary of one plan: debt-free date, cost, payoff order, shortfall, trend."""
    title = f"{result.strategy} ({DESCRIPTIONS.get(result.strategy, '')})"
    lines = [title]
    if result.status == "infeasible":
        return [*lines, f"  no plan: {result.message}"]
    if result.pays_off:
        lines.append(f"  debt-free after {_duration(result.months)}: the last payment in "
                     f"{_when(debts, result.months)}")
    else:
        lines.append("  never debt-free: " + _never_reason(result, debts))
    lines.append(f"  total interest {_money(debts, result.total_interest)}, fees "
                 f"{_money(debts, result.total_fees)}, paid in all {_money(debts, result.total_paid)}")
    if result.payoff_order:
        order = ", ".join(f"{name} {_when(debts, result.payoff_months[name])}"
                          for name in result.payoff_order)
        lines.append(f"  order of payoff: {order}")
    if result.lp_bound is not None:
        bound = (f"  proven optimal ({result.solver}): no plan costs less than "
                 f"{_money(debts, result.lp_bound)} in interest + fees before cents are rounded")
        lines.append(bound + (f"; {result.message}" if result.message else ""))
    elif result.message:
        # A plan the solver did not prove optimal: no bound is claimed.
        lines.append(f"  {result.message}" + (f" ({result.solver})" if result.solver else ""))
    lines += _shortfall_lines(result, debts)
    return lines


def _needed_line(advice: Advice, strategy: str) -> list[str]:
    if strategy not in advice.budget_needed:
        return []
    debts = advice.debts
    return [f"  a budget of at least {_money(debts, advice.budget_needed[strategy])} a month "
            f"would meet every minimum (you have {_money(debts, debts.budget)})"]


def _never_reason(result: PayoffResult, debts: DebtFile) -> str:
    trend = result.trend
    if trend is None:
        return result.status
    verb = "grows" if trend.growing else "falls"
    why = ("the payments do not cover the interest" if trend.growing
           else f"still owing after {trend.months} months")
    return (f"{why}; the balance {verb} from {_money(debts, trend.start / 100)} to "
            f"{_money(debts, trend.end / 100)} in {trend.months} months "
            f"({_money(debts, trend.per_month)} a month)")


def _shortfall_lines(result: PayoffResult, debts: DebtFile) -> list[str]:
    if not result.missed:
        return []
    months = sorted({m.month for m in result.missed})
    by_debt: dict[str, int] = {}
    for m in result.missed:
        by_debt[m.debt] = by_debt.get(m.debt, 0) + 1
    who = ", ".join(f"{name} ({_months(count)})" for name, count in by_debt.items())
    late = sum(m.late_fee for m in result.missed) / 100
    penalties = sorted({f"{m.debt} at {m.penalty_apr:.2%}" for m in result.missed if m.penalty_apr})
    lines = [f"  SHORTFALL: the budget does not cover every minimum in {_months(len(months))}, "
             f"first in {_when(debts, months[0])}; unpaid: {who}",
             f"  late fees {_money(debts, late)}"
             + (f"; penalty APR: {', '.join(penalties)}" if penalties else "")]
    return lines


def advice_text(advice: Advice) -> str:
    """The readable report: each plan, a comparison, the minimum-payment trap."""
    debts = advice.debts
    name = debts.name or Path(debts.source).name
    start = f" from {debts.calendar_month(1)}" if debts.start else ""
    owed = sum(d.balance for d in debts.debts)
    out = [f"Debt payoff plan: {name}",
           f"{len(debts.debts)} debts, {_money(debts, owed)} owed; budget "
           f"{_money(debts, debts.budget)} a month{start}", ""]
    for result in advice.plans:
        out += plan_lines(result, debts) + _needed_line(advice, result.strategy) + [""]
    if len(advice.plans) > 1:
        out += _comparison_lines(advice) + [""]
    out += _trap_lines(advice)
    return "\n".join(out).rstrip() + "\n"


def _comparison_lines(advice: Advice) -> list[str]:
    debts = advice.debts
    lines = [f"{'strategy':<10} {'months':>7} {'interest':>14} {'fees':>10} {'paid':>14}"]
    for row in advice.comparison():
        months = str(row["months"]) if row["months"] is not None else row["status"]
        if row["status"] == "infeasible":
            lines.append(f"{row['strategy']:<10} {months:>7} {'-':>14} {'-':>10} {'-':>14}")
            continue
        lines.append(f"{row['strategy']:<10} {months:>7} {_money(debts, row['total_interest']):>14} "
                     f"{_money(debts, row['total_fees']):>10} {_money(debts, row['total_paid']):>14}")
    return lines


def _trap_lines(advice: Advice) -> list[str]:
    trap, debts = advice.trap, advice.debts
    if trap.pays_off:
        body = (f"{_duration(trap.months)}, {_money(debts, trap.total_interest)} interest, "
                f"{_money(debts, trap.total_paid)} paid in all")
    else:
        body = "never debt-free: " + _never_reason(trap, debts)
    if trap.missed:
        body += (f"; the budget misses {len(trap.missed)} minimum(s) on the way, first in "
                 f"{_when(debts, trap.missed[0].month)}")
    return [f"Minimum-payment trap (paying only the minimums): {body}."]


# ----------------------------------------------------------------------------- files


def schedule_csv(advice: Advice) -> bytes:
    """Every plan's schedule as rows: strategy, month, calendar month, debt, money (text cells spreadsheet-safe)."""
    from sim.export_safety import safe_cell  # a debt's name is the user's text

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["strategy", "month", "date", "debt", "payment", "interest", "fees", "balance"])
    for result in advice.plans:
        for row in result.schedule:
            writer.writerow([safe_cell(cell) for cell in (
                result.strategy, row.month, advice.debts.calendar_month(row.month) or "", row.debt,
                f"{row.payment / 100:.2f}", f"{row.interest / 100:.2f}", f"{row.fees / 100:.2f}",
                f"{row.balance / 100:.2f}")])
    return buffer.getvalue().encode("utf-8")


def balance_plot_png(advice: Advice) -> bytes:
    """Total balance over time for each plan and the minimum trap, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    axes = figure.subplots()
    shown = list(advice.plans)
    if all(p.strategy != "minimum" for p in shown):
        shown.append(advice.trap)
    for result in shown:
        totals = result.total_balance_by_month()
        axes.plot(range(len(totals)), totals, label=result.strategy)
    axes.set_xlabel("month")
    axes.set_ylabel(f"total balance ({advice.debts.currency})")
    axes.set_title(advice.debts.name or Path(advice.debts.source).name)
    axes.grid(alpha=0.3)
    axes.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
