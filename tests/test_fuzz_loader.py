"""Fuzzing the scenario loader and the portfolio CSV parser with hypothesis.

Whatever a user uploads or writes, the loaders either return a validated
object or raise :class:`ScenarioError` (one line naming the file): never a
``KeyError``, ``OverflowError``, ``RecursionError`` or pydantic's own error.
Documents are random TOML (valid scenarios with random fields replaced, typos
added or tables dropped, and free-form nested tables), raw text and raw bytes.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import math
import os
import tempfile
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.errors import ScenarioError
from sim.io import check_output_path, read_bounded
from sim.portfolio import REQUIRED_COLUMNS, parse_portfolio_csv
from sim.scenario import MAX_BALANCE, Scenario, load_scenario, load_scenario_text

ROOT = Path(__file__).resolve().parent.parent
BASELINE = tomllib.loads((ROOT / "scenarios" / "baseline.toml").read_text())
FUZZ = settings(max_examples=int(os.environ.get("REPAYLAB_FUZZ_EXAMPLES", "300")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    """Every dotted path in a TOML document (list items by index)."""
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += _paths(value, (*prefix, i))
    return out


BASE_PATHS = _paths(BASELINE)
KNOWN_KEYS = sorted({p[-1] for p in BASE_PATHS if isinstance(p[-1], str)}
                    | set(Scenario.model_fields) | {"extends", "csv", "segments", "team", "send_time"})

# Values a user might type, good and bad: the edges of every range.
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 24, 25, 180, 3650, 10**9, 10**12, 2**63, -(2**63)]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, 0.25, 25.0, 1.0000001, -0.0, 1e-320, 1e308, math.nan, math.inf, -math.inf]),
)
clock_like = st.sampled_from(["09:00-17:00", "17:00-09:00", "25:00", "24:00", "00:00", "9pm", "08:00",
                              "٠٨:٠٠", "12:60", "-", "09:00-13:00", "1-30", "181-210", "low", "vip"])
words = st.one_of(clock_like, st.sampled_from(KNOWN_KEYS), st.text(max_size=12))
dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
scalars = st.one_of(numbers, words, st.booleans(), dates)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(st.lists(inner, max_size=5),
                            st.dictionaries(st.one_of(st.sampled_from(KNOWN_KEYS), st.text(max_size=8)), inner,
                                            max_size=5)),
    max_leaves=12,
)


def _get(doc: dict, path: tuple) -> Any:
    node: Any = doc
    for part in path:
        node = node[part]
    return node


def _set(doc: dict, path: tuple, value: Any) -> None:
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value


def _delete(doc: dict, path: tuple) -> None:
    node: Any = doc
    for part in path[:-1]:
        node = node[part]
    if isinstance(node, dict):
        del node[path[-1]]


@st.composite
def mutated_scenarios(draw) -> dict:
    """The shipped baseline with a few fields replaced, typos added or tables dropped."""
    doc = copy.deepcopy(BASELINE)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        if not paths:
            break
        action = draw(st.sampled_from(["nudge", "nudge", "nudge", "replace", "replace", "typo", "delete"]))
        numeric = [p for p in paths if isinstance(_get(doc, p), (int, float)) and not isinstance(_get(doc, p), bool)]
        path = draw(st.sampled_from(numeric if action == "nudge" and numeric else paths))
        old = _get(doc, path)
        if action == "nudge" and isinstance(old, (int, float)) and not isinstance(old, bool):
            # Near the shipped value, so that many documents are valid and reach
            # the cross-field checks and the round trip.
            factor = draw(st.sampled_from([0, 0.5, 0.9, 1, 1.1, 2, 10, -1]))
            _set(doc, path, type(old)(old * factor) + draw(st.sampled_from([0, 0, 1, -1])))
        elif action in ("nudge", "replace"):
            _set(doc, path, draw(values))
        elif action == "typo" and isinstance(path[-1], str):
            parent = path[:-1]
            node: Any = doc
            for part in parent:
                node = node[part]
            if isinstance(node, dict):
                node[path[-1] + draw(st.sampled_from(["s", "_", "x"]))] = draw(values)
        else:
            _delete(doc, path)
    return doc


free_documents = st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=10), values, max_size=6)
documents = st.one_of(mutated_scenarios(), free_documents)


def _toml(doc: dict) -> str | None:
    try:
        return tomli_w.dumps(doc)
    except (TypeError, ValueError):  # e.g. a list of mixed tables and values tomli_w will not write
        return None


def _check_loaded(scenario: Scenario) -> None:
    # A scenario that loads is whole: its TOML reloads to the same content.
    again = load_scenario_text(scenario.to_toml(), source="<round trip>")
    assert again.content() == scenario.content()
    assert len(scenario.content_hash) == 16


def _outcome_of_text(text: str) -> None:
    try:
        scenario = load_scenario_text(text, source="<fuzz>")
    except ScenarioError as err:
        assert "\n" not in str(err) and str(err).startswith("<fuzz>")
    else:
        _check_loaded(scenario)


@FUZZ
@given(documents)
def test_random_toml_documents_load_or_raise_scenario_error(doc):
    text = _toml(doc)
    if text is not None:
        _outcome_of_text(text)


@FUZZ
@given(st.one_of(st.text(max_size=300),
                 st.lists(st.sampled_from(["[", "]", "[[strategy.steps]]", "=", '"', "nan", "inf", "\n",
                                           "days", "1_000", "25:00", "[simulation]", "{", "}", ",", "#"]),
                          max_size=40).map("".join)))
def test_random_text_loads_or_raises_scenario_error(text):
    _outcome_of_text(text)


@FUZZ
@given(st.one_of(st.binary(max_size=300), documents.map(lambda d: (_toml(d) or "").encode())))
def test_random_files_load_or_raise_scenario_error(raw):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fuzz.toml"
        path.write_bytes(raw)
        try:
            scenario = load_scenario(path)
        except ScenarioError as err:
            assert "\n" not in str(err) and str(path) in str(err)
        else:
            _check_loaded(scenario)


# ----------------------------------------------------------------------------- portfolio CSV

SCENARIO = Scenario.from_dict({}, source="<fuzz>")
COLUMNS = [*REQUIRED_COLUMNS, "segment", "past_due", "phone_known", "email_known", "name", "phone"]
cells = st.one_of(
    st.integers(-(2**70), 2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(["", "low", "medium", "high", "vip", "1", "0", "true", "maybe", "1e400", "nan",
                     "$1,200", '"', "179", "180", "9" * 30, " 12 ", "١٢", "1_000", "１２", "1e308", "1e9",
                     "1000000000.5", "\x1b[31mlow", "\ufefflow"]),
    st.text(max_size=8),
)


@st.composite
def csv_texts(draw) -> str:
    header = draw(st.lists(st.sampled_from(COLUMNS) | st.text(max_size=6), min_size=0, max_size=8))
    if draw(st.booleans()):
        header = [c for c in COLUMNS[:3] if c not in header] + header
    rows = draw(st.lists(st.lists(cells, min_size=max(0, len(header) - 1), max_size=len(header) + 1), max_size=6))
    sep = draw(st.sampled_from(["\n", "\r\n"]))
    return sep.join(",".join(r) for r in [header, *rows]) + sep


@FUZZ
@given(st.one_of(csv_texts(), st.text(max_size=200)))
def test_random_csv_parses_or_raises_scenario_error(text):
    try:
        book = parse_portfolio_csv(text, SCENARIO, source="<fuzz.csv>")
    except ScenarioError as err:
        assert "\n" not in str(err) and str(err).startswith("<fuzz.csv>")
        return
    # What loads is a valid book.
    assert len(book) >= 1
    assert np.isfinite(book.balance).all() and (book.balance >= 0).all() and (book.balance <= MAX_BALANCE).all()
    assert np.isfinite(book.initial_balance)
    assert ((book.past_due >= 0) & (book.past_due <= book.balance + 1e-9)).all()
    assert ((book.days_past_due >= 0) & (book.days_past_due < SCENARIO.portfolio.charge_off_dpd)).all()
    assert len(set(book.account_id.tolist())) == len(book)


# ----------------------------------------------------------------------------- hostile input (issue 12)

# Characters that look like digits or numbers to Python but not to an accounting
# export: underscores, Arabic-Indic, Persian, Devanagari and full-width digits.
number_like = st.text(alphabet="0123456789_.eE+- ١٢٣۱۲१२１２½", min_size=1, max_size=10)


@FUZZ
@given(number_like, st.sampled_from(["balance", "past_due", "days_past_due", "account_id"]))
def test_csv_numbers_are_ascii_or_an_error(cell, column):
    row = {"account_id": "1", "balance": "100", "days_past_due": "10", "past_due": "0", column: cell}
    text = ",".join(row) + "\n" + ",".join(f'"{v}"' for v in row.values()) + "\n"
    try:
        book = parse_portfolio_csv(text, SCENARIO, source="<fuzz.csv>")
    except ScenarioError as err:
        assert "\n" not in str(err) and str(err).startswith("<fuzz.csv>")
        return
    # What loads was written in ASCII and means what Python's float() says.
    assert cell.strip().isascii() and "_" not in cell
    assert 0 <= book.balance[0] <= MAX_BALANCE


@FUZZ
@given(st.floats(min_value=0, allow_nan=False, allow_infinity=True).map(repr))
def test_csv_balances_never_exceed_the_limit(cell):
    try:
        book = parse_portfolio_csv(f"account_id,balance,days_past_due\n1,{cell},10\n", SCENARIO, source="<fuzz.csv>")
    except ScenarioError:
        return
    assert book.balance[0] <= MAX_BALANCE and np.isfinite(book.initial_balance)


@FUZZ
@given(st.text(max_size=30), st.text(max_size=30), st.text(max_size=60))
def test_error_lines_are_always_one_printable_line(source, field, message):
    line = str(ScenarioError(source, field, message))
    assert line.isprintable()


@FUZZ
@given(st.binary(max_size=3000), st.integers(0, 3000))
def test_read_bounded_returns_the_bytes_or_says_too_large(raw, limit):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.toml"
        path.write_bytes(raw)
        try:
            assert read_bounded(path, limit=limit, kind="scenario") == raw
            assert len(raw) <= limit
        except ScenarioError as err:
            assert len(raw) > limit and "larger than" in str(err)


path_names = st.one_of(st.text(min_size=1, max_size=40),
                       st.lists(st.sampled_from(["..", ".", "a", "f.txt", "\x00", "\x1b[2J", "/", "n" * 300, "nope"]),
                                min_size=1, max_size=5).map("/".join))


@FUZZ
@given(path_names)
def test_any_path_as_a_scenario_or_extends_target_is_one_line(name):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "f.txt").write_text("x")
        (Path(tmp) / "a").mkdir()
        child = Path(tmp) / "child.toml"
        child.write_text(f"extends = {json.dumps(name)}\n")
        for path in (Path(tmp) / name if "\x00" not in name else name, child):
            try:
                load_scenario(path)
            except ScenarioError as err:
                assert str(err).isprintable()


@FUZZ
@given(path_names)
def test_any_output_path_is_checked_without_raising_anything_else(name):
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "f.txt").write_text("x")
        (Path(tmp) / "a").mkdir()
        before = sorted(Path(tmp).rglob("*"))
        try:
            check_output_path(os.path.join(tmp, name), "--csv")
        except ScenarioError as err:
            assert str(err).isprintable()
        assert sorted(Path(tmp).rglob("*")) == before  # a check writes nothing
