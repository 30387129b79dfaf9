"""Exports other programs read as data: CSV no spreadsheet runs as a formula, JSON with dates as text.

Scenario names, variant labels, team and debt names are the user's text, and
every CSV repaylab writes (compare, sweep, sensitivity, export, the payoff
schedule, the app's downloads) may be opened in Excel or LibreOffice, which
run a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or with a tab or a
carriage return before one) as a formula: ``=HYPERLINK(...)`` leaks data,
``=cmd|...`` runs a program. Such a text cell is written with a leading
``'``, which spreadsheets read as "this is text" and do not show, as the
OWASP advice on CSV injection says. Numbers are left alone, negative ones
included, so a column of numbers stays a column of numbers.

A sweep may set any TOML value, dates and times included (``--set
simulation.start_date=2026-03-02,2026-03-09``); :func:`json_data` turns them
into ISO strings wherever settings go to JSON (``--json``, the store).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"


def _is_number_text(text: str) -> bool:
    """``-12.5`` or ``+3``: a number a spreadsheet reads as a number, not a formula."""
    try:
        return math.isfinite(float(text)) and text.strip() == text
    except ValueError:
        return False


def safe_cell(value: Any) -> Any:
    """``value`` as it may go into a CSV cell: a formula-like text gets a leading ``'``; anything else is kept."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS) or _is_number_text(value):
        return value
    return ESCAPE + value


def safe_row(row: Mapping[str, Any]) -> dict[str, Any]:
    """Every cell of a row through :func:`safe_cell`; the column names too (they may be labels)."""
    return {safe_cell(k): safe_cell(v) for k, v in row.items()}


def safe_frame(frame):
    """A copy of a pandas frame with its text cells and column names through :func:`safe_cell`."""
    out = frame.copy()
    for column in out.columns:
        if out[column].dtype == object or str(out[column].dtype) in ("string", "str"):
            out[column] = out[column].map(safe_cell)
    out.columns = [safe_cell(c) if isinstance(c, str) else c for c in out.columns]
    return out


def csv_text(rows: Iterable[Mapping[str, Any]], fieldnames: Sequence[str]) -> str:
    """Rows as CSV text, every cell made safe; a missing field (or a NaN) is a blank cell."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[safe_cell(f) for f in fieldnames], lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({safe_cell(f): _blank_nan(safe_cell(row.get(f, ""))) for f in fieldnames})
    return buffer.getvalue()


def _blank_nan(value: Any) -> Any:
    return "" if isinstance(value, float) and not math.isfinite(value) else value


def fieldnames_of(rows: Iterable[Mapping[str, Any]]) -> list[str]:
    """Every key of every row, in the order first seen (rows need not share their columns)."""
    seen: dict[str, None] = {}
    for row in rows:
        seen.update(dict.fromkeys(row))
    return list(seen)


def json_data(value: Any) -> Any:
    """``value`` as plain JSON data: dates, times and date-times (TOML values) as ISO 8601 strings."""
    if isinstance(value, Mapping):
        return {str(k): json_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_data(v) for v in value]
    if isinstance(value, (dt.date, dt.time)):  # a dt.datetime is a dt.date
        return value.isoformat()
    return value
