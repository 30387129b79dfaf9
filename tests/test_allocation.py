"""Capacity allocation LP: known answers, duals, capacity, rounding, the ladder it becomes, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from optimizer.allocation import (
    allocate,
    build_allocation_model,
    largest_remainder,
    solve,
    team_capacity,
)
from optimizer.allocation.segments import Segments
from optimizer.allocation.treatments import Contact, Treatment, scenario_treatments
from optimizer.allocation.valuation import Valuation
from sim.portfolio import Portfolio
from sim.scenario import load_scenario
from sim.simulation import simulate

from simhelpers import ROOT, SCENARIOS

SOLVERS = ("highs", "cbc")


def valuation(value, minutes, spend=None, accounts=10):
    """A hand-made valuation: value (S, T), minutes (S, T, W) for team 'callers'."""
    value = np.asarray(value, dtype=float)
    S, T = value.shape
    minutes = np.asarray(minutes, dtype=float)
    if minutes.ndim == 2:
        minutes = minutes[:, :, None]
    p = Portfolio(np.arange(1), np.ones(1), np.ones(1), np.ones(1, dtype=np.int32), np.zeros(1, dtype=np.int16),
                  np.ones(1, bool), np.ones(1, bool), ("low",))
    seg = Segments(tuple(f"s{k}" for k in range(S)), np.ones(S, int), np.zeros(S, int), np.zeros(S, int),
                   np.full(S, accounts), np.ones(S), np.zeros(1, int), (0.0,), p)
    tr = tuple([Treatment(())] + [Treatment((Contact("call", k + 1),)) for k in range(T - 1)])
    spend = np.zeros((S, T)) if spend is None else np.asarray(spend, dtype=float)
    return Valuation(seg, tr, 7 * minutes.shape[2], value, value, spend, {"callers": minutes})


@pytest.mark.parametrize("solver", SOLVERS)
def test_known_answer_capacity_binds(solver):
    # One segment; calling everyone is worth 10 and takes 100 minutes; 40 minutes
    # available: call 40 %, objective 4, one more minute worth 0.1.
    v = valuation([[0.0, 10.0]], [[0.0, 100.0]])
    plan = solve(build_allocation_model(v, {("callers", 0): 40.0}), solver)
    assert plan.status == "optimal"
    assert plan.objective == pytest.approx(4.0)
    assert plan.shares[0] == pytest.approx([0.6, 0.4])
    assert plan.capacity_prices[("callers", 0)] == pytest.approx(0.1)
    assert plan.shadow_prices()["callers/0"] == pytest.approx(6.0)  # per agent hour
    assert plan.counts.tolist() == [[6, 4]]


@pytest.mark.parametrize("solver", SOLVERS)
def test_known_answer_two_segments_ranked_by_value_per_minute(solver):
    # Segment 0: 12 per 60 min (0.2/min); segment 1: 10 per 100 min (0.1/min).
    # 100 minutes: all of segment 0 (60), 40 % of segment 1 → 12 + 4 = 16; price 0.1.
    v = valuation([[0.0, 12.0], [0.0, 10.0]], [[0.0, 60.0], [0.0, 100.0]])
    plan = solve(build_allocation_model(v, {("callers", 0): 100.0}), solver)
    assert plan.objective == pytest.approx(16.0)
    assert plan.shares[:, 1] == pytest.approx([1.0, 0.4])
    assert plan.capacity_prices[("callers", 0)] == pytest.approx(0.1)


@pytest.mark.parametrize("solver", SOLVERS)
def test_work_asked_in_one_week_may_be_done_later_never_earlier(solver):
    # The engine's call list carries over: 100 minutes asked for in week 0 with 40 a week are
    # done over weeks 0 and 1 (80 of them: call 80 %), and one more minute in either week is worth 0.1.
    v = valuation([[0.0, 10.0]], [[[0.0, 0.0], [100.0, 0.0]]])
    capacity = {("callers", 0): 40.0, ("callers", 1): 40.0}
    plan = solve(build_allocation_model(v, capacity), solver)
    assert plan.objective == pytest.approx(8.0) and plan.shares[0, 1] == pytest.approx(0.8)
    assert plan.capacity_used[("callers", 0)] == pytest.approx(80.0)  # more than week 0 has: a backlog
    assert plan.within_capacity()
    assert plan.capacity_backlog() == pytest.approx({("callers", 0): 0.0, ("callers", 1): -40.0})
    assert plan.capacity_prices == pytest.approx({("callers", 0): 0.1, ("callers", 1): 0.1})
    # Asked for in the last week, it cannot use the week before: 40 %, and week 0's minute is worth nothing.
    late = solve(build_allocation_model(valuation([[0.0, 10.0]], [[[0.0, 0.0], [0.0, 100.0]]]), capacity), solver)
    assert late.objective == pytest.approx(4.0)
    assert late.capacity_prices == pytest.approx({("callers", 0): 0.0, ("callers", 1): 0.1})



@pytest.mark.parametrize("solver", SOLVERS)
def test_without_carry_a_weeks_work_fits_its_own_week(solver):
    # The rows an agent is priced by (carry=False): 100 minutes asked for in week 0 with 40 a week get
    # week 0's 40 alone (call 40 %), and only week 0's minute has a price.
    v = valuation([[0.0, 10.0]], [[[0.0, 0.0], [100.0, 0.0]]])
    capacity = {("callers", 0): 40.0, ("callers", 1): 40.0}
    plan = solve(build_allocation_model(v, capacity, carry=False), solver)
    assert plan.objective == pytest.approx(4.0) and plan.shares[0, 1] == pytest.approx(0.4)
    assert plan.capacity_prices == pytest.approx({("callers", 0): 0.1, ("callers", 1): 0.0})


@pytest.mark.parametrize("solver", SOLVERS)
def test_budget_binds_and_is_priced(solver):
    v = valuation([[0.0, 10.0]], [[0.0, 1.0]], spend=[[0.0, 5.0]])
    plan = solve(build_allocation_model(v, {("callers", 0): 100.0}, budget=1.0), solver)
    assert plan.objective == pytest.approx(2.0)
    assert plan.budget_price == pytest.approx(2.0)
    assert plan.budget_used == pytest.approx(1.0)


@pytest.mark.parametrize("solver", SOLVERS)
def test_infeasible_is_a_status(solver):
    # Minimum service forces everyone to be called, which needs 100 minutes; 40 exist.
    v = valuation([[0.0, 10.0]], [[0.0, 100.0]])
    plan = solve(build_allocation_model(v, {("callers", 0): 40.0}, min_service=True), solver)
    assert plan.status == "infeasible"
    assert not plan.ok and plan.objective is None and plan.allocation() == []
    assert json.loads(plan.to_json())["status"] == "infeasible"
    with pytest.raises(ValueError):
        plan.to_strategy(load_scenario(SCENARIOS / "hawkes_baseline.toml"))


def test_when_highs_fails_cbc_answers_and_the_duals_keep_their_sign(monkeypatch):
    # HiGHS reports a maximisation's row duals negated, CBC as they are: the sign
    # must follow the solver that answered, or the shadow prices would come out
    # as 0 (clipped) instead of 0.1 and 2.0 after a fallback.
    import pulp

    from optimizer.allocation import ArrayHiGHS

    def broken(self, lp, **kwargs):
        raise pulp.PulpSolverError("highspy crashed")

    monkeypatch.setattr(ArrayHiGHS, "actualSolve", broken)
    v = valuation([[0.0, 10.0]], [[0.0, 100.0]], spend=[[0.0, 5.0]])
    plan = solve(build_allocation_model(v, {("callers", 0): 40.0}, budget=1.0), "highs")
    assert plan.status == "optimal" and plan.solver == "cbc"
    assert plan.objective == pytest.approx(2.0)  # the budget binds: 1.0 buys a fifth of the segment
    assert plan.budget_price == pytest.approx(2.0)
    plan = solve(build_allocation_model(v, {("callers", 0): 40.0}), "highs")
    assert plan.solver == "cbc" and plan.capacity_prices[("callers", 0)] == pytest.approx(0.1)


def random_valuation(seed, S=6, T=4, W=3):
    rng = np.random.default_rng(seed)
    value = rng.uniform(0, 100, (S, T))
    value[:, 0] = rng.uniform(0, 20, S)
    minutes = rng.uniform(10, 60, (S, T, W))
    minutes[:, 0, :] = 0.0
    return valuation(value, minutes)


@pytest.mark.parametrize("seed", range(4))
def test_duals_match_finite_differences(seed):
    v = random_valuation(seed)
    capacity = {("callers", w): 80.0 + 20 * w for w in range(3)}
    plan = solve(build_allocation_model(v, capacity), "highs")
    eps = 1e-3
    for key in capacity:
        bumped = dict(capacity)
        bumped[key] += eps
        again = solve(build_allocation_model(v, bumped), "highs")
        assert (again.objective - plan.objective) / eps == pytest.approx(plan.capacity_prices[key], abs=1e-4)


@pytest.mark.parametrize("seed", range(4))
def test_capacity_never_exceeded_and_more_capacity_never_hurts(seed):
    v = random_valuation(seed)
    previous = -np.inf
    for scale in (0.0, 0.5, 1.0, 2.0, 10.0):
        capacity = {("callers", w): 100.0 * scale for w in range(3)}
        plan = solve(build_allocation_model(v, capacity), "highs")
        assert plan.status == "optimal"
        assert plan.within_capacity()
        # From every week on, the work asked for fits what the team has from then on.
        for w in range(3):
            asked = sum(plan.capacity_used[("callers", k)] for k in range(w, 3))
            assert asked <= sum(capacity[("callers", k)] for k in range(w, 3)) + 1e-6
        assert plan.objective >= previous - 1e-7
        previous = plan.objective
        assert plan.counts.sum(axis=1).tolist() == v.segments.accounts.tolist()


def test_largest_remainder_keeps_counts():
    rng = np.random.default_rng(3)
    for _ in range(200):
        shares = rng.dirichlet(np.ones(5))
        total = int(rng.integers(0, 1000))
        counts = largest_remainder(shares, total)
        assert counts.sum() == total
        assert np.all(np.abs(counts - shares * total) < 1.0)


def test_capacity_counts_working_days():
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml")
    cap = team_capacity(s, 14, utilisation=1.0)
    callers = s.teams["callers"]
    shift = sum(e - b for b, e in callers.shift_minutes)
    assert cap[("callers", 1)] == callers.agents * shift * 5  # Jan 12-18 2026: no holiday
    assert cap[("callers", 0)] == callers.agents * shift * 5
    assert cap[("legal", 0)] == s.teams["legal"].filings_per_day * 5


def test_treatments_respect_compliance_caps():
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml")  # Reg F: ≤ 7 attempts in 7 days
    for t in scenario_treatments(s):
        for c in t.contacts:
            if c.channel == "call":
                assert c.attempts_per_day * -(-7 // c.every_days) <= 7
    assert scenario_treatments(s)[0].name == "none"


@pytest.fixture(scope="module")
def small():
    scenario = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 800, "simulation.days": 42})
    return scenario, allocate(scenario, per_segment=20, passes=2)


def test_allocate_end_to_end_and_to_strategy_simulates(small):
    scenario, result = small
    plan = result.plan
    assert plan.status == "optimal"
    assert sum(r["accounts"] for r in plan.allocation()) == 800
    assert plan.within_capacity()
    strategy = plan.to_strategy(scenario)
    assert strategy.strategy.steps and strategy.teams == scenario.teams
    run = simulate(strategy, 1, contact_log=False)
    assert run.kpis["collected"] > 0


def cli(*args):
    return subprocess.run([sys.executable, "-m", "optimizer", "allocate", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=120)


def test_cli_json_mps_and_strategy(tmp_path):
    mps, toml = tmp_path / "plan.mps", tmp_path / "plan.toml"
    out = cli(str(SCENARIOS / "hawkes_baseline.toml"), "--accounts", "600", "--weeks", "4", "--json",
              "--mps", str(mps), "--strategy-out", str(toml))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert {"status", "objective", "allocation", "capacity", "capacity_used", "shadow_prices"} <= set(data)
    assert data["status"] == "optimal"
    assert sum(r["accounts"] for r in data["allocation"]) == 600
    assert "callers/0" in data["capacity"]
    assert "capacity_callers_0" in mps.read_text()
    # The objective sense is in the file, so any solver reading it maximises.
    assert "OBJSENSE" in mps.read_text() and "MAX" in mps.read_text()
    assert load_scenario(toml).strategy.name.startswith("optimised-")


@pytest.mark.parametrize("args", [["nope.toml"], ["--budget", "-3"], ["--bands", "5,1"], ["--solver", "glpk"]])
def test_cli_bad_input_exit_2_one_line(args):
    argv = [a if a != "nope.toml" else str(ROOT / "nope.toml") for a in args]
    if argv[0].startswith("--"):
        argv = [str(SCENARIOS / "hawkes_baseline.toml"), *argv]
    out = cli(*argv)
    assert out.returncode == 2
    assert out.stdout == ""
    assert len(out.stderr.strip().splitlines()) >= 1
    assert "error" in out.stderr


def test_plan_of_one_ladder_everywhere_is_that_ladder():
    # Every cell given the scenario's own ladder: cutting it per cell and merging
    # the pieces back must give the hand-written steps again.
    from optimizer.allocation import plan_steps
    from optimizer.allocation.segments import build_segments
    from optimizer.allocation.treatments import ladder_treatments

    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 500})
    segments = build_segments(s)
    treatments = tuple(ladder_treatments(s, [("baseline", list(s.strategy.steps))]))
    table = np.zeros((7, 3, len(segments.band_edges)), dtype=np.int64)
    steps = plan_steps(segments, treatments, table, s)
    want = {(st.channel, st.from_dpd, st.to_dpd, st.every_days, st.min_balance, st.after_failed)
            for st in s.strategy.steps}
    got = {(st["channel"], st["from_dpd"], st["to_dpd"], st["every_days"], st.get("min_balance", 0.0),
            st.get("after_failed", 0)) for st in steps}
    assert got == want and len(steps) == len(s.strategy.steps)


def test_after_failed_steps_are_reached_by_the_valuation():
    # Baseline: field visits only after 6 failed attempts. Few accounts reach 6,
    # but some do: the whole-ladder valuation must book their visits, and
    # dropping the gate must book more.
    from optimizer.allocation.segments import build_segments
    from optimizer.allocation.sim_valuation import simulate_ladder

    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 800, "simulation.days": 90})
    segments = build_segments(s)
    result = simulate_ladder(s, segments, s.strategy.steps, 90)
    assert result.minutes["field"].sum() > 0
    ungated = [st.model_copy(update={"after_failed": 0}) if st.channel == "field_visit" else st
               for st in s.strategy.steps]
    more = simulate_ladder(s, segments, ungated, 90)
    assert more.minutes["field"].sum() > result.minutes["field"].sum()


def test_the_plan_is_worth_its_whole_book_run_and_a_reference_replaces_it_only_beyond_the_noise():
    # Every value the search compares is a whole-book run of the engine on the
    # valuation's seed: the LP's plan as a ladder and every shipped ladder it was
    # given. A reference is returned only if its paired difference over the plan
    # lies above 0 beyond the noise (the guard's runs); otherwise the LP's plan is.
    from optimizer.allocation import ladder_worth, with_strategy
    from optimizer.allocation.sim_valuation import simulate_ladder

    overrides = {"simulation.accounts": 600, "simulation.days": 35}
    world = load_scenario(SCENARIOS / "hawkes_baseline.toml", overrides)
    others = [load_scenario(SCENARIOS / f"{n}.toml", overrides) for n in ("sms_gentle", "early_field")]
    result = allocate(world, per_segment=10, passes=1, ladders=others, workers=1)
    plan = result.plan

    def worth(s):  # the objective: net collections and the book at the horizon
        return ladder_worth(world, simulate_ladder(s, plan.segments, s.strategy.steps, plan.days))

    data = plan.to_dict()
    assert set(data["reference_values"]) == {s.strategy.name for s in [world, *others]}
    for other in [world, *others]:
        assert plan.reference_values[other.strategy.name] == pytest.approx(worth(with_strategy(world, other)),
                                                                          rel=1e-9)
    guard = plan.guard
    winners = [name for name, d in guard["references"].items() if d["beats_plan"]]
    if plan.reference is None:
        assert not winners and data["plan_source"] == "lp"
        assert worth(plan.to_strategy(world)) == pytest.approx(plan.model_value, rel=1e-9)
    else:
        assert plan.reference in winners and data["plan_source"] == f"reference ladder {plan.reference}"
        assert sum(r["accounts"] for r in data["allocation"]) == int(plan.segments.accounts.sum())


def test_verify_runs_run_experiments_replications_and_reports_the_objective_beside_net_recovery(small):
    from optimizer.allocation import verify
    from sim.executors import LocalExecutor
    from sim.experiment import run_experiment

    scenario, result = small
    plan = result.plan
    strategy = plan.to_strategy(scenario)
    with LocalExecutor(1) as executor:
        v = verify(scenario, strategy, [scenario], 2, segments=plan.segments, days=plan.days, executor=executor)
        reference = run_experiment([strategy, scenario], 2, scenario.simulation.seed, executor=executor)
    assert v.labels == [strategy.display_name, scenario.display_name]
    # The same replications as run_experiment's (child k of the seed for every ladder), so paired.
    for label in v.labels:
        assert v.net_recovery[label] == pytest.approx(list(reference.values(label, "net_recovery")), rel=1e-12)
    for measure, runs in (("net_recovery", v.net_recovery), ("objective", v.objective)):
        d = v.difference(strategy.display_name, scenario.display_name, measure)
        paired = np.subtract(runs[strategy.display_name], runs[scenario.display_name])
        assert d["mean"] == pytest.approx(paired.mean())
        assert d["low"] <= d["mean"] <= d["high"]
    # The objective counts the book left at the horizon, which net recovery does not.
    assert v.objective[scenario.display_name] != pytest.approx(v.net_recovery[scenario.display_name])
    data = v.to_dict(strategy.display_name)
    assert data["judged_on"] == "objective"
    assert data["verdict"][scenario.display_name] in ("beats", "level", "loses")
    assert set(data["objective_differences"]) == set(data["differences"]) == {scenario.display_name}
    for label in v.labels:  # the book's value split by roll state adds up to it
        parts = data["mean_book_value_by_state"][label]
        assert sum(parts.values()) == pytest.approx(np.mean(v.book_value[label]), rel=1e-9)
    assert json.dumps(data)


def test_field_visits_are_offered_on_top_of_calls():
    # Every treatment that calls but never visits also comes with monthly field
    # visits (plain and hand-written ladders alike); without a field team, or
    # where the rules allow no visits, none is offered.
    from optimizer.allocation.treatments import ladder_treatments, with_field_visits

    s = load_scenario(SCENARIOS / "hawkes_baseline.toml")
    base = scenario_treatments(s) + ladder_treatments(s, [("call_heavy", list(
        load_scenario(SCENARIOS / "call_heavy.toml").strategy.steps))])
    offered = with_field_visits(s, base)
    assert offered[:len(base)] == base
    added = offered[len(base):]
    callers = [t for t in base if "call" in t.channels and "field_visit" not in t.channels]
    assert callers and {f"{t.name}+field_visit/30d" for t in callers} <= {t.name for t in offered}
    assert len(set(offered)) == len(offered)  # call/7d+field_visit/30d was already there: not twice
    for t in added:
        assert "call" in t.channels and t.channels.count("field_visit") == 1
        visit = next(st for st in t.steps if st.channel == "field_visit")
        assert visit.every_days == 30 and visit.min_balance == 0 and visit.after_failed == 0
    assert "ladder:call_heavy+field_visit/30d" in {t.name for t in added}
    assert "call/2d+field_visit/30d" in {t.name for t in added}
    no_field = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"teams.field.agents": 0})
    assert with_field_visits(no_field, base) == base


def field_visits_alone(s, days: int):
    """The valuation of no contact and of monthly field visits alone, kept for the whole horizon (no continuation)."""
    from optimizer.allocation.segments import build_segments
    from optimizer.allocation.sim_valuation import simulate_treatments

    treatments = [Treatment(()), Treatment((Contact("field_visit", 30),))]
    return simulate_treatments(s, build_segments(s), treatments, days, per_segment=20, shrink=False)


def test_field_minutes_spread_over_the_visit_cadence_without_daily_capacity():
    # Visiting every account at once books a month of visits on day 0; the
    # engine's field team works that list off over the following days, so the
    # valuation (whose teams never run out) spreads each visit's minutes over the
    # weeks of its cadence, and loses none of them.
    from optimizer.allocation.treatments import visit_minutes

    # Visits are the only thing that costs money here, so the spend counts them.
    free = {"costs.complaint": 0.0, "costs.agency_commission": 0.0, "costs.sms": 0.0, "costs.email": 0.0,
            "costs.letter": 0.0}
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 600, "simulation.days": 63, **free})
    v = field_visits_alone(s, 63)
    per_week = v.minutes["field"][:, 1, :].sum(axis=0)
    visits = v.spend[:, 1].sum() / s.costs.field_visit
    assert visits > 100 and v.minutes["field"][:, 0, :].sum() == 0
    assert per_week.sum() == pytest.approx(visits * visit_minutes(s.teams["field"]), rel=1e-9)
    assert per_week[0] <= 0.25 * per_week.sum()
    assert np.all(per_week[:5] > 0)


def test_field_minutes_are_never_booked_into_a_week_the_team_does_not_work():
    # cn_2025: no collection on weekends and public holidays, so the Spring
    # Festival week has no field capacity; visits spread over their cadence skip it.
    s = load_scenario(SCENARIOS / "cn_2025.toml", {"simulation.accounts": 600, "simulation.days": 70})
    idle = [w for (team, w), cap in team_capacity(s, 70).items() if team == "field" and cap == 0]
    assert idle  # the holiday week
    per_week = field_visits_alone(s, 70).minutes["field"][:, 1, :].sum(axis=0)
    assert per_week.sum() > 0
    assert all(per_week[w] == 0 for w in idle)


def test_value_sample_stands_for_each_segment_and_its_balances():
    # The valuation runs a sample of each segment; stratified by balance it
    # stands for the segment's accounts exactly and for its skewed balances
    # closely (drawn at random, 40 accounts put a cn_2025 segment 24 % off).
    from optimizer.allocation.segments import build_segments
    from optimizer.allocation.valuation import sample_accounts

    s = load_scenario(SCENARIOS / "cn_2025.toml", {"simulation.accounts": 5000})
    segments = build_segments(s)
    idx, weight = sample_accounts(segments, 40)
    assert np.unique(idx).size == idx.size and np.all(segments.member[idx] >= 0)
    seg = segments.member[idx]
    np.testing.assert_allclose(np.bincount(seg, weights=weight, minlength=len(segments)), segments.accounts)
    assert np.all(np.bincount(seg, minlength=len(segments)) == np.minimum(segments.accounts, 40))
    balance = np.bincount(seg, weights=weight * segments.portfolio.balance[idx], minlength=len(segments))
    assert np.max(np.abs(balance / segments.balance - 1)) < 0.08
    assert abs(balance.sum() / segments.balance.sum() - 1) < 0.01


@pytest.mark.parametrize("budget", [0.0, 500.0])
def test_every_returned_plan_keeps_the_budget_and_capacity_it_was_given(budget):
    # `allocate --budget 0` used to return the reference ladder (which spends on
    # SMS, letters and visits) and report "used 0 of 0".
    scenario = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 1000})
    result = allocate(scenario, budget=budget, weeks=8, per_segment=10, workers=1)
    plan = result.plan
    assert plan.ok
    spent = float((result.valuation.spend * plan.shares).sum())  # what the returned allocation spends
    assert spent <= budget + 0.01
    assert plan.budget_used is not None and plan.budget_used <= budget + 0.01
    if plan.reference is not None:
        assert plan.reference_values[plan.reference] == pytest.approx(plan.model_value)
    assert plan.within_capacity()


def test_a_plan_too_fragmented_for_a_strategy_is_solved_again_and_written_as_a_ladder(tmp_path):
    # Seed 4: a sample whose plan the re-solves bring within 64 steps (with the roll-ins valued under the next
    # cell's treatment, seed 2 and the scenario's own give plans of 117 and 114 steps they do not: the --bands error).
    out = cli(str(SCENARIOS / "hawkes_baseline.toml"), "--accounts", "800", "--sample", "3", "--passes", "1", "--weeks", "4",
              "--bands", "0,300,600,1000,1500,2500,4000,6000", "--json", "--seed", "4",
              "--strategy-out", str(tmp_path / "plan.toml"))
    assert out.returncode == 0 and "Traceback" not in out.stderr
    report = json.loads(out.stdout)
    note = report["note"]
    # Dropping treatments and keying cells more coarsely both fit it; the ladder the whole-book run rates
    # higher is kept (not the higher LP objective: the fit's ladder is not the LP's plan).
    assert "needed more than the 64 steps" in note and "solved again with" in note
    worths = report["ladder_fit"]["ladder_worths"]
    kept = "keyed" if report["ladder_fit"]["keyed"] else "dropped"
    assert set(worths) == {"dropped", "keyed"} and worths[kept] == max(worths.values())
    assert "rated higher on the whole book" in note
    assert len(load_scenario(tmp_path / "plan.toml").strategy.steps) <= 64


def test_a_plan_no_treatment_set_fits_is_keyed_more_coarsely_and_its_loss_reported(tmp_path):
    # The scenario's own seed: a 114-step plan that dropping treatments does not fit (none and the own ladder
    # alone still need 66 steps), so allocate ended in the --bands error. Now neighbouring cells share a mix.
    out = cli(str(SCENARIOS / "hawkes_baseline.toml"), "--accounts", "800", "--sample", "3", "--passes", "1", "--weeks", "4",
              "--bands", "0,300,600,1000,1500,2500,4000,6000", "--json", "--workers", "1",
              "--strategy-out", str(tmp_path / "plan.toml"))
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    fit = report["ladder_fit"]
    assert fit["keyed"].startswith("balance bands 0,") and "needs 114 ladder steps" in fit["reason"]
    assert fit["lp_objective"] == pytest.approx(report["objective"])
    assert 0 <= fit["loss"] == pytest.approx(fit["lp_objective_unrestricted"] - fit["lp_objective"])
    assert fit["loss"] < 0.05 * fit["lp_objective_unrestricted"]
    assert "keyed more coarsely" in report["note"] and "loss" in report["note"]
    assert len(load_scenario(tmp_path / "plan.toml").strategy.steps) <= 64


def test_the_report_says_what_the_ladder_fit_did_and_cost():
    from optimizer.cli.allocate import ladder_fit_line

    fit = {"reason": "the plan needs 114 ladder steps", "dropped": [], "keyed": "balance bands 0,2500,6000",
           "lp_objective_unrestricted": 2_673_453.0, "lp_objective": 2_662_826.0, "loss": 10_627.0}
    line = ladder_fit_line(fit)
    assert "needs 114 ladder steps" in line and "balance bands 0,2500,6000" in line
    assert "loss 10,627, 0.4%" in line
    assert "2 treatments dropped" in ladder_fit_line({**fit, "keyed": "", "dropped": ["sms/3d", "call/2d"]})


def test_tied_cells_get_one_mix_and_the_plan_keeps_its_capacity():
    # Every cell in one group: one treatment mix for the whole book, so one treatment in the ladder.
    from optimizer.allocation.lp import build_allocation_model, solve
    from optimizer.allocation.search import _Search

    scenario = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 400})
    search = _Search(scenario, days=28, budget=None, min_service=False, solver="highs", time_limit=None,
                     band_edges=None, rng=None, per_segment=3, ladders=[], valuation="simulate")
    step = search.value_and_solve(None)
    free = step.plan
    n_risk, n_band = len(search.segments.portfolio.segment_names), len(search.segments.band_edges)
    model = build_allocation_model(step.valuation, search.capacity, units=search.units,
                                   cell_groups=np.zeros((7, n_risk, n_band), dtype=np.int64))
    tied = solve(model, fallback=search.own)
    assert tied.ok and tied.within_capacity()
    np.testing.assert_allclose(tied.shares, tied.shares[[0] * len(tied.shares)], atol=1e-7)
    assert tied.objective <= free.objective + 1e-6
    assert len(set(tied.dominant_treatment().tolist())) == 1
    # Its ladder is that one treatment's steps, uncut by bucket, risk segment or balance band.
    chosen = tied.treatments[int(tied.dominant_treatment()[0])]
    ladder = tied.to_strategy(scenario).strategy.steps
    assert not any(step.segments or step.min_balance or step.max_balance for step in ladder)
    assert len(ladder) <= max(len(chosen.steps), 1)


def test_a_plan_no_strategy_can_hold_is_one_line_not_a_traceback(monkeypatch):
    from optimizer.allocation import search
    from sim.errors import InputError

    def too_many(self, plan, ahead=None):
        raise ValueError("the plan needs 99 ladder steps; a strategy allows 64 (use fewer balance bands)")

    # Whatever treatments are dropped, the plan never fits: one error naming --bands.
    monkeypatch.setattr(search._Search, "plan_worth", too_many)
    scenario = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 300})
    with pytest.raises(InputError, match="--bands.*64"):
        search.allocate(scenario, weeks=2, per_segment=3, passes=1)
