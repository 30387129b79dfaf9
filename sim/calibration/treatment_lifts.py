"""What the logged contacts did to each borrower's intensity: the treatments' lifts, as known jumps.

In the engine a contact raises the repayment intensity by its lift (the
scenario's ``[behavior.lift]``), damped by contact fatigue, from the end of
the day it happened (:mod:`sim.engine.book` adds the day's lifts after the
evening's repayments). So with a contact log the jumps' times and which lifts they
are made of are known, and the lifts themselves are fitted with the rest
(:mod:`.contact_fit`, through :func:`lift_design`); without one the fit
assumes there were none. Which lift a row gets, as the engine gives it:

* ``sms``, ``email``, ``letter``: that channel's lift;
* ``call``: ``call_attempt`` for every dial, plus ``right_party_contact`` when
  it reached the borrower;
* ``inbound_call``: ``inbound_call``; ``field_visit`` that found the borrower:
  ``field_visit``; ``legal``: none (filing ends the observation).

Fatigue, 1/(1 + rate·n)^(1 + hardening) (``[contact] hardening``, 0 without
``[contact]``), takes n as the engine's lifts read it (:meth:`sim.engine.ladder.Ladder.reach`,
:meth:`sim.engine.contacts.ContactCounters.recent_contacts` for a dial's and a conversation's lift): the
account's pressure contacts (messages, dials, visits; a callback the borrower makes or a filing is none)
of the six days before, plus today's as the engine has counted them by then:

* a message: today's messages sent before it (the batches go into the 7-day counters as they go out; the
  day's dials and visits only at midnight, so they do not damp it);
* a dial, a visit or a callback: its lifts come as it ends, so today's dials and visits made by then (a
  dial or a visit counts from the moment it is made, itself included), and today's messages: all of them
  without rules by account (the ladder counts every batch at 00:00, whatever send time it is logged at),
  those sent by then with them (each batch at its send time in the consumer's local time). The log has no
  lengths: a contact ends its team's mean handle time after it began, by how it was answered (as the
  replay, :mod:`sim.engine.replay`, ends it; with exponential handle times a contact that overlaps
  another's end by minutes may be counted differently from the run).

The order of two messages on one day is taken from the log's times (the engine's is its ladder's step
order; they differ only when a later step is sent earlier in the day). ``tests/test_calibration_contacts.py``
holds this count to the lift the engine added, account by account and day by day.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..compliance import ContactRules
from ..domain import MINUTES_PER_DAY, NO_ANSWER, RIGHT_PARTY, WRONG_PARTY, Channel, fatigue
from ..engine.standing import needs_standing
from ..portfolio import Portfolio
from ..scenario import BehaviorSection, Scenario
from .history_files import Contacts


@dataclass(frozen=True)
class Lifts:
    """Known jumps of the intensity: account position, time (the end of the contact's day), size."""

    position: np.ndarray
    time: np.ndarray
    size: np.ndarray

    @classmethod
    def none(cls) -> Lifts:
        return cls(np.zeros(0, np.int64), np.zeros(0), np.zeros(0))


@dataclass(frozen=True)
class ContactTiming:
    """When the engine counted a day's contacts: the messages at 00:00 (no rules by account) or at their send
    time, and each agent's contact's length in minutes (by :class:`~sim.domain.CallOutcome` for a dial)."""

    messages_at_midnight: bool = True
    handle: dict[int, tuple[float, float, float]] = field(default_factory=dict)

    @classmethod
    def of(cls, scenario: Scenario, portfolio: Portfolio) -> ContactTiming:
        """The run's timing, as the engine sets it up: rules by account when
        :func:`sim.engine.standing.needs_standing` says so, the first call and field teams' mean handle times."""
        at_midnight = not needs_standing(scenario, portfolio, ContactRules.from_section(scenario.compliance))
        first = {}
        for team in scenario.teams.values():
            first.setdefault(team.kind, team.handle_minutes)
        handle = {}
        if "call" in first:
            h = first["call"]
            handle[int(Channel.CALL)] = (h.no_answer, h.wrong_party, h.right_party)
            handle[int(Channel.INBOUND_CALL)] = (h.inbound,) * 3
        if "field" in first:
            handle[int(Channel.FIELD_VISIT)] = (first["field"].field_visit,) * 3
        return cls(at_midnight, handle)

    def ends(self, contacts: Contacts) -> np.ndarray:
        """Each row's end (days): a message's its send time, an agent's contact's after its handle time."""
        minutes = np.zeros(len(contacts))
        answered = np.where(contacts.right_party, RIGHT_PARTY, NO_ANSWER)
        if contacts.outcome is not None:
            answered = np.where(~contacts.right_party & (contacts.outcome == WRONG_PARTY), WRONG_PARTY, answered)
        for channel, lengths in self.handle.items():
            mine = contacts.channel == channel
            minutes[mine] = np.asarray(lengths)[answered[mine]]
        return contacts.time + minutes / MINUTES_PER_DAY


# The lifts a contact log can tell apart, as ``[behavior.lift]`` names them (``legal_filing`` moves nothing
# the fit sees: a filing ends the account's observation).
FITTED_LIFTS = ("sms", "email", "letter", "call_attempt", "right_party_contact", "inbound_call", "field_visit")


def lift_design(contacts: Contacts, behavior: BehaviorSection, hardening: float = 0.0,
                timing: ContactTiming | None = None) -> np.ndarray:
    """Per contact row and :data:`FITTED_LIFTS` key: how much of that lift the row gives, fatigue included.

    A row's jump is ``design[row] @ lifts``: a call gives its ``call_attempt``
    lift and, when it reached the borrower, ``right_party_contact`` too; a
    visit that found the borrower ``field_visit``; each with the fatigue of
    the account's last seven days (see the module's docstring), hardened by ``[contact] hardening``
    (``hardening``) as the engine hardens it, the contacts counted in the order ``timing`` says (default:
    messages at 00:00, contacts of no length).
    """
    design = np.zeros((len(contacts), len(FITTED_LIFTS)))
    rows = np.arange(len(contacts))
    column = {Channel.SMS: 0, Channel.EMAIL: 1, Channel.LETTER: 2, Channel.CALL: 3, Channel.INBOUND_CALL: 5}
    for channel, k in column.items():
        design[rows[contacts.channel == channel], k] = 1.0
    reached = contacts.right_party
    design[rows[(contacts.channel == Channel.CALL) & reached], 4] = 1.0
    design[rows[(contacts.channel == Channel.FIELD_VISIT) & reached], 6] = 1.0
    damping = fatigue(behavior.fatigue, pressure_counts(contacts, timing), hardening)
    return design * damping[:, None]


def base_lifts(behavior: BehaviorSection) -> np.ndarray:
    """The base scenario's lifts in :data:`FITTED_LIFTS` order."""
    return np.array([behavior.lift[key] for key in FITTED_LIFTS])


def contact_lifts(contacts: Contacts | None, behavior: BehaviorSection, lifts: np.ndarray | None = None,
                  hardening: float = 0.0, timing: ContactTiming | None = None) -> Lifts:
    """Each contact's lift at the end of its day, fatigue included; contacts that lift nothing are left out.

    ``lifts``: the lifts in :data:`FITTED_LIFTS` order (default: the base scenario's).
    """
    if contacts is None or len(contacts) == 0:
        return Lifts.none()
    size = lift_design(contacts, behavior, hardening, timing) @ (base_lifts(behavior) if lifts is None else lifts)
    keep = size > 0
    day_end = np.floor(contacts.time[keep]) + 1.0
    return Lifts(position=contacts.position[keep], time=day_end, size=size[keep])


def contact_rows(contacts: Contacts, behavior: BehaviorSection, hardening: float = 0.0,
                 timing: ContactTiming | None = None) -> tuple[Lifts, np.ndarray]:
    """Every contact that gives some lift as a jump whose size is its row number + 1 (so that the events
    of :func:`sim.calibration.cgw.prepare` can be traced back to their rows), and those rows' design."""
    design = lift_design(contacts, behavior, hardening, timing)
    keep = np.flatnonzero(design.any(axis=1))
    day_end = np.floor(contacts.time[keep]) + 1.0
    return Lifts(position=contacts.position[keep], time=day_end, size=np.arange(keep.size) + 1.0), design[keep]


MESSAGES = (Channel.SMS, Channel.EMAIL, Channel.LETTER)
AGENT_PRESSURE = (Channel.CALL, Channel.FIELD_VISIT)  # a callback is the borrower's own call: no pressure


def pressure_counts(contacts: Contacts, timing: ContactTiming | None = None) -> np.ndarray:
    """Per row: the contacts that damp its lift, as the engine counts them (see the module's docstring)."""
    timing = timing or ContactTiming()
    position, time = contacts.position, contacts.time  # rows sorted by account then time
    day = np.floor(time)
    message = np.isin(contacts.channel, MESSAGES)
    agent = np.isin(contacts.channel, AGENT_PRESSURE)
    rows = np.arange(position.size)

    def upto(counted: np.ndarray, end: np.ndarray) -> np.ndarray:
        """The counted rows before row index ``end`` (exclusive), by a running sum."""
        return np.r_[0, np.cumsum(counted)][end]

    # Accounts × days as one sorted key (days < 1e5), so that a window is a searchsorted range.
    base = position.astype(np.float64) * 1e5
    key = base + day
    week_start = np.searchsorted(key, key - 6.0, side="left")
    today = np.searchsorted(key, key, side="left")
    tomorrow = np.searchsorted(key, key, side="right")
    earlier_days = upto(message | agent, today) - upto(message | agent, week_start)
    # The rows of the day begun by the time this row's lift comes (a message: its send time; an agent's
    # contact: its end; a tie goes first, as a message sent at the minute a contact ends does).
    begun = np.minimum(np.searchsorted(base + time, base + timing.ends(contacts), side="right"), tomorrow)
    # Today's messages a row's lift sees: before it for a message; for an agent's contact all the day's
    # (counted at 00:00) or those sent by its end.
    seen = np.where(message, rows, tomorrow if timing.messages_at_midnight else begun)
    messages_today = upto(message, seen) - upto(message, today)
    # Today's dials and visits: none for a message (folded in at midnight); for the others those begun by its end.
    agents_today = np.where(message, 0, upto(agent, np.maximum(begun, rows + 1)) - upto(agent, today))
    return earlier_days + messages_today + agents_today
