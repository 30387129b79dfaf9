"""The value of a treatment, measured by the simulator itself (no second copy of its rules).

For every segment × treatment the allocation LP needs the net value over the
horizon, the agent minutes by team and week, the variable spend, the
complaints and the book left at the horizon. Here they are measured by
running the engine on a stratified sample of each segment's accounts
(:func:`optimizer.allocation.valuation.sample_accounts`, each account weighted to its
balance stratum):

* one engine run per treatment over all segments' samples at once. An account
  that starts in bucket b gets the treatment's steps cut to b's days past due
  and, once it ages out of b, the continuation (the scenario's own ladder, or
  the previous plan's treatment of the cell it ages into) — every step given
  to its accounts by an account mask (``simulate(..., step_accounts=...)``);
* the teams are made large enough that capacity never binds (capacity is the
  LP's to ration) and the runs keep the scenario's rules, calendar and costs;
* every treatment's run uses the same sample and the same seed, and draws
  each account's outcomes from the account's own numbered sequences
  (``simulate(..., paired_draws=True)``): the k-th dial, conversation,
  promise … of an account gets the same uniforms under every treatment, and
  its repayment chances on day d are the same. Differences between
  treatments are paired account by account (an account two treatments treat
  alike fares the same under both), and a treatment valued twice is valued
  the same, to the cent. With the shared streams of an ordinary run any
  change of the day's call list re-dealt every later call's outcome;
* the run's account ledger (:class:`sim.ledger.AccountLedger`) gives each
  sample account's collections, spend by item, complaints, agent work and
  balance at the horizon, which are summed with the sample weights.

Whole ladders (a hand-written strategy, or the plan as a ladder) are valued
on the whole book with the scenario's own teams, so what the teams cannot do
in a day is left undone as in any run (:func:`simulate_ladder`).

An open book (:mod:`optimizer.allocation.open_book`): the sample is drawn
from the book at the start of the measured days (after the scenario's warm-up
under its own ladder) and the arrivals of the horizon, which share the
segments they enter in. Each treatment's run starts on the first measured day
(no warm-up of its own: the book at the start is the warm-up's) and admits
the sampled arrivals on their days (the engine's ``arrivals``), so an
arrival's treatment and continuation act from the day it enters. Whole
ladders start from the same book (all of it, not a sample) with the teams
staffed on it: the warm-up is run once per allocation, not once per ladder.

What this does not model: the hour of the dial under binding capacity.
With agents to spare, the day's list is dialled from the start of the shift,
at the morning's right-party rate; when the plan is run with the real teams
the agents work the list all day.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from sim.compliance import ContactCalendar, ContactRules
from sim.domain import AUTOMATED_CHANNELS, ROLL_STATES, TEAM_KIND_OF_CHANNEL, WEEKDAYS
from sim.engine import run_and_read
from sim.ledger import AccountLedger
from sim.portfolio import Portfolio
from sim.scenario import Scenario, Step
from sim.streams import RandomStreams

from .objective import HorizonBook, horizon_value
from .open_book import arrivals_of, staffed_at_start
from .segments import BUCKET_DPD, Segments
from .treatments import Treatment, field_cadence, minutes_per_attempt, visit_minutes
from .valuation import LadderOutcome, Valuation, sample_accounts

# The valuation's own random streams: a child of the scenario's seed that no
# replication of --verify uses (run_experiment spawns children 0 … reps − 1).
VALUATION_STREAM = 1_000_003
# Head room on the peak demand of a run when sizing its teams (never binding).
HEADROOM = 1.5


@dataclass(frozen=True)
class SampleBook:
    """The sample accounts as a book of their own, with what each stands for."""

    portfolio: Portfolio
    weight: np.ndarray  # accounts of the segment each sample account stands for
    segment: np.ndarray  # segment index of each sample account
    start_bucket: np.ndarray
    risk: np.ndarray
    band: np.ndarray
    entry_day: np.ndarray | None = None  # an open book: each row's day of entry (-1: there at the start)


def sample_book(segments: Segments, per_segment: int) -> SampleBook:
    """The stratified sample of every segment (:func:`sample_accounts`) as a portfolio."""
    idx, weight = sample_accounts(segments, per_segment)
    entry_day = None
    if segments.entry_day is not None:
        # The engine holds the book at the start first, then the arrivals in order of entry.
        order = np.lexsort((idx, segments.entry_day[idx]))
        idx, weight = idx[order], weight[order]
        entry_day = segments.entry_day[idx]
    p = segments.portfolio
    # A card book's statement days go with their accounts (None: the engine derives them from days past due).
    book = Portfolio(account_id=p.account_id[idx], balance=p.balance[idx], past_due=p.past_due[idx],
                     days_past_due=p.days_past_due[idx], segment=p.segment[idx], phone_known=p.phone_known[idx],
                     email_known=p.email_known[idx], segment_names=p.segment_names,
                     statement_day=None if p.statement_day is None else p.statement_day[idx])
    seg = segments.member[idx]
    return SampleBook(portfolio=book, weight=weight, segment=seg, start_bucket=segments.bucket[seg],
                      risk=segments.risk[seg], band=segments.band[seg], entry_day=entry_day)


def bucket_range(bucket: int, charge_off_dpd: int) -> tuple[int, int]:
    """Days past due of a bucket as a ladder step covers them (the last bucket runs to charge-off)."""
    lo, hi = BUCKET_DPD[bucket]
    if bucket == 6:
        hi = charge_off_dpd - 1
    return lo, min(hi, charge_off_dpd - 1)


def _clipped(steps: Sequence[Step], lo: int, hi: int) -> list[Step]:
    out = []
    for step in steps:
        if step.after_charge_off:
            continue  # the plan's cells end at charge-off (sim/engine/lifecycle.py acts after it)
        a, z = max(step.from_dpd, lo), min(step.to_dpd, hi)
        if a <= z:
            out.append(step.model_copy(update={"from_dpd": a, "to_dpd": z}))
    return out


def treatment_steps(scenario: Scenario, book: SampleBook, treatments: Sequence[Treatment], t: int,
                    continuation: np.ndarray | None) -> tuple[list[Step], list[np.ndarray]]:
    """The strategy of treatment ``t``'s run: steps and the accounts each acts on.

    In its starting bucket every account gets treatment ``t``; after it, the
    treatment ``continuation[bucket, risk, band]`` of the cell it ages into
    (None: treatment ``t`` for the whole horizon).
    """
    n = len(book.portfolio)
    if continuation is None:
        steps = list(treatments[t].steps)
        return steps, [np.ones(n, dtype=bool)] * len(steps)
    charge_off = scenario.portfolio.charge_off_dpd
    # Equal treatments are one treatment (whatever their place in the list), so a
    # treatment valued twice gets the same run; its own steps come first in
    # every bucket, so the run does not depend on where it sits in the list.
    same = np.array([next(j for j, u in enumerate(treatments) if u == x) for x in treatments])
    t = int(same[t])
    steps: list[Step] = []
    masks: list[np.ndarray] = []
    for bucket in range(1, 7):
        lo, hi = bucket_range(bucket, charge_off)
        if lo > hi:
            continue
        starts_here = book.start_bucket == bucket
        given = np.where(starts_here, t, same[continuation[bucket, book.risk, book.band]])
        for k in [t, *sorted(set(np.unique(given).tolist()) - {t})]:
            mask = given == k
            if not mask.any():
                continue
            for step in _clipped(treatments[k].steps, lo, hi):
                steps.append(step)
                masks.append(mask)
    return steps, masks


def _peak_call_minutes(scenario: Scenario, team, book: SampleBook, steps: Sequence[Step]) -> float:
    """Minutes the day with every phone account due for a call could take (with redials)."""
    attempts = max((s.attempts_per_day for s in steps if s.channel == "call"), default=0)
    if attempts == 0:
        return 0.0
    mean, p_right = minutes_per_attempt(scenario, team)
    p_no = max(0.0, 1.0 - p_right - scenario.behavior.wrong_party_rate)
    dials = sum(p_no**j for j in range(attempts))
    callbacks = len(book.portfolio) * max(scenario.behavior.callback_probability.values(), default=0.0)
    return float(book.portfolio.phone_known.sum()) * dials * mean + callbacks * team.handle_minutes.inbound


def roomy_world(scenario: Scenario, book: SampleBook, steps: Sequence[Step], days: int) -> Scenario:
    """The scenario with the run's steps, the sample's size and teams that never run out of capacity.

    Built without re-validation: a run's steps may be more than the 64 a
    strategy file allows (each treatment cut to each bucket), and each is a
    validated step of a treatment.
    """
    n = len(book.portfolio)
    teams = {}
    for name, team in scenario.teams.items():
        if team.kind == "call":
            shift = sum(end - start for start, end in team.shift_minutes) or 1
            agents = math.ceil(HEADROOM * _peak_call_minutes(scenario, team, book, steps) / shift)
            teams[name] = team.model_copy(update={"agents": max(team.agents, agents, 1) if team.agents else 0, "agents_per_1000": None})
        elif team.kind == "field":
            agents = math.ceil(HEADROOM * n / max(team.visits_per_day, 1))
            teams[name] = team.model_copy(update={"agents": max(team.agents, agents) if team.agents else 0, "agents_per_1000": None})
        else:
            teams[name] = team.model_copy(update={"filings_per_day": max(team.filings_per_day, n)
                                                  if team.filings_per_day else 0})
    strategy = scenario.strategy.model_copy(update={"steps": list(steps)})
    # An open book's run starts from the book at the start of the measured days: its warm-up is behind it.
    simulation = scenario.simulation.model_copy(update={"accounts": n, "days": days, "warmup_days": 0})
    return scenario.model_copy(update={"teams": teams, "strategy": strategy, "simulation": simulation})


def engine_ledger(world: Scenario, portfolio: Portfolio, seed: np.random.SeedSequence, **options) -> AccountLedger:
    """One engine run of ``world`` on ``portfolio`` (:class:`sim.engine.Engine`'s ``options``, a ledger among
    them), as its account ledger, all the valuation reads of a run; the run freed as it ends
    (:func:`sim.engine.run_and_read`)."""
    return run_and_read(world, portfolio, RandomStreams(seed), _ledger_of, **options)


def _ledger_of(outcome) -> AccountLedger:
    return outcome.ledger


def valuation_seed(scenario: Scenario) -> np.random.SeedSequence:
    return np.random.SeedSequence(scenario.simulation.seed, spawn_key=(VALUATION_STREAM,))


@dataclass(frozen=True)
class AccountOutcome:
    """Per sample account, one treatment's run: money, complaints, work by team and week, the book at the end."""

    collected: np.ndarray
    spend: np.ndarray
    complaints: np.ndarray
    work: dict[str, np.ndarray]  # team -> (weeks, accounts), in the LP's units
    balance_end: np.ndarray  # (accounts, roll states)
    written_off: np.ndarray | None = None
    rolled_past_30: np.ndarray | None = None


def run_treatment(scenario: Scenario, book: SampleBook, treatments: Sequence[Treatment], t: int, days: int,
                  continuation: np.ndarray | None, seed: np.random.SeedSequence, *,
                  paired_draws: bool = True) -> AccountOutcome:
    """Treatment ``t`` on the whole sample, capacity to spare, measured account by account.

    ``paired_draws``: each account's outcomes from its own numbered sequence
    (the valuation's pairing; False: the shared streams of an ordinary run).
    """
    steps, masks = treatment_steps(scenario, book, treatments, t, continuation)
    world = roomy_world(scenario, book, steps, days)
    arrivals = None if book.entry_day is None else arrivals_of(book.entry_day, days)
    # An open book's sampled arrivals are rows of the book, entering on their days (the engine's own
    # arrivals are not drawn: the masks are per row, and the sample's arrivals are the ones valued). The
    # engine's outcome, not simulate's result: the ledger is all the valuation reads, and the result's
    # metrics and content hash were about 2 % of a closed book's allocate.
    ledger = engine_ledger(world, book.portfolio, seed, step_accounts=masks, ledger=True,
                           paired_draws=paired_draws, arrivals=arrivals)
    n = len(book.portfolio)
    end = np.zeros((n, len(ROLL_STATES)))
    end[np.arange(n), ledger.state_end] = ledger.balance_end
    return AccountOutcome(collected=ledger.collected, spend=ledger.total_spend, complaints=ledger.complaints,
                          work=lp_work(scenario, ledger, days), balance_end=end, written_off=ledger.written_off,
                          rolled_past_30=ledger.rolled_past_30.astype(float))


def run_units_together(units: Sequence[tuple]) -> list[AccountOutcome]:
    """Several :func:`run_unit` units of one sample, seed and horizon as one engine run: each unit's outcome
    to the bit, for less than the runs cost one by one.

    A sample run of 1,565 accounts cost 0.2–0.37 s, of 156 accounts 0.07–0.13 s:
    about half a small run is what the days cost whatever the accounts (the
    days' events, the steps' eligibility, the evenings' passes). Here the
    sample is copied once a unit and each copy is a run of its own inside the
    one engine run: its steps act on its rows only (the step masks), on teams
    of its own sized as its own run sizes them (:func:`roomy_world`; a step
    naming no team goes to its copy's first team of the kind, as
    ``Teams.team_for`` would), its callers reach its own teams
    (``Engine(inbound_lines=…)``), and its rows draw their sample account's
    numbers (``Engine(draw_keys=…)``: the paired draws, the day draws, the
    consumer facts). Nothing is shared but the clock and the legal queue
    (filings are roomy, so a case is filed on its day whichever copy's
    team files it; a row's work is summed over the teams). Measured on
    baseline's batches at 5,000 accounts (24, 22 and 10 runs): −29 %, −20 %
    and −13 % of CPU in groups of 4; every outcome equal to its run alone.
    An automated step several copies share (the roll-ins' own ladder, the
    continuation after the bucket) is one step acting on all their rows
    (:func:`shared_steps`): the same three batches' groups −24 % of CPU more
    (26.6 s → 20.1 s on 2026-11-27's machine), each outcome still its run's.
    """
    scenario, book, treatments, _, days, _, seed, paired_draws = units[0]
    if not paired_draws or any(u[1] is not book or u[4] != days or not _same_seed(u[6], seed) for u in units):
        raise ValueError("units run together share one sample, horizon and seed, with paired draws")
    n, copies = len(book.portfolio), len(units)
    at_start = np.ones(n, dtype=bool) if book.entry_day is None else book.entry_day < 0
    first = np.flatnonzero(at_start)
    later = np.flatnonzero(~at_start)
    copy = np.concatenate([np.repeat(np.arange(copies), first.size), np.repeat(np.arange(copies), later.size)])
    source = np.concatenate([np.tile(first, copies), np.tile(later, copies)])
    if book.entry_day is not None and later.size:
        tail = slice(first.size * copies, None)
        order = np.lexsort((source[tail], copy[tail], book.entry_day[source[tail]]))
        copy[tail], source[tail] = copy[tail][order], source[tail][order]
    p = book.portfolio
    portfolio = Portfolio(account_id=p.account_id[source], balance=p.balance[source],
                          past_due=p.past_due[source], days_past_due=p.days_past_due[source],
                          segment=p.segment[source], phone_known=p.phone_known[source],
                          email_known=p.email_known[source], segment_names=p.segment_names,
                          statement_day=None if p.statement_day is None else p.statement_day[source])
    merged = SampleBook(portfolio=portfolio, weight=book.weight[source], segment=book.segment[source],
                        start_bucket=book.start_bucket[source], risk=book.risk[source], band=book.band[source],
                        entry_day=None if book.entry_day is None else book.entry_day[source])
    # Each copy with its own teams, sized as its own run would size them (roomy_world on the sample and the
    # copy's steps), its steps calling on them and its callers reaching them: the copies share nothing but the
    # clock, so each copy's run is its separate run.
    ladders: list[list[tuple[Step, np.ndarray]]] = []
    teams: dict = {}
    line_of_team: dict[str, int] = {}
    for k, (_, _, tr, t, _, continuation, _, _) in enumerate(units):
        own, own_masks = treatment_steps(scenario, book, tr, t, continuation)
        alone = roomy_world(scenario, book, own, days)
        for name, spec in alone.teams.items():
            teams[f"{name}~{k}"] = spec
            line_of_team[f"{name}~{k}"] = k
        ladder = []
        for step, mask in zip(own, own_masks, strict=True):
            # A step naming no team goes to the first team of its kind (Teams.team_for): the copy's own.
            team = step.team if step.team is not None else next(
                (name for name, spec in scenario.teams.items() if spec.kind == TEAM_KIND_OF_CHANNEL.get(step.channel)),
                None)
            ladder.append((step if team is None else step.model_copy(update={"team": f"{team}~{k}"}),
                           mask[source] & (copy == k)))
        ladders.append(ladder)
    steps, masks = shared_steps(ladders)
    strategy = scenario.strategy.model_copy(update={"steps": steps})
    simulation = scenario.simulation.model_copy(update={"accounts": source.size, "days": days, "warmup_days": 0})
    world = scenario.model_copy(update={"teams": teams, "strategy": strategy, "simulation": simulation})
    arrivals = None if merged.entry_day is None else arrivals_of(merged.entry_day, days)
    ledger = engine_ledger(world, portfolio, seed, step_accounts=masks, ledger=True, paired_draws=True,
                           arrivals=arrivals, draw_keys=source, inbound_lines=(copy, line_of_team))
    end = np.zeros((source.size, len(ROLL_STATES)))
    end[np.arange(source.size), ledger.state_end] = ledger.balance_end
    work = lp_work(world, ledger, days)
    out = []
    for k in range(copies):
        rows = np.flatnonzero(copy == k)
        rows = rows[np.argsort(source[rows])]  # back in the sample's order
        # A row's work is whichever team did it: its copy's teams, but legal teams file from one queue, so a
        # copy's case may be filed by another copy's (identical) team. A team's work is there when it did any,
        # as in a run of its own.
        mine = {}
        for name in scenario.teams:
            parts = [w[:, rows] for team, w in work.items() if team.rsplit("~", 1)[0] == name]
            if parts:
                total = parts[0] if len(parts) == 1 else np.sum(parts, axis=0)
                if total.any():
                    mine[name] = total
        out.append(AccountOutcome(collected=ledger.collected[rows], spend=ledger.total_spend[rows],
                                  complaints=ledger.complaints[rows], work=mine, balance_end=end[rows],
                                  written_off=ledger.written_off[rows],
                                  rolled_past_30=ledger.rolled_past_30[rows].astype(float)))
    return out


def shared_steps(ladders: Sequence[Sequence[tuple[Step, np.ndarray]]]) -> tuple[list[Step], list[np.ndarray]]:
    """The copies' ladders ((step, rows it acts on) each, in order) as one ladder in which an automated step
    (SMS, e-mail, letter: no team) that several copies share is one step acting on all their rows.

    Each copy's steps keep their order (the copies' ladders are merged along a longest common subsequence of
    their automated steps, copy after copy), and a copy's rows are acted on by its own steps only: each copy
    runs as alone. A morning then evaluates a shared step once and a delivery goes out once a send minute for
    every copy (the own ladder of the roll-ins, the continuation after the bucket): the per-step, per-day cost of
    a sample run, paid once instead of once a copy.
    """
    merged: list[list] = []  # [key or None, step, rows, copies]
    for k, ladder in enumerate(ladders):
        keys = [repr(step) if step.team is None and step.channel in AUTOMATED_CHANNELS else None
                for step, _ in ladder]
        n, m = len(merged), len(ladder)
        # common[i][j]: the longest common subsequence of merged[i:] and ladder[j:] on the shareable keys.
        common = [[0] * (m + 1) for _ in range(n + 1)]
        for i in range(n - 1, -1, -1):
            for j in range(m - 1, -1, -1):
                if keys[j] is not None and merged[i][0] == keys[j]:
                    common[i][j] = common[i + 1][j + 1] + 1
                else:
                    common[i][j] = max(common[i + 1][j], common[i][j + 1])
        out: list[list] = []
        i = j = 0
        while i < n or j < m:
            if (i < n and j < m and keys[j] is not None and merged[i][0] == keys[j]
                    and common[i][j] == common[i + 1][j + 1] + 1):
                key, step, rows, copies = merged[i]
                out.append([key, step, rows | ladder[j][1], copies + [k]])
                i, j = i + 1, j + 1
            elif i < n and (j == m or common[i + 1][j] >= common[i][j + 1]):
                out.append(merged[i])
                i += 1
            else:
                out.append([keys[j], ladder[j][0], ladder[j][1], [k]])
                j += 1
        merged = out
    return [step for _, step, _, _ in merged], [rows for _, _, rows, _ in merged]


# Sample runs made together, as one engine run (run_units_together; each outcome is its run alone, to the bit).
# Beside other work (a whole-book run in the same batch), four at a time: the batch still splits into work units
# that keep two workers busy. A batch of sample runs alone is dealt to as many groups as there are workers, of at
# most MOST_TOGETHER runs: at 5,000 accounts (2026-11-27) baseline's 24 and 22 runs cost 2.96 s and 5.71 s of
# CPU in two groups of every other run, against 3.70 s and 6.54 s in groups of four, and the two halves cost
# about the same; hawkes_baseline's 38 cost 11.0 s in two groups of 19 (a run of 30,000 rows: a larger heap of
# agents, arrays out of cache), 8.4 s in four of 9-10 and 8.7 s in groups of four.
RUNS_TOGETHER = 4
MOST_TOGETHER = 12


def _same_seed(a: np.random.SeedSequence, b: np.random.SeedSequence) -> bool:
    return a is b or (a.entropy == b.entropy and tuple(a.spawn_key) == tuple(b.spawn_key))


def run_group(group: Sequence[tuple]) -> list[AccountOutcome]:
    """A group of :func:`run_unit` units (:func:`run_groups`) as an executor's work unit: one engine run."""
    return run_units_together(group) if len(group) > 1 else [run_unit(group[0])]


def run_groups(units: Sequence[tuple], spread: int | None = None) -> list[list[int]]:
    """Positions of ``units`` in groups of units that can run together (one sample, scenario, horizon and seed,
    paired draws, in a row): groups of up to :data:`RUNS_TOGETHER` in a row, or, with ``spread`` (the workers
    a batch of these units alone goes to), as few groups as that, of at most :data:`MOST_TOGETHER`, each
    dealt every so many units in turn (neighbouring treatments cost alike, so the groups cost about the same)."""
    runs: list[list[int]] = []
    for k, unit in enumerate(units):
        if runs:
            first = units[runs[-1][0]]
            if (unit[0] is first[0] and unit[1] is first[1] and unit[4] == first[4] and unit[7] and first[7]
                    and _same_seed(unit[6], first[6])):
                runs[-1].append(k)
                continue
        runs.append([k])
    groups: list[list[int]] = []
    for run in runs:
        if spread is None:
            groups += [run[i:i + RUNS_TOGETHER] for i in range(0, len(run), RUNS_TOGETHER)]
        else:
            count = min(len(run), max(spread, math.ceil(len(run) / MOST_TOGETHER)))
            groups += [run[i::count] for i in range(count)]
    return groups


def map_runs(executor, units: Sequence[tuple]) -> Iterator[tuple[int, AccountOutcome]]:
    """(position, outcome) of each unit, the units made in groups (:func:`run_groups`, spread over the executor's
    workers, or all in this process) on ``executor``."""
    groups = run_groups(units, 1 if executor is None else executor.workers)
    items = [[units[k] for k in group] for group in groups]
    done = executor.map_unordered(run_group, items) if executor is not None and items else enumerate(map(run_group, items))
    for position, outcomes in done:
        yield from zip(groups[position], outcomes, strict=True)


def run_key(scenario: Scenario, book: SampleBook, treatments: Sequence[Treatment], t: int, days: int,
            continuation: np.ndarray | None, seed: np.random.SeedSequence, paired_draws: bool,
            per_segment: int) -> tuple:
    """What treatment ``t``'s run depends on besides the scenario and the segments: the steps and the
    accounts each acts on, the sample's size, the horizon, the seed and the draws (a key of a runs cache)."""
    steps, masks = treatment_steps(scenario, book, treatments, t, continuation)
    return (repr(steps), tuple(m.tobytes() for m in masks), len(book.portfolio), per_segment, days,
            seed.entropy, tuple(seed.spawn_key), paired_draws)


def run_unit(unit) -> AccountOutcome:
    """One treatment's run on the sample, as an executor's work unit (plain data in, plain data out)."""
    scenario, book, treatments, t, days, continuation, seed, paired_draws = unit
    return run_treatment(scenario, book, treatments, t, days, continuation, seed, paired_draws=paired_draws)


def lp_work(scenario: Scenario, ledger: AccountLedger, days: int) -> dict[str, np.ndarray]:
    """A run's agent work per account (its ledger's) in the units of the LP's capacity rows.

    Call teams: minutes of dials and callbacks, in the week they were made.
    Legal teams: filings. Field teams: each visit takes its share of an agent's
    day (:func:`visit_minutes`) and is booked over the team's working days of
    the visit cadence from the visit on — the field team of a real run works
    off a list it cannot finish in a day, so a whole segment falling due at
    once is visited over the weeks that follow, not in one week.
    """
    out = {}
    for name, team in scenario.teams.items():
        if team.kind == "call" and name in ledger.minutes:
            out[name] = ledger.minutes[name]
        elif team.kind == "legal" and name in ledger.work:
            out[name] = ledger.work[name]
        elif team.kind == "field" and name in ledger.work:
            out[name] = spread_visits(scenario, team, ledger.work[name], days)
    return out


def spread_visits(scenario: Scenario, team, visits: np.ndarray, days: int) -> np.ndarray:
    """Visits by week (weeks, accounts) as field minutes over the working days of the cadence that follows."""
    rules = ContactRules.from_section(scenario.compliance)
    calendar = ContactCalendar(rules, scenario.simulation.start_date, days)
    weeks = visits.shape[0]
    worked = np.array([sum(WEEKDAYS[calendar.date(d).weekday()] in team.work_days and not calendar.is_quiet(d)
                           for d in range(7 * w, min(days, 7 * w + 7))) for w in range(weeks)], dtype=float)
    span = max(1, -(-(field_cadence(scenario) or 30) // 7))
    out = np.zeros_like(visits)
    per_visit = visit_minutes(team)
    for w in np.flatnonzero(visits.any(axis=1)).tolist():
        ahead = worked[w:w + span]
        if ahead.sum() <= 0:
            out[w] += visits[w] * per_visit
            continue
        out[w:w + ahead.size] += np.outer(ahead / ahead.sum(), visits[w] * per_visit)
    return out


@dataclass(frozen=True)
class SimulatedValuation(Valuation):
    """A :class:`Valuation` measured by simulation, with each value's standard error and what else it saw.

    ``value_std_error[s, t]`` is the standard error of the segment's total
    value from its sample (accounts weighted to their strata, the spread of
    their values, one run); ``complaints`` (S, T); ``balance_end`` (S, T,
    roll states) — the balance left at the horizon by days-past-due state.
    """

    value_std_error: np.ndarray | None = None
    complaints: np.ndarray | None = None
    balance_end: np.ndarray | None = None
    sample_accounts: int = 0


def _segment_totals(values: np.ndarray, book: SampleBook, S: int) -> np.ndarray:
    return np.bincount(book.segment, weights=values * book.weight, minlength=S)


def _segment_std_error(values: np.ndarray, book: SampleBook, S: int) -> np.ndarray:
    """Standard error of each segment's weighted total: sqrt(Σ w²) × the sample's standard deviation."""
    m = np.bincount(book.segment, minlength=S).astype(float)
    mean = np.bincount(book.segment, weights=values, minlength=S) / np.maximum(m, 1)
    square = np.bincount(book.segment, weights=(values - mean[book.segment]) ** 2, minlength=S)
    sd = np.sqrt(square / np.maximum(m - 1, 1))
    return np.sqrt(np.bincount(book.segment, weights=book.weight**2, minlength=S)) * sd


def shrink_collections(collected: np.ndarray, difference_error: np.ndarray, segments: Segments,
                       reference: int = 0) -> np.ndarray:
    """Each treatment's extra collections over ``reference`` shrunk toward its bucket's rate per dollar owed.

    Empirical Bayes by bucket and treatment: a segment's extra collections
    per dollar of balance ``x`` (paired difference, standard error ``e``) are
    taken as the bucket's pooled rate ``m`` (all its segments' extra
    collections over all their balance) plus a segment effect of variance
    ``τ²`` (estimated from the spread of ``x`` around ``m`` less the noise,
    never below 0); each is moved toward ``m`` by ``e² / (e² + τ²)``. Where
    segments differ by less than the noise, they take the bucket's rate,
    which keeps the LP from choosing between treatments on noise alone.
    """
    out = collected.copy()
    balance = segments.balance
    for bucket in np.unique(segments.bucket).tolist():
        rows = np.flatnonzero(segments.bucket == bucket)
        bal = balance[rows][:, None]
        extra = collected[rows] - collected[rows, reference][:, None]
        rate = extra.sum(axis=0) / bal.sum()
        x = extra / bal
        noise = (difference_error[rows] / bal) ** 2
        spread = np.maximum(((x - rate) ** 2).mean(axis=0) - noise.mean(axis=0), 0.0)
        with np.errstate(invalid="ignore", divide="ignore"):
            keep = np.where(noise > 0, spread / (spread + noise), 1.0)
        keep = np.nan_to_num(keep, nan=0.0)
        out[rows] = collected[rows, reference][:, None] + (rate + keep * (x - rate)) * bal
    return out


def _mean_outcome(outcomes: list[AccountOutcome]) -> AccountOutcome:
    """Each account's outcomes averaged over replications."""
    if len(outcomes) == 1:
        return outcomes[0]
    k = len(outcomes)
    teams = dict.fromkeys(name for out in outcomes for name in out.work)
    shape = next((cube.shape for out in outcomes for cube in out.work.values()), None)
    work = {name: sum((out.work.get(name, np.zeros(shape)) for out in outcomes), np.zeros(shape)) / k
            for name in teams}
    return AccountOutcome(collected=sum(out.collected for out in outcomes) / k,
                          spend=sum(out.spend for out in outcomes) / k,
                          complaints=sum(out.complaints.astype(float) for out in outcomes) / k,
                          work=work, balance_end=sum(out.balance_end for out in outcomes) / k,
                          written_off=sum(out.written_off for out in outcomes) / k,
                          rolled_past_30=sum(out.rolled_past_30 for out in outcomes) / k)


def _units(scenario: Scenario, book: SampleBook, treatments: Sequence[Treatment], days: int,
           continuation: np.ndarray | None, seed: np.random.SeedSequence, paired_draws: bool, per_segment: int,
           replications: int, picked: list[int], *, keyed: bool) -> tuple[list, list, list | None]:
    """The seeds of the replications, and each picked treatment's work units and (``keyed``) their run keys,
    treatment by treatment, replication by replication."""
    seeds = [seed] + [np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, r))
                      for r in range(1, replications)]
    units = [(scenario, book, tuple(treatments), t, days, continuation, each, paired_draws)
             for t in picked for each in seeds]
    keys = [run_key(scenario, book, treatments, t, days, continuation, each, paired_draws, per_segment)
            for t in picked for each in seeds] if keyed else None
    return seeds, units, keys


def runs_to_make(scenario: Scenario, segments: Segments, treatments: Sequence[Treatment], days: int, *,
                 runs_cache: dict, continuation: np.ndarray | None = None, per_segment: int = 40,
                 seed: np.random.SeedSequence | None = None, paired_draws: bool = True, replications: int = 1,
                 only: Sequence[int] | None = None) -> list[tuple[tuple, tuple]]:
    """(run key, work unit) of each run :func:`simulate_treatments` with these arguments would make that
    ``runs_cache`` lacks, for a caller that runs them in a batch with other work (:func:`run_unit` makes one)
    and puts each outcome in the cache under its key; ``simulate_treatments`` then makes none of them."""
    book = sample_book(segments, per_segment)
    seed = valuation_seed(scenario) if seed is None else seed
    picked = list(range(len(treatments))) if only is None else [int(t) for t in only]
    _, units, keys = _units(scenario, book, treatments, days, continuation, seed, paired_draws, per_segment,
                            replications, picked, keyed=True)
    made: set = set()
    out = []
    for key, unit in zip(keys, units, strict=True):
        if key not in runs_cache and key not in made:
            made.add(key)
            out.append((key, unit))
    return out


def simulate_treatments(scenario: Scenario, segments: Segments, treatments: Sequence[Treatment], days: int, *,
                        continuation: np.ndarray | None = None, per_segment: int = 40,
                        seed: np.random.SeedSequence | None = None, paired_draws: bool = True,
                        shrink: bool = True, replications: int = 1, executor=None,
                        runs_cache: dict | None = None, only: Sequence[int] | None = None) -> SimulatedValuation:
    """Value every treatment for every segment by simulation: one run per treatment, paired.

    ``runs_cache``: runs already made, by what determines them (the steps and
    the accounts each acts on, the sample, the horizon and the seed,
    :func:`run_key`); a run found there is not made again, and every run made
    is added. The search keeps one for its passes (a treatment whose run
    two passes share, or two treatments with the same steps, run once).

    ``replications``: runs per treatment, each account's outcomes averaged
    over them (replication r > 0 uses child r of the seed, the same for every
    treatment, so the average stays paired).

    ``executor``: where the runs go (:mod:`sim.executors`; None: this
    process). Each run is a pure function of its treatment and seed and the
    results are put back in their places, so the values are the same
    whichever executor runs them.

    ``shrink``: the values the LP reads have each treatment's extra
    collections over the first treatment shrunk toward its bucket's rate
    (:func:`shrink_collections`); ``value_std_error`` stays the standard
    error of the value as measured.

    ``only``: value just these treatments (positions in ``treatments``); the
    valuation returned has their columns, in that order. ``continuation``
    still indexes the whole list, so each run is the one the whole list
    would make (the same :func:`run_key`, shared through ``runs_cache``).
    """
    book = sample_book(segments, per_segment)
    seed = valuation_seed(scenario) if seed is None else seed
    picked = list(range(len(treatments))) if only is None else [int(t) for t in only]
    seeds, units, keys = _units(scenario, book, treatments, days, continuation, seed, paired_draws, per_segment,
                                replications, picked, keyed=runs_cache is not None)
    S, T, weeks = len(segments), len(picked), math.ceil(days / 7)
    value, collected, spend, error, complaints = (np.zeros((S, T)) for _ in range(5))
    balance_end = np.zeros((S, T, len(ROLL_STATES)))
    written_off, rolled_past_30 = np.zeros((S, T)), np.zeros((S, T))
    minutes = {name: np.zeros((S, T, weeks)) for name in scenario.teams}
    by_account = np.zeros((len(book.portfolio), T))
    runs: list[AccountOutcome | None] = [None] * len(units)
    todo = [k for k in range(len(units)) if keys is None or keys[k] not in runs_cache]
    if keys is not None:
        for k in range(len(units)):
            if k not in todo:
                runs[k] = runs_cache[keys[k]]
    batch = [units[k] for k in todo]
    for position, outcome in map_runs(executor, batch):
        runs[todo[position]] = outcome
        if keys is not None:
            runs_cache[keys[todo[position]]] = outcome
    for t in range(T):
        out = _mean_outcome(runs[t * len(seeds):(t + 1) * len(seeds)])
        by_account[:, t] = out.collected
        net = out.collected - out.spend
        value[:, t] = _segment_totals(net, book, S)
        error[:, t] = _segment_std_error(net, book, S)
        collected[:, t] = _segment_totals(out.collected, book, S)
        spend[:, t] = _segment_totals(out.spend, book, S)
        complaints[:, t] = _segment_totals(out.complaints.astype(float), book, S)
        for k in range(len(ROLL_STATES)):
            balance_end[:, t, k] = _segment_totals(out.balance_end[:, k], book, S)
        written_off[:, t] = _segment_totals(out.written_off, book, S)
        rolled_past_30[:, t] = _segment_totals(out.rolled_past_30, book, S)
        for name, cube in out.work.items():
            for w in range(weeks):
                minutes[name][:, t, w] = _segment_totals(cube[w], book, S)
    if shrink:
        difference_error = np.stack([_segment_std_error(by_account[:, t] - by_account[:, 0], book, S)
                                     for t in range(T)], axis=1)
        collected = shrink_collections(collected, difference_error, segments)
        value = collected - spend
    return SimulatedValuation(segments=segments, treatments=tuple(treatments[t] for t in picked), days=days, value=value,
                              collected=collected, spend=spend, minutes=minutes, value_std_error=error,
                              complaints=complaints, balance_end=balance_end, sample_accounts=len(book.portfolio),
                              written_off=written_off, rolled_past_30=rolled_past_30,
                              horizon=horizon_value(scenario, HorizonBook(balance_end, written_off, rolled_past_30)))


def simulate_ladder(scenario: Scenario, segments: Segments, steps: Sequence[Step], days: int, *,
                    per_segment: int = 40, seed: np.random.SeedSequence | None = None,
                    paired_draws: bool = True) -> LadderOutcome:
    """One whole ladder on the whole book with the scenario's own teams: what it collects, spends and asks of them.

    The plan as a ladder and every reference ladder are run on the same book
    with the valuation's seed and per-account draws (common random numbers,
    so their comparison is paired); what the teams cannot do in a day is left
    undone, as in any run. ``per_segment`` is accepted for the signature
    :func:`optimizer.allocation.verify.verify` calls and not used: the whole
    book is run. Arrays are per account of the book (sums are book totals).

    An open book (``segments.entry_day`` set) is run from the book the plan
    is made for: the book at the start of the measured days (the scenario's
    own warm-up, run once and cached, :func:`optimizer.allocation.open_book.planning_book`)
    and the horizon's arrivals entering on their days, with the teams staffed
    on the book at the start, as the treatments' runs start. Every ladder is
    compared on that same book; the warm-up is not run again under each
    ladder (it was 45 % of a whole-book run at 5,000 accounts), so what a
    ladder would have done to the book before the plan starts is not part of
    its value — nor in ``--verify``, which builds this kind of book afresh on
    each replication's seed.
    """
    del per_segment
    seed = valuation_seed(scenario) if seed is None else seed
    portfolio = segments.portfolio
    strategy = scenario.strategy.model_copy(update={"steps": list(steps)})
    arrivals = None
    if segments.entry_day is not None:
        start_rows = int((segments.entry_day < 0).sum())
        scenario = staffed_at_start(scenario, start_rows)
        arrivals = arrivals_of(segments.entry_day, days)
    simulation = scenario.simulation.model_copy(update={"accounts": len(portfolio), "days": days, "warmup_days": 0})
    world = scenario.model_copy(update={"strategy": strategy, "simulation": simulation})
    ledger = engine_ledger(world, portfolio, seed, ledger=True, paired_draws=paired_draws, arrivals=arrivals)
    return LadderOutcome.from_ledger(ledger, minutes=lp_work(world, ledger, days))
