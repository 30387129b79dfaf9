"""The app's honest state and its words: stale banners, the settings every result came from, results that
survive a reload, units in every table, real data in (a portfolio CSV, an ``extends`` upload), the glossary.

Driven headless with AppTest at tiny sizes, like ``tests/test_app.py``.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from streamlit.testing.v1 import AppTest

from sim import load_scenario

from apphelpers import open_page, shown
from simhelpers import SCENARIOS

pytestmark = pytest.mark.usefixtures("private_store")
UNIT_WORDS = ("USD", "CNY", "%", "pp", "per 1,000", "refused", "hours", "minutes", "accounts", "agents", "calls",
              "filings", "days", "seconds", "contacts", "per account")




def warnings(at: AppTest) -> list[str]:
    return [shown(w.value) for w in at.warning]


def stale(at: AppTest) -> bool:
    return any(w.startswith("Stale:") for w in warnings(at))


def settings(at: AppTest) -> list[str]:
    return [shown(c.value) for c in at.caption if shown(c.value).startswith("Computed from:")]


def run_small_comparison(at: AppTest, reps: int = 2) -> AppTest:
    if not at.number_input(key="compare_accounts").disabled:  # disabled: the accounts are a CSV's
        at.number_input(key="compare_accounts").set_value(300)
    at.number_input(key="compare_days").set_value(20)
    at.number_input(key="compare_reps").set_value(reps)
    at.number_input(key="compare_seed").set_value(7)
    at.button(key="compare_run").click().run()
    assert not at.exception, at.exception
    return at


def kpi_table(at: AppTest):
    """Compare's KPI table (each strategy's means); AppTest does not keep a dataframe's key."""
    return next(d.value for d in at.dataframe if "Unit" in d.value.columns
                and not any("−" in str(c) for c in d.value.columns))


def differences(at: AppTest):
    return next(d.value for d in at.dataframe if any("−" in str(c) for c in d.value.columns))


def has_units(frame) -> bool:
    """A table says its units: in a Unit column, or in every number column's header or cells."""
    if "Unit" in frame.columns:
        return frame["Unit"].astype(str).str.len().gt(0).all() or frame["Unit"].eq("").sum() <= 1
    for column in frame.columns:
        header = str(column)
        cells = " ".join(str(v) for v in frame[column].head(3))
        numeric = frame[column].dtype.kind in "if" or bool(re.search(r"\d", cells))
        said = (header + " " + cells).lower()
        if numeric and not any(w.lower() in said for w in UNIT_WORDS) and header.lower() not in (
                "week", "hour", "month", "rep", "replication", "agents", "accounts", "shift"):
            return False
    return True


# ----------------------------------------------------------------------------- honest state


def test_compare_marks_its_results_stale_the_moment_an_input_changes():
    at = run_small_comparison(open_page("app_pages/compare.py"))
    assert not stale(at)
    line = settings(at)[0]
    baseline = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 300, "simulation.days": 20})
    assert line.startswith("Computed from: 300 accounts × 20 days × 2 replications × seed 7 · baseline (USD, hash "
                           f"{baseline.content_hash})")
    at.number_input(key="compare_days").set_value(30).run()
    assert stale(at)
    assert settings(at)[0] == line  # the results still say what they came from
    at.number_input(key="compare_days").set_value(20).run()
    assert not stale(at)
    at.multiselect(key="compare_scenarios").select("call_heavy").run()
    assert stale(at)


def test_a_reload_brings_the_comparison_back_at_once_with_its_inputs():
    first = run_small_comparison(open_page("app_pages/compare.py"))
    digest = first.query_params["compare"]
    digest = digest[0] if isinstance(digest, list) else digest
    started = time.perf_counter()
    again = open_page("app_pages/compare.py", {"compare": digest})  # a new session: what a reload is
    elapsed = time.perf_counter() - started
    assert settings(again) == settings(first) and not stale(again)
    assert again.number_input(key="compare_days").value == 20 and again.number_input(key="compare_seed").value == 7
    kpis = kpi_table(again)
    assert kpis.equals(kpi_table(first))
    assert elapsed < 5.0  # the page and its charts; the comparison itself comes from the cache


def test_lab_run_is_stale_after_an_edit_and_says_its_settings():
    at = open_page("app_pages/lab.py")
    at.number_input(key="lab_accounts").set_value(300)
    at.number_input(key="lab_days").set_value(20)
    at.run()
    at.button(key="lab_run").click().run()
    assert not stale(at) and settings(at)[0].startswith("Computed from: 300 accounts × 20 days × seed ")
    at.number_input(key="lab_cost_sms").set_value(0.5).run()
    assert stale(at)


def test_capacity_plan_is_stale_after_the_horizon_changes():
    at = open_page("app_pages/capacity.py")
    at.number_input(key="cap_accounts").set_value(400)
    at.number_input(key="cap_days").set_value(14)
    at.button(key="cap_solve").click().run()
    assert not at.exception, at.exception
    assert not stale(at) and settings(at)[0].startswith("Computed from: 400 accounts × 14 days")
    at.number_input(key="cap_days").set_value(21).run()
    assert stale(at)


# ----------------------------------------------------------------------------- units and words


def test_every_table_of_a_comparison_says_its_units_and_has_no_raw_names():
    at = run_small_comparison(open_page("app_pages/compare.py"))
    for frame in (d.value for d in at.dataframe):
        assert has_units(frame), frame.head()
        for column in frame.columns:
            assert "_" not in str(column) or str(column) in ("sms_gentle", "sms_gentle − baseline"), column
        assert "None" not in frame.astype(str).to_numpy().ravel().tolist()
    units = kpi_table(at).set_index("KPI")["Unit"]
    assert units["Net recovery"] == "USD" and units["Recovery rate"] == "%"
    paired = differences(at).set_index("KPI")
    assert paired.loc["Recovery rate", "Unit"] == "pp"
    assert paired.loc["Recovery rate", "sms_gentle − baseline"].endswith("pp)")
    assert any(m.value.endswith(" USD") for m in at.metric)


def test_capacity_tables_say_their_units():
    at = open_page("app_pages/capacity.py")
    at.number_input(key="cap_accounts").set_value(400)
    at.number_input(key="cap_days").set_value(14)
    at.button(key="cap_solve").click().run()
    at.button(key="staff_run").click().run()
    assert not at.exception, at.exception
    for frame in (d.value for d in at.dataframe):
        assert has_units(frame), frame.head()
        assert "None" not in frame.astype(str).to_numpy().ravel().tolist()


def test_a_chinese_scenario_is_shown_in_yuan():
    at = open_page("app_pages/compare.py")
    at.multiselect(key="compare_scenarios").set_value(["cn_2025"])
    run_small_comparison(at, reps=1)
    assert kpi_table(at).set_index("KPI").loc["Net recovery", "Unit"] == "CNY"


# ----------------------------------------------------------------------------- real data in


PORTFOLIO = ("account_id,balance,days_past_due,segment\n"
             + "".join(f"{i},{500 + 37 * i},{1 + (i * 7) % 170},{('low', 'medium', 'high')[i % 3]}\n"
                       for i in range(1, 241))).encode()


def test_compare_runs_on_an_uploaded_portfolio_csv():
    at = open_page("app_pages/compare.py")
    # A closed book: with baseline's warm-up the CSV would be the book 150 days before the measured start.
    at.multiselect(key="compare_scenarios").set_value(["hawkes_baseline", "sms_gentle"])
    at.file_uploader(key="compare_portfolio").set_value(("book.csv", PORTFOLIO, "text/csv")).run()
    assert not at.error, [e.value for e in at.error]
    run_small_comparison(at, reps=1)
    assert not at.error
    assert settings(at)[0].startswith("Computed from: accounts from CSV × 20 days")
    initial = kpi_table(at).set_index("KPI").loc["Initial balance", "hawkes_baseline"]
    assert initial.replace(",", "").split(" ")[0] == f"{sum(500 + 37 * i for i in range(1, 241)):.0f}"


def test_a_bad_portfolio_csv_is_the_readers_one_line_error():
    at = open_page("app_pages/compare.py")
    bad = b"account_id,balance,days_past_due\n1,100,5\n2,lots,5\n"
    at.file_uploader(key="compare_portfolio").set_value(("book.csv", bad, "text/csv")).run()
    assert [shown(e.value) for e in at.error] == [
        "book.csv: line 3: balance: must be a number written as ASCII digits with an optional sign, decimal point "
        "and exponent, e.g. 1200.50; got 'lots'"]
    assert at.button(key="compare_run").disabled


def test_an_upload_that_extends_a_shipped_scenario_is_merged():
    at = open_page("app_pages/compare.py")
    variant = b'extends = "baseline.toml"\nname = "patient"\n[strategy]\nname = "patient"\n'
    at.file_uploader(key="compare_upload").set_value(("patient.toml", variant, "application/toml")).run()
    assert not at.error, [e.value for e in at.error]
    assert "patient.toml" in at.selectbox(key="compare_champion").options


def test_an_upload_may_extend_another_uploaded_file():
    from app_support.common import uploaded_scenario

    parent = b'extends = "sms_gentle.toml"\n[costs]\nsms = 0.2\n'
    child = b'extends = "cheap.toml"\nname = "cheaper"\n[simulation]\ndays = 30\n'
    scenario, _ = uploaded_scenario("child.toml", child, {"cheap.toml": parent, "child.toml": child})
    expected = load_scenario(SCENARIOS / "sms_gentle.toml", {"costs.sms": 0.2, "simulation.days": 30})
    assert scenario.costs.sms == 0.2 and scenario.simulation.days == 30 and scenario.name == "cheaper"
    assert scenario.strategy == expected.strategy


def test_an_upload_cannot_extend_a_file_that_is_not_there():
    at = open_page("app_pages/compare.py")
    at.file_uploader(key="compare_upload").set_value(
        ("x.toml", b'extends = "../../etc/passwd"\n', "application/toml")).run()
    [message] = [shown(e.value) for e in at.error]
    assert message.startswith("x.toml: extends: 'passwd' is neither another uploaded file nor a shipped scenario")


# ----------------------------------------------------------------------------- explanations


def test_the_glossary_explains_what_the_pages_leave_unsaid():
    at = open_page("app_pages/glossary.py")
    text = " ".join(shown(m.value) for m in at.markdown).lower()
    for term in ("right-party contact", "cure rate", "roll rate", "shadow price", "\"none\" treatment",
                 "three values", "not significant"):
        assert term in text, term


def test_lab_runs_on_an_uploaded_portfolio_csv_and_hides_team_columns_it_has_no_team_for():
    at = open_page("app_pages/lab.py")
    at.selectbox(key="lab_base").set_value("hawkes_baseline").run()  # call, field and legal teams
    at.file_uploader(key="lab_portfolio").set_value(("book.csv", PORTFOLIO, "text/csv")).run()
    assert not at.error, [e.value for e in at.error]
    assert at.number_input(key="lab_accounts").disabled
    at.number_input(key="lab_days").set_value(20).run()
    at.button(key="lab_run").click().run()
    assert not at.exception, at.exception
    assert settings(at)[0].startswith("Computed from: accounts from CSV × 20 days")

    teams = next(d for d in at.dataframe if "visits_per_day" in d.value.columns)
    rows = teams.value.set_index("name")
    # A call team has no visits or filings: blank cells, not the unused defaults (6 visits/day).
    assert rows.loc["callers", ["visits_per_day", "filings_per_day"]].isna().all()
    baseline = load_scenario(SCENARIOS / "hawkes_baseline.toml")
    assert rows.loc["field", "visits_per_day"] == baseline.teams["field"].visits_per_day
    assert rows.loc["legal", "filings_per_day"] == baseline.teams["legal"].filings_per_day
    assert json.loads(teams.proto.columns)["visits_per_day"]["label"] == "visits/day"


def test_lab_hides_a_team_column_no_team_uses():
    from app_support.lab import kind_columns_shown

    calls_only = {"teams": {"callers": {"kind": "call"}}}
    assert kind_columns_shown(calls_only) == {"visits_per_day": None, "filings_per_day": None}
    assert kind_columns_shown({"teams": {"f": {"kind": "field"}}})["visits_per_day"] == "visits/day"


# ----------------------------------------------------------------------------- the scenario library


@pytest.fixture
def library(tmp_path, monkeypatch):
    folder = tmp_path / "library"
    monkeypatch.setenv("REPAYLAB_LIBRARY", str(folder))
    return folder


def test_a_lab_variant_saved_in_the_library_is_compared_and_planned(library):
    lab = open_page("app_pages/lab.py")
    lab.number_input(key="lab_cost_sms").set_value(0.5).run()
    lab.text_input(key="lab_library_name").set_value("dear-sms").run()
    lab.button(key="lab_library_save").click().run()
    assert not lab.exception and not lab.error, [e.value for e in lab.error]
    assert (library / "dear-sms.toml").is_file()

    compare = open_page("app_pages/compare.py")
    compare.multiselect(key="compare_scenarios").set_value(["baseline"])
    compare.multiselect(key="compare_saved").set_value(["dear-sms"])
    run_small_comparison(compare, reps=1)
    assert not compare.error, [e.value for e in compare.error]
    line = settings(compare)[0]
    expected = load_scenario(library / "dear-sms.toml", {"simulation.accounts": 300, "simulation.days": 20})
    assert expected.costs.sms == 0.5 and f"hash {expected.content_hash}" in line

    capacity = open_page("app_pages/capacity.py")
    assert "saved: dear-sms" in capacity.selectbox(key="cap_scenario").options
    capacity.selectbox(key="cap_scenario").set_value("saved: dear-sms").run()
    assert not capacity.exception and not capacity.error

    # Deleted from the library meanwhile: the pages carry on, the comparison now stale.
    from app_support.library import delete

    delete("dear-sms")
    compare.run()
    capacity.run()
    assert not compare.exception and not capacity.exception, (compare.exception, capacity.exception)
    assert stale(compare)
    lab.button(key="lab_library_save").click().run()  # saved again from the Lab, where it still is

    # Saving again under the same name is refused in one line, unless "replace" is ticked.
    lab.run()
    lab.button(key="lab_library_save").click().run()
    assert [shown(e.value) for e in lab.error] == [
        "Scenario library: name: 'dear-sms' is already in the library; tick \"replace\" or choose another name"]


def test_saved_scenarios_are_renamed_and_deleted_and_names_are_never_paths(library):
    from app_support import library as lib
    from sim.errors import ScenarioError

    scenario = load_scenario(SCENARIOS / "sms_gentle.toml")
    lib.save("gentle", scenario)
    lib.rename("gentle", "gentle-2")
    assert list(lib.saved_scenarios()) == ["gentle-2"]
    assert lib.load_saved("gentle-2").content_hash == scenario.content_hash
    lib.delete("gentle-2")
    assert lib.saved_scenarios() == {}
    for bad in ("../evil", "a/b", "", ".hidden", "x" * 61):
        with pytest.raises(ScenarioError, match="not a library name"):
            lib.save(bad, scenario)


def test_the_one_book_readout_says_units_and_goes_stale():
    at = open_page("app_pages/compare.py")
    at.radio(key="compare_mode").set_value("One book, champion/challenger").run()
    at.number_input(key="cc_accounts").set_value(400)
    at.number_input(key="cc_days").set_value(20)
    at.button(key="cc_run").click().run()
    assert not at.exception, at.exception
    assert not stale(at) and settings(at)[0].startswith("Computed from: 400 accounts × 20 days × seed 42")
    for frame in (d.value for d in at.dataframe):
        assert has_units(frame), frame
    at.number_input(key="cc_seed").set_value(43).run()
    assert stale(at)


def test_the_lab_sweep_table_says_units():
    at = open_page("app_pages/lab.py")
    at.number_input(key="lab_accounts").set_value(300)
    at.number_input(key="lab_days").set_value(20)
    at.number_input(key="lab_sweep_reps").set_value(2)
    at.run()
    at.button(key="lab_sweep_run").click().run()
    assert not at.exception, at.exception
    table = next(d.value for d in at.dataframe if "Variant" in d.value.columns)
    assert has_units(table) and "Net recovery (USD)" in table.columns
    assert "None" not in table.astype(str).to_numpy().ravel().tolist()


def test_a_reload_brings_back_the_labs_run_and_the_capacity_plan():
    lab = open_page("app_pages/lab.py")
    lab.number_input(key="lab_accounts").set_value(300)
    lab.number_input(key="lab_days").set_value(20)
    lab.run()
    lab.button(key="lab_run").click().run()
    digest = lab.query_params["lab_run"]
    again = open_page("app_pages/lab.py", {"lab_run": digest[0] if isinstance(digest, list) else digest})
    assert settings(again) == settings(lab) and not stale(again)
    assert [m.value for m in again.metric] == [m.value for m in lab.metric]

    capacity = open_page("app_pages/capacity.py")
    capacity.number_input(key="cap_accounts").set_value(400)
    capacity.number_input(key="cap_days").set_value(14)
    capacity.button(key="cap_solve").click().run()
    digest = capacity.query_params["cap"]
    back = open_page("app_pages/capacity.py", {"cap": digest[0] if isinstance(digest, list) else digest})
    assert settings(back) == settings(capacity) and not stale(back)
    assert back.number_input(key="cap_days").value == 14


def test_history_says_when_an_experiment_is_partial():
    from app_support.history import partial_note

    assert partial_note({"runs": 4, "runs_expected": 4, "status": "complete"}) is None
    note = partial_note({"runs": 3, "runs_expected": 10, "status": "interrupted"})
    assert note.startswith("Partial: 3 of 10 runs stored (interrupted).")


def test_charts_write_money_without_offsets_and_rates_in_percent():
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from app_support.charts import readable

    fig = Figure()
    money, rate = fig.subplots(1, 2)
    money.bar(["a", "b"], [2_400_000.0, 2_450_000.0])
    money.set_title("net recovery")
    rate.bar(["a", "b"], [0.104, 0.046])
    rate.set_title("agent utilization")
    readable(fig, "CNY")
    FigureCanvasAgg(fig).draw()
    assert money.get_title() == "net recovery (CNY)" and rate.get_title() == "agent utilization (%)"
    assert money.yaxis.get_offset_text().get_text() == ""  # no "1e6" over the axis
    assert [t.get_text() for t in money.get_yticklabels()] == ["0", "500k", "1M", "1.5M", "2M", "2.5M", "3M"]
    assert all(t.get_text().endswith("%") for t in rate.get_yticklabels())
    assert [t.get_text() for t in money.get_xticklabels()] == ["a", "b"]  # the strategies' names stay
