"""repaylab's simulator: portfolios of overdue accounts under collection strategies.

The public names are imported lazily, so that ``python -m sim validate`` and
the other command lines start without loading the engine they do not need.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

_PUBLIC = {
    "InputError": "sim.errors",
    "ScenarioError": "sim.errors",
    "Scenario": "sim.scenario",
    "load_scenario": "sim.scenario",
    "load_scenario_text": "sim.scenario",
    "RunResult": "sim.metrics",
    "simulate": "sim.simulation",
}

__all__ = ["InputError", "RunResult", "Scenario", "ScenarioError", "load_scenario", "load_scenario_text", "simulate"]

if TYPE_CHECKING:  # pragma: no cover
    from .errors import InputError, ScenarioError
    from .metrics import RunResult
    from .scenario import Scenario, load_scenario, load_scenario_text
    from .simulation import simulate


def __getattr__(name: str):
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
