"""The hybrid engine: arrays for the book, SimPy events where capacity is.

* The **book** (every account's balance, days past due, intensity, promises,
  plans) lives in NumPy arrays (:mod:`.book`). One daily SimPy process
  advances all of it at once: the ladder and the automated channels in the
  morning (:mod:`.ladder`), then at the end of the day repayments, promises
  and instalments due, interest and fees, ageing and charge-off.
* The **capacity** is SimPy processes: call agents work through the day's
  prioritised call list inside their shifts and the contact window,
  answering inbound callbacks first (:mod:`.calls`), their shifts run on the
  call floor in SimPy's order without a SimPy event per call (:mod:`.floor`;
  the callers and the ladder's deliveries wait on it too); field agents make
  visits (:mod:`.field`); the legal team files cases that resolve after a
  delay (:mod:`.legal`). After charge-off the ladder's agency, attorney and
  debt-sale steps act on the charged-off accounts (:mod:`.lifecycle`). Every call or visit is an event with its own
  duration and outcome; a conversation's end is :mod:`.conversation`.

The rules' counters live in :mod:`.contacts`, the teams in :mod:`.teams`,
what a run counts in :mod:`.tally`, an open book's arrivals and the warm-up
before the measured days in :mod:`.arrivals`. :class:`Engine` builds these
parts and runs the daily process; :meth:`Engine.outcome` is what the metrics
read.

A run costs accounts × days of vector work plus the contacts actually made,
never accounts × days × events. Compliance rules are checked before every
contact; a contact that would break one is refused and counted.
"""

from __future__ import annotations

import datetime as dt
import gc
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
import simpy

from ..compliance import ContactCalendar, ContactRules
from ..contact_log import ContactLogBuilder
from ..domain import (
    ALL_CHANNELS,
    AUTOMATED_CHANNELS,
    MINUTES_PER_DAY,
    OFFER_CHANNELS,
    ROLL_STATES,
    WEEKDAYS,
)
from ..errors import InputError
from ..history import PaymentLogBuilder
from ..ledger import AccountLedger
from ..portfolio import Portfolio
from ..scenario import Scenario
from ..streams import AccountDraws, RandomStreams, UniformPool
from .arrivals import Arrivals, MeasuredStart, restaff, with_arrivals
from .book import Book
from .calls import CallCentre
from .contacts import ContactCounters
from .context import Context
from .conversation import Conversation
from .field import FieldTeams
from .ladder import Ladder
from .legal import Legal
from .lifecycle import AfterChargeOff
from .offers import Offers
from .replay import Replay
from .standing import Standing, needs_standing
from .tally import RunOutcome, Tally
from .teams import Teams

DAY = MINUTES_PER_DAY
SERIES_CHANNELS = ALL_CHANNELS  # the columns of the daily contacts series

__all__ = ["DAY", "ROLL_STATES", "SERIES_CHANNELS", "WEEKDAYS", "Engine", "RunOutcome", "Tally", "run_and_read"]


class Engine:
    """One simulation run of one scenario with one set of random streams: build the parts, run the days."""

    def __init__(self, scenario: Scenario, portfolio: Portfolio, streams: RandomStreams,
                 *, record_contacts: bool = True, progress=None,
                 step_accounts: Sequence[np.ndarray | None] | None = None, ledger: bool = False,
                 paired_draws: bool = False, record_payments: bool = False, arrivals: Arrivals | None = None,
                 replay=None, draw_keys: np.ndarray | None = None,
                 inbound_lines: tuple[np.ndarray, dict[str, int]] | None = None):
        """``step_accounts``: per ladder step, the accounts it may act on (a boolean mask, or None for all),
        so that one strategy can give different accounts different steps; ``ledger``: keep an
        :class:`~sim.ledger.AccountLedger` (needs ``record_contacts`` for the agents' work);
        ``paired_draws``: draw each account's outcomes from its own numbered sequence
        (:class:`~sim.streams.AccountDraws`) instead of the shared streams; ``record_payments``:
        keep every cash receipt (:class:`~sim.history.PaymentLogBuilder`) for the run's history;
        ``arrivals``: the portfolio already holds the run's arrivals after its accounts (champion/challenger
        assigns them before the run); by default an open book's arrivals are drawn here; ``replay``: a
        :class:`~.replay.LoggedContacts` whose contacts replace the strategy (:mod:`.replay`); ``draw_keys``
        (with ``paired_draws``): the account whose numbers each row draws, per row of the book with its arrivals
        (None: its own) — rows that are copies of one account draw its numbers, each at its own pace;
        ``inbound_lines``: (line of each row, line of each call team): each row's callers reach its line's teams
        only (:meth:`.calls.CallCentre.route_inbound`)."""
        if ledger and not record_contacts:
            raise ValueError("the account ledger reads agent work from the contact log: record_contacts=True")
        self.scenario = scenario
        # An open book: every arrival of the run has its row after the book's (sim.engine.arrivals).
        self.portfolio = portfolio = self._with_arrivals(portfolio, streams, step_accounts, arrivals)
        self.progress = progress
        self.days = days = scenario.simulation.days  # the measured days
        self.warmup = warmup = scenario.simulation.warmup_days
        total = warmup + days
        n = len(portfolio)
        rules = ContactRules.from_section(scenario.compliance)
        self.env = simpy.Environment()
        self.tally = Tally(total)  # every simulated day; outcome() keeps the measured ones
        self.log = ContactLogBuilder(record_contacts)
        self.ledger = AccountLedger(n, days, day_offset=warmup) if ledger else None
        self.first_day = dt.date.fromordinal(scenario.simulation.start_date.toordinal() - warmup)
        # Repayment draws are the same in both modes: numbered by account and day
        # (sim.streams.RowDayUniforms), so already paired account by account.
        if draw_keys is not None and (not paired_draws or len(draw_keys) != n):
            raise ValueError("draw_keys: one key per row of the book and its arrivals, with paired_draws=True")
        draws = AccountDraws(streams.seed_sequence, n, keys=draw_keys) if paired_draws else None
        self.ctx = ctx = Context(
            scenario=scenario, env=self.env, days=total, behavior=scenario.behavior, costs=scenario.costs,
            rules=rules, calendar=ContactCalendar(rules, self.first_day, total), tally=self.tally,
            log=self.log, ledger=None if warmup else self.ledger, draws=draws,
            receipts=PaymentLogBuilder() if record_payments else None)
        self.book = book = Book(ctx, portfolio, streams)
        if self.arrivals is not None:
            book.hold_back(self.arrivals.rows)
        book.roll_from = warmup
        self.arrived_balance = 0.0
        self.measured_start: MeasuredStart | None = None
        self.counters = counters = ContactCounters(rules, n, len(scenario.strategy.steps), self.tally)
        self.teams = teams = Teams(scenario, ctx.calendar)
        conversation = Conversation(ctx, book, counters, UniformPool(streams["calls"]))
        self.calls = CallCentre(ctx, book, counters, teams, conversation, conversation.pool,
                                UniformPool(streams["inbound"]))
        if inbound_lines is not None:
            self.calls.route_inbound(*inbound_lines)
        self.field = FieldTeams(ctx, book, counters, teams, conversation, UniformPool(streams["field"]))
        self.legal = Legal(ctx, book, teams, streams["legal"])
        self.ladder = Ladder(ctx, book, counters, step_accounts, self.calls.start_callers,
                             self.calls.inbound_enabled, streams["automated"], self.calls.floor)
        after = [(s, step) for s, step in enumerate(scenario.strategy.steps) if step.after_charge_off]
        self.lifecycle = None
        if after:  # steps after charge-off: agency, attorney, debt sale (sim/engine/lifecycle.py)
            self.lifecycle = AfterChargeOff(ctx, book, after, self.ladder.static_masks, streams["lifecycle"], total)
            book.after_charge_off = self.lifecycle
        self.standing = None
        if needs_standing(scenario, portfolio, rules):
            parts = (counters, self.calls, conversation, self.ladder, self.field)
            self.standing = Standing.attach(ctx, book, portfolio, rules, streams.seed_sequence,
                                            parts if self.lifecycle is None else (*parts, self.lifecycle))
        offering = any(step.channel in OFFER_CHANNELS for step in scenario.strategy.steps)
        self.offers = Offers(ctx, book, counters.last_step_day, streams["offers"]) if offering else None
        self.replay = None if replay is None else Replay(self, replay, streams["replay"])

    def _with_arrivals(self, portfolio: Portfolio, streams: RandomStreams, step_accounts, arrivals):
        """The portfolio with the run's arrivals after it; a step's mask must cover them too."""
        if arrivals is not None:
            self.arrivals = arrivals
            return portfolio
        if self.scenario.arrivals is not None and step_accounts is not None:
            # Masks over some accounts (the optimizer's valuation by simulation) are built on the book at the
            # start, before any arrival exists; an arrival's steps would be a guess.
            raise InputError(self.scenario.source, "arrivals", "an open book cannot be valued account by account "
                             "(steps for some accounts only): use the scenario without [arrivals]")
        portfolio, self.arrivals = with_arrivals(self.scenario, portfolio, streams)
        return portfolio

    # ------------------------------------------------------------------------- run

    def run(self) -> Tally:
        """Simulate the warm-up (if any) and the measured days; the tally covers both until :meth:`outcome`."""
        self.env.process(self._daily())
        self.env.run(until=(self.warmup + self.days) * DAY + 1)
        return self.tally

    def _daily(self):
        warmup = self.warmup
        for day in range(warmup + self.days):
            if day == warmup:
                self._start_measuring(day)
            if self.arrivals is not None:
                count, balance = self.arrivals.enter(self.book, day)
                self.tally.arrivals[day] += count
                self.arrived_balance += balance
            self._start_of_day(day)
            yield self.env.timeout(DAY)
            self._end_of_day(day)
            # Progress counts the measured days; day 0 is reported at the end of a warm-up (its book is
            # where the measured days start: fidelity snapshots it).
            if self.progress is not None and day + 1 >= warmup:
                self.progress(day + 1 - warmup, self.days)

    def _start_measuring(self, day: int) -> None:
        """00:00 of the first measured day: remember the book, keep the ledger from now, staff scaled teams."""
        if self.arrivals is None and day == 0:
            return  # a closed cohort without warm-up: the book's own totals are the measured days'
        book = self.book
        self.measured_start = MeasuredStart.take(book, day, self.arrived_balance, self.tally.cost_by_item)
        self.ctx.ledger = self.ledger
        if day > 0 and book.statements is not None:
            book.statements.mix[:] = 0  # the payment mix counts the measured days' choices, as the receipts do
        if day > 0 and self.arrivals is not None:
            added = sum(restaff(self.scenario, self.teams, int(self.measured_start.in_book.sum())).values())
            # The call centre keeps each agent's clock by id; new agents start free.
            self.calls.agent_free_at.extend([0.0] * added)

    def _start_of_day(self, day: int) -> None:
        """00:00: roll the 7-day rings, evaluate the ladder, send batches, plan calls, visits and filings."""
        self.counters.roll_forward(day)
        live = self.book.active_rows()  # placement does not change who is active: one gathering for both
        if self.standing is not None:
            self.standing.morning(day, live)
        workable = self.book.workable(day, live)
        call_lists: dict[str, list[tuple[np.ndarray, int]]] = defaultdict(list)
        field_lists: dict[str, list[tuple[np.ndarray, int]]] = defaultdict(list)
        if self.replay is not None:  # the logged contacts treat the accounts the log still covers
            workable = workable[self.replay.handed_over(day)[workable]]
        for s, step in enumerate(self.scenario.strategy.steps):
            if step.after_charge_off:
                continue  # its accounts are charged off: self.lifecycle.morning
            idx = self.ladder.eligible(step, s, workable, day)
            if idx.size == 0:
                continue
            if step.channel in AUTOMATED_CHANNELS:
                self.ladder.send_automated(step, s, idx, day)
            elif step.channel == "legal":
                self.legal.refer(idx)
            elif step.channel in OFFER_CHANNELS:
                self.offers.make(s, idx, day)
            else:
                team = self.teams.team_for(step)
                if team is not None:
                    lists = call_lists if step.channel == "call" else field_lists
                    lists[team.name].append((idx, s))
        for team in self.teams.call:
            self.calls.plan_day(team, call_lists.get(team.name, []), day)
        for team in self.teams.field:
            self.field.plan_day(team, field_lists.get(team.name, []), day)
        self.legal.day(day)
        if self.lifecycle is not None:
            self.lifecycle.morning(day)
        if self.replay is not None:
            self.replay.day(day)

    def _end_of_day(self, day: int) -> None:
        """24:00: fold the day's call counters, then the book's evening (between settlements due and
        the offers' evening, when a step makes offers)."""
        self.counters.fold_today(day)
        if self.offers is not None:
            self.offers.settle(day)
        self.book.evening(day)
        if self.offers is not None:
            self.offers.after_evening(day)
        if self.lifecycle is not None:
            self.lifecycle.evening(day)

    # ------------------------------------------------------------------------- the end

    def roll_state(self) -> np.ndarray:
        """Each account's roll state now (:class:`~sim.domain.RollState`)."""
        return self.book.roll_state()

    def outcome(self) -> RunOutcome:
        """The finished run's measured days as the metrics read it (closes the ledger: call once, after :meth:`run`).

        Totals are the measured days' (the run's minus the warm-up's); a closed
        cohort without warm-up gets exactly the book's totals.
        """
        book = self.book
        start = self.measured_start
        if self.arrivals is None and self.warmup == 0:
            measured = None
            tally, initial = self.tally, book.initial_balance
            collected, written_off = book.collected_total, book.written_off_total
            interest, arrived = book.interest_and_fees_total, 0.0
        else:
            measured = start
            tally = self.tally.measured(self.warmup, start.cost_by_item)
            initial = start.balance_owed
            collected = book.collected_total - start.collected
            written_off = book.written_off_total - start.written_off
            interest = book.interest_and_fees_total - start.interest_and_fees
            arrived = self.arrived_balance - start.arrived_balance
        return RunOutcome(
            scenario=self.scenario, portfolio=self.portfolio, days=self.days, tally=tally,
            initial_balance=initial, collected=collected, written_off=written_off, interest_and_fees=interest,
            balance=book.balance, status=book.status, log=self.log, agent_names=tuple(self.teams.agent_names),
            ledger=self._close_ledger(), receipts=self.ctx.receipts, arrived_balance=arrived,
            measured_start=measured, warmup=self.warmup, first_day=self.first_day,
            entered_day=self.arrivals.entered_on_day(len(self.portfolio)) if self.arrivals is not None else None,
            offers=self.offers.kpis() if self.offers is not None else None,
            after_charge_off=self.lifecycle.kpis(self.warmup) if self.lifecycle is not None else None)

    def _close_ledger(self) -> AccountLedger | None:
        """The ledger at the horizon: each account's balance and roll state, the agents' work from the log."""
        ledger = self.ledger
        if ledger is None:
            return None
        ledger.balance_end = self.book.balance.copy()
        ledger.state_end = self.book.roll_state()
        rows = self.log.agent_rows()
        if self.warmup:  # the ledger counts the measured days, by week from their start
            rows = rows[rows[:, 1] >= self.warmup * DAY]
            rows[:, 1] -= self.warmup * DAY
        ledger.add_agent_work(self.teams.team_of_agent(), rows)
        return ledger


T = TypeVar("T")


def run_and_read(scenario: Scenario, portfolio: Portfolio, streams: RandomStreams,
                 read: Callable[[RunOutcome], T], **options) -> T:
    """One run of :class:`Engine` (``options`` are its own), of which only ``read(outcome)`` is kept: Python's
    cycle collector held off while the run goes, and the run freed as it ends.

    For the callers that make many runs in one process (``allocate``'s
    valuation, balance values and whole ladders, ``--verify``'s
    replications). A run allocates hundreds of thousands of container objects
    (the contact log's rows, the agents' shifts, SimPy's events), almost all
    freed by reference counting, and each allocation burst made the collector
    walk everything alive: on baseline at 5,000 accounts 2.1 s of allocate's
    28 s CPU went to collections. But the engine and its outcome are a web of
    cycles (its parts refer to one another, its agents' shifts to their
    generators): left to the collector, a run outlived itself by several
    runs, about 160 MB a whole-book run at 5,000 accounts, so a worker's
    memory grew by that much a run and each run wrote to fresh pages
    (measured: six runs 13.0–13.3 s CPU and 1,150 MB, against 10.5–11.5 s
    and 245 MB freed). Everything the run allocated is still in the
    collector's youngest generation (nothing was collected while it went),
    so once the engine and its outcome are dropped, collecting that
    generation frees the run without walking what was alive before it.
    ``read`` must keep nothing that refers back to the engine (arrays,
    numbers, the ledger). Results do not depend on when garbage is collected.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        engine = Engine(scenario, portfolio, streams, **options)
        engine.run()
        kept = read(engine.outcome())
        del engine
        gc.collect(0)
    finally:
        if enabled:
            gc.enable()
    return kept
