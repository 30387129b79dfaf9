"""The History page keeps the store tidy and reads every kind of experiment: rename, delete after a
confirmation, a champion/challenger experiment's KPIs by strategy.

Driven headless with AppTest on a store the test fills directly at tiny sizes
(the ``store`` fixture is the file ``$REPAYLAB_STORE`` points the page at).
"""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from sim import load_scenario
from sim.arms_compare import compare_arms
from sim.executors import LocalExecutor
from sim.experiment import run_experiment

from apphelpers import APP, shown
from simhelpers import SCENARIOS

SERIAL = LocalExecutor(1)
pytestmark = pytest.mark.usefixtures("private_store")



def open_history() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("app_pages/history.py").run()
    assert not at.exception, at.exception
    return at


def listing(at: AppTest):
    return at.dataframe[0].value


def test_an_experiment_is_renamed_and_deleted_only_after_a_confirmation(pair, store):
    both = run_experiment(pair, 2, rng=3, executor=SERIAL, store=store)
    alone = run_experiment(pair[:1], 2, rng=3, executor=SERIAL, store=store)  # shares baseline's runs
    at = open_history()
    at.selectbox(key="history_pick").set_value(both.experiment_id).run()

    at.text_input(key="history_label").set_value("March test").run()
    at.button(key="history_rename").click().run()
    assert [shown(s.value) for s in at.success] == [f"Experiment {both.experiment_id} is now named 'March test'."]
    names = dict(zip(listing(at)["Experiment"], listing(at)["Name"], strict=True))
    assert names == {both.experiment_id: "March test", alone.experiment_id: ""}

    at.text_input(key="history_label").set_value("two\nlines").run()
    at.button(key="history_rename").click().run()
    assert [shown(e.value) for e in at.error] == [f"{store.path}: label: must be one line of printable text"]

    at.button(key="history_delete").click().run()
    assert any("cannot be undone" in shown(w.value) for w in at.warning)
    assert len(store.experiments()) == 2  # asking is not deleting
    at.button(key="history_delete_no").click().run()
    assert not any("cannot be undone" in shown(w.value) for w in at.warning)
    assert len(listing(at)) == 2

    at.button(key="history_delete").click().run()
    at.button(key="history_delete_yes").click().run()
    assert not at.exception, at.exception
    assert [shown(s.value) for s in at.success] == [
        f"Deleted experiment {both.experiment_id} and the 2 runs no other experiment used."]
    assert list(listing(at)["Experiment"]) == [alone.experiment_id]
    assert at.selectbox(key="history_pick").value == alone.experiment_id
    assert store.counts()["runs"] == 2  # the baseline runs the other experiment reads stay


def test_a_champion_challenger_experiment_shows_its_kpis_by_strategy_with_units(store):
    cc = load_scenario(SCENARIOS / "champion_challenger.toml", {"simulation.accounts": 300, "simulation.days": 15})
    arms = compare_arms(cc, 2, 5, executor=SERIAL, store=store)
    at = open_history()
    assert any(shown(m.value).startswith("**KPIs by strategy**") for m in at.markdown)
    [table] = [d.value for d in at.dataframe if "baseline (champion)" in d.value.columns]
    assert list(table.columns) == ["KPI", "Unit", "baseline (champion)", "sms_gentle"]
    rows = dict(zip(table["KPI"], table["Unit"], strict=True))
    assert rows["Cure rate"] == "%" and rows["Cash per account"] == "USD per account"
    assert rows["Complaints per 1,000"] == "per 1,000 accounts"
    cure = arms.by_strategy["sms_gentle"]["cure_rate"]
    shown_cure = table.loc[table["KPI"] == "Cure rate", "sms_gentle"].item()
    assert shown_cure == f"{100 * cure.mean:.2f} % ({100 * cure.ci_low:.2f} % … {100 * cure.ci_high:.2f} %)"
