"""Champion/challenger in one book: the schema, the assignment, one run with shared teams, the within-run tests."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from scipy import stats

from sim.arms import (
    assign,
    largest_remainder,
    strata_of,
    stratified_assignment,
    two_proportion_test,
    welch_test,
    within_run_tests,
)
from sim.cli import main
from sim.domain import RollState
from sim.errors import ScenarioError
from sim.portfolio import build_portfolio
from sim.scenario import Scenario, load_scenario, load_scenario_text
from sim.simulation import simulate
from sim.streams import STREAM_NAMES, RandomStreams

from simhelpers import QUIET_BOOK, SCENARIOS, scenario

SMS = {"channel": "sms", "from_dpd": 1, "to_dpd": 400, "every_days": 3}
CALL = {"channel": "call", "from_dpd": 1, "to_dpd": 400, "every_days": 2}


def arms_data(*arms: dict) -> dict:
    return {"simulation": {"days": 20, "accounts": 600}, "strategies": list(arms)}


def two_arms(champion_steps=(SMS,), challenger_steps=(CALL,), shares=(0.7, 0.3)) -> dict:
    return arms_data({"name": "champ", "share": shares[0], "champion": True, "steps": list(champion_steps)},
                     {"name": "chall", "share": shares[1], "steps": list(challenger_steps)})


def error_of(data: dict) -> str:
    with pytest.raises(ScenarioError) as err:
        scenario(data)
    line = str(err.value)
    assert "\n" not in line
    return line


# ----------------------------------------------------------------------------- schema


def test_the_champion_is_the_scenarios_strategy():
    s = scenario(two_arms())
    assert [a.name for a in s.strategies] == ["champ", "chall"]
    assert s.strategy.name == "champ" and s.strategy.steps[0].channel == "sms"
    assert "strategy" not in s.content()  # the champion's is in strategies already
    assert load_scenario_text(s.to_toml()).content_hash == s.content_hash


@pytest.mark.parametrize(("change", "expected"), [
    ({"strategies": [{"name": "a", "share": 1.0, "champion": True}]}, "needs 2 to 10 strategies, got 1"),
    ({"strategies": [{"name": "a", "share": 0.5}, {"name": "b", "share": 0.5}]}, "none has it"),
    ({"strategies": [{"name": "a", "share": 0.5, "champion": True}, {"name": "b", "share": 0.5, "champion": True}]},
     "strategies.1.champion: exactly one strategy is the champion; 'a' and 'b' both are"),
    ({"strategies": [{"name": "a", "share": 0.5, "champion": True}, {"name": "b", "share": 0.4}]},
     "shares must add up to 1 (they add up to 0.9)"),
    ({"strategies": [{"name": "a", "share": 0.5, "champion": True}, {"name": "a", "share": 0.5}]},
     "strategies.1.name: duplicate strategy name 'a'"),
    ({"strategies": [{"name": "a", "share": 0.5, "champion": True}, {"name": "b", "share": 0.5, "priority": "balance"}]},
     "strategies.1.priority: the strategies share one call list; set it on the champion only"),
    ({"strategies": [{"name": "a", "share": 0.5, "champion": True},
                     {"name": "b", "share": 0.5, "steps": [{**SMS, "segments": ["nobody"]}]}]},
     "strategies.1.steps.0.segments: unknown segment 'nobody'"),
])
def test_bad_strategies_are_one_line(change, expected):
    assert expected in error_of(change)


def test_both_kinds_of_strategy_are_refused():
    # (The test helper merges as extends does, where the nearer kind replaces the other.)
    with pytest.raises(ScenarioError, match=r"strategies: give one \[strategy\] or several \[\[strategies\]\], not both"):
        Scenario.from_dict({**two_arms(), "strategy": {"name": "x"}})


def test_shares_add_up_to_one_within_rounding():
    s = scenario(arms_data({"name": "a", "share": 0.1, "champion": True}, {"name": "b", "share": 0.2},
                           {"name": "c", "share": 0.7}))
    assert len(s.strategies) == 3


def write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_from_takes_another_scenarios_ladder_and_extends_drops_the_one_strategy(tmp_path):
    write(tmp_path / "one.toml", '[strategy]\nname = "one"\npriority = "days_past_due"\n'
                                 '[[strategy.steps]]\nchannel = "letter"\nfrom_dpd = 1\nto_dpd = 90\n')
    cc = write(tmp_path / "cc.toml", 'extends = "one.toml"\n'
                                     '[[strategies]]\nshare = 0.5\nchampion = true\nfrom = "one.toml"\n'
                                     '[[strategies]]\nname = "quiet"\nshare = 0.5\n')
    s = load_scenario(cc)
    assert [a.name for a in s.strategies] == ["one", "quiet"]  # the name follows the file's strategy
    assert s.strategy.priority == "days_past_due"  # the champion's call list settings come along
    assert s.strategies[0].steps[0].channel == "letter" and not s.strategies[1].steps


@pytest.mark.parametrize(("arm", "expected"), [
    ('from = "missing.toml"', "strategies.1.from: 'missing.toml': file not found"),
    ('from = "cc.toml"', "strategies.1.from: 'cc.toml' has [[strategies]]"),
    ('from = "one.toml"\nsteps = []', "strategies.1.from: give steps or from, not both"),
    ("from = 3", "strategies.1.from: must be the path of another scenario file"),
])
def test_a_bad_from_is_one_line(tmp_path, arm, expected):
    write(tmp_path / "one.toml", '[strategy]\nname = "one"\n')
    write(tmp_path / "cc.toml", '[[strategies]]\nname = "a"\nshare = 0.5\nchampion = true\n'
                                f'[[strategies]]\nname = "b"\nshare = 0.5\n{arm}\n')
    with pytest.raises(ScenarioError) as err:
        load_scenario(tmp_path / "cc.toml")
    assert expected in str(err.value)


def test_one_file_with_both_kinds_is_refused_even_though_extends_lets_one_replace_the_other(tmp_path):
    path = write(tmp_path / "both.toml", '[strategy]\nname = "x"\n[[strategies]]\nname = "a"\nshare = 1.0\n')
    with pytest.raises(ScenarioError, match="not both"):
        load_scenario(path)


def test_uploads_may_not_name_files():
    text = '[[strategies]]\nname = "a"\nshare = 0.5\nchampion = true\nfrom = "x.toml"\n'
    with pytest.raises(ScenarioError, match="strategies.0.from: not allowed here"):
        load_scenario_text(text)


def test_the_shipped_example_is_baseline_against_sms_gentle():
    s = load_scenario(SCENARIOS / "champion_challenger.toml")
    baseline, gentle = (load_scenario(SCENARIOS / f"{n}.toml") for n in ("baseline", "sms_gentle"))
    assert [(a.name, a.share, a.champion) for a in s.strategies] == [("baseline", 0.8, True),
                                                                    ("sms_gentle", 0.2, False)]
    assert s.strategies[0].steps == baseline.strategy.steps
    assert s.strategies[1].steps == gentle.strategy.steps
    assert s.champion_world().strategy == baseline.strategy


# ----------------------------------------------------------------------------- assignment


@pytest.mark.parametrize("size", [0, 1, 2, 7, 10, 999])
def test_largest_remainder_adds_up_and_rounds_each_quota(size):
    shares = np.array([0.5, 0.3, 0.2])
    counts = largest_remainder(size, shares)
    assert counts.sum() == size
    assert np.all(np.abs(counts - shares * size) < 1)


def test_every_stratum_gets_its_shares_within_rounding():
    s = scenario(two_arms(shares=(0.8, 0.2)), base={"simulation": {"accounts": 3000}})
    streams = RandomStreams(5)
    book = build_portfolio(s, streams["portfolio"])
    arms = assign(s, book, streams)
    strata = strata_of(book)
    assert len(np.unique(strata)) > 10
    for stratum in np.unique(strata):
        members = arms.arm[strata == stratum]
        expected = largest_remainder(members.size, np.array([0.8, 0.2]))
        assert np.array_equal(np.bincount(members, minlength=2), expected)


def test_assignment_is_reproducible_and_independent_of_the_ladders():
    book_of = lambda s, seed: build_portfolio(s, RandomStreams(seed)["portfolio"])  # noqa: E731
    a = scenario(two_arms())
    b = scenario(two_arms(challenger_steps=(SMS, CALL, {"channel": "letter", "from_dpd": 5, "to_dpd": 90})))
    first = assign(a, book_of(a, 3), RandomStreams(3)).arm
    assert np.array_equal(first, assign(a, book_of(a, 3), RandomStreams(3)).arm)
    assert np.array_equal(first, assign(b, book_of(b, 3), RandomStreams(3)).arm)
    assert not np.array_equal(first, assign(a, book_of(a, 4), RandomStreams(4)).arm)


def test_the_assignment_stream_is_new_so_no_other_stream_moves():
    # Streams added after it (the card model's "redefault", the offers', an open book's) are newer still: those before it never move.
    children = np.random.SeedSequence(11).spawn(STREAM_NAMES.index("assignment"))
    streams = RandomStreams(11)
    for name, child in zip(STREAM_NAMES, children, strict=False):
        assert streams[name].random() == np.random.Generator(np.random.PCG64(child)).random()


def test_a_csv_book_gets_the_same_arms_in_every_replication(tmp_path):
    rows = "\n".join(f"{1000 + i},{500 + i},{1 + i % 150}" for i in range(400))
    write(tmp_path / "accounts.csv", "account_id,balance,days_past_due\n" + rows + "\n")
    data = two_arms()
    data["portfolio"] = {"csv": str(tmp_path / "accounts.csv")}
    s = scenario(data)
    from sim.portfolio import read_portfolio_csv

    book = read_portfolio_csv(s.csv_path, s)
    arms = [assign(s, book, RandomStreams(seq)).arm for seq in np.random.SeedSequence(1).spawn(3)]
    assert np.array_equal(arms[0], arms[1]) and np.array_equal(arms[0], arms[2])
    assert 0.25 < arms[0].mean() < 0.35


def test_stratified_assignment_draws_one_uniform_per_account():
    rng = np.random.default_rng(0)
    stratified_assignment(np.zeros(50, dtype=np.int64), [0.5, 0.5], rng)
    assert rng.random() == np.random.default_rng(0).random(51)[-1]


# ----------------------------------------------------------------------------- one run


def test_an_arm_without_steps_gets_no_contacts_while_the_other_does():
    s = scenario(two_arms(champion_steps=(SMS, CALL), challenger_steps=(), shares=(0.5, 0.5)), base=QUIET_BOOK)
    result = simulate(s, 1)
    by = result.kpis_by_strategy
    assert by["champ"]["contacts"]["sms"] > 0 and by["champ"]["contacts"]["call"] > 0
    assert sum(by["chall"]["contacts"].values()) == 0
    assert by["chall"]["agent_minutes"] == 0 and by["champ"]["agent_time_share"] == 1.0
    assert by["champ"]["accounts"] + by["chall"]["accounts"] == result.accounts


@pytest.fixture(scope="module")
def example_run():
    # The shipped file is baseline's open book: a 150-day warm-up, arrivals, re-defaults.
    s = load_scenario(SCENARIOS / "champion_challenger.toml", {"simulation.accounts": 1500, "simulation.days": 60})
    return simulate(s, 7, ledger=True), s


def test_the_shipped_example_runs_on_baselines_open_book(example_run):
    result, s = example_run
    assert s.arrivals is not None and s.simulation.warmup_days == 150
    assert result.kpis["measured_book"] == result.kpis["book_at_start"] + result.kpis["arrivals"]


def test_every_account_the_run_saw_is_in_exactly_one_strategy(example_run):
    result, s = example_run
    arms, population = result.arms, result.arms.population
    # One arm per row: the starting book, the warm-up's arrivals and the measured days' (rows in order of entry).
    assert arms.arm.size == result.accounts > s.simulation.accounts
    assert set(np.unique(arms.arm)) == {0, 1}
    assert sum(int(arms.members(k).sum()) for k in range(2)) == result.accounts
    arrived = arms.arm[s.simulation.accounts:]
    assert 0.15 < arrived.mean() < 0.25  # the challenger's 20 % of the arrivals too
    # Accounts outside the measured book that came back (re-defaults of warm-up cures) are read out in their arm.
    back = population.reentered & ~population.members
    assert back.sum() == sum(k["reentered"] for k in result.kpis_by_strategy.values()) > 0
    assert result.ledger.collected[back].sum() > 0


def test_kpis_by_strategy_add_up_to_the_books(example_run):
    result, _ = example_run
    by = result.kpis_by_strategy.values()
    kpis = result.kpis
    for key in ("collected", "cost", "written_off"):
        assert math.isclose(sum(k[key] for k in by), kpis[key], rel_tol=1e-9), key
    for key in ("complaints", "rolled_past_30"):
        assert sum(k[key] for k in by) == kpis[key], key
    for channel, total in kpis["contacts"].items():
        assert sum(k["contacts"][channel] for k in by) == total
    assert math.isclose(sum(k["agent_time_share"] for k in by), 1.0)
    # The open book's denominators (README, "An open book"), split by strategy: each book rate is the
    # strategies' rates weighted by their denominators.
    assert sum(k["accounts"] for k in by) == kpis["measured_book"]
    owed = sum(k["collected"] / k["recovery_rate"] for k in by)
    assert math.isclose(owed, kpis["initial_balance"] + kpis["arrived_balance"], rel_tol=1e-9)
    charged_off = sum(k["charge_off_rate"] * k["accounts"] for k in by)
    assert math.isclose(charged_off, kpis["charge_off_rate"] * kpis["measured_book"], rel_tol=1e-9)
    population, arms = result.arms.population, result.arms
    delinquent = [int((population.delinquent & population.mask(arms.members(k))).sum()) for k in range(2)]
    cured = sum(k["cure_rate"] * d for k, d in zip(by, delinquent, strict=True))
    assert math.isclose(cured, kpis["cure_rate"] * sum(delinquent), rel_tol=1e-9)
    assert math.isclose(sum(k["complaints_per_1000"] * k["accounts"] for k in by),
                        kpis["complaints_per_1000"] * kpis["measured_book"], rel_tol=1e-9, abs_tol=1e-9)


def test_a_champion_challenger_run_is_deterministic(example_run):
    result, s = example_run
    again = simulate(s, 7, ledger=True)
    assert np.array_equal(again.arms.arm, result.arms.arm)
    assert json.dumps(again.kpis_by_strategy, sort_keys=True) == json.dumps(result.kpis_by_strategy, sort_keys=True)
    assert again.strategy_tests == result.strategy_tests
    other = simulate(s, 8, contact_log=False)
    assert other.kpis_by_strategy["baseline"]["collected"] != result.kpis_by_strategy["baseline"]["collected"]


def test_the_challenger_takes_its_ladder_and_the_champion_keeps_its_own(example_run):
    by = example_run[0].kpis_by_strategy
    # baseline sends a letter from 45 days past due, sms_gentle from 60 and texts more often.
    assert by["baseline"]["contacts"]["letter"] / by["baseline"]["accounts"] > \
        by["sms_gentle"]["contacts"]["letter"] / by["sms_gentle"]["accounts"]
    assert by["sms_gentle"]["contacts"]["sms"] / by["sms_gentle"]["accounts"] > \
        by["baseline"]["contacts"]["sms"] / by["baseline"]["accounts"]


def test_the_within_run_test_is_the_hand_computation(example_run):
    result, _ = example_run
    ledger, arms = result.ledger, result.arms
    population = arms.population
    champ, chall = population.mask(arms.members(0)), population.mask(arms.members(1))
    delinquent = population.delinquent
    cured = (ledger.state_end == RollState.CURRENT) & delinquent
    x1, n1 = cured[champ].sum(), (delinquent & champ).sum()
    x2, n2 = cured[chall].sum(), (delinquent & chall).sum()
    p1, p2, pooled = x1 / n1, x2 / n2, (x1 + x2) / (n1 + n2)
    z = (p2 - p1) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    half = 1.959963984540054 * math.sqrt(p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2)
    test = result.strategy_tests["sms_gentle"]["cure_rate"]
    assert test["difference"] == pytest.approx(p2 - p1, abs=1e-12)
    assert test["ci_low"] == pytest.approx(p2 - p1 - half, abs=1e-9)
    assert test["ci_high"] == pytest.approx(p2 - p1 + half, abs=1e-9)
    assert test["p_value"] == pytest.approx(2 * stats.norm.sf(abs(z)), rel=1e-9)
    assert result.kpis_by_strategy["sms_gentle"]["cure_rate"] == pytest.approx(p2)

    # Cash per account: every account each strategy had in collection in the measured days (the measured
    # book and the re-entered), so the test's difference is the readout's.
    worked = [population.worked(arms.members(k)) for k in range(2)]
    cash = result.strategy_tests["sms_gentle"]["cash_per_account"]
    welch = stats.ttest_ind(ledger.collected[worked[1]], ledger.collected[worked[0]], equal_var=False)
    assert cash["p_value"] == pytest.approx(welch.pvalue, rel=1e-9)
    ci = welch.confidence_interval(0.95)
    assert (cash["ci_low"], cash["ci_high"]) == pytest.approx((ci.low, ci.high), rel=1e-9)
    by = result.kpis_by_strategy
    assert cash["difference"] == pytest.approx(by["sms_gentle"]["cash_per_account"] - by["baseline"]["cash_per_account"])
    assert within_run_tests(result, None, arms, population) == result.strategy_tests


def test_a_closed_book_is_read_out_as_before():
    # Without warm-up and arrivals every account is in the measured book and none re-enters.
    s = scenario(two_arms(champion_steps=(SMS, CALL)), base={"simulation": {"accounts": 400}})
    result = simulate(s, 3, ledger=True)
    book = build_portfolio(s, RandomStreams(3)["portfolio"])
    by = result.kpis_by_strategy
    assert sum(k["accounts"] for k in by.values()) == result.accounts == len(book)
    assert all(k["reentered"] == 0 for k in by.values())
    assert within_run_tests(result, book, result.arms) == result.strategy_tests


def holdout(accounts: int, days: int, challenger_steps=None):
    """The shipped book, half on baseline's ladder and half on ``challenger_steps`` (None: baseline's too)."""
    data = load_scenario(SCENARIOS / "champion_challenger.toml").content()
    data["simulation"].update(accounts=accounts, days=days)
    champion = load_scenario(SCENARIOS / "baseline.toml").strategy.model_dump()["steps"]
    data["strategies"] = [{"name": "baseline", "share": 0.5, "champion": True, "steps": champion},
                          {"name": "other", "share": 0.5,
                           "steps": champion if challenger_steps is None else challenger_steps}]
    return Scenario.from_dict(data, source="holdout")


def test_a_no_contact_holdout_shows_the_known_effect_of_collection():
    # Issue 15's holdout: no contact against the baseline ladder raises charge-off by 3 to 20 points.
    result = simulate(holdout(1500, 90, challenger_steps=[]), 1, contact_log=False)
    by, tests = result.kpis_by_strategy, result.strategy_tests["other"]
    assert sum(by["other"]["contacts"].values()) == 0 and by["other"]["agent_minutes"] == 0
    assert 0.03 <= by["other"]["charge_off_rate"] - by["baseline"]["charge_off_rate"] <= 0.20
    assert tests["cure_rate"]["ci_high"] < 0 and tests["cure_rate"]["p_value"] < 1e-6
    assert tests["roll_past_30_rate"]["ci_low"] > 0


def test_two_strategies_with_the_same_ladder_differ_by_noise_only():
    # An A/A test: the same ladder on both halves; the within-run tests find nothing.
    result = simulate(holdout(1500, 90), 1, contact_log=False)
    by, tests = result.kpis_by_strategy, result.strategy_tests["other"]
    assert abs(by["other"]["accounts"] - by["baseline"]["accounts"]) < 0.1 * by["baseline"]["accounts"]
    for kpi in ("cure_rate", "roll_past_30_rate", "cash_per_account"):
        assert tests[kpi]["p_value"] > 0.01, kpi
        assert tests[kpi]["ci_low"] < 0 < tests[kpi]["ci_high"], kpi


def test_two_proportion_and_welch_on_textbook_numbers():
    # 30 of 100 against 45 of 100: pooled p 0.375, z = 0.15 / sqrt(0.375 · 0.625 · 0.02) = 2.1909.
    test = two_proportion_test(30, 100, 45, 100)
    assert test["difference"] == pytest.approx(0.15)
    assert test["p_value"] == pytest.approx(2 * stats.norm.sf(0.15 / math.sqrt(0.375 * 0.625 * 0.02)))
    assert test["ci_low"] == pytest.approx(0.15 - 1.959964 * math.sqrt(0.21 / 100 + 0.2475 / 100), abs=1e-6)
    same = welch_test(np.ones(5), np.ones(7))
    assert same["difference"] == 0 and same["p_value"] == 1.0


def test_run_json_and_text_carry_the_readout(capsys):
    path = str(SCENARIOS / "champion_challenger.toml")
    assert main(["run", path, "--accounts", "400", "--days", "20", "--no-store", "--quiet", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["champion"] == "baseline"
    assert set(payload["kpis_by_strategy"]) == {"baseline", "sms_gentle"}
    assert set(payload["tests"]["sms_gentle"]["cure_rate"]) == {"difference", "ci_low", "ci_high", "p_value"}
    assert main(["run", path, "--accounts", "400", "--days", "20", "--no-store", "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "baseline (champion)" in text and "sms_gentle − baseline on this run's accounts" in text


def test_allocate_optimises_the_champions_world_and_says_so():
    from optimizer.allocation import allocate

    s = scenario(two_arms(), base={"simulation": {"accounts": 400}})
    plan = allocate(s, weeks=2, per_segment=5, passes=1).plan
    assert plan.note.startswith("champion/challenger file: optimised the champion's world (champ's ladder")
    assert "the challengers (chall)" in plan.to_dict()["note"]
    alone = allocate(s.champion_world(), weeks=2, per_segment=5, passes=1).plan
    assert np.array_equal(plan.counts, alone.counts) and plan.objective == alone.objective


def test_the_readmes_example_is_what_run_prints(capsys):
    from simhelpers import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "$ python -m sim run scenarios/champion_challenger.toml --accounts 3000 --no-store\n"
    start = readme.index(command) + len(command)
    shown = readme[start:readme.index("\n$ python -m sim run", start)]
    assert main(["run", str(SCENARIOS / "champion_challenger.toml"), "--accounts", "3000", "--no-store",
                 "--quiet"]) == 0
    assert capsys.readouterr().out.rstrip("\n") == shown


def test_compare_on_a_champion_challenger_file_pairs_the_strategies_by_replication(capsys):
    from sim.arms_compare import compare_arms
    from sim.experiment import replication_seeds

    s = scenario(two_arms(), base={"simulation": {"accounts": 300, "days": 15}})
    comparison = compare_arms(s, 3, 9)
    _, seeds = replication_seeds(9, 3)
    runs = [simulate(s, child, contact_log=False).kpis_by_strategy for child in seeds]
    gaps = [run["chall"]["cash_per_account"] - run["champ"]["cash_per_account"] for run in runs]
    low, high = stats.t.interval(0.95, 2, loc=np.mean(gaps), scale=stats.sem(gaps))
    got = comparison.differences["chall"]["cash_per_account"]
    assert (got.mean, got.ci_low, got.ci_high) == pytest.approx((np.mean(gaps), low, high), rel=1e-9)
    assert "agent_time_share" not in comparison.differences["chall"]

    path = str(SCENARIOS / "champion_challenger.toml")
    args = ["compare", path, "--reps", "2", "--accounts", "300", "--days", "15", "--no-store", "--quiet"]
    assert main([*args, "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["kind"] == "champion_challenger" and payload["champion"] == "baseline"
    assert set(payload["differences"]["sms_gentle"]["cure_rate"]) == {"mean", "ci_low", "ci_high", "significant"}
    assert main(args) == 0
    assert "sms_gentle − baseline" in capsys.readouterr().out


def test_the_readmes_compare_example_is_what_compare_prints(capsys):
    from simhelpers import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "$ python -m sim compare scenarios/champion_challenger.toml --reps 3 --accounts 3000 --no-store\n"
    start = readme.index(command) + len(command)
    shown = readme[start:readme.index("\n```", start)]
    path = str(SCENARIOS / "champion_challenger.toml")
    assert main(["compare", path, "--reps", "3", "--accounts", "3000", "--no-store", "--quiet", "--workers", "1"]) == 0
    assert capsys.readouterr().out.rstrip("\n") == shown
