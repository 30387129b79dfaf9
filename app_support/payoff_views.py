"""The Debt payoff page's answers, tables and charts: plans side by side, options, a date's budget, a budget drop.

Tables carry titles and formatted money (the debt file's currency), and a
figure that covers only part of a plan says so: a plan that never pays off
is booked until it stalls, so its interest is "the first N months", not a
total; an LP with no solution is "infeasible", never "$0.00". Charts are
Vega-Lite specs with money on the axis written out (no "1e6").
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import streamlit as st

from optimizer.payoff.answers import verdict
from optimizer.payoff.client_plan import plan_html
from optimizer.payoff.model import DebtFile
from optimizer.payoff.options import OptionsComparison, compare_options
from optimizer.payoff.stress import parse_stress, stress_plans
from optimizer.payoff.target import TARGET_STRATEGIES, budgets_for_date
from sim.errors import InputError

from .common import money
from .text import plain

HEURISTIC = ("avalanche", "snowball", "custom", "minimum", "snowball_rerank")


def debt_free_text(plan, debts: DebtFile) -> str:
    """When the plan ends: a month, "never", or "infeasible" for an LP with no solution."""
    if plan.status == "infeasible":
        return "infeasible"
    if plan.pays_off:
        return debts.calendar_month(plan.months) or f"month {plan.months}"
    return "never"


def covers(plan) -> str:
    """What the plan's totals cover: the whole plan, the months booked before it stalled, or nothing."""
    if plan.status == "infeasible":
        return "no plan: " + (plan.message or "the budget does not meet every minimum")
    if plan.pays_off:
        return "the whole plan"
    return f"the first {plan.months_simulated} months only (the plan never ends)"


def comparison_frame(advice) -> pd.DataFrame:
    """One row per plan, with titles; money as text in the file's currency, '–' where there is no figure."""
    debts, currency = advice.debts, advice.debts.currency
    rows = []
    for plan, row in zip(advice.plans, advice.comparison(), strict=True):
        none = plan.status == "infeasible"
        rows.append({
            "Strategy": plan.strategy,
            "Debt-free": debt_free_text(plan, debts),
            "Months": plan.months if plan.pays_off else None,
            "Interest": "–" if none else money(row["total_interest"], currency),
            "Fees": "–" if none else money(row["total_fees"], currency),
            "Paid in all": "–" if none else money(row["total_paid"], currency),
            "Interest saved against minimums only": "–" if none or row["interest_saved_vs_minimum"] is None
            else money(row["interest_saved_vs_minimum"], currency),
            "Figures cover": covers(plan),
        })
    return pd.DataFrame(rows)


def _line_spec(y_title: str, last_month: int | None) -> dict[str, Any]:
    x: dict[str, Any] = {"field": "Month", "type": "quantitative", "axis": {"format": "d", "title": "month"}}
    if last_month is not None:
        x["scale"] = {"domain": [0, last_month]}
    return {
        "mark": {"type": "line", "clip": True},
        "encoding": {
            "x": x,
            "y": {"field": "Balance", "type": "quantitative", "axis": {"format": ",.0f", "title": y_title}},
            "color": {"field": "Plan", "type": "nominal", "title": None},
        },
    }


def balances_chart(advice) -> None:
    """Total balance after each month's payment, every plan (and the minimum trap) on one chart."""
    shown = [p for p in advice.plans if p.schedule]
    if all(p.strategy != "minimum" for p in shown) and advice.trap.schedule:
        shown.append(advice.trap)
    records = [{"Plan": p.strategy, "Month": m, "Balance": b}
               for p in shown for m, b in enumerate(p.total_balance_by_month())]
    if not records:
        return
    # The minimum-payment plan can run for decades and squeeze every other line against the axis:
    # the chart stops at half again the longest other plan, and says where the minimum plan ends.
    others = [p.months_simulated for p in shown if p.strategy != "minimum"]
    trap = max((p.months_simulated for p in shown if p.strategy == "minimum"), default=0)
    last = round(max(others) * 1.5) if others and trap > 2 * max(others) else None
    st.vega_lite_chart(pd.DataFrame(records), _line_spec(f"total balance ({advice.debts.currency})", last),
                       width="stretch")
    if last is not None:
        st.caption(plain(f"Paying only the minimums runs on past the chart's edge, to month {trap}."))


@st.cache_data(show_spinner=False, max_entries=16)
def client_answers(debts_json: str, source: str, budget: float | None, strategies: tuple[str, ...],
                   target: str, stress: str, options: bool) -> dict[str, Any]:
    """The target date's budgets, the options compared and the budget drop, each or its one-line error."""
    debts = DebtFile.from_dict(json.loads(debts_json), source=source)
    if budget is not None:
        debts = debts.with_budget(budget)
    out: dict[str, Any] = {"errors": []}
    heuristic = next((s for s in strategies if s in HEURISTIC), "avalanche")
    if target.strip():
        try:
            asked = [s for s in strategies if s in TARGET_STRATEGIES] or ["all"]
            out["target"] = budgets_for_date(debts, target.strip(), asked)
        except InputError as err:
            out["errors"].append(str(err))
    if options and debts.options:
        try:
            out["options"] = compare_options(debts, heuristic)
        except InputError as err:
            out["errors"].append(str(err))
    if stress.strip():
        try:
            parsed = parse_stress(stress.strip(), debts)
            out["stress"] = (parsed, stress_plans(debts, parsed, [s for s in strategies if s in HEURISTIC]))
        except InputError as err:
            out["errors"].append(str(err))
    return out


def target_frame(answer, currency: str) -> pd.DataFrame:
    return pd.DataFrame([{
        "Strategy": b.strategy,
        "Least monthly budget": money(b.budget, currency) if b.budget is not None else "no budget gets there",
        "Months": b.plan.months if b.plan else None,
        "Interest": money(b.plan.total_interest, currency) if b.plan else "–",
    } for b in answer.budgets])


def options_frame(comparison: OptionsComparison, debts: DebtFile) -> pd.DataFrame:
    currency = debts.currency
    rows = []
    for o in comparison.rows():
        d = o.as_dict()
        rows.append({
            "Option": o.name,
            "Against today": verdict(comparison, o, debts) or "–",
            "Months": d["months"] if d["months"] is not None else o.plan.status,
            "Interest": money(d["total_interest"], currency),
            "Fees": money(d["total_fees"], currency),
            "Paid in all": money(d["total_paid"], currency),
            "First month's payment": money(d["monthly_payment"], currency),
            "APR (IRR)": "–" if d["apr_nominal"] is None else f"{d['apr_nominal']:.2%}",
            "Effective a year": "–" if d["apr_effective"] is None else f"{d['apr_effective']:.2%}",
        })
    return pd.DataFrame(rows)


def options_chart(comparison: OptionsComparison, currency: str) -> None:
    """Interest and fees of each option next to today's, as stacked bars."""
    records = []
    for o in comparison.rows():
        d = o.as_dict()
        records += [{"Option": o.name, "Cost": "interest", "Amount": d["total_interest"]},
                    {"Option": o.name, "Cost": "fees", "Amount": d["total_fees"]}]
    spec = {
        "mark": "bar",
        "encoding": {
            "y": {"field": "Option", "type": "nominal", "sort": None, "title": None, "axis": {"labelLimit": 320}},
            "x": {"field": "Amount", "type": "quantitative", "stack": "zero",
                  "axis": {"format": ",.0f", "title": f"interest and fees ({currency})"}},
            "color": {"field": "Cost", "type": "nominal", "title": None},
        },
    }
    st.vega_lite_chart(pd.DataFrame(records), spec, width="stretch")


def stress_frame(stress_outcomes, debts: DebtFile) -> pd.DataFrame:
    currency = debts.currency
    rows = []
    for o in stress_outcomes:
        d = o.as_dict(debts)
        rows.append({
            "Strategy": o.strategy,
            "Debt-free": d["debt_free"] or "never",
            "Planned": debts.calendar_month(o.planned.months) if o.planned.months else "never",
            "Months short": len(d["shortfall_months"]),
            "Late fees": money(d["late_fees"], currency),
            "Extra interest + fees": money(d["extra_cost"], currency),
            "Budget: every minimum": money(d["budget_to_meet_minimums"], currency),
            "Budget: keep the date": money(d["budget_to_stay_on_track"], currency),
        })
    return pd.DataFrame(rows)


def payments_frame(plan, debts: DebtFile) -> pd.DataFrame:
    """Each month's payment on each debt as money; a debt already paid off says so, not "None"."""
    names = [d.name for d in debts.debts]
    by_month: dict[int, dict[str, str]] = {}
    for row in plan.schedule:
        by_month.setdefault(row.month, {})[row.debt] = money(row.payment / 100, debts.currency)
    rows = []
    for month in sorted(by_month):
        label = debts.calendar_month(month) or str(month)
        rows.append({"Month": label, **{n: by_month[month].get(n, "paid off" if plan.payoff_months.get(n, month + 1)
                                                                <= month else "–") for n in names}})
    return pd.DataFrame(rows)


def printable_plan(advice, strategy: str, answers: dict[str, Any]) -> str:
    """The client's HTML page for one of the plans, with whatever else was asked."""
    plan = next(p for p in advice.plans if p.strategy == strategy)
    debts = advice.debts
    options = answers.get("options")
    if options is None and debts.options:
        options = compare_options(debts, strategy if strategy in HEURISTIC else "avalanche")
    return plan_html(debts, plan, options=options, target=answers.get("target"), stress=answers.get("stress"))
