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
``[contact]``), takes n as the account's logged contacts in its last
seven days up to and including this one (the engine's 7-day counters; the
order of a call and a batch on the same day is taken from the log's times;
without rules by account the engine counts a batch at 00:00 though it logs
it at its send time, so a call before the send time is damped by one
contact less here than in the engine).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..domain import Channel, fatigue
from ..scenario import BehaviorSection
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


# The lifts a contact log can tell apart, as ``[behavior.lift]`` names them (``legal_filing`` moves nothing
# the fit sees: a filing ends the account's observation).
FITTED_LIFTS = ("sms", "email", "letter", "call_attempt", "right_party_contact", "inbound_call", "field_visit")


def lift_design(contacts: Contacts, behavior: BehaviorSection, hardening: float = 0.0) -> np.ndarray:
    """Per contact row and :data:`FITTED_LIFTS` key: how much of that lift the row gives, fatigue included.

    A row's jump is ``design[row] @ lifts``: a call gives its ``call_attempt``
    lift and, when it reached the borrower, ``right_party_contact`` too; a
    visit that found the borrower ``field_visit``; each with the fatigue of
    the account's last seven days (see the module's docstring), hardened by ``[contact] hardening``
    (``hardening``) as the engine hardens it.
    """
    design = np.zeros((len(contacts), len(FITTED_LIFTS)))
    rows = np.arange(len(contacts))
    column = {Channel.SMS: 0, Channel.EMAIL: 1, Channel.LETTER: 2, Channel.CALL: 3, Channel.INBOUND_CALL: 5}
    for channel, k in column.items():
        design[rows[contacts.channel == channel], k] = 1.0
    reached = contacts.right_party
    design[rows[(contacts.channel == Channel.CALL) & reached], 4] = 1.0
    design[rows[(contacts.channel == Channel.FIELD_VISIT) & reached], 6] = 1.0
    # A batch's lift is damped by the contacts before it; a call's or a visit's by those and itself.
    automated = np.isin(contacts.channel, (Channel.SMS, Channel.EMAIL, Channel.LETTER))
    damping = fatigue(behavior.fatigue, _recent_contacts(contacts) - automated, hardening)
    return design * damping[:, None]


def base_lifts(behavior: BehaviorSection) -> np.ndarray:
    """The base scenario's lifts in :data:`FITTED_LIFTS` order."""
    return np.array([behavior.lift[key] for key in FITTED_LIFTS])


def contact_lifts(contacts: Contacts | None, behavior: BehaviorSection, lifts: np.ndarray | None = None,
                  hardening: float = 0.0) -> Lifts:
    """Each contact's lift at the end of its day, fatigue included; contacts that lift nothing are left out.

    ``lifts``: the lifts in :data:`FITTED_LIFTS` order (default: the base scenario's).
    """
    if contacts is None or len(contacts) == 0:
        return Lifts.none()
    size = lift_design(contacts, behavior, hardening) @ (base_lifts(behavior) if lifts is None else lifts)
    keep = size > 0
    day_end = np.floor(contacts.time[keep]) + 1.0
    return Lifts(position=contacts.position[keep], time=day_end, size=size[keep])


def contact_rows(contacts: Contacts, behavior: BehaviorSection, hardening: float = 0.0) -> tuple[Lifts, np.ndarray]:
    """Every contact that gives some lift as a jump whose size is its row number + 1 (so that the events
    of :func:`sim.calibration.cgw.prepare` can be traced back to their rows), and those rows' design."""
    design = lift_design(contacts, behavior, hardening)
    keep = np.flatnonzero(design.any(axis=1))
    day_end = np.floor(contacts.time[keep]) + 1.0
    return Lifts(position=contacts.position[keep], time=day_end, size=np.arange(keep.size) + 1.0), design[keep]


def _recent_contacts(contacts: Contacts) -> np.ndarray:
    """Per row: the account's contacts in its last seven days (this day and six before), up to this one."""
    position, day = contacts.position, np.floor(contacts.time)  # rows sorted by account then time
    # Rank within the account, and the rank of the account's first row from six days earlier.
    key = position.astype(np.float64) * 1e6 + day
    first_in_window = np.searchsorted(key, key - 6.0, side="left")
    return np.arange(position.size) - first_in_window + 1
