"""The optimised strategy checked by simulation against other ladders, paired by common random numbers.

Two figures per ladder and replication, side by side:

* ``net_recovery`` — the run's KPI (collections − every cost of the run,
  agents' time included), what a collections report shows;
* ``objective`` — what the LP maximises (:func:`optimizer.allocation.search.ladder_worth`):
  net collections within the horizon (collections − variable spend; the
  teams' time is the capacity the LP rations, not a cost of it) plus the
  value of the book left at the horizon by ``[objective]``
  (:mod:`optimizer.allocation.objective`).

Whether the plan beats a ladder is judged on the objective, the quantity it
was chosen to maximise; net recovery is shown next to it because a plan can
win on the objective by leaving a book worth more while collecting less
within the horizon.

*Which accounts.* On an open book the valuation values the planning book
(:mod:`optimizer.allocation.open_book`): the accounts in collection when the
measured days start, as the world's own ladder's warm-up leaves them, and the
horizon's arrivals. Run as the scenario defines it, each ladder would bring
a book of its own: its own warm-up's (sms_gentle's leaves 17.4 M in
collection where call_heavy's leaves 15.8 M, in call_heavy's world at 5,000
accounts, and collects 1.3 M more in the measured days for it), and the
accounts that warm-up cured, which still owe their card balance (about 25 M
at 3,000 accounts of baseline). A manager asks what switching today would
bring, on today's book. So replication k builds that book afresh — the
world's own ladder's warm-up on child k of the seed and the horizon's
arrivals (:func:`optimizer.allocation.open_book.planning_book`) — and runs
every ladder's measured days from it (a stream of their own, paired across
ladders); the objective and ``net_collections`` count its rows
(:func:`planning_rows`), which is every row such a run holds, and
``net_recovery`` is the run's KPI (agents' time included). A closed book is
run as the scenario defines it, as :func:`sim.experiment.run_experiment` runs it.

*The prediction and its standard error.* The valuation predicts a whole
ladder by running it on one book: the planning book the scenario's seed
leaves, with the valuation's seed (run 0, what ``allocate`` itself saw). One
book is one draw: at 5,000 accounts the scenario seed's book holds 1.8 % more
arrivals than the replications' books on average (17,360 against 17,045, sd
107) and 1–2 % more balance at the start, and every ladder's predicted level
shares that offset. ``prediction_runs`` = P > 1 adds P − 1 books of the
valuation's own (the warm-up on child r of the valuation's seed, never a seed
``--verify`` replicates on), each ladder run once on each with common random
numbers across ladders; the prediction is the mean over the P runs and its
standard error the runs' standard deviation / √P (of a level, and of each
paired difference). With P = 1 there is no standard error to give (None).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sim.domain import ROLL_STATES
from sim.scenario import Scenario

from .open_book import is_open
from .search import ladder_worth, resolve_valuation, valuers, with_strategy
from .segments import Segments
from .valuation import LadderOutcome

MEASURES = ("objective", "net_collections", "net_recovery")
JUDGED_ON = "objective"


@dataclass
class Verification:
    """Simulated objective and net recovery of the optimised strategy against others, paired by replication.

    Replication k of every strategy uses child k of one root seed (the seeds
    :func:`sim.experiment.run_experiment` gives its replications), so the
    differences are paired.
    """

    reps: int
    labels: list[str]
    net_recovery: dict[str, list[float]]  # label -> per replication
    predicted: dict[str, float]  # label -> the valuation's expected net collections of the ladder
    objective: dict[str, list[float]] = field(default_factory=dict)  # label -> per replication
    predicted_objective: dict[str, float] = field(default_factory=dict)  # label -> the valuation's objective
    # label -> per replication: the objective's second part, the value of the book left at the horizon
    # (the first is net collections: collections − variable spend, without the agents' time the KPI charges)
    book_value: dict[str, list[float]] = field(default_factory=dict)
    # label -> the mean book value by roll state (value of its balance), written off and the roll's price
    book_parts: dict[str, dict[str, float]] = field(default_factory=dict)
    # label -> per replication: collections − variable spend of the planning book's accounts (what ``predicted``
    # predicts; the objective without the book at the horizon)
    net_collections: dict[str, list[float]] = field(default_factory=dict)
    # label -> per replication: the balance in collection when the measured days start
    opening_balance: dict[str, list[float]] = field(default_factory=dict)
    # label -> the valuation's prediction run by run (module docstring): net collections and the objective
    predicted_runs: dict[str, list[float]] = field(default_factory=dict)
    predicted_objective_runs: dict[str, list[float]] = field(default_factory=dict)

    def predicted_std_error(self, label: str, against: str | None = None, measure: str = "net_collections") -> float:
        """Standard error of the prediction of ``label`` (``against``: of ``label`` − ``against``, paired run by
        run) over the prediction's runs; NaN with one run."""
        runs = self.predicted_objective_runs if measure == "objective" else self.predicted_runs
        x = np.asarray(runs.get(label, []), dtype=float)
        if against is not None:
            x = x - np.asarray(runs[against], dtype=float)
        return float(x.std(ddof=1) / math.sqrt(x.size)) if x.size > 1 else math.nan

    def difference(self, label: str, against: str, measure: str = "net_recovery") -> dict[str, float]:
        """``label`` − ``against`` on ``measure``: mean paired difference, its 95 % interval, the valuation's prediction."""
        from sim.experiment import estimate

        runs, predicted = {"net_recovery": (self.net_recovery, self.predicted),
                           "net_collections": (self.net_collections, self.predicted),
                           "objective": (self.objective, self.predicted_objective)}[measure]
        d = np.asarray(runs[label]) - np.asarray(runs[against])
        e = estimate(d)
        low, high = (e.ci_low, e.ci_high) if d.size > 1 else (-math.inf, math.inf)
        # The simulated mean's standard error beside the prediction's: the second view of agreement compares
        # the two with both errors (optimizer_table.py), the strict one the prediction with the interval.
        se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else math.nan
        predicted_se = self.predicted_std_error(label, against, "objective" if measure == "objective"
                                                else "net_collections")
        return {"mean": e.mean, "low": low, "high": high, "std_error": se,
                "predicted": predicted[label] - predicted[against], "predicted_std_error": predicted_se}

    def verdict(self, label: str, against: str) -> str:
        """On the objective: ``beats`` (interval above 0), ``loses`` (below 0) or ``level`` (it holds 0)."""
        d = self.difference(label, against, JUDGED_ON)
        return "beats" if d["low"] > 0 else "loses" if d["high"] < 0 else "level"

    def to_dict(self, optimised: str) -> dict[str, Any]:
        def plain(x: float) -> float | None:
            return x if math.isfinite(x) else None

        def compared(measure: str) -> dict[str, dict[str, float | None]]:
            return {k: {n: plain(x) for n, x in self.difference(optimised, k, measure).items()}
                    for k in self.labels if k != optimised}

        return {"reps": self.reps,
                "judged_on": JUDGED_ON,
                "mean_net_recovery": {k: float(np.mean(v)) for k, v in self.net_recovery.items()},
                "mean_net_collections": {k: float(np.mean(v)) for k, v in self.net_collections.items()},
                "predicted_net": self.predicted,
                "prediction_runs": len(next(iter(self.predicted_runs.values()), [None])),
                "predicted_net_std_error": {k: plain(self.predicted_std_error(k)) for k in self.labels},
                "predicted_objective_std_error": {k: plain(self.predicted_std_error(k, measure="objective"))
                                                  for k in self.labels},
                "mean_objective": {k: float(np.mean(v)) for k, v in self.objective.items()},
                "predicted_objective": self.predicted_objective,
                "mean_book_value": {k: float(np.mean(v)) for k, v in self.book_value.items()},
                "mean_book_value_by_state": self.book_parts,
                "differences": compared("net_recovery"),
                "net_collections_differences": compared("net_collections"),
                "objective_differences": compared("objective"),
                "verdict": {k: self.verdict(optimised, k) for k in self.labels if k != optimised},
                # every replication's figures, so that levels and differences can be re-read from the JSON
                "per_replication": {"objective": self.objective, "net_collections": self.net_collections,
                                    "net_recovery": self.net_recovery, "opening_balance": self.opening_balance},
                "prediction_per_run": {"net_collections": self.predicted_runs,
                                       "objective": self.predicted_objective_runs}}


# Each replication's ladders run their measured days on a stream of their own: a child of the replication's seed
# (the seed itself drives the world's warm-up that leaves the book they start from).
MEASURED_CHILD = 1_000_037


def _replication(unit) -> tuple[float, float, float, dict[str, float], float, float]:
    """One run of one ladder on one seed: (net recovery KPI, the LP's objective, its book value at the horizon,
    that value by roll state and written off, net collections, the balance in collection at the start); an
    executor's work unit. All but the KPI count the planning book's accounts only (:func:`planning_rows`).

    ``world`` set (an open book): the run starts from the book ``world``'s own warm-up leaves on this seed and
    the horizon's arrivals (:func:`optimizer.allocation.open_book.planning_book`), the same book for every
    ladder of the replication; otherwise the scenario is run as defined, as ``simulate`` runs it."""
    from sim.engine import run_and_read
    from sim.metrics import build_result
    from sim.portfolio import build_portfolio
    from sim.streams import RandomStreams, describe_seed

    from .open_book import arrivals_of, planning_book

    scenario, valued, seed, world = unit
    arrivals = None
    if world is None:
        streams = RandomStreams(seed)
        portfolio = build_portfolio(scenario, streams["portfolio"])
    else:
        days = scenario.simulation.days
        book = planning_book(world, days, rng=seed)  # cached: one warm-up per replication and process
        scenario = from_planning_book(scenario, book)
        portfolio, arrivals = book.portfolio, arrivals_of(book.entry_day, days)
        streams = RandomStreams(np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, MEASURED_CHILD)))
    # simulate()'s own steps, kept apart so that the engine's outcome (where the measured days start) is at hand.
    def read(run):
        kpis = build_result(run, scenario_name=scenario.display_name, scenario_hash=scenario.content_hash,
                            seed=describe_seed(streams.seed_sequence)).kpis
        opening = run.initial_balance if run.measured_start is None else run.measured_start.balance_owed
        return kpis, planning_rows(run), opening, run.ledger

    kpis, rows, opening, ledger = run_and_read(scenario, portfolio, streams, read, ledger=True, arrivals=arrivals)
    outcome = LadderOutcome.from_ledger(ledger).rows(rows)
    worth = ladder_worth(valued, outcome)
    net = float(outcome.net.sum())
    return float(kpis["net_recovery"]), worth, worth - net, book_parts(valued, outcome), net, float(opening)


# The prediction's books after the first: child r of this child of the valuation's seed (the guard's run seeds are
# the valuation seed's children r; --verify's replications are the root seed's children 0 … reps − 1).
PREDICTION_BOOKS = 1_000_033


def prediction_seeds(world: Scenario, runs: int) -> list[tuple[np.random.SeedSequence | None, np.random.SeedSequence]]:
    """(book seed, run seed) of each of the prediction's ``runs``: run 0 the valuation's own book (None: the one
    ``allocate`` built) and seed; run r > 0 a book of the valuation's own and the valuation's stream of it."""
    from .sim_valuation import VALUATION_STREAM, valuation_seed

    seed = valuation_seed(world)
    out: list[tuple[np.random.SeedSequence | None, np.random.SeedSequence]] = [(None, seed)]
    for r in range(1, runs):
        book = np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, PREDICTION_BOOKS, r))
        out.append((book, np.random.SeedSequence(book.entropy, spawn_key=(*book.spawn_key, VALUATION_STREAM))))
    return out


def _prediction_run(unit) -> tuple[float, float]:
    """One ladder run by the valuation on one of the prediction's books: (net collections, the LP's objective);
    an executor's work unit. The book is built as ``allocate`` builds its own, from the book's seed (an open
    book: that seed's warm-up, cached per process, and the horizon's arrivals)."""
    from .segments import build_segments

    scenario, valued, world, days, book_seed, run_seed, value_ladder = unit
    segments = build_segments(world, book_seed, days=days)
    outcome = value_ladder(scenario, segments, scenario.strategy.steps, days, seed=run_seed)
    return float(outcome.net.sum()), ladder_worth(valued, outcome)


def from_planning_book(scenario: Scenario, book) -> Scenario:
    """``scenario`` set to run its measured days from ``book`` (:class:`~optimizer.allocation.open_book.PlanningBook`):
    no warm-up, the book's rows, teams staffed on the book at the start as the engine staffs the measured days."""
    from .open_book import staffed_at_start

    scenario = staffed_at_start(scenario, int((book.entry_day < 0).sum()))
    # Set without validating again: validation would staff the teams once more, on the book and its arrivals.
    simulation = scenario.simulation.model_copy(update={"accounts": len(book.portfolio), "warmup_days": 0})
    return scenario.model_copy(update={"simulation": simulation})


def planning_rows(run) -> np.ndarray:
    """The rows of a run (:meth:`sim.engine.Engine.outcome`) that a plan is made for: every row of a closed book;
    on an open book the rows in collection when the measured days start (delinquent or in legal) and the rows
    arriving during them — not the rows the warm-up cured or wrote off, which the planning book leaves out."""
    start = run.measured_start
    rows = np.ones(run.ledger.state_end.size, dtype=bool)
    if start is None:
        return rows
    rows = start.in_book.copy()
    if run.entered_day is not None:
        rows |= (run.entered_day >= start.day) & ~start.in_book
    return rows


def book_parts(scenario: Scenario, outcome: LadderOutcome) -> dict[str, float]:
    """The value of the book at the horizon by roll state, what written-off balances still bring, and the roll's price."""
    from .objective import state_weights

    spec = scenario.objective
    if not spec.horizon_value:
        return {}
    by_state = outcome.balance_end.sum(axis=0) * state_weights(scenario)
    parts = {state: float(v) for state, v in zip(ROLL_STATES, by_state, strict=True) if v}
    parts["written_off"] = spec.written_off_value * float(outcome.written_off.sum())
    parts["roll_past_30"] = -spec.roll_past_30 * float(outcome.rolled_past_30.sum())
    return parts


def verify(world: Scenario, optimised: Scenario, others: list[Scenario], reps: int, *, segments: Segments,
           seed: int | None = None, days: int | None = None, executor=None,
           per_segment: int = 40, valuation: str | None = None, objective: Scenario | None = None,
           prediction_runs: int = 1) -> Verification:
    """Simulate the optimised strategy and every other ladder in ``world`` (equal capacity), ``reps`` times each.

    Replication k of every ladder runs on child k of the root seed (``seed``,
    by default the world's), as :func:`sim.experiment.run_experiment` would
    run it (an open book: from the book the world's own warm-up leaves on
    child k, the same for every ladder; module docstring), so the replications
    are paired by common random numbers;
    ``predicted`` and ``predicted_objective`` are the valuation's (as
    :func:`optimizer.allocation.search.resolve_valuation` resolves
    ``valuation`` — None is the engine for any model but hawkes).
    ``objective``: the scenario whose ``[objective]`` the LP used (``allocate``
    may have measured its balance values; by default ``world``'s).
    ``executor``: a :mod:`sim.executors` executor (None: a local pool, closed at the end).
    ``prediction_runs``: books the valuation predicts each ladder on (module docstring); the prediction is their
    mean, with its standard error when more than one.
    """
    from sim.executors import LocalExecutor
    from sim.experiment import replication_seeds

    valued = world if objective is None else objective
    value_ladder = valuers(resolve_valuation(world, valuation)[0])[1]
    runs = {optimised.display_name: optimised}
    for other in others:
        runs.setdefault(other.display_name, with_strategy(world, other))
    labels = list(runs)
    _, children = replication_seeds(world.simulation.seed if seed is None else seed, reps)
    # An open book: every ladder of replication k starts from the book the world's own ladder leaves on child k
    # (fresh seeds, the planning book's kind), not from a warm-up of its own.
    start_from = world if is_open(world) else None
    units = [(runs[label], valued, child, start_from) for child in children for label in labels]
    horizon = days or world.simulation.days
    # Run 0 is the prediction allocate made, on its own book (``segments``); runs 1 … P − 1 go to the executor
    # beside the replications, book by book (a book's warm-up is cached in the process that builds it).
    extra = [(runs[label], valued, world, horizon, book_seed, run_seed, value_ladder)
             for book_seed, run_seed in prediction_seeds(world, prediction_runs)[1:] for label in labels]
    own_executor = executor is None
    executor = LocalExecutor() if own_executor else executor
    try:
        done = dict(executor.map_unordered(_verify_unit, [("replication", u) for u in units]
                                           + [("prediction", u) for u in extra]))
    finally:
        if own_executor:
            executor.close()
    net = {label: [done[k * len(labels) + i][0] for k in range(reps)] for i, label in enumerate(labels)}
    worth = {label: [done[k * len(labels) + i][1] for k in range(reps)] for i, label in enumerate(labels)}
    book = {label: [done[k * len(labels) + i][2] for k in range(reps)] for i, label in enumerate(labels)}
    parts = {label: {key: float(np.mean([done[k * len(labels) + i][3].get(key, 0.0) for k in range(reps)]))
                     for key in done[i][3]} for i, label in enumerate(labels)}
    collected = {label: [done[k * len(labels) + i][4] for k in range(reps)] for i, label in enumerate(labels)}
    opening = {label: [done[k * len(labels) + i][5] for k in range(reps)] for i, label in enumerate(labels)}
    outcomes = {label: value_ladder(scenario, segments, scenario.strategy.steps, horizon, per_segment=per_segment)
                for label, scenario in runs.items()}
    first = len(units)
    predicted_runs = {label: [float(o.net.sum())] + [done[first + r * len(labels) + i][0]
                                                     for r in range(prediction_runs - 1)]
                      for i, (label, o) in enumerate(outcomes.items())}
    objective_runs = {label: [ladder_worth(valued, o)] + [done[first + r * len(labels) + i][1]
                                                          for r in range(prediction_runs - 1)]
                      for i, (label, o) in enumerate(outcomes.items())}
    return Verification(reps=reps, labels=labels, net_recovery=net,
                        predicted={label: float(np.mean(v)) for label, v in predicted_runs.items()},
                        objective=worth, book_value=book, book_parts=parts, net_collections=collected,
                        opening_balance=opening,
                        predicted_objective={label: float(np.mean(v)) for label, v in objective_runs.items()},
                        predicted_runs=predicted_runs, predicted_objective_runs=objective_runs)


def _verify_unit(item):
    """A replication (:func:`_replication`) or one of the prediction's runs (:func:`_prediction_run`), as an
    executor's work unit (kind, unit)."""
    kind, unit = item
    return _replication(unit) if kind == "replication" else _prediction_run(unit)
