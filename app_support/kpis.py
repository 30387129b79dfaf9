"""How the app shows KPIs: their format, which way is better, and the comparison table.

Which way is "better" only colours the table (a significant difference that
helps is green, one that hurts is red); the statistics themselves come from
:mod:`sim.experiment`.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

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

MONEY = {"collected", "net_recovery", "npv_collected", "cost", "outstanding", "written_off", "interest_and_fees",
         "initial_balance", "conservation_error"}
# Units other than money and %; a difference of two rates is in percentage points.
UNITS = {"complaints_per_1000": "per 1,000 accounts", "compliance_refusals": "contacts refused"}

# A wide table scrolls sideways with its first column (the KPI's name) and its unit in view.
PINNED_KPI = {"KPI": st.column_config.TextColumn("KPI", pinned=True),
              "Unit": st.column_config.TextColumn("Unit", pinned=True, width="small")}

# An interval too wide to decide anything: net recovery's 95 % half-width above this share of its mean.
TOO_WIDE = 0.10

GOOD = "background-color: #c8e6c9"
BAD = "background-color: #ffcdd2"
NEUTRAL = "background-color: #fff3c4"


def title(kpi: str) -> str:
    """A KPI's name as a reader says it, capitalised for a header or a row ("Right-party contact rate")."""
    words = KPI_TITLES.get(kpi, kpi.replace("_", " "))
    return words[:1].upper() + words[1:]


def unit(kpi: str, currency: str, *, difference: bool = False) -> str:
    """What a KPI is counted in: the currency, % (pp for a difference of rates) or a count's own unit."""
    if kpi in MONEY:
        return currency
    if kpi in RATES:
        return "pp" if difference else "%"
    return UNITS.get(kpi, "")


def fmt(kpi: str, value: float, *, signed: bool = False, currency: str = "") -> str:
    """A KPI's value as shown; money carries ``currency`` when given, a signed rate is in pp."""
    if value is None or not math.isfinite(value):
        return "–"
    sign = "+" if signed else ""
    if kpi in RATES:
        return f"{100 * value:{sign},.1f} {'pp' if signed else '%'}"
    if kpi in MONEY and currency:
        return f"{value:{sign},.0f} {currency}"
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


def too_wide(e: Estimate) -> bool:
    """No interval (one replication), or a half-width above :data:`TOO_WIDE` of the mean's size."""
    if not (math.isfinite(e.ci_low) and math.isfinite(e.ci_high)):
        return True
    return (e.ci_high - e.ci_low) / 2 > TOO_WIDE * abs(e.mean)


def too_wide_warning(comparison: Comparison) -> str | None:
    """The warning for the strategies whose net-recovery interval is too wide to decide on, or None.

    The text holds the strategies' names: show it through :func:`~app_support.text.plain`.

    The rule: a strategy's 95 % interval of net recovery is too wide when its
    half-width exceeds 10 % of its mean (or there is no interval, with one
    replication). A difference smaller than that noise cannot be told apart.
    """
    wide = []
    for summary in comparison.scenarios:
        e = summary.kpis["net_recovery"]
        if too_wide(e):
            half = (e.ci_high - e.ci_low) / 2
            share = f" (± {half / abs(e.mean):.0%} of its mean)" if math.isfinite(half) and e.mean else ""
            wide.append(summary.label + share)
    if not wide:
        return None
    return (f"Too uncertain to decide anything: the net-recovery interval of {', '.join(wide)} is wider than "
            f"± {TOO_WIDE:.0%} of its mean over {comparison.reps:d} replications. Run more replications or "
            "more accounts before reading the differences.")


def comparison_table(comparison: Comparison, currency: str) -> pd.DataFrame:
    """The KPI table: one row per KPI with its unit, each strategy's mean (95 % interval)."""
    rows = []
    for kpi in HEADLINE:
        row = {"KPI": title(kpi), "Unit": unit(kpi, currency)}
        for summary in comparison.scenarios:
            row[summary.label] = fmt_estimate(kpi, summary.kpis[kpi])
        rows.append(row)
    return pd.DataFrame(rows)


def differences_table(comparison: Comparison, currency: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each challenger − champion (paired, 95 % interval) by KPI, and cell by cell each difference's verdict.

    Rates differ in percentage points (pp), not in %.
    """
    champion = comparison.champion
    rows, verdicts = [], []
    for kpi in HEADLINE:
        row = {"KPI": title(kpi), "Unit": unit(kpi, currency, difference=True)}
        marks = {"KPI": "", "Unit": ""}
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
