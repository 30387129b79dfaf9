"""The optimised strategy checked by simulation against other ladders, paired by common random numbers."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.scenario import Scenario

from .search import resolve_valuation, valuers, with_strategy
from .segments import Segments


@dataclass
class Verification:
    """Simulated net recovery of the optimised strategy against others, paired by replication.

    The runs are :func:`sim.experiment.run_experiment`'s (common random
    numbers: replication k of every strategy uses child k of one root seed).
    """

    reps: int
    labels: list[str]
    net_recovery: dict[str, list[float]]  # label -> per replication
    predicted: dict[str, float]  # label -> value model's expected net collections of the ladder
    comparison: Any = None  # the sim.experiment.Comparison behind it

    def difference(self, label: str, against: str) -> dict[str, float]:
        """``label`` − ``against``: mean paired difference, its 95 % interval, and the value model's prediction."""
        from sim.experiment import estimate

        d = np.asarray(self.net_recovery[label]) - np.asarray(self.net_recovery[against])
        e = estimate(d)
        low, high = (e.ci_low, e.ci_high) if d.size > 1 else (-math.inf, math.inf)
        return {"mean": e.mean, "low": low, "high": high,
                "predicted": self.predicted[label] - self.predicted[against]}

    def to_dict(self, optimised: str) -> dict[str, Any]:
        def plain(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {"reps": self.reps,
                "experiment_id": getattr(self.comparison, "experiment_id", None),
                "mean_net_recovery": {k: float(np.mean(v)) for k, v in self.net_recovery.items()},
                "predicted_net": self.predicted,
                "differences": {k: {n: plain(x) for n, x in self.difference(optimised, k).items()}
                                for k in self.labels if k != optimised}}


def verify(world: Scenario, optimised: Scenario, others: list[Scenario], reps: int, *, segments: Segments,
           seed: int | None = None, days: int | None = None, executor=None,
           per_segment: int = 40, valuation: str | None = None) -> Verification:
    """Simulate the optimised strategy and every other ladder in ``world`` (equal capacity), ``reps`` times each.

    Runs through :func:`sim.experiment.run_experiment` with the optimised
    strategy as champion, so the replications are paired by common random
    numbers; ``predicted`` is the valuation's expected net of each ladder
    (``valuation``: as :func:`optimizer.allocation.search.resolve_valuation`
    resolves it — None is the engine for any model but hawkes).
    """
    from sim.experiment import run_experiment

    value_ladder = valuers(resolve_valuation(world, valuation)[0])[1]
    runs = {optimised.display_name: optimised}
    for other in others:
        runs.setdefault(other.display_name, with_strategy(world, other))
    labels = list(runs)
    comparison = run_experiment(list(runs.values()), reps, world.simulation.seed if seed is None else seed,
                                executor=executor, labels=labels)
    horizon = days or world.simulation.days
    net = {label: [float(x) for x in comparison.values(label, "net_recovery")] for label in labels}
    predicted = {label: float(value_ladder(scenario, segments, scenario.strategy.steps, horizon,
                                           per_segment=per_segment).net.sum())
                 for label, scenario in runs.items()}
    return Verification(reps=reps, labels=labels, net_recovery=net, predicted=predicted, comparison=comparison)
