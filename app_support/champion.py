"""The Compare page's champion/challenger tools: the test-size calculator and the one-book readout.

Every figure comes from the library: the calculator calls
:func:`sim.power.rate_test_size` (no second copy of the formula), and the
one-book mode runs :func:`sim.simulate` on a ``[[strategies]]`` scenario and
shows its ``kpis_by_strategy`` and ``strategy_tests`` with the formats of
:mod:`sim.arms`' own readout.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from sim import arms as arms_readout
from sim import power
from sim.errors import ScenarioError

from .common import (
    DEFAULT_DAYS,
    UPLOAD_LIMIT_MB,
    scenario_from_text,
    shipped_scenario_text,
    shipped_scenarios,
    uploaded_scenario,
)
from .state import recall, remember, settings_line, show_settings, stale_banner
from .text import error_text, plain

KPI_LABELS = {"cure_rate": "cure rate", "charge_off_rate": "charge-off rate"}
FIND_ACCOUNTS = "Accounts for a lift"
FIND_LIFT = "Lift the accounts can detect"
CC_DEFAULT = "champion_challenger"
CC_ACCOUNTS = 2000
BOOKS = "Whole books, one strategy each"
ONE_BOOK = "One book, champion/challenger"
MODE_PARAM = "compare_mode"  # in the address while the one-book mode is on, so a reload comes back to it
# The one-book inputs a reload puts back (an upload cannot be put back: its result then shows as stale).
CC_REMEMBERED = ("cc_scenario", "cc_accounts", "cc_days", "cc_seed")


# ----------------------------------------------------------------------------- test-size calculator


def _calculator_inputs() -> dict:
    c1, c2, c3 = st.columns(3)
    kpi = c1.selectbox("KPI", list(KPI_LABELS), format_func=KPI_LABELS.get, key="power_kpi")
    base = c2.number_input("Champion's rate now", 0.001, 0.999, 0.30, step=0.01, format="%.3f", key="power_base")
    ask = c3.radio("Find", [FIND_ACCOUNTS, FIND_LIFT], key="power_find")
    c4, c5, c6, c7 = st.columns(4)
    share = c4.number_input("Challenger's share of the book", 0.01, 0.99, 0.5, step=0.05, key="power_share")
    alpha = c5.number_input("Significance (α, two-sided)", 0.001, 0.5, 0.05, step=0.01, format="%.3f",
                            key="power_alpha")
    chance = c6.number_input("Power (chance to detect)", 0.5, 0.999, 0.8, step=0.05, format="%.3f",
                             key="power_power")
    inflow = c7.number_input("Accounts entering a month (0: not asked)", 0, 10_000_000, 0, step=1000,
                             key="power_inflow")
    inputs = {"kpi": kpi, "base": float(base), "share": float(share), "alpha": float(alpha),
              "power": float(chance), "inflow": float(inflow) if inflow else None}
    if ask == FIND_ACCOUNTS:
        inputs["lift"] = st.number_input("Lift to detect (percentage points, + or −)", -50.0, 50.0, 2.0,
                                         step=0.5, key="power_lift") / 100.0
    else:
        inputs["accounts"] = int(st.number_input("Accounts in the test (both arms)", 2, 100_000_000, 10_000,
                                                 step=1000, key="power_accounts"))
    return inputs


def _pp(value: float | None, signed: bool = True) -> str:
    if value is None or not math.isfinite(value):
        return "none at this power"
    return f"{100 * value:{'+' if signed else ''}.2f} pp"


def _show_size(size: power.TestSize) -> None:
    cols = st.columns(4)
    cols[0].metric("Champion accounts", f"{size.accounts_champion:,}")
    cols[1].metric("Challenger accounts", f"{size.accounts_challenger:,}")
    cols[2].metric("Total accounts", f"{size.accounts_total:,}")
    cols[3].metric("Months of inflow", "–" if size.months is None else f"{size.months:,}")
    if size.lift is None:
        d1, d2 = st.columns(2)
        d1.metric("Detectable lift", _pp(size.detectable_lift))
        d2.metric("Detectable fall", _pp(None if size.detectable_drop is None else -size.detectable_drop))
    st.caption(plain(f"Method: {size.method}. Assumes {size.assumption}."))


def size_calculator() -> None:
    """Inputs and answer of ``python -m sim power`` for a rate KPI."""
    inputs = _calculator_inputs()
    try:
        size = power.rate_test_size(**inputs)
    except ScenarioError as err:
        st.error(error_text(err))
        return
    _show_size(size)


# ----------------------------------------------------------------------------- one book, champion/challenger


# The unit of each readout row (by its key in sim.arms.READOUT_ROWS); "{currency}" is the scenario's.
READOUT_UNITS = {"share": "%", "accounts": "accounts", "reentered": "accounts", "recovery_rate": "%", "cure_rate": "%",
                 "charge_off_rate": "%", "roll_past_30_rate": "%",
                 "cash_per_account": "{currency} per account", "cost_per_account": "{currency} per account",
                 "complaints_per_1000": "per 1,000 accounts",
                 "right_party_contacts_per_account": "contacts per account", "agent_minutes": "minutes",
                 "agent_time_share": "%"}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def readout_table(result, currency: str = "USD") -> pd.DataFrame:
    """One row per KPI with its unit, one column per strategy (the champion marked), as ``run``'s readout."""
    names = result.arms.names
    heads = [name + (" (champion)" if k == result.arms.champion else "") for k, name in enumerate(names)]
    rows = []
    for label, key, show in arms_readout.READOUT_ROWS:
        row = {"KPI": _capital(label), "Unit": READOUT_UNITS.get(key, "").format(currency=currency)}
        row.update({head: show(result.kpis_by_strategy[name][key]) for head, name in zip(heads, names, strict=True)})
        rows.append(row)
    return pd.DataFrame(rows)


def _interval(test: dict, scale: float, unit: str) -> tuple[str, str, str]:
    if not math.isfinite(test["difference"]):
        return "–", "–", "–"
    return (f"{scale * test['difference']:+,.2f}{unit}",
            f"{scale * test['ci_low']:+,.2f} … {scale * test['ci_high']:+,.2f}{unit}",
            f"{test['p_value']:.3g}")


def tests_table(result, currency: str = "USD") -> pd.DataFrame:
    """Each challenger − champion on the run's accounts: difference, 95 % interval, p-value (rates in pp)."""
    rows = []
    for name, tests in result.strategy_tests.items():
        for label, key, scale, unit in arms_readout.TEST_ROWS:
            unit = " pp" if unit.strip() == "pts" else unit
            difference, interval, p_value = _interval(tests[key], scale, unit)
            rows.append({"Challenger": name, "KPI": _capital(label),
                         "Unit": unit.strip() or f"{currency} per account", "Difference": difference,
                         f"{100 * arms_readout.CONFIDENCE:.0f} % interval": interval, "p-value": p_value})
    return pd.DataFrame(rows)


def _cc_source() -> tuple[str, str] | None:
    """The chosen scenario as (source, toml text) at the page's sizes, or None after showing why not."""
    shipped = list(shipped_scenarios())
    left, right = st.columns([3, 2])
    stem = left.selectbox("Shipped scenario", shipped, key="cc_scenario",
                          index=shipped.index(CC_DEFAULT) if CC_DEFAULT in shipped else 0)
    upload = right.file_uploader("Or upload one (TOML)", type=["toml"], max_upload_size=UPLOAD_LIMIT_MB,
                                 key="cc_upload")
    c1, c2, c3 = st.columns(3)
    accounts = c1.number_input("Accounts", 100, 200_000, CC_ACCOUNTS, step=500, key="cc_accounts")
    days = c2.number_input("Days", 7, 730, DEFAULT_DAYS, step=30, key="cc_days")
    st.session_state["cc_seed_value"] = int(c3.number_input("Seed", 0, 2**31 - 1, 42, key="cc_seed"))
    sizes = {"simulation.accounts": int(accounts), "simulation.days": int(days)}
    try:
        if upload is not None:
            scenario, _ = uploaded_scenario(upload.name, upload.getvalue())
            return upload.name, scenario.with_overrides(sizes).to_toml()
        return f"{stem}.toml", shipped_scenario_text(stem, sizes)
    except ScenarioError as err:
        st.error(error_text(err))
        return None


def _show_readout(result, source: str, currency: str) -> None:
    champion = result.arms.names[result.arms.champion]
    st.subheader("By strategy")
    st.dataframe(readout_table(result, currency), hide_index=True, key="cc_kpis")
    st.caption(f"One run of {plain(source)}: one book, the teams shared, the call list in the champion's "
               f"({plain(champion)}) priority.")
    st.subheader("Each challenger against the champion, on this run's accounts")
    st.dataframe(tests_table(result, currency), hide_index=True, key="cc_tests")
    st.caption("Two-proportion z test for rates (differences in percentage points, no continuity correction), "
               "Welch's t for cash per account; two-sided p-values.")


def one_book_mode() -> bool:
    """Compare's mode radio, kept in the page's address: True for the one-book (champion/challenger) mode."""
    if "compare_mode" not in st.session_state and st.query_params.get(MODE_PARAM) == "one_book":
        st.session_state["compare_mode"] = ONE_BOOK  # a reload: the address says which mode was on
    one_book = st.radio("Mode", [BOOKS, ONE_BOOK], horizontal=True, key="compare_mode") == ONE_BOOK
    if one_book:
        st.query_params[MODE_PARAM] = "one_book"
    elif MODE_PARAM in st.query_params:
        del st.query_params[MODE_PARAM]
    return one_book


def champion_challenger() -> None:
    """Run a ``[[strategies]]`` scenario once and show its readout by strategy and its within-run tests."""
    from .runs import champion_run

    request = recall("cc")  # before the widgets: a reload puts the run's inputs back
    chosen = _cc_source()
    if chosen is None:
        return
    source, text = chosen
    scenario = scenario_from_text(text, source)
    if scenario.strategies is None:
        st.info(f"{plain(source)} has one strategy: there is no challenger to test. Choose a scenario with "
                "several [[strategies]] (champion_challenger.toml is one), or compare whole books above.")
        return
    if st.button("Run the book", type="primary", key="cc_run"):
        request = (source, text, st.session_state["cc_seed_value"])
        remember("cc", request, {key: st.session_state[key] for key in CC_REMEMBERED if key in st.session_state})
    if request is None:
        st.info("Choose a champion/challenger scenario and sizes, then run the book.")
        return
    try:
        result = champion_run(*request)
    except ScenarioError as err:
        st.error(error_text(err))
        return
    stale_banner(request, (source, text, st.session_state["cc_seed_value"]), "Run the book")
    show_settings(settings_line([scenario], seed=request[2]))
    _show_readout(result, source, scenario.currency)
