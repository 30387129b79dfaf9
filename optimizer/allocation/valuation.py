"""What a valuation hands the allocation: values and resource use per segment × treatment, and per account of a ladder.

The valuation — the engine run on a stratified sample of each segment
(:mod:`optimizer.allocation.sim_valuation`) — fills these, and the LP, the
plan's summary and the search read nothing else. :func:`sample_accounts` is
the stratified sample of each segment it runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from sim.domain import ROLL_STATES

from .objective import HorizonBook
from .segments import Segments
from .treatments import Treatment


@dataclass(frozen=True)
class LadderOutcome:
    """A whole ladder's run, per account of the book: collections, spend, work by team and week, the book at the end."""

    collected: np.ndarray
    cost: np.ndarray
    minutes: dict[str, np.ndarray]  # team -> (weeks, accounts); legal teams count filings
    open_at_end: np.ndarray
    # The book at the horizon (:class:`optimizer.allocation.objective.HorizonBook`): balance by
    # roll state (accounts, states), balance written off, accounts reaching 31 dpd.
    balance_end: np.ndarray | None = None
    written_off: np.ndarray | None = None
    rolled_past_30: np.ndarray | None = None

    @classmethod
    def from_ledger(cls, ledger, minutes: dict[str, np.ndarray] | None = None) -> LadderOutcome:
        """A run's account ledger as a whole ladder's outcome: collections and variable spend per row, and the
        book at the horizon (each row's balance in the roll state it ended in, written off, rolled past 30)."""
        rows = ledger.state_end.size
        end = np.zeros((rows, len(ROLL_STATES)))
        end[np.arange(rows), ledger.state_end] = ledger.balance_end
        still_open = (ledger.state_end >= 1) & (ledger.state_end <= 6)
        return cls(collected=ledger.collected, cost=ledger.total_spend, minutes=minutes or {},
                   open_at_end=still_open.astype(float), balance_end=end, written_off=ledger.written_off,
                   rolled_past_30=ledger.rolled_past_30.astype(float))

    def rows(self, keep: np.ndarray) -> LadderOutcome:
        """The outcome of the rows ``keep`` selects (a boolean mask over the accounts) alone."""
        def cut(a):
            return None if a is None else a[keep]

        return LadderOutcome(collected=self.collected[keep], cost=self.cost[keep],
                             minutes={team: cube[:, keep] for team, cube in self.minutes.items()},
                             open_at_end=self.open_at_end[keep], balance_end=cut(self.balance_end),
                             written_off=cut(self.written_off), rolled_past_30=cut(self.rolled_past_30))

    def book(self) -> HorizonBook:
        return HorizonBook(self.balance_end, self.written_off, self.rolled_past_30)

    @property
    def net(self) -> np.ndarray:
        return self.collected - self.cost


@dataclass(frozen=True)
class Valuation:
    """Per segment and treatment: expected net value and resource use over the horizon (segment totals)."""

    segments: Segments
    treatments: tuple[Treatment, ...]
    days: int
    value: np.ndarray  # (S, T) expected collections minus variable spend
    collected: np.ndarray  # (S, T)
    spend: np.ndarray  # (S, T) money
    minutes: dict[str, np.ndarray]  # team -> (S, T, weeks)
    # The value of the book left at the horizon (:mod:`optimizer.allocation.objective`), (S, T)
    # money, and the book itself: balance by roll state (S, T, states), written
    # off (S, T), accounts reaching 31 days past due (S, T).
    horizon: np.ndarray | None = None
    balance_end: np.ndarray | None = None
    written_off: np.ndarray | None = None
    rolled_past_30: np.ndarray | None = None

    @property
    def weeks(self) -> int:
        return math.ceil(self.days / 7)

    @property
    def objective(self) -> np.ndarray:
        """What the LP maximises per segment and treatment: net collections plus the horizon's book."""
        return self.value if self.horizon is None else self.value + self.horizon


def sample_accounts(segments: Segments, per_segment: int, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A sample stratified by balance: up to ``per_segment`` accounts of each segment and the weight of each.

    A segment with more accounts is sorted by balance and cut into
    ``per_segment`` strata of (nearly) equal size; one account is drawn from
    each and stands for its stratum. Collections follow the balance, and a
    segment's balances are skewed (the top band is open-ended): drawn at
    random, 40 accounts put a segment's balance up to 24 % off (cn_2025, 5,000
    accounts) and 200 still put the 1-30 bucket 5 % high, a bias every ladder's
    value shared; stratified, the worst segment is 5 % off with 40 and the
    bucket within 0.5 % with 200.
    """
    rng = rng or np.random.default_rng(0)
    balance = segments.portfolio.balance
    idx_all = np.flatnonzero(segments.member >= 0)
    order = np.lexsort((balance[idx_all], segments.member[idx_all]))  # by segment, then balance
    idx_all = idx_all[order]
    starts = np.searchsorted(segments.member[idx_all], np.arange(len(segments)))
    chosen, weights = [], []
    for k in range(len(segments)):
        members = idx_all[starts[k]:starts[k] + segments.accounts[k]]
        size = np.ones(members.size)
        if members.size > per_segment:
            edges = (np.arange(per_segment + 1) * members.size) // per_segment
            size = np.diff(edges).astype(float)
            members = members[edges[:-1] + (rng.random(per_segment) * size).astype(np.int64)]
        keep = np.argsort(members, kind="stable")
        chosen.append(members[keep])
        weights.append(size[keep])
    return np.concatenate(chosen), np.concatenate(weights)
