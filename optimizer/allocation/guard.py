"""The guard after the LP: does a hand-written reference ladder beat the LP's plan by more than the noise?

Under the simulated valuation one whole-book run is one draw: its prediction
of plan − reference had the wrong sign on card_baseline (docs/optimizer_validation.md,
2026-11-26). The plan and every reference ladder are therefore run on the same
``runs`` seeds (common random numbers, per-account draws), and a reference
replaces the plan only if its paired difference over the plan has a 95 %
interval wholly above 0 (:func:`choose`). Ties and noise keep the LP's plan.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

DEFAULT_RUNS = 3


@dataclass(frozen=True)
class PairedDifference:
    """Reference ladder − the LP's plan, run by run on the same seeds, with its mean and 95 % t-interval."""

    name: str
    differences: tuple[float, ...]

    @property
    def mean(self) -> float:
        return float(np.mean(self.differences))

    @property
    def interval(self) -> tuple[float, float] | None:
        """The 95 % t-interval of the mean difference (None from fewer than two runs: no noise measured)."""
        n = len(self.differences)
        if n < 2:
            return None
        half = float(stats.t.ppf(0.975, n - 1) * np.std(self.differences, ddof=1) / math.sqrt(n))
        return self.mean - half, self.mean + half

    def beats_plan(self) -> bool:
        """Whether the reference beats the plan beyond the noise: its interval lies wholly above 0."""
        interval = self.interval
        return interval is not None and interval[0] > 0

    def to_dict(self) -> dict:
        interval = self.interval
        return {"reference_minus_plan": self.mean, "ci95": list(interval) if interval else None,
                "runs": list(self.differences), "beats_plan": self.beats_plan()}


def paired_differences(plan: Sequence[float], references: dict[str, Sequence[float]]) -> list[PairedDifference]:
    """Each reference's run-by-run difference over the plan (the same seeds, so paired)."""
    out = []
    for name, values in references.items():
        if len(values) != len(plan):
            raise ValueError(f"reference {name} has {len(values)} runs, the plan {len(plan)}: not paired")
        out.append(PairedDifference(name, tuple(float(r) - float(p) for r, p in zip(values, plan, strict=True))))
    return out


def could_beat_plan(first: Sequence[float], runs: int) -> bool:
    """Whether a reference whose first paired differences over the plan are ``first`` could still beat it
    beyond the noise once ``runs`` runs are in, whatever the remaining runs give.

    With ``m`` of the ``runs`` differences at or below 0, the largest mean over
    standard deviation any further values can reach is
    √((n − m)(n − 1) / (n·m)) (the others equal and large, the ``m`` at 0;
    one below 0 only lowers it), and the interval lies above 0 only if the
    mean over its standard deviation exceeds t₀.₉₇₅,ₙ₋₁ / √n. So one run at or
    below 0 rules a reference out for n ≤ 4 runs (the default is 3): running
    it again cannot change what is returned.
    """
    n = runs
    m = sum(1 for d in first if d <= 0)
    if m == 0:
        return True
    if m >= n or n < 2:
        return False
    return math.sqrt((n - m) * (n - 1) / m) > float(stats.t.ppf(0.975, n - 1))


def choose(differences: Sequence[PairedDifference]) -> PairedDifference | None:
    """The reference that replaces the plan: of those beyond the noise, the largest mean gain; None keeps the plan."""
    winners = [d for d in differences if d.beats_plan()]
    return max(winners, key=lambda d: d.mean) if winners else None


def describe(difference: PairedDifference) -> str:
    """One line: the paired difference and its interval."""
    interval = difference.interval
    spread = (f"95 % interval {interval[0]:+,.0f} … {interval[1]:+,.0f}" if interval
              else "no interval from one run")
    return (f"{difference.name} − LP plan {difference.mean:+,.0f} over {len(difference.differences)} paired runs "
            f"({spread})")


def gain_settled(gains: Sequence[float], runs: int) -> bool:
    """Whether one more agent's paired gains so far (run by run, on the guard's seeds) need no further run.

    The agent value (:func:`optimizer.allocation.search.agent_values`) is
    the mean gain over at most ``runs`` paired runs, and its check asks for
    an interval that excludes 0. Settled: ``runs`` runs made; or two or more
    whose 95 % interval already lies wholly above 0 (measured on baseline at
    5,000 accounts: the callers' three gains 508,942, 508,800 and 512,581,
    so the third moves nothing a planner reads); or a gain at or below 0
    where the runs left could not lift the interval above 0
    (:func:`could_beat_plan`, as the guard rules out a reference: with the
    default 3 runs, the first run at or below 0).
    """
    n = len(gains)
    if n >= runs or not could_beat_plan(gains, runs):
        return True
    return n >= 2 and PairedDifference("gain", tuple(gains)).beats_plan()
