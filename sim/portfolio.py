"""The book: every overdue account's state as NumPy arrays.

An account has a balance, an amount past due, days past due, a risk segment
and known contact points. The book is either generated from the scenario's
``[portfolio]`` section (a synthetic portfolio) or imported from a CSV file of
real accounts. Imported personal columns (names, phone numbers, addresses…)
are dropped on import and never stored.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Account statuses and buckets are sim.domain's; re-exported here, where they were first written.
from .card_behavior import first_minimum
from .domain import ACTIVE as ACTIVE
from .domain import CHARGED_OFF as CHARGED_OFF
from .domain import CURED as CURED
from .domain import DELINQUENT_BUCKETS
from .domain import IN_LEGAL as IN_LEGAL
from .domain import LEGAL_CLOSED as LEGAL_CLOSED
from .domain import PAID_OFF as PAID_OFF
from .domain import bucket_of as bucket_of
from .errors import ScenarioError, printable
from .export_safety import ESCAPE, safe_cell
from .io import read_csv_text
from .scenario import (
    EXCLUSIONS,
    MAX_ACCOUNTS,
    MAX_BALANCE,
    MAX_CSV_BYTES,
    STATE_CODE,
    Scenario,
    time_zone,
)

REQUIRED_COLUMNS = ("account_id", "balance", "days_past_due")
OPTIONAL_COLUMNS = ("segment", "past_due", "phone_known", "email_known", "entered_on", "statement_day",
                    "exclusion", "time_zone", "state")
NO_STATEMENT_DAY = -1  # a CSV row without one: the card model derives or draws it (build_portfolio)
STANDING_COLUMNS = ("exclusion", "time_zone", "state")  # who may be contacted, and when (sim.consumers)
# A number in a CSV cell is plain ASCII: digits, an optional sign, a decimal
# point and an exponent. Python's float() and int() would also take "1_000",
# "١٢" (Arabic-Indic digits) or "infinity", which no accounting export means.
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_WHOLE = re.compile(r"[+-]?[0-9]+", re.ASCII)
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
_NUMBER_RULE = "ASCII digits with an optional sign, decimal point and exponent, e.g. 1200.50"
_WHOLE_RULE = "ASCII digits with an optional sign, e.g. 42"

STATUS_NAMES = ("active", "cured", "paid_off", "charged_off", "in_legal", "legal_closed")


@dataclass
class Portfolio:
    """The accounts at the start of a run (read-only input to the engine)."""

    account_id: np.ndarray  # int64
    balance: np.ndarray  # float64, what the borrower owes
    past_due: np.ndarray  # float64, the overdue part of the balance
    days_past_due: np.ndarray  # int32
    segment: np.ndarray  # int16, index into segment_names
    phone_known: np.ndarray  # bool
    email_known: np.ndarray  # bool
    segment_names: tuple[str, ...]
    # model = "card": each account's statement day, 0-29 in the 30-day cycle counted from the start date
    # (sim.engine.statements); None under the other models.
    statement_day: np.ndarray | None = None
    # Optional columns of an imported book (None when the CSV has no such column; sim.consumers reads them):
    # exclusion code (0 none, k: EXCLUSIONS[k - 1]), time zone and state codes (0 blank, k: names[k - 1]).
    exclusion: np.ndarray | None = None
    time_zone: np.ndarray | None = None
    time_zone_names: tuple[str, ...] = ()
    state: np.ndarray | None = None
    state_names: tuple[str, ...] = ()
    # An imported book with ``entered_on``: the day each account entered, counted from the start date
    # (≤ 0: in the book at the start; > 0 only in an open book read for calibration). None without the column.
    entered_day: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.balance.size)

    @property
    def initial_balance(self) -> float:
        return float(self.balance.sum())


def _draw_balances(bal, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` balances from a balance distribution, to the cent, within its bounds."""
    if bal.distribution == "lognormal":
        balance = bal.median * np.exp(bal.sigma * rng.standard_normal(n))
    elif bal.distribution == "uniform":
        balance = rng.uniform(bal.min, bal.max, n)
    else:
        balance = np.full(n, bal.median)
    return np.round(np.clip(balance, bal.min, bal.max), 2)


def _draw_segments(shares_by_name: dict[str, float], segment_names: tuple[str, ...], n: int,
                   rng: np.random.Generator) -> np.ndarray:
    """Each account's segment (an index into ``segment_names``) drawn from the shares given by name."""
    shares = np.array([shares_by_name.get(s, 0.0) for s in segment_names])
    return rng.choice(len(segment_names), size=n, p=shares / shares.sum()).astype(np.int16)


def generate_portfolio(scenario: Scenario, rng: np.random.Generator) -> Portfolio:
    """A synthetic portfolio drawn from the scenario's ``[portfolio]`` section."""
    spec = scenario.portfolio
    n = scenario.simulation.accounts
    balance = _draw_balances(spec.balance, n, rng)

    names = list(DELINQUENT_BUCKETS)
    shares = np.array([spec.buckets.get(b, 0.0) for b in names])
    bucket = rng.choice(len(names), size=n, p=shares / shares.sum())
    low = np.array([1, 31, 61, 91, 121, 151])
    dpd = (low[bucket] + rng.integers(0, 30, n)).astype(np.int32)
    dpd = np.minimum(dpd, spec.charge_off_dpd - 1).astype(np.int32)

    segment_names = tuple(spec.segments)
    segment = _draw_segments(spec.segments, segment_names, n, rng)
    phone = rng.random(n) < spec.phone_known
    email = rng.random(n) < spec.email_known
    cycles = np.ceil(dpd / 30.0)
    statement_day = None
    if scenario.behavior.model == "card":
        # One card minimum (sim.card_terms' rule) per missed cycle. Every synthetic account is delinquent,
        # so its statement day follows from its days past due (a missed due date started the count):
        # spread uniformly over the cycle like the days past due.
        past_due = np.round(np.minimum(balance, cycles * first_minimum(scenario.behavior, spec.apr, balance)), 2)
        statement_day = (-dpd.astype(np.int64)) % 30
    else:
        past_due = np.round(np.minimum(balance, cycles * spec.min_due_rate * balance), 2)
    return Portfolio(statement_day=statement_day,
        account_id=np.arange(n, dtype=np.int64),
        balance=balance.astype(np.float64),
        past_due=past_due,
        days_past_due=dpd,
        segment=segment,
        phone_known=phone,
        email_known=email,
        segment_names=segment_names,
    )


def generate_arrivals(scenario: Scenario, rng: np.random.Generator, first_id: int,
                      segment_names: tuple[str, ...], book_accounts: int | None = None) -> tuple[Portfolio, np.ndarray]:
    """Every account entering the book over the run (``[arrivals]``), drawn up front, and the day each enters.

    Each simulated day (warm-up included) draws a Poisson number of arrivals
    with mean a month's arrivals / 30; an arrival enters at 1 day past due with
    one missed minimum due past due. Balances, segments and known contact
    points come from ``[arrivals]`` or, where it says nothing, ``[portfolio]``.
    Ids follow the book's (``first_id`` on). ``per_1000_per_month`` is per
    1,000 accounts of the book at the start, ``book_accounts`` (default
    ``simulation.accounts``; a book read from a CSV or passed in has its own
    count, as its scaled teams do). Returns the arrivals as a portfolio in
    order of entry, and their entry days (engine days, ascending).
    """
    spec, arrivals = scenario.portfolio, scenario.arrivals
    if arrivals is None:
        raise ValueError("the scenario has no [arrivals]")
    monthly = arrivals.monthly(scenario.simulation.accounts if book_accounts is None else book_accounts)
    per_day = rng.poisson(monthly / 30.0, scenario.simulation.total_days)
    n = int(per_day.sum())
    if first_id + n > 2**63 - 1:
        raise ScenarioError(scenario.source, "arrivals", "the arrivals' account ids would pass 2^63-1")
    entry_day = np.repeat(np.arange(per_day.size, dtype=np.int32), per_day)
    balance = _draw_balances(arrivals.balance or spec.balance, n, rng)
    segment = _draw_segments(arrivals.segments or spec.segments, segment_names, n, rng)
    phone = rng.random(n) < (spec.phone_known if arrivals.phone_known is None else arrivals.phone_known)
    email = rng.random(n) < (spec.email_known if arrivals.email_known is None else arrivals.email_known)
    past_due = np.round(np.minimum(balance, spec.min_due_rate * balance), 2)
    book = Portfolio(account_id=np.arange(first_id, first_id + n, dtype=np.int64), balance=balance.astype(np.float64),
                     past_due=past_due, days_past_due=np.ones(n, dtype=np.int32), segment=segment,
                     phone_known=phone, email_known=email, segment_names=segment_names)
    return book, entry_day


def concatenate(first: Portfolio, second: Portfolio) -> Portfolio:
    """One book of two (same segments): ``first``'s accounts, then ``second``'s."""
    return Portfolio(*(np.concatenate((getattr(first, f), getattr(second, f))) for f in
                       ("account_id", "balance", "past_due", "days_past_due", "segment", "phone_known",
                        "email_known")), segment_names=first.segment_names)


def _parse_bool(text: str) -> bool | None:
    value = text.strip().lower()
    if value in {"1", "true", "yes", "y"}:
        return True
    if value in {"0", "false", "no", "n", ""}:
        return False
    return None


def read_portfolio_csv(path: Path, scenario: Scenario, *, open_book: bool = False) -> Portfolio:
    """Import real accounts; columns are validated, personal columns dropped.

    Required columns: ``account_id``, ``balance``, ``days_past_due``. Optional:
    ``segment`` (one of the scenario's segments; the first if absent),
    ``past_due`` (else derived from the minimum-due rate), ``phone_known``,
    ``email_known`` (0/1, true/false; else true), ``statement_day`` (the day of
    the month, 1-31, the account's statement falls due; read by ``model = "card"``, which cycles every
    30 days from ``simulation.start_date``), ``entered_on`` (the ISO date
    the account entered the book, on or before ``simulation.start_date``: the
    CSV is the book at the start, so an account entering later is an error
    (arrivals come from ``[arrivals]``); blank: from the start). ``open_book``:
    the CSV is a lender's history over a window from the start date (calibration),
    so an account may enter later; :attr:`Portfolio.entered_day` says when.
    """
    # Read with a limit, never trusting st_size: a device or FIFO named as the
    # CSV is refused, not read until memory runs out.
    text = read_csv_text(path, limit=MAX_CSV_BYTES, kind="portfolio CSV")
    return parse_portfolio_csv(text, scenario, source=str(path), open_book=open_book)


def parse_portfolio_csv(text: str, scenario: Scenario, *, source: str = "<upload>",
                        open_book: bool = False) -> Portfolio:
    reader = csv.reader(io.StringIO(text))
    try:
        return _parse_rows(reader, scenario, source, open_book)
    except csv.Error as err:  # e.g. a cell longer than the csv module's field limit
        raise ScenarioError(source, f"line {reader.line_num}", f"not a readable CSV row ({err})") from None


def _parse_rows(reader, scenario: Scenario, source: str, open_book: bool = False) -> Portfolio:
    header, index = _read_header(reader, source)
    segments = tuple(scenario.portfolio.segments)
    columns: dict[str, list] = {name: [] for name in ("ids", "balances", "past_dues", "dpds", "segs",
                                                      "phones", "emails", "statement_days", "entered_days",
                                                      *STANDING_COLUMNS)}
    seen: set[int] = set()
    for line_no, row in enumerate(reader, start=2):
        if not row or all(not cell.strip() for cell in row):
            continue
        if len(columns["ids"]) >= MAX_ACCOUNTS:
            raise ScenarioError(source, f"line {line_no}", f"more than {MAX_ACCOUNTS:,} accounts; "
                                                           "a portfolio holds at most that many")
        if len(row) != len(header):
            raise ScenarioError(source, f"line {line_no}", f"has {len(row)} fields, the header has {len(header)}")
        values = _parse_row({c: row[i].strip() for c, i in index.items()}, f"line {line_no}", source,
                            scenario, seen, open_book)
        for name, value in zip(columns, values, strict=True):
            columns[name].append(value)
    if not columns["ids"]:
        raise ScenarioError(source, "line 2", "no accounts in the CSV")
    standing = _standing_columns(columns, index)
    return Portfolio(
        account_id=np.array(columns["ids"], dtype=np.int64),
        balance=np.array(columns["balances"], dtype=np.float64),
        past_due=np.array(columns["past_dues"], dtype=np.float64),
        days_past_due=np.array(columns["dpds"], dtype=np.int32),
        segment=np.array(columns["segs"], dtype=np.int16),
        phone_known=np.array(columns["phones"], dtype=bool),
        email_known=np.array(columns["emails"], dtype=bool),
        segment_names=segments,
        statement_day=np.array(columns["statement_days"], dtype=np.int64),
        entered_day=np.array(columns["entered_days"], dtype=np.int64) if "entered_on" in index else None,
        **standing,
    )


def _standing_columns(columns: dict[str, list], index: dict[str, int]) -> dict:
    """The optional ``exclusion``, ``time_zone`` and ``state`` columns as codes (absent column: None)."""
    out: dict = {}
    if "exclusion" in index:
        out["exclusion"] = np.array([0 if not x else EXCLUSIONS.index(x) + 1 for x in columns["exclusion"]],
                                    dtype=np.int8)
    for column, names_field in (("time_zone", "time_zone_names"), ("state", "state_names")):
        if column in index:
            names = tuple(sorted({x for x in columns[column] if x}))
            code = {name: k + 1 for k, name in enumerate(names)}
            out[column] = np.array([code.get(x, 0) for x in columns[column]], dtype=np.int16)
            out[names_field] = names
    return out


def _read_header(reader, source: str) -> tuple[list[str], dict[str, int]]:
    """The header, and the position of each column the model uses."""
    try:
        header = next(reader)
    except StopIteration:
        raise ScenarioError(source, "line 1", "empty CSV; the header needs " + ", ".join(REQUIRED_COLUMNS)) from None
    header = [h.strip() for h in header]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ScenarioError(source, "line 1", f"missing column(s) {', '.join(missing)}; required: {', '.join(REQUIRED_COLUMNS)}")
    if len(set(header)) != len(header):
        raise ScenarioError(source, "line 1", "a column name appears twice")
    # Only the columns the model uses are kept; everything else (names, phones,
    # addresses) is dropped here and never stored.
    return header, {c: header.index(c) for c in (*REQUIRED_COLUMNS, *OPTIONAL_COLUMNS) if c in header}


def _parse_row(cell: dict[str, str], where: str, source: str, scenario: Scenario, seen: set[int],
               open_book: bool = False) -> tuple:
    """One account's values in the order of :func:`_parse_rows`' columns; its id is added to ``seen``."""
    account_id = _whole(cell["account_id"], source, f"{where}: account_id")
    if not 0 <= account_id < 2**63:  # stored as int64
        raise ScenarioError(source, f"{where}: account_id", f"must be between 0 and 2^63-1, got {cell['account_id']}")
    if account_id in seen:
        raise ScenarioError(source, f"{where}: account_id", f"duplicate account id {account_id}")
    seen.add(account_id)
    balance = _number(cell["balance"], source, f"{where}: balance")
    if balance < 0:
        raise ScenarioError(source, f"{where}: balance", f"must be ≥ 0, got {balance:g}")
    if balance > MAX_BALANCE:
        raise ScenarioError(source, f"{where}: balance",
                            f"must be at most {MAX_BALANCE:,.0f} (the largest balance of one account), "
                            f"got {cell['balance']}")
    charge_off = scenario.portfolio.charge_off_dpd
    dpd = _whole(cell["days_past_due"], source, f"{where}: days_past_due")
    if not 0 <= dpd < charge_off:
        raise ScenarioError(source, f"{where}: days_past_due", f"must be between 0 and {charge_off - 1} (charge-off at {charge_off}), got {dpd}")
    segment = 0
    if "segment" in cell:
        segments = tuple(scenario.portfolio.segments)
        name = _unescaped(cell["segment"], segments)
        if name not in segments:
            raise ScenarioError(source, f"{where}: segment", f"unknown segment {cell['segment']!r}; the scenario has: {', '.join(segments)}")
        segment = segments.index(name)
    entered = 0
    if cell.get("entered_on"):
        entered = _entered_day(cell["entered_on"], scenario, source, f"{where}: entered_on", open_book)
    if cell.get("past_due"):
        past_due = _number(cell["past_due"], source, f"{where}: past_due")
        if not 0 <= past_due <= balance + 1e-9:
            raise ScenarioError(source, f"{where}: past_due", "must be between 0 and the balance")
    else:
        past_due = min(balance, math.ceil(dpd / 30) * scenario.portfolio.min_due_rate * balance)
    flags = []
    for column in ("phone_known", "email_known"):
        flag = _parse_bool(cell[column]) if column in cell else True
        if flag is None:
            raise ScenarioError(source, f"{where}: {column}", "must be 0/1 or true/false")
        flags.append(flag)
    return (account_id, balance, round(past_due, 2), dpd, segment, *flags,
            _statement_day(cell.get("statement_day", ""), scenario, source, f"{where}: statement_day"),
            entered, *_standing(cell, source, where))


def _statement_day(text: str, scenario: Scenario, source: str, field: str) -> int:
    """A day of the month (1-31) as the day of the simulator's 30-day cycle counted from the start date."""
    if not text:
        return NO_STATEMENT_DAY
    day = _whole(text, source, field)
    if not 1 <= day <= 31:
        raise ScenarioError(source, field, f"must be a day of the month between 1 and 31, got {text[:40]}")
    return (day - scenario.simulation.start_date.day) % 30


def _standing(cell: dict[str, str], source: str, where: str) -> tuple[str, str, str]:
    """``exclusion``, ``time_zone`` and ``state`` of one row, checked (blank: none, the book's zone, unknown)."""
    exclusion = cell.get("exclusion", "").lower()
    if exclusion and exclusion not in EXCLUSIONS:
        raise ScenarioError(source, f"{where}: exclusion", f"unknown exclusion {cell['exclusion'][:40]!r}; "
                                                           f"allowed: {', '.join(EXCLUSIONS)} or blank")
    zone = cell.get("time_zone", "")
    if zone:
        try:
            time_zone(zone)
        except ValueError as err:
            raise ScenarioError(source, f"{where}: time_zone", printable(str(err))) from None
    state = cell.get("state", "").upper()
    if state and not STATE_CODE.fullmatch(state):
        raise ScenarioError(source, f"{where}: state", f"a state is a two-letter code such as MA, "
                                                       f"got {cell['state'][:40]!r}")
    return exclusion, zone, state


def _unescaped(name: str, segments: tuple[str, ...]) -> str:
    """A segment name as written by a repaylab export: a formula-like name carries a leading ``'``."""
    if name not in segments and name.startswith(ESCAPE) and safe_cell(name[1:]) == name:
        return name[1:]
    return name


def _entered_day(text: str, scenario: Scenario, source: str, field: str, open_book: bool) -> int:
    """``entered_on`` as days from the start date: no later than the start (the CSV is the book at the start),
    or with ``open_book`` (a history over a window) any date before the window's end."""
    try:
        entered = dt.date.fromisoformat(text) if _DATE.fullmatch(text) else None
    except ValueError:  # e.g. 2026-02-30
        entered = None
    if entered is None:
        raise ScenarioError(source, field, f"must be a date written as YYYY-MM-DD, got {text[:40]!r}")
    start = scenario.simulation.start_date
    day = (entered - start).days
    if open_book:
        end = start + dt.timedelta(days=scenario.simulation.days)
        if entered >= end:
            raise ScenarioError(source, field, f"{entered} is not before the window's end {end}; an account "
                                               "entering later has no history in it")
    elif entered > start:
        raise ScenarioError(source, field, f"{entered} is after the start date {start}; a portfolio CSV is the "
                                           "book at the start (accounts entering later come from [arrivals])")
    return day


def _number(text: str, source: str, field: str) -> float:
    if not _DECIMAL.fullmatch(text):
        if text.lower().lstrip("+-") in {"nan", "inf", "infinity"}:
            raise ScenarioError(source, field, f"must be a finite number, got {text!r}")
        raise ScenarioError(source, field, f"must be a number written as {_NUMBER_RULE}; got {text!r}")
    value = float(text)
    if not math.isfinite(value):  # e.g. 1e400
        raise ScenarioError(source, field, f"must be a finite number, got {text!r}")
    return value


def _whole(text: str, source: str, field: str) -> int:
    # Length first: int() of thousands of digits is slow, and no id or day count needs 20.
    if len(text) > 40 or not _WHOLE.fullmatch(text):
        raise ScenarioError(source, field, f"must be an integer written as {_WHOLE_RULE}; got {text[:40]!r}")
    return int(text)


def build_portfolio(scenario: Scenario, rng: np.random.Generator) -> Portfolio:
    """The scenario's accounts: imported from its CSV, or generated."""
    if not scenario.portfolio.csv:
        return generate_portfolio(scenario, rng)
    portfolio = read_portfolio_csv(scenario.csv_path, scenario)  # type: ignore[arg-type]
    if scenario.behavior.model != "card":
        portfolio.statement_day = None
        return portfolio
    # The card model needs every account's statement day: a delinquent account's follows from its days
    # past due; a current account without one gets a day drawn uniformly over the cycle.
    day = portfolio.statement_day
    unset = day == NO_STATEMENT_DAY
    late = unset & (portfolio.days_past_due > 0)
    day[late] = (-portfolio.days_past_due[late].astype(np.int64)) % 30
    current = np.flatnonzero(unset & (portfolio.days_past_due == 0))
    if current.size:
        day[current] = rng.integers(0, 30, current.size)
    return portfolio
