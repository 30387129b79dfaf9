"""The Debt payoff page answers the client's questions and says honestly what its figures are.

Driven headless with AppTest by widget key; each number shown is checked
against the library computed straight from :mod:`optimizer.payoff`.
"""

from __future__ import annotations

import json

import pytest
from streamlit.testing.v1 import AppTest

from app_support.common import money
from app_support.payoff_views import printable_plan
from optimizer.payoff.advisor import advise
from optimizer.payoff.client_plan import plan_html
from optimizer.payoff.model import load_debts
from optimizer.payoff.option_terms import Option
from optimizer.payoff.options import compare_options
from optimizer.payoff.target import budgets_for_date

from apphelpers import APP, metric, shown
from simhelpers import SCENARIOS

pytestmark = pytest.mark.usefixtures("private_store")


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page("app_pages/payoff.py").run()
    assert not at.exception, at.exception
    return at




def frame(at: AppTest, column: str):
    """The table on the page with this column (AppTest keeps no keys for tables)."""
    found = [d.value for d in at.dataframe if column in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0]


def _upload(at: AppTest, name: str, text: str) -> None:
    at.file_uploader(key="payoff_upload").set_value((name, text.encode(), "application/toml")).run()
    assert not at.exception, at.exception


def test_results_are_marked_stale_when_other_debts_are_uploaded():
    at = _page()
    at.multiselect(key="payoff_strategies").set_value(["avalanche"])
    at.button(key="payoff_run").click().run()
    assert not at.warning or not any("inputs have changed" in w.value for w in at.warning)
    _upload(at, "other.toml", 'budget = 300\n[[debts]]\nname = "Card"\nbalance = 2000\napr = 0.2\n')
    stale = [shown(w.value) for w in at.warning if "inputs have changed" in w.value]
    assert stale == ["The inputs have changed since these results were planned: what follows is for "
                     "household.toml. Press Plan the payoff to update."]
    at.button(key="payoff_run").click().run()
    assert not any("inputs have changed" in w.value for w in at.warning)
    assert metric(at, "total interest · avalanche") == money(advise(_other(), ["avalanche"]).plans[0].total_interest,
                                                             "$")


def _other():
    from optimizer.payoff.model import DebtFile

    return DebtFile.from_dict({"budget": 300, "debts": [{"name": "Card", "balance": 2000, "apr": 0.2}]})


def test_an_infeasible_optimal_plan_says_infeasible_and_a_plan_that_never_ends_says_so():
    at = _page()
    # 200 a month cannot meet the minimums (the LP has no plan); minimums below the interest never end.
    _upload(at, "tight.toml", 'budget = 60\n[[debts]]\nname = "Card"\nbalance = 9000\napr = 0.3\n'
                              'minimum = { percent = 0.001, plus_interest = false, floor = 5 }\n'
                              '[[debts]]\nname = "Loan"\nbalance = 3000\napr = 0.1\nminimum = { fixed = 100 }\n')
    at.multiselect(key="payoff_strategies").set_value(["minimum", "optimal"])
    at.button(key="payoff_run").click().run()
    assert not at.exception, at.exception
    assert metric(at, "debt-free · optimal") == "infeasible"
    assert metric(at, "total interest · optimal") == "infeasible"
    table = frame(at, "Figures cover")
    optimal = table[table["Strategy"] == "optimal"].iloc[0]
    assert optimal["Debt-free"] == "infeasible" and optimal["Interest"] == "–"
    assert "$0.00" not in " ".join(map(str, optimal.values))
    minimum = table[table["Strategy"] == "minimum"].iloc[0]
    plan = advise(load_debts_text("tight.toml", at), ["minimum"]).plans[0]
    assert not plan.pays_off
    assert minimum["Figures cover"] == f"the first {plan.months_simulated} months only (the plan never ends)"
    assert metric(at, f"interest, first {plan.months_simulated} months · minimum") == money(plan.total_interest, "$")


def load_debts_text(name: str, at: AppTest):
    from app_support.debts import debts_from_upload

    return debts_from_upload(name, at.file_uploader(key="payoff_upload").value.getvalue(), None)


def test_the_strategies_show_short_names_the_optimal_text_wraps_and_one_chart_shows_every_plan():
    at = _page()
    chooser = at.multiselect(key="payoff_strategies")
    assert all(":" not in option for option in chooser.options)
    assert "least total interest" in chooser.help
    at.button(key="payoff_run").click().run()
    assert not at.exception, at.exception
    assert at.code and all(code.proto.wrap_lines for code in at.code)
    charts = at.get("vega_lite_chart")
    assert charts
    spec = json.loads(charts[0].proto.spec)
    assert spec["encoding"]["color"]["field"] == "Plan" and spec["encoding"]["y"]["axis"]["format"] == ",.0f"


def test_a_target_date_options_and_a_budget_drop_are_answered_as_the_library_answers():
    at = _page()
    at.selectbox(key="payoff_example").set_value("debts_options").run()
    at.multiselect(key="payoff_strategies").set_value(["avalanche", "snowball"])
    at.text_input(key="payoff_target").set_value("2028-12")
    at.checkbox(key="payoff_stress_on").check().run()
    at.text_input(key="payoff_stress_from").set_value("2027-03")
    at.button(key="payoff_run").click().run()
    assert not at.exception, at.exception
    debts = load_debts(SCENARIOS / "debts_options.toml")
    answer = budgets_for_date(debts, "2028-12", ["avalanche", "snowball"])
    target = frame(at, "Least monthly budget")
    assert list(target["Least monthly budget"]) == [money(b.budget, "$") for b in answer.budgets]
    options = frame(at, "Against today")
    comparison = compare_options(debts)
    assert list(options["Option"]) == [o.name for o in comparison.rows()]
    assert list(options["Interest"]) == [money(o.as_dict()["total_interest"], "$") for o in comparison.rows()]
    verdicts = dict(zip(options["Option"], options["Against today"], strict=True))
    assert verdicts["Transfer without a promotion"].startswith("costs")
    stress = frame(at, "Budget: keep the date")
    assert list(stress["Strategy"]) == ["avalanche", "snowball"]
    assert len(at.get("vega_lite_chart")) == 2  # balances and options
    assert at.download_button(key="payoff_plan_html") is not None


def test_a_bad_target_date_is_one_line_and_the_plans_still_show():
    at = _page()
    at.multiselect(key="payoff_strategies").set_value(["avalanche"])
    at.text_input(key="payoff_target").set_value("2020-01")
    at.button(key="payoff_run").click().run()
    assert [shown(e.value) for e in at.error] == [
        "--target-date: must be from 2026-01 (the file's start) to 2075-12, got 2020-01"]
    assert metric(at, "debt-free · avalanche")


def test_the_printable_plan_is_the_command_lines_page():
    debts = load_debts(SCENARIOS / "debts_options.toml")
    advice = advise(debts, ["avalanche"])
    page = printable_plan(advice, "avalanche", {})
    assert page == plan_html(debts, advice.plans[0], options=compare_options(debts))


def test_deleting_a_debt_an_option_names_points_at_the_option_row():
    at = _page()
    at.selectbox(key="payoff_example").set_value("debts_options").run()
    at.session_state["payoff_debts_debts_options.toml"] = {"edited_rows": {}, "added_rows": [], "deleted_rows": [2]}
    at.run()
    assert [shown(e.value) for e in at.error] == [
        "debts_options.toml: options.1.debts.1: unknown debt 'Store card'; debts: Visa, Mastercard"]
    assert at.button(key="payoff_run").disabled
    # Deleting that option too makes the table plannable again.
    at.session_state["payoff_options_debts_options.toml"] = {"edited_rows": {}, "added_rows": [],
                                                              "deleted_rows": [1]}
    at.run()
    assert not at.error and not at.button(key="payoff_run").disabled


def test_an_option_added_in_the_table_is_compared_as_the_library_compares_it():
    at = _page()  # the household: no options in the file
    at.multiselect(key="payoff_strategies").set_value(["avalanche"])
    at.session_state["payoff_options_household.toml"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"kind": "consolidation_loan", "name": "Credit union loan", "debts": "Card A, Card B", "apr": 0.099,
         "months": 48, "fee": 0.02}]}
    at.run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="payoff_run").click().run()
    assert not at.exception, at.exception
    options = frame(at, "Against today")
    debts = load_debts(SCENARIOS / "household.toml")
    loan = Option(kind="consolidation_loan", name="Credit union loan", debts=["Card A", "Card B"], apr=0.099,
                  months=48, origination_fee=0.02)
    expected = compare_options(debts.model_copy(update={"options": [loan]}))
    assert list(options["Option"]) == ["As today", "Credit union loan"]
    assert list(options["Paid in all"]) == [money(o.as_dict()["total_paid"], "$") for o in expected.rows()]
    assert options.iloc[1]["APR (IRR)"] == f"{expected.options[0].rates.nominal:.2%}"


def test_a_bad_option_cell_is_one_line_naming_the_row():
    at = _page()
    at.session_state["payoff_options_household.toml"] = {"edited_rows": {}, "deleted_rows": [], "added_rows": [
        {"kind": "balance_transfer", "apr": 0.2, "fee": 0.03, "months": 12}]}
    at.run()
    assert [shown(e.value) for e in at.error] == [
        "household.toml: options.0.months: not a term of a balance_transfer; a balance_transfer takes: fee, "
        "promo_apr, promo_months, apr, limit, debts"]
    assert at.button(key="payoff_run").disabled


def test_the_payments_table_says_paid_off_never_none():
    from app_support.payoff_views import payments_frame

    debts = load_debts(SCENARIOS / "debts_options.toml")
    plan = advise(debts, ["avalanche"]).plans[0]
    table = payments_frame(plan, debts)
    assert list(table.columns) == ["Month", "Visa", "Mastercard", "Store card"]
    assert table.iloc[0]["Month"] == "2026-01" and len(table) == plan.months
    cells = table[["Visa", "Mastercard", "Store card"]].to_numpy().ravel()
    assert not any(c is None or c == "None" for c in cells)
    assert table.iloc[-1]["Store card"] == "paid off" and table.iloc[-1]["Mastercard"].startswith("$")
