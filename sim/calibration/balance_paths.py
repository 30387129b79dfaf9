"""Each account's balance path rebuilt from its start balance, its receipts and the scenario's terms.

A repayment of the CGW process pays a share r of the balance it finds, so
the fit needs the balance just before every receipt; and it needs to know
when each account stopped being observed (paid off, charged off, in legal, or
the window's end: right-censoring). Both come from replaying the receipts
through the engine's own :class:`~sim.engine.book.Book`: its evening
collects the day's receipts, closes paid-off accounts, accrues interest (the
daily convention), adds a late fee and a new minimum due at each missed cycle
and charges off at ``charge_off_dpd``, exactly as in a run (``model = "cgw"``
runs accrue interest and fees too, when the scenario's ``apr`` and
``late_fee`` are above zero). There is no second copy of those rules here.

Amounts are to the cent, so an account's last receipt within
:data:`CENT_TOLERANCE` of the balance pays the account off (an account that
pays again later stays open, however little it owed); a receipt that would
take the balance further below zero is an error naming its line. A ``legal`` receipt (or, with the
contact log, the first ``legal`` contact) marks the filing: from that day the
account is in legal, as in the engine, and no longer observed. In an open book
an account entering during the window is admitted on its day, as the engine
admits its arrivals (:func:`closed_or`), and observed from then.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..domain import ACTIVE, CHARGED_OFF, IN_LEGAL, PAID_OFF, Channel, PaymentKind
from ..engine import Engine
from ..engine.arrivals import Arrivals
from ..engine.book import PAID_OFF_BELOW
from ..errors import InputError
from ..portfolio import Portfolio
from ..scenario import Scenario
from ..streams import RandomStreams
from .history_files import Contacts, Receipts

CENT_TOLERANCE = 0.02  # rounding to the cent carried over an account's receipts stays within this


@dataclass(frozen=True)
class BalancePaths:
    """What the likelihood reads about every account and receipt."""

    observed_from: np.ndarray  # float64 per account: days since the start (0: in the book at the start)
    observed_until: np.ndarray  # float64 per account: pay-off, charge-off, filing or the window's end
    balance_before: np.ndarray  # float64 per receipt
    share: np.ndarray  # float64 per receipt: amount / balance before
    in_window: np.ndarray  # bool per receipt: the account was still observed when it came
    at_end: Portfolio  # the book at the window's end (balances, past due, days past due)
    active_at_end: np.ndarray  # bool per account: still active (owing, not charged off, not in legal)
    roll_state_at_end: np.ndarray  # per account: sim.domain.RollState at the window's end


def _filing_day(receipts: Receipts, contacts: Contacts | None, n: int, days: int) -> np.ndarray:
    """The day each account went to legal (``days`` if never): its first legal contact or receipt."""
    filed = np.full(n, days, dtype=np.int64)
    legal = receipts.kind == PaymentKind.LEGAL
    np.minimum.at(filed, receipts.position[legal], np.floor(receipts.time[legal]).astype(np.int64))
    if contacts is not None:
        by_legal = contacts.channel == Channel.LEGAL
        np.minimum.at(filed, contacts.position[by_legal], np.floor(contacts.time[by_legal]).astype(np.int64))
    return filed


def closed_or(arrivals: Arrivals | None, portfolio: Portfolio, days: int) -> Arrivals:
    """The accounts entering during the window (none if not given): handed to the replay's engine, which then
    never draws arrivals of its own from the scenario's ``[arrivals]``."""
    return arrivals if arrivals is not None else Arrivals(len(portfolio), np.zeros(0, np.int32), days)


def rebuild(scenario: Scenario, portfolio: Portfolio, receipts: Receipts,
            contacts: Contacts | None = None, arrivals: Arrivals | None = None) -> BalancePaths:
    """Replay the receipts day by day through the engine's book (the scenario's days are the window);
    ``arrivals``: the rows entering during the window (sim.calibration.calibrate.read_history)."""
    days = scenario.simulation.days
    arrivals = closed_or(arrivals, portfolio, days)
    book = Engine(scenario, portfolio, RandomStreams(0), record_contacts=False, arrivals=arrivals).book
    n = len(portfolio)
    until = np.where(book.status == ACTIVE, float(days), 0.0)
    until[arrivals.rows] = float(days)
    observed_from = arrivals.entered_on_day(n).astype(np.float64)
    filed = _filing_day(receipts, contacts, n, days)
    before = np.zeros(len(receipts))
    day_of = np.floor(receipts.time).astype(np.int64)
    order = np.lexsort((receipts.time, receipts.position, day_of))
    bounds = np.searchsorted(day_of[order], np.arange(days + 1))
    filings = np.argsort(filed, kind="stable")
    filing_bounds = np.searchsorted(filed[filings], np.arange(days + 1))
    for day in range(days):
        arrivals.enter(book, day)
        going = filings[filing_bounds[day]:filing_bounds[day + 1]]
        going = going[book.status[going] == ACTIVE]
        book.status[going] = IN_LEGAL  # filed: no longer paying, ageing or charged off (as in the engine)
        until[going] = day
        rows = order[bounds[day]:bounds[day + 1]]
        active_before = book.status == ACTIVE
        if rows.size:
            _collect_day(book, receipts, rows, day, before)
        book._close_paid_off(day)  # the engine's own rules for the rest of the evening
        book._interest_and_ageing(day)
        _mark_ends(book, receipts, rows, active_before, day, until)
    share = np.divide(receipts.amount, before, out=np.ones_like(before), where=before > 0)
    in_window = receipts.time <= until[receipts.position]
    at_end = replace(portfolio, balance=book.balance.copy(), past_due=book.past_due.copy(),
                     days_past_due=book.dpd.copy())
    return BalancePaths(observed_from=observed_from, observed_until=until, balance_before=before,
                        share=np.minimum(share, 1.0), in_window=in_window, at_end=at_end,
                        active_at_end=book.status == ACTIVE, roll_state_at_end=book.roll_state())


def _collect_day(book, receipts: Receipts, rows: np.ndarray, day: int, before: np.ndarray) -> None:
    """The day's receipts (rows grouped by account, in time) against the balances they find."""
    position, amount = receipts.position[rows], receipts.amount[rows]
    live = book.status[position] == ACTIVE
    # Legal recoveries of a filed account settle the case; they are not the borrower's repayments.
    counted = live & (receipts.kind[rows] != PaymentKind.LEGAL)
    position, amount, rows = position[counted], amount[counted], rows[counted]
    if rows.size == 0:
        return
    first = np.r_[True, position[1:] != position[:-1]]
    starts = np.flatnonzero(first)
    running = np.cumsum(amount)
    group_start = np.repeat(running[starts] - amount[starts], np.diff(np.r_[starts, rows.size]))
    earlier = running - amount - group_start
    found = book.balance[position] - earlier
    before[rows] = found
    left = found - amount
    if (left < -CENT_TOLERANCE).any():
        k = int(np.flatnonzero(left < -CENT_TOLERANCE)[0])
        raise more_than_owed(receipts, rows[k], amount[k], found[k])
    accounts = position[starts]
    paid = np.add.reduceat(amount, starts)
    owed = book.balance[accounts]
    final = receipts.last[rows[np.r_[starts[1:], rows.size] - 1]]
    # Amounts are rounded to the cent: an account's last receipt that leaves less than two cents paid the
    # whole balance; one that pays again later was not paid off, however little it left (the engine
    # closes an account under half a cent, so a cent is left open).
    paid = np.where(final & (owed - paid < CENT_TOLERANCE), owed, np.minimum(paid, owed - 2 * PAID_OFF_BELOW))
    book.collect(accounts, paid, day)


def _mark_ends(book, receipts: Receipts, rows: np.ndarray, active_before: np.ndarray, day: int,
               until: np.ndarray) -> None:
    """Accounts that left the book today: paid off at their last receipt, charged off at the day's end."""
    ended = np.flatnonzero(active_before & (book.status != ACTIVE))
    if ended.size == 0:
        return
    charged = ended[book.status[ended] == CHARGED_OFF]
    until[charged] = day + 1.0
    paid_off = ended[book.status[ended] == PAID_OFF]
    if paid_off.size and rows.size:
        # rows are grouped by account in time: the last row of each account is the one that paid it off.
        position = receipts.position[rows]
        last = np.r_[position[1:] != position[:-1], True]
        closing = rows[last]
        closers = receipts.position[closing]
        hit = np.isin(closers, paid_off)
        dated = receipts.dated[closing[hit]]
        # A dated pay-off happened some time that day: the likelihood places it in the day (see cgw.placed_times).
        until[closers[hit]] = np.where(dated, day + 1.0, receipts.time[closing[hit]])


def more_than_owed(receipts, row: int, amount: float, owed: float) -> InputError:
    """The one-line error for a receipt larger than what its account owed when it came in."""
    return InputError(receipts.source, f"line {receipts.line[row]}: amount",
                      f"{amount:.2f} is more than the {max(owed, 0.0):.2f} the account owes then "
                      "(its start balance, less its receipts, plus the scenario's interest and fees)")
