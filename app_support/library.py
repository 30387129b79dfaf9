"""The scenario library: scenarios an analyst saved from the Lab under a name, for Compare and Capacity to reuse.

A saved scenario is a merged, validated TOML file (``Scenario.to_toml``) in a
folder of the app's own: ``$REPAYLAB_LIBRARY``, or ``scenario_library`` beside
the results store. Names are short words of letters, digits, ``-`` and ``_``,
so a name is never a path. Files are written whole or not at all
(:func:`sim.io.write_atomic`) and read back with the command line's loader.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from sim.errors import ScenarioError
from sim.io import write_atomic
from sim.scenario import Scenario, load_scenario
from sim.store import resolve_store_path

NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,59}")
NAME_RULE = "1–60 letters, digits, - or _, starting with a letter or digit"
LIBRARY = "Scenario library"
PREFIX = "saved: "  # how a saved scenario is listed beside the shipped ones


def library_dir() -> Path:
    chosen = os.environ.get("REPAYLAB_LIBRARY")
    return Path(chosen) if chosen else resolve_store_path().resolve().parent / "scenario_library"


def _path(name: str) -> Path:
    if not isinstance(name, str) or not NAME.fullmatch(name):
        raise ScenarioError(LIBRARY, "name", f"{name!r} is not a library name; use {NAME_RULE}")
    return library_dir() / f"{name}.toml"


def saved_scenarios() -> dict[str, Path]:
    """Saved scenarios by name, sorted."""
    folder = library_dir()
    if not folder.is_dir():
        return {}
    return {path.stem: path for path in sorted(folder.glob("*.toml")) if NAME.fullmatch(path.stem)}


def save(name: str, scenario: Scenario, *, replace: bool = False) -> Path:
    """Write ``scenario`` under ``name``; an existing name is refused unless ``replace``."""
    path = _path(name)
    if path.exists() and not replace:
        raise ScenarioError(LIBRARY, "name", f"{name!r} is already in the library; tick \"replace\" or choose "
                                             "another name")
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, scenario.to_toml())
    return path


def delete(name: str) -> None:
    path = _path(name)
    if not path.exists():
        raise ScenarioError(LIBRARY, "name", f"no saved scenario {name!r}")
    path.unlink()


def rename(old: str, new: str) -> None:
    source, target = _path(old), _path(new)
    if not source.exists():
        raise ScenarioError(LIBRARY, "name", f"no saved scenario {old!r}")
    if target.exists():
        raise ScenarioError(LIBRARY, "name", f"{new!r} is already in the library")
    source.rename(target)


def load_saved(name: str, overrides: dict | None = None) -> Scenario:
    """A saved scenario, validated by the command line's loader, with the page's overrides (sizes)."""
    path = _path(name)
    if not path.exists():
        raise ScenarioError(LIBRARY, "name", f"no saved scenario {name!r}")
    return load_scenario(path, overrides or {})


def choices() -> list[str]:
    """What a page's scenario picker lists: the shipped scenarios by stem, then the saved ones ("saved: name")."""
    from .common import shipped_scenarios

    return list(shipped_scenarios()) + [PREFIX + name for name in saved_scenarios()]


def chosen_scenario(choice: str, overrides: dict | None = None) -> tuple[str, Scenario]:
    """The source name and the scenario of a picker's choice (shipped stem or "saved: name")."""
    from .common import shipped_scenarios

    if choice.startswith(PREFIX):
        name = choice.removeprefix(PREFIX)
        return f"saved-{name}.toml", load_saved(name, overrides)
    path = shipped_scenarios()[choice]
    return path.name, load_scenario(path, overrides or {})
