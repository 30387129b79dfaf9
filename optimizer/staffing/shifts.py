"""Shifts of agents: the fewest paid hours whose shifts cover each interval's requirement.

A shift pattern is the set of clock periods an agent on it is paid for (an
8-hour shift, a 4-hour part-time shift, a shift with an unpaid break hour, a
split shift ``09:00-13:00+14:00-18:00``), on whole or half hours. Given how
many agents each interval of the day needs
(:func:`optimizer.staffing.requirements.requirements_by_interval`), the integer program

    minimise    Σ_p (cost_p + ε) · x_p
    subject to  Σ_{p covers i} x_p ≥ required_i     for every interval i   (cover_{i})
                x_p ≥ 0 integer

chooses how many agents work each pattern. A pattern's cost is its paid hours
unless given, so the roster buys the fewest paid hours; ε is small enough
never to trade a paid hour for it, and among rosters with the same paid hours
picks the one with the fewest agents. Intervals are ``interval_minutes`` long
(60 or 30) and counted from midnight of day 0; over several days every
pattern is offered on every day, so the answer counts agent-shifts per day;
weekly tours (five days on, two off) are not modelled.

Build (:func:`build_shift_model`), solve (:func:`solve_shift_model`) and report
(:class:`Roster`) are separate; :func:`schedule_shifts` does all three.
Infeasible is a status of the result, never an exception.
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulp

from .. import solvers

HOURS_PER_DAY = 24
MINUTES_PER_DAY = 24 * 60
# Interval lengths the roster works on: whole hours, or half hours.
INTERVAL_MINUTES = (60, 30)
# HiGHS and CBC stop at a relative gap of 1e-4 by default, which on a large
# centre is more than one paid half hour; the cover problem is easy, so ask for less.
GAP = 1e-7

__all__ = [
    "INTERVAL_MINUTES",
    "Roster",
    "ShiftModel",
    "ShiftPattern",
    "build_shift_model",
    "clock",
    "parse_clock_hour",
    "parse_clock_minute",
    "schedule_shifts",
    "solve_shift_model",
    "standard_shifts",
]

_CLOCK = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*$")


def parse_clock_minute(text: str) -> int:
    """``"09:30"`` → 570 minutes after midnight; ``"24:00"`` is the end of the day.

    Times fall on the hour or the half hour, the finest grid the roster works on.
    """
    match = _CLOCK.match(text)
    if not match:
        raise ValueError(f"expected a time 'HH:MM', got {text!r}")
    hour, minute = int(match.group(1)), int(match.group(2))
    if hour > 24 or minute >= 60 or (hour == 24 and minute):
        raise ValueError(f"time {text.strip()!r} is outside the day 00:00-24:00")
    if minute % 30:
        raise ValueError(f"times fall on the hour or the half hour, got {text.strip()!r}")
    return 60 * hour + minute


def parse_clock_hour(text: str) -> int:
    """``"09:00"`` → 9; ``"24:00"`` is the end of the day. Only whole hours."""
    minute = parse_clock_minute(text)
    if minute % 60:
        raise ValueError(f"expected a whole hour 'HH:00', got {text.strip()!r}")
    return minute // 60


def clock(minute: int) -> str:
    """Minutes after midnight → ``"HH:MM"``; a later day is prefixed ``"day D "``."""
    day, minute = divmod(int(minute), MINUTES_PER_DAY)
    text = f"{minute // 60:02d}:{minute % 60:02d}"
    return text if day == 0 else f"day {day} {text}"


@dataclass(frozen=True)
class ShiftPattern:
    """The periods of the day an agent on this pattern is paid for, and its cost.

    ``periods`` are (start, end) minutes after midnight, within 00:00-24:00,
    sorted and not overlapping. ``cost`` defaults to the paid hours, which is
    what the roster minimises.
    """

    name: str
    periods: tuple[tuple[int, int], ...]
    cost: float | None = None

    def __post_init__(self) -> None:
        periods = tuple(sorted((int(a), int(b)) for a, b in self.periods))
        if not periods:
            raise ValueError(f"shift pattern {self.name!r} covers no time")
        for (start, end), following in zip(
            periods, periods[1:] + ((MINUTES_PER_DAY, 0),), strict=True
        ):
            if start < 0 or end > MINUTES_PER_DAY or start >= end:
                raise ValueError(f"shift pattern {self.name!r} has a period outside 00:00-24:00")
            if following[0] < end:
                raise ValueError(f"pieces of shift {self.name!r} overlap at {clock(following[0])}")
        cost = self.paid_minutes(periods) / 60.0 if self.cost is None else float(self.cost)
        if not (math.isfinite(cost) and cost >= 0):
            raise ValueError(f"shift pattern {self.name!r} needs a cost ≥ 0")
        object.__setattr__(self, "periods", periods)
        object.__setattr__(self, "cost", cost)

    @staticmethod
    def paid_minutes(periods: Iterable[tuple[int, int]]) -> int:
        return sum(end - start for start, end in periods)

    @classmethod
    def parse(
        cls, text: str | Sequence[str], cost: float | None = None, name: str | None = None
    ) -> ShiftPattern:
        """A pattern from ``"08:00-16:00"``, ``"08:30-12:30"``, a split shift
        ``"09:00-13:00+14:00-18:00"`` (``,`` also separates the pieces), or a
        list of such pieces. Times fall on the hour or the half hour."""
        pieces = [text] if isinstance(text, str) else list(text)
        segments = [s.strip() for piece in pieces for s in re.split(r"[+,]", piece) if s.strip()]
        if not segments:
            raise ValueError(f"empty shift pattern {text!r}")
        periods = []
        for segment in segments:
            if segment.count("-") != 1:
                raise ValueError(f"a shift is 'HH:MM-HH:MM', got {segment!r}")
            start_text, end_text = segment.split("-")
            start, end = parse_clock_minute(start_text), parse_clock_minute(end_text)
            if start >= end:
                raise ValueError(
                    f"shift {segment!r} ends before it starts (start must be before end)"
                )
            periods.append((start, end))
        return cls(name=name or "+".join(segments), periods=tuple(periods), cost=cost)

    @property
    def paid_hours(self) -> float:
        return self.paid_minutes(self.periods) / 60.0

    @property
    def hours(self) -> tuple[int, ...]:
        """The clock hours (0-23) worked from start to end."""
        return tuple(h for h in range(HOURS_PER_DAY) if self.covers(60 * h, 60))

    def covers(self, start: int, minutes: int) -> bool:
        """Whether an agent on this pattern is paid for the whole of [start, start + minutes)."""
        return any(a <= start and start + minutes <= b for a, b in self.periods)

    def on_grid(self, minutes: int) -> bool:
        return all(a % minutes == 0 and b % minutes == 0 for a, b in self.periods)


def standard_shifts(
    length: float = 8,
    *,
    starts: Iterable[float] | None = None,
    break_after: float | None = None,
    cost: Literal["agents", "hours"] = "hours",
    interval_minutes: int = 60,
) -> list[ShiftPattern]:
    """Shifts of ``length`` paid hours starting at each hour in ``starts``.

    ``length`` is a whole number of intervals (7.5 hours needs half-hour
    intervals). ``starts`` are clock hours (8.5 is 08:30); by default every
    interval of the day. ``break_after`` inserts one unpaid break hour after
    that many hours (an 8-hour shift with ``break_after=4`` spans 9 clock
    hours). Starts whose shift would run past midnight are skipped. ``cost``
    is ``"hours"`` (cost = paid hours, the default) or ``"agents"`` (each
    agent costs 1: the roster then minimises head count).
    """
    step = _interval(interval_minutes)
    span, periods = _shape(length, break_after, step)
    if cost not in ("agents", "hours"):
        raise ValueError(f"cost must be 'agents' or 'hours', got {cost!r}")
    if starts is None:
        minutes = range(0, MINUTES_PER_DAY, step)
    else:
        minutes = [round(60 * float(s)) for s in starts]
    patterns = []
    for start in minutes:
        if start < 0 or start % step or start + span > MINUTES_PER_DAY:
            continue
        shifted = tuple((start + a, start + b) for a, b in periods)
        name = (
            f"{clock(start)}-{clock(start + span) if start + span < MINUTES_PER_DAY else '24:00'}"
        )
        if break_after is not None and len(periods) > 1:
            name += f" (break {clock(shifted[0][1])})"
        patterns.append(ShiftPattern(name, shifted, 1.0 if cost == "agents" else None))
    return patterns


def _interval(minutes: int) -> int:
    if minutes not in INTERVAL_MINUTES:
        raise ValueError(f"interval_minutes must be 60 or 30, got {minutes!r}")
    return minutes


def _shape(
    length: float, break_after: float | None, step: int
) -> tuple[int, tuple[tuple[int, int], ...]]:
    """A shift's span and its paid periods, in minutes from its start."""
    paid = round(60 * float(length))
    if not (0 < paid <= MINUTES_PER_DAY) or abs(60 * float(length) - paid) > 1e-9 or paid % step:
        raise ValueError(
            f"shift length must be a whole number of {step}-minute intervals up to 24 hours, "
            f"got {length!r}"
        )
    if break_after is None or round(60 * float(break_after)) >= paid:
        return paid, ((0, paid),)  # the break applies to longer shifts only
    before = round(60 * float(break_after))
    if before <= 0 or before % step:
        raise ValueError(
            f"break_after must be a whole number of {step}-minute intervals > 0, got {break_after!r}"
        )
    return paid + 60, ((0, before), (before + 60, paid + 60))


# ----------------------------------------------------------------------------- build


@dataclass
class ShiftModel:
    """The integer program as built: PuLP problem, variables keyed by (pattern, day).

    ``required`` is keyed by absolute interval (day · intervals a day + interval
    of the day), each ``interval_minutes`` long.
    """

    problem: pulp.LpProblem
    variables: dict[tuple[str, int], pulp.LpVariable]
    patterns: dict[str, ShiftPattern]
    required: dict[int, int]
    days: int
    uncovered: tuple[int, ...]
    interval_minutes: int = 60

    @property
    def per_day(self) -> int:
        return MINUTES_PER_DAY // self.interval_minutes

    def covering(self, interval: int) -> list[tuple[str, int]]:
        """The (pattern, day) keys whose agents work in absolute interval ``interval``."""
        day, slot = divmod(interval, self.per_day)
        start = slot * self.interval_minutes
        return [
            (name, day)
            for name, p in self.patterns.items()
            if p.covers(start, self.interval_minutes)
        ]


def _requirements(requirements: Mapping[int, float] | Sequence[float]) -> dict[int, int]:
    items = requirements.items() if isinstance(requirements, Mapping) else enumerate(requirements)
    required = {}
    for interval, value in items:
        interval, value = int(interval), float(value)
        if interval < 0:
            raise ValueError(f"intervals are counted from 0, got {interval}")
        if not math.isfinite(value) or value < 0:
            raise ValueError(
                f"requirement for interval {interval} must be a number ≥ 0, got {value!r}"
            )
        required[interval] = math.ceil(value - 1e-9)
    return dict(sorted(required.items()))


def _tie_break(required: dict[int, int], patterns: Iterable[ShiftPattern]) -> float:
    """The cost ε of one agent: less than any paid half hour the head count could buy.

    A cost-optimal roster has at most Σ required × (dearest / cheapest pattern)
    agents (one agent per needed interval is a roster), so ε × that many agents
    stays below half the smallest positive cost step.
    """
    costs = [p.cost for p in patterns if p.cost > 0]
    if not costs:
        return 1.0
    bound = 1 + sum(required.values()) * max(costs) / min(costs)
    return 0.25 * min(min(costs), 0.5) / bound


def build_shift_model(
    requirements: Mapping[int, float] | Sequence[float],
    patterns: Sequence[ShiftPattern | str],
    *,
    days: int | None = None,
    max_per_pattern: int | None = None,
    interval_minutes: int = 60,
) -> ShiftModel:
    """Build the covering integer program.

    ``requirements`` maps absolute interval (day · intervals a day + interval
    of the day; with ``interval_minutes=60`` that is day·24 + clock hour) to
    agents required, or is a sequence indexed by interval. ``patterns`` are
    :class:`ShiftPattern` objects or strings for :meth:`ShiftPattern.parse`,
    and must start and end on the grid. ``days`` defaults to the number of days
    the requirements span. Each constraint is named ``cover_{interval}``;
    intervals that need agents but that no pattern covers are listed in
    ``uncovered`` (the model is then infeasible).
    """
    step = _interval(interval_minutes)
    required = _requirements(requirements)
    by_name = _patterns_by_name(patterns, step)
    per_day = MINUTES_PER_DAY // step
    span_days = (max(required) // per_day + 1) if required else 1
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
    per_agent = _tie_break(required, by_name.values())
    problem += (
        pulp.lpSum((by_name[name].cost + per_agent) * var for (name, _), var in variables.items()),
        "cost",
    )
    model = ShiftModel(problem, variables, by_name, required, days, (), step)
    uncovered = []
    for interval, need in required.items():
        if need <= 0:
            continue
        keys = model.covering(interval)
        if not keys:
            uncovered.append(interval)
            continue
        problem += pulp.lpSum(variables[k] for k in keys) >= need, f"cover_{interval}"
    model.uncovered = tuple(uncovered)
    return model


def _patterns_by_name(patterns: Sequence[ShiftPattern | str], step: int) -> dict[str, ShiftPattern]:
    parsed = [ShiftPattern.parse(p) if isinstance(p, str) else p for p in patterns]
    by_name: dict[str, ShiftPattern] = {}
    for pattern in parsed:
        if pattern.name in by_name:
            raise ValueError(f"two shift patterns are called {pattern.name!r}")
        if not pattern.on_grid(step):
            raise ValueError(
                f"shift pattern {pattern.name!r} starts or ends off the {step}-minute intervals"
            )
        by_name[pattern.name] = pattern
    return by_name


# ----------------------------------------------------------------------------- solve and report


@dataclass(frozen=True)
class Roster:
    """The solved schedule: status, agents per pattern, paid hours, coverage and slack.

    ``status`` is ``"optimal"``, ``"feasible"`` (a roster, not proven optimal:
    the time limit ran out), ``"infeasible"``, ``"unbounded"`` or
    ``"not_solved"``. ``agents`` maps pattern name (prefixed ``"day D "`` when
    the horizon has several days) to agents. ``coverage``, ``required`` and
    ``slack`` (coverage − required) are keyed by absolute interval, each
    ``interval_minutes`` long. ``paid_hours`` is what the agents are paid for,
    ``needed_hours`` the agent-hours the requirement asks for, and
    ``efficiency`` their ratio. ``objective`` is the patterns' total cost (the
    paid hours unless costs were given).
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
    interval_minutes: int = 60
    paid_hours: float | None = None

    @property
    def success(self) -> bool:
        return self.status in ("optimal", "feasible")

    @property
    def needed_hours(self) -> float:
        return sum(self.required.values()) * self.interval_minutes / 60.0

    @property
    def efficiency(self) -> float | None:
        """Agent-hours needed ÷ paid hours: 1.0 when no paid hour is slack."""
        if not self.paid_hours:
            return None
        return self.needed_hours / self.paid_hours

    def label(self, interval: int) -> str:
        """An interval's start as ``"08:30"`` (``"day 1 08:30"`` on later days)."""
        return clock(interval * self.interval_minutes)

    def to_dict(self) -> dict:
        return {
            "status": self.status,
            "message": self.message,
            "solver": self.solver,
            "time_limit": self.time_limit,
            "seconds": self.seconds,
            "interval_minutes": self.interval_minutes,
            "total_agents": self.total_agents,
            "paid_hours": self.paid_hours,
            "needed_hours": self.needed_hours,
            "efficiency": self.efficiency,
            "objective": self.objective,
            "agents": dict(self.agents),
            "coverage": {self.label(i): c for i, c in self.coverage.items()},
            "required": {self.label(i): r for i, r in self.required.items()},
            "slack": {self.label(i): s for i, s in self.slack.items()},
            "uncovered": [self.label(i) for i in self.uncovered],
        }


def solve_shift_model(
    model: ShiftModel, *, solver: str = "highs", time_limit: float | None = 30.0
) -> Roster:
    """Solve with HiGHS (CBC as fallback) and report a :class:`Roster`."""
    started = time.perf_counter()
    common = {
        "time_limit": time_limit,
        "required": dict(model.required),
        "interval_minutes": model.interval_minutes,
    }
    if model.uncovered:
        starts = ", ".join(clock(i * model.interval_minutes) for i in model.uncovered)
        return Roster(
            status="infeasible",
            message=f"no shift pattern covers {starts}, which need agents",
            solver="none",
            seconds=time.perf_counter() - started,
            uncovered=model.uncovered,
            **common,
        )
    chosen = solvers.get_solver(solver, mip=True, time_limit=time_limit, gap_rel=GAP)
    try:
        solvers.solve(model.problem, chosen)
    except pulp.PulpSolverError as err:
        return Roster(
            status="not_solved",
            message=f"no solver ran: {err}",
            solver="none",
            seconds=time.perf_counter() - started,
            **common,
        )
    return _report(model, solvers.solver_name(model.problem.solver), started, time_limit)


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
        "interval_minutes": model.interval_minutes,
    }
    if status not in ("optimal", "feasible"):
        return Roster(message=f"the solver reports {pulp.LpStatus[status_code]}", **common)
    counts = {key: round(var.value() or 0.0) for key, var in model.variables.items()}
    agents = {
        (name if model.days == 1 else f"day {day} {name}"): n for (name, day), n in counts.items()
    }
    intervals = range(max(model.days * model.per_day, max(model.required, default=0) + 1))
    coverage = {i: sum(counts[k] for k in model.covering(i)) for i in intervals}
    slack = {i: coverage[i] - model.required.get(i, 0) for i in intervals}
    return Roster(
        message="optimal roster"
        if status == "optimal"
        else "time limit reached; roster not proven optimal",
        total_agents=sum(counts.values()),
        # from the counts, without the head-count tie-break
        objective=sum(model.patterns[name].cost * n for (name, _), n in counts.items()),
        paid_hours=sum(model.patterns[name].paid_hours * n for (name, _), n in counts.items()),
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
    interval_minutes: int = 60,
    solver: str = "highs",
    time_limit: float | None = 30.0,
) -> Roster:
    """Fewest paid hours (or least cost) over ``patterns`` covering every interval's requirement.

    Parameters
    ----------
    requirements : agents needed per absolute interval (mapping or sequence);
        use the ``rostered`` counts from
        :func:`optimizer.staffing.requirements.requirements_by_interval` on the same grid.
    patterns : :class:`ShiftPattern` objects or strings like ``"08:00-16:00"``.
    days : horizon in days (default: what the requirements span).
    max_per_pattern : optional cap on agents per pattern and day.
    interval_minutes : the requirements' interval, 60 (default) or 30.
    solver : ``"highs"`` (CBC as fallback) or ``"cbc"``.
    time_limit : seconds for the solver; ``None`` for no limit.

    Returns
    -------
    Roster, whose ``status`` says whether it is optimal, feasible or infeasible.
    """
    model = build_shift_model(
        requirements,
        patterns,
        days=days,
        max_per_pattern=max_per_pattern,
        interval_minutes=interval_minutes,
    )
    return solve_shift_model(model, solver=solver, time_limit=time_limit)
