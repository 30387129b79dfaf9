"""Teams that scale: ``agents_per_1000`` keeps the staffing ratio whatever the book's size."""

from __future__ import annotations

import tomllib

import numpy as np
import pytest

from sim.cli import main
from sim.engine.teams import Team, part_time_shifts
from sim.errors import ScenarioError
from sim.scenario import Scenario, TeamSection, load_scenario, part_time_share, scaled_agents
from sim.simulation import simulate

from simhelpers import SCENARIOS

pytestmark = pytest.mark.usefixtures("private_store")


def _scaled(tmp_path, per_1000=0.4, extra=""):
    path = tmp_path / "scaled.toml"
    path.write_text(f'extends = "{SCENARIOS / "baseline.toml"}"\n'
                    f"[teams.callers]\nagents_per_1000 = {per_1000}\n{extra}")
    return path


def test_the_ratio_is_kept_under_accounts(tmp_path):
    path = _scaled(tmp_path)  # baseline's 8 callers for its 20,000 accounts, as a ratio
    assert load_scenario(path).teams["callers"].agents == 8
    for accounts, agents in ((5_000, 2), (2_500, 1), (1_000, 1), (100_000, 40), (21_250, 9)):
        scenario = load_scenario(path, {"simulation.accounts": accounts})
        assert scenario.teams["callers"].agents == agents, accounts
    # The run staffs what the scenario says: the warm-up on 5,000 accounts (2 callers), the measured days
    # on the book at their start (its fraction a part-timer, so one more name).
    result = simulate(load_scenario(path, {"simulation.accounts": 5_000, "simulation.days": 1}))
    measured = scaled_agents(0.4, result.kpis["book_at_start"])
    assert measured >= 2
    names = [a for a in result.contact_log.agent_names if a.startswith("callers")]
    assert names == [f"callers-{k + 1}" for k in range(measured)]


def test_a_fractional_size_is_rounded_up_and_the_last_agent_works_part_time():
    assert scaled_agents(0.5, 1_000) == 1 and scaled_agents(2.5, 1_000) == 3 and scaled_agents(1.49, 1_000) == 2
    assert scaled_agents(0.01, 10) == 1 and scaled_agents(0.0, 50_000) == 0
    assert part_time_share(0.4, 800) == pytest.approx(0.32) and part_time_share(1.49, 1_000) == pytest.approx(0.49)
    # Whole sizes are all full-time, binary fractions included (0.05 × 20,000 / 1,000 is not exactly 1 in floats).
    assert part_time_share(0.4, 5_000) == 1.0 and part_time_share(0.05, 20_000) == 1.0
    assert part_time_share(0.4, 20_000) == 1.0 and scaled_agents(0.05, 20_000) == 1
    scenario = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 800})
    assert scenario.teams["callers"].agents == 1 and scenario.teams["callers"].part_time_share == pytest.approx(0.32)
    # A count given in code replaces the ratio and its part-timer.
    assert scenario.with_overrides({"teams.callers.agents": 3}).teams["callers"].part_time_share == 1.0


def test_the_part_timer_works_the_start_of_each_shift():
    team = Team(name="callers", spec=TeamSection(), agent_ids=[0, 1], shifts=[(540, 780), (840, 1080)])
    team.set_part_time(0.32)
    assert team.part_time_shifts == [(540, 617), (840, 917)]  # 77 of each 240 minutes: ends early
    assert team.shifts_of(0) == team.shifts and team.shifts_of(1) == team.part_time_shifts
    assert team.staffed_minutes() == 480 + 154
    team.set_part_time(1.0)
    assert team.part_time_shifts is None and team.staffed_minutes() == 960
    assert part_time_shifts([(540, 780)], 0.0) == [(540, 541)]  # a size that rounds to nothing still starts


def _callers_calls(accounts: int):
    scenario = load_scenario(SCENARIOS / "hawkes_baseline.toml",  # a closed book: staffed once, on `accounts`
                             {"simulation.accounts": accounts, "simulation.days": 20})
    log = simulate(scenario).contact_log
    callers = np.array([name.startswith("callers") for name in log.agent_names] + [False])
    return log.minute[callers[log.agent]] % (24 * 60)  # agent -1 (no agent) reads the False at the end


def test_a_small_book_gets_the_calling_its_ratio_pays_for():
    # 0.4 callers per 1,000: 0.32 agents for 800 accounts, 2 for 5,000. Rounding 0.32 up to a full agent
    # called each account about three times as often as the large book; the part-timer keeps it within 15 %.
    # 20 days, not 10: over 10 days 800 accounts' calls per account vary ±20 % from seed to seed alone.
    small, large = _callers_calls(800), _callers_calls(5_000)
    assert small.size / 800 == pytest.approx(large.size / 5_000, rel=0.15)
    # The part-timer dials within the first 77 minutes of each shift (09:00-13:00, 14:00-18:00).
    assert np.all(((small >= 540) & (small < 617)) | ((small >= 840) & (small < 917)))


def test_a_scaled_team_is_written_as_its_ratio_and_reads_back(tmp_path):
    scenario = load_scenario(_scaled(tmp_path, 1.25), {"simulation.accounts": 4_000})
    team = scenario.content()["teams"]["callers"]
    assert team["agents_per_1000"] == 1.25 and "agents" not in team
    again = Scenario.from_dict(tomllib.loads(scenario.to_toml()))
    assert again.teams["callers"].agents == 5 and again.content_hash == scenario.content_hash


def test_setting_agents_replaces_the_ratio(tmp_path):
    scenario = load_scenario(_scaled(tmp_path))
    fixed = scenario.with_overrides({"teams.callers.agents": 12})
    assert fixed.teams["callers"].agents == 12 and fixed.teams["callers"].agents_per_1000 is None
    # and a ratio replaces a count inherited from the file a variant extends (baseline's agents = 8)
    assert load_scenario(SCENARIOS / "baseline.toml",
                         {"teams.callers.agents_per_1000": 1.0}).teams["callers"].agents == 20


@pytest.mark.parametrize(("team", "says"), [
    ({"agents": 5, "agents_per_1000": 1.0}, "teams.callers: give agents or agents_per_1000, not both"),
    ({"agents_per_1000": -1}, "teams.callers.agents_per_1000: Input should be greater than or equal to 0"),
    ({"agents_per_1000": "many"}, "teams.callers.agents_per_1000"),
    ({"agents_per_1000": 900.0}, "is 9,000,000 agents; a team has at most 100,000"),
])
def test_validation_errors_are_one_line(team, says):
    data = {"simulation": {"accounts": 10_000_000}, "teams": {"callers": team}}
    with pytest.raises(ScenarioError) as err:
        Scenario.from_dict(data, source="s.toml")
    assert says in str(err.value) and "\n" not in str(err.value)


def test_a_csv_book_is_staffed_on_its_own_accounts(tmp_path):
    rows = "".join(f"{i},{100 + i},{1 + i % 90}\n" for i in range(2_500))
    (tmp_path / "accounts.csv").write_text("account_id,balance,days_past_due\n" + rows + "\n")
    data = {"portfolio": {"csv": "accounts.csv"}, "teams": {"callers": {"agents_per_1000": 2}}}
    scenario = Scenario.from_dict(data, base_dir=str(tmp_path))
    assert scenario.teams["callers"].agents == 5  # 2 per 1,000 of the CSV's 2,500 accounts
    with pytest.raises(ScenarioError, match="teams.callers.agents_per_1000: counts the accounts of portfolio.csv"):
        Scenario.from_dict({**data, "portfolio": {"csv": "missing.csv"}}, base_dir=str(tmp_path))


def test_both_in_one_file_is_one_line_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "both.toml"
    path.write_text("[teams.callers]\nagents = 4\nagents_per_1000 = 0.5\n")
    assert main(["validate", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {path}: teams.callers: give agents or agents_per_1000, not both"


def test_the_planners_capacity_counts_a_part_timer_by_its_share():
    # The optimizer's weekly minutes are the people's paid minutes: 0.32 agents is 0.32 of a full-time agent's
    # week, not a whole agent (which would let the LP plan calls nobody is there to make).
    from optimizer.allocation import one_more_agent
    from optimizer.allocation.lp import team_capacity

    small = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 800, "simulation.days": 14})
    whole = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 5000, "simulation.days": 14})
    callers_small, callers_whole = small.teams["callers"], whole.teams["callers"]
    assert callers_small.full_time_equivalents == pytest.approx(0.32)
    assert callers_whole.full_time_equivalents == 2
    week = team_capacity(small, 14)[("callers", 0)]
    assert week == pytest.approx(team_capacity(whole, 14)[("callers", 0)] * 0.32 / 2)
    # One more agent is one more full-time agent's minutes, the part-timer staying part-time.
    more = one_more_agent(small, "callers", 14)[("callers", 0)]
    assert more - week == pytest.approx(team_capacity(whole, 14)[("callers", 0)] / 2, rel=1e-4)
