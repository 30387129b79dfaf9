"""Accounts that roll out of their bucket: valued with the treatment the plan's ladder will give them.

A plan is written as a ladder keyed by days past due, risk segment and
balance band (:meth:`optimizer.allocation.plan.Plan.to_strategy`): an account
that ages out of its starting bucket gets the treatment of the cell it rolls
into, whatever it started with. A valuation that keeps each treatment for the
whole horizon (what ``allocate``'s first pass did when the own ladder after
the bucket did not fit the teams) counts a 1-30 segment left to SMS as asking
for no calls, while its ladder calls every account of it that reaches 31-60:
on baseline's card book at 1,500 accounts the plan for 0.59 callers asked for
73 k call minutes where the LP counted 47.5 k, and the engine, short of
agents, rationed them by balance (docs/optimizer_validation.md, "One more
agent on the card book").

Here the LP's value and minutes of giving a cell a treatment are the cell's
own accounts under it plus the accounts that roll into the cell from the
bucket before, under it from the day they roll (a linear model of the
ladder, so the LP stays an LP):

* ``native[s, t]``: segment s's accounts get t in their bucket and no
  contact once they leave it;
* ``rolled[s, t]``: segment s's accounts get the own ladder in their bucket
  and t from the day they leave it, less the same with no contact after it
  (a paired difference: an account that never leaves its bucket contributes
  exactly 0);
* the cell segment s rolls into is its bucket's next cell of the same risk
  segment and balance band; where no segment starts there the plan's ladder
  gives the nearest earlier bucket's choice
  (:func:`optimizer.allocation.plan.continuation_table`), so ``rolled[s, ·]``
  goes to that segment's columns (at worst s's own: the account keeps its
  treatment).

A cell given no contact asks for no minutes after its bucket, so a plan
that fits the teams exists whenever ``none`` is allowed; a 1-30 segment left
to SMS carries no calls, and the 31-60 cell it rolls into carries the calls
its ladder makes to them. What this approximates: the accounts rolling in
are counted as the own ladder in their first bucket leaves them (a plan
that treats them less rolls more of them); an account that rolls twice, or
cures and falls behind again, keeps the treatment of the first cell it
rolled into.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from sim.domain import ROLL_STATES
from sim.scenario import Scenario

from .objective import HorizonBook, horizon_value
from .plan import continuation_table
from .segments import Segments
from .sim_valuation import (
    SimulatedValuation,
    _segment_std_error,
    _segment_totals,
    map_runs,
    run_key,
    sample_book,
    valuation_seed,
)
from .treatments import Treatment


def roll_owner(segments: Segments) -> np.ndarray:
    """For each segment, the segment whose treatment the plan's ladder gives its accounts in the next bucket
    (-1 for the last bucket: after it comes charge-off)."""
    S = len(segments)
    table = continuation_table(segments, np.arange(S), fallback=-1)
    nxt = np.minimum(segments.bucket + 1, table.shape[0] - 1)
    owner = table[nxt, segments.risk, segments.band]
    return np.where(segments.bucket + 1 < table.shape[0], owner, -1)


def with_roll_ins(scenario: Scenario, segments: Segments, treatments: Sequence[Treatment], days: int,
                  native: SimulatedValuation, *, base: int, after: int, per_segment: int = 40,
                  replications: int = 1, executor=None, runs_cache: dict | None = None) -> SimulatedValuation:
    """``native`` (every treatment in its bucket, ``after`` after it) with the accounts rolling into each cell added.

    ``base``: the treatment the rolling accounts get in their first bucket
    (the scenario's own ladder), ``after``: what ``native`` gave them after
    it (no contact). One run per treatment of the whole sample (base in the bucket,
    the treatment after it), paired with the run of ``after`` after it: the
    differences, summed by segment, are added to the columns of the segment
    whose cell the accounts roll into (:func:`roll_owner`).
    """
    book = sample_book(segments, per_segment)
    seed = valuation_seed(scenario)
    seeds = [seed] + [np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, r))
                      for r in range(1, replications)]
    S, T, weeks = len(segments), len(treatments), math.ceil(days / 7)
    n_risk = len(segments.portfolio.segment_names)
    tables = [np.full((7, n_risk, len(segments.band_edges)), t, dtype=np.int64) for t in range(T)]
    units = [(scenario, book, tuple(treatments), base, days, tables[t], each, True) for t in range(T) for each in seeds]
    keys = [run_key(scenario, book, treatments, base, days, tables[t], each, True, per_segment)
            for t in range(T) for each in seeds]
    runs: list = [runs_cache.get(key) if runs_cache is not None else None for key in keys]
    todo = [k for k, run in enumerate(runs) if run is None]
    batch = [units[k] for k in todo]
    for position, outcome in map_runs(executor, batch):
        runs[todo[position]] = outcome
        if runs_cache is not None:
            runs_cache[keys[todo[position]]] = outcome

    def mean(t: int, read) -> np.ndarray:
        return sum(read(run) for run in runs[t * len(seeds):(t + 1) * len(seeds)]) / len(seeds)

    owner = roll_owner(segments)
    rolls = owner >= 0
    net0 = mean(after, lambda r: r.collected - r.spend)
    end0 = mean(after, lambda r: r.balance_end)
    fields = {"value": np.zeros((S, T)), "collected": np.zeros((S, T)), "spend": np.zeros((S, T)),
              "complaints": np.zeros((S, T)), "written_off": np.zeros((S, T)), "rolled_past_30": np.zeros((S, T)),
              "balance_end": np.zeros((S, T, len(ROLL_STATES)))}
    variance = np.zeros((S, T))
    minutes = {name: np.zeros((S, T, weeks)) for name in native.minutes}
    reads = {"collected": lambda r: r.collected, "spend": lambda r: r.spend,
             "complaints": lambda r: r.complaints.astype(float), "written_off": lambda r: r.written_off,
             "rolled_past_30": lambda r: r.rolled_past_30}
    for t in range(T):
        if t == after:
            continue
        diff = {name: mean(t, read) - mean(after, read) for name, read in reads.items()}
        net = mean(t, lambda r: r.collected - r.spend) - net0
        end = mean(t, lambda r: r.balance_end) - end0
        # The roll's whole worth to the objective, account by account: net collections and the book it leaves.
        worth = net + horizon_value(scenario, HorizonBook(end, diff["written_off"], diff["rolled_past_30"]))
        by_segment = {name: _segment_totals(d, book, S) for name, d in diff.items()}
        by_segment["value"] = _segment_totals(net, book, S)
        for name, total in by_segment.items():
            np.add.at(fields[name][:, t], owner[rolls], total[rolls])
        for k in range(len(ROLL_STATES)):
            np.add.at(fields["balance_end"][:, t, k], owner[rolls], _segment_totals(end[:, k], book, S)[rolls])
        np.add.at(variance[:, t], owner[rolls], _segment_std_error(worth, book, S)[rolls] ** 2)
        for name in minutes:
            work = mean(t, lambda r, name=name: r.work.get(name, 0.0)) - mean(after, lambda r, name=name: r.work.get(name, 0.0))
            if np.ndim(work) != 2:
                continue
            for w in range(min(weeks, work.shape[0])):
                np.add.at(minutes[name][:, t, w], owner[rolls], _segment_totals(work[w], book, S)[rolls])
    balance_end = native.balance_end + fields["balance_end"]
    written_off = native.written_off + fields["written_off"]
    rolled_past_30 = native.rolled_past_30 + fields["rolled_past_30"]
    error = native.value_std_error
    return replace(native, value=native.value + fields["value"], collected=native.collected + fields["collected"],
                   spend=native.spend + fields["spend"], complaints=native.complaints + fields["complaints"],
                   minutes={name: native.minutes[name] + minutes[name] for name in native.minutes},
                   value_std_error=None if error is None else np.sqrt(error**2 + variance),
                   balance_end=balance_end, written_off=written_off, rolled_past_30=rolled_past_30,
                   horizon=horizon_value(scenario, HorizonBook(balance_end, written_off, rolled_past_30)))
