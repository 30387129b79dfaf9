"""Contact history and the rules' counters: 7-day rings, today's counts, the checks before a contact.

Three rolling 7-day counters (dial attempts, connected calls, all contacts)
are kept as a ring of seven daily rows plus a running total, so a rule check
is one array read. During the day, calls are counted in plain dicts and
sets (an agent's call is the engine's innermost loop); :meth:`fold_today`
adds them to the arrays at 24:00 in one vector step. Those containers are
cleared in place, never replaced: agent processes hold them in locals, and a
call that ends after midnight counts on the new day.

Also here: each account's failed attempts in a row, its last conversation
(the quiet period) and the day each ladder step last acted on it. Imports
:mod:`sim.domain`, the rules and the tally.
"""

from __future__ import annotations

import numpy as np

from ..compliance import ContactRules
from ..domain import Channel
from .tally import Tally

NEVER = -(10**6)
NO_CAP = 10**9


class ContactCounters:
    """Per-account contact counts for the rules, and today's counts of the call centre."""

    def __init__(self, rules: ContactRules, accounts: int, steps: int, tally: Tally):
        n = accounts
        self.tally = tally
        self.attempt_ring = np.zeros((7, n), dtype=np.int8)
        self.attempts_7d = np.zeros(n, dtype=np.int16)
        self.connect_ring = np.zeros((7, n), dtype=np.int8)
        self.connects_7d = np.zeros(n, dtype=np.int16)
        self.contact_ring = np.zeros((7, n), dtype=np.int8)
        self.contacts_7d = np.zeros(n, dtype=np.int16)
        self.failed = np.zeros(n, dtype=np.int32)
        self.last_conversation = np.full(n, NEVER, dtype=np.int32)
        self.last_step_day = np.full((max(steps, 1), n), NEVER, dtype=np.int32)
        # The accounts written into each day's row of the rings (arrays of positions): the morning that clears
        # a row clears those only, not every row of the book.
        self._ring_written: list[list[np.ndarray]] = [[] for _ in range(7)]
        # The rules, resolved to plain numbers once (no cap: a number never reached).
        self.window = (rules.window_start, rules.window_end)
        self.quiet_days = rules.quiet_days_after_conversation
        self.cap_attempts_7d = _cap(rules.max_call_attempts_7d)
        self.cap_attempts_day = _cap(rules.max_attempts_per_day)
        self.cap_connects_day = _cap(rules.max_connected_calls_per_day)
        self.cap_conversations_7d = _cap(rules.max_conversations_7d)
        # Today's counts, folded into the arrays at 24:00.
        self.today_attempts: dict[int, int] = {}
        self.today_connects: dict[int, int] = {}
        self.today_contacts: dict[int, int] = {}
        self.today_steps: list[int] = []  # step index, account: two entries per dialled account
        self.today_failed: dict[int, int] = {}
        self.failed_reset_today: set[int] = set()
        self.conversed_today: set[int] = set()
        self.blocked_today: set[int] = set()  # took a plan or disputed today: no more calls
        self.outcomes_today = [0, 0, 0]
        # Rules by account (sim.engine.standing), when the run has them: then the checks below read each
        # account's rule set instead of the one set of scalars.
        self.standing = None
        self.reset_today()

    def reset_today(self) -> None:
        # Cleared in place, never replaced (see the module's docstring).
        for container in (self.today_attempts, self.today_connects, self.today_contacts, self.today_steps,
                          self.today_failed, self.failed_reset_today, self.conversed_today, self.blocked_today):
            container.clear()
        self.outcomes_today[:] = (0, 0, 0)
        self.refusals_today = 0
        self.busy_today = 0.0

    def roll_forward(self, day: int) -> None:
        """Morning: the day that leaves the 7-day window is subtracted and its row cleared for today (at the
        accounts written into that row; every other account's entry there is already zero)."""
        slot = day % 7
        written = self._ring_written[slot]
        if not written:
            return
        # Positions may repeat (a call and a message on the same day): every gather below is taken before its
        # scatter, so a repeated position writes the same value twice; sorting them distinct cost more than
        # the repeats (at a million accounts 488 k positions, 437 k distinct: 7.0 against 4.7 ms of CPU).
        idx = np.concatenate(written)
        written.clear()
        for ring, total in ((self.attempt_ring, self.attempts_7d), (self.connect_ring, self.connects_7d),
                            (self.contact_ring, self.contacts_7d)):
            row = ring[slot]  # the slot's row, then 1-D gathers and scatters (cheaper than [slot, idx])
            total[idx] = (total[idx] - row[idx]).astype(total.dtype, copy=False)
            row[idx] = 0

    def fold_today(self, day: int) -> None:
        """Fold the day's call counters into the rolling 7-day arrays and the tally."""
        slot = day % 7
        for counts, ring, total in ((self.today_attempts, self.attempt_ring, self.attempts_7d),
                                    (self.today_connects, self.connect_ring, self.connects_7d),
                                    (self.today_contacts, self.contact_ring, self.contacts_7d)):
            if counts:
                idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                add = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
                ring[slot][idx] += add.astype(ring.dtype)  # distinct accounts (a dict's keys): a 1-D scatter
                total[idx] += add.astype(total.dtype)
                self._ring_written[slot].append(idx)
        if self.today_steps:
            pairs = np.fromiter(self.today_steps, dtype=np.int64, count=len(self.today_steps))
            self.last_step_day[pairs[0::2], pairs[1::2]] = day
        if self.failed_reset_today:
            self.failed[np.fromiter(self.failed_reset_today, dtype=np.int64)] = 0
        if self.today_failed:
            idx = np.fromiter(self.today_failed.keys(), dtype=np.int64, count=len(self.today_failed))
            self.failed[idx] += np.fromiter(self.today_failed.values(), dtype=np.int32, count=len(idx))
        tally = self.tally
        tally.contacts[day, Channel.CALL] += sum(self.outcomes_today)
        tally.call_outcomes[day] += self.outcomes_today
        tally.refusals[day] += self.refusals_today
        tally.agent_busy[day] += self.busy_today
        self.reset_today()

    def carry(self, day: int, idx: np.ndarray, contacts: np.ndarray, attempts: np.ndarray,
              connects: np.ndarray) -> None:
        """A day before the run (``day`` < its first, at most 7 before): accounts ``idx`` (distinct) had these
        contacts, dial attempts and connected calls, as :meth:`fold_today` would have folded them. A run that
        continues a history (a backtest's day K) starts with the history's last 7 days in its window."""
        slot = day % 7
        for counts, ring, total in ((attempts, self.attempt_ring, self.attempts_7d),
                                    (connects, self.connect_ring, self.connects_7d),
                                    (contacts, self.contact_ring, self.contacts_7d)):
            ring[slot, idx] += counts.astype(ring.dtype)
            total[idx] += counts.astype(total.dtype)
        self._ring_written[slot].append(np.asarray(idx, dtype=np.int64))

    def count_contacts(self, idx: np.ndarray, day: int, recent: np.ndarray | None = None) -> None:
        """A batch of contacts (automated channels) counts at once; ``recent``: ``contacts_7d[idx]`` as it is
        now, when the caller has read it (not read again)."""
        slot = day % 7
        self.contact_ring[slot][idx] += 1  # the slot's row, then a 1-D scatter (a fraction of [slot, idx]'s cost)
        if recent is None:
            self.contacts_7d[idx] += 1
        else:
            self.contacts_7d[idx] = recent + 1  # idx distinct: what += 1 writes
        self._ring_written[slot].append(np.asarray(idx, dtype=np.int64))

    def count_agent_contact(self, i: int) -> None:
        """A dial or a visit to account ``i`` counts among its contacts today, from the moment it is made.

        A callback the borrower starts does not count (it is no pressure on them): with the messages
        (:meth:`count_contacts`) these are the contacts that damp a lift (:func:`sim.domain.fatigue`), the
        same for the engine's agents (the call loop has this written out) and a replayed log's.
        """
        self.today_contacts[i] = self.today_contacts.get(i, 0) + 1

    def recent_contacts(self, i: int) -> int:
        """Contacts of account ``i`` in the last 7 days, today's included."""
        return self.contacts_7d.item(i) + self.today_contacts.get(i, 0)  # .item(): a Python int, cheaply

    def refused_this_morning(self, idx: np.ndarray, day: int) -> np.ndarray:
        """Which of these accounts the 7-day caps and the quiet period, as of this morning, forbid to call today."""
        if self.standing is not None:
            return self._refused_by_account(idx, day)
        refused = np.zeros(idx.size, dtype=bool)
        if self.quiet_days:
            refused |= (day - self.last_conversation[idx]) < self.quiet_days
        if self.cap_attempts_7d < NO_CAP:
            refused |= self.attempts_7d[idx] >= self.cap_attempts_7d
        if self.cap_conversations_7d < NO_CAP:
            refused |= self.connects_7d[idx] >= self.cap_conversations_7d
        if self.cap_attempts_day <= 0 or self.cap_connects_day <= 0:
            refused[:] = True
        return refused

    def _refused_by_account(self, idx: np.ndarray, day: int) -> np.ndarray:
        """:meth:`refused_this_morning` with each account's own rule set (sim.engine.standing)."""
        st = self.standing
        sets = st.rule_set[idx]
        # Each set's limit by np.take from its small array: the same numbers as [sets], a fifth less time over
        # a call list of several hundred thousand accounts.
        refused = (day - self.last_conversation[idx]) < np.take(st.quiet_days, sets)
        refused |= self.attempts_7d[idx] >= np.take(st.cap_attempts_7d, sets)
        refused |= self.connects_7d[idx] >= np.take(st.cap_conversations_7d, sets)
        # A rule set allowing no call a day refuses all its accounts: read by set, and only when one does.
        no_calls = (st.cap_attempts_day <= 0) | (st.cap_connects_day <= 0)
        if no_calls.any():
            refused |= no_calls[sets]
        return refused

    def refused_later_today(self, i: int, tried: int, day: int) -> bool:
        """Rules that today's earlier attempts or conversations may now break."""
        connected = self.today_connects.get(i, 0)
        st = self.standing
        if st is not None:
            r = st.rule_set.item(i)
            return bool(
                tried >= st.cap_attempts_day.item(r)
                or connected >= st.cap_connects_day.item(r)
                or (st.quiet_days.item(r) > 0 and i in self.conversed_today)
                or self.attempts_7d.item(i) + tried >= st.cap_attempts_7d.item(r)
                or self.connects_7d.item(i) + connected >= st.cap_conversations_7d.item(r)
            )
        return (
            tried >= self.cap_attempts_day
            or connected >= self.cap_connects_day
            or (self.quiet_days > 0 and i in self.conversed_today)
            or self.attempts_7d.item(i) + tried >= self.cap_attempts_7d  # .item(): a Python int, cheaply
            or self.connects_7d.item(i) + connected >= self.cap_conversations_7d
        )

    def record_conversation(self, i: int, day: int) -> None:
        """A telephone conversation: starts the quiet period, resets failed attempts."""
        self.last_conversation[i] = day
        self.conversed_today.add(i)
        self.today_failed[i] = 0
        self.failed_reset_today.add(i)


def _cap(value: int | None) -> int:
    return value if value is not None else NO_CAP
