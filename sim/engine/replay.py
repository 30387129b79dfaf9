"""Replay: the contacts a lender actually made drive the treatments, instead of the scenario's strategy.

A backtest asks whether the fitted borrowers, treated as the real ones were,
repay as the real ones did. So in a replay the ladder does not act on the
accounts the log covers: every row of the contact log (:class:`LoggedContacts`) happens at its timestamp
with its channel, and the engine's own parts take it from there: the lift of
its channel damped by the 7-day fatigue counters, the tally's contacts and
costs, the log (so the compliance audit reads a replay's log like any
other), promises, plans and disputes written into the book, filings with the
legal team's delay and success.

**The same lifts as the engine's contacts.** Each lift and each count in the
fatigue window goes through the engine's own definition
(:meth:`.ladder.Ladder.reach` for a batch of messages,
:meth:`.contacts.ContactCounters.count_agent_contact` for a dial or a visit,
:meth:`.calls.CallCentre.attempt_lift`, :meth:`.conversation.Conversation.lift`),
at the moment the engine would make it: the day's messages from the
ladder's morning (without rules by account, at 00:00, whatever send time
they are logged at), a dial's and a conversation's lift when the contact
ends (its team's mean handle time after it began: the log has no lengths).
A callback is no pressure on the borrower who makes it. The same log
therefore gives every account the same lift on the same day as the run
that wrote it (``tests/test_replay_lifts.py``).

**Outcomes are taken from the log, not re-drawn.** Whether a call reached the
borrower, and how the conversation ended, are observations of the lender's
world, not parts of the repayment model the backtest is testing; re-drawing
them would add the reach and conversation models' errors (and their
randomness) to a test of the repayment process, and would let a replay
"reach" a borrower the lender never spoke to. What the log does not say is
drawn by the model: the amount and due day of a promise, whether a promise
or instalment is kept, the result of a conversation the log records only as
a ``complaint`` (which hides it), a legal case's outcome, and of course
every repayment.

When the log stops covering an account because the lender's account closed
(paid off, charged off, filed: ``LoggedContacts.handover``), the
scenario's strategy takes over for it if the replication still has it open:
a lender does not contact an account that paid, so replaying only the log
would leave the replication's borrowers who have not paid untreated from
the day the real ones paid, and bias the replay low. From then on the log's
rows for it (a later episode of the real account) are not replayed, and
the strategy's steps keep the lender's cadence: each logged contact counts
as the last day of the steps on its channel.

Contacts to an account the replication has already closed (paid off,
charged off, in legal) still happen and are logged and counted (the
lender made them), but move nothing, as a conversation with a closed
account does in the engine. Capacity is not re-simulated: the log's contacts
happened whatever the scenario's staffing, so a replayed call is not queued
for an agent (its row carries no agent; the agents' time counts each call at
its team's mean handle time). Requests to stop are recorded (the standing's
counts), and callbacks are not drawn: the log's inbound calls are the ones
that came.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..behavior import conversation_outcome
from ..domain import (
    ACTIVE,
    CEASE_LOGGED,
    COMPLAINT_LOGGED,
    IN_LEGAL,
    MINUTES_PER_DAY,
    NO_AGENT,
    NO_ANSWER,
    OPT_OUT_LOGGED,
    REFUSAL,
    RIGHT_PARTY,
    WRONG_PARTY,
    Channel,
    LogOutcome,
    reached_right_party,
)
from ..errors import InputError
from .legal import FILING_MINUTE

DAY = MINUTES_PER_DAY
AUTOMATED = (int(Channel.SMS), int(Channel.EMAIL), int(Channel.LETTER))
CONVERSATION_LIFT = {int(Channel.CALL): "right_party_contact", int(Channel.INBOUND_CALL): "inbound_call",
                     int(Channel.FIELD_VISIT): "field_visit"}
FIRST_RESULT, LAST_RESULT = int(LogOutcome.PROMISE), int(LogOutcome.REFUSAL)


@dataclass(frozen=True)
class LoggedContacts:
    """The contacts to replay, by the run's book rows and the engine's clock, sorted by minute.

    ``minute`` counts from the run's first measured day (a warm-up is added by the replay);
    ``outcome`` is a :class:`~sim.domain.LogOutcome` code, −1 for a blank cell. Rows before minute 0
    (at most 7 days before) are not replayed: they are the week the run continues (a backtest's days before
    day K), and count in the 7-day windows it starts with (fatigue, the caps).
    """

    row: np.ndarray
    minute: np.ndarray
    channel: np.ndarray
    outcome: np.ndarray
    line: np.ndarray  # the row's line in the contacts file, for errors
    source: str = "contacts"
    # Per book row: the day (from the first measured day) from which the log no longer covers the account and
    # the scenario's strategy works it (its real observation ended: paid off, charged off, filed); None: never.
    handover: np.ndarray | None = None

    def __post_init__(self) -> None:
        order = np.argsort(self.minute, kind="stable")
        for name in ("row", "minute", "channel", "outcome", "line"):
            object.__setattr__(self, name, np.asarray(getattr(self, name))[order])

    def __len__(self) -> int:
        return int(self.row.size)

    def per_day(self, days: int) -> np.ndarray:
        """Contacts by day and channel (the run's ``contacts`` series, as the log says it should be)."""
        day = (self.minute // DAY).astype(np.int64)
        run = day >= 0
        out = np.zeros((days, len(Channel)), dtype=np.int64)
        np.add.at(out, (day[run], self.channel[run].astype(np.int64)), 1)
        return out


class Replay:
    """The engine's treatments, read from the log: :meth:`day` schedules the day's contacts at 00:00."""

    def __init__(self, engine, contacts: LoggedContacts, rng: np.random.Generator):
        self.ctx, self.book, self.counters = engine.ctx, engine.book, engine.counters
        self.conversation, self.legal, self.teams = engine.calls.conversation, engine.legal, engine.teams
        self.engine = engine
        self.rng = rng
        self.contacts = contacts
        if len(contacts) and (contacts.row.min() < 0 or contacts.row.max() >= self.book.n):
            raise ValueError("a logged contact's row is outside the book")
        offset = engine.warmup * DAY
        self.minute = contacts.minute + offset
        day = (self.minute // DAY).astype(np.int64)
        self.bounds = np.searchsorted(day, np.arange(engine.warmup + engine.days + 1))
        legal = np.flatnonzero((contacts.channel == Channel.LEGAL) & (contacts.minute >= 0))
        if legal.size and not self.teams.legal:
            raise InputError(contacts.source, f"line {contacts.line[legal[0]]}: channel",
                             "a legal filing is replayed by a legal team; the scenario has none ([teams] kind = "
                             "\"legal\")")
        self.handle = {int(Channel.CALL): (1.0, 1.0, 1.0), int(Channel.INBOUND_CALL): 0.0,
                       int(Channel.FIELD_VISIT): 0.0}
        if self.teams.call:
            spec = self.teams.call[0].spec.handle_minutes
            self.handle = {int(Channel.CALL): (spec.no_answer, spec.wrong_party, spec.right_party),
                           int(Channel.INBOUND_CALL): spec.inbound}
        self.handle[int(Channel.FIELD_VISIT)] = (self.teams.field[0].spec.handle_minutes.field_visit
                                                 if self.teams.field else 0.0)
        # The automated channels in the order the strategy's steps first use them (the ladder's morning).
        used = [int(Channel[step.channel.upper()]) for step in engine.scenario.strategy.steps]
        self.message_order = sorted(AUTOMATED, key=lambda code: used.index(code) if code in used else len(used))
        handover = contacts.handover
        if handover is not None and handover.shape != (self.book.n,):
            raise ValueError(f"handover needs one day per book row ({self.book.n}), got {handover.shape}")
        self.handover = None if handover is None else np.asarray(handover, dtype=np.int64) + engine.warmup
        # The ladder's steps by channel: a logged contact is the last day of each step on its channel, so a step
        # that takes an account over keeps the lender's cadence instead of starting it again.
        self.steps_of: dict[int, list[int]] = {}
        for s, step in enumerate(engine.scenario.strategy.steps):
            if not step.after_charge_off and step.channel.upper() in Channel.__members__:
                self.steps_of.setdefault(int(Channel[step.channel.upper()]), []).append(s)
        self._carry_last_week(engine.warmup)

    def _carry_last_week(self, first: int) -> None:
        """The log's contacts before the run (minute < 0) in the 7-day windows the run starts with, counted as
        the engine counts them: a message, a dial or a visit is a contact (a callback or a filing is not), a
        dial an attempt, a dial that reached the borrower a connected call."""
        c = self.contacts
        before = np.flatnonzero(c.minute < 0)
        if before.size == 0:
            return
        day = first + (c.minute[before] // DAY).astype(np.int64)
        channel, rows = c.channel[before], c.row[before]
        call = channel == Channel.CALL
        counted = call | (channel == Channel.FIELD_VISIT) | np.isin(channel, AUTOMATED)
        reached = call & reached_right_party(c.outcome[before], channel)
        n = self.book.n
        for d in np.unique(day[day >= first - 7]).tolist():
            on = day == d
            contacts = np.bincount(rows[on], weights=counted[on], minlength=n).astype(np.int64)
            attempts = np.bincount(rows[on], weights=call[on], minlength=n).astype(np.int64)
            connects = np.bincount(rows[on], weights=reached[on], minlength=n).astype(np.int64)
            idx = np.flatnonzero(contacts)
            self.counters.carry(d, idx, contacts[idx], attempts[idx], connects[idx])
            for code in np.unique(channel[on]).tolist():
                self._mark_steps(code, rows[on & (channel == code)], d)

    def _mark_steps(self, channel: int, idx, day: int) -> None:
        """The ladder's steps on ``channel`` acted on ``idx`` today (their cadence counts from here)."""
        for s in self.steps_of.get(channel, ()):
            self.counters.last_step_day[s, idx] = day

    def handed_over(self, day: int) -> np.ndarray:
        """The accounts the scenario's strategy works today: those the log no longer covers."""
        if self.handover is None:
            return np.zeros(self.book.n, dtype=bool)
        return self.handover <= day

    def day(self, day: int) -> None:
        """00:00: the day's logged contacts, as the engine would make them.

        The ladder sends the day's messages from its morning (:meth:`.ladder.Ladder.send_automated`), step by
        step: without rules by account all at 00:00 (each logged at its send time), so they count among the
        borrowers' contacts from then on; with them each at its minute, by a process started in the morning
        (which, at the same minute, goes before a contact that ends then). The log's messages are sent so, in
        the strategy's order of their channels. The agents' contacts happen at their minute (one process
        walks them in order).
        """
        lo, hi = self.bounds[day], self.bounds[day + 1]
        if hi <= lo:
            return
        rows = np.arange(lo, hi)
        if self.handover is not None:  # the strategy works these accounts now (a later episode's contacts: not theirs)
            rows = rows[self.handover[self.contacts.row[rows]] > day]
        channel = self.contacts.channel[rows]
        for code in self.message_order:
            mine = rows[channel == code]
            for at in np.unique(self.minute[mine]).tolist():
                sent = mine[self.minute[mine] == at]
                if self.engine.standing is None:
                    self._messages(sent, code, at, day)
                else:
                    self.ctx.env.process(self._messages_at(sent, code, at, day))
        rows = rows[~np.isin(channel, AUTOMATED)]
        if rows.size:
            self.ctx.env.process(self._walk(rows, day))

    def _messages_at(self, rows: np.ndarray, channel: int, minute: float, day: int):
        if minute > self.ctx.env.now:
            yield self.ctx.env.timeout(minute - self.ctx.env.now)
        self._messages(rows, channel, minute, day)

    def _walk(self, rows: np.ndarray, day: int):
        """The agents' contacts (calls, callbacks, visits, filings), each at its minute."""
        env = self.ctx.env
        k, hi = 0, rows.size
        minutes = self.minute[rows]
        while k < hi:
            at = minutes[k]
            end = k + int(np.searchsorted(minutes[k:], at, side="right"))
            if at > env.now:
                yield env.timeout(at - env.now)
            for j in rows[k:end].tolist():
                self._one(j, at, day)
            k = end

    # ------------------------------------------------------------------------- messages

    def _messages(self, rows: np.ndarray, channel: int, minute: float, day: int) -> None:
        """A batch of SMS, e-mail or letters, as the ladder delivers one (counts, costs, log, then
        :meth:`.ladder.Ladder.reach`: its lift and its place in the fatigue window)."""
        ctx, c = self.ctx, self.contacts
        name = Channel(channel).label
        idx = c.row[rows]
        ctx.tally.contacts[day, channel] += idx.size
        ctx.charge(day, name, idx, getattr(ctx.costs, name), idx.size)
        outcome = c.outcome[rows].astype(np.int8)
        ctx.log.add_batch(idx, minute, name, outcome)
        self._requests_to_stop(idx, outcome, name)
        self._mark_steps(channel, idx, day)
        # An account messaged twice in the minute (two of the ladder's steps on one channel) is reached twice
        # in a row, as the ladder's batches reach it: the second message damped by the first.
        for once in _rounds(idx):
            self.engine.ladder.reach(name, once, day)

    def _requests_to_stop(self, idx: np.ndarray, outcome: np.ndarray, channel: str) -> None:
        standing = self.engine.standing
        if standing is None:
            return
        opted = outcome == OPT_OUT_LOGGED
        if opted.any() and channel in standing.opted_out:
            standing.opt_out(channel, idx[opted])
            standing.opt_outs += int(opted.sum())
        ceased = outcome == CEASE_LOGGED
        if ceased.any():
            standing.cease(idx[ceased])
            standing.cease_requests += int(ceased.sum())

    # ------------------------------------------------------------------------- agents' contacts

    def _one(self, j: int, minute: float, day: int) -> None:
        c = self.contacts
        i, channel, logged = int(c.row[j]), int(c.channel[j]), int(c.outcome[j])
        if channel == Channel.LEGAL:
            self._filing(i, day)
            return
        reached = bool(reached_right_party(np.array([logged]), np.array([channel]))[0])
        if channel == Channel.INBOUND_CALL:
            reached = True  # a callback is a conversation, whatever its row says
        if channel == Channel.CALL:
            duration = self._dial(i, reached, logged, minute, day)
        else:
            duration = self._visit_or_callback(i, channel, reached, logged, minute, day)
        self.ctx.env.process(self._ended(i, channel, reached, logged, duration, day))

    def _ended(self, i: int, channel: int, reached: bool, logged: int, duration: float, day: int):
        """As the contact ends (its team's mean handle time after it began, as the log has no lengths): the
        dial's lift, then the conversation, each damped by the contacts counted by then, as in the engine."""
        if duration > 0:
            yield self.ctx.env.timeout(duration)
        if channel == Channel.CALL:
            self.engine.calls.attempt_lift(i)
        if reached:
            self._converse(i, day, CONVERSATION_LIFT[channel], logged)

    def _dial(self, i: int, reached: bool, logged: int, minute: float, day: int) -> float:
        """An outbound call, counted as the agent loop counts one (attempts, connects, failures, its lift)."""
        counters, ctx = self.counters, self.ctx
        answered = RIGHT_PARTY if reached else (WRONG_PARTY if logged == WRONG_PARTY else NO_ANSWER)
        duration = self.handle[int(Channel.CALL)][answered]
        counters.today_attempts[i] = counters.today_attempts.get(i, 0) + 1
        counters.count_agent_contact(i)
        self._mark_steps(int(Channel.CALL), i, day)
        counters.outcomes_today[answered] += 1
        counters.busy_today += duration
        ctx.log.add(i, minute, int(Channel.CALL), logged if logged >= 0 else answered, NO_AGENT, duration)
        if reached:
            counters.record_conversation(i, day)
            counters.today_connects[i] = counters.today_connects.get(i, 0) + 1
        else:
            counters.today_failed[i] = counters.today_failed.get(i, 0) + 1
        return duration

    def _visit_or_callback(self, i: int, channel: int, reached: bool, logged: int, minute: float,
                           day: int) -> float:
        counters, ctx = self.counters, self.ctx
        ctx.tally.contacts[day, channel] += 1
        duration = self.handle[channel]
        if channel == Channel.FIELD_VISIT:
            ctx.charge(day, "field_visit", i, ctx.costs.field_visit)
        else:
            ctx.tally.inbound_arrivals[day] += 1
            ctx.tally.inbound_answered[day] += 1
            ctx.tally.inbound_within_target[day] += 1
        counters.busy_today += duration
        if channel == Channel.FIELD_VISIT:  # a callback the borrower makes is no contact that tires them
            counters.count_agent_contact(i)
            self._mark_steps(channel, i, day)
        default = RIGHT_PARTY if reached else NO_ANSWER
        ctx.log.add(i, minute, channel, logged if logged >= 0 else default, NO_AGENT, duration)
        if reached:
            if channel == Channel.INBOUND_CALL:
                counters.record_conversation(i, day)
            else:
                counters.today_failed[i] = 0
                counters.failed_reset_today.add(i)
        else:
            counters.today_failed[i] = counters.today_failed.get(i, 0) + 1
        return duration

    def _converse(self, i: int, day: int, lift_key: str, logged: int) -> None:
        """The conversation's lift and the result the log gives (:class:`~.conversation.Conversation`'s rules;
        a ``complaint`` hides the result, which is then drawn by the model)."""
        book, ctx, conversation = self.book, self.ctx, self.conversation
        if book.status[i] != ACTIVE:
            return
        conversation.lift(i, lift_key)
        day = min(day, ctx.days - 1)
        u = self.rng.random(3)
        result = logged - FIRST_RESULT if FIRST_RESULT <= logged <= LAST_RESULT else None
        if logged == COMPLAINT_LOGGED:
            conversation.complained(i, day)
            result = conversation_outcome(ctx.behavior, u[0])
        elif logged == CEASE_LOGGED:
            self.counters.blocked_today.add(i)
            if self.engine.standing is not None:
                self.engine.standing.cease(i)
                self.engine.standing.cease_requests += 1
            return
        if result is None or book.in_plan[i] or result == REFUSAL:
            return
        conversation.settle(i, day, result, u[1], u[2])

    # ------------------------------------------------------------------------- legal

    def _filing(self, i: int, day: int) -> None:
        """A filing: the account goes to legal (if still open) and resolves after the first legal team's delay."""
        ctx, book = self.ctx, self.book
        team = self.teams.legal[0]
        ctx.tally.contacts[day, Channel.LEGAL] += 1
        ctx.charge(day, "legal_filing", i, ctx.costs.legal_filing)
        ctx.log.add(i, day * DAY + FILING_MINUTE, int(Channel.LEGAL), -1, NO_AGENT, 0.0)
        if book.status[i] != ACTIVE:
            return
        book.status[i] = IN_LEGAL
        book.filed.add(i)
        book.in_plan[i] = False
        if ctx.ledger is not None:
            ctx.ledger.file(team.name, i, day)
        self.legal.resolutions[day + team.spec.filing_delay_days].append((i, team.spec))


def _rounds(idx: np.ndarray) -> list[np.ndarray]:
    """``idx`` split into batches of distinct accounts: an account's first entry in the first, its second in
    the second, and so on (one batch when every account is there once)."""
    if idx.size < 2:
        return [idx]
    order = np.argsort(idx, kind="stable")
    ranked = idx[order]
    first = np.r_[True, ranked[1:] != ranked[:-1]]
    place = np.arange(idx.size)
    rank = np.empty(idx.size, dtype=np.int64)
    rank[order] = place - np.maximum.accumulate(np.where(first, place, 0))
    top = int(rank.max())
    return [idx] if top == 0 else [idx[rank == r] for r in range(top + 1)]
