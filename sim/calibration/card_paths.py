"""A card book's history replayed through the engine's book and statements (``model = "card"``).

The card model's floor depends on the bucket, what a repayment pays depends
on the statement (the minimum, the past-due amount, the balance), and a cured
account leaves collection until it re-defaults. All of that is rebuilt by
replaying the receipts through the engine's own :class:`~sim.engine.book.Book`
with its :class:`~sim.engine.statements.Statements` (statement days, minimums,
past due by age, late fees, cure and roll-back): no rule is restated here.

What the files cannot say directly is when a cured account re-defaulted. In
the engine a cured account neither pays nor is worked, so its next receipt or
contact shows it was back in collection: the replay re-defaults a cured
account on a statement day when its next activity comes within the following
cycle (:meth:`Statements.redefaulting` is overridden). A re-default followed
by no receipt or contact is invisible; with the contact log (a ladder that
texts from 1 day past due) that is rare, without it common, so the re-default
rate is only reported as identified with contacts.

Each account's time in collection is cut into *episodes*: from the start (or
the evening it re-defaulted) until it cures, pays off, charges off, is filed
or the window ends. Within an episode the excess intensity evolves as in the
engine; a re-default starts the next episode at the floor (the engine resets
the intensity there). Plans are not replayed (a plan's instalments would stop
its ageing): fit books whose plans are rare, or give the plan accounts apart.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..domain import ACTIVE, BUCKET_DAYS, CURED, IN_LEGAL, PAID_OFF, PaymentKind, bucket_of
from ..engine import Engine
from ..engine.arrivals import Arrivals
from ..portfolio import Portfolio
from ..scenario import Scenario
from ..streams import RandomStreams
from .balance_paths import CENT_TOLERANCE, _filing_day, closed_or, more_than_owed
from .history_files import Contacts, Receipts

KINDS = 4  # minimum, past due, partial, full (sim.card_behavior.PaymentChoice)
CYCLE = BUCKET_DAYS  # a re-default shows within the cycle after its statement day
MATCH_CENTS = 0.015  # an amount within a cent and a half of what a kind pays is that kind


@dataclass(frozen=True)
class CardPaths:
    """What the card likelihood and the payment-choice fit read, per receipt, per episode, per account."""

    episode: np.ndarray  # per receipt: its episode (-1: the account was not in collection then)
    balance_before: np.ndarray  # per receipt: the balance it found
    bucket: np.ndarray  # per receipt: the account's bucket (1-6) on the morning of its day
    matches: np.ndarray  # (receipts, 4) bool: which kinds of repayment its amount is (repayments only)
    partial_fraction: np.ndarray  # per receipt: amount / minimum (the partial amounts' law reads it)
    episode_account: np.ndarray  # per episode: the account's position
    episode_from: np.ndarray  # per episode: days since the start
    episode_until: np.ndarray
    bucket_by_day: np.ndarray  # (accounts, days) int8: bucket on each morning in collection, 0 otherwise
    redefault_trials: np.ndarray  # per segment: statement days a cured account was watched
    redefault_events: np.ndarray  # per segment: re-defaults seen
    cures: int
    # The book at the window's end (the backtest starts from it): balances, past due, days past due and each
    # account's statement day in the cycle counted from the day after the window.
    at_end: Portfolio | None = None
    active_at_end: np.ndarray | None = None  # bool per account: still in collection
    roll_state_at_end: np.ndarray | None = None  # per account: sim.domain.RollState
    # Per account: the statements' state at the window's end (Statements.state: past due by age, the minimum
    # and what is left of it, the cycle's interest and fees), which a backtest's runs continue from.
    statements_at_end: dict[str, np.ndarray] | None = None


class _Episodes:
    """Open and close each account's spells in collection as the replay goes."""

    def __init__(self, n: int):
        self.open = np.full(n, -1, dtype=np.int64)
        self.account: list[int] = []
        self.start: list[float] = []
        self.until: list[float] = []

    def begin(self, who: np.ndarray, at: float) -> None:
        first = len(self.account)
        self.account += who.tolist()
        self.start += [at] * who.size
        self.until += [at] * who.size
        self.open[who] = np.arange(first, first + who.size)

    def end(self, who: np.ndarray, at: np.ndarray) -> None:
        for i, t in zip(self.open[who].tolist(), np.broadcast_to(at, who.shape).tolist(), strict=True):
            self.until[i] = t
        self.open[who] = -1


def _stride(days: int) -> int:
    """Account × day keys: wide enough that a cycle's look-ahead past the window never reaches the next account."""
    return days + 2 * CYCLE


def _activity_keys(receipts: Receipts, contacts: Contacts | None, days: int) -> np.ndarray:
    """Sorted account × day keys of every receipt and contact (a cured account's next sign of life)."""
    keys = receipts.position * _stride(days) + np.floor(receipts.time).astype(np.int64)
    if contacts is not None and len(contacts):
        keys = np.r_[keys, contacts.position * _stride(days) + np.floor(contacts.time).astype(np.int64)]
    return np.unique(keys)


def _watch_redefaults(statements, keys: np.ndarray, days: int, trials: np.ndarray, events: np.ndarray) -> None:
    """Replace the statements' re-default draw by what the files show (see the module's docstring)."""
    segment = statements.book.segment

    def redefaulting(cured: np.ndarray, day: int, uniforms: np.ndarray | None = None) -> np.ndarray:
        del uniforms  # the files say who re-defaulted; no draw
        base = cured * _stride(days)
        nxt = np.searchsorted(keys, base + day + 1)
        seen = nxt < keys.size
        seen[seen] = keys[nxt[seen]] <= base[seen] + day + CYCLE
        np.add.at(trials, segment[cured], 1)
        np.add.at(events, segment[cured[seen]], 1)
        return cured[seen]

    statements.redefaulting = redefaulting


def rebuild_card(scenario: Scenario, portfolio: Portfolio, receipts: Receipts,
                 contacts: Contacts | None = None, arrivals: Arrivals | None = None) -> CardPaths:
    """Replay the receipts day by day through the engine's book and statements (see the module's docstring);
    ``arrivals``: the rows entering during the window, admitted on their day as the engine admits them."""
    days = scenario.simulation.days
    arrivals = closed_or(arrivals, portfolio, days)
    book = Engine(scenario, portfolio, RandomStreams(0), record_contacts=False, arrivals=arrivals).book
    n, segments = len(portfolio), len(portfolio.segment_names)
    trials, events = np.zeros(segments, np.int64), np.zeros(segments, np.int64)
    _watch_redefaults(book.statements, _activity_keys(receipts, contacts, days), days, trials, events)
    out = _Outputs(len(receipts), n, days)
    episodes = _Episodes(n)
    episodes.begin(np.flatnonzero(book.status == ACTIVE), 0.0)
    filed = _filing_day(receipts, contacts, n, days)
    day_of = np.floor(receipts.time).astype(np.int64)
    order = np.lexsort((receipts.time, receipts.position, day_of))
    bounds = np.searchsorted(day_of[order], np.arange(days + 1))
    cures = 0
    for day in range(days):
        start, stop = int(arrivals.bounds[day]), int(arrivals.bounds[day + 1])
        if arrivals.enter(book, day)[0]:
            episodes.begin(np.arange(start, stop), float(day))
        going = np.flatnonzero((filed == day) & (book.status == ACTIVE))
        book.status[going] = IN_LEGAL
        episodes.end(going, float(day))
        active = book.status == ACTIVE
        out.bucket_by_day[active, day] = bucket_of(book.dpd[active])
        rows = order[bounds[day]:bounds[day + 1]]
        closing = _pay_day(book, receipts, rows, day, out, episodes)
        book._close_paid_off(day)  # the engine's own evening from here on
        book._interest_and_ageing(day)
        cures += _turn_episodes(book, active, day, closing, episodes)
    still = np.flatnonzero(episodes.open >= 0)
    episodes.end(still, float(days))  # the window's end: right-censored
    return CardPaths(episode=out.episode, balance_before=out.balance_before, bucket=out.bucket,
                     matches=out.matches, partial_fraction=out.partial_fraction,
                     episode_account=np.array(episodes.account, dtype=np.int64),
                     episode_from=np.array(episodes.start), episode_until=np.array(episodes.until),
                     bucket_by_day=out.bucket_by_day,
                     redefault_trials=trials, redefault_events=events, cures=cures,
                     at_end=replace(portfolio, balance=book.balance.copy(), past_due=book.past_due.copy(),
                                    days_past_due=book.dpd.copy(),
                                    statement_day=(book.statements.cycle_day.astype(np.int64) - days) % CYCLE),
                     active_at_end=book.status == ACTIVE, roll_state_at_end=book.roll_state(),
                     statements_at_end=book.statements.state(np.arange(n)))


class _Outputs:
    def __init__(self, receipts: int, n: int, days: int):
        self.episode = np.full(receipts, -1, dtype=np.int64)
        self.balance_before = np.zeros(receipts)
        self.bucket = np.zeros(receipts, dtype=np.int8)
        self.matches = np.zeros((receipts, KINDS), dtype=bool)
        self.partial_fraction = np.full(receipts, np.nan)
        self.bucket_by_day = np.zeros((n, days), dtype=np.int8)


def _turn_episodes(book, active_before: np.ndarray, day: int, closing: dict[int, float],
                   episodes: _Episodes) -> int:
    """After the evening: close the spells of accounts that left collection, open those that re-defaulted."""
    left = np.flatnonzero(active_before & (book.status != ACTIVE))
    if left.size:
        at = np.full(left.size, day + 1.0)
        paid_off = book.status[left] == PAID_OFF
        at[paid_off] = [closing.get(int(a), day + 1.0) for a in left[paid_off]]
        episodes.end(left, at)
    back = np.flatnonzero((book.status == ACTIVE) & (episodes.open < 0))
    if back.size:
        episodes.begin(back, day + 1.0)
    return int((book.status[left] == CURED).sum()) if left.size else 0


def _pay_day(book, receipts: Receipts, rows: np.ndarray, day: int, out: _Outputs,
             episodes: _Episodes) -> dict[int, float]:
    """The day's receipts against the statements: repayments first (classified against the morning's
    statement, as the engine chooses them), then kept promises; returns the time of each account's last
    timed receipt (a pay-off ends its spell there)."""
    position = receipts.position[rows]
    live = book.status[position] == ACTIVE
    rows = rows[live & (receipts.kind[rows] != PaymentKind.LEGAL)]
    if rows.size == 0:
        return {}
    out.episode[rows] = episodes.open[receipts.position[rows]]
    own = rows[receipts.kind[rows] == PaymentKind.PAYMENT]
    if own.size:
        _classify(book, receipts, own, out)
        _collect(book, receipts, own, day, out)
    kept = rows[receipts.kind[rows] != PaymentKind.PAYMENT]
    kept = kept[book.status[receipts.position[kept]] == ACTIVE]
    if kept.size:
        _collect(book, receipts, kept, day, out)
    timed = rows[~receipts.dated[rows]]
    return dict(zip(receipts.position[timed].tolist(), receipts.time[timed].tolist(), strict=False))


def _earlier_today(position: np.ndarray, amount: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per row (grouped by account, in time): what the account paid before it today; the group starts."""
    first = np.r_[True, position[1:] != position[:-1]]
    starts = np.flatnonzero(first)
    running = np.cumsum(amount)
    group_start = np.repeat(running[starts] - amount[starts], np.diff(np.r_[starts, position.size]))
    return running - amount - group_start, starts


def _classify(book, receipts: Receipts, rows: np.ndarray, out: _Outputs) -> None:
    """Which kinds each repayment's amount is, by the rule of :meth:`CardChoice.amounts` (one minimum, the
    past-due amount left, part of a minimum, the balance left), against the statement of the morning."""
    statements = book.statements
    position, amount = receipts.position[rows], receipts.amount[rows]
    earlier, _ = _earlier_today(position, amount)
    balance_left = book.balance[position] - earlier
    minimum = statements.minimum[position]
    past_due = np.maximum(book.past_due[position] - earlier, 0.0)
    due = np.where(past_due > 0, past_due, minimum)

    def near(target: np.ndarray) -> np.ndarray:
        return np.abs(amount - np.minimum(np.round(target, 2), balance_left)) <= MATCH_CENTS

    match = np.stack([near(minimum), near(due), np.zeros(rows.size, bool), near(balance_left)], axis=1)
    # A partial payment is continuous (a share of a minimum): an amount hitting a point kind to the cent is that kind.
    fraction = np.divide(amount, minimum, out=np.full(rows.size, np.nan), where=minimum > 0)
    partial_min = book.behavior.partial_min
    match[:, 2] = ~match.any(axis=1) & (fraction >= partial_min - 0.01) & (fraction < 1.0 + 0.01)
    out.matches[rows] = match
    out.partial_fraction[rows] = fraction
    out.bucket[rows] = bucket_of(book.dpd[position])


def _collect(book, receipts: Receipts, rows: np.ndarray, day: int, out: _Outputs) -> None:
    """Collect the rows (grouped by account, in time) and apply them to the statements as the engine does."""
    position, amount = receipts.position[rows], receipts.amount[rows]
    earlier, starts = _earlier_today(position, amount)
    found = book.balance[position] - earlier
    out.balance_before[rows] = found
    # A re-defaulted account's re-default day is known only to within a cycle (the files show it late when
    # its first sign of life came late): the interest and fees it owed meanwhile are not all rebuilt, so its
    # receipt above the rebuilt balance is the whole balance, not an error.
    over = (found - amount < -CENT_TOLERANCE) & ~book.cured_ever[position]
    if over.any():
        k = int(np.flatnonzero(over)[0])
        raise more_than_owed(receipts, rows[k], amount[k], found[k])
    accounts = position[starts]
    paid = np.add.reduceat(amount, starts)
    owed = book.balance[accounts]
    # Amounts are to the cent: what leaves under two cents paid the whole balance (the engine's full payment).
    paid = np.where(owed - paid < CENT_TOLERANCE, owed, np.minimum(paid, owed))
    book.collect(accounts, paid, day)
    book._apply_card_payment(accounts, paid, day)
