"""A lender's own data in the app: scenario uploads that ``extends`` others, and a portfolio CSV of real accounts.

An uploaded scenario written the README way (``extends = "baseline.toml"``)
is merged over the file it names, which is another file uploaded with it or a
shipped scenario, found by file name only: an upload never reads a path on
the server. The merge is :func:`sim.scenario.deep_merge`, the loader's own.

A portfolio CSV is read by :func:`sim.portfolio.parse_portfolio_csv`, the
command line's reader, so a bad cell is the same one-line error. Once valid it
is kept under the digest of its bytes in a folder of the app's own, and the
scenarios name that file (``portfolio.csv``): every run, cache key and content
hash then covers the accounts, exactly as for a CSV given on the command line.
"""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from sim.errors import ScenarioError
from sim.io import write_atomic
from sim.scenario import Scenario, deep_merge, load_scenario, parse_toml

from .common import SCENARIO_DIR, shipped_scenarios, upload_text, uploaded_scenario
from .library import PREFIX, chosen_scenario

MAX_EXTENDS = 8  # as many files as the loader lets extend one another
PORTFOLIO_DIR = Path(tempfile.gettempdir()) / "repaylab-portfolios"


def _file_name(target: Any, source: str) -> str:
    """The file name an ``extends`` names; a folder in front is ignored (uploads have none, shipped files one)."""
    if not isinstance(target, str) or not target.strip():
        raise ScenarioError(source, "extends", "must be the name of another scenario file")
    return PureWindowsPath(PurePosixPath(target.strip()).name).name


def _checked_layer(data: dict[str, Any], source: str) -> dict[str, Any]:
    """An upload's table, refused where it would read a server file (``portfolio.csv``, ``strategies.from``)."""
    if isinstance(data.get("portfolio"), dict) and "csv" in data["portfolio"]:
        raise ScenarioError(source, "portfolio.csv",
                            "an uploaded scenario cannot name a file on the server; use a generated portfolio "
                            "or upload the accounts as a portfolio CSV")
    for i, arm in enumerate(data.get("strategies") or []):
        if isinstance(arm, dict) and "from" in arm:
            raise ScenarioError(source, f"strategies.{i}.from", "not allowed here; give the strategy's steps")
    if "strategy" in data and "strategies" in data:
        raise ScenarioError(source, "strategies", "give one [strategy] or several [[strategies]], not both")
    return data


def merged_upload(name: str, text: str, others: dict[str, str] | None = None) -> Scenario:
    """An uploaded scenario's TOML merged over what it ``extends`` and validated.

    ``others`` are the other uploaded files' texts by file name; a name not
    among them is looked up among the shipped scenarios.
    """
    others = others or {}
    layers = [_checked_layer(parse_toml(text, name), name)]
    seen = [name]
    base: dict[str, Any] = {}
    while (target := layers[-1].pop("extends", None)) is not None:
        source = seen[-1]
        file_name = _file_name(target, source)
        if file_name in seen:
            raise ScenarioError(source, "extends", f"cycle of extends: {' -> '.join([*seen, file_name])}")
        if len(seen) >= MAX_EXTENDS:
            raise ScenarioError(source, "extends", f"at most {MAX_EXTENDS} files may extend one another")
        if file_name in others:
            layers.append(_checked_layer(parse_toml(others[file_name], file_name), file_name))
            seen.append(file_name)
            continue
        shipped = shipped_scenarios()
        stem = file_name.removesuffix(".toml")
        if stem not in shipped:
            allowed = ", ".join(f"{s}.toml" for s in shipped)
            raise ScenarioError(source, "extends", f"{file_name!r} is neither another uploaded file nor a shipped "
                                                   f"scenario ({allowed})")
        base = load_scenario(shipped[stem]).content()
        break
    merged = base
    for layer in reversed(layers):
        merged = deep_merge(merged, layer)
    return Scenario.from_dict(merged, source=name, base_dir=str(SCENARIO_DIR))


def portfolio_file(name: str, data: bytes, scenarios: list[Scenario]) -> Path:
    """Check an uploaded portfolio CSV against every scenario it will be used with; the file the app keeps.

    Raises the reader's one-line :class:`~sim.errors.ScenarioError` (file,
    line and column, what is allowed) for the first bad cell.
    """
    from sim.portfolio import parse_portfolio_csv

    text = upload_text(name, data, "portfolio", extensions=(".csv",))
    for scenario in scenarios:
        parse_portfolio_csv(text, scenario, source=name)
    path = PORTFOLIO_DIR / f"{hashlib.sha256(data).hexdigest()[:24]}.csv"
    if not path.exists():
        PORTFOLIO_DIR.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
    return path


def with_portfolio(scenario: Scenario, path: Path | None) -> Scenario:
    """The scenario on the uploaded accounts (``portfolio.csv``), or unchanged without a file."""
    if path is None:
        return scenario
    return scenario.with_overrides({"portfolio.csv": str(path)})


def gather_candidates(stems: list[str], uploads: list, portfolio, accounts: int, days: int,
                      saved: list[str] = ()) -> tuple[list[tuple[str, str]], list[str]]:
    """The scenarios a page runs, as ``(source, TOML text)`` at the page's sizes, and the one-line problems.

    ``stems`` are shipped scenarios, ``saved`` scenarios of the library, ``uploads`` Streamlit's uploaded files
    (each may extend another of them), ``portfolio`` an uploaded portfolio CSV
    or None; with it, every scenario works those accounts (and ``accounts`` is
    the CSV's).
    """
    sizes: dict[str, Any] = {"simulation.days": days}
    if portfolio is None:
        sizes["simulation.accounts"] = accounts
    shipped = shipped_scenarios()
    found: list[tuple[str, Scenario]] = []
    problems: list[str] = []
    for stem in stems:
        try:
            found.append((f"{stem}.toml", load_scenario(shipped[stem], sizes)))
        except ScenarioError as err:
            problems.append(str(err))
    for name in saved:
        try:
            found.append(chosen_scenario(PREFIX + name, sizes))
        except ScenarioError as err:
            problems.append(str(err))
    others = {upload.name: upload.getvalue() for upload in uploads}
    for upload in uploads:
        try:
            scenario, _ = uploaded_scenario(upload.name, upload.getvalue(), others)
            found.append((upload.name, scenario.with_overrides(sizes)))
        except ScenarioError as err:
            problems.append(str(err))
    if portfolio is not None and found and not problems:
        try:
            path = portfolio_file(portfolio.name, portfolio.getvalue(), [s for _, s in found])
            found = [(source, with_portfolio(s, path)) for source, s in found]
        except ScenarioError as err:
            problems.append(str(err))
    return [(source, s.to_toml()) for source, s in found], problems
