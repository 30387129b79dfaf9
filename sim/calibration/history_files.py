"""A lender's history as calibration reads it: cash receipts and contacts, checked line by line.

The formats are the ones ``python -m sim run --payments-out`` and
``--contacts-out`` write (:mod:`sim.history`, :mod:`sim.contact_log`), so a
fit can be proven on simulated history before it meets a lender's:

* **payments** ``account_id,timestamp,amount[,kind]``: one cash receipt a row;
  ``timestamp`` an ISO 8601 date-time in the book's local time (an offset, if
  given, is converted to ``time_zone``) or a plain date, which means "some time
  that day" (the likelihood treats the day as an interval); ``kind`` one of
  :data:`sim.domain.PAYMENT_KINDS` (``payment`` when the column is absent).
* **contacts** ``account_id,timestamp,channel,outcome,agent``.

Every mistake is one :class:`~sim.errors.InputError` naming the file, the line
and the field: an unknown account, a negative amount, a timestamp outside the
window, an unknown channel. Times are returned as days since the window's
start (a float), with a flag for the rows that carried only a date.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from ..domain import ALL_CHANNELS, LOG_OUTCOMES, PAYMENT_KINDS, reached_right_party
from ..errors import InputError
from ..io import read_csv_text

MAX_HISTORY_BYTES = 2_000_000_000
SECONDS_PER_DAY = 86_400
PAYMENT_COLUMNS = ("account_id", "timestamp", "amount")
CONTACT_COLUMNS = ("account_id", "timestamp", "channel", "outcome", "agent")
_AMOUNT = re.compile(r"[0-9]+(?:\.[0-9]*)?|\.[0-9]+", re.ASCII)
_ID = re.compile(r"[0-9]{1,19}", re.ASCII)
_NAIVE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


@dataclass(frozen=True)
class Window:
    """The observation window: ``days`` days from ``start`` (midnight, the book's local time)."""

    start: dt.date
    days: int
    time_zone: str = "UTC"


@dataclass(frozen=True)
class Receipts:
    """Cash receipts sorted by account position then time."""

    position: np.ndarray  # int64: the account's position in the portfolio
    time: np.ndarray  # float64: days since the window's start (a dated row: the start of its day)
    dated: np.ndarray  # bool: the row carried only a date (the time within the day is unknown)
    amount: np.ndarray  # float64
    kind: np.ndarray  # int8: sim.domain.PaymentKind
    line: np.ndarray  # int64: the row's line in the file, for errors found later
    source: str
    last: np.ndarray  # bool: the account's last receipt in the file (the one that may pay it off)

    def __len__(self) -> int:
        return int(self.position.size)


@dataclass(frozen=True)
class Contacts:
    """Contacts sorted by account position then time."""

    position: np.ndarray
    time: np.ndarray
    channel: np.ndarray  # int8: sim.domain.Channel
    right_party: np.ndarray  # bool: the contact reached the borrower
    line: np.ndarray | None = None  # int64: the row's line in the file, for errors found later

    def __len__(self) -> int:
        return int(self.position.size)


def _text_rows(path, kind: str) -> tuple[str, list[str], list[list[str]]]:
    source = str(path)
    text = read_csv_text(path, limit=MAX_HISTORY_BYTES, kind=kind)
    reader = csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as err:
        raise InputError(source, f"line {reader.line_num}", f"not a readable CSV row ({err})") from None
    if not rows:
        raise InputError(source, "line 1", "empty CSV; it needs a header")
    return source, [h.strip() for h in rows[0]], rows[1:]


def _columns(source: str, header: list[str], required: tuple[str, ...], optional: tuple[str, ...],
             rows: list[list[str]]) -> tuple[dict[str, list[str]], np.ndarray]:
    """Each known column's cells (stripped) and each row's line number; unknown columns are an error."""
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(source, "line 1", f"missing column(s) {', '.join(missing)}; required: {', '.join(required)}")
    unknown = [c for c in header if c not in required + optional]
    if unknown:
        raise InputError(source, "line 1", f"unknown column {unknown[0]!r}; allowed: {', '.join(required + optional)}")
    if len(set(header)) != len(header):
        raise InputError(source, "line 1", "a column name appears twice")
    lines, kept = [], []
    for number, row in enumerate(rows, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            raise InputError(source, f"line {number}", f"has {len(row)} fields, the header has {len(header)}")
        lines.append(number)
        kept.append(row)
    cells = {name: [row[i].strip() for row in kept] for i, name in enumerate(header)}
    return cells, np.array(lines, dtype=np.int64)


def _positions(source: str, ids: list[str], lines: np.ndarray, account_ids: np.ndarray) -> np.ndarray:
    """The portfolio position of each row's account; an id not in the portfolio is an error."""
    for k, text in enumerate(ids):
        if not _ID.fullmatch(text):
            raise InputError(source, f"line {lines[k]}: account_id", f"must be a whole number ≥ 0, got {text[:40]!r}")
    values = np.array([int(t) for t in ids], dtype=np.uint64).astype(np.int64) if ids else np.zeros(0, np.int64)
    order = np.argsort(account_ids, kind="stable")
    sorted_ids = account_ids[order]
    at = np.minimum(np.searchsorted(sorted_ids, values), max(sorted_ids.size - 1, 0))
    known = sorted_ids[at] == values if sorted_ids.size else np.zeros(values.size, bool)
    if not known.all():
        k = int(np.flatnonzero(~known)[0])
        raise InputError(source, f"line {lines[k]}: account_id", f"unknown account {ids[k]}; it is not in the portfolio")
    return order[at]


def _local_naive(text: str, time_zone: ZoneInfo) -> dt.datetime | None:
    """An ISO 8601 date-time with an offset or fractional seconds, as the book's local time; None if unreadable."""
    try:
        stamp = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if stamp.tzinfo is not None:
        stamp = stamp.astimezone(time_zone).replace(tzinfo=None)
    return stamp


def _times(source: str, stamps: list[str], lines: np.ndarray, window: Window) -> tuple[np.ndarray, np.ndarray]:
    """Days since the window's start, and which rows were plain dates; outside the window is an error.

    The common forms (``YYYY-MM-DD`` and ``YYYY-MM-DDTHH:MM:SS``) are converted in one NumPy step;
    the rest (offsets, fractions of a second) and any row NumPy refuses go one by one.
    """
    n = len(stamps)
    seconds = np.zeros(n, dtype=np.int64)
    fraction = np.zeros(n)
    dated = np.array([len(s) == 10 and _DATE.fullmatch(s) is not None for s in stamps], dtype=bool)
    naive = np.array([len(s) == 19 and _NAIVE.fullmatch(s) is not None for s in stamps], dtype=bool)
    fast = dated | naive
    slow = ~fast
    try:
        values = np.array([s for s, f in zip(stamps, fast, strict=True) if f], dtype="datetime64[s]")
        seconds[fast] = (values - np.datetime64(window.start, "s")).astype(np.int64)
    except ValueError:  # e.g. 2026-02-30: every row the slow way, which names the first bad line
        slow[:] = True
    zone = ZoneInfo(window.time_zone)
    base = dt.datetime.combine(window.start, dt.time())
    for k in np.flatnonzero(slow):
        stamp = _local_naive(stamps[k], zone)
        if stamp is None:
            raise InputError(source, f"line {lines[k]}: timestamp",
                             "must be an ISO 8601 date-time (2026-01-05T14:30:00, optionally with an offset "
                             f"such as +01:00) or a date (2026-01-05), got {stamps[k][:40]!r}")
        dated[k] = "T" not in stamps[k] and " " not in stamps[k]
        delta = stamp - base
        seconds[k] = delta.days * SECONDS_PER_DAY + delta.seconds
        fraction[k] = delta.microseconds / 1e6
    time = (seconds + fraction) / SECONDS_PER_DAY
    outside = (time < 0) | (time >= window.days)
    if outside.any():
        k = int(np.flatnonzero(outside)[0])
        end = window.start + dt.timedelta(days=window.days)
        raise InputError(source, f"line {lines[k]}: timestamp",
                         f"{stamps[k]} is outside the window {window.start} to {end} (exclusive)")
    return time, dated


def read_payments(path, account_ids: np.ndarray, window: Window) -> Receipts:
    """The cash receipts of ``path``; see the module's docstring for the format and the errors."""
    source, header, rows = _text_rows(path, "payments CSV")
    cells, lines = _columns(source, header, PAYMENT_COLUMNS, ("kind",), rows)
    position = _positions(source, cells["account_id"], lines, account_ids)
    time, dated = _times(source, cells["timestamp"], lines, window)
    amount = _amounts(source, cells["amount"], lines)
    kind = _kinds(source, cells.get("kind"), lines)
    order = np.lexsort((time, position))
    position = position[order]
    last = np.r_[position[1:] != position[:-1], True] if position.size else np.zeros(0, bool)
    return Receipts(position=position, time=time[order], dated=dated[order], amount=amount[order],
                    kind=kind[order], line=lines[order], source=source, last=last)


def _amounts(source: str, texts: list[str], lines: np.ndarray) -> np.ndarray:
    for k, text in enumerate(texts):
        if not _AMOUNT.fullmatch(text):
            rule = "must be ≥ 0" if text.startswith("-") else "must be a plain decimal amount such as 120.50"
            raise InputError(source, f"line {lines[k]}: amount", f"{rule}, got {text[:40]!r}")
    return np.array(texts, dtype=np.float64) if texts else np.zeros(0)


def _kinds(source: str, texts: list[str] | None, lines: np.ndarray) -> np.ndarray:
    if texts is None:
        return np.zeros(lines.size, dtype=np.int8)
    code = {name: k for k, name in enumerate(PAYMENT_KINDS)}
    out = np.empty(len(texts), dtype=np.int8)
    for k, text in enumerate(texts):
        value = code.get(text.lower() or "payment")
        if value is None:
            raise InputError(source, f"line {lines[k]}: kind", f"unknown kind {text[:40]!r}; allowed: {', '.join(PAYMENT_KINDS)}")
        out[k] = value
    return out


def read_contacts(path, account_ids: np.ndarray, window: Window) -> Contacts:
    """The contact log of ``path`` (the ``--contacts-out`` format)."""
    source, header, rows = _text_rows(path, "contacts CSV")
    cells, lines = _columns(source, header, CONTACT_COLUMNS[:3], CONTACT_COLUMNS[3:], rows)
    position = _positions(source, cells["account_id"], lines, account_ids)
    time, _ = _times(source, cells["timestamp"], lines, window)
    channels = {name: k for k, name in enumerate(ALL_CHANNELS)}
    channel = np.empty(lines.size, dtype=np.int8)
    for k, text in enumerate(cells["channel"]):
        if text not in channels:
            raise InputError(source, f"line {lines[k]}: channel", f"unknown channel {text[:40]!r}; allowed: {', '.join(ALL_CHANNELS)}")
        channel[k] = channels[text]
    outcomes = cells.get("outcome", [""] * lines.size)
    allowed = set(LOG_OUTCOMES) | {""}
    for k, text in enumerate(outcomes):
        if text not in allowed:
            raise InputError(source, f"line {lines[k]}: outcome", f"unknown outcome {text[:40]!r}; allowed: "
                                                                   f"{', '.join(LOG_OUTCOMES)} or blank")
    code = {name: k for k, name in enumerate(LOG_OUTCOMES)}
    reached = reached_right_party(np.array([code.get(text, -1) for text in outcomes], dtype=np.int8))
    order = np.lexsort((time, position))
    return Contacts(position=position[order], time=time[order], channel=channel[order], right_party=reached[order],
                    line=lines[order])
