"""A run's history as a lender would export it: the cash receipts and the accounts.

``python -m sim run --payments-out`` and ``--portfolio-out`` write these, in
the formats a lender's own history comes in, so that a calibration can read
simulated history exactly as it reads real history (issue 16), and prove
itself on it first.

* **Payments** (:class:`PaymentLog`): ``account_id,timestamp,amount,kind``,
  one row per cash receipt, amounts to the cent, ISO 8601 local times without
  offset, sorted by time then account. ``kind`` is a
  :class:`~sim.domain.PaymentKind`. The engine records receipts only when
  asked (:class:`PaymentLogBuilder`, like the contact log), so a default run
  pays nothing for it.
* **Accounts** (:func:`write_portfolio_csv`): every account the run saw, in
  the portfolio CSV format :mod:`sim.portfolio` reads, with ``entered_on``,
  the date it entered the book: the start date for a closed cohort; with an
  open book (``[arrivals]``) or a warm-up, the accounts in the book when the
  measured days start (at their state then, with the date they entered, which
  may be before the start date) and every arrival of the measured days (at
  its state on entry, on the date it entered).

A warm-up's receipts are left out, as it is left out of every KPI: the
history is that of the measured days, from ``simulation.start_date``.

When in the day a receipt happens: a borrower's own repayment at the time the
self-exciting process puts it within its day; a kept promise or instalment,
which the engine settles in the evening without a time of its own, at
:data:`EVENING_SECOND` (23:59:59) of its day; a legal recovery when the
engine resolves the case, at 00:00.
"""

from __future__ import annotations

import csv
import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .domain import MINUTES_PER_DAY, PAYMENT_KINDS
from .export_safety import safe_cell
from .io import write_atomic
from .portfolio import Portfolio
from .scenario import EXCLUSIONS

SECONDS_PER_DAY = MINUTES_PER_DAY * 60
EVENING_SECOND = SECONDS_PER_DAY - 1  # 23:59:59: settled in the evening, no time of its own
RESIDUE = -1  # a paid-off account's sub-cent residue: added to its last receipt, never a row
PORTFOLIO_COLUMNS = ("account_id", "balance", "days_past_due", "segment", "past_due", "phone_known",
                     "email_known", "entered_on")
# Written after them when the run has them (sim.portfolio reads them all back).
OPTIONAL_PORTFOLIO_COLUMNS = ("statement_day", "exclusion", "time_zone", "state")


def evening_minute(day: int) -> float:
    """The clock minute a receipt settled in the evening of ``day`` is stamped with (inside its last second)."""
    return day * MINUTES_PER_DAY + (EVENING_SECOND + 0.5) / 60.0


class PaymentLogBuilder:
    """Collects the run's cash receipts as chunks of columns (positions, minute, amount, kind)."""

    def __init__(self) -> None:
        self._chunks: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, accounts, amounts, minute: float, kind: int) -> None:
        """Receipts of one kind at one minute; a zero amount (a legal case that recovered nothing) is no receipt."""
        accounts = np.atleast_1d(np.asarray(accounts, dtype=np.int64))
        amounts = np.broadcast_to(np.asarray(amounts, dtype=np.float64), accounts.shape)
        paid = amounts > 0
        if not paid.any():
            return
        n = int(paid.sum())
        self._chunks.append((accounts[paid].copy(), np.full(n, minute), amounts[paid].copy(),
                             np.full(n, kind, dtype=np.int8)))

    def add_repayments(self, events: list, day: int, kind: int) -> None:
        """The borrowers' own repayments of one day, each at its time in the day (``repayment_day``'s events)."""
        for positions, time_in_day, amounts in events:
            minutes = (day + time_in_day) * MINUTES_PER_DAY
            self._chunks.append((positions.astype(np.int64), minutes, amounts.copy(),
                                 np.full(positions.size, kind, dtype=np.int8)))

    def build(self, account_ids: np.ndarray, start_date: dt.date, from_minute: float = 0.0) -> PaymentLog:
        """The receipts from ``from_minute`` on (a warm-up's are left out before rounding to cents, so the
        file's total stays within half a cent of what the measured days collected)."""
        if self._chunks:
            position, minute, amount, kind = (np.concatenate(c) for c in zip(*self._chunks, strict=True))
        else:
            position, minute, amount = np.zeros(0, np.int64), np.zeros(0), np.zeros(0)
            kind = np.zeros(0, np.int8)
        # Account by account in the order recorded (which is the order in time for each account).
        order = np.argsort(position, kind="stable")
        position, minute, amount, kind = position[order], minute[order], amount[order], kind[order]
        position, minute, amount, kind = _fold_residues(position, minute, amount, kind)
        if from_minute > 0:
            measured = minute >= from_minute
            position, minute, amount, kind = position[measured], minute[measured], amount[measured], kind[measured]
        cents = _carried_cents(amount)
        second = np.floor(minute * 60.0).astype(np.int64)
        keep = cents > 0
        position, second, cents, kind = position[keep], second[keep], cents[keep], kind[keep]
        account = account_ids[position]
        # Sorted by time, then account; an account's receipts within one second stay in order.
        order = np.lexsort((account, second))
        return PaymentLog(account=account[order], second=second[order], cents=cents[order], kind=kind[order],
                          start_date=start_date)


def _fold_residues(position, minute, amount, kind):
    """Add each paid-off account's sub-cent residue to the receipt before it (the one that paid it off)."""
    residue = np.flatnonzero(kind == RESIDUE)
    if residue.size:
        # Rows are grouped by account, in time: the row before a residue is the same account's last receipt.
        np.add.at(amount, residue - 1, amount[residue])
        keep = kind != RESIDUE
        position, minute, amount, kind = position[keep], minute[keep], amount[keep], kind[keep]
    return position, minute, amount, kind


def _carried_cents(amount: np.ndarray) -> np.ndarray:
    """Each amount in whole cents, rounding carried from row to row (rows grouped by account).

    Rounding the running total rather than each row keeps the file's total
    within half a cent of the exact one, and each account's within a cent,
    however many receipts there are.
    """
    running = np.rint(np.cumsum(amount) * 100.0).astype(np.int64)
    return np.diff(running, prepend=np.int64(0))


@dataclass(frozen=True)
class PaymentLog:
    """The run's cash receipts, sorted by time then account; ``cents`` are whole cents."""

    account: np.ndarray
    second: np.ndarray  # seconds since the start date's midnight
    cents: np.ndarray
    kind: np.ndarray  # sim.domain.PaymentKind codes
    start_date: dt.date

    def __len__(self) -> int:
        return int(self.account.size)

    @property
    def amount(self) -> np.ndarray:
        return self.cents / 100.0

    def timestamps(self) -> np.ndarray:
        """ISO 8601 local date-times to the second, without offset."""
        start = np.datetime64(self.start_date, "s")
        return (start + self.second.astype("timedelta64[s]")).astype(str)

    def kind_names(self) -> np.ndarray:
        return np.array(PAYMENT_KINDS, dtype=object)[self.kind] if len(self) else np.array([], dtype=object)

    def write_csv(self, path: str | Path, *, option: str = "--payments-out") -> None:
        """Write ``account_id,timestamp,amount,kind`` atomically."""
        amounts = [f"{c // 100}.{c % 100:02d}" for c in self.cents.tolist()]
        rows = zip(self.account.tolist(), self.timestamps().tolist(), amounts, self.kind_names().tolist(),
                   strict=True)

        def write(tmp: str) -> None:
            with open(tmp, "w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow(["account_id", "timestamp", "amount", "kind"])
                writer.writerows(rows)

        write_atomic(path, write, option=option)


def measured_payments(log: PaymentLog, warmup: int) -> PaymentLog:
    """The receipts of the measured days (a warm-up's left out), timed from the first measured day."""
    if not warmup:
        return log
    offset = warmup * SECONDS_PER_DAY
    keep = log.second >= offset
    return PaymentLog(account=log.account[keep], second=log.second[keep] - offset, cents=log.cents[keep],
                      kind=log.kind[keep], start_date=log.start_date + dt.timedelta(days=warmup))


@dataclass(frozen=True)
class RunHistory:
    """What ``--payments-out`` and ``--portfolio-out`` write: the receipts and every account the run saw."""

    portfolio: Portfolio  # the book at the start
    entered_on: np.ndarray  # datetime64[D]: the date each account entered the book
    payments: PaymentLog

    def write_portfolio_csv(self, path: str | Path, *, option: str = "--portfolio-out") -> None:
        write_portfolio_csv(self.portfolio, self.entered_on, path, option=option, start_date=self.payments.start_date)


def write_portfolio_csv(portfolio: Portfolio, entered_on: np.ndarray, path: str | Path, *,
                        option: str = "--portfolio-out", start_date: dt.date | None = None) -> None:
    """The accounts in the portfolio CSV format :func:`sim.portfolio.read_portfolio_csv` reads back.

    Balances and amounts past due are written with ``repr`` (the shortest text
    that reads back as the same number), so the book read back is the same to
    the bit; segment names are the scenario's text, kept spreadsheet-safe.
    The columns the run has besides (:data:`OPTIONAL_PORTFOLIO_COLUMNS`:
    ``statement_day`` as the day of the month that reads back as the same day
    of the cycle from ``start_date``; ``exclusion``, ``time_zone``, ``state``,
    blank where an account has none) follow, so the book reads back into the
    same run.
    """
    p = portfolio
    segments = [safe_cell(name) for name in p.segment_names]
    columns = [p.account_id.tolist(), map(repr, p.balance.tolist()), p.days_past_due.tolist(),
               [segments[s] for s in p.segment.tolist()], map(repr, p.past_due.tolist()),
               p.phone_known.astype(np.int8).tolist(), p.email_known.astype(np.int8).tolist(),
               np.asarray(entered_on, dtype="datetime64[D]").astype(str).tolist()]
    header = list(PORTFOLIO_COLUMNS)
    for name, cells in _optional_columns(p, start_date):
        header.append(name)
        columns.append(cells)
    rows = zip(*columns, strict=True)

    def write(tmp: str) -> None:
        with open(tmp, "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(header)
            writer.writerows(rows)

    write_atomic(path, write, option=option)


def _optional_columns(p: Portfolio, start_date: dt.date | None) -> list[tuple[str, list[str]]]:
    """The portfolio's optional columns as the CSV reader reads them, for those the portfolio has."""
    out = []
    if p.statement_day is not None and start_date is not None:
        # The reader takes a day of the month d to the cycle day (d - start.day) % 30; this is its inverse.
        cycle = np.asarray(p.statement_day, dtype=np.int64)
        day = (start_date.day - 1 + cycle) % 30 + 1
        out.append(("statement_day", np.where(cycle >= 0, day.astype(str), "").tolist()))
    if p.exclusion is not None:
        names = ["", *EXCLUSIONS]
        out.append(("exclusion", [names[k] for k in p.exclusion.tolist()]))
    for column, codes, names in (("time_zone", p.time_zone, p.time_zone_names), ("state", p.state, p.state_names)):
        if codes is not None:
            labels = ["", *(safe_cell(name) for name in names)]
            out.append((column, [labels[k] for k in codes.tolist()]))
    return out
