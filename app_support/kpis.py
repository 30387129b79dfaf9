"""How the app shows KPIs: their format, which way is better, and the comparison table.

Which way is "better" only colours the table (a significant difference that
helps is green, one that hurts is red); the statistics themselves come from
:mod:`sim.experiment`.
"""

from __future__ import annotations

import math

import pandas as pd

from sim.experiment import Comparison, Estimate
from sim.plots import KPI_TITLES

RATES = {"recovery_rate", "cure_rate", "charge_off_rate", "right_party_contact_rate", "promise_kept_rate",
         "agent_utilization", "inbound_service_level"}
HIGHER_IS_BETTER = {"collected", "recovery_rate", "cure_rate", "net_recovery", "npv_collected",
                    "right_party_contact_rate", "promise_kept_rate", "inbound_service_level"}
LOWER_IS_BETTER = {"outstanding", "written_off", "charge_off_rate", "cost", "complaints_per_1000",
                   "compliance_refusals"}
# What a manager reads first; the rest follow in the library's order.
HEADLINE = ("net_recovery", "collected", "recovery_rate", "cost", "complaints_per_1000", "cure_rate",
            "charge_off_rate", "agent_utilization", "right_party_contact_rate", "promise_kept_rate",
            "inbound_service_level", "npv_collected", "written_off", "outstanding", "interest_and_fees",
            "compliance_refusals", "initial_balance", "conservation_error")

GOOD = "background-color: #c8e6c9"
BAD = "background-color: #ffcdd2"
NEUTRAL = "background-color: #fff3c4"


def fmt(kpi: str, value: float, *, signed: bool = False) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    sign = "+" if signed else ""
    if kpi in RATES:
        return f"{100 * value:{sign},.1f} %"
    if kpi == "complaints_per_1000":
        return f"{value:{sign},.2f}"
    if kpi == "conservation_error":
        return f"{value:{sign}.2g}"
    return f"{value:{sign},.0f}"


def fmt_estimate(kpi: str, e: Estimate, *, signed: bool = False) -> str:
    text = fmt(kpi, e.mean, signed=signed)
    if math.isfinite(e.ci_low) and math.isfinite(e.ci_high):
        text += f" ({fmt(kpi, e.ci_low, signed=signed)} … {fmt(kpi, e.ci_high, signed=signed)})"
    return text


def verdict(kpi: str, e: Estimate) -> str:
    """'better', 'worse', 'different' (no preferred direction) or '' (not significant)."""
    if not e.significant:
        return ""
    if kpi in HIGHER_IS_BETTER:
        return "better" if e.mean > 0 else "worse"
    if kpi in LOWER_IS_BETTER:
        return "better" if e.mean < 0 else "worse"
    return "different"


def comparison_table(comparison: Comparison) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The KPI table (one row per KPI) and, cell by cell, each difference's verdict."""
    champion = comparison.champion
    rows, verdicts = [], []
    for kpi in HEADLINE:
        row = {"KPI": KPI_TITLES.get(kpi, kpi)}
        marks = {"KPI": ""}
        for summary in comparison.scenarios:
            row[summary.label] = fmt_estimate(kpi, summary.kpis[kpi])
            marks[summary.label] = ""
        for summary in comparison.scenarios[1:]:
            column = f"{summary.label} − {champion}"
            estimate = comparison.difference(summary.label, kpi).estimate
            row[column] = fmt_estimate(kpi, estimate, signed=True)
            marks[column] = verdict(kpi, estimate)
        rows.append(row)
        verdicts.append(marks)
    return pd.DataFrame(rows), pd.DataFrame(verdicts)


def styled(table: pd.DataFrame, verdicts: pd.DataFrame):
    colours = {"better": GOOD, "worse": BAD, "different": NEUTRAL, "": ""}
    return table.style.apply(lambda _: verdicts.replace(colours), axis=None)
