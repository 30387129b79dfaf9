"""Experiments: is strategy B really better than A, by how much, and how sure are we?

One run is one draw of the borrowers' randomness; a manager needs several.
:func:`run_experiment` runs every scenario ``reps`` times. Replication ``k``
of every scenario uses the same seed — child ``k`` of
``SeedSequence(root).spawn(reps)`` — so within a replication all strategies
see the same accounts and the same random stream for each stochastic input
(common random numbers). The difference between two strategies is then
measured replication by replication (a paired difference), and the noise that
both share cancels out.

The result is a :class:`Comparison`: for each scenario each KPI's mean with a
95 % Student-t confidence interval over replications; for each challenger its
paired difference against the champion (the first scenario) with a confidence
interval and whether that excludes zero; and the recovery curve with a band.

Work is split into units (one scenario, one replication), each a pure
function of plain data, run by an executor (:mod:`sim.executors`) in whatever
order, and put back by (scenario, replication): the numbers are identical bit
for bit whichever executor and however many workers. With a results store
(:mod:`sim.store`) units already stored are reused, not recomputed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import InputError
from .metrics import SCALAR_KPIS, RunResult
from .scenario import Scenario
from .streams import as_seed_sequence

CONFIDENCE = 0.95

# Modules and subpackages (by their first path part under sim/) that do not
# change what ``simulate`` computes; editing them must not invalidate stored runs.
_NOT_SIMULATION = ("cli", "__main__", "experiment", "executors", "store", "sweep", "plots", "export_safety",
                   "formats", "power", "report", "report_arms", "report_offers", "arms_compare", "calibration",
                   "fidelity")


def simulation_sources() -> list[Path]:
    """The source files whose digest is the code version: every module of ``sim`` that computes a run."""
    package = Path(__file__).resolve().parent
    return [path for path in sorted(package.rglob("*.py"))
            if path.relative_to(package).parts[0].removesuffix(".py") not in _NOT_SIMULATION]


def code_version() -> str:
    """The simulator's version plus a digest of the source that computes a run.

    Stored runs are keyed by it, so a change to the engine, the behaviour model
    or the metrics never reuses numbers the old code produced. It is read from
    the files each time (about a millisecond): an experiment compares the
    version its workers report with the one on disk when it started, so code
    edited between two experiments — or a cluster running other code — is
    never mixed into one. The command lines (``sim/cli/``) are left out.
    """
    from . import __version__

    digest = hashlib.sha256()
    package = Path(__file__).resolve().parent
    for path in simulation_sources():
        digest.update("/".join(path.relative_to(package).with_suffix("").parts).encode())
        digest.update(path.read_bytes())
    digest.update(f"numpy {np.__version__}".encode())
    return f"{__version__}+{digest.hexdigest()[:12]}"


# ----------------------------------------------------------------------------- statistics


@dataclass(frozen=True)
class Estimate:
    """A mean over replications with its confidence interval (NaN with one replication)."""

    mean: float
    ci_low: float
    ci_high: float
    n: int

    @property
    def significant(self) -> bool:
        """The interval excludes zero (False when there is no interval)."""
        return bool(self.ci_low > 0 or self.ci_high < 0)

    def to_json(self) -> dict[str, float | None]:
        return {"mean": _json_float(self.mean), "ci_low": _json_float(self.ci_low),
                "ci_high": _json_float(self.ci_high)}


def t_interval(values, confidence: float = CONFIDENCE, axis: int = 0):
    """Mean and Student-t confidence bounds of ``values`` along ``axis``.

    Returns ``(mean, low, high)``; the bounds are NaN when there is one value.
    """
    from scipy.special import stdtrit  # the t quantile, without importing all of scipy.stats

    values = np.asarray(values, dtype=np.float64)
    n = values.shape[axis]
    mean = values.mean(axis=axis)
    if n < 2:
        nan = np.full_like(mean, np.nan)
        return mean, nan, nan.copy()
    half = stdtrit(n - 1, 0.5 + confidence / 2) * values.std(axis=axis, ddof=1) / math.sqrt(n)
    return mean, mean - half, mean + half


def estimate(values, confidence: float = CONFIDENCE) -> Estimate:
    mean, low, high = t_interval(values, confidence)
    return Estimate(float(mean), float(low), float(high), len(values))


def _json_float(value: float) -> float | None:
    return float(value) if math.isfinite(value) else None


# ----------------------------------------------------------------------------- work units


@dataclass(frozen=True)
class Replication:
    """What an experiment keeps of one run: KPIs, the recovery curve, roll rates, contacts."""

    run_id: str
    kpis: dict[str, float]
    recovery_curve: np.ndarray
    roll_rates: np.ndarray
    contacts: dict[str, int]
    # A champion/challenger run's readout (sim.arms): KPIs by strategy, each challenger's within-run tests.
    kpis_by_strategy: dict[str, dict[str, Any]] | None = None
    strategy_tests: dict[str, dict[str, dict[str, float]]] | None = None

    @classmethod
    def from_result(cls, run_id: str, result: RunResult) -> Replication:
        by_strategy = tests = None
        if result.kpis_by_strategy is not None:
            from .metrics import _jsonable

            # As the store keeps them (plain JSON data), so a reused run reads back the same.
            by_strategy, tests = _jsonable(result.kpis_by_strategy), _jsonable(result.strategy_tests)
        return cls(run_id, result.scalar_kpis(), result.recovery_curve(), np.asarray(result.roll_rates),
                   dict(result.kpis["contacts"]), by_strategy, tests)

    @classmethod
    def from_stored(cls, run_id: str, stored: dict[str, Any]) -> Replication:
        kpis = {k: stored["kpis"][k] for k in SCALAR_KPIS}
        initial = kpis["initial_balance"]
        collected = stored["collected"]
        curve = np.cumsum(collected) / initial if initial > 0 else np.zeros(len(collected))
        nested = stored["kpis_all"]
        return cls(run_id, kpis, curve, np.asarray(nested["roll_rates"]["matrix"], dtype=np.float64),
                   dict(nested["contacts"]), stored.get("kpis_by_strategy"), stored.get("strategy_tests"))


def seed_key(seed: dict) -> tuple[str, str]:
    """How a replication seed is written in the store: entropy and spawn key as text."""
    return str(seed["entropy"]), json.dumps(list(seed["spawn_key"]))


def run_key(scenario_hash: str, seed: dict, version: str) -> str:
    """The stored run's id: scenario hash + seed + code version, digested."""
    entropy, spawn = seed_key(seed)
    return hashlib.sha256(f"{scenario_hash}|{entropy}|{spawn}|{version}".encode()).hexdigest()[:20]


def run_unit(unit: dict[str, Any]) -> tuple[RunResult, str]:
    """One replication of one scenario, from plain data; runs on any worker.

    ``unit`` holds the scenario's content, source and base directory and the
    seed's entropy and spawn key. Returns the run (without its contact log) and
    the code version of the worker that ran it.
    """
    from .simulation import simulate

    scenario = Scenario.from_dict(unit["content"], source=unit["source"], base_dir=unit["base_dir"])
    seed = np.random.SeedSequence(unit["entropy"], spawn_key=tuple(unit["spawn_key"]))
    return simulate(scenario, seed, contact_log=False), code_version()


# ----------------------------------------------------------------------------- results


@dataclass(frozen=True)
class ScenarioSummary:
    label: str
    name: str
    scenario_hash: str
    kpis: dict[str, Estimate]
    recovery_curve: tuple[np.ndarray, np.ndarray, np.ndarray]  # mean, low, high by day
    roll_rates: np.ndarray  # mean monthly roll-rate matrix
    contacts: dict[str, float]  # mean contacts by channel


@dataclass(frozen=True)
class Difference:
    """Challenger − champion for one KPI, paired by replication."""

    challenger: str
    champion: str
    kpi: str
    estimate: Estimate

    @property
    def significant(self) -> bool:
        return self.estimate.significant

    def to_json(self) -> dict[str, Any]:
        return {"challenger": self.challenger, "champion": self.champion, "kpi": self.kpi,
                **self.estimate.to_json(), "significant": self.significant}


@dataclass
class Comparison:
    """Scenarios compared over paired replications, with the settings that produced them."""

    scenarios: list[ScenarioSummary]
    differences: list[Difference]
    replications: list[list[Replication]]
    reps: int
    seed: dict
    code_version: str
    experiment_id: str
    kind: str = "compare"
    reused: int = 0  # units taken from the store
    computed: int = 0  # runs simulated by this call
    confidence: float = CONFIDENCE
    spec: dict = field(default_factory=dict)

    @property
    def labels(self) -> list[str]:
        return [s.label for s in self.scenarios]

    @property
    def champion(self) -> str:
        return self.scenarios[0].label

    def summary(self, label: str) -> ScenarioSummary:
        for s in self.scenarios:
            if s.label == label:
                return s
        raise KeyError(label)

    def difference(self, challenger: str, kpi: str) -> Difference:
        for d in self.differences:
            if d.challenger == challenger and d.kpi == kpi:
                return d
        raise KeyError((challenger, kpi))

    def values(self, label: str, kpi: str) -> np.ndarray:
        """The KPI of every replication of one scenario, in replication order."""
        index = self.labels.index(label)
        return np.array([r.kpis[kpi] for r in self.replications[index]])

    def to_json(self) -> dict[str, Any]:
        return {
            "experiment_id": self.experiment_id,
            "kind": self.kind,
            "reps": self.reps,
            "confidence": self.confidence,
            "seed": self.seed,
            "code_version": self.code_version,
            "scenarios": [
                {"name": s.label, "scenario_name": s.name, "hash": s.scenario_hash,
                 "kpis": {k: e.to_json() for k, e in s.kpis.items()}}
                for s in self.scenarios
            ],
            "differences": [d.to_json() for d in self.differences],
        }

    def to_rows(self) -> list[dict[str, Any]]:
        """Flat rows for a CSV: one per scenario KPI and one per difference."""
        rows = []
        for s in self.scenarios:
            for k, e in s.kpis.items():
                rows.append({"kind": "scenario", "scenario": s.label, "champion": "", "kpi": k,
                             "mean": e.mean, "ci_low": e.ci_low, "ci_high": e.ci_high, "significant": "",
                             "reps": e.n})
        for d in self.differences:
            e = d.estimate
            rows.append({"kind": "difference", "scenario": d.challenger, "champion": d.champion, "kpi": d.kpi,
                         "mean": e.mean, "ci_low": e.ci_low, "ci_high": e.ci_high,
                         "significant": d.significant, "reps": e.n})
        return rows


def summarize(labels: Sequence[str], names: Sequence[str], hashes: Sequence[str],
              replications: list[list[Replication]], confidence: float = CONFIDENCE
              ) -> tuple[list[ScenarioSummary], list[Difference]]:
    """Means, intervals and paired differences from replications (champion first)."""
    summaries = []
    for label, name, digest, reps in zip(labels, names, hashes, replications, strict=True):
        kpis = {k: estimate([r.kpis[k] for r in reps], confidence) for k in SCALAR_KPIS}
        curve = t_interval(np.vstack([r.recovery_curve for r in reps]), confidence)
        roll = np.mean([r.roll_rates for r in reps], axis=0)
        channels = reps[0].contacts.keys()
        contacts = {ch: float(np.mean([r.contacts.get(ch, 0) for r in reps])) for ch in channels}
        summaries.append(ScenarioSummary(label, name, digest, kpis, curve, roll, contacts))
    differences = []
    champion = replications[0]
    for label, reps in zip(labels[1:], replications[1:], strict=True):
        for k in SCALAR_KPIS:
            paired = [c.kpis[k] - b.kpis[k] for c, b in zip(reps, champion, strict=True)]
            differences.append(Difference(label, labels[0], k, estimate(paired, confidence)))
    return summaries, differences


# ----------------------------------------------------------------------------- running


def distinct_labels(scenarios: Sequence[Scenario]) -> list[str]:
    """Scenario names, made distinct with the file stem (and a number if need be)."""
    names = [s.display_name for s in scenarios]
    labels = []
    for s, name in zip(scenarios, names, strict=True):
        if names.count(name) > 1 and s.source and not s.source.startswith("<"):
            stem = Path(s.source).stem
            name = stem if stem != name else name
        labels.append(name)
    seen: dict[str, int] = {}
    out = []
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
        out.append(label if seen[label] == 1 and labels.count(label) == 1 else f"{label}#{seen[label]}")
    return out


def replication_seeds(rng, reps: int) -> tuple[dict, list[np.random.SeedSequence]]:
    """The root seed (as data) and one child SeedSequence per replication.

    Spawning from a copy leaves the caller's SeedSequence untouched, so the
    same root always gives the same children, and child ``k`` does not depend
    on how many replications were asked for.
    """
    root = as_seed_sequence(rng)
    fresh = np.random.SeedSequence(root.entropy, spawn_key=root.spawn_key)
    return {"entropy": _plain(root.entropy), "spawn_key": list(root.spawn_key)}, fresh.spawn(reps)


def _plain(entropy):
    if isinstance(entropy, (int, np.integer)):
        return int(entropy)
    return [int(e) for e in entropy]


def experiment_key(kind: str, labels: Sequence[str], hashes: Sequence[str], reps: int, seed: dict,
                   version: str) -> str:
    payload = json.dumps([kind, list(labels), list(hashes), reps, seed, version], sort_keys=True)
    return "e" + hashlib.sha256(payload.encode()).hexdigest()[:11]


def record_run(store, scenario: Scenario, result: RunResult) -> str:
    """Save a single run (``python -m sim run``) as an experiment of kind "run" with one replication.

    The run is keyed like any replication (scenario hash + seed + code version),
    so an experiment that later needs the same run reuses it. Returns the
    experiment id.
    """
    version = code_version()
    seed = {"entropy": _plain(result.seed["entropy"]), "spawn_key": list(result.seed["spawn_key"])}
    label = scenario.display_name
    experiment_id = experiment_key("run", [label], [result.scenario_hash], 1, seed, version)
    store.begin_experiment(
        experiment_id=experiment_id, kind="run", reps=1, seed=seed, code_version=version,
        scenarios=[{"label": label, "scenario_hash": result.scenario_hash, "name": label,
                    "content": scenario.content()}],
    )
    run_id = run_key(result.scenario_hash, seed, version)
    store.save_run(result, run_id=run_id, code_version=version, seed_key=seed_key(seed),
                   links=[(experiment_id, 0, 0)])
    store.finish_experiment(experiment_id, "complete", {"kpis": result.scalar_kpis()})
    return experiment_id


def _checked(scenarios: Sequence[Scenario], reps, labels: Sequence[str] | None
             ) -> tuple[list[Scenario], int, list[str]]:
    """The experiment's scenarios, replications and labels, or the one-line error of a bad one."""
    scenarios = list(scenarios)
    if not scenarios:
        raise InputError("experiment", "scenarios", "give at least one scenario")
    if isinstance(reps, bool) or not isinstance(reps, (int, np.integer)) or reps < 1:
        raise InputError("experiment", "reps", f"must be a whole number ≥ 1, got {reps!r}")
    labels = list(labels) if labels is not None else distinct_labels(scenarios)
    if len(labels) != len(scenarios) or len(set(labels)) != len(labels):
        raise InputError("experiment", "labels", "give one distinct label per scenario")
    return scenarios, int(reps), labels


def _reuse_stored(store, experiment_id: str, units_by_run: dict[str, list[tuple[int, int]]],
                  slots: dict[tuple[int, int], Replication], arms: set[int] = frozenset()) -> int:
    """Fill ``slots`` with the runs the store already holds, link them to the experiment; how many units.

    A run of a champion/challenger scenario (its index in ``arms``) stored
    without its KPIs by strategy is not reused: it is simulated again.
    """
    reused = 0
    links = []
    for run_id, found in store.load_runs(units_by_run).items():
        if found.get("kpis_by_strategy") is None and units_by_run[run_id][0][0] in arms:
            continue
        replication = Replication.from_stored(run_id, found)
        for unit in units_by_run[run_id]:
            slots[unit] = replication
            links.append((*unit, run_id))
            reused += 1
    store.link_runs(experiment_id, links)
    return reused


def _payload(scenario: Scenario, seed: dict) -> dict:
    """One unit of work as plain data a worker can rebuild the scenario and its seed from."""
    return {"content": scenario.content(), "source": scenario.source,
            "base_dir": str(Path(scenario.base_dir).resolve()),
            "entropy": seed["entropy"], "spawn_key": seed["spawn_key"]}


def _check_returned(result: RunResult, worker_version: str, version: str, scenario_hash: str, label: str) -> None:
    """A worker's run is of this code and this scenario, or the experiment stops."""
    if worker_version != version:
        raise InputError("executor", "code_version",
                         f"a worker ran repaylab {worker_version}, expected {version}: install the "
                         "same code on every worker (or the simulator's code changed while "
                         "the experiment ran; run it again)")
    if result.scenario_hash != scenario_hash:
        raise RuntimeError(f"scenario {label!r} changed on its way to the worker")


def _units_by_run(hashes: Sequence[str], seeds: Sequence[dict], version: str) -> dict[str, list[tuple[int, int]]]:
    """The (scenario, replication) units of each run id: units that share one (a variant identical
    to the base) are simulated once."""
    units_by_run: dict[str, list[tuple[int, int]]] = {}
    for i, digest in enumerate(hashes):
        for k in range(len(seeds)):
            units_by_run.setdefault(run_key(digest, seeds[k], version), []).append((i, k))
    return units_by_run


def _run_units(executor, payloads: list[dict], keep: Callable[[int, RunResult, str], int], done: int, total: int,
               progress: Callable[[int, int], None] | None, store, experiment_id: str) -> None:
    """Run the payloads, handing each finished run to ``keep`` (which returns the units it filled).

    Without an executor a local process pool runs them and is closed at the
    end; an interrupted run marks the stored experiment ``interrupted``.
    """
    from .executors import LocalExecutor

    own_executor = executor is None
    executor = LocalExecutor() if own_executor else executor
    try:
        with contextlib.closing(executor.map_unordered(run_unit, payloads)) as finished:
            for position, (result, worker_version) in finished:
                done += keep(position, result, worker_version)
                if progress is not None:
                    progress(done, total)
    except BaseException:
        if store is not None:
            with contextlib.suppress(Exception):
                store.finish_experiment(experiment_id, "interrupted")
        raise
    finally:
        if own_executor:
            executor.close()


def run_experiment(scenarios: Sequence[Scenario], reps: int, rng=None, executor=None, store=None,
                   progress: Callable[[int, int], None] | None = None, *, labels: Sequence[str] | None = None,
                   kind: str = "compare", spec: dict | None = None,
                   confidence: float = CONFIDENCE) -> Comparison:
    """Run every scenario ``reps`` times under common random numbers and compare.

    Parameters
    ----------
    scenarios
        The champion first, then the challengers.
    reps
        Replications per scenario (≥ 1; with one there are no intervals).
    rng
        Root seed: an int, ``SeedSequence`` or ``Generator``; by default the
        champion's ``simulation.seed``. The scenarios' own seeds are not used.
    executor
        A :mod:`sim.executors` executor; by default a local process pool with
        one worker per core. The caller closes an executor it passes.
    store
        A :class:`sim.store.ResultStore`: stored runs are reused and new ones
        saved, one transaction each, as they finish.
    progress
        Called as ``progress(done, total)`` as units finish (reused ones first).
    labels
        Names to show; by default the scenario names, made distinct.
    kind, spec
        What launched the experiment (``compare``, ``sweep``, ``sensitivity``)
        and its settings, recorded in the store.
    """
    scenarios, reps, labels = _checked(scenarios, reps, labels)
    seed, children = replication_seeds(scenarios[0].simulation.seed if rng is None else rng, reps)
    seeds = [{"entropy": _plain(c.entropy), "spawn_key": list(c.spawn_key)} for c in children]
    version = code_version()
    hashes = [s.content_hash for s in scenarios]
    experiment_id = experiment_key(kind, labels, hashes, reps, seed, version)

    units_by_run = _units_by_run(hashes, seeds, version)
    total = len(scenarios) * reps
    slots: dict[tuple[int, int], Replication] = {}
    reused = 0

    if store is not None:
        store.begin_experiment(
            experiment_id=experiment_id, kind=kind, reps=reps, seed=seed, code_version=version, spec=spec,
            scenarios=[{"label": lab, "scenario_hash": h, "name": s.display_name, "content": s.content()}
                       for lab, h, s in zip(labels, hashes, scenarios, strict=True)],
        )
        reused = _reuse_stored(store, experiment_id, units_by_run, slots,
                               {i for i, s in enumerate(scenarios) if s.strategies is not None})
    if progress is not None:
        progress(reused, total)

    todo = [run_id for run_id in units_by_run if units_by_run[run_id][0] not in slots]
    payloads = [_payload(scenarios[i], seeds[k]) for i, k in (units_by_run[run_id][0] for run_id in todo)]

    def keep(position: int, result: RunResult, worker_version: str) -> int:
        """Check a finished run, save it and fill its units; returns how many."""
        run_id = todo[position]
        units = units_by_run[run_id]
        _check_returned(result, worker_version, version, hashes[units[0][0]], labels[units[0][0]])
        if store is not None:
            store.save_run(result, run_id=run_id, code_version=version, seed_key=seed_key(result.seed),
                           links=[(experiment_id, i, k) for i, k in units])
        replication = Replication.from_result(run_id, result)
        for unit in units:
            slots[unit] = replication
        return len(units)

    _run_units(executor, payloads, keep, reused, total, progress, store, experiment_id)
    replications = [[slots[(i, k)] for k in range(reps)] for i in range(len(scenarios))]
    summaries, differences = summarize(labels, [s.display_name for s in scenarios], hashes, replications,
                                       confidence)
    comparison = Comparison(summaries, differences, replications, reps, seed, version, experiment_id, kind,
                            reused=reused, computed=len(todo), confidence=confidence, spec=spec or {})
    if store is not None:
        store.finish_experiment(experiment_id, "complete", comparison.to_json())
    return comparison
