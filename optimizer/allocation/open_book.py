"""The book an open-book plan is made for: the book at the start of the measured days and the horizon's arrivals.

A scenario with ``[arrivals]`` (or a warm-up) is an open book: new delinquent
accounts enter every day, and the measured days start after
``simulation.warmup_days`` under the scenario's own ladder. A plan for it
covers two kinds of accounts:

* the book as it stands when the measured days start — found by running the
  warm-up once with the scenario's own ladder and seed (the same run the
  simulator makes before its first measured day) and keeping every account
  then in collection (delinquent, or in legal) with its balance, past due,
  days past due and statement day;
* the accounts that arrive during the horizon, drawn as the engine draws them
  (:func:`sim.portfolio.generate_arrivals`, Poisson a day at the scenario's
  monthly rate), each entering on its day at 1 day past due.

Both are one portfolio (the book first, then the arrivals in order of entry)
with each row's day of entry (−1 for the book at the start), so an arrival
falls into the segment its bucket, risk segment and balance band put it in,
and the plan's treatment of that segment is what it gets — as the plan's
ladder (conditions on days past due, risk segment and balance) gives it in a
run of the scenario.

What the book at the start does not carry over from the warm-up: each
account's contact history (fatigue, promises, the last step's day) and its
standing (exclusions, time zone), which the valuation's runs draw afresh.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.engine import Engine
from sim.engine.arrivals import ARRIVALS_STREAM, Arrivals, MeasuredStart
from sim.portfolio import Portfolio, build_portfolio, generate_arrivals
from sim.scenario import Scenario
from sim.streams import RandomStreams

# The horizon's arrivals are drawn on a stream of their own: a child of the seed that neither the warm-up's
# run nor the valuation's (1,000,003) nor --verify's replications use.
ARRIVALS_CHILD = 1_000_019


def is_open(scenario: Scenario) -> bool:
    """Whether the scenario is an open book (arrivals, or a warm-up before the measured days)."""
    return scenario.arrivals is not None or scenario.simulation.warmup_days > 0


@dataclass(frozen=True)
class PlanningBook:
    """The accounts a plan is made for: ``portfolio``'s rows with ``entry_day`` (−1: in the book at the start)."""

    portfolio: Portfolio
    entry_day: np.ndarray  # int32, engine day of the horizon the row enters on; −1 for the book at the start

    @property
    def arrivals(self) -> int:
        return int((self.entry_day >= 0).sum())


_CACHE: dict[tuple, PlanningBook] = {}


def planning_book(scenario: Scenario, days: int, rng=None) -> PlanningBook:
    """The book at the start of the measured days (after the scenario's warm-up) and the arrivals of ``days`` days.

    ``rng``: the seed of the warm-up's run (default: the scenario's, so the
    book is the one a run with that seed measures from). Cached by scenario,
    horizon and seed: the warm-up is run once per allocation.
    """
    streams = RandomStreams(scenario.simulation.seed if rng is None else rng)
    seed = streams.seed_sequence
    key = (scenario.content_hash, days, seed.entropy, tuple(seed.spawn_key))
    if key not in _CACHE:
        if len(_CACHE) > 8:
            _CACHE.clear()
        _CACHE[key] = _build(scenario, days, streams)
    return _CACHE[key]


def _build(scenario: Scenario, days: int, streams: RandomStreams) -> PlanningBook:
    start = book_at_start(scenario, streams)
    world = scenario.with_overrides({"simulation.warmup_days": 0, "simulation.days": days})
    if scenario.arrivals is None:
        return PlanningBook(start, np.full(len(start), -1, dtype=np.int32))
    first_id = int(start.account_id.max()) + 1 if len(start) else 0
    child = np.random.SeedSequence(streams.seed_sequence.entropy,
                                   spawn_key=(*streams.seed_sequence.spawn_key, ARRIVALS_CHILD))
    arrived, entry = generate_arrivals(world, RandomStreams(child)[ARRIVALS_STREAM], first_id, start.segment_names)
    fields = ("account_id", "balance", "past_due", "days_past_due", "segment", "phone_known", "email_known")
    joined = {f: np.concatenate((getattr(start, f), getattr(arrived, f))) for f in fields}
    statement_day = None
    if start.statement_day is not None:
        # An arrival's statement day follows from its days past due (−1: the engine derives it).
        statement_day = np.concatenate((start.statement_day, np.full(len(arrived), -1, dtype=np.int32)))
    portfolio = Portfolio(**joined, segment_names=start.segment_names, statement_day=statement_day)
    entry_day = np.concatenate((np.full(len(start), -1, dtype=np.int32), entry.astype(np.int32)))
    return PlanningBook(portfolio, entry_day)


class _WarmedUp(Exception):
    """Ends the warm-up's run at the first measured day: the book then is all it is run for."""


def book_at_start(scenario: Scenario, streams: RandomStreams) -> Portfolio:
    """The accounts in collection when the measured days start, as the scenario's own warm-up leaves them.

    Without a warm-up: the scenario's book as generated. Otherwise the
    scenario's own run (ladder, teams, arrivals: the same draws as a run of
    this seed) up to the end of its warm-up, where the book is read as the
    engine reads it at 00:00 of the first measured day
    (:class:`sim.engine.arrivals.MeasuredStart`); the measured days are not run.
    """
    book = build_portfolio(scenario, streams["portfolio"])
    warmup = scenario.simulation.warmup_days
    if warmup == 0:
        return book
    taken: list[MeasuredStart] = []

    def at_end_of_warmup(day: int, days: int) -> None:
        # The engine reports day 0 at the end of the warm-up; its book is where the measured days start.
        if day == 0:
            taken.append(MeasuredStart.take(engine.book, warmup, 0.0, {}))
            raise _WarmedUp

    engine = Engine(scenario, book, streams, record_contacts=False, progress=at_end_of_warmup)
    try:
        engine.run()
    except _WarmedUp:
        pass
    start = taken[0]
    rows = np.flatnonzero(start.in_book)
    p = engine.portfolio
    statements = engine.book.statements
    statement_day = None if statements is None else statements.cycle_day[rows].astype(np.int32)
    return Portfolio(account_id=p.account_id[rows], balance=start.balance[rows], past_due=start.past_due[rows],
                     days_past_due=start.days_past_due[rows].astype(np.int32), segment=p.segment[rows],
                     phone_known=p.phone_known[rows], email_known=p.email_known[rows],
                     segment_names=p.segment_names, statement_day=statement_day)


def arrivals_of(entry_day: np.ndarray, days: int) -> Arrivals | None:
    """The engine's :class:`Arrivals` for rows whose entry days are ``entry_day`` (−1 rows first, then ascending)."""
    later = entry_day >= 0
    if not later.any():
        return None
    first = int(np.argmax(later))
    if (entry_day[:first] >= 0).any() or np.any(np.diff(entry_day[first:]) < 0):
        raise ValueError("the book's rows come first, then the arrivals in order of entry")
    return Arrivals(first, entry_day[first:].astype(np.int64), days)


def staffed_at_start(scenario: Scenario, book_at_start: int) -> Scenario:
    """The scenario with each ``agents_per_1000`` team staffed on ``book_at_start`` accounts, as an open book's run
    staffs it for the measured days (:func:`sim.engine.arrivals.restaff`): the capacity a plan has to work with."""
    if not is_open(scenario):
        return scenario
    # The ratio rescaled so that the file's accounts give the size the measured book gives: a fractional
    # size stays a part-timer (sim.scenario.part_time_share), as the engine staffs it.
    ratio = book_at_start / scenario.simulation.accounts
    overrides = {f"teams.{name}.agents_per_1000": team.agents_per_1000 * ratio
                 for name, team in scenario.teams.items()
                 if team.agents_per_1000 is not None and team.kind != "legal"}
    return scenario.with_overrides(overrides) if overrides else scenario
