"""Staffing the inbound line: how many agents each hour needs, and the roster.

The agent side of collections: borrowers call back after a reminder and queue
for agents. This module turns an hour's calls into the number of agents needed
on the phones for a service level (Erlang C, or Erlang A when callers hang up),
adds shrinkage (breaks, training, absence) to get the number to roster, and
re-exports the shift-scheduling integer program of :mod:`optimizer.shifts`
that covers those hourly numbers with the fewest agents.

Units: arrival rates in **calls per hour**; every duration (handle time,
patience, the answer-within threshold, waits) in **seconds**. Shrinkage and
service levels are fractions (0.3 for 30 %).

Each hour is treated as its own steady state (see :mod:`optimizer.queueing`
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
    "schedule_shifts",
    "standard_shifts",
]

Model = Literal["erlang_c", "erlang_a"]
MODELS = ("erlang_c", "erlang_a")


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
    """

    agents: int
    rostered: int
    shrinkage: float
    target_service_level: float
    max_abandon: float | None
    metrics: QueueMetrics
    met: bool = True

    def to_dict(self) -> dict:
        data = asdict(self)
        data["metrics"] = self.metrics.to_dict()
        return data


def _meets(m: QueueMetrics, service_level: float, max_abandon: float | None) -> bool:
    if m.service_level < service_level:
        return False
    return max_abandon is None or m.p_abandon <= max_abandon


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
    max_agents : search limit; if even this many do not meet the target the
        result has ``met=False`` and ``agents=max_agents``.

    Returns
    -------
    StaffingRequirement; zero calls need zero agents. The service level and the
    abandonment rate improve with every extra agent, so the answer is found by
    bisection.
    """
    if not (0.0 < float(service_level) < 1.0):
        raise ValueError(
            f"service_level must be a fraction strictly between 0 and 1, got {service_level!r}"
        )
    if not (0.0 <= float(shrinkage) < 1.0):
        raise ValueError(f"shrinkage must be a fraction in [0, 1), got {shrinkage!r}")
    if max_abandon is not None and not (0.0 <= float(max_abandon) <= 1.0):
        raise ValueError(f"max_abandon must be a fraction in [0, 1], got {max_abandon!r}")
    if max_abandon is not None and model != "erlang_a":
        raise ValueError("max_abandon needs model 'erlang_a' (Erlang C has no abandonment)")

    def measure(n: int) -> QueueMetrics:
        return queue_metrics(
            arrival_rate,
            mean_handle,
            n,
            answer_within=answer_within,
            model=model,
            patience=patience,
        )

    load = offered_load(arrival_rate, mean_handle)
    if load == 0:
        low, met = 0, True
    else:
        # Erlang C needs more agents than the load; Erlang A may need fewer.
        low = math.floor(load) + 1 if model == "erlang_c" else 1
        high = max(low, math.ceil(load + 3.0 * math.sqrt(load)) + 1)
        while high < max_agents and not _meets(measure(high), service_level, max_abandon):
            low, high = high + 1, min(max_agents, 2 * high)
        met = _meets(measure(high), service_level, max_abandon)
        if _meets(measure(low), service_level, max_abandon):
            high = low
        while low < high:  # invariant: high meets the target
            middle = (low + high) // 2
            if _meets(measure(middle), service_level, max_abandon):
                high = middle
            else:
                low = middle + 1
        low = high
    rostered = math.ceil(low / (1.0 - shrinkage) - 1e-9)
    return StaffingRequirement(
        agents=low,
        rostered=rostered,
        shrinkage=float(shrinkage),
        target_service_level=float(service_level),
        max_abandon=max_abandon,
        metrics=measure(low),
        met=met,
    )


def requirements_by_hour(
    hourly_arrivals: Mapping[int, float] | Sequence[float],
    mean_handle: float,
    service_level: float = 0.8,
    answer_within: float = 20.0,
    shrinkage: float = 0.3,
    model: Model = "erlang_c",
    patience: float | None = None,
    max_abandon: float | None = None,
) -> dict[int, StaffingRequirement]:
    """:func:`agents_needed` for each hour.

    ``hourly_arrivals`` maps hour (0-23 for a day, 0-167 for a week, …) to
    calls in that hour, or is a sequence indexed by hour. Returns
    ``{hour: StaffingRequirement}`` in hour order; the ``rostered`` counts are
    what :func:`schedule_shifts` should cover.
    """
    if isinstance(hourly_arrivals, Mapping):
        items = sorted((int(hour), rate) for hour, rate in hourly_arrivals.items())
    else:
        items = list(enumerate(hourly_arrivals))
    for hour, _ in items:
        if hour < 0:
            raise ValueError(f"hours are counted from 0, got {hour}")
    return {
        hour: agents_needed(
            rate,
            mean_handle,
            service_level=service_level,
            answer_within=answer_within,
            shrinkage=shrinkage,
            model=model,
            patience=patience,
            max_abandon=max_abandon,
        )
        for hour, rate in items
    }
