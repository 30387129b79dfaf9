"""The domain's vocabulary, written once: channels, states, buckets, days, teams, outcomes.

Every other module imports these facts from here instead of restating them
(the engine, the contact log, the metrics, the scenario schema, the
optimizer, the app). This module imports nothing from the project, so
anything may import it.

* **Channels** in one order (:class:`Channel`): the contact log's channel
  codes and the columns of the daily ``contacts`` series are these values.
  A strategy's ladder uses every channel but ``inbound_call`` (which the
  borrower starts).
* **Roll states** (:class:`RollState`): the days-past-due buckets, then
  charged off and in legal; the rows and columns of the roll-rate matrix and
  of the outstanding-by-bucket series.
* **Account statuses**, **call outcomes**, **conversation outcomes**, the
  contact log's outcomes (:class:`LogOutcome`) and the
  **kinds of cash receipt** (:class:`PaymentKind`).
* **Team kinds** and which kind of team does each channel.
* :func:`fatigue` and :func:`priority_key`, the two rules of contact the
  engine and the optimizer's value model both apply.
"""

from __future__ import annotations

from enum import IntEnum

import numpy as np

# ----------------------------------------------------------------------------- time

MINUTES_PER_HOUR = 60
MINUTES_PER_DAY = 24 * MINUTES_PER_HOUR  # the engine's clock is minutes from the start; day = minute // 1440
DAYS_PER_WEEK = 7
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = datetime.date.weekday()


def daily_discount(rate: float, days: int) -> np.ndarray:
    """The discount factor of each day's money, day 1 … ``days``, at ``rate`` a year: (1 + rate) ** (-d / 365).

    Made as powers of one day's factor, each day's the day before's times it,
    not as an array raised to a power: numpy's ``**`` on an array takes a
    SIMD path chosen by the CPU (AVX2 and SSE machines gave npv_collected
    different last bits), and a product is the same number everywhere.
    """
    return np.cumprod(np.full(days, (1.0 + rate) ** (-1.0 / 365.0)))


def minutes_to_hours(minutes):
    """Minutes as hours (agent minutes as agent hours; a per-minute price times 60 is per hour)."""
    return minutes / 60.0


def hours_to_minutes(hours):
    return hours * 60.0


def hour_of(minute_of_day: float) -> int:
    """The hour of the day (0-23) a minute after midnight falls in."""
    return int(minute_of_day // MINUTES_PER_HOUR)


def weekday_name(date) -> str:
    """``"mon"`` … ``"sun"`` for a date: how teams' ``work_days`` name days."""
    return WEEKDAYS[date.weekday()]


# ----------------------------------------------------------------------------- channels


class Channel(IntEnum):
    """Every way of contact, in the one order of the contact log and the daily series."""

    SMS = 0
    EMAIL = 1
    CALL = 2
    INBOUND_CALL = 3
    LETTER = 4
    FIELD_VISIT = 5
    LEGAL = 6

    @property
    def label(self) -> str:
        """The name scenarios, logs and KPIs use (``"field_visit"``)."""
        return self.name.lower()


ALL_CHANNELS = tuple(c.label for c in Channel)  # the contact log's and the series' columns
# What a strategy's ladder may use (the borrower starts inbound calls), in the same order.
STRATEGY_CHANNELS = tuple(c.label for c in Channel if c is not Channel.INBOUND_CALL)
AUTOMATED_CHANNELS = ("sms", "email", "letter")  # sent in batches, no agent
CHANNEL_CODE = {c.label: int(c) for c in Channel}
# Offers a ladder step may make (sim/engine/offers.py): not contacts of their own, so they have no
# Channel code, no column in the contacts series and no row in the contact log; they are counted
# in the run's ``offers`` KPIs.
OFFER_CHANNELS = ("settlement_offer", "hardship_plan")
# Steps after charge-off (sim/engine/lifecycle.py): the account leaves the lender's ladder at charge-off and
# is placed with a collection agency, sued through an attorney on contingency, or sold. Not contacts the
# simulator makes itself (the agency's and the attorney's work is their recovery curve), so no Channel code.
AFTER_CHARGE_OFF_CHANNELS = ("agency", "attorney", "debt_sale")
LADDER_CHANNELS = (*STRATEGY_CHANNELS, *OFFER_CHANNELS, *AFTER_CHARGE_OFF_CHANNELS)  # every channel a step may name

# ----------------------------------------------------------------------------- teams

TEAM_KINDS = ("call", "field", "legal")
# Which kind of team does a channel that needs people (automated channels need none).
TEAM_KIND_OF_CHANNEL = {"call": "call", "field_visit": "field", "legal": "legal"}
CHANNEL_OF_TEAM_KIND = {kind: channel for channel, kind in TEAM_KIND_OF_CHANNEL.items()}

# ----------------------------------------------------------------------------- books and states

BUCKETS = ("current", "1-30", "31-60", "61-90", "91-120", "121-150", "151-180")
DELINQUENT_BUCKETS = BUCKETS[1:]
BUCKET_DAYS = 30  # a bucket and a statement cycle are 30 days
LAST_BUCKET = len(BUCKETS) - 1


def bucket_of(days_past_due: np.ndarray) -> np.ndarray:
    """Bucket index: 0 current, 1 for 1-30, … 6 for 151-180 and beyond."""
    dpd = np.asarray(days_past_due, dtype=np.int32)
    return np.minimum((dpd + 29) // 30, 6).astype(np.int8)


class RollState(IntEnum):
    """An account's state for roll rates: its bucket, or charged off, or in legal."""

    CURRENT = 0
    DPD_1_30 = 1
    DPD_31_60 = 2
    DPD_61_90 = 3
    DPD_91_120 = 4
    DPD_121_150 = 5
    DPD_151_180 = 6
    CHARGED_OFF = 7
    LEGAL = 8


ROLL_STATES = (*BUCKETS, "charged_off", "legal")


class Status(IntEnum):
    """Where an account is in its life (``Portfolio`` and the engine's ``status`` array)."""

    ACTIVE = 0
    CURED = 1
    PAID_OFF = 2
    CHARGED_OFF = 3
    IN_LEGAL = 4
    LEGAL_CLOSED = 5


ACTIVE, CURED, PAID_OFF, CHARGED_OFF, IN_LEGAL, LEGAL_CLOSED = (int(s) for s in Status)

# ----------------------------------------------------------------------------- outcomes


class CallOutcome(IntEnum):
    """How a dial (or a visit) ends: the daily ``call_outcomes`` series' columns (the contact log's
    ``outcome`` is :class:`LogOutcome`, −1 for none)."""

    NO_ANSWER = 0
    WRONG_PARTY = 1
    RIGHT_PARTY = 2


NO_ANSWER, WRONG_PARTY, RIGHT_PARTY = (int(o) for o in CallOutcome)
CALL_OUTCOMES = tuple(o.name.lower() for o in CallOutcome)
NO_OUTCOME, NO_AGENT = -1, -1  # contact log rows without an outcome or an agent


class ConversationOutcome(IntEnum):
    """How a right-party conversation ends."""

    PROMISE = 0
    PLAN = 1
    DISPUTE = 2
    REFUSAL = 3


PROMISE, PLAN, DISPUTE, REFUSAL = (int(o) for o in ConversationOutcome)
OUTCOME_NAMES = ("promise_to_pay", "instalment_plan", "dispute", "refusal")


class LogOutcome(IntEnum):
    """The contact log's ``outcome`` column: how a dial or visit ended, and how a conversation did.

    The first three are :class:`CallOutcome`'s. A right-party contact whose
    conversation reached a result carries it instead of ``right_party``: the
    :class:`ConversationOutcome` (``promise`` … ``refusal``), or ``complaint``,
    which wins over it (an audit must see every complaint; the engine draws
    the complaint and the result independently, so the results' shares read
    from the conversations without a complaint are those of all of them).
    ``opt_out`` (on an SMS or e-mail row: no more of that channel) and
    ``cease_request`` (on a message or a conversation: no more contact) are
    the consumer's requests to stop, and win over everything else, for the
    same reason. Every value from ``right_party`` on is a right-party contact
    on a call, callback or visit; on a message's row an opt-out or a cease
    request is not one (:func:`reached_right_party` with ``channels``).
    """

    NO_ANSWER = 0
    WRONG_PARTY = 1
    RIGHT_PARTY = 2
    PROMISE = 3
    PLAN = 4
    DISPUTE = 5
    REFUSAL = 6
    COMPLAINT = 7
    OPT_OUT = 8
    CEASE_REQUEST = 9


LOG_OUTCOMES = tuple(o.name.lower() for o in LogOutcome)
COMPLAINT_LOGGED = int(LogOutcome.COMPLAINT)
# The consumer's requests to stop (Regulation F 12 CFR 1006.6(e), 1006.6(c); FDCPA §805(c)): an opt-out
# of the channel a message came by (SMS, e-mail), and a cease-communication request (any contact).
OPT_OUT_LOGGED = int(LogOutcome.OPT_OUT)
CEASE_LOGGED = int(LogOutcome.CEASE_REQUEST)


def logged_conversation(outcome: int) -> int:
    """The contact log's code for a conversation that ended in ``outcome`` (a :class:`ConversationOutcome`)."""
    return int(LogOutcome.PROMISE) + outcome


MESSAGE_CODES = (int(Channel.SMS), int(Channel.EMAIL), int(Channel.LETTER))  # a message has no conversation


def reached_right_party(log_outcomes: np.ndarray, channels: np.ndarray | None = None) -> np.ndarray:
    """Which contact-log rows are right-party contacts (a conversation, whatever its result).

    An opt-out is never one (it answers a message). With ``channels`` (the
    log's channel codes), a cease request on a message's row is not one
    either; without them, every ``cease_request`` row counts, which is
    exact whenever the scenario's messages cannot lead to one.
    """
    outcomes = np.asarray(log_outcomes)
    reached = (outcomes >= RIGHT_PARTY) & (outcomes != OPT_OUT_LOGGED)
    if channels is not None:
        reached &= ~np.isin(np.asarray(channels), MESSAGE_CODES)
    return reached

# ----------------------------------------------------------------------------- cash receipts


class PaymentKind(IntEnum):
    """What a cash receipt of ``--payments-out`` was (its ``kind`` column).

    ``payment``: the borrower's own repayment (the self-exciting process);
    ``instalment``: a kept promise to pay or a plan's instalment; ``legal``: what
    a legal action recovered (before charge-off, or an attorney's suit after it);
    ``agency``: what a collection agency collected from a charged-off account
    (the whole amount the consumer paid; the agency's fee is a cost); ``sale``:
    the price a debt buyer paid for a charged-off account.
    """

    PAYMENT = 0
    INSTALMENT = 1
    LEGAL = 2
    AGENCY = 3
    SALE = 4

    @property
    def label(self) -> str:
        return self.name.lower()


PAYMENT_KINDS = tuple(k.label for k in PaymentKind)

# ----------------------------------------------------------------------------- rules of contact


def fatigue(rate: float, recent_contacts, hardening: float = 0.0):
    """How much a borrower contacted ``recent_contacts`` times in 7 days still listens (1 = fully).

    A treatment's lift is multiplied by this; ``rate`` is ``behavior.fatigue``.
    Works on a number or an array of counts. It is ``1 / contact_pressure``:
    with ``hardening`` h > 0 (``[contact] hardening``) fatigue hardens, each
    further contact costing more than the last (see :func:`contact_pressure`).
    """
    if hardening == 0.0:
        return 1.0 / (1.0 + rate * recent_contacts)
    return 1.0 / contact_pressure(rate, recent_contacts, hardening)


def contact_pressure(rate: float, recent_contacts, hardening: float = 0.0):
    """How hard ``recent_contacts`` contacts in 7 days press on a borrower: ``(1 + rate·n)^(1 + h)``.

    The one formula of contact fatigue: a lift is divided by it
    (:func:`fatigue`), and the chances of a complaint, an opt-out and a
    cease-communication request are multiplied by it (capped at 1 by the
    caller). ``h = 0`` is the linear pressure of the original model; ``h > 0``
    makes it harden (convex in the contacts), so that the tenth contact in a
    week adds more annoyance, and takes away more lift, than the second.
    """
    base = 1.0 + rate * recent_contacts
    return base if hardening == 0.0 else base ** (1.0 + hardening)


PRIORITY_RULES = ("balance", "days_past_due", "expected_value", "account_id")


def priority_key(rule: str, *, balance: np.ndarray, days_past_due: np.ndarray, intensity: np.ndarray,
                 account_id: np.ndarray) -> np.ndarray:
    """The call list's order: ascending key first, ties broken by position (sort stably).

    ``balance`` highest first, ``days_past_due`` most overdue first,
    ``expected_value`` highest balance × repayment intensity first, and
    ``account_id`` lowest identifier first (a model without identifiers
    passes the accounts' positions).
    """
    if rule == "balance":
        return -balance
    if rule == "days_past_due":
        return -days_past_due.astype(np.float64)
    if rule == "expected_value":
        return -(balance * intensity)
    return account_id.astype(np.float64)
