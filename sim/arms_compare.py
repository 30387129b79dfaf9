"""Champion/challenger across replications: each challenger against the champion, paired by replication.

``python -m sim compare FILE`` with one champion/challenger scenario runs it
``reps`` times through :func:`sim.experiment.run_experiment` (kind
``champion_challenger``: the replications' seeds as ``compare`` spawns them,
any executor, and with a results store every run kept with its KPIs by
strategy, reused and resumed like any other) and reads every run's
:func:`sim.arms.kpis_by_strategy`. Within a replication all strategies share
one book, one seed and the same teams, so the difference challenger −
champion is taken run by run and its Student-t interval over the
replications is the one ``compare`` gives for whole books. This is the
model's uncertainty about the strategies; the within-run tests
(:func:`sim.arms.within_run_tests`) are what a bank would see on one book:
:func:`summarize_arms` keeps them for every replication and counts in how
many the test found the difference (the test's empirical power, or its false
alarms when the strategies are alike).

The report (:mod:`sim.report`) summarises stored runs with the same
:func:`summarize_arms`, so its numbers are the command's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .experiment import CONFIDENCE, Estimate, estimate
from .scenario import Scenario

COMPARED_KPIS = ("recovery_rate", "cure_rate", "charge_off_rate", "roll_past_30_rate", "cash_per_account", "cost_per_account", "complaints_per_1000",
                 "right_party_contacts_per_account", "agent_time_share")
TITLES = {"recovery_rate": "recovery rate", "charge_off_rate": "charge-off rate", "cure_rate": "cure rate", "roll_past_30_rate": "roll past 30 (of 1-30)",
          "cash_per_account": "cash per account", "cost_per_account": "cost per account",
          "complaints_per_1000": "complaints per 1,000", "right_party_contacts_per_account": "RPC per account",
          "agent_time_share": "share of agent time"}
PERCENT = {"recovery_rate", "cure_rate", "charge_off_rate", "roll_past_30_rate", "agent_time_share"}
# Shares of agent time add up to 1 across strategies: a difference of them says nothing more.
NOT_DIFFERENCED = {"agent_time_share"}
TESTED_KPIS = ("cure_rate", "roll_past_30_rate", "cash_per_account")  # sim.arms.within_run_tests
TEST_LEVEL = 0.05  # a within-run test "finds" the difference at p < 0.05, as its 95 % interval excludes zero


@dataclass(frozen=True)
class ArmsComparison:
    """Per strategy, each KPI's mean over replications; per challenger, its paired difference from the champion,
    and the within-run tests of every replication."""

    scenario: str
    names: tuple[str, ...]
    champion: str
    reps: int
    seed: dict
    by_strategy: dict[str, dict[str, Estimate]]
    differences: dict[str, dict[str, Estimate]]
    within_run: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    confidence: float = CONFIDENCE
    experiment_id: str | None = None
    stored: bool = False
    reused: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"kind": "champion_challenger", "scenario": self.scenario, "champion": self.champion,
                "reps": self.reps, "seed": self.seed, "confidence": self.confidence,
                "experiment_id": self.experiment_id if self.stored else None,
                "kpis_by_strategy": {name: {k: e.to_json() for k, e in kpis.items()}
                                     for name, kpis in self.by_strategy.items()},
                "differences": {name: {k: {**e.to_json(), "significant": e.significant} for k, e in kpis.items()}
                                for name, kpis in self.differences.items()},
                "within_run_tests": self.within_run}


def _number(value: Any) -> float:
    """A stored KPI or test figure as a float (the store keeps NaN as null)."""
    return math.nan if value is None else float(value)


def _within_run(tests: Sequence[dict[str, dict[str, float]]]) -> dict[str, Any]:
    """One challenger's within-run tests of one KPI over the replications, and how often each found it."""
    runs = [{k: (None if not math.isfinite(_number(v)) else _number(v)) for k, v in t.items()} for t in tests]
    found = sum(1 for t in runs if t["p_value"] is not None and t["p_value"] < TEST_LEVEL)
    return {"runs": runs, "significant_runs": found, "level": TEST_LEVEL}


def summarize_arms(scenario: str, names: Sequence[str], champion: str, per_rep: Sequence[dict[str, dict]],
                   per_rep_tests: Sequence[dict[str, dict]], seed: dict,
                   confidence: float = CONFIDENCE) -> ArmsComparison:
    """Strategies' means and each challenger − champion, paired by replication, from every replication's
    ``kpis_by_strategy`` (``per_rep``) and within-run tests (``per_rep_tests``)."""
    values = {name: {kpi: np.array([_number(run[name].get(kpi)) for run in per_rep]) for kpi in COMPARED_KPIS}
              for name in names}
    by_strategy = {name: {kpi: estimate(v, confidence) for kpi, v in kpis.items()} for name, kpis in values.items()}
    challengers = [name for name in names if name != champion]
    differences = {name: {kpi: estimate(values[name][kpi] - values[champion][kpi], confidence)
                          for kpi in COMPARED_KPIS if kpi not in NOT_DIFFERENCED} for name in challengers}
    within = {name: {kpi: _within_run([tests[name][kpi] for tests in per_rep_tests]) for kpi in TESTED_KPIS}
              for name in challengers if all(name in (tests or {}) for tests in per_rep_tests)}
    return ArmsComparison(scenario=scenario, names=tuple(names), champion=champion, reps=len(per_rep), seed=seed,
                          by_strategy=by_strategy, differences=differences, within_run=within,
                          confidence=confidence)


def compare_arms(scenario: Scenario, reps: int, rng=None, progress=None, *, executor=None,
                 store=None) -> ArmsComparison:
    """Run a champion/challenger scenario ``reps`` times; strategies' KPIs and paired differences.

    ``executor`` and ``store`` are :func:`sim.experiment.run_experiment`'s: by
    default one run after another in this process, not stored.
    """
    from dataclasses import replace

    from .executors import LocalExecutor
    from .experiment import run_experiment

    if scenario.strategies is None:
        raise ValueError("compare_arms needs a scenario with [[strategies]]")
    own = executor is None
    executor = LocalExecutor(1) if own else executor
    try:
        comparison = run_experiment([scenario], reps, rng=rng, executor=executor, store=store, progress=progress,
                                    kind="champion_challenger")
    finally:
        if own:
            executor.close()
    runs = comparison.replications[0]
    names = tuple(arm.name for arm in scenario.strategies)
    arms = summarize_arms(scenario.display_name, names, scenario.strategy.name,
                          [r.kpis_by_strategy for r in runs], [r.strategy_tests for r in runs], comparison.seed,
                          comparison.confidence)
    return replace(arms, experiment_id=comparison.experiment_id, stored=store is not None,
                   reused=comparison.reused)


def _value(kpi: str, value: float, signed: bool = False) -> str:
    if not np.isfinite(value):
        return "n/a"
    sign = "+" if signed else ""
    if kpi in PERCENT:
        return f"{100 * value:{sign}.2f} {'pp' if signed else '%'}"
    return f"{value:{sign},.2f}"


def format_cell(kpi: str, est: Estimate, signed: bool = False, *, mark: bool = True) -> str:
    """A mean and its interval, as rates in % (differences in points) or money; `` *`` marks a difference
    whose interval excludes zero (unless ``mark`` is False)."""
    text = _value(kpi, est.mean, signed)
    if np.isfinite(est.ci_low):
        text += f" [{_value(kpi, est.ci_low, signed)}, {_value(kpi, est.ci_high, signed)}]"
    return text + (" *" if mark and signed and est.significant else "")


def format_arms_comparison(comparison: ArmsComparison) -> str:
    """The strategies' KPIs and each challenger − champion, as ``compare`` prints books."""
    from .errors import printable

    champion = comparison.champion
    heads = [printable(n) + (" (champion)" if n == champion else "") for n in comparison.names]
    challengers = [n for n in comparison.names if n != champion]
    heads += [f"{printable(n)} − {printable(champion)}" for n in challengers]
    rows = [[TITLES[kpi], *[format_cell(kpi, comparison.by_strategy[n][kpi]) for n in comparison.names],
             *[format_cell(kpi, comparison.differences[n][kpi], signed=True) if kpi in comparison.differences[n] else ""
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
                      f"seed {comparison.seed['entropy']}; " + _where(comparison)])


def _where(comparison: ArmsComparison) -> str:
    if not comparison.stored:
        return "not stored"
    reused = f" ({comparison.reused} of {comparison.reps} runs reused)" if comparison.reused else ""
    return f"stored as experiment {comparison.experiment_id}{reused}"
