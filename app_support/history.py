"""The History page's tables: stored experiments as a reader sees them, and a stored comparison as Compare's request.

The store (:mod:`sim.store`) keeps raw names (``run_id``, ``seed_spawn_key``,
``net_recovery``); here they become titles with units, and the ids a reader
never needs are left out. A comparison reopens in Compare from what the store
kept of it: each scenario's content, the replications and the root seed.
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import streamlit as st

from sim.arms_compare import COMPARED_KPIS, PERCENT, TITLES
from sim.errors import ScenarioError
from sim.experiment import CONFIDENCE, estimate
from sim.scenario import PRESET_CURRENCY, Scenario

from .common import SCENARIO_DIR, scenario_from_text, shipped_scenario_text, shipped_scenarios
from .kpis import HEADLINE, fmt, title, unit


def _currency(content: dict[str, Any]) -> str:
    simulation = content.get("simulation", {})
    preset = content.get("compliance", {}).get("preset", "us_reg_f")
    return simulation.get("currency") or PRESET_CURRENCY.get(preset, "USD")


# The strategy table's KPI and Unit columns pinned, the units wide enough to read ("USD per account").
STRATEGY_COLUMNS = {"KPI": st.column_config.TextColumn("KPI", pinned=True),
                    "Unit": st.column_config.TextColumn("Unit", pinned=True, width="medium")}
# The units of the KPIs by strategy (sim.arms_compare.COMPARED_KPIS), as the one-book readout on Compare says them.
STRATEGY_UNITS = {"recovery_rate": "%", "cure_rate": "%", "charge_off_rate": "%", "roll_past_30_rate": "%", "cash_per_account": "{currency} per account",
                  "cost_per_account": "{currency} per account", "complaints_per_1000": "per 1,000 accounts",
                  "right_party_contacts_per_account": "contacts per account", "agent_time_share": "%"}


def experiment_rows(experiments: list[dict]) -> list[dict]:
    return [{"Experiment": e["id"], "Name": e.get("label") or "", "Kind": e["kind"], "Status": e["status"], "Scenarios": ", ".join(e["scenarios"]),
             "Replications": e["reps"], "Runs stored": f"{e['runs']} of {e['runs_expected']}",
             "Updated": e["updated_at"], "Code version": e["code_version"]} for e in experiments]


def provenance(experiment: dict, details: dict) -> tuple[str, str]:
    """The "Computed from" line of a stored experiment and the currency of its amounts."""
    scenarios = details["scenarios"]
    currencies = {_currency(s["content"]) for s in scenarios} or {"USD"}
    currency = sorted(currencies)[0]
    accounts = max((s["accounts"] or 0 for s in scenarios), default=0)
    days = max((s["days"] or 0 for s in scenarios), default=0)
    seed = experiment.get("seed", {})
    seed_text = (f"seed {seed['entropy']}" if isinstance(seed.get("entropy"), int) and not seed.get("spawn_key")
                 else f"seed {seed}")
    names = ", ".join(f"{s['label']} ({_currency(s['content'])}, hash {s['scenario_hash']})" for s in scenarios)
    reps = experiment["reps"]
    line = (f"{accounts:,} accounts × {days:,} days × {reps:d} replication{'s' if reps != 1 else ''} × "
            f"{seed_text} · {names} · {experiment['kind']} {experiment['id']}, code {experiment['code_version']}")
    return line, currency


def _interval(kpi: str, estimate: dict) -> str:
    """``mean (low … high)`` from a stored estimate; ``–`` where there is none."""
    mean, low, high = (estimate.get(k) for k in ("mean", "ci_low", "ci_high"))
    text = fmt(kpi, mean) if mean is not None else "–"
    if low is not None and high is not None:
        text += f" ({fmt(kpi, low)} … {fmt(kpi, high)})"
    return text


def kpi_rows(summary: dict, currency: str, *, single: bool = False) -> list[dict]:
    """One row per KPI with its unit; a column per scenario (mean and interval, or the single run's value)."""
    rows = []
    for kpi in HEADLINE:
        row = {"KPI": title(kpi), "Unit": unit(kpi, currency)}
        for scenario in summary["scenarios"]:
            value = scenario["kpis"].get(kpi)
            row[scenario["name"]] = fmt(kpi, value) if single else _interval(kpi, value or {})
        rows.append(row)
    return rows


def significant_rows(summary: dict, currency: str) -> list[dict]:
    return [{"Challenger": d["challenger"], "Champion": d["champion"], "KPI": title(d["kpi"]),
             "Unit": unit(d["kpi"], currency, difference=True),
             "Difference": fmt(d["kpi"], d["mean"], signed=True),
             "95 % interval": f"{fmt(d['kpi'], d['ci_low'], signed=True)} … {fmt(d['kpi'], d['ci_high'], signed=True)}"}
            for d in summary["differences"] if d["significant"]]


def _strategy_cell(kpi: str, values) -> str:
    """``mean (low … high)`` over the replications, as the page's other intervals read; rates in %."""
    est = estimate(values, CONFIDENCE)

    def show(v: float) -> str:
        if not math.isfinite(v):
            return "n/a"
        return f"{100 * v:.2f} %" if kpi in PERCENT else f"{v:,.2f}"

    text = show(est.mean)
    if math.isfinite(est.ci_low) and math.isfinite(est.ci_high):
        text += f" ({show(est.ci_low)} … {show(est.ci_high)})"
    return text


def strategy_table(frame: pd.DataFrame, currency: str) -> pd.DataFrame:
    """A champion/challenger experiment's KPIs by strategy: one row per KPI with its unit, one column per
    strategy (the champion marked), each the mean over replications and its 95 % interval (empty if none).

    ``frame`` is :meth:`sim.store.ResultStore.experiment_strategy_kpis`: one row per replication and strategy.
    """
    if frame.empty:
        return pd.DataFrame()
    first = frame[frame["scenario_index"] == frame["scenario_index"].min()]
    strategies = first.drop_duplicates("strategy_index").sort_values("strategy_index")
    heads = {name: name + (" (champion)" if champion else "")
             for name, champion in zip(strategies["strategy"], strategies["champion"], strict=True)}
    rows = []
    for kpi in COMPARED_KPIS:
        if kpi not in first.columns:
            continue
        row = {"KPI": TITLES[kpi][:1].upper() + TITLES[kpi][1:], "Unit": STRATEGY_UNITS[kpi].format(currency=currency)}
        for name, head in heads.items():
            values = first.loc[first["strategy"] == name, kpi].astype(float).to_numpy()
            row[head] = _strategy_cell(kpi, values)
        rows.append(row)
    return pd.DataFrame(rows)


def replication_table(per_run: pd.DataFrame, currency: str) -> pd.DataFrame:
    """Every stored replication: strategy, replication, size and each KPI as shown elsewhere (units in the header)."""
    if per_run.empty:
        return pd.DataFrame(columns=["Strategy", "Replication"])
    out = pd.DataFrame({"Strategy": per_run["label"], "Replication": per_run["rep"] + 1,
                        "Accounts": per_run["accounts"], "Days": per_run["days"]})
    for kpi in HEADLINE:
        if kpi in per_run.columns:
            shown = unit(kpi, currency)
            out[f"{title(kpi)} ({shown})" if shown else title(kpi)] = [fmt(kpi, v) for v in per_run[kpi]]
    return out


def compare_request(experiment: dict, details: dict, store_path: str) -> tuple[dict, dict]:
    """Compare's request (and its widget values) that gives back a stored comparison, read from the store.

    Raises :class:`~sim.errors.ScenarioError` where the experiment cannot be
    rebuilt: not a comparison, a seed that is not a plain number, a scenario
    whose content the store does not have or that no longer validates.
    """
    where = f"experiment {experiment['id']}"
    if experiment["kind"] != "compare":
        raise ScenarioError(where, "kind", f"a {experiment['kind']}, not a comparison")
    seed = experiment.get("seed", {})
    if not isinstance(seed.get("entropy"), int) or seed.get("spawn_key"):
        raise ScenarioError(where, "seed", "not a plain number the Compare page can take")
    first = Scenario.from_dict(details["scenarios"][0]["content"] or {}, base_dir=str(SCENARIO_DIR))
    sizes = {"simulation.accounts": first.simulation.accounts, "simulation.days": first.simulation.days}
    shipped = shipped_scenarios()
    scenarios, stems = [], []
    for stored in details["scenarios"]:
        if not stored["content"]:
            raise ScenarioError(where, stored["label"], "the store has no content for this scenario")
        source = f"{stored['label']}.toml"
        scenario = Scenario.from_dict(stored["content"], source=source, base_dir=str(SCENARIO_DIR))
        text = scenario.to_toml()
        # A shipped scenario unchanged but for the sizes is ticked again in Compare, with the very text
        # Compare builds from it (the store keeps the content with its keys sorted).
        if stored["label"] in shipped:
            own = shipped_scenario_text(stored["label"], sizes)
            if scenario_from_text(own, source).content_hash == scenario.content_hash:
                text = own
                stems.append(stored["label"])
        scenarios.append((source, text))
    request = {"scenarios": tuple(scenarios), "reps": int(experiment["reps"]), "seed": int(seed["entropy"]),
               "workers": 1, "store": store_path}
    widgets = {"compare_reps": min(request["reps"], 50), "compare_seed": request["seed"], "compare_store": True,
               "compare_days": min(max(first.simulation.days, 7), 730),
               "compare_accounts": min(max(first.simulation.accounts, 100), 200_000),
               "compare_scenarios": stems if len(stems) == len(scenarios) else []}
    return request, widgets


def partial_note(experiment: dict) -> str | None:
    """What to say over an experiment whose runs are not all stored (running, or interrupted), else None."""
    if experiment["runs"] >= experiment["runs_expected"]:
        return None
    state = {"running": "still running", "interrupted": "interrupted"}.get(experiment["status"],
                                                                            experiment["status"])
    return (f"Partial: {experiment['runs']} of {experiment['runs_expected']} runs stored ({state}). The tables "
            "below cover only the stored runs; reload the page to see runs stored since.")
