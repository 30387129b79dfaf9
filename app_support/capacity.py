"""The Capacity page's tables: an allocation plan, its check by simulation and the inbound line, in titles and units.

Every number is the optimizer's (:mod:`optimizer.allocation`,
:mod:`optimizer.staffing`); here it gets a title, a unit and a format, so no
table shows a raw name, a float in scientific notation or "None".
"""

from __future__ import annotations

import math

import pandas as pd

from sim.domain import MINUTES_PER_HOUR

from .common import number

# The plan's predictions against the scenario's own ladder: (title, key in the summary, unit kind).
PREDICTED = (("Collections", "collected", "money"), ("Variable spend", "variable_spend", "money"),
             ("Cost to collect one unit of currency", "cost_to_collect_a_dollar", "ratio"),
             ("1-30 accounts reaching 31 days past due", "roll_1_30_past_30", "share"),
             ("Written off", "written_off", "money"),
             ("Value of the book at the horizon", "horizon_value", "money"))


def _predicted(value, kind: str) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    if kind == "share":
        return f"{100 * value:.1f} %"
    if kind == "ratio":
        return f"{value:.3f}"
    return number(value)


def by_bucket(plan) -> pd.DataFrame:
    rows = []
    for bucket, row in plan.summary["by_bucket"].items():
        rows.append({
            "Days past due": bucket, "Accounts": row["accounts"], "Uncontacted accounts": row["uncontacted"],
            "Treatments (accounts)": ", ".join(f"{name} {n:,}" for name, n in row["treatments"].items()) or "–",
            "Contacts per account a month": ", ".join(
                f"{channel.replace('_', ' ')} {v:g}" for channel, v in row["contacts_per_account_per_month"].items())
            or "none"})
    return pd.DataFrame(rows)


def predictions(plan, currency: str) -> pd.DataFrame:
    mine, own = plan.summary["plan"], plan.summary["own_ladder"]
    units = {"money": currency, "ratio": f"{currency} spent per {currency} collected", "share": "%"}
    return pd.DataFrame([{"Predicted": label, "Unit": units[kind], "Plan": _predicted(mine.get(key), kind),
                          f"Ladder {own['name']}": _predicted(own.get(key), kind)}
                         for label, key, kind in PREDICTED])


def allocation(plan) -> pd.DataFrame:
    """Accounts by segment (rows) and treatment (columns), with the segment first and its unit pinned."""
    table = pd.DataFrame(plan.allocation())
    if table.empty:
        return pd.DataFrame(columns=["Segment", "Unit"])
    pivot = table.pivot_table(index="segment", columns="treatment", values="accounts", aggfunc="sum",
                              fill_value=0, sort=False)
    pivot.columns = [str(c) for c in pivot.columns]
    pivot.insert(0, "Unit", "accounts")
    return pivot.reset_index().rename(columns={"segment": "Segment"})


def capacity(plan, currency: str) -> pd.DataFrame:
    prices = plan.shadow_prices()
    rows = []
    for (team, week), available in plan.capacity.items():
        filings = plan.units.get(team) == "filings"
        scale = 1.0 if filings else 1 / MINUTES_PER_HOUR
        rows.append({"Team": team, "Week": week, "Unit": "filings" if filings else "agent hours",
                     "Available": round(available * scale, 1),
                     "Used": round(plan.capacity_used.get((team, week), 0.0) * scale, 1),
                     f"Shadow price ({currency} per unit)": round(prices[f"{team}/{week}"], 2)})
    return pd.DataFrame(rows)


def agents_curve(curve: list[tuple[float, float | None]], currency: str) -> pd.DataFrame:
    """The optimal objective by the team's size in full-time agents (a part-timer counts by its share)."""
    return pd.DataFrame([{"Agents": agents,
                          f"Optimal objective ({currency})": "infeasible" if value is None else number(value)}
                         for agents, value in curve])


def verification(result, optimised: str, currency: str) -> pd.DataFrame:
    rows = []
    for label in result.labels:
        runs = result.net_recovery[label]
        row = {"Strategy": label, f"Simulated net recovery ({currency})": number(sum(runs) / len(runs)),
               f"Value model's net recovery ({currency})": number(result.predicted[label])}
        if label == optimised:
            row[f"Plan − this ({currency}, 95 % interval)"] = "the plan itself"
        else:
            d = result.difference(optimised, label)
            row[f"Plan − this ({currency}, 95 % interval)"] = (
                f"{d['mean']:+,.0f} ({d['low']:+,.0f} … {d['high']:+,.0f})" if result.reps > 1
                else f"{d['mean']:+,.0f}")
        rows.append(row)
    return pd.DataFrame(rows)


def staffing_hours(needs) -> pd.DataFrame:
    return pd.DataFrame([{
        "Hour": h, "Calls per hour": r.metrics.arrival_rate, "Agents on the phones": r.agents,
        "Agents rostered": r.rostered, "Service level (%)": round(100 * r.metrics.service_level, 1),
        "Mean wait (seconds)": round(r.metrics.mean_wait, 1), "Abandon (%)": round(100 * r.metrics.p_abandon, 1),
        "Occupancy (%)": round(100 * r.metrics.occupancy),
    } for h, r in needs.items()])
