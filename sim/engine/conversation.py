"""A right-party conversation (an outbound call, a callback or a visit) and how it ends.

The treatment's lift, damped by contact fatigue; perhaps a complaint; with
``[contact]``, perhaps a cease-communication request, which ends it (no
further contact, :mod:`.standing`); then a promise to pay, an instalment
plan, a dispute (collection pauses while the debt is verified) or a refusal,
each written into the book. Fatigue hardens with ``[contact] hardening``
(:func:`sim.domain.contact_pressure`): less lift, more complaints. Imports
:mod:`sim.domain`, the behaviour, the book and the contact counters.
"""

from __future__ import annotations

from ..behavior import complaint_probability
from ..domain import (
    ACTIVE,
    CEASE_LOGGED,
    COMPLAINT_LOGGED,
    DISPUTE,
    PLAN,
    PROMISE,
    REFUSAL,
    ConversationOutcome,
    contact_pressure,
    fatigue,
    logged_conversation,
)
from ..streams import UniformPool
from .book import Book
from .contacts import ContactCounters
from .context import Context

DISPUTE_PAUSE_DAYS = 30  # FDCPA §809(b): collection pauses while the debt is verified
FIRST_INSTALMENT_DAYS = 7
# The contact log's code for each conversation outcome, by the outcome (logged_conversation, once).
LOGGED_BY_OUTCOME = tuple(logged_conversation(outcome) for outcome in ConversationOutcome)
PRESSURE_TABLE = 256  # recent-contact counts whose lift and complaint chance are computed once (more: each time)


class Conversation:
    """Called as ``conversation(i, day, lift_key)`` by the agents, the inbound line and the field agents.

    Returns the result for the contact log's row (a :class:`~sim.domain.LogOutcome`:
    the conversation's outcome, or ``complaint``, which wins), or None when the
    conversation decided nothing (the account no longer active, or on a plan
    without complaining): the row then stays ``right_party``.
    """

    def __init__(self, ctx: Context, book: Book, counters: ContactCounters, pool: UniformPool):
        self.ctx = ctx
        self.book = book
        self.counters = counters
        self.pool = pool
        self.standing = None  # sim.engine.standing.Standing, set by the engine when the run has one
        contact = ctx.scenario.contact
        self.hardening = contact.hardening if contact is not None else 0.0
        # Every conversation reads its lift and its chance of a complaint by the borrower's contacts of the
        # last 7 days: computed once per count by the same functions (so the same numbers).
        behavior = ctx.behavior
        self.lift_by_recent = {key: [lift * fatigue(behavior.fatigue, n, self.hardening)
                                     for n in range(PRESSURE_TABLE)] for key, lift in behavior.lift.items()}
        self.complaint_by_recent = [self._complaint_probability(n) for n in range(PRESSURE_TABLE)]
        self.promise_p, self.plan_p = behavior.promise_probability, behavior.plan_uptake
        self.dispute_p = behavior.dispute_probability
        # The book's columns every conversation reads or writes one element of, as memoryviews: a read gives the
        # Python number .item() gives and a write stores the same value, each about half the cost of NumPy's
        # scalar indexing. The book's columns are allocated once for the run and changed in place.
        self.status, self.in_plan = memoryview(book.status), memoryview(book.in_plan)
        self.pending_lift = memoryview(book.pending_lift)
        self.balance, self.past_due = memoryview(book.balance), memoryview(book.past_due)
        self.promise_amount, self.promise_day = memoryview(book.promise_amount), memoryview(book.promise_day)
        self.promises_made = memoryview(ctx.tally.promises_made)  # likewise the tally's (made once a run)

    def __call__(self, i: int, day: int, lift_key: str) -> int | None:
        if self.status[i] != ACTIVE:
            return None
        ctx = self.ctx
        # The four uniforms (complaint, outcome, due day, share). From the shared pool they are
        # drawn as they are used; per account, all four, used or not: the account's next
        # conversation then always gets the same ones.
        draws = ctx.draws
        if draws is None:
            uniforms = self.pool.uniforms  # next(uniforms): the pool's next draw (UniformPool)
            complaint_u = next(uniforms)
        else:
            complaint_u, outcome_u, due_u, share_u = draws.conversation.draw(i)
        recent = self.lift(i, lift_key)
        complaint = (self.complaint_by_recent[recent] if recent < PRESSURE_TABLE
                     else self._complaint_probability(recent))
        if day >= ctx.days:  # min(day, ctx.days - 1): a call that ended after the last midnight counts on the last day
            day = ctx.days - 1
        logged = None
        if complaint_u < complaint:
            logged = COMPLAINT_LOGGED
            self.complained(i, day)
        if self.standing is not None and self.standing.asks_to_cease(i, recent):
            self.counters.blocked_today.add(i)
            return CEASE_LOGGED  # wins: the audit must see every request to stop
        if self.in_plan[i]:
            return logged
        if draws is None:
            outcome_u = next(uniforms)
        # sim.behavior.conversation_outcome, written out with its probabilities read once (the same steps).
        if outcome_u < self.promise_p:
            outcome = PROMISE
        elif outcome_u - self.promise_p < self.plan_p:
            outcome = PLAN
        elif outcome_u - self.promise_p - self.plan_p < self.dispute_p:
            outcome = DISPUTE
        else:
            outcome = REFUSAL
        if outcome == PROMISE and draws is None:
            due_u = next(uniforms)
            share_u = next(uniforms)
        elif draws is None:
            due_u = share_u = 0.0  # read by a promise only
        self.settle(i, day, outcome, due_u, share_u)
        return LOGGED_BY_OUTCOME[outcome] if logged is None else logged

    def lift(self, i: int, lift_key: str) -> int:
        """The conversation's lift (``[behavior.lift]``'s ``lift_key``), damped by the borrower's contacts of
        the last 7 days, today's included (:func:`sim.domain.fatigue`); returns that count.

        The one definition of a conversation's lift: the engine's conversations and a replayed log's
        (:mod:`.replay`) both go through here.
        """
        recent = self.counters.recent_contacts(i)
        if recent < PRESSURE_TABLE:
            lift = self.lift_by_recent[lift_key][recent]
        else:
            behavior = self.ctx.behavior
            lift = behavior.lift[lift_key] * fatigue(behavior.fatigue, recent, self.hardening)
        pending_lift = self.pending_lift
        pending_lift[i] = pending_lift[i] + lift
        self.book.lifted.append(i)
        return recent

    def complained(self, i: int, day: int) -> None:
        """A complaint: counted, on the account's ledger, and handled at a cost (in net recovery)."""
        ctx = self.ctx
        ctx.tally.complaints[day] += 1
        if ctx.ledger is not None:
            ctx.ledger.complaint(i)
        ctx.charge(day, "complaint", i, ctx.costs.complaint)

    def settle(self, i: int, day: int, outcome: int, due_u: float, share_u: float) -> None:
        """What the conversation's ``outcome`` writes into the book: a promise (its due day and share from
        ``due_u``, ``share_u``), a plan, or a dispute that pauses collection; a refusal writes nothing."""
        if outcome == PROMISE:
            self._promise(i, day, due_u, share_u)
        elif outcome == PLAN:
            self._plan(i, day)
        elif outcome == DISPUTE:
            book = self.book
            book.paused_until[i] = day + DISPUTE_PAUSE_DAYS
            book.any_paused = True
            self.counters.blocked_today.add(i)
            self.ctx.tally.disputes[day] += 1

    def _complaint_probability(self, recent: int) -> float:
        """Complaints rise with contact pressure, harder when fatigue hardens (``[contact] hardening``)."""
        behavior = self.ctx.behavior
        if self.hardening == 0.0:
            return complaint_probability(behavior, recent)
        return min(1.0, behavior.complaint_probability * contact_pressure(behavior.fatigue, recent, self.hardening))

    def _promise(self, i: int, day: int, due_u: float, share_u: float) -> None:
        book, behavior = self.book, self.ctx.behavior
        due = day + 1 + int(due_u * behavior.promise_days)
        # What is promised is drawn like a repayment (a share r of the balance),
        # and never less than what is past due: a promise brings a payment forward.
        share = behavior.r_min + (1.0 - behavior.r_min) * share_u
        balance = self.balance[i]
        past_due, wanted = self.past_due[i], share * balance
        # min(balance, max(past_due, wanted)) as conditionals, each keeping the first unless the other is strictly
        # past it, as min and max do (the same value; in Python 3.11 min and max are calls through tp_call).
        at_least = wanted if wanted > past_due else past_due
        self.promise_amount[i] = at_least if at_least < balance else balance
        self.promise_day[i] = due
        book.promises_due[due].append(i)
        self.promises_made[day] += 1

    def _plan(self, i: int, day: int) -> None:
        book, behavior = self.book, self.ctx.behavior
        book.in_plan[i] = True
        self.counters.blocked_today.add(i)
        book.plan_left[i] = behavior.plan_instalments
        # round(x * 100) / 100 is what NumPy's round(x, 2) computes (the same IEEE steps), at a twentieth the cost.
        book.plan_amount[i] = round(book.balance.item(i) / behavior.plan_instalments * 100.0) / 100.0
        book.plan_missed[i] = 0
        first = day + FIRST_INSTALMENT_DAYS
        book.plan_next_day[i] = first
        book.plans_due[first].append(i)
        self.ctx.tally.plans_started[day] += 1
