"""The app's heavy calls, cached on hashable inputs (scenario TOML text, seed, sizes).

Each function rebuilds its scenarios from TOML text and calls the library:
the same inputs give the same numbers, so a cached answer is the answer.
Long runs draw their own progress bar: Streamlit replays the elements a
cached function drew, so a bar made inside the function is shown (full) on a
cache hit too, while a bar made outside it could not be replayed.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import streamlit as st

from .common import scenario_from_text

if TYPE_CHECKING:
    from sim.executors import LocalExecutor
    from sim.experiment import Comparison
    from sim.fidelity import Report
    from sim.metrics import RunResult
    from sim.sweep import SensitivityResult, SweepResult

# The experiment engine (sim.experiment, sim.sweep, sim.store) is imported where
# it is used, so that the pages built on the optimizer alone do not need it.


class _ProgressBar:
    """A progress bar that goes away when its run fails, so an error never leaves an empty bar behind."""

    def __init__(self, what: str):
        self.what = what
        self.bar = st.progress(0.0, text=what)

    def __call__(self, done: int, total: int) -> None:
        self.bar.progress(done / max(total, 1), text=f"{self.what}: {done} of {total} runs")

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, kind, error, trace) -> None:
        if error is not None:
            self.bar.empty()


def _progress_bar(what: str) -> _ProgressBar:
    return _ProgressBar(what)


def _executor(workers: int) -> LocalExecutor:
    from sim.executors import LocalExecutor

    # One worker runs in this process: no start-up cost, nothing to spawn from a web server.
    return LocalExecutor(workers=max(1, workers))


@st.cache_data(show_spinner=False, max_entries=16)
def compare(scenarios: tuple[tuple[str, str], ...], reps: int, seed: int, workers: int = 1,
            store_path: str | None = None) -> Comparison:
    """Compare ``(source, toml_text)`` scenarios (champion first) over ``reps`` paired replications."""
    from sim.experiment import run_experiment
    from sim.store import ResultStore

    built = [scenario_from_text(text, source) for source, text in scenarios]
    store = ResultStore(store_path).ensure() if store_path else None
    with _executor(workers) as executor, _progress_bar("comparison") as progress:
        return run_experiment(built, reps, rng=seed, executor=executor, store=store, progress=progress)


@st.cache_data(show_spinner=False, max_entries=32)
def single_run(text: str, source: str, seed: int) -> RunResult:
    """One simulation of a scenario (without its contact log)."""
    from sim.simulation import simulate

    return simulate(scenario_from_text(text, source), seed, contact_log=False)


@st.cache_data(show_spinner=False, max_entries=16)
def fidelity(text: str, source: str, reps: int, seed: int) -> Report:
    """The fidelity report of a scenario: ``reps`` runs and a no-contact holdout on the same seeds."""
    from sim.fidelity import fidelity as measure

    return measure(scenario_from_text(text, source), reps, seed)


@st.cache_data(show_spinner=False, max_entries=16)
def sweep(text: str, source: str, path: str, values: tuple, reps: int, seed: int, workers: int = 1
          ) -> SweepResult:
    """The base scenario against each value of one field, paired by replication."""
    from sim.sweep import run_sweep

    base = scenario_from_text(text, source)
    with _executor(workers) as executor, _progress_bar("sweep") as progress:
        return run_sweep(base, [(path, list(values))], reps, rng=seed, executor=executor, progress=progress)


@st.cache_data(show_spinner=False, max_entries=16)
def sensitivity(text: str, source: str, params: tuple[tuple[str, float], ...], kpi: str, reps: int, seed: int,
                workers: int = 1) -> SensitivityResult:
    """One-at-a-time sensitivity of ``kpi`` to each ``(path, step)``."""
    from sim.sweep import run_sensitivity

    base = scenario_from_text(text, source)
    with _executor(workers) as executor, _progress_bar("sensitivity") as progress:
        return run_sensitivity(base, list(params), reps, kpi=kpi, rng=seed, executor=executor,
                               progress=progress)


@st.cache_data(show_spinner=False, max_entries=8)
def report(store_path: str, experiment_id: str, updated_at: str) -> str:
    """The management report (:func:`sim.report.report_html`) of a stored experiment, as HTML text.

    ``updated_at`` (the experiment's last change in the store) is part of the
    cache key, so a resumed experiment gets a new report.
    """
    from sim.report import report_html
    from sim.store import ResultStore

    return report_html(ResultStore(store_path, lock_timeout=5.0), experiment_id)


def cache_key(*parts) -> str:
    """A compact, stable description of a request (kept in session state)."""
    return json.dumps(parts, sort_keys=True, default=str)


@st.cache_data(show_spinner=False, max_entries=32)
def payoff_advice(debts_json: str, source: str, strategies: tuple[str, ...], budget: float | None):
    """The payoff advisor's plans and the minimum-payment trap for a debt file given as JSON."""
    from optimizer.payoff.advisor import advise
    from optimizer.payoff.model import DebtFile

    debts = DebtFile.from_dict(json.loads(debts_json), source=source)
    return advise(debts, strategies, budget)


def debts_json(debts) -> str:
    return debts.model_dump_json(exclude={"source"}, exclude_unset=True)


@st.cache_data(show_spinner=False, max_entries=16)
def allocation(text: str, source: str, budget: float | None, min_service: bool):
    """The capacity plan of a scenario, and its objective re-solved for other head counts of the call team.

    The curve re-solves the same LP (same values per segment and treatment)
    with the first call team's capacity scaled to each head count, so it shows
    what agents are worth to the plan, not a new valuation.

    Returns ``(plan, team, agents now, [(agents, objective or None), …])``.
    """
    from optimizer.allocation import allocate, build_allocation_model, solve, team_capacity

    scenario = scenario_from_text(text, source)
    result = allocate(scenario, budget=budget, min_service=min_service)
    plan = result.plan
    team = next((name for name, t in scenario.teams.items() if t.kind == "call"), None)
    curve: list[tuple[float, float | None]] = []
    spec = scenario.teams[team] if team is not None else None
    # In full-time agents: a team scaled per 1,000 accounts may end in a part-timer (0.12 agents for a small
    # book), and the LP's capacity counts it by its share.
    now = round(spec.full_time_equivalents, 2) if spec is not None else 0
    if team is not None and plan.ok:
        for size, varied in _team_sizes(scenario, team):
            capacity = team_capacity(varied, plan.days)
            # The same choices the plan could make (a re-solve to fit a ladder may have ruled some out).
            model = build_allocation_model(result.valuation, capacity, budget=budget, min_service=min_service,
                                           units=plan.units, allowed=result.model.allowed)
            curve.append((size, solve(model).objective))
    return plan, team, now, curve


CURVE_FACTORS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)


def _team_sizes(scenario, team: str):
    """``(size in full-time agents, scenario)`` for the team at each of :data:`CURVE_FACTORS` of its size.

    A team given ``agents`` varies by whole agents; a team given ``agents_per_1000`` by its ratio, so a
    fractional size keeps its part-timer. The factor 1 is the scenario itself.
    """
    spec = scenario.teams[team]
    now = spec.full_time_equivalents
    sizes: dict[float, object] = {}
    for f in CURVE_FACTORS:
        if f == 1.0:
            sizes[round(now, 2)] = scenario
        elif spec.agents_per_1000 is not None and now > 0:
            sizes.setdefault(round(now * f, 2), scenario.with_overrides(
                {f"teams.{team}.agents_per_1000": spec.agents_per_1000 * f}))
        else:
            agents = max(0, round(spec.agents * f))
            sizes.setdefault(float(agents), scenario.with_overrides({f"teams.{team}.agents": agents}))
    return sorted(sizes.items())


@st.cache_data(show_spinner=False, max_entries=16)
def verify_plan(text: str, source: str, budget: float | None, min_service: bool, reps: int):
    """Simulate the plan's ladder against the scenario's own, paired by replication (same capacity)."""
    from optimizer.allocation import verify

    scenario = scenario_from_text(text, source)
    plan, _, _, _ = allocation(text, source, budget, min_service)
    strategy = plan.to_strategy(scenario)
    return verify(scenario, strategy, [scenario], reps, segments=plan.segments, days=plan.days), \
        strategy.display_name, strategy.to_toml()


@st.cache_data(show_spinner=False, max_entries=32)
def staffing(arrivals: tuple[tuple[int, float], ...], handle_seconds: float, service_level: float,
             answer_within: float, shrinkage: float, model: str, patience: float | None,
             patterns: tuple[str, ...]):
    """Agents needed each hour on the inbound line (Erlang C/A) and the fewest agents' shifts covering them."""
    from optimizer.staffing.requirements import ShiftPattern, requirements_by_hour, schedule_shifts

    needs = requirements_by_hour(dict(arrivals), handle_seconds, service_level=service_level,
                                 answer_within=answer_within, shrinkage=shrinkage, model=model,
                                 patience=patience)
    shifts = [ShiftPattern.parse(p) for p in patterns]
    roster = schedule_shifts({h: r.rostered for h, r in needs.items()}, shifts, days=1)
    return needs, roster


@st.cache_data(show_spinner=False, max_entries=16)
def champion_run(source: str, text: str, seed: int) -> RunResult:
    """One run of a champion/challenger scenario (``[[strategies]]``): its KPIs by strategy and within-run tests."""
    from sim.simulation import simulate

    return simulate(scenario_from_text(text, source), seed, contact_log=False)


@st.cache_data(show_spinner=False, max_entries=128)
def chart_png(key: str, _draw) -> bytes:
    """A figure drawn by ``_draw()`` as PNG bytes, cached under ``key``.

    Drawing a page's figures takes seconds (PNG rendering, not the numbers),
    so results that come back from the cache would still take seconds to show:
    the pictures are cached too. ``key`` must name everything the figure
    depends on (the request's digest, the chart, its options); ``_draw`` is
    left out of the cache key (the leading underscore).
    """
    import io

    figure = _draw()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=150, bbox_inches="tight")
    return buffer.getvalue()
