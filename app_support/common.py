"""What every page of the app shares: the shipped files, uploads read as data, errors, money.

The app is a thin layer over :mod:`sim` and :mod:`optimizer`. Scenarios travel
between the pages and the caches as TOML text (hashable, and exactly what a
user can download), and are validated by :func:`sim.load_scenario_text` each
time they are used. Uploads are read as text and parsed as TOML or CSV, never
unpickled or evaluated, and any mistake becomes the same one-line
:class:`~sim.errors.ScenarioError` the command lines print.
"""

from __future__ import annotations

import csv
import io
import math
import tomllib
from pathlib import Path

from sim.errors import ScenarioError
from sim.scenario import Scenario, decode_small_file, load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parent.parent
SCENARIO_DIR = ROOT / "scenarios"
UPLOAD_LIMIT_MB = 1  # what every uploader states ("Limit 1MB per file") and the server accepts
MAX_UPLOAD_BYTES = 1_000_000  # what the app checks: scenario and debt files are a few kilobytes
MAX_CSV_ROWS = 50  # a debt table; DebtFile allows 50 debts

# Sizes that keep a page answering in seconds on two cores.
DEFAULT_ACCOUNTS = 3000
DEFAULT_DAYS = 90
DEFAULT_REPS = 5  # fewer give intervals too wide to decide on (app_support.kpis.TOO_WIDE)


def _shipped_files(debt_files: bool) -> dict[str, Path]:
    """TOML files in ``scenarios/`` by stem: scenarios, or debt files (those with ``[[debts]]``)."""
    found = {}
    for path in sorted(SCENARIO_DIR.glob("*.toml")):
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            continue
        if isinstance(data.get("debts"), list) == debt_files:
            found[path.stem] = path
    return found


def shipped_scenarios() -> dict[str, Path]:
    """Scenario files in ``scenarios/`` by stem; debt files (``[[debts]]``) are left out."""
    return _shipped_files(debt_files=False)


def shipped_debt_files() -> dict[str, Path]:
    """Debt files in ``scenarios/`` (those with ``[[debts]]``) by stem."""
    return _shipped_files(debt_files=True)


def shipped_scenario_text(stem: str, overrides: dict | None = None) -> str:
    """A shipped scenario, merged (``extends``) and overridden, as TOML text."""
    path = shipped_scenarios()[stem]
    return load_scenario(path, overrides or {}).to_toml()


def scenario_from_text(text: str, source: str) -> Scenario:
    """Validate scenario TOML text (a shipped scenario's or an upload's)."""
    return load_scenario_text(text, source=source, base_dir=str(SCENARIO_DIR))


def upload_text(name: str, data: bytes, what: str, extensions: tuple[str, ...] = (".toml",)) -> str:
    """An uploaded file's bytes as text, with the checks the command lines make on files.

    ``what`` names the kind of file for the messages ("scenario", "debt file");
    the name must end in one of ``extensions`` (the browser's file picker
    filters by extension, but a request can carry any name).
    """
    if not name.lower().endswith(extensions):
        raise ScenarioError(name, "", f"a {what} must be a {' or '.join(e.lstrip('.').upper() for e in extensions)} "
                                      f"file ({', '.join(extensions)})")
    needs = {"scenario": "at least [strategy]", "debt file": "a budget and debts"}.get(what, "content")
    return decode_small_file(data, name, kind=what, needs=needs, max_bytes=MAX_UPLOAD_BYTES,
                             fmt="TOML" if extensions == (".toml",) else "text")


def uploaded_scenario(name: str, data: bytes, others: dict[str, bytes] | None = None) -> tuple[Scenario, str]:
    """An uploaded scenario TOML, merged and validated; returns the scenario and its (merged) TOML text.

    ``extends`` names another uploaded file (in ``others``, by file name) or a
    shipped scenario (:func:`app_support.real_data.merged_upload`). An upload
    may not name a portfolio CSV: that would read a file on the server.
    """
    from .real_data import merged_upload  # real_data builds on this module

    text = upload_text(name, data, "scenario")
    texts = {}
    for other, raw in (others or {}).items():
        if other != name:
            texts[other] = upload_text(other, raw, "scenario")
    scenario = merged_upload(name, text, texts)
    return scenario, scenario.to_toml()


def read_csv_rows(name: str, text: str, allowed: tuple[str, ...], required: tuple[str, ...]) -> list[dict]:
    """Rows of a small CSV table as dicts of stripped strings; the header must use ``allowed`` names."""
    reader = csv.reader(io.StringIO(text))
    try:
        rows = list(reader)
    except csv.Error as err:
        raise ScenarioError(name, "", f"not a readable CSV file ({err})") from None
    rows = [r for r in rows if any(cell.strip() for cell in r)]
    if not rows:
        raise ScenarioError(name, "", "file is empty")
    header = [h.strip() for h in rows[0]]
    for column in header:
        if column not in allowed:
            raise ScenarioError(name, column or "header", f"unknown column; allowed: {', '.join(allowed)}")
    if len(set(header)) != len(header):
        raise ScenarioError(name, "header", "a column appears twice")
    for column in required:
        if column not in header:
            raise ScenarioError(name, column, "column is required")
    body = rows[1:]
    if not body:
        raise ScenarioError(name, "", "no rows below the header")
    if len(body) > MAX_CSV_ROWS:
        raise ScenarioError(name, "", f"{len(body)} rows; at most {MAX_CSV_ROWS}")
    out = []
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise ScenarioError(name, f"line {number}", f"has {len(row)} fields, the header {len(header)}")
        out.append({column: cell.strip() for column, cell in zip(header, row, strict=True)})
    return out


def money(amount: float | None, currency: str = "") -> str:
    if amount is None or not math.isfinite(amount):
        return "–"
    sign = "-" if amount < 0 else ""
    return f"{sign}{currency}{abs(amount):,.2f}"


def number(value: float | None, digits: int = 0) -> str:
    if value is None or not math.isfinite(value):
        return "–"
    return f"{value:,.{digits}f}"
