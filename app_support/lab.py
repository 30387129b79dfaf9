"""The scenario lab's editing: a scenario's ladder and teams as tables, and back into plain data.

Tables come back from ``st.data_editor`` as pandas frames: blank cells are
NaN, whole numbers may arrive as floats. :func:`clean` turns a row into what
a TOML file would have said (blank → key left out, so the default applies;
3.0 → 3), and :class:`sim.Scenario` then validates it exactly as it validates
a file, so the lab shows the same one-line errors as the command line.
"""

from __future__ import annotations

import math
from typing import Any

from sim.errors import ScenarioError
from sim.scenario import Scenario, Step

# Every field of a ladder step is a column (a step has no identity beyond its row, so a
# field left out of the table would be lost): the usual ones first, any others after.
_FIRST_STEP_COLUMNS = ("channel", "from_dpd", "to_dpd", "every_days", "attempts_per_day", "min_balance",
                       "max_balance", "after_failed", "segments", "team", "send_time")
STEP_COLUMNS = tuple(c for c in _FIRST_STEP_COLUMNS if c in Step.model_fields) + tuple(
    c for c in Step.model_fields if c not in _FIRST_STEP_COLUMNS)
TEAM_COLUMNS = ("name", "kind", "agents", "shifts", "work_days", "visits_per_day", "filings_per_day")
LIST_COLUMNS = {"segments", "shifts", "work_days", "recovery_curve"}  # shown as comma-separated text
NUMBER_LISTS = {"recovery_curve"}  # a step after charge-off's shares by month: numbers when read back
# The team columns only one kind of team uses: blank on the other teams' rows, whose value is kept as it was.
KIND_COLUMNS = {"visits_per_day": ("field", "visits/day"), "filings_per_day": ("legal", "filings/day")}
SWEEP_SECTIONS = ("simulation", "portfolio", "behavior", "strategy", "teams", "compliance", "costs")
NOT_SWEPT = {"simulation.accounts", "simulation.days", "simulation.seed"}


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or (
        isinstance(value, str) and not value.strip())


def clean(row: dict[str, Any]) -> dict[str, Any]:
    """A table row as TOML-like data: blanks dropped, whole floats as ints, lists split on commas."""
    out = {}
    for key, value in row.items():
        if _blank(value):
            continue
        if key in LIST_COLUMNS:
            out[key] = [part.strip() for part in str(value).split(",") if part.strip()]
            if key in NUMBER_LISTS:
                out[key] = [_number(part) for part in out[key]]
        elif isinstance(value, float) and value.is_integer():
            out[key] = int(value)
        elif hasattr(value, "item"):  # numpy scalars from pandas
            out[key] = value.item()
        else:
            out[key] = value
    return out


def _number(text: str) -> float | str:
    """A number typed in a list cell; text that is not one stays text, for the scenario's own error."""
    try:
        return float(text)
    except ValueError:
        return text


def _shown(value: Any, key: str) -> Any:
    if key in LIST_COLUMNS:
        return ", ".join(map(str, value)) if value else None
    return value


def step_rows(content: dict[str, Any]) -> list[dict[str, Any]]:
    return [{c: _shown(step.get(c), c) for c in STEP_COLUMNS}
            for step in content.get("strategy", {}).get("steps", [])]


def team_rows(content: dict[str, Any]) -> list[dict[str, Any]]:
    rows = []
    for name, team in content.get("teams", {}).items():
        row = {"name": name}
        row.update({c: _shown(team.get(c), c) for c in TEAM_COLUMNS[1:]})
        for column, (kind, _) in KIND_COLUMNS.items():
            if team.get("kind") != kind:
                row[column] = None  # does not apply to this team: a blank cell, not its unused default
        rows.append(row)
    return rows


def apply_tables(content: dict[str, Any], steps: list[dict[str, Any]], teams: list[dict[str, Any]]
                 ) -> dict[str, Any]:
    """``content`` with its ladder and teams replaced by the edited rows.

    A team row keeps the fields the table does not show (handle times, success
    rates, …) from the team of the same name. A step has no identity beyond its
    row, so every step field is a column.
    """
    data = dict(content)
    data["strategy"] = dict(content.get("strategy", {}))
    data["strategy"]["steps"] = [clean(r) for r in steps if not all(_blank(v) for v in r.values())]
    old = content.get("teams", {})
    new: dict[str, Any] = {}
    for row in teams:
        if all(_blank(v) for v in row.values()):
            continue
        fields = clean(row)
        name = str(fields.pop("name", "")).strip()
        if not name:
            name = f"team{len(new) + 1}"  # validated below like any other name
        merged = dict(old.get(name, {}))
        for column in TEAM_COLUMNS[1:]:
            kind = KIND_COLUMNS.get(column, (fields.get("kind"),))[0]
            if kind == fields.get("kind") or column in fields:
                merged.pop(column, None)  # shown for this team: the table's cell (blank: the default) rules
        merged.update(fields)
        if "agents" in fields:  # a head count typed in replaces a team's per-1,000 ratio
            merged.pop("agents_per_1000", None)
        new[name] = merged
    data["teams"] = new
    return data


def numeric_paths(content: dict[str, Any]) -> list[str]:
    """Dotted paths of the scenario's single numbers that a sweep can move."""
    out: list[str] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, bool):
            return
        if isinstance(node, (int, float)):
            if path not in NOT_SWEPT:
                out.append(path)
        elif isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}" if path else str(key))
        elif isinstance(node, list) and path.endswith("strategy.steps"):
            for i, value in enumerate(node):
                walk(value, f"{path}.{i}")

    for section in SWEEP_SECTIONS:
        if section in content:
            walk(content[section], section)
    return out


def default_step(value: float) -> float:
    """A quarter of the value (at least 1 for whole numbers; 0.1 for a zero)."""
    if isinstance(value, int):
        return max(1, round(abs(value) / 4))
    return round(abs(value) / 4, 6) or 0.1


def value_at(content: dict[str, Any], path: str) -> Any:
    node: Any = content
    for part in path.split("."):
        node = node[int(part)] if isinstance(node, list) else node[part]
    return node


def field_words(content: dict[str, Any], path: str) -> str:
    """A dotted path as the lab names it: ``strategy.steps.2.every_days`` is "every days of ladder step 3 (call)"."""
    parts = path.split(".")
    if len(parts) == 4 and parts[:2] == ["strategy", "steps"] and parts[2].isdigit():
        steps = content.get("strategy", {}).get("steps", [])
        index = int(parts[2])
        channel = steps[index].get("channel", "") if index < len(steps) else ""
        return f"{parts[3].replace('_', ' ')} of ladder step {index + 1}" + (f" ({channel})" if channel else "")
    return path


def _step_problem(scenario: Scenario, content: dict[str, Any], path: str, step: float) -> str | None:
    """Why ``path`` cannot move by ± ``step`` (in the lab's words), or None when both sides are valid scenarios."""
    value = value_at(content, path)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return f"{field_words(content, path)} is not a number; only numbers can move by a step"
    if isinstance(value, int) and not float(step).is_integer():
        return f"{field_words(content, path)} is a whole number ({value}); give a whole step"
    cast = int if isinstance(value, int) else float
    for side, moved in (("−", cast(value - step)), ("+", cast(value + step))):
        try:
            scenario.with_overrides({path: moved})
        except ScenarioError as err:
            fix = ("no whole step can move it down from there: remove the row or change the field first"
                   if side == "−" and isinstance(value, int) and step <= 1 else
                   f"choose a {'smaller' if side == '−' else 'different'} step or remove the row")
            return (f"{field_words(content, path)} is {value:g}; {value:g} {side} {step:g} = {moved:g} is not "
                    f"allowed ({err.message}): {fix}")
    return None


def sensitivity_params(scenario: Scenario, rows: list[dict[str, Any]]) -> tuple[tuple[str, float], ...]:
    """The tornado table's rows as ``(field, step)``, every step checked before anything runs.

    A mistake is a :class:`~sim.errors.ScenarioError` naming the table's row,
    the field as the lab names it, the step and what to change, so nothing
    starts (no progress bar) until every row can run.
    """
    content = scenario.content()
    chosen: dict[str, float] = {}
    for number, row in enumerate(rows, start=1):
        path, step = row.get("field"), row.get("step")
        if _blank(path) and _blank(step):
            continue
        where = f"row {number}"
        if _blank(path) or _blank(step):
            raise ScenarioError("Sensitivity", where, "give both a field and its ± step")
        step = float(step)
        if not math.isfinite(step) or step <= 0:
            raise ScenarioError("Sensitivity", where, f"the ± step of {field_words(content, path)} must be a "
                                                      f"number above 0, not {step:g}")
        if path in chosen:
            raise ScenarioError("Sensitivity", where, f"{field_words(content, path)} is already in the table once")
        problem = _step_problem(scenario, content, path, step)
        if problem is not None:
            raise ScenarioError("Sensitivity", where, problem)
        chosen[path] = int(step) if isinstance(value_at(content, path), int) else step
    if not chosen:
        raise ScenarioError("Sensitivity", "field", "add at least one field and its ± step")
    return tuple(chosen.items())


def suggested_steps(scenario: Scenario, paths: list[str]) -> list[tuple[str, float]]:
    """The tornado's starting rows: each field with :func:`default_step`, left out when that step cannot run."""
    content = scenario.content()
    rows = [(p, default_step(value_at(content, p))) for p in paths]
    return [(p, step) for p, step in rows if _step_problem(scenario, content, p, step) is None]


# What each cost in [costs] is paid for; agency_commission is a share of what the agency collects.
COST_UNITS = {"sms": "per SMS", "email": "per e-mail", "letter": "per letter", "agent_minute": "per agent minute",
              "field_visit": "per visit", "legal_filing": "per filing", "complaint": "per complaint"}


def cost_label(name: str, currency: str) -> str:
    """A cost's input label with its unit: "sms (USD per SMS)", "agency commission (% of collections)"."""
    if name == "agency_commission":
        return "agency commission (% of what it collects)"
    return f"{name.replace('_', ' ')} ({currency} {COST_UNITS.get(name, 'each')})"



def kind_columns_shown(content: dict[str, Any]) -> dict[str, str | None]:
    """The teams table's per-kind columns: their label when a team of that kind exists, None (hidden) otherwise."""
    kinds = {team.get("kind") for team in content.get("teams", {}).values()}
    return {column: label if kind in kinds else None for column, (kind, label) in KIND_COLUMNS.items()}
