"""Capacity allocation: which segments get which treatment, within agent hours and budget.

:func:`allocate` values every treatment, solves the LP (:mod:`optimizer.allocation.lp`)
and repeats with the last plan as what accounts get once they age out of their
bucket (the continuation); of the passes, the plan whose ladder the valuation
rates best on the whole book is kept, and a hand-written reference ladder that
rates at least as well replaces it (:func:`adopt_reference`; under the simulated
valuation only if it beats the plan beyond the noise of paired whole-book runs,
:mod:`optimizer.allocation.guard`). :func:`agent_values`
says what one more agent on a team is worth: the plan the LP makes with it, run as a ladder.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from sim.domain import MINUTES_PER_HOUR, minutes_to_hours
from sim.errors import InputError, ScenarioError
from sim.scenario import Scenario

from .guard import DEFAULT_RUNS, choose, could_beat_plan, describe, gain_settled, paired_differences
from .ladder_fit import fit_ladder
from .lp import AllocationModel, build_allocation_model, solve, team_capacity
from .open_book import is_open
from .plan import AgentValue, Plan, continuation_table
from .valuation import Valuation


def one_more_agent(scenario: Scenario, team: str, days: int) -> dict[tuple[str, int], float]:
    """The teams' capacity by week with one more agent on ``team`` (its paid minutes in every week)."""
    spec = scenario.teams[team]
    if spec.agents_per_1000 is not None:
        # A scaled team may end in a part-timer: one more full-time agent is 1,000 / accounts more per 1,000
        # (a count in place of the ratio would make the part-timer full-time as well).
        more = {f"teams.{team}.agents_per_1000": spec.agents_per_1000 + 1000 / scenario.simulation.accounts}
    else:
        more = {f"teams.{team}.agents": spec.agents + 1}
    return team_capacity(scenario.with_overrides(more), days)


def agent_values(scenario: Scenario, model: AllocationModel, days: int, *, solver: str = "highs",
                 time_limit: float | None = None, runner=None, fallback: int = 0,
                 runs: int = DEFAULT_RUNS) -> dict[str, AgentValue]:
    """:class:`AgentValue` of every call and field team: the plan the LP makes with one more agent, against its plan.

    The LP is re-solved with one more agent's paid minutes in every week of
    the team, on the plan's own rows (work asked in one week may be done in a
    later one, as the engine's lists carry over). Its objective counts every
    call a plan asks for at its value on time; the engine makes only the
    calls a team reaches, late when the list runs long, highest balances
    first, so a short team's plan is worth less than the LP says, and by
    more the shorter the team (one caller for 1,500 accounts 61–150 days
    past due: the LP put its plan 231 k above its ladder run with the team,
    and the two-caller plan 196 k, so its difference, 25 k, missed most of
    what the second caller brings, 61 k). So the value is each side's plan
    run as its ladder with its team on the whole book, paired on the guard's
    seeds (:func:`paired_gains`: up to ``runs`` of them, fewer once the
    gain's interval excludes 0 or cannot), and the LP's difference is kept
    beside it (``lp_per_agent``). ``runner`` (:class:`_Search`) makes the
    ladders and runs them (``ladder(plan, team)``, ``ladder_runs(pairs)``);
    without it the value is the LP's difference. Legal teams are priced per
    filing by their weekly shadow prices and have no agents to add.
    """
    def rows(capacity, allowed=model.allowed) -> AllocationModel:
        return build_allocation_model(model.valuation, capacity, budget=model.budget, min_service=model.min_service,
                                      units=model.units, allowed=allowed, carry=model.carry,
                                      cell_groups=model.cell_groups)

    def ladder(plan: Plan, capacity, team: str | None) -> Scenario | None:
        """The plan's ladder with the team; a plan too scattered for 64 steps is solved again without the
        treatment the fewest accounts get, as ``allocate`` fits its own plan (None: nothing left to drop)."""
        allowed = np.ones(plan.shares.shape, dtype=bool) if model.allowed is None else model.allowed.copy()
        keep = {fallback, *(k for k, t in enumerate(model.valuation.treatments) if t.name == "none")}
        while True:
            try:
                return runner.ladder(plan, team)
            except ValueError:
                counts = plan.counts.sum(axis=0)
                used = [t for t in np.flatnonzero(counts).tolist() if t not in keep]
                if not used:
                    return None
                allowed[:, min(used, key=lambda t: (counts[t], t))] = False
                plan = solve(rows(capacity, allowed), solver, time_limit, fallback=fallback)
                if not plan.ok:
                    return None

    base = solve(model, solver, time_limit, fallback=fallback)
    if base.objective is None:
        return {}
    now = ladder(base, model.capacity, None) if runner is not None else None
    priced: dict[str, tuple[dict, float]] = {}
    more: dict[str, Scenario] = {}
    for name, spec in scenario.teams.items():
        if spec.kind == "legal":
            continue
        capacity = one_more_agent(scenario, name, days)
        plan = solve(rows(capacity), solver, time_limit, fallback=fallback)
        if plan.objective is None:
            continue
        priced[name] = capacity, plan.objective - base.objective
        side = ladder(plan, capacity, name) if now is not None else None
        if side is not None:
            more[name] = side
    gains = paired_gains(runner, now, more, runs) if more else {}
    out = {}
    for name, (capacity, lp_gain) in priced.items():
        gain = float(np.mean(gains[name])) if name in gains else lp_gain
        added = sum(c - model.capacity.get(key, 0.0) for key, c in capacity.items() if key[0] == name)
        out[name] = AgentValue(team=name, per_agent=max(gain, 0.0), agent_hours=minutes_to_hours(added),
                               cost_per_agent_hour=MINUTES_PER_HOUR * scenario.costs.agent_minute,
                               lp_per_agent=lp_gain)
    return out


def paired_gains(runner, now: Scenario, more: dict[str, Scenario], runs: int) -> dict[str, list[float]]:
    """Each team's ladder (one more agent) − today's plan's ladder, run by run on the guard's seeds.

    Seed by seed, every team not settled yet runs its next seed in one batch
    with today's plan on the same seed (today's plan on the valuation's seed
    and any the guard ran are not run again), until
    :func:`optimizer.allocation.guard.gain_settled`: ``runs`` runs, or two or
    more whose 95 % interval lies above 0, or a gain at or below 0 the runs
    left could not lift above 0. Measured at 5,000 accounts (2026-11-26,
    docs/optimizer_validation.md, "The agent value's and the guard's runs"): baseline's
    callers settle after 2 runs and its inbound line (gain −3,349 on the
    first) after 1, 4 whole-book runs in place of 8.
    """
    gains: dict[str, list[float]] = {name: [] for name in more}
    active = list(more)
    r = 0
    while active:
        worths = runner.ladder_runs([(now, r)] + [(more[name], r) for name in active])
        for name, worth in zip(active, worths[1:], strict=True):
            gains[name].append(worth - worths[0])
        r += 1
        active = [name for name in active if not gain_settled(gains[name], runs)]
    return gains


@dataclass
class Allocation:
    """Everything ``allocate`` produced: the model solved, its plan and the valuation behind it.

    ``ladder_values`` is the simulated valuation's objective of whole ladders
    run on the book with the teams' daily capacity (the plan's as ``"plan"``, and
    every reference ladder by name): what ``--verify`` then simulates.
    """

    model: AllocationModel
    plan: Plan
    valuation: Valuation
    build_seconds: float
    value_seconds: float
    ladder_values: dict[str, float] = field(default_factory=dict)
    # The scenario the LP valued: the world with any balance values allocate measured in [objective].
    world: Scenario | None = None


VALUATIONS = ("simulate",)


def resolve_valuation(scenario: Scenario, valuation: str | None) -> tuple[str, str]:
    """The valuation ``allocate`` uses and the line that says so.

    The engine run on a stratified sample of each segment is the only
    valuation, for every borrower model (hawkes, cgw, card): the analytic
    value model that mirrored the engine's rules in expectation is gone
    (issue 13). Anything but ``None`` or ``"simulate"`` is one
    :class:`InputError` naming ``--valuation`` and what is allowed.
    """
    if valuation is None:
        valuation = "simulate"
    if valuation not in VALUATIONS:
        gone = " (the analytic value model was removed)" if valuation == "analytic" else ""
        raise InputError(scenario.source or "allocate", "--valuation",
                         f"unknown valuation {valuation!r}{gone}; allowed: {', '.join(VALUATIONS)}")
    return valuation, "valuation: simulate (the engine run on a stratified sample of each segment)"


def valuers(valuation: str):
    """(value every treatment, value a whole ladder) for a valuation method: the engine itself
    (:mod:`optimizer.allocation.sim_valuation`)."""
    if valuation == "simulate":
        from .sim_valuation import simulate_ladder, simulate_treatments

        return simulate_treatments, simulate_ladder
    raise InputError("allocate", "--valuation", f"unknown valuation {valuation!r}; allowed: {', '.join(VALUATIONS)}")


def allocate(scenario: Scenario, *, weeks: int | None = None, budget: float | None = None,
             min_service: bool = False, solver: str = "highs", time_limit: float | None = None,
             band_edges=None, rng=None, per_segment: int = 40, passes: int = 2,
             ladders: list[Scenario] | None = None, valuation: str | None = None,
             replications: int = 1, guard_runs: int = DEFAULT_RUNS, workers: int | None = None) -> Allocation:
    """Segments, treatments, values, the LP and its plan for a scenario.

    The treatments are the scenario's channels and cadences plus, as ladder
    treatments, the scenario's own ladder and each of ``ladders`` (and their
    automated parts), so every hand-written strategy restricted to a segment
    is a candidate; each treatment that calls but never visits also comes with
    monthly field visits on top (:func:`optimizer.allocation.treatments.with_field_visits`).
    The first pass values a treatment as given while the account stays in its
    starting bucket and the scenario's own ladder after;
    each further pass uses the previous plan as what accounts get once they
    age out of their bucket (the ladder the plan becomes is keyed by current
    days past due) and solves again. Of the passes, the plan whose ladder the
    valuation rates best on the whole book (with the teams' daily capacity)
    is kept; a reference ladder replaces it only if it beats it beyond the
    noise of paired whole-book runs (:func:`adopt_reference`, the guard).

    Values come from a stratified sample of ``per_segment`` accounts per
    segment (weighted to the segment), the same sample for the treatments, the
    plan and the reference ladders, so their comparison is paired. With the
    defaults (40 accounts, 2 passes) a 5,000-account book took 12.5 s
    (baseline) and 10.0 s (hawkes_baseline) on two workers, measured on
    2026-11-27's machine (a machine running Python a quarter slower than
    the day before's), with today's 24- and 39-treatment catalogues
    (docs/optimizer_validation.md, "allocate within 15 s on two workers,
    met again"); a third pass rarely changed the plan in measurements.

    A champion/challenger scenario (``[[strategies]]``) is optimised as the
    champion's world (:meth:`sim.scenario.Scenario.champion_world`), and the
    plan's ``note`` says so.

    ``valuation``: ``None`` or ``"simulate"``, the only valuation — the engine
    run on the sample, one paired run per treatment; whole ladders run on the
    whole book (:func:`resolve_valuation`; anything else is an
    :class:`InputError`). Under another model than hawkes the
    horizon's balance values, if the scenario leaves them at their defaults
    (measured under hawkes), are measured by the engine on the scenario's own
    book (:func:`optimizer.allocation.objective.engine_balance_values`).
    ``replications``: engine runs per treatment under the simulated
    valuation, each account's outcomes averaged over them (paired; the time
    grows with them).

    ``workers``: local processes the simulated valuation's runs are spread
    over (None: one per core, :class:`sim.executors.LocalExecutor`; 1: this
    process); the values do not depend on it.

    ``guard_runs``: under the simulated valuation, the LP's plan and every
    reference ladder are run on the whole book on this many paired seeds, and
    a reference replaces the plan only if its paired difference's 95 %
    interval lies wholly above 0 (:mod:`optimizer.allocation.guard`; the
    plan's ``guard`` holds the differences). The value of one more agent
    runs each team's plan on up to this many of the same seeds, fewer once
    its gain's interval excludes 0 or cannot (:func:`paired_gains`).
    """
    champion = champion_note(scenario)
    scenario = scenario.champion_world()
    valuation, valuation_note = resolve_valuation(scenario, valuation)
    if replications != 1:
        if replications < 1:
            raise ScenarioError(scenario.source or "<scenario>", "--replications",
                                f"runs per treatment are a count ≥ 1, got {replications}")
        valuation_note += f"; {replications} paired runs per treatment"
    from sim.executors import LocalExecutor

    # One pool of workers for all of allocate's batches (LocalExecutor's keep_workers says what it saves); its
    # forkserver imports the valuation while this process builds the segments and treatments (warm).
    with LocalExecutor(workers, keep_workers=True) as executor:
        executor.warm(["optimizer.allocation.search", "optimizer.allocation.rolls"])
        # The balance values are measured by the engine (under another model than hawkes) in the first batch
        # of runs, beside the own ladder's sample run (_Search.own_ladder_fits): no run reads [objective].
        search = _Search(scenario, days=7 * weeks if weeks is not None else scenario.simulation.days,
                         budget=budget, min_service=min_service, solver=solver, time_limit=time_limit,
                         band_edges=band_edges, rng=rng, per_segment=per_segment, ladders=ladders or [],
                         valuation=valuation, replications=replications, guard_runs=guard_runs)
        search.repeat["executor"] = executor
        search.measure_balance_values = True
        best, retried = search.passes(passes)
        if search.balance_note:
            valuation_note += f"; {search.balance_note}"
        allocation = search.finish(best, retried)
        search.repeat.pop("executor")
    allocation = replace(allocation, plan=replace(allocation.plan, valued_by=valuation, valuation_note=valuation_note))
    if champion:
        note = "; ".join(x for x in (champion, allocation.plan.note) if x)
        allocation = replace(allocation, plan=replace(allocation.plan, note=note))
    return allocation


def champion_note(scenario: Scenario) -> str:
    """What ``allocate`` says of a champion/challenger scenario: it optimises the champion's world ('' otherwise)."""
    if scenario.strategies is None:
        return ""
    others = ", ".join(arm.name for arm in scenario.strategies if not arm.champion)
    return (f"champion/challenger file: optimised the champion's world ({scenario.strategy.name}'s ladder on the "
            f"whole book); the challengers ({others}) are not part of it")


@dataclass
class _Pass:
    """One value-and-solve pass: the valuation, the LP built from it, its plan and the plan's worth as a ladder."""

    valuation: Valuation
    model: AllocationModel
    plan: Plan
    worth: float | None = None


class _Search:
    """What every pass of :func:`allocate` shares: the scenario's segments, treatments and reference
    ladders, the LP's options, and the time spent valuing and building (the report shows where time goes)."""

    def __init__(self, scenario: Scenario, *, days: int, budget: float | None, min_service: bool, solver: str,
                 time_limit: float | None, band_edges, rng, per_segment: int, ladders: list[Scenario],
                 valuation: str, replications: int = 1, guard_runs: int = DEFAULT_RUNS):
        from .segments import DEFAULT_BALANCE_BANDS, build_segments
        from .treatments import (
            ladder_treatments,
            offer_treatments,
            scenario_treatments,
            with_field_visits,
        )

        self.scenario, self.days, self.budget, self.min_service = scenario, days, budget, min_service
        self.solver, self.time_limit, self.per_segment = solver, time_limit, per_segment
        self.value_treatments, self.value_ladder = valuers(valuation)
        # Runs per treatment (when more than one) and, once allocate sets it, the executor the runs go to.
        self.repeat: dict = {"replications": replications} if replications != 1 else {}
        # Paired whole-book runs of plan and references before a reference may replace the plan.
        self.guard_runs = max(1, guard_runs)
        self.segments = build_segments(scenario, rng, band_edges=band_edges or DEFAULT_BALANCE_BANDS, days=days)
        self.ladders = ladders
        self.set_world(scenario)
        treatments = scenario_treatments(scenario) + offer_treatments(scenario)
        treatments += [t for t in ladder_treatments(scenario, self.references) if t not in treatments]
        self.treatments = with_field_visits(scenario, treatments)
        self.own = next((k for k, t in enumerate(self.treatments)
                         if t.label == f"ladder:{scenario.strategy.name}"), 0)
        self.none = next((k for k, t in enumerate(self.treatments) if t.name == "none"), None)
        # An open book's teams are staffed on the book at the start of the measured days (the engine restaffs them).
        self.capacity = team_capacity(self.staffed, days)
        self.units = {name: ("filings" if team.kind == "legal" else "minutes") for name, team in scenario.teams.items()}
        self.timings = {"value": 0.0, "build": 0.0}
        # The valuation's runs of the sample, by what they depend on: none is made twice (sim_valuation.run_key).
        self.runs: dict = {}
        # Plans' ladders' worths by (ladder, run): run 0 the valuation's seed, run r its child r (the guard's).
        self.worths: dict[tuple[str, int], float] = {}
        # The reference ladders' whole-book runs on the valuation's seed, made once (in allocate's first batch).
        self.references_run: dict[str, object] | None = None
        # Whether own_ladder_fits measures the balance values first (allocate sets it), and what it measured.
        self.measure_balance_values = False
        self.balance_note = ""

    def set_world(self, scenario: Scenario) -> None:
        """The scenario the search values in, each reference ladder as it runs in it (its whole strategy
        section — steps, call-list priority, redial gap — with this scenario's book and teams), and the
        teams staffed on the book at the start of the measured days (an open book's; the engine restaffs)."""
        from .open_book import staffed_at_start

        self.scenario = scenario
        self.worlds = {scenario.strategy.name: scenario}
        for other in self.ladders:
            self.worlds.setdefault(other.strategy.name, with_strategy(scenario, other))
        self.references = [(name, list(world.strategy.steps)) for name, world in self.worlds.items()]
        start_rows = (len(self.segments.portfolio) if self.segments.entry_day is None
                      else int((self.segments.entry_day < 0).sum()))
        self.start_rows = start_rows
        self.staffed = staffed_at_start(scenario, start_rows)

    def value_and_solve(self, continuation: np.ndarray | None) -> _Pass:
        """Value every treatment, build the LP and solve it.

        ``continuation`` None: each treatment in its bucket, and the accounts
        that roll out of it under the treatment the plan's ladder gives the
        cell they roll into (:mod:`optimizer.allocation.rolls`), so the LP
        counts the minutes the ladder will ask for.
        """
        started = time.perf_counter()
        if continuation is None and self.none is not None:
            valuation = self.valued_with_roll_ins()
        else:
            valuation = self.value_treatments(self.scenario, self.segments, self.treatments, self.days,
                                              continuation=continuation, per_segment=self.per_segment,
                                              runs_cache=self.runs, **self.repeat)
        self.timings["value"] += time.perf_counter() - started
        started = time.perf_counter()
        model = build_allocation_model(valuation, self.capacity, budget=self.budget, min_service=self.min_service,
                                       units=self.units)
        self.timings["build"] += time.perf_counter() - started
        return _Pass(valuation, model, solve(model, self.solver, self.time_limit, fallback=self.own))

    def valued_with_roll_ins(self):
        """Every treatment in its bucket, no contact after it, plus the accounts rolling into each cell under it.

        Measured against no contact after the bucket, not the own ladder: a
        cell given no contact then asks for no minutes after it, so a plan
        that fits the teams exists whenever ``none`` is allowed (against the
        own ladder the card book's 0.59 callers at 1,500 accounts had none).
        """
        from .rolls import with_roll_ins

        n_risk = len(self.segments.portfolio.segment_names)
        after = self.none
        table = np.full((7, n_risk, len(self.segments.band_edges)), after, dtype=np.int64)
        native = self.value_treatments(self.scenario, self.segments, self.treatments, self.days,
                                       continuation=table, per_segment=self.per_segment, runs_cache=self.runs,
                                       **self.repeat)
        return with_roll_ins(self.scenario, self.segments, self.treatments, self.days, native, base=self.own,
                             after=after, per_segment=self.per_segment, runs_cache=self.runs, **self.repeat)

    def solved_without(self, step: _Pass, allowed: np.ndarray, cell_groups: np.ndarray | None = None) -> _Pass:
        """The pass's valuation solved again with only the ``allowed`` (segment × treatment) choices (and, with
        ``cell_groups``, the cells of one group sharing one treatment mix)."""
        started = time.perf_counter()
        model = build_allocation_model(step.valuation, self.capacity, budget=self.budget,
                                       min_service=self.min_service, units=self.units, allowed=allowed,
                                       cell_groups=cell_groups)
        self.timings["build"] += time.perf_counter() - started
        return _Pass(step.valuation, model, solve(model, self.solver, self.time_limit, fallback=self.own))

    def plan_worth(self, plan: Plan, ahead=None) -> float:
        """The plan as a ladder, valued on the whole book (raises ValueError if no strategy can hold it).

        If the reference ladders have not been run yet (allocate runs them in
        its first batch, :meth:`own_ladder_fits`), they are run with it, in one
        batch on the executor; :meth:`reference_outcomes` then reads them.
        ``ahead(plan)``: sample runs the next pass will make with this plan
        (:meth:`next_pass_runs`), made in the same batch: the plan's
        whole-book run is the batch's longest unit by far (3.3 s against
        0.5–1.4 s on baseline at 5,000 accounts), and alone with one
        reference ladder it left a core idle for most of it.
        """
        return self.plans_worth([plan], ahead)[0]

    def plans_worth(self, plans: list[Plan], ahead=None) -> list[float]:
        """Each plan as a ladder valued on the whole book, all in one batch (as :meth:`plan_worth`;
        ``ahead`` is made only for a single plan, since the next pass follows the plan that is kept)."""
        started = time.perf_counter()
        ladders = [plan.to_strategy(self.scenario) for plan in plans]
        worlds: dict = {("plan", j): ladder for j, ladder in enumerate(ladders)}
        if self.references_run is None:
            worlds.update(self.worlds)
        outcomes = self.run_ladders(worlds, ahead(plans[0]) if ahead is not None and len(plans) == 1 else ())
        if self.references_run is None:
            self.references_run = {name: outcomes[name] for name in self.worlds}
        self.timings["value"] += time.perf_counter() - started
        worths = []
        for j, ladder in enumerate(ladders):
            worths.append(ladder_worth(self.scenario, outcomes[("plan", j)]))
            self.worths[(ladder.content_hash, 0)] = worths[-1]
        return worths

    def with_one_more(self, team: str) -> Scenario:
        """The scenario with one more full-time agent on ``team`` for the measured days (as :func:`one_more_agent`
        prices it): a team given per 1,000 accounts gets 1,000 / the book at the start more."""
        spec = self.scenario.teams[team]
        if spec.agents_per_1000 is None:
            return self.scenario.with_overrides({f"teams.{team}.agents": spec.agents + 1})
        rows = self.start_rows if is_open(self.scenario) else self.scenario.simulation.accounts
        return self.scenario.with_overrides({f"teams.{team}.agents_per_1000": spec.agents_per_1000 + 1000 / rows})

    def ladder(self, plan: Plan, team: str | None = None) -> Scenario:
        """The plan as a ladder run with the teams, one more agent on ``team`` (raises ValueError if no strategy
        can hold the plan)."""
        return plan.to_strategy(self.scenario if team is None else self.with_one_more(team))

    def ladder_runs(self, pairs: list[tuple[Scenario, int]]) -> list[float]:
        """Each (ladder, run) run on the whole book as its objective, in one batch on the executor: run 0 on
        the valuation's seed, run r on its child r (the guard's seeds, every ladder on the same). A ladder's
        run made before (plan_worth's on the valuation's seed, the guard's) is not made again."""
        from .sim_valuation import valuation_seed

        seed = valuation_seed(self.scenario)
        todo = list(dict.fromkeys((ladder.content_hash, r) for ladder, r in pairs
                                  if (ladder.content_hash, r) not in self.worths))
        ladders = {ladder.content_hash: ladder for ladder, _ in pairs}
        units = [(self.scenario, ladders[key], self.segments, self.days,
                  seed if r == 0 else np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, r)))
                 for key, r in todo]
        started = time.perf_counter()
        got = self.batch(_ladder_unit, units)
        self.timings["value"] += time.perf_counter() - started
        for k, key in enumerate(todo):
            self.worths[key] = got[k]
        return [self.worths[(ladder.content_hash, r)] for ladder, r in pairs]

    def run_ladders(self, worlds: dict[str, Scenario], sample_runs=()) -> dict[str, object]:
        """Whole ladders on the whole book on the valuation's seed, spread over the executor.

        ``sample_runs``: (run key, work unit) of sample runs made in the same
        batch (:func:`optimizer.allocation.sim_valuation.runs_to_make`), each
        put in the runs cache.
        """
        units = [("ladder", (world, self.segments, self.days, None)) for world in worlds.values()]
        got = self.batch_with_samples(units, sample_runs)
        return {name: got[k] for k, name in enumerate(worlds)}

    def batch(self, fn, units: list) -> dict[int, object]:
        """Each unit's result by position: the units spread over the executor (in this process without one)."""
        executor = self.repeat.get("executor")
        return dict(executor.map_unordered(fn, units) if executor else enumerate(map(fn, units)))

    def batch_with_samples(self, units: list, sample_runs) -> dict[int, object]:
        """:meth:`batch` of :func:`_search_unit` ``units`` followed by ``sample_runs`` ((run key, work unit)
        each) made in groups (:func:`optimizer.allocation.sim_valuation.run_groups`), each sample run's outcome
        put in the runs cache; the results of ``units`` by position."""
        from .sim_valuation import run_groups

        groups = run_groups([unit for _, unit in sample_runs])
        got = self.batch(_search_unit, units + [("samples", [sample_runs[k][1] for k in group]) for group in groups])
        for g, group in enumerate(groups):
            for k, outcome in zip(group, got[len(units) + g], strict=True):
                self.runs[sample_runs[k][0]] = outcome
        return got

    def next_pass_runs(self, continuation: np.ndarray, treatments=None, only=None) -> list[tuple[tuple, tuple]]:
        """The sample runs not made yet of ``only`` (positions in ``treatments``; by default the search's
        treatments that need no agents: what :meth:`continuation_fits` runs first) with this continuation."""
        from .sim_valuation import runs_to_make, simulate_treatments
        from .treatments import needs_agents

        treatments = self.treatments if treatments is None else treatments
        only = [k for k, t in enumerate(treatments) if not needs_agents(t)] if only is None else only
        if not only or self.value_treatments is not simulate_treatments:
            return []
        return runs_to_make(self.scenario, self.segments, treatments, self.days, runs_cache=self.runs,
                            continuation=continuation, per_segment=self.per_segment,
                            replications=self.repeat.get("replications", 1), only=only)

    def own_ladder_fits(self, continuation: np.ndarray) -> bool:
        """Whether the scenario's own ladder given to every account fits the teams' capacity, as the LP counts it.

        Its run is the first pass's run of the own-ladder treatment (the own
        ladder in the starting bucket and after it), made here alone and kept
        in the runs cache for that pass. If it does not fit, every treatment of
        the first pass carries that continuation, which alone asks more than
        the teams have once accounts age out of their bucket, and the LP was
        infeasible in every such case measured (the open card books): the pass
        is then valued with treatments kept for the whole horizon straight
        away, without the 14–40 runs an infeasible LP would throw away. (Were
        a mix of other first treatments to fit where the own ladder does not,
        the first pass is still valued kept for the whole horizon.)
        """
        own = [self.treatments[self.own]]
        if self.measure_balance_values:
            # The balance values at the horizon, measured by the engine where the scenario's model is not the
            # defaults' (optimizer.allocation.objective.engine_balance_values: a whole-book run, 1.7 s on
            # baseline at 5,000 accounts), in one batch with this run; no engine run reads them.
            # The reference ladders' whole-book runs (they wait for no plan) go in the same batch: beside the
            # first plan's, the longest run of its batch, they left a core idle.
            self.measure_balance_values = False
            runs = self.next_pass_runs(np.zeros_like(continuation), own, [0])
            references = list(self.worlds.items()) if self.references_run is None else []
            units = [("balance", self.scenario)] + [("sample", unit) for _, unit in runs]
            units += [("ladder", (world, self.segments, self.days, None)) for _, world in references]
            done = self.batch(_search_unit, units)
            for k, (key, _) in enumerate(runs):
                self.runs[key] = done[1 + k]
            if references:
                self.references_run = {name: done[1 + len(runs) + k] for k, (name, _) in enumerate(references)}
            world, self.balance_note = done[0]
            self.set_world(world)
        alone = self.value_treatments(self.scenario, self.segments, own, self.days,
                                      continuation=np.zeros_like(continuation), per_segment=self.per_segment,
                                      shrink=False, runs_cache=self.runs, **self.repeat)
        model = build_allocation_model(alone, self.capacity, units=self.units)
        return solve(model, self.solver, self.time_limit, fallback=0).status != "infeasible"

    def continuation_fits(self, continuation: np.ndarray, kept: _Pass | None = None) -> bool:
        """Whether a pass with this continuation can be feasible, judged on the treatments that need no agents.

        Every account that ages out of its bucket gets the continuation,
        whatever its first treatment, so the continuation's calls are asked
        for under every treatment. The treatments whose own steps need no
        agent (``none``, reminders, a ladder's automated part) are run first
        (their runs are that pass's runs of them, kept in the runs cache) and
        the LP is solved on them alone: if it is feasible, so is the pass's
        LP (it has more choices), and the rest are run. If it is not, the
        pass is not run: a feasible plan would need first treatments whose
        calls save more of the continuation's calls than they take, and a
        pass that the teams can carry only that way is a rule of thumb's
        loss, not a proof's. Measured (docs/optimizer_validation.md, "allocate
        within 15 s"): on baseline (card, open book, 5,000 accounts) the
        second pass's LP was infeasible with all 24 treatments, and the check
        rules it out with the 10 agent-free ones' runs; on card at 1,000
        accounts × 42 days the full pass was feasible but its plan worth less
        than the first's (4,981,963 against 5,021,322), so the plan returned
        is the same; on hawkes_baseline the check passes and the pass runs.

        ``kept``: the best pass so far. Its plan's whole-book run on the
        guard's first seed (run 1), which the guard and the agent value make
        of the plan they are given, is made in this check's batch with more
        than one worker (:meth:`kept_plan_ahead`).
        """
        from .treatments import needs_agents

        free = [k for k, t in enumerate(self.treatments) if not needs_agents(t)]
        if not free:
            return True
        started = time.perf_counter()
        ahead = self.kept_plan_ahead(kept)
        if ahead:
            # The whole-book run first: started last, it ran alone at the batch's end.
            done = self.batch_with_samples([("worth", unit) for _, unit in ahead], self.next_pass_runs(continuation))
            for k, (key, _) in enumerate(ahead):
                self.worths[key] = done[k]
        subset = self.value_treatments(self.scenario, self.segments, self.treatments, self.days,
                                       continuation=continuation, per_segment=self.per_segment, shrink=False,
                                       runs_cache=self.runs, only=free, **self.repeat)
        self.timings["value"] += time.perf_counter() - started
        model = build_allocation_model(subset, self.capacity, units=self.units)
        return solve(model, self.solver, self.time_limit, fallback=0).status != "infeasible"

    def kept_plan_ahead(self, kept: _Pass | None) -> list[tuple[tuple, tuple]]:
        """((ladder hash, 1), work unit) of the kept plan's whole-book run on the guard's first seed, if it is
        not made yet and there is a second worker to make it beside other work ([] otherwise).

        The guard (with ``guard_runs`` > 1) runs the returned plan on that seed
        beside any reference that could beat it, and the agent value runs it
        there for a team whose first paired gain leaves it unsettled — on
        baseline at 5,000 accounts (2026-11-26), the callers and the inbound line
        both, the plan's run then the third of a batch of three whole-book runs
        (1.3 s each) on two workers, 1.4 s of one core idle. Made in the
        second pass's check instead (ten sample runs of 0.5 s), it fills that
        batch. Wasted (a run's CPU, no wall on two workers) when a later pass
        returns a better plan.
        """
        executor = self.repeat.get("executor")
        if (kept is None or not kept.plan.ok or self.guard_runs < 2 or executor is None
                or getattr(executor, "workers", 1) < 2):
            return []
        from .sim_valuation import valuation_seed

        try:
            ladder = kept.plan.to_strategy(self.scenario)
        except ValueError:
            return []
        key = (ladder.content_hash, 1)
        if key in self.worths:
            return []
        seed = valuation_seed(self.scenario)
        return [(key, (self.scenario, ladder, self.segments, self.days,
                       np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, 1))))]

    def passes(self, passes: int) -> tuple[_Pass, str]:
        """The best of up to ``passes`` passes, each with the last plan as the continuation, and a note."""
        n_risk = len(self.segments.portfolio.segment_names)
        continuation = np.full((7, n_risk, len(self.segments.band_edges)), self.own, dtype=np.int64)
        best: _Pass | None = None
        seen: list[np.ndarray] = []
        retried = ""
        for k in range(max(1, passes)):
            if k == 0 and not self.own_ladder_fits(continuation):
                continuation = None
                retried = ("first pass valued each treatment in its bucket and the accounts rolling into a cell under "
                           "that cell's treatment, as the plan's ladder gives it: the own ladder after the bucket "
                           "asks more of the teams than they have, so the LP would be infeasible")
            if k > 0 and not self.continuation_fits(continuation, kept=best):
                retried = "; ".join(x for x in (retried, f"pass {k + 1} not run: with the last plan after the bucket "
                                                "the agent-free treatments alone leave the LP infeasible") if x)
                break
            step = self.value_and_solve(continuation)
            if step.plan.status == "infeasible" and k == 0 and continuation is not None:
                # Accounts that age out of their bucket get the scenario's own ladder,
                # whatever their first treatment: where that ladder alone asks for more
                # minutes in some week than the team has (the valuation's teams do not cut
                # it to capacity here), no allocation is feasible. Value each treatment
                # in its bucket and the accounts rolling into each cell under that cell's
                # treatment instead (optimizer.allocation.rolls): the LP then chooses the
                # rolled accounts' treatment too.
                continuation = None
                step = self.value_and_solve(None)
                retried = ("first pass valued each treatment in its bucket and the accounts rolling into a cell "
                           "under that cell's treatment: with the own ladder after the bucket the LP was infeasible")
            if not step.plan.ok:
                best = best or step
                break
            def ahead(plan: Plan, k: int = k) -> list[tuple[tuple, tuple]]:
                """The next pass's first runs, if there is a next pass (as decided below)."""
                new = continuation_table(self.segments, plan.dominant_treatment(), self.own, plan.cell_groups)
                if k + 1 >= max(1, passes) or any(np.array_equal(new, old) for old in seen):
                    return []
                return self.next_pass_runs(new)

            try:
                step, fitted = fit_ladder(self, step, ahead)
            except ValueError as err:
                if best is None:
                    # The user's options gave a plan no strategy can hold: one line, not a traceback.
                    raise ScenarioError(self.scenario.source or "<scenario>", "--bands", str(err)) from None
                # A later pass's plan too fragmented to be written as a ladder (more
                # than 64 steps): keep the best plan so far and say so.
                retried = "; ".join(x for x in (retried, f"pass {k + 1} not used: {err}") if x)
                break
            if fitted:
                retried = "; ".join(x for x in (retried, f"pass {k + 1}: {fitted}") if x)
            if best is None or best.worth is None or step.worth > best.worth:
                best = step
            new = continuation_table(self.segments, step.plan.dominant_treatment(), self.own,
                                     step.plan.cell_groups)
            if any(np.array_equal(new, old) for old in seen):
                break
            seen.append(new)
            continuation = new
        return best, retried

    def reference_outcomes(self) -> dict[str, object]:
        """Every reference ladder run on the whole book on the valuation's seed (the same book as the plan)."""
        if self.references_run is None:
            started = time.perf_counter()
            self.references_run = self.run_ladders(self.worlds)
            self.timings["value"] += time.perf_counter() - started
        return self.references_run

    def eligible(self, values: dict[str, float], outcomes) -> dict[str, float]:
        """The reference ladders within the budget the plan was given (every returned plan keeps to it)."""
        return {name: v for name, v in values.items() if within_budget(float(outcomes[name].cost.sum()), self.budget)}

    def adopt(self, plan: Plan, name: str, outcomes, worth: float) -> Plan:
        """The plan replaced by reference ladder ``name`` (its ladder treatment in the allocation table)."""
        from .treatments import ladder_treatment

        steps = dict(self.references)[name]
        own_ladder = ladder_treatment(self.scenario, steps, f"ladder:{name}")
        index = self.treatments.index(own_ladder) if own_ladder in self.treatments else self.own
        return adopt_reference(plan, name, self.worlds[name], index, outcomes[name], worth)

    def guarded_reference(self, plan: Plan, worth: float, values: dict[str, float],
                          outcomes) -> tuple[Plan, dict]:
        """A reference ladder in place of the plan only if it beats it beyond the noise of paired runs.

        Run 0 is the valuation's seed (the runs already made); runs 1 … n − 1
        use its children, the plan and every reference on the same seeds.
        """
        from .sim_valuation import valuation_seed

        eligible = list(self.eligible(values, outcomes))
        plan_runs, runs = [worth], {name: [values[name]] for name in eligible}
        # A reference the first paired run puts at or below the plan cannot clear the bar in the runs
        # left (guard.could_beat_plan): it is not run again, and the plan's own runs only for those that can.
        contenders = [name for name in eligible if could_beat_plan([values[name] - worth], self.guard_runs)]
        if contenders and self.guard_runs > 1:
            started = time.perf_counter()
            ladder, seed = plan.to_strategy(self.scenario), valuation_seed(self.scenario)
            worlds = {"": ladder, **{name: self.worlds[name] for name in contenders}}
            # The plan's runs made already (its run 1 in the second pass's check, kept_plan_ahead) are not made again.
            todo = [(r, name) for r in range(1, self.guard_runs) for name in worlds
                    if name or (ladder.content_hash, r) not in self.worths]
            units = [(self.scenario, worlds[name], self.segments, self.days,
                      np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, r))) for r, name in todo]
            got = self.batch(_ladder_unit, units)
            for k, (r, name) in enumerate(todo):
                if name == "":
                    self.worths[(ladder.content_hash, r)] = got[k]
                else:
                    runs[name].append(got[k])
            plan_runs += [self.worths[(ladder.content_hash, r)] for r in range(1, self.guard_runs)]
            self.timings["value"] += time.perf_counter() - started
        differences = [d for name, values_run in runs.items()
                       for d in paired_differences(plan_runs[:len(values_run)], {name: values_run})]
        winner = choose(differences)
        ruled_out = [name for name in eligible if name not in contenders]
        said = "; ".join(describe(d) if d.name not in ruled_out or self.guard_runs == 1 else
                         f"{d.name} − LP plan {d.mean:+,.0f} on the first run, at or below 0: it cannot clear "
                         f"the bar in {self.guard_runs} runs, not run again" for d in differences)
        guard = {"runs": len(plan_runs), "rule": "a reference replaces the LP's plan only if its paired difference's "
                                                 "95 % interval lies wholly above 0",
                 "returned": f"reference ladder {winner.name}" if winner else "lp", "plan_runs": plan_runs,
                 "references": {d.name: d.to_dict() for d in differences},
                 "not_run_again": ruled_out if self.guard_runs > 1 else []}
        if winner is None:
            note = f"kept the LP's plan ({said})" if said else ""
            return replace(plan, note="; ".join(x for x in (plan.note, note) if x)), guard
        adopted = self.adopt(plan, winner.name, outcomes, worth)
        return replace(adopted, note=f"{adopted.note}; beyond the noise: {said}"), guard

    def finish(self, best: _Pass, retried: str) -> Allocation:
        """The plan returned, built complete: agent values, reference ladders, note and summary."""
        plan, worth = best.plan, best.worth
        lp_plan = plan
        values: dict[str, float] = {}
        reference_values: dict[str, float] = {}
        guard: dict = {}
        if worth is not None:
            outcomes = self.reference_outcomes()
            reference_values = {name: ladder_worth(self.scenario, r) for name, r in outcomes.items()}
            plan, guard = self.guarded_reference(plan, worth, reference_values, outcomes)
            values = {**reference_values, "plan": plan.model_value if plan.reference is not None else worth}
        # After the guard: its runs of the LP's plan are the agent value's runs of it.
        agents = (agent_values(self.staffed, best.model, self.days, solver=self.solver, time_limit=self.time_limit,
                               runner=self, fallback=self.own, runs=self.guard_runs) if lp_plan.ok else {})
        summary = {}
        if plan.ok:
            from .plan_summary import plan_summary

            summary = plan_summary(plan, best.valuation, self.staffed, self.own)
        plan = replace(plan, agent_value=agents, model_value=plan.model_value if plan.reference is not None else worth,
                       lp_value=worth, reference_values=reference_values, guard=guard,
                       note="; ".join(x for x in (plan.note, retried) if x), summary=summary)
        return Allocation(model=best.model, plan=plan, valuation=best.valuation, build_seconds=self.timings["build"],
                          value_seconds=self.timings["value"], ladder_values=values, world=self.scenario)


def _search_unit(item):
    """A whole-book ladder run (its outcome, or with kind "worth" its objective), a treatment's sample run or
    the balance values' measurement, as an executor's work unit (kind, unit)."""
    kind, unit = item
    if kind == "ladder":
        return _ladder_outcome(unit)
    if kind == "worth":
        return _ladder_unit(unit)
    if kind == "samples":
        from .sim_valuation import run_group

        return run_group(unit)
    if kind == "balance":
        from .objective import engine_balance_values

        return engine_balance_values(unit)
    from .sim_valuation import run_unit

    return run_unit(unit)


def _ladder_unit(unit) -> float:
    """One whole-book run of a ladder on one seed, as its objective: an executor's work unit (the guard's runs)."""
    scenario, world, segments, days, seed = unit
    return ladder_worth(scenario, _ladder_outcome((world, segments, days, seed)))


def _ladder_outcome(unit):
    """One whole-book run of a ladder (None: on the valuation's seed), as an executor's work unit."""
    from .sim_valuation import simulate_ladder

    world, segments, days, seed = unit
    return simulate_ladder(world, segments, world.strategy.steps, days, seed=seed)


def adopt_reference(plan: Plan, name: str, world: Scenario, index: int, outcome, lp_worth: float) -> Plan:
    """The plan replaced by the reference ladder ``name``, which beat it beyond the noise (the guard).

    Every account gets the ladder (the allocation table shows its ladder
    treatment, number ``index``), the objective and capacity used are the ladder's whole-book run
    with the teams' daily capacity; the shadow prices stay those of the
    LP (the value of an agent hour to the LP's own allocation).
    """
    S, T = plan.shares.shape
    shares = np.zeros((S, T))
    shares[:, index] = 1.0
    counts = np.zeros((S, T), dtype=np.int64)
    counts[:, index] = plan.segments.accounts
    used = {}
    for (team, week) in plan.capacity:
        per_week = outcome.minutes.get(team)
        used[(team, week)] = float(per_week[week].sum()) if per_week is not None and week < per_week.shape[0] else 0.0
    value = ladder_worth(world, outcome)
    note = (f"reference ladder {name} is already optimal under the model: it is worth {value:,.0f} against "
            f"{lp_worth:,.0f} for the LP's plan as a ladder")
    budget_used = float(outcome.cost.sum()) if plan.budget is not None else plan.budget_used
    return replace(plan, shares=shares, counts=counts, objective=value, capacity_used=used, model_value=value,
                   budget_used=budget_used,
                   reference=name, reference_steps=tuple(world.strategy.steps),
                   reference_strategy=world.content()["strategy"], note=note)


def ladder_worth(scenario: Scenario, outcome) -> float:
    """A whole ladder's objective: its net collections plus the value of the book it leaves at the horizon."""
    from .objective import horizon_value

    worth = float(outcome.net.sum())
    if outcome.balance_end is not None:
        worth += float(horizon_value(scenario, outcome.book()).sum())
    return worth


def within_budget(spend: float, budget: float | None) -> bool:
    """Whether ``spend`` keeps to ``budget`` (no budget: always), to a cent's tolerance."""
    return budget is None or spend <= budget + 0.01


def with_strategy(world: Scenario, other: Scenario) -> Scenario:
    """``world`` (its book, teams, rules, costs) run with ``other``'s ladder: equal capacity."""
    data = world.content()
    strategy = other.content()["strategy"]
    for step in strategy.get("steps", []):
        if step.get("team") is not None and step["team"] not in world.teams:
            step.pop("team")
    data["strategy"] = strategy
    data["name"] = other.strategy.name
    return Scenario.from_dict(data, source=other.source, base_dir=world.base_dir)
