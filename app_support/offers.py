"""The Lab's table of settlement and hardship offers: one run's ``kpis["offers"]``, as ``python -m sim run`` prints it.

A run has ``kpis["offers"]`` only when a ladder step makes offers
(``channel = "settlement_offer"`` or ``"hardship_plan"``). The rows, their
order and their meaning are :mod:`sim.report_offers`' (the command line's and
the report's); here each row gets a title and a unit, and each kind of offer a
column, so the table reads like the page's other tables.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from sim.report_offers import ROWS, TITLES

NOTE = ("NPV against charge-off: what the accepted accounts paid after accepting, discounted, minus what their "
        "balances would bring charged off and sold (objective.written_off_value). Acceptance and keeping rates are "
        "assumptions (scenarios/README.md, section Offers).")


def _unit(how: str, currency: str) -> str:
    if how == "money":
        return currency
    if how == "pct":
        return "% of offers made"
    return "offers"


def _cell(value: Any, how: str) -> str:
    value = math.nan if value is None else float(value)
    if not math.isfinite(value):
        return "n/a"
    if how == "pct":
        return f"{100 * value:.1f} %"
    if how == "count":
        return f"{value:,.0f}"
    return f"{value:,.2f}"


def offers_table(offers: dict[str, dict[str, float]], cost_by_item: dict[str, float], currency: str) -> pd.DataFrame:
    """One row per offer KPI with its unit, one column per kind of offer the ladder made."""
    heads = {kind: TITLES.get(kind, kind).capitalize() for kind in offers}
    rows = []
    for label, key, how in ROWS:
        row = {"KPI": label[:1].upper() + label[1:], "Unit": _unit(how, currency)}
        for kind, head in heads.items():
            row[head] = _cell({**offers[kind], "cost": cost_by_item.get(kind, 0.0)}.get(key), how)
        rows.append(row)
    if "hardship_plan" in offers:
        row = {"KPI": "Hardship plans re-aged", "Unit": "accounts"}
        row.update({head: (_cell(offers[kind].get("reaged", 0), "count") if kind == "hardship_plan" else "–")
                    for kind, head in heads.items()})
        rows.append(row)
    return pd.DataFrame(rows)
