"""Staffing the inbound line: how many agents each interval needs, and the roster.

The agent side of collections: borrowers call back after a reminder and queue
for agents. This module turns an interval's calls into the number of agents
needed on the phones for a service level (Erlang C, or Erlang A when callers
hang up), optionally under a cap on occupancy, adds shrinkage (breaks,
training, absence) to get the number to roster, and re-exports the
shift-scheduling integer program of :mod:`optimizer.staffing.shifts` that covers those
numbers with the fewest paid hours.

Units: arrival rates in **calls per hour**, also for half-hour intervals;
every duration (handle time, patience, the answer-within threshold, waits) in
**seconds**. Shrinkage, service levels and occupancy are fractions (0.3 for 30 %).

Each interval is treated as its own steady state (see :mod:`optimizer.staffing.queueing`
for the models' assumptions).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from .queueing import (
    QueueMetrics,
    erlang_a,
    erlang_b,
    erlang_c,
    erlang_c_from_load,
    erlang_c_metrics,
    erlang_c_service_level,
    erlang_c_wait,
    offered_load,
)
from .shifts import Roster, ShiftPattern, schedule_shifts, standard_shifts

__all__ = [
    "QueueMetrics",
    "Roster",
    "ShiftPattern",
    "StaffingRequirement",
    "TargetError",
    "agents_needed",
    "erlang_a",
    "erlang_b",
    "erlang_c",
    "erlang_c_from_load",
    "erlang_c_metrics",
    "erlang_c_service_level",
    "erlang_c_wait",
    "offered_load",
    "queue_metrics",
    "requirements_by_hour",
    "requirements_by_interval",
    "schedule_shifts",
    "standard_shifts",
]

Model = Literal["erlang_c", "erlang_a"]
MODELS = ("erlang_c", "erlang_a")
# The largest offered load sized, in Erlangs (agents' worth of calls): ten
# times the biggest contact centres, and a bound that keeps every search short.
MAX_LOAD = 100_000.0


def queue_metrics(
    arrival_rate: float,
    mean_handle: float,
    agents: int,
    *,
    answer_within: float = 20.0,
    model: Model = "erlang_c",
    patience: float | None = None,
) -> QueueMetrics:
    """The line's measures with ``agents`` on the phones under ``model``."""
    if model == "erlang_c":
        return erlang_c_metrics(arrival_rate, mean_handle, agents, answer_within)
    if model == "erlang_a":
        if patience is None:
            raise ValueError("model 'erlang_a' needs a patience (mean seconds before hanging up)")
        return erlang_a(arrival_rate, mean_handle, agents, patience, answer_within)
    raise ValueError(f"model must be one of {', '.join(MODELS)}, got {model!r}")


@dataclass(frozen=True)
class StaffingRequirement:
    """Agents needed for one hour's calls, with the settings that produced it.

    ``agents`` is the number on the phones; ``rostered`` = ⌈agents / (1 − shrinkage)⌉
    is the number to schedule. ``metrics`` describes the line with ``agents``.
    ``met`` is False only if no count up to ``max_agents`` meets the target.
    ``max_occupancy`` is the cap on occupancy the count respects (None: no cap).
    """

    agents: int
    rostered: int
    shrinkage: float
    target_service_level: float
    max_abandon: float | None
    metrics: QueueMetrics
    met: bool = True
    max_occupancy: float | None = None

    def to_dict(self) -> dict:
        data = asdict(self)
        data["metrics"] = self.metrics.to_dict()
        return data


def _meets(
    m: QueueMetrics, service_level: float, max_abandon: float | None, max_occupancy: float | None
) -> bool:
    if m.service_level < service_level:
        return False
    if max_occupancy is not None and m.load > max_occupancy * m.agents * (1.0 + 1e-12):
        return False
    return max_abandon is None or m.p_abandon <= max_abandon


class TargetError(ValueError):
    """A staffing setting out of range, naming it: ``parameter`` (``"service_level"``, …) and ``reason``.

    The one check of the settings: the command line turns it into a one-line
    error naming its option instead of checking the ranges again.
    """

    def __init__(self, parameter: str, reason: str, *, index: int | None = None):
        super().__init__(f"{parameter} {reason}")
        self.parameter = parameter
        self.reason = reason
        self.index = index  # the interval, for a setting of one interval (its arrivals)


def _check_targets(
    service_level: float,
    shrinkage: float,
    model: str,
    max_abandon: float | None,
    max_occupancy: float | None,
    patience: float | None = None,
) -> None:
    if not (0.0 < float(service_level) < 1.0):
        raise TargetError(
            "service_level", f"must be a fraction strictly between 0 and 1, got {service_level!r}"
        )
    if not (0.0 <= float(shrinkage) < 1.0):
        raise TargetError("shrinkage", f"must be a fraction in [0, 1), got {shrinkage!r}")
    if model not in MODELS:
        raise TargetError("model", f"must be one of {', '.join(MODELS)}, got {model!r}")
    if model == "erlang_a" and patience is None:
        raise TargetError("patience", "is needed by model 'erlang_a' (mean seconds before hanging up)")
    if max_abandon is not None and not (0.0 <= float(max_abandon) <= 1.0):
        raise TargetError("max_abandon", f"must be a fraction in [0, 1], got {max_abandon!r}")
    if max_abandon is not None and model != "erlang_a":
        raise TargetError("max_abandon", "needs model 'erlang_a' (Erlang C has no abandonment)")
    if max_occupancy is not None and not (0.0 < float(max_occupancy) <= 1.0):
        raise TargetError("max_occupancy", f"must be a fraction in (0, 1], got {max_occupancy!r}")


def agents_needed(
    arrival_rate: float,
    mean_handle: float,
    service_level: float = 0.8,
    answer_within: float = 20.0,
    shrinkage: float = 0.3,
    model: Model = "erlang_c",
    patience: float | None = None,
    max_abandon: float | None = None,
    *,
    max_occupancy: float | None = None,
    max_agents: int = 1_000_000,
) -> StaffingRequirement:
    """Fewest agents on the phones that answer ``service_level`` of calls within ``answer_within``.

    Parameters
    ----------
    arrival_rate : calls per hour (≥ 0).
    mean_handle : mean handle time, seconds (talk + wrap-up).
    service_level : target share of calls answered within ``answer_within`` (0 < SL < 1).
    answer_within : threshold in seconds (the "20" of "80/20").
    shrinkage : share of paid time not on the phones (0 ≤ s < 1).
    model : ``"erlang_c"`` (nobody hangs up) or ``"erlang_a"`` (needs ``patience``).
    patience : mean patience in seconds, for Erlang A.
    max_abandon : optional cap on the share of callers who hang up (Erlang A).
    max_occupancy : optional cap on the share of time agents on the phones are
        busy: at least ``load / max_occupancy`` agents, whatever the service level.
    max_agents : search limit; if even this many do not meet the target the
        result has ``met=False`` and ``agents=max_agents``.

    Returns
    -------
    StaffingRequirement; zero calls need zero agents. The service level and the
    abandonment rate improve with every extra agent, so the answer is found by
    bisection from the load upward: a few dozen evaluations, each in constant
    time, whatever the size of the line. A load above :data:`MAX_LOAD` Erlangs
    is refused rather than searched. Settings out of range raise :class:`TargetError`
    (a ValueError naming the setting).
    """
    _check_targets(service_level, shrinkage, model, max_abandon, max_occupancy, patience)
    load = offered_load(arrival_rate, mean_handle)
    if load > MAX_LOAD:
        raise TargetError(
            "arrival_rate",
            f"{arrival_rate:g} calls per hour × {mean_handle / 60:g} min handle is {load:.3g} "
            f"Erlangs; at most {MAX_LOAD:,.0f} (calls per hour × handle minutes / 60)",
        )

    def measure(n: int) -> QueueMetrics:
        return queue_metrics(
            arrival_rate,
            mean_handle,
            n,
            answer_within=answer_within,
            model=model,
            patience=patience,
        )

    def meets(n: int) -> bool:
        return _meets(measure(n), service_level, max_abandon, max_occupancy)

    agents, met = (0, True) if load == 0 else _search(load, model, max_occupancy, max_agents, meets)
    rostered = math.ceil(agents / (1.0 - shrinkage) - 1e-9)
    return StaffingRequirement(
        agents=agents,
        rostered=rostered,
        shrinkage=float(shrinkage),
        target_service_level=float(service_level),
        max_abandon=max_abandon,
        metrics=measure(agents),
        met=met,
        max_occupancy=max_occupancy,
    )


def _search(
    load: float, model: str, max_occupancy: float | None, max_agents: int, meets
) -> tuple[int, bool]:
    """The fewest agents that meet the targets: doubling from the load, then bisection."""
    # Erlang C needs more agents than the load; Erlang A may need fewer. The
    # occupancy cap is a floor of its own.
    low = math.floor(load) + 1 if model == "erlang_c" else 1
    if max_occupancy is not None:
        low = max(low, math.ceil(load / max_occupancy - 1e-9))
    low = min(low, max_agents)
    high = max(low, math.ceil(load + 3.0 * math.sqrt(load)) + 1)
    while high < max_agents and not meets(high):
        low, high = high + 1, min(max_agents, 2 * high)
    met = meets(high)
    if meets(low):
        high = low
    while low < high:  # invariant: high meets the target
        middle = (low + high) // 2
        if meets(middle):
            high = middle
        else:
            low = middle + 1
    return high, met


def requirements_by_interval(
    arrivals: Mapping[int, float] | Sequence[float],
    mean_handle: float,
    service_level: float = 0.8,
    answer_within: float = 20.0,
    shrinkage: float = 0.3,
    model: Model = "erlang_c",
    patience: float | None = None,
    max_abandon: float | None = None,
    *,
    max_occupancy: float | None = None,
) -> dict[int, StaffingRequirement]:
    """:func:`agents_needed` for each interval of a day (or week).

    ``arrivals`` maps an interval's index (hours 0-23, half hours 0-47, …; ≥ 0)
    to its arrival **rate in calls per hour**, whatever the interval's length:
    a half hour with 40 calls in it has the rate 80. It may also be a sequence
    indexed by interval. Each interval is its own steady state, so its length
    does not enter the count. Returns ``{index: StaffingRequirement}`` in
    order; the ``rostered`` counts are what :func:`schedule_shifts` should
    cover on the same grid.
    """
    if isinstance(arrivals, Mapping):
        items = sorted((int(index), rate) for index, rate in arrivals.items())
    else:
        items = list(enumerate(arrivals))
    for index, _ in items:
        if index < 0:
            raise ValueError(f"intervals are counted from 0, got {index}")
    _check_targets(service_level, shrinkage, model, max_abandon, max_occupancy, patience)
    out = {}
    for index, rate in items:
        try:
            out[index] = agents_needed(
                rate,
                mean_handle,
                service_level=service_level,
                answer_within=answer_within,
                shrinkage=shrinkage,
                model=model,
                patience=patience,
                max_abandon=max_abandon,
                max_occupancy=max_occupancy,
            )
        except TargetError as err:  # a load beyond what is sized, in this interval
            raise TargetError(err.parameter, err.reason, index=index) from None
    return out


# On whole hours (0-23 for a day, 0-167 for a week) an interval's calls are its calls per
# hour, so the hourly form is the same function under the name callers used first.
requirements_by_hour = requirements_by_interval

