"""Champion/challenger across replications: each challenger against the champion, paired by replication.

``python -m sim compare FILE`` with one champion/challenger scenario runs it
``reps`` times (the replications' seeds as ``compare`` spawns them) and reads
every run's :func:`sim.arms.kpis_by_strategy`. Within a replication all
strategies share one book, one seed and the same teams, so the difference
challenger − champion is taken run by run and its Student-t interval over
the replications is the one ``compare`` gives for whole books. This is the
model's uncertainty about the strategies; the within-run tests
(:func:`sim.arms.within_run_tests`) are what a bank would see on one book.

The runs are simulated here one after another and not stored: the results
store keeps a run's book-wide KPIs, not the strategies' (issue 17 leaves the
store's schema to the report work).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .experiment import CONFIDENCE, Estimate, estimate, replication_seeds
from .scenario import Scenario

COMPARED_KPIS = ("cure_rate", "roll_past_30_rate", "cash_per_account", "cost_per_account", "complaints_per_1000",
                 "right_party_contacts_per_account", "agent_time_share")
TITLES = {"cure_rate": "cure rate", "roll_past_30_rate": "roll past 30 (of 1-30)",
          "cash_per_account": "cash per account", "cost_per_account": "cost per account",
          "complaints_per_1000": "complaints per 1,000", "right_party_contacts_per_account": "RPC per account",
          "agent_time_share": "share of agent time"}
PERCENT = {"cure_rate", "roll_past_30_rate", "agent_time_share"}
# Shares of agent time add up to 1 across strategies: a difference of them says nothing more.
NOT_DIFFERENCED = {"agent_time_share"}


@dataclass(frozen=True)
class ArmsComparison:
    """Per strategy, each KPI's mean over replications; per challenger, its paired difference from the champion."""

    scenario: str
    names: tuple[str, ...]
    champion: str
    reps: int
    seed: dict
    by_strategy: dict[str, dict[str, Estimate]]
    differences: dict[str, dict[str, Estimate]]
    confidence: float = CONFIDENCE

    def to_json(self) -> dict[str, Any]:
        return {"kind": "champion_challenger", "scenario": self.scenario, "champion": self.champion,
                "reps": self.reps, "seed": self.seed, "confidence": self.confidence,
                "kpis_by_strategy": {name: {k: e.to_json() for k, e in kpis.items()}
                                     for name, kpis in self.by_strategy.items()},
                "differences": {name: {k: {**e.to_json(), "significant": e.significant} for k, e in kpis.items()}
                                for name, kpis in self.differences.items()}}


def compare_arms(scenario: Scenario, reps: int, rng=None, progress=None) -> ArmsComparison:
    """Run a champion/challenger scenario ``reps`` times; strategies' KPIs and paired differences."""
    from .simulation import simulate

    if scenario.strategies is None:
        raise ValueError("compare_arms needs a scenario with [[strategies]]")
    seed, seeds = replication_seeds(scenario.simulation.seed if rng is None else rng, reps)
    names = tuple(arm.name for arm in scenario.strategies)
    champion = scenario.strategy.name
    values = {name: {kpi: [] for kpi in COMPARED_KPIS} for name in names}
    for done, child in enumerate(seeds, start=1):
        by = simulate(scenario, child, contact_log=False).kpis_by_strategy
        for name in names:
            for kpi in COMPARED_KPIS:
                values[name][kpi].append(by[name][kpi])
        if progress is not None:
            progress(done, reps)
    by_strategy = {name: {kpi: estimate(v) for kpi, v in kpis.items()} for name, kpis in values.items()}
    differences = {name: {kpi: estimate(np.subtract(values[name][kpi], values[champion][kpi]))
                          for kpi in COMPARED_KPIS if kpi not in NOT_DIFFERENCED}
                   for name in names if name != champion}
    return ArmsComparison(scenario=scenario.display_name, names=names, champion=champion, reps=reps, seed=seed,
                          by_strategy=by_strategy, differences=differences)


def _value(kpi: str, value: float, signed: bool = False) -> str:
    if not np.isfinite(value):
        return "n/a"
    sign = "+" if signed else ""
    if kpi in PERCENT:
        return f"{100 * value:{sign}.2f} {'pp' if signed else '%'}"
    return f"{value:{sign},.2f}"


def _cell(kpi: str, est: Estimate, signed: bool = False) -> str:
    text = _value(kpi, est.mean, signed)
    if np.isfinite(est.ci_low):
        text += f" [{_value(kpi, est.ci_low, signed)}, {_value(kpi, est.ci_high, signed)}]"
    return text + (" *" if signed and est.significant else "")


def format_arms_comparison(comparison: ArmsComparison) -> str:
    """The strategies' KPIs and each challenger − champion, as ``compare`` prints books."""
    from .errors import printable

    champion = comparison.champion
    heads = [printable(n) + (" (champion)" if n == champion else "") for n in comparison.names]
    challengers = [n for n in comparison.names if n != champion]
    heads += [f"{printable(n)} − {printable(champion)}" for n in challengers]
    rows = [[TITLES[kpi], *[_cell(kpi, comparison.by_strategy[n][kpi]) for n in comparison.names],
             *[_cell(kpi, comparison.differences[n][kpi], signed=True) if kpi in comparison.differences[n] else ""
               for n in challengers]]
            for kpi in COMPARED_KPIS]
    widths = [max(len(r[c]) for r in [["KPI", *heads], *rows]) for c in range(len(heads) + 1)]
    line = lambda r: "  ".join(c.ljust(w) if i == 0 else c.rjust(w)  # noqa: E731
                               for i, (c, w) in enumerate(zip(r, widths, strict=True))).rstrip()
    intervals = (f"[low, high] is the {comparison.confidence:.0%} interval (Student t) over "
                 f"{comparison.reps} replications; differences paired by replication; * = excludes zero"
                 if comparison.reps > 1 else "1 replication: no intervals (use --reps 2 or more)")
    return "\n".join([f"{printable(comparison.scenario)}: champion/challenger in one book, shared teams", intervals,
                      "", line(["KPI", *heads]), "  ".join("-" * w for w in widths), *map(line, rows), "",
                      f"seed {comparison.seed['entropy']}; simulated here, one run after another, not stored"])
