"""The Streamlit app, driven headless with AppTest: every page renders, and the numbers shown are the library's.

Widgets are driven by key; sizes are tiny so each interaction takes a second
or two. Each check that a number is right computes it again straight from
:mod:`sim` / :mod:`optimizer` and compares the text the page shows.
"""

from __future__ import annotations

import re

import pytest
from streamlit.testing.v1 import AppTest

from app_support.common import money, number
from optimizer.allocation import allocate
from optimizer.payoff.advisor import advise
from optimizer.payoff.model import load_debts
from optimizer.staffing.requirements import ShiftPattern, requirements_by_hour, schedule_shifts
from sim import load_scenario, load_scenario_text, simulate
from sim.errors import ScenarioError

from apphelpers import metric, open_page, shown
from simhelpers import SCENARIOS

PAGES = {
    "app_pages/compare.py": "Compare strategies",
    "app_pages/lab.py": "Scenario lab",
    "app_pages/capacity.py": "Capacity",
    "app_pages/payoff.py": "Debt payoff",
    "app_pages/history.py": "History",
}


# The History page and "keep the runs" use $REPAYLAB_STORE: never the user's runs.duckdb.
pytestmark = pytest.mark.usefixtures("private_store")





def errors(at: AppTest) -> list[str]:
    return [shown(e.value) for e in at.error]


@pytest.mark.parametrize("page", list(PAGES))
def test_every_page_renders_without_exception(page):
    at = open_page(page)
    assert at.title[0].value == PAGES[page]
    assert not errors(at)


def test_compare_shows_the_experiment_numbers():
    from app_support.kpis import fmt
    from sim.executors import LocalExecutor
    from sim.experiment import run_experiment

    at = open_page("app_pages/compare.py")
    at.number_input(key="compare_accounts").set_value(300)
    at.number_input(key="compare_days").set_value(20)
    at.number_input(key="compare_reps").set_value(2)
    at.number_input(key="compare_seed").set_value(7)
    at.button(key="compare_run").click().run()
    assert not at.exception, at.exception
    assert not errors(at)

    sizes = {"simulation.accounts": 300, "simulation.days": 20}
    scenarios = [load_scenario(SCENARIOS / f"{n}.toml", sizes) for n in ("baseline", "sms_gentle")]
    direct = run_experiment(scenarios, 2, rng=7, executor=LocalExecutor(1))
    for summary in direct.scenarios:
        assert metric(at, f"net recovery · {summary.label}") == fmt("net_recovery", summary.kpis["net_recovery"].mean,
                                                                          currency="USD")

    table = at.dataframe[0].value
    assert list(table.columns) == ["KPI", "Unit", "baseline", "sms_gentle"]
    assert "Complaints per 1000 accounts" in set(table["KPI"])
    differences = at.dataframe[1].value
    assert list(differences.columns) == ["KPI", "Unit", "sms_gentle − baseline"]
    assert len(at.get("image")) >= 5  # curves, cost, complaints, utilisation, roll rates, bars
    assert at.download_button(key="compare_csv") is not None


def test_compare_bad_upload_shows_the_cli_error_and_blocks_the_run():
    at = open_page("app_pages/compare.py")
    bad = b'[strategy]\nname = "x"\n[[strategy.steps]]\nchannel = "whatsapp"\nfrom_dpd = 1\nto_dpd = 5\n'
    at.file_uploader(key="compare_upload").set_value(("bad.toml", bad, "application/toml")).run()
    with pytest.raises(ScenarioError) as expected:
        load_scenario_text(bad.decode(), source="bad.toml")
    assert errors(at) == [str(expected.value)]
    assert at.button(key="compare_run").disabled
    assert "compare_request" not in at.session_state


def test_compare_rejects_an_upload_that_names_a_server_file():
    at = open_page("app_pages/compare.py")
    text = b'[portfolio]\ncsv = "/etc/passwd"\n[strategy]\nname = "x"\n'
    at.file_uploader(key="compare_upload").set_value(("peek.toml", text, "application/toml")).run()
    assert errors(at) == ["peek.toml: portfolio.csv: an uploaded scenario cannot name a file on the server; "
                          "use a generated portfolio or upload the accounts as a portfolio CSV"]


def test_lab_validates_as_you_type_and_runs_the_variant():
    from app_support.kpis import fmt

    at = open_page("app_pages/lab.py")
    assert shown(at.success[0].value).startswith("Valid scenario baseline")

    at.session_state["lab_steps"] = {"edited_rows": {0: {"every_days": 0}}, "added_rows": [], "deleted_rows": []}
    at.run()
    assert errors(at) == ["baseline.toml: strategy.steps.0.every_days: Input should be greater than or equal to 1"]
    assert "lab_run" not in [b.key for b in at.button]  # nothing to run until the scenario is valid

    at.session_state["lab_steps"] = {"edited_rows": {0: {"every_days": 3}}, "added_rows": [], "deleted_rows": []}
    at.number_input(key="lab_accounts").set_value(300)
    at.number_input(key="lab_days").set_value(20)
    at.number_input(key="lab_cost_sms").set_value(0.5)
    at.run()
    assert not errors(at)
    at.button(key="lab_run").click().run()
    assert not at.exception, at.exception

    variant = load_scenario(SCENARIOS / "baseline.toml", {
        "simulation.accounts": 300, "simulation.days": 20, "strategy.steps.0.every_days": 3, "costs.sms": 0.5})
    kpis = simulate(variant, variant.simulation.seed, contact_log=False).scalar_kpis()
    assert metric(at, "net recovery") == fmt("net_recovery", kpis["net_recovery"], currency="USD")
    assert metric(at, "cost") == fmt("cost", kpis["cost"], currency="USD")


def test_lab_bad_shift_is_one_line():
    at = open_page("app_pages/lab.py")
    at.session_state["lab_teams"] = {"edited_rows": {0: {"shifts": "09:00-25:00"}}, "added_rows": [],
                                     "deleted_rows": []}
    at.run()
    assert errors(at) == ["baseline.toml: teams.callers.shifts: time '25:00' is outside the day 00:00-24:00"]


def test_payoff_total_interest_is_the_advisors():
    at = open_page("app_pages/payoff.py")
    at.number_input(key="payoff_budget").set_value(650.0)
    at.multiselect(key="payoff_strategies").set_value(["avalanche", "snowball", "minimum"])
    at.button(key="payoff_run").click().run()
    assert not at.exception, at.exception

    advice = advise(load_debts(SCENARIOS / "household.toml"), ["avalanche", "snowball", "minimum"], 650.0)
    for plan in advice.plans:
        assert metric(at, f"total interest · {plan.strategy}") == money(plan.total_interest, "$")
        assert metric(at, f"debt-free · {plan.strategy}") == advice.debts.calendar_month(plan.months)
    assert len(at.get("image")) == 1
    assert at.download_button(key="payoff_csv") is not None


def test_payoff_csv_table_upload_and_a_bad_cell():
    at = open_page("app_pages/payoff.py")
    table = b"name,balance,apr,min_percent,min_floor\nCard,3000,0.22,0.02,25\nLoan,1500,0.09,0.03,30\n"
    at.file_uploader(key="payoff_upload").set_value(("debts.csv", table, "text/csv")).run()
    assert not errors(at)
    at.button(key="payoff_run").click().run()
    assert metric(at, "debt-free · avalanche")

    at.session_state["payoff_debts_debts.csv"] = {"edited_rows": {0: {"apr": 22}}, "added_rows": [],
                                                   "deleted_rows": []}
    at.run()
    assert errors(at) == ["debts.csv: debts.0.apr: APR is a fraction (0.25 for 25 %), got 22.0"]
    assert at.button(key="payoff_run").disabled


def test_payoff_bad_csv_changes_nothing():
    at = open_page("app_pages/payoff.py")
    at.file_uploader(key="payoff_upload").set_value(("debts.csv", b"name,balanse\nCard,100\n", "text/csv")).run()
    assert errors(at) == ["debts.csv: balanse: unknown column; allowed: name, balance, apr, min_percent, "
                          "min_floor, min_fixed, late_fee, penalty_apr"]
    # The example debts stay in the editor and can still be planned.
    assert not at.button(key="payoff_run").disabled


def test_capacity_plan_and_staffing_are_the_optimizers():
    at = open_page("app_pages/capacity.py")
    at.number_input(key="cap_accounts").set_value(500)
    at.number_input(key="cap_days").set_value(21)
    at.button(key="cap_solve").click().run()
    assert not at.exception, at.exception
    scenario = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 500, "simulation.days": 21})
    plan = allocate(scenario).plan
    assert metric(at, "objective: net + book at the horizon") == f"{number(plan.objective)} USD"
    assert metric(at, "one more agent · callers") == f"{number(plan.agent_value['callers'].per_agent)} USD"

    at.button(key="staff_run").click().run()
    assert not at.exception, at.exception
    calls = {9: 18.0, 10: 30, 11: 38, 12: 34, 13: 26, 14: 30, 15: 34, 16: 28, 17: 20}
    needs = requirements_by_hour(calls, 60 * scenario.teams["callers"].handle_minutes.inbound)
    patterns = ["09:00-13:00+14:00-18:00", "09:00-13:00", "10:00-14:00", "12:00-16:00", "13:00-17:00", "14:00-18:00"]
    roster = schedule_shifts({h: r.rostered for h, r in needs.items()}, [ShiftPattern.parse(p) for p in patterns],
                             days=1)
    assert metric(at, "agents to roster (shifts)") == str(roster.total_agents)
    assert metric(at, "paid hours (efficiency)") == f"{roster.paid_hours:g} ({roster.efficiency:.0%})"


def test_history_lists_a_stored_comparison():
    at = open_page("app_pages/compare.py")
    at.number_input(key="compare_accounts").set_value(200)
    at.number_input(key="compare_days").set_value(14)
    at.number_input(key="compare_reps").set_value(2)
    at.number_input(key="compare_seed").set_value(11)
    at.checkbox(key="compare_store").check()
    at.button(key="compare_run").click().run()
    assert not at.exception, at.exception
    at.switch_page("app_pages/history.py").run()
    assert not at.exception, at.exception
    listing = at.dataframe[0].value
    assert list(listing["Scenarios"]) == ["baseline, sms_gentle"]
    assert list(listing["Runs stored"]) == ["4 of 4"]
    kpis = at.dataframe[1].value
    assert list(kpis.columns) == ["KPI", "Unit", "baseline", "sms_gentle"]
    runs = at.dataframe[-1].value
    assert "run_id" not in runs.columns and "seed_spawn_key" not in runs.columns
    assert "Net recovery (USD)" in runs.columns and len(runs) == 4


def test_history_reopens_a_stored_comparison_in_compare_from_the_store():
    at = open_page("app_pages/compare.py")
    at.number_input(key="compare_accounts").set_value(200)
    at.number_input(key="compare_days").set_value(14)
    at.number_input(key="compare_reps").set_value(2)
    at.number_input(key="compare_seed").set_value(19)
    at.checkbox(key="compare_store").check()
    at.button(key="compare_run").click().run()
    first = at.dataframe[0].value

    again = open_page("app_pages/history.py")  # another session, as a user coming back later
    again.button(key="history_open").click().run()
    assert not again.exception, again.exception
    assert again.title[0].value == "Compare strategies"
    assert again.dataframe[0].value.equals(first)
    assert not [w for w in again.warning if shown(w.value).startswith("Stale")]
    line = next(shown(c.value) for c in again.caption if shown(c.value).startswith("Computed from"))
    assert "200 accounts × 14 days × 2 replications × seed 19" in line


@pytest.mark.parametrize("stem", ["baseline", "sms_gentle", "call_heavy", "early_field", "cn_2025"])
def test_lab_tables_keep_every_shipped_scenario_unchanged(stem):
    # The lab edits a scenario through its ladder and team tables: unedited, they must give it back exactly.
    from app_support.lab import apply_tables, step_rows, team_rows
    from sim.scenario import Scenario

    scenario = load_scenario(SCENARIOS / f"{stem}.toml")
    content = scenario.content()
    again = Scenario.from_dict(apply_tables(content, step_rows(content), team_rows(content)), source="x",
                               base_dir=str(SCENARIOS))
    assert again.content_hash == scenario.content_hash


def test_lab_team_table_a_head_count_replaces_a_scaled_teams_ratio():
    from app_support.lab import apply_tables, step_rows, team_rows
    from sim.scenario import Scenario

    content = load_scenario(SCENARIOS / "baseline.toml").content()
    teams = team_rows(content)
    callers = next(row for row in teams if row["name"] == "callers")
    callers["agents"] = 12
    again = Scenario.from_dict(apply_tables(content, step_rows(content), teams), source="x", base_dir=str(SCENARIOS))
    assert again.teams["callers"].agents == 12 and again.teams["callers"].agents_per_1000 is None
    assert again.teams["inbound"].agents_per_1000 == 0.05  # untouched teams keep their ratio


def test_history_opens_right_after_a_single_run(tmp_path):
    # ``python -m sim run`` stores by default, as an experiment of kind "run" whose summary is its KPIs only.
    from app_support.kpis import fmt
    from sim.experiment import record_run
    from sim.store import ResultStore

    scenario = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 200, "simulation.days": 14})
    result = simulate(scenario, scenario.simulation.seed, contact_log=False)
    record_run(ResultStore(tmp_path / "runs.duckdb").ensure(), scenario, result)

    at = open_page("app_pages/history.py")
    assert not errors(at)
    assert list(at.dataframe[0].value["Kind"]) == ["run"]
    kpis = at.dataframe[1].value
    assert list(kpis.columns) == ["KPI", "Unit", "baseline"]
    shown = dict(zip(kpis["KPI"], kpis["baseline"], strict=True))
    assert shown["Net recovery"] == fmt("net_recovery", result.kpis["net_recovery"])
    assert len(at.dataframe[2].value) == 1  # the one replication


@pytest.fixture
def downloads(monkeypatch):
    """What each download button serves, by its media URL (AppTest keeps no media after a run)."""
    from streamlit.runtime.memory_media_file_storage import MemoryMediaFileStorage

    served: dict[str, bytes] = {}
    load = MemoryMediaFileStorage.load_and_get_id

    def keep(self, path_or_data, mimetype, kind, filename=None):
        file_id = load(self, path_or_data, mimetype, kind, filename)
        served[self.get_url(file_id)] = path_or_data if isinstance(path_or_data, bytes) else path_or_data.encode()
        return file_id

    monkeypatch.setattr(MemoryMediaFileStorage, "load_and_get_id", keep)
    return served


def test_compare_and_history_offer_the_management_report(downloads):
    at = open_page("app_pages/compare.py")
    at.number_input(key="compare_accounts").set_value(200)
    at.number_input(key="compare_days").set_value(14)
    at.number_input(key="compare_reps").set_value(2)
    at.number_input(key="compare_seed").set_value(13)
    at.checkbox(key="compare_store").check()
    at.button(key="compare_run").click().run()
    assert not at.exception, at.exception
    page = downloads[at.download_button(key="compare_report").proto.url].decode("utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert 'id="repaylab-data"' in page and page.count("<svg") >= 6

    at.switch_page("app_pages/history.py").run()
    assert not at.exception, at.exception
    again = downloads[at.download_button(key="history_report").proto.url].decode("utf-8")
    assert again.startswith("<!DOCTYPE html>")
    assert re.search(r'"id": "(e[0-9a-f]+)"', again).group(1) == re.search(r'"id": "(e[0-9a-f]+)"', page).group(1)


def test_compare_without_the_store_says_how_to_get_a_report():
    at = open_page("app_pages/compare.py")
    at.number_input(key="compare_accounts").set_value(200)
    at.number_input(key="compare_days").set_value(14)
    at.number_input(key="compare_reps").set_value(1)
    at.button(key="compare_run").click().run()
    assert not at.exception, at.exception
    assert any("download a report" in c.value for c in at.caption)
    with pytest.raises(KeyError):
        at.download_button(key="compare_report")


def test_lab_fidelity_shows_the_reports_table():
    from sim.fidelity import fidelity, table_rows

    at = open_page("app_pages/lab.py")
    at.number_input(key="lab_accounts").set_value(300)
    at.number_input(key="lab_days").set_value(60)
    at.number_input(key="lab_fidelity_reps").set_value(1)
    at.button(key="lab_fidelity_run").click().run()
    assert not at.exception, at.exception
    assert not errors(at)

    scenario = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 300, "simulation.days": 60})
    expected = table_rows(fidelity(scenario, 1, scenario.simulation.seed))
    table = next(d.value for d in at.dataframe if "In range" in d.value.columns)
    assert [tuple(row) for row in table[["Check", "Value", "Range", "In range"]].itertuples(index=False)] == expected


# ----------------------------------------------------------------------------- champion/challenger (issue 17)


def test_compare_test_size_calculator_shows_the_librarys_figures():
    from sim.power import rate_test_size

    at = open_page("app_pages/compare.py")
    at.number_input(key="power_base").set_value(0.30)
    at.number_input(key="power_lift").set_value(2.0)
    at.number_input(key="power_share").set_value(0.5)
    at.number_input(key="power_inflow").set_value(3000).run()
    assert not at.exception, at.exception
    size = rate_test_size("cure_rate", 0.30, lift=0.02, share=0.5, alpha=0.05, power=0.8, inflow=3000)
    assert (size.accounts_champion, size.accounts_challenger, size.accounts_total) == (8394, 8394, 16788)
    assert metric(at, "Champion accounts") == "8,394"
    assert metric(at, "Challenger accounts") == "8,394"
    assert metric(at, "Total accounts") == "16,788"
    assert metric(at, "Months of inflow") == f"{size.months:,}"
    assert any(size.method in shown(c.value) for c in at.caption)

    at.radio(key="power_find").set_value("Lift the accounts can detect").run()
    at.number_input(key="power_accounts").set_value(10_000).run()
    detect = rate_test_size("cure_rate", 0.30, accounts=10_000, share=0.5)
    assert metric(at, "Detectable lift") == f"{100 * detect.detectable_lift:+.2f} pp"
    assert metric(at, "Detectable fall") == f"{-100 * detect.detectable_drop:+.2f} pp"


def test_compare_test_size_calculator_shows_the_librarys_error():
    at = open_page("app_pages/compare.py")
    at.number_input(key="power_base").set_value(0.99)
    at.number_input(key="power_lift").set_value(5.0).run()
    assert not at.exception, at.exception
    assert len(errors(at)) == 1 and "--lift" in errors(at)[0] and "outside (0, 1)" in errors(at)[0]


def test_compare_champion_challenger_shows_simulates_readout():
    at = open_page("app_pages/compare.py")
    at.radio(key="compare_mode").set_value("One book, champion/challenger").run()
    assert at.selectbox(key="cc_scenario").value == "champion_challenger"
    at.number_input(key="cc_accounts").set_value(500)
    at.number_input(key="cc_days").set_value(30)
    at.number_input(key="cc_seed").set_value(5)
    at.button(key="cc_run").click().run()
    assert not at.exception, at.exception
    assert not errors(at)

    sizes = {"simulation.accounts": 500, "simulation.days": 30}
    direct = simulate(load_scenario(SCENARIOS / "champion_challenger.toml", sizes), 5, contact_log=False)
    table = at.dataframe[0].value
    assert list(table.columns) == ["KPI", "Unit", "baseline (champion)", "sms_gentle"]
    cure = table.set_index("KPI").loc["Cure rate"]
    for column, name in (("baseline (champion)", "baseline"), ("sms_gentle", "sms_gentle")):
        assert cure[column] == f"{100 * direct.kpis_by_strategy[name]['cure_rate']:.1f} %"
    tests = at.dataframe[1].value.set_index("KPI")
    expected = direct.strategy_tests["sms_gentle"]["cure_rate"]
    assert tests.loc["Cure rate", "Difference"] == f"{100 * expected['difference']:+,.2f} pp"
    assert tests.loc["Cure rate", "95 % interval"] == \
        f"{100 * expected['ci_low']:+,.2f} … {100 * expected['ci_high']:+,.2f} pp"
    assert tests.loc["Cure rate", "p-value"] == f"{expected['p_value']:.3g}"
    assert table.set_index("KPI").loc["Cash per account", "Unit"] == "USD per account"
    assert tests.loc["Cure rate", "Unit"] == "pp"


def test_compare_champion_challenger_says_when_there_is_no_challenger():
    at = open_page("app_pages/compare.py")
    at.radio(key="compare_mode").set_value("One book, champion/challenger").run()
    at.selectbox(key="cc_scenario").set_value("baseline").run()
    assert not at.exception, at.exception
    assert any("has one strategy" in shown(i.value) for i in at.info)
    assert not at.get("button") or all(b.key != "cc_run" for b in at.button)


@pytest.mark.parametrize("page, mode", [("app_pages/compare.py", None), ("app_pages/compare.py", "one book"),
                                        ("app_pages/lab.py", None), ("app_pages/payoff.py", None)])
def test_every_uploader_states_the_limit_the_app_enforces(page, mode):
    from app_support.common import MAX_UPLOAD_BYTES

    at = open_page(page)
    if mode:
        at.radio(key="compare_mode").set_value("One book, champion/challenger").run()
        assert not at.exception, at.exception
    uploaders = at.get("file_uploader")
    assert uploaders
    for uploader in uploaders:
        # The browser shows "Limit {max_upload_size_mb}MB per file"; the app refuses more than MAX_UPLOAD_BYTES.
        assert uploader.proto.max_upload_size_mb == 1
        assert MAX_UPLOAD_BYTES <= uploader.proto.max_upload_size_mb * 1_000_000


def test_every_page_defaults_to_at_least_five_replications():
    replications = {"app_pages/compare.py": ["compare_reps"],
                    "app_pages/lab.py": ["lab_sweep_reps", "lab_sens_reps", "lab_fidelity_reps"]}
    for page, keys in replications.items():
        at = open_page(page)
        for key in keys:
            assert at.number_input(key=key).value >= 5, key
    at = open_page("app_pages/capacity.py")
    at.number_input(key="cap_accounts").set_value(300)
    at.number_input(key="cap_days").set_value(14)
    at.button(key="cap_solve").click().run()
    assert not at.exception, at.exception
    assert at.number_input(key="cap_verify_reps").value >= 5


def test_too_wide_is_a_half_width_above_ten_percent_of_the_mean():
    from app_support.kpis import too_wide
    from sim.experiment import Estimate

    assert not too_wide(Estimate(100.0, 90.5, 109.5, 5))  # ± 9.5 %
    assert too_wide(Estimate(100.0, 89.0, 111.0, 5))  # ± 11 %
    assert too_wide(Estimate(-100.0, -111.0, -89.0, 5))  # the mean's size, whatever its sign
    assert too_wide(Estimate(100.0, float("nan"), float("nan"), 1))  # one replication: no interval


def test_compare_warns_when_the_interval_is_too_wide_to_decide():
    at = open_page("app_pages/compare.py")
    at.number_input(key="compare_accounts").set_value(300)
    at.number_input(key="compare_days").set_value(20)
    at.number_input(key="compare_reps").set_value(2)
    at.button(key="compare_run").click().run()
    assert not at.exception, at.exception
    warnings = [shown(w.value) for w in at.warning]
    assert any(w.startswith("Too uncertain to decide anything: the net-recovery interval of baseline")
               and "over 2 replications" in w for w in warnings), warnings


def test_lab_sweep_warns_when_the_interval_is_too_wide():
    at = open_page("app_pages/lab.py")
    at.number_input(key="lab_accounts").set_value(300)
    at.number_input(key="lab_days").set_value(20)
    at.run()
    at.number_input(key="lab_sweep_reps").set_value(1)
    at.text_input(key="lab_sweep_values").set_value("3")
    at.button(key="lab_sweep_run").click().run()
    assert not at.exception, at.exception
    assert any("Too uncertain to decide anything" in shown(w.value) for w in at.warning)


def test_capacity_shows_infeasible_head_counts_instead_of_dropping_them():
    from app_support.charts import objective_by_agents

    at = open_page("app_pages/capacity.py")
    from optimizer.allocation import solve

    at.number_input(key="cap_accounts").set_value(300)
    at.number_input(key="cap_days").set_value(14)
    at.button(key="cap_solve").click().run()
    assert not at.exception, at.exception
    scenario = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 300, "simulation.days": 14})
    now = round(scenario.teams["callers"].full_time_equivalents, 2)
    assert now == 0.12  # 0.4 callers per 1,000 of 300 accounts: one part-timer, counted by its share
    table = next(d.value for d in at.dataframe if "Optimal objective (USD)" in d.value.columns)
    rows = dict(zip(table["Agents"], table["Optimal objective (USD)"], strict=True))
    # No call agent: a head count the LP may have no plan for is shown, not dropped ("infeasible" in the
    # table; the chart's label for it is checked below). Here the own ladder after the bucket does not fit
    # 0.12 callers, so treatments are valued kept for the whole horizon, and without callers a plan of
    # messages and letters alone is feasible.
    assert 0 in rows and (rows[0] == "infeasible" or float(rows[0].replace(",", "")) > 0)
    # The curve is the LP's optimum at each size: at today's size, the LP the plan was chosen from (here the
    # returned plan may be a reference ladder, which does not change the LP's optimum).
    assert rows[now] == number(solve(allocate(scenario).model).objective)
    assert len(rows) == len({round(now * f, 2) for f in (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)})

    figure = objective_by_agents([(0, None), (2, 5.0), (4, 6.0)], "callers", 4)
    labels = figure.axes[0].get_legend_handles_labels()[1]
    assert "infeasible: no plan" in labels
    assert [t.get_text() for t in figure.axes[0].texts] == ["infeasible"]


def _lab_small(stem: str = "baseline") -> AppTest:
    at = open_page("app_pages/lab.py")
    if stem != "baseline":
        at.selectbox(key="lab_base").set_value(stem).run()
    at.number_input(key="lab_accounts").set_value(300)
    at.number_input(key="lab_days").set_value(20)
    at.run()
    assert not errors(at), errors(at)
    return at


def test_lab_tornado_runs_with_its_own_default_steps():
    # call_heavy's call step comes every day: the old default step (1) took it to 0 and the run failed.
    at = _lab_small("call_heavy")
    at.number_input(key="lab_sens_reps").set_value(2)
    at.button(key="lab_sens_run").click().run()
    assert not at.exception, at.exception
    assert not errors(at), errors(at)
    assert not at.get("progress") or all(p.proto.value == 100 for p in at.get("progress"))
    assert any("Too uncertain to decide anything" in shown(w.value) for w in at.warning)  # 2 replications
    table = next(d.value for d in at.dataframe if any(str(c).startswith("Swing") for c in d.value.columns))
    assert "teams.callers.agents_per_1000" in set(table["Field"])


def test_lab_tornado_checks_the_steps_before_running_in_the_labs_words():
    at = _lab_small("hawkes_baseline")  # its ladder has the legal step
    # The legal step (ladder step 6) comes every day: a ± 1 step would take it to 0.
    at.session_state["lab_sens_params"] = {
        "edited_rows": {}, "deleted_rows": [],
        "added_rows": [{"field": "strategy.steps.5.every_days", "step": 1}]}
    at.run()
    at.button(key="lab_sens_run").click().run()
    assert not at.exception, at.exception
    shown_errors = errors(at)
    assert len(shown_errors) == 1, shown_errors
    message = shown_errors[0]
    assert message.startswith("Sensitivity: row 4: every days of ladder step 6 (legal) is 1; 1 − 1 = 0 is not "
                              "allowed ("), message
    assert "remove the row" in message
    assert "--param" not in message
    assert not at.get("progress")  # nothing started
    assert not [d for d in at.dataframe if "swing" in d.value.columns]
