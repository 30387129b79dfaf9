"""Sweeps and sensitivity: which of an analyst's levers and assumptions matter.

A *sweep* varies chosen scenario fields over a grid (``--set
strategy.steps.0.every_days=1,3,7 --set teams.callers.agents=20,40``): every
combination is a variant, and every variant is compared with the base
scenario under common random numbers, so the trade-off between net recovery
and complaints or cost shows without the noise of separate runs.

*Sensitivity* moves one parameter at a time by ± a step around the base (for
example ``behavior.promise_keep_rate`` ± 0.1) and reports how far each move
shifts a KPI — the data of a tornado chart: the widest bars are the
assumptions the answer depends on.
"""

from __future__ import annotations

import itertools
import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import ScenarioError
from .experiment import Comparison, Estimate, run_experiment
from .scenario import Scenario

MAX_VARIANTS = 500


def parse_scalar(text: str, *, option: str) -> Any:
    """A TOML scalar (``3``, ``0.5``, ``true``, ``"sms"``); a bare word is a string."""
    text = text.strip()
    if not text:
        raise ScenarioError(option, "", "empty value")
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        if text.replace("_", "").replace("-", "").isalnum() and not text[0].isdigit():
            return text
        raise ScenarioError(option, "", f"{text!r} is not a number, boolean or string") from None
    if isinstance(value, (dict, list)):
        raise ScenarioError(option, "", f"{text!r}: only single values (numbers, booleans, strings) can vary")
    return value


def parse_set(text: str) -> tuple[str, list[Any]]:
    """``path=v1,v2,…`` → (path, values)."""
    option = f"--set {text}"
    path, sep, values = text.partition("=")
    path = path.strip()
    if not sep or not path or not values.strip():
        raise ScenarioError(option, "", "expected PATH=VALUE[,VALUE…], e.g. teams.callers.agents=20,40")
    parsed = [parse_scalar(v, option=option) for v in values.split(",")]
    return path, parsed


def parse_param(text: str) -> tuple[str, float]:
    """``path:step`` → (path, step) for one-at-a-time sensitivity."""
    option = f"--param {text}"
    path, sep, step = text.rpartition(":")
    path = path.strip()
    if not sep or not path:
        raise ScenarioError(option, "", "expected PATH:STEP, e.g. behavior.promise_keep_rate:0.1")
    value = parse_scalar(step, option=option)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value <= 0:
        raise ScenarioError(option, "", f"the step must be a number > 0, got {step.strip()!r}")
    return path, value


def _settable(base: Scenario) -> dict[str, Any]:
    """The scenario's content with every team's head count: for a team given per 1,000 accounts, its size in
    full-time agents (``full_time_equivalents``: a part-timer by its share), so ``teams.NAME.agents`` can be
    swept or moved on every team; :func:`_staffing` turns a scaled team's into its ratio."""
    content = base.content()
    for name, team in base.teams.items():
        if team.agents_per_1000 is not None and name in content.get("teams", {}):
            content["teams"][name]["agents"] = round(team.full_time_equivalents, 6)
    return content


def _staffing(base: Scenario, overrides: dict[str, Any]) -> dict[str, Any]:
    """``overrides`` with a scaled team's head count as its ratio: ``teams.NAME.agents = N`` on a team given
    ``agents_per_1000`` is N full-time agents on the book the scenario staffs, i.e. the ratio × N / the
    team's size now (a team of none: N per ``simulation.accounts``).

    So a swept or moved team stays what the scenario means: staffed again on the book at the start of the
    measured days (an open book), a fractional size by a part-time last agent, as the optimizer's
    ``one_more_agent`` and the app's Capacity page vary it. A count in place of the ratio would make every
    agent full-time and fix the team over the warm-up.
    """
    out = {}
    for path, value in overrides.items():
        parts = path.split(".")
        team = base.teams.get(parts[1]) if len(parts) == 3 and parts[::2] == ["teams", "agents"] else None
        if team is None or team.agents_per_1000 is None:
            out[path] = value
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0:
            raise ScenarioError("", path, f"a team's size in full-time agents is a number ≥ 0, got {value!r}")
        now = team.full_time_equivalents
        # value / now first: the base's own size gives the base's ratio exactly (a difference of exactly 0).
        out[f"teams.{parts[1]}.agents_per_1000"] = (team.agents_per_1000 * (value / now) if now > 0
                                                    else value * 1000 / base.simulation.accounts)
    return out


def _get_path(data: Any, path: str, option: str) -> Any:
    node = data
    for part in path.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise ScenarioError(option, path, "no such field in the scenario (check the spelling and list index)")
    return node


def _variant(base: Scenario, overrides: dict[str, Any], option: str) -> Scenario:
    try:
        return base.with_overrides(_staffing(base, overrides))
    except ScenarioError as err:
        raise ScenarioError(option, err.field, err.message) from None


def _short_names(paths: Sequence[str]) -> dict[str, str]:
    """The last part of each path, or more of it where two would read the same."""
    names = {}
    for path in paths:
        parts = path.split(".")
        for n in range(1, len(parts) + 1):
            short = ".".join(parts[-n:])
            if sum(1 for p in paths if p.endswith(short)) == 1 or n == len(parts):
                names[path] = short
                break
    return names


def _fmt(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


@dataclass
class SweepResult:
    """A grid of variants compared with the base: ``values[i]`` are variant i's settings."""

    comparison: Comparison
    paths: list[str]
    values: list[dict[str, Any]]  # per variant (index 0 is the base: {})

    @property
    def labels(self) -> list[str]:
        return self.comparison.labels


def build_grid(base: Scenario, settings: Sequence[tuple[str, list[Any]]]) -> tuple[list[Scenario], list[str],
                                                                                   list[dict[str, Any]]]:
    """Every combination of the settings as a validated variant of ``base``."""
    paths = [p for p, _ in settings]
    if len(set(paths)) != len(paths):
        raise ScenarioError("--set", "", "each path may be set once")
    content = _settable(base)
    for path in paths:
        _get_path(content, path, f"--set {path}")
    combos = list(itertools.product(*[values for _, values in settings]))
    if len(combos) > MAX_VARIANTS:
        raise ScenarioError("--set", "", f"{len(combos)} variants; at most {MAX_VARIANTS}")
    short = _short_names(paths)
    variants, labels, values = [], [], []
    for combo in combos:
        overrides = dict(zip(paths, combo, strict=True))
        option = "--set " + " ".join(f"{p}={_fmt(v)}" for p, v in overrides.items())
        variants.append(_variant(base, overrides, option))
        labels.append(", ".join(f"{short[p]}={_fmt(v)}" for p, v in overrides.items()))
        values.append(overrides)
    return variants, labels, values


def run_sweep(base: Scenario, settings: Sequence[tuple[str, list[Any]]], reps: int, *, base_label: str = "base",
              **kwargs) -> SweepResult:
    """Compare every grid variant with ``base``; ``kwargs`` go to :func:`run_experiment`."""
    variants, labels, values = build_grid(base, settings)
    spec = {"settings": [[p, v] for p, v in settings]}
    comparison = run_experiment([base, *variants], reps, labels=[base_label, *labels], kind="sweep", spec=spec,
                                **kwargs)
    return SweepResult(comparison, [p for p, _ in settings], [{}, *values])


# ----------------------------------------------------------------------------- sensitivity


@dataclass(frozen=True)
class Swing:
    """One parameter's effect on a KPI: the change (vs the base) at base − step and base + step."""

    path: str
    base_value: Any
    low_value: Any
    high_value: Any
    low: Estimate
    high: Estimate

    @property
    def width(self) -> float:
        return abs(self.high.mean - self.low.mean)

    def to_json(self) -> dict[str, Any]:
        return {"param": self.path, "base_value": self.base_value, "low_value": self.low_value,
                "high_value": self.high_value, "low": self.low.to_json(), "high": self.high.to_json()}


@dataclass
class SensitivityResult:
    comparison: Comparison
    kpi: str
    swings: list[Swing]  # widest first

    def to_json(self) -> dict[str, Any]:
        base = self.comparison.scenarios[0].kpis[self.kpi]
        return {"kpi": self.kpi, "base": base.to_json(), "swings": [s.to_json() for s in self.swings],
                "comparison": self.comparison.to_json()}


def _moves(content: dict, params: Sequence[tuple[str, float]]) -> list[tuple[str, Any, Any, Any]]:
    """Each parameter's (path, base value, base − step, base + step), checked as sensitivity allows."""
    paths = [p for p, _ in params]
    if len(set(paths)) != len(paths):
        raise ScenarioError("--param", "", "each parameter may be given once")
    moves = []
    for path, step in params:
        option = f"--param {path}:{_fmt(step)}"
        value = _get_path(content, path, option)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ScenarioError(option, path, f"is {value!r}; only numeric fields can move by a step")
        if isinstance(value, int) and not float(step).is_integer():
            raise ScenarioError(option, path, f"is a whole number ({value}); give a whole step")
        cast = int if isinstance(value, int) else float
        moves.append((path, value, cast(value - step), cast(value + step)))
    return moves


def sensitivity_variants(base: Scenario, params: Sequence[tuple[str, float]]
                         ) -> tuple[list[Scenario], list[str], list[tuple[str, Any, Any, Any]]]:
    """Two variants per parameter, base − step and base + step, validated."""
    moves = _moves(_settable(base), params)
    variants, labels = [], []
    for (path, step), (_, _, low, high) in zip(params, moves, strict=True):
        option = f"--param {path}:{_fmt(step)}"
        for side, moved in (("-", low), ("+", high)):
            try:
                variants.append(_variant(base, {path: moved}, option))
            except ScenarioError as err:
                raise ScenarioError(option, path, f"base {side} step = {_fmt(moved)} is not allowed: "
                                                  f"{err.message}") from None
            labels.append(f"{path}={_fmt(moved)}")
    return variants, labels, moves


def swings(comparison: Comparison, moves: Sequence[tuple[str, Any, Any, Any]], kpi: str) -> list[Swing]:
    """Each parameter's change of ``kpi`` against the base (the comparison's first scenario), widest first.

    The comparison holds the base, then each parameter's − and + variant in
    the order of ``moves``, as :func:`run_sensitivity` runs them.
    """
    labels = comparison.labels
    out = []
    for j, (path, value, low, high) in enumerate(moves):
        low_d = comparison.difference(labels[1 + 2 * j], kpi).estimate
        high_d = comparison.difference(labels[2 + 2 * j], kpi).estimate
        out.append(Swing(path, value, low, high, low_d, high_d))
    out.sort(key=lambda s: s.width, reverse=True)
    return out


def run_sensitivity(base: Scenario, params: Sequence[tuple[str, float]], reps: int, *, kpi: str = "net_recovery",
                    base_label: str = "base", **kwargs) -> SensitivityResult:
    """One-at-a-time sensitivity of ``kpi`` to each parameter, ± its step."""
    from .metrics import SCALAR_KPIS

    if kpi not in SCALAR_KPIS:
        raise ScenarioError("--kpi", "", f"unknown KPI {kpi!r}; allowed: {', '.join(SCALAR_KPIS)}")
    variants, labels, moves = sensitivity_variants(base, params)
    spec = {"params": [[p, s] for p, s in params], "kpi": kpi}
    comparison = run_experiment([base, *variants], reps, labels=[base_label, *labels], kind="sensitivity",
                                spec=spec, **kwargs)
    return SensitivityResult(comparison, kpi, swings(comparison, moves, kpi))


def stored_sensitivity(comparison: Comparison, base_content: dict, spec: dict,
                       kpi: str | None = None) -> SensitivityResult | None:
    """A stored sensitivity experiment's result again (for the report's tornado), from its comparison, the
    base scenario as it ran and the settings it recorded; None if they do not describe one."""
    params = [(str(p), step) for p, step in spec.get("params", [])]
    if comparison.kind != "sensitivity" or not params or len(comparison.labels) != 1 + 2 * len(params):
        return None
    try:
        # A team given per 1,000 accounts is stored as its ratio: its head count is the scenario's to work out.
        moves = _moves(_settable(Scenario.from_dict(base_content, source="the stored base scenario")), params)
    except ScenarioError:
        return None
    kpi = kpi or spec.get("kpi", "net_recovery")
    return SensitivityResult(comparison, kpi, swings(comparison, moves, kpi))
