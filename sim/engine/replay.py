"""Replay: the contacts a lender actually made drive the treatments, instead of the scenario's strategy.

A backtest asks whether the fitted borrowers, treated as the real ones were,
repay as the real ones did. So in a replay the ladder does not act on the
accounts the log covers: every row of the contact log (:class:`LoggedContacts`) happens at its timestamp
with its channel, and the engine's own parts take it from there: the lift of
its channel damped by the 7-day fatigue counters, the tally's contacts and
costs, the log (so the compliance audit reads a replay's log like any
other), promises, plans and disputes written into the book, filings with the
legal team's delay and success.

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
the day the real ones paid, and bias the replay low.

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
    fatigue,
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
    ``outcome`` is a :class:`~sim.domain.LogOutcome` code, −1 for a blank cell.
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
        out = np.zeros((days, len(Channel)), dtype=np.int64)
        np.add.at(out, (day, self.channel.astype(np.int64)), 1)
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
        legal = np.flatnonzero(contacts.channel == Channel.LEGAL)
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
        contact = engine.scenario.contact
        self.hardening = contact.hardening if contact is not None else 0.0
        handover = contacts.handover
        if handover is not None and handover.shape != (self.book.n,):
            raise ValueError(f"handover needs one day per book row ({self.book.n}), got {handover.shape}")
        self.handover = None if handover is None else np.asarray(handover, dtype=np.int64) + engine.warmup

    def handed_over(self, day: int) -> np.ndarray:
        """The accounts the scenario's strategy works today: those the log no longer covers."""
        if self.handover is None:
            return np.zeros(self.book.n, dtype=bool)
        return self.handover <= day

    def day(self, day: int) -> None:
        """00:00: the day's logged contacts, each at its minute (one process walks them in order)."""
        lo, hi = self.bounds[day], self.bounds[day + 1]
        if hi > lo:
            self.ctx.env.process(self._walk(lo, hi, day))

    def _walk(self, lo: int, hi: int, day: int):
        env, c = self.ctx.env, self.contacts
        k = lo
        while k < hi:
            at = self.minute[k]
            end = k + int(np.searchsorted(self.minute[k:hi], at, side="right"))
            if at > env.now:
                yield env.timeout(at - env.now)
            batch = np.arange(k, end)
            automated = np.isin(c.channel[batch], AUTOMATED)
            for channel in AUTOMATED:
                rows = batch[c.channel[batch] == channel]
                if rows.size:
                    self._messages(rows, channel, at, day)
            for j in batch[~automated].tolist():
                self._one(j, at, day)
            k = end

    # ------------------------------------------------------------------------- messages

    def _messages(self, rows: np.ndarray, channel: int, minute: float, day: int) -> None:
        """A batch of SMS, e-mail or letters, as the ladder delivers one (its lift, counts, costs, log)."""
        ctx, counters, c = self.ctx, self.counters, self.contacts
        name = Channel(channel).label
        idx = c.row[rows]
        ctx.tally.contacts[day, channel] += idx.size
        ctx.charge(day, name, idx, getattr(ctx.costs, name), idx.size)
        recent = counters.contacts_7d[idx]
        outcome = c.outcome[rows].astype(np.int8)
        ctx.log.add_batch(idx, minute, name, outcome)
        self._requests_to_stop(idx, outcome, name)
        lift = ctx.behavior.lift[name]
        if lift:
            np.add.at(self.book.pending_lift, idx, lift * fatigue(ctx.behavior.fatigue, recent, self.hardening))
            self.book.lifted_batches.append(np.asarray(idx, dtype=np.int64))  # the evening reads only noted rows
        np.add.at(counters.contact_ring[day % 7], idx, 1)
        np.add.at(counters.contacts_7d, idx, 1)

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
            self._dial(i, reached, logged, minute, day)
        else:
            self._visit_or_callback(i, channel, reached, logged, minute, day)
        if reached:
            self._converse(i, day, CONVERSATION_LIFT[channel], logged)

    def _dial(self, i: int, reached: bool, logged: int, minute: float, day: int) -> None:
        """An outbound call, counted as the agent loop counts one (attempts, connects, failures, its lift)."""
        counters, ctx = self.counters, self.ctx
        answered = RIGHT_PARTY if reached else (WRONG_PARTY if logged == WRONG_PARTY else NO_ANSWER)
        duration = self.handle[int(Channel.CALL)][answered]
        counters.today_attempts[i] = counters.today_attempts.get(i, 0) + 1
        counters.today_contacts[i] = counters.today_contacts.get(i, 0) + 1
        counters.outcomes_today[answered] += 1
        counters.busy_today += duration
        ctx.log.add(i, minute, int(Channel.CALL), logged if logged >= 0 else answered, NO_AGENT, duration)
        if reached:
            counters.record_conversation(i, day)
            counters.today_connects[i] = counters.today_connects.get(i, 0) + 1
        else:
            counters.today_failed[i] = counters.today_failed.get(i, 0) + 1
        lift = ctx.behavior.lift["call_attempt"]
        if lift:
            recent = int(counters.contacts_7d[i]) + counters.today_contacts.get(i, 0)
            self.book.pending_lift[i] += lift * fatigue(ctx.behavior.fatigue, recent, self.hardening)
            self.book.lifted.append(i)

    def _visit_or_callback(self, i: int, channel: int, reached: bool, logged: int, minute: float, day: int) -> None:
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
        counters.today_contacts[i] = counters.today_contacts.get(i, 0) + 1
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

    def _converse(self, i: int, day: int, lift_key: str, logged: int) -> None:
        """The conversation's lift and the result the log gives (:class:`~.conversation.Conversation`'s rules;
        a ``complaint`` hides the result, which is then drawn by the model)."""
        book, ctx, conversation = self.book, self.ctx, self.conversation
        if book.status[i] != ACTIVE:
            return
        behavior = ctx.behavior
        recent = self.counters.recent_contacts(i)
        book.pending_lift[i] += behavior.lift[lift_key] * fatigue(behavior.fatigue, recent, self.hardening)
        book.lifted.append(i)
        day = min(day, ctx.days - 1)
        u = self.rng.random(3)
        result = logged - FIRST_RESULT if FIRST_RESULT <= logged <= LAST_RESULT else None
        if logged == COMPLAINT_LOGGED:
            conversation.complained(i, day)
            result = conversation_outcome(behavior, u[0])
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
