"""The hybrid engine: arrays for the book, SimPy events where capacity is.

* The **book** (every account's balance, days past due, intensity, promises,
  plans) lives in NumPy arrays (:mod:`.book`). One daily SimPy process
  advances all of it at once: the ladder and the automated channels in the
  morning (:mod:`.ladder`), then at the end of the day repayments, promises
  and instalments due, interest and fees, ageing and charge-off.
* The **capacity** is SimPy processes: call agents work through the day's
  prioritised call list inside their shifts and the contact window,
  answering inbound callbacks first (:mod:`.calls`); field agents make
  visits (:mod:`.field`); the legal team files cases that resolve after a
  delay (:mod:`.legal`). Every call or visit is an event with its own
  duration and outcome; a conversation's end is :mod:`.conversation`.

The rules' counters live in :mod:`.contacts`, the teams in :mod:`.teams`,
what a run counts in :mod:`.tally`. :class:`Engine` builds these parts and
runs the daily process; :meth:`Engine.outcome` is what the metrics read.

A run costs accounts × days of vector work plus the contacts actually made,
never accounts × days × events. Compliance rules are checked before every
contact; a contact that would break one is refused and counted.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

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
from ..history import PaymentLogBuilder
from ..ledger import AccountLedger
from ..portfolio import Portfolio
from ..scenario import Scenario
from ..streams import AccountDraws, RandomStreams, UniformPool
from .book import Book
from .calls import CallCentre
from .contacts import ContactCounters
from .context import Context
from .conversation import Conversation
from .field import FieldTeams
from .ladder import Ladder
from .legal import Legal
from .offers import Offers
from .standing import Standing, needs_standing
from .tally import RunOutcome, Tally
from .teams import Teams

DAY = MINUTES_PER_DAY
SERIES_CHANNELS = ALL_CHANNELS  # the columns of the daily contacts series

__all__ = ["DAY", "ROLL_STATES", "SERIES_CHANNELS", "WEEKDAYS", "Engine", "RunOutcome", "Tally"]


class Engine:
    """One simulation run of one scenario with one set of random streams: build the parts, run the days."""

    def __init__(self, scenario: Scenario, portfolio: Portfolio, streams: RandomStreams,
                 *, record_contacts: bool = True, progress=None,
                 step_accounts: Sequence[np.ndarray | None] | None = None, ledger: bool = False,
                 paired_draws: bool = False, record_payments: bool = False):
        """``step_accounts``: per ladder step, the accounts it may act on (a boolean mask, or None for all),
        so that one strategy can give different accounts different steps; ``ledger``: keep an
        :class:`~sim.ledger.AccountLedger` (needs ``record_contacts`` for the agents' work);
        ``paired_draws``: draw each account's outcomes from its own numbered sequence
        (:class:`~sim.streams.AccountDraws`) instead of the shared streams; ``record_payments``:
        keep every cash receipt (:class:`~sim.history.PaymentLogBuilder`) for the run's history."""
        if ledger and not record_contacts:
            raise ValueError("the account ledger reads agent work from the contact log: record_contacts=True")
        self.scenario = scenario
        self.portfolio = portfolio
        self.progress = progress
        self.days = days = scenario.simulation.days
        n = len(portfolio)
        rules = ContactRules.from_section(scenario.compliance)
        self.env = simpy.Environment()
        self.tally = Tally(days)
        self.log = ContactLogBuilder(record_contacts)
        self.ledger = AccountLedger(n, days) if ledger else None
        # Repayment draws stay on the shared stream in both modes: every account
        # draws one per day, so they are already numbered by account and day.
        draws = AccountDraws(streams.seed_sequence, n) if paired_draws else None
        self.ctx = ctx = Context(
            scenario=scenario, env=self.env, days=days, behavior=scenario.behavior, costs=scenario.costs,
            rules=rules, calendar=ContactCalendar(rules, scenario.simulation.start_date, days), tally=self.tally,
            log=self.log, ledger=self.ledger, draws=draws,
            receipts=PaymentLogBuilder() if record_payments else None)
        self.book = book = Book(ctx, portfolio, streams)
        self.counters = counters = ContactCounters(rules, n, len(scenario.strategy.steps), self.tally)
        self.teams = teams = Teams(scenario, ctx.calendar)
        conversation = Conversation(ctx, book, counters, UniformPool(streams["calls"]))
        self.calls = CallCentre(ctx, book, counters, teams, conversation, conversation.pool,
                                UniformPool(streams["inbound"]))
        self.field = FieldTeams(ctx, book, counters, teams, conversation, UniformPool(streams["field"]))
        self.legal = Legal(ctx, book, teams, streams["legal"])
        self.ladder = Ladder(ctx, book, counters, step_accounts, self.calls.start_callers,
                             self.calls.inbound_enabled, streams["automated"])
        self.standing = None
        if needs_standing(scenario, portfolio, rules):
            self.standing = Standing.attach(ctx, book, portfolio, rules, streams.seed_sequence,
                                            (counters, self.calls, conversation, self.ladder, self.field))
        offering = any(step.channel in OFFER_CHANNELS for step in scenario.strategy.steps)
        self.offers = Offers(ctx, book, counters.last_step_day, streams["offers"]) if offering else None

    # ------------------------------------------------------------------------- run

    def run(self) -> Tally:
        self.env.process(self._daily())
        self.env.run(until=self.days * DAY + 1)
        return self.tally

    def _daily(self):
        for day in range(self.days):
            self._start_of_day(day)
            yield self.env.timeout(DAY)
            self._end_of_day(day)
            if self.progress is not None:
                self.progress(day + 1, self.days)

    def _start_of_day(self, day: int) -> None:
        """00:00: roll the 7-day rings, evaluate the ladder, send batches, plan calls, visits and filings."""
        self.counters.roll_forward(day)
        if self.standing is not None:
            self.standing.morning(day)
        workable = self.book.workable(day)
        call_lists: dict[str, list[tuple[np.ndarray, int]]] = defaultdict(list)
        field_lists: dict[str, list[tuple[np.ndarray, int]]] = defaultdict(list)
        for s, step in enumerate(self.scenario.strategy.steps):
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

    def _end_of_day(self, day: int) -> None:
        """24:00: fold the day's call counters, then the book's evening (between settlements due and
        the offers' evening, when a step makes offers)."""
        self.counters.fold_today(day)
        if self.offers is not None:
            self.offers.settle(day)
        self.book.evening(day)
        if self.offers is not None:
            self.offers.after_evening(day)

    # ------------------------------------------------------------------------- the end

    def roll_state(self) -> np.ndarray:
        """Each account's roll state now (:class:`~sim.domain.RollState`)."""
        return self.book.roll_state()

    def outcome(self) -> RunOutcome:
        """The finished run as the metrics read it (closes the ledger: call once, after :meth:`run`)."""
        book = self.book
        return RunOutcome(
            scenario=self.scenario, portfolio=self.portfolio, days=self.days, tally=self.tally,
            initial_balance=book.initial_balance, collected=book.collected_total,
            written_off=book.written_off_total, interest_and_fees=book.interest_and_fees_total,
            balance=book.balance, status=book.status, log=self.log, agent_names=tuple(self.teams.agent_names),
            ledger=self._close_ledger(), receipts=self.ctx.receipts,
            offers=self.offers.kpis() if self.offers is not None else None)

    def _close_ledger(self) -> AccountLedger | None:
        """The ledger at the horizon: each account's balance and roll state, the agents' work from the log."""
        ledger = self.ledger
        if ledger is None:
            return None
        ledger.balance_end = self.book.balance.copy()
        ledger.state_end = self.book.roll_state()
        ledger.add_agent_work(self.teams.team_of_agent(), self.log.agent_rows())
        return ledger
