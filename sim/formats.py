"""How KPIs are written for a reader: money, rates in % (differences in points), intervals.

One home for the formats the command lines' tables and the management report
(:mod:`sim.report`) share.
"""

from __future__ import annotations

import math

TABLE_KPIS = (
    "recovery_rate", "collected", "cost", "net_recovery", "npv_collected", "cure_rate", "charge_off_rate",
    "written_off", "right_party_contact_rate", "promise_kept_rate", "complaints_per_1000", "agent_utilization",
    "inbound_service_level", "compliance_refusals",
)
MONEY = {"initial_balance", "collected", "outstanding", "written_off", "interest_and_fees", "cost",
         "net_recovery", "npv_collected"}
RATES = {"recovery_rate", "cure_rate", "charge_off_rate", "right_party_contact_rate", "promise_kept_rate",
         "agent_utilization", "inbound_service_level"}
SIGNIFICANT = "*"


def fmt_value(kpi: str, value: float, *, signed: bool = False) -> str:
    if not math.isfinite(value):
        return "n/a"
    sign = "+" if signed else ""
    if kpi in MONEY or kpi == "compliance_refusals":
        return f"{value:{sign},.0f}"
    if kpi in RATES:
        # A difference of two rates is in percentage points.
        return f"{100 * value:{sign}.2f} {'pp' if signed else '%'}"
    if kpi == "conservation_error":
        return f"{value:{sign}.1e}"
    return f"{value:{sign}.2f}"


def fmt_estimate(kpi: str, est, *, signed: bool = False, mark: bool = False) -> str:
    text = fmt_value(kpi, est.mean, signed=signed)
    if math.isfinite(est.ci_low):
        text += f" [{fmt_value(kpi, est.ci_low, signed=signed)}, {fmt_value(kpi, est.ci_high, signed=signed)}]"
    else:
        text += " [no CI]"
    if mark:
        text += f" {SIGNIFICANT}" if est.significant else "  "
    return text
