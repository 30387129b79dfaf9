"""What the logged contacts did to each borrower's intensity: the treatments' lifts, as known jumps.

In the engine a contact raises the repayment intensity by its lift (the
scenario's ``[behavior.lift]``), damped by contact fatigue, from the end of
the day it happened (:mod:`sim.engine.book` adds the day's lifts after the
evening's repayments). So with a contact log the fit knows these jumps and
takes them as given, at the base scenario's lifts; without one it assumes
there were none. Which lift a row gets, as the engine gives it:

* ``sms``, ``email``, ``letter``: that channel's lift;
* ``call``: ``call_attempt`` for every dial, plus ``right_party_contact`` when
  it reached the borrower;
* ``inbound_call``: ``inbound_call``; ``field_visit`` that found the borrower:
  ``field_visit``; ``legal``: none (filing ends the observation).

Fatigue, 1/(1 + rate·n), takes n as the account's logged contacts in its last
seven days up to and including this one (the engine's 7-day counters; the
order of a call and a batch on the same day is taken from the log's times,
which the engine's counters approximate to within that day).
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


def contact_lifts(contacts: Contacts | None, behavior: BehaviorSection) -> Lifts:
    """Each contact's lift at the end of its day, fatigue included; contacts that lift nothing are left out."""
    if contacts is None or len(contacts) == 0:
        return Lifts.none()
    lift = behavior.lift
    by_channel = np.zeros(len(Channel))
    for channel in (Channel.SMS, Channel.EMAIL, Channel.LETTER):
        by_channel[channel] = lift[channel.label]
    by_channel[Channel.CALL] = lift["call_attempt"]
    by_channel[Channel.INBOUND_CALL] = lift["inbound_call"]
    size = by_channel[contacts.channel]
    reached = contacts.right_party
    size = size + np.where((contacts.channel == Channel.CALL) & reached, lift["right_party_contact"], 0.0)
    size = size + np.where((contacts.channel == Channel.FIELD_VISIT) & reached, lift["field_visit"], 0.0)
    recent = _recent_contacts(contacts)
    # A batch's lift is damped by the contacts before it; a call's or a visit's by those and itself.
    automated = np.isin(contacts.channel, (Channel.SMS, Channel.EMAIL, Channel.LETTER))
    size = size * fatigue(behavior.fatigue, recent - automated)
    keep = size > 0
    day_end = np.floor(contacts.time[keep]) + 1.0
    return Lifts(position=contacts.position[keep], time=day_end, size=size[keep])


def _recent_contacts(contacts: Contacts) -> np.ndarray:
    """Per row: the account's contacts in its last seven days (this day and six before), up to this one."""
    position, day = contacts.position, np.floor(contacts.time)  # rows sorted by account then time
    # Rank within the account, and the rank of the account's first row from six days earlier.
    key = position.astype(np.float64) * 1e6 + day
    first_in_window = np.searchsorted(key, key - 6.0, side="left")
    return np.arange(position.size) - first_in_window + 1
