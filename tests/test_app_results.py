"""Results the app shows beyond the headline KPIs: the Lab's offers table, and Compare's one-book mode kept
across a reload.

Driven headless with AppTest at tiny sizes, like ``tests/test_app.py``; each
figure shown is checked against the library computed directly.
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from sim import load_scenario, simulate

from apphelpers import open_page, shown
from simhelpers import SCENARIOS

pytestmark = pytest.mark.usefixtures("private_store")




def test_the_lab_shows_the_offers_a_ladder_makes_as_a_titled_table_with_units():
    at = open_page("app_pages/lab.py")
    at.selectbox(key="lab_base").set_value("offers").run()
    at.number_input(key="lab_accounts").set_value(400)
    at.number_input(key="lab_days").set_value(60)
    at.run()
    at.button(key="lab_run").click().run()
    assert not at.exception, at.exception

    scenario = load_scenario(SCENARIOS / "offers.toml", {"simulation.accounts": 400, "simulation.days": 60})
    offers = simulate(scenario, scenario.simulation.seed, contact_log=False).kpis["offers"]
    assert "**Settlement and hardship offers**" in [m.value for m in at.markdown]
    [table] = [d.value for d in at.dataframe if "Settlement offer" in d.value.columns]
    assert list(table.columns) == ["KPI", "Unit", "Settlement offer", "Hardship plan"]
    rows = table.set_index("KPI")
    assert rows.loc["Offers made", "Settlement offer"] == f"{offers['settlement_offer']['made']:,.0f}"
    assert rows.loc["Accepted", "Hardship plan"] == f"{offers['hardship_plan']['accepted']:,.0f}"
    assert rows.loc["Amount forgiven", "Unit"] == "USD"
    assert rows.loc["Amount forgiven", "Settlement offer"] == f"{offers['settlement_offer']['forgiven']:,.2f}"
    assert rows.loc["Acceptance rate", "Unit"] == "% of offers made"
    assert offers["settlement_offer"]["made"] > 0 and offers["hardship_plan"]["made"] > 0


def test_a_ladder_without_offers_shows_no_offers_table():
    at = open_page("app_pages/lab.py")
    at.number_input(key="lab_accounts").set_value(200)
    at.number_input(key="lab_days").set_value(14)
    at.run()
    at.button(key="lab_run").click().run()
    assert not at.exception, at.exception
    assert "**Settlement and hardship offers**" not in [m.value for m in at.markdown]


def _param(at: AppTest, name: str) -> str:
    value = at.query_params[name]
    return value[0] if isinstance(value, list) else value


def test_a_reload_brings_the_one_book_readout_back_with_its_inputs():
    first = open_page("app_pages/compare.py")
    first.radio(key="compare_mode").set_value("One book, champion/challenger").run()
    first.number_input(key="cc_accounts").set_value(400)
    first.number_input(key="cc_days").set_value(20)
    first.number_input(key="cc_seed").set_value(9)
    first.button(key="cc_run").click().run()
    assert not first.exception, first.exception
    readout = first.dataframe[0].value

    again = open_page("app_pages/compare.py", {"compare_mode": _param(first, "compare_mode"),
                                               "cc": _param(first, "cc")})  # a new session: what a reload is
    assert again.radio(key="compare_mode").value == "One book, champion/challenger"
    assert again.number_input(key="cc_accounts").value == 400 and again.number_input(key="cc_seed").value == 9
    assert not [w for w in again.warning if shown(w.value).startswith("Stale")]
    assert again.dataframe[0].value.equals(readout)
    line = next(shown(c.value) for c in again.caption if shown(c.value).startswith("Computed from"))
    assert line.startswith("Computed from: 400 accounts × 20 days × seed 9")

    back = open_page("app_pages/compare.py")  # an address without the mode opens the whole-books mode
    assert back.radio(key="compare_mode").value == "Whole books, one strategy each"
    first.radio(key="compare_mode").set_value("Whole books, one strategy each").run()
    assert "compare_mode" not in first.query_params
