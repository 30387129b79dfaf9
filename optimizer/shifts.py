"""Shifts of agents: the fewest agents whose shifts cover each hour's requirement.

A shift pattern is the set of clock hours an agent on it is at work (an
8-hour shift, a shift with an unpaid break hour, a split shift
``09:00-13:00+14:00-18:00``). Given how many agents each hour needs
(:func:`optimizer.staffing.requirements_by_hour`), the integer program

    minimise    Σ_p cost_p · x_p
    subject to  Σ_{p covers h} x_p ≥ required_h     for every hour h   (cover_{h})
                x_p ≥ 0 integer

chooses how many agents work each pattern. Over several days (requirements of
length 24·D) every pattern is offered on every day, so the answer counts
agent-shifts per day; weekly tours (five days on, two off) are not modelled.

Build (:func:`build_shift_model`), solve (:func:`solve_shift_model`) and report
(:class:`Roster`) are separate; :func:`schedule_shifts` does all three.
Infeasible is a status of the result, never an exception.
"""

from __future__ import annotations

import math
import re
import time
import warnings
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulp

from . import solvers

HOURS_PER_DAY = 24

__all__ = [
    "Roster",
    "ShiftModel",
    "ShiftPattern",
    "build_shift_model",
    "parse_clock_hour",
    "schedule_shifts",
    "solve_shift_model",
    "standard_shifts",
]

_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_clock_hour(text: str) -> int:
    """``"09:00"`` → 9; ``"24:00"`` is the end of the day. Shifts run on whole hours."""
    match = _CLOCK.match(text)
    if not match:
        raise ValueError(f"expected a time 'HH:00', got {text!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 24 or minute >= 60 or (hour == 24 and minute):
        raise ValueError(f"time {text.strip()!r} is outside the day 00:00-24:00")
    if minute:
        raise ValueError(f"shifts start and end on the hour, got {text.strip()!r}")
    return hour


def _clock(hour: int) -> str:
    return f"{hour:02d}:00"


@dataclass(frozen=True)
class ShiftPattern:
    """The hours of the day (0-23) an agent on this pattern works, and its cost."""

    name: str
    hours: tuple[int, ...]
    cost: float = 1.0

    def __post_init__(self) -> None:
        hours = tuple(sorted(set(self.hours)))
        if not hours:
            raise ValueError(f"shift pattern {self.name!r} covers no hour")
        if hours[0] < 0 or hours[-1] >= HOURS_PER_DAY:
            raise ValueError(f"shift pattern {self.name!r} has hours outside 0-23")
        if not (math.isfinite(self.cost) and self.cost >= 0):
            raise ValueError(f"shift pattern {self.name!r} needs a cost ≥ 0")
        object.__setattr__(self, "hours", hours)

    @classmethod
    def parse(
        cls, text: str | Sequence[str], cost: float = 1.0, name: str | None = None
    ) -> ShiftPattern:
        """A pattern from ``"08:00-16:00"``, a split shift ``"09:00-13:00+14:00-18:00"``
        (``,`` also separates the pieces), or a list of such pieces."""
        pieces = [text] if isinstance(text, str) else list(text)
        segments = [s.strip() for piece in pieces for s in re.split(r"[+,]", piece) if s.strip()]
        if not segments:
            raise ValueError(f"empty shift pattern {text!r}")
        hours: list[int] = []
        for segment in segments:
            if segment.count("-") != 1:
                raise ValueError(f"a shift is 'HH:00-HH:00', got {segment!r}")
            start_text, end_text = segment.split("-")
            start, end = parse_clock_hour(start_text), parse_clock_hour(end_text)
            if start >= end:
                raise ValueError(
                    f"shift {segment!r} ends before it starts (start must be before end)"
                )
            overlap = set(hours) & set(range(start, end))
            if overlap:
                raise ValueError(f"pieces of shift {text!r} overlap at {_clock(min(overlap))}")
            hours.extend(range(start, end))
        return cls(name=name or "+".join(segments), hours=tuple(hours), cost=cost)

    @property
    def paid_hours(self) -> int:
        return len(self.hours)


def standard_shifts(
    length: int = 8,
    *,
    starts: Iterable[int] | None = None,
    break_after: int | None = None,
    cost: Literal["agents", "hours"] = "agents",
) -> list[ShiftPattern]:
    """Shifts of ``length`` working hours starting at each hour in ``starts``.

    ``break_after`` inserts one unpaid break hour after that many hours (an
    8-hour shift with ``break_after=4`` spans 9 clock hours). Starts whose
    shift would run past midnight are skipped. ``cost`` is ``"agents"`` (each
    agent costs 1) or ``"hours"`` (cost = working hours).
    """
    if length < 1 or length > HOURS_PER_DAY:
        raise ValueError(f"shift length must be 1-24 hours, got {length}")
    if break_after is not None and not (0 < break_after < length):
        raise ValueError(f"break_after must be between 1 and {length - 1} hours, got {break_after}")
    if cost not in ("agents", "hours"):
        raise ValueError(f"cost must be 'agents' or 'hours', got {cost!r}")
    span = length + (1 if break_after is not None else 0)
    patterns = []
    for start in range(HOURS_PER_DAY) if starts is None else starts:
        if start < 0 or start + span > HOURS_PER_DAY:
            continue
        hours = [
            h for h in range(start, start + span) if break_after is None or h != start + break_after
        ]
        name = f"{_clock(start)}-{_clock(start + span)}"
        if break_after is not None:
            name += f" (break {_clock(start + break_after)})"
        patterns.append(
            ShiftPattern(name, tuple(hours), 1.0 if cost == "agents" else float(length))
        )
    return patterns


# ----------------------------------------------------------------------------- build


@dataclass
class ShiftModel:
    """The integer program as built: PuLP problem, variables keyed by (pattern, day)."""

    problem: pulp.LpProblem
    variables: dict[tuple[str, int], pulp.LpVariable]
    patterns: dict[str, ShiftPattern]
    required: dict[int, int]
    days: int
    uncovered: tuple[int, ...]

    def covering(self, hour: int) -> list[tuple[str, int]]:
        """The (pattern, day) keys whose agents work in absolute hour ``hour``."""
        day, clock = divmod(hour, HOURS_PER_DAY)
        return [(name, day) for name, p in self.patterns.items() if clock in p.hours]


def _requirements(requirements: Mapping[int, float] | Sequence[float]) -> dict[int, int]:
    items = requirements.items() if isinstance(requirements, Mapping) else enumerate(requirements)
    required = {}
    for hour, value in items:
        hour, value = int(hour), float(value)
        if hour < 0:
            raise ValueError(f"hours are counted from 0, got {hour}")
        if not math.isfinite(value) or value < 0:
            raise ValueError(f"requirement for hour {hour} must be a number ≥ 0, got {value!r}")
        required[hour] = math.ceil(value - 1e-9)
    return dict(sorted(required.items()))


def build_shift_model(
    requirements: Mapping[int, float] | Sequence[float],
    patterns: Sequence[ShiftPattern | str],
    *,
    days: int | None = None,
    max_per_pattern: int | None = None,
) -> ShiftModel:
    """Build the covering integer program.

    ``requirements`` maps absolute hour (day·24 + clock hour) to agents
    required, or is a sequence indexed by hour. ``patterns`` are
    :class:`ShiftPattern` objects or strings for :meth:`ShiftPattern.parse`.
    ``days`` defaults to the number of days the requirements span. Each
    constraint is named ``cover_{hour}``; hours that need agents but that no
    pattern covers are listed in ``uncovered`` (the model is then infeasible).
    """
    required = _requirements(requirements)
    parsed = [ShiftPattern.parse(p) if isinstance(p, str) else p for p in patterns]
    by_name: dict[str, ShiftPattern] = {}
    for pattern in parsed:
        if pattern.name in by_name:
            raise ValueError(f"two shift patterns are called {pattern.name!r}")
        by_name[pattern.name] = pattern
    span_days = (max(required) // HOURS_PER_DAY + 1) if required else 1
    days = span_days if days is None else int(days)
    if days < span_days:
        raise ValueError(f"requirements run over {span_days} days but days={days}")

    problem = pulp.LpProblem("shift_cover", pulp.LpMinimize)
    variables = {
        (name, day): problem.add_variable(
            f"agents_{index}_d{day}", lowBound=0, upBound=max_per_pattern, cat=pulp.LpInteger
        )
        for index, name in enumerate(by_name)
        for day in range(days)
    }
    problem += pulp.lpSum(by_name[name].cost * var for (name, _), var in variables.items()), "cost"
    model = ShiftModel(problem, variables, by_name, required, days, ())
    uncovered = []
    for hour, need in required.items():
        if need <= 0:
            continue
        keys = model.covering(hour)
        if not keys:
            uncovered.append(hour)
            continue
        problem += pulp.lpSum(variables[k] for k in keys) >= need, f"cover_{hour}"
    model.uncovered = tuple(uncovered)
    return model


# ----------------------------------------------------------------------------- solve and report


@dataclass(frozen=True)
class Roster:
    """The solved schedule: status, agents per pattern, coverage and slack per hour.

    ``status`` is ``"optimal"``, ``"feasible"`` (a roster, not proven optimal:
    the time limit ran out), ``"infeasible"``, ``"unbounded"`` or
    ``"not_solved"``. ``agents`` maps pattern name (prefixed ``"day D "`` when
    the horizon has several days) to agents; ``coverage``, ``required`` and
    ``slack`` (coverage − required) are keyed by absolute hour.
    """

    status: str
    message: str
    solver: str
    time_limit: float | None
    seconds: float
    total_agents: int | None = None
    objective: float | None = None
    agents: dict[str, int] = field(default_factory=dict)
    coverage: dict[int, int] = field(default_factory=dict)
    required: dict[int, int] = field(default_factory=dict)
    slack: dict[int, int] = field(default_factory=dict)
    uncovered: tuple[int, ...] = ()

    @property
    def success(self) -> bool:
        return self.status in ("optimal", "feasible")

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "message": self.message,
            "solver": self.solver,
            "time_limit": self.time_limit,
            "seconds": self.seconds,
            "total_agents": self.total_agents,
            "objective": self.objective,
            "agents": dict(self.agents),
            "coverage": {str(h): c for h, c in self.coverage.items()},
            "required": {str(h): r for h, r in self.required.items()},
            "slack": {str(h): s for h, s in self.slack.items()},
            "uncovered": list(self.uncovered),
        }


def _cbc(time_limit: float | None) -> pulp.LpSolver:
    # PuLP 3.3 marks its bundled CBC as deprecated (removed in 4.0, pinned out by
    # pyproject); it is still the fallback that needs nothing else installed.
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore", message="PULP_CBC_CMD is deprecated", category=DeprecationWarning
        )
        return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)


def _solvers(solver: str, time_limit: float | None) -> Iterator[tuple[str, pulp.LpSolver]]:
    """The solvers to try in turn: HiGHS then CBC, or CBC alone."""
    if solver not in ("highs", "cbc"):
        raise ValueError(f"solver must be 'highs' or 'cbc', got {solver!r}")
    if solver == "highs":
        highs = pulp.HiGHS(msg=False, timeLimit=time_limit)
        if highs.available():
            yield "highs", highs
    cbc = _cbc(time_limit)  # the fallback if highspy is missing or fails
    if cbc.available():
        yield "cbc", cbc


def solve_shift_model(
    model: ShiftModel, *, solver: str = "highs", time_limit: float | None = 30.0
) -> Roster:
    """Solve with HiGHS (CBC as fallback) and report a :class:`Roster`."""
    started = time.perf_counter()
    common = {"time_limit": time_limit, "required": dict(model.required)}
    if model.uncovered:
        hours = ", ".join(str(h) for h in model.uncovered)
        return Roster(
            status="infeasible",
            message=f"no shift pattern covers hour(s) {hours}, which need agents",
            solver="none",
            seconds=time.perf_counter() - started,
            uncovered=model.uncovered,
            **common,
        )
    errors = []
    for name, candidate in _solvers(solver, time_limit):
        try:
            solvers.solve(model.problem, candidate)
        except pulp.PulpSolverError as err:  # try the next solver
            errors.append(f"{name}: {err}")
            continue
        return _report(model, name, started, time_limit)
    return Roster(
        status="not_solved",
        message="no solver ran: " + ("; ".join(errors) or "neither HiGHS nor CBC is available"),
        solver="none",
        seconds=time.perf_counter() - started,
        **common,
    )


def _report(model: ShiftModel, solver: str, started: float, time_limit: float | None) -> Roster:
    status_code, solution_code = model.problem.status, model.problem.sol_status
    if status_code == pulp.LpStatusOptimal and solution_code == pulp.LpSolutionIntegerFeasible:
        status = "feasible"
    else:
        status = {
            pulp.LpStatusOptimal: "optimal",
            pulp.LpStatusInfeasible: "infeasible",
            pulp.LpStatusUnbounded: "unbounded",
        }.get(status_code, "not_solved")
    common = {
        "status": status,
        "solver": solver,
        "time_limit": time_limit,
        "seconds": time.perf_counter() - started,
        "required": dict(model.required),
    }
    if status not in ("optimal", "feasible"):
        return Roster(message=f"the solver reports {pulp.LpStatus[status_code]}", **common)
    counts = {key: round(var.value() or 0.0) for key, var in model.variables.items()}
    agents = {
        (name if model.days == 1 else f"day {day} {name}"): n for (name, day), n in counts.items()
    }
    hours = range(max(model.days * HOURS_PER_DAY, max(model.required, default=0) + 1))
    coverage = {h: sum(counts[k] for k in model.covering(h)) for h in hours}
    slack = {h: coverage[h] - model.required.get(h, 0) for h in hours}
    return Roster(
        message="optimal roster"
        if status == "optimal"
        else "time limit reached; roster not proven optimal",
        total_agents=sum(counts.values()),
        objective=float(pulp.value(model.problem.objective) or 0.0),
        agents=agents,
        coverage=coverage,
        slack=slack,
        **common,
    )


def schedule_shifts(
    requirements: Mapping[int, float] | Sequence[float],
    patterns: Sequence[ShiftPattern | str],
    *,
    days: int | None = None,
    max_per_pattern: int | None = None,
    solver: str = "highs",
    time_limit: float | None = 30.0,
) -> Roster:
    """Fewest agents (or least cost) over ``patterns`` covering every hour's requirement.

    Parameters
    ----------
    requirements : agents needed per absolute hour (mapping or sequence); use
        the ``rostered`` counts from :func:`optimizer.staffing.requirements_by_hour`.
    patterns : :class:`ShiftPattern` objects or strings like ``"08:00-16:00"``.
    days : horizon in days (default: what the requirements span).
    max_per_pattern : optional cap on agents per pattern and day.
    solver : ``"highs"`` (CBC as fallback) or ``"cbc"``.
    time_limit : seconds for the solver; ``None`` for no limit.

    Returns
    -------
    Roster, whose ``status`` says whether it is optimal, feasible or infeasible.
    """
    model = build_shift_model(requirements, patterns, days=days, max_per_pattern=max_per_pattern)
    return solve_shift_model(model, solver=solver, time_limit=time_limit)
