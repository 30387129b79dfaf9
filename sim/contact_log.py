"""The contact log: every contact the collector made or received, one row each.

Kept as columns (NumPy arrays) appended in chunks during a run: automated
channels add whole batches at once, agents add one row per call or visit.
It is what the compliance audit replays and what ``--contacts-out`` writes.
A conversation's row carries its result (promise, plan, dispute, refusal or
complaint; :class:`~sim.domain.LogOutcome`) instead of ``right_party``.
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import numpy as np

from .domain import ALL_CHANNELS, LOG_OUTCOMES, NO_AGENT, NO_OUTCOME, reached_right_party
from .domain import CHANNEL_CODE as CHANNEL_CODE
from .export_safety import safe_cell
from .io import write_atomic

LOG_CHANNELS = ALL_CHANNELS  # channel codes are sim.domain.Channel values
ROW = 6  # an agent's row: account, minute, channel, outcome, agent, duration


class ContactLogBuilder:
    """Collects rows during a run; :meth:`build` turns them into a :class:`ContactLog`."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        # The consumers' facts (sim.consumers.ConsumerFacts), set by a run with [contact] or rules that
        # follow the consumer; the built log carries them for the audit.
        self.facts = None
        # A batch's rows as given: accounts, minutes, channel code, outcomes (None: none). The columns every
        # row of a batch shares (channel, no agent, no duration) are made once for all batches in build():
        # a valuation's sample run sends about a thousand small batches, each four arrays fewer.
        self._chunks: list[tuple[np.ndarray, np.ndarray, int, np.ndarray | None]] = []
        # The agents' rows, flat: account, minute, channel, outcome, agent, duration, one row after another.
        # Numbers in one list, not a tuple a row: a run ends with tens of thousands of rows, and tuples are
        # objects the cycle collector walks when it next runs (sim_valuation holds it off during a run).
        self._flat: list[float] = []

    def add_batch(self, accounts: np.ndarray, minute, channel: str, outcomes: np.ndarray | None = None) -> None:
        """A batch of messages: ``minute`` one for all or one each; ``outcomes`` (opt-outs, cease requests)
        one each, or none."""
        if not self.enabled or accounts.size == 0:
            return
        n = accounts.size
        minute = np.asarray(minute, dtype=np.float64)
        # One minute each (a local delivery: copied as given) or one for all; not np.broadcast_to, whose
        # Python-level checks cost more than the copy for a valuation run's thousand small batches.
        minutes = minute.copy() if minute.shape == (n,) else np.full(n, minute)
        self._chunks.append((
            accounts.astype(np.int64, copy=True),
            minutes,
            CHANNEL_CODE[channel],
            None if outcomes is None else outcomes.astype(np.int8),
        ))

    def add(self, account: int, minute: float, channel: int, outcome: int, agent: int, duration: float) -> int:
        """One contact an agent made or took; returns its row (−1 when the log is off) for :meth:`conclude`."""
        if not self.enabled:
            return -1
        flat = self._flat
        flat.extend((account, minute, channel, outcome, agent, duration))
        return len(flat) // ROW - 1

    def agent_rows_list(self) -> list[float]:
        """The agents' rows as the flat list they are kept in, for the call agents' loop, which appends to it
        itself (:meth:`sim.engine.calls.CallCentre.agent_shift`: a method call at every dial costs more than
        the append): ``ROW`` numbers a row as :meth:`add` takes them, row ``r``'s outcome at ``r * ROW + 3``."""
        return self._flat

    def conclude(self, row: int, outcome: int | None) -> None:
        """A conversation's result (a :class:`~sim.domain.LogOutcome`) replaces ``right_party`` on its row.

        The row is written when the contact starts (so rows keep the order of
        events) and the result is known only when the conversation ends.
        """
        if row >= 0 and outcome is not None:
            self._flat[row * ROW + 3] = outcome

    def agent_rows(self) -> np.ndarray:
        """The contacts agents made or took so far (calls, callbacks, visits): account, minute, agent, duration."""
        if not self._flat:
            return np.zeros((0, 4))
        rows = self._rows_array()
        return rows[rows[:, 4] >= 0][:, [0, 1, 4, 5]]

    def _rows_array(self) -> np.ndarray:
        """The agents' rows as a (rows, 6) float64 array."""
        return np.array(self._flat, dtype=np.float64).reshape(-1, ROW)

    def build(self, account_ids: np.ndarray, agent_names: list[str], start_date: dt.date) -> ContactLog:
        columns: list[list[np.ndarray]] = [[] for _ in range(6)]
        if self._chunks:
            sizes = [chunk[0].size for chunk in self._chunks]
            total = sum(sizes)
            columns[0].extend(chunk[0] for chunk in self._chunks)
            columns[1].extend(chunk[1] for chunk in self._chunks)
            columns[2].append(np.repeat(np.array([chunk[2] for chunk in self._chunks], dtype=np.int8), sizes))
            columns[3].extend(np.full(n, NO_OUTCOME, dtype=np.int8) if chunk[3] is None else chunk[3]
                              for chunk, n in zip(self._chunks, sizes, strict=True))
            columns[4].append(np.full(total, NO_AGENT, dtype=np.int32))
            columns[5].append(np.zeros(total, dtype=np.float64))
        if self._flat:
            rows = self._rows_array()
            dtypes = (np.int64, np.float64, np.int8, np.int8, np.int32, np.float64)
            for k, (col, dtype) in enumerate(zip(columns, dtypes, strict=True)):
                col.append(rows[:, k].astype(dtype))
        if columns[0]:
            index, minute, channel, outcome, agent, duration = (np.concatenate(c) for c in columns)
        else:
            index = np.zeros(0, np.int64)
            minute, duration = np.zeros(0), np.zeros(0)
            channel, outcome = np.zeros(0, np.int8), np.zeros(0, np.int8)
            agent = np.zeros(0, np.int32)
        order = np.lexsort((index, minute))
        log = ContactLog(
            account=account_ids[index[order]],
            minute=minute[order],
            channel=channel[order],
            outcome=outcome[order],
            agent=agent[order],
            duration=duration[order],
            agent_names=tuple(agent_names),
            start_date=start_date,
        )
        log.facts = self.facts
        return log


class ContactLog:
    """Columns of the contact log, sorted by time."""

    def __init__(self, account, minute, channel, outcome, agent, duration, agent_names, start_date):
        self.account = account
        self.minute = minute
        self.channel = channel
        self.outcome = outcome
        self.agent = agent
        self.duration = duration
        self.agent_names = agent_names
        self.start_date = start_date
        self.facts = None  # the consumers' facts the audit checks against (sim.consumers), when the run had them

    def __len__(self) -> int:
        return int(self.account.size)

    def channel_names(self) -> np.ndarray:
        return np.array(LOG_CHANNELS, dtype=object)[self.channel] if len(self) else np.array([], dtype=object)

    def outcome_names(self) -> np.ndarray:
        names = np.array(("",) + LOG_OUTCOMES, dtype=object)
        return names[self.outcome + 1] if len(self) else np.array([], dtype=object)

    def right_party(self) -> np.ndarray:
        """Rows that reached the borrower: ``right_party`` or any conversation result (a request to stop
        that answered a message is not one)."""
        return reached_right_party(self.outcome, self.channel)

    def timestamps(self) -> list[str]:
        """ISO 8601 local times (seconds)."""
        base = dt.datetime.combine(self.start_date, dt.time())
        seconds = np.floor(self.minute * 60).astype(np.int64)
        return [(base + dt.timedelta(seconds=int(s))).isoformat() for s in seconds]

    def write_csv(self, path: str | Path) -> None:
        """Write ``account_id, timestamp, channel, outcome, agent`` atomically."""
        path = Path(path)
        names = self.channel_names()
        outcomes = self.outcome_names()
        stamps = self.timestamps()
        # Agent names carry the scenario's team names: the user's text, kept spreadsheet-safe.
        safe_names = [safe_cell(name) for name in self.agent_names]
        agents = [safe_names[a] if a >= 0 else "" for a in self.agent.tolist()]
        rows = zip(self.account.tolist(), stamps, names.tolist(), outcomes.tolist(), agents, strict=True)

        def write(tmp: str) -> None:
            with open(tmp, "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["account_id", "timestamp", "channel", "outcome", "agent"])
                writer.writerows(rows)

        write_atomic(path, write, option="--contacts-out")
