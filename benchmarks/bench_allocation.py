"""Build + solve the allocation LP through PuLP (HiGHS) against the same matrix solved directly with highspy.

Synthetic valuations: S segments × 8 treatments × 26 weeks, two call-like
teams. Prints, for 200, 2,000 and 10,000 segments, the PuLP model's build and
solve time (``solve`` hands HiGHS the prebuilt matrix, :class:`ArrayHiGHS`),
the same PuLP model solved through PuLP's own term-by-term HiGHS interface,
and the matrix built and solved directly with highspy; the last line is the
headline ratio (2,000 segments; target ≤ 2× and ≤ 10 s).

Then ``allocate`` end to end, side by side in one run (``--allocate-accounts``,
5,000 by default; 0 skips it): baseline (the US card book: card borrowers, an
open book with a warm-up) and hawkes_baseline (hawkes borrowers, a closed
book), both valued by the engine (the only valuation since the analytic value
model was removed) — wall and CPU seconds of ``allocate`` (issue 13's target:
≤ 15 s wall at 5,000 accounts on 2 cores, ``--workers 2``; the CPU seconds
are this process's, without the local workers the valuation spreads its runs
over — ``--workers 1`` keeps them all in it, and then CPU is the total and the
line adds the estimated wall on two idle cores: the serial CPU plus, for each
batch of runs the executor is given, the larger of its longest run and half
its total, :class:`BatchClock` — on a shared machine under load the measured
wall is not the target's; ``--batches`` lists every batch: its work units'
kind, their number, their CPU and the longest one's; ``--repeat N`` runs each
scenario's allocate N times in turn and shows the median: on this machine's
shared cores one run's wall drifts by 10 % and more — the first run of the
process also starts the workers' forkserver, about 0.3 s that later runs
do not pay), and,
with ``--verify-reps R`` (5 by default; 0 skips it), the returned plan (or,
when the guard returned a reference ladder, the LP's own plan) against the
scenario's own ladder on ``verify``'s seeds (children 0 … R − 1
of the scenario's seed, which the valuation never uses): the mean paired
difference in net recovery and its 95 % interval.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

import highspy
import numpy as np
import pulp
from scipy import sparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from test_allocation import valuation  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import interpreter_seconds, machine  # noqa: E402

from optimizer.allocation import build_allocation_model, solve  # noqa: E402
from optimizer.solvers import native_stdout_silenced  # noqa: E402

T, W = 8, 26


def synthetic(S: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    value = rng.uniform(0, 1000, (S, T))
    value[:, 0] = rng.uniform(0, 300, S)
    minutes = rng.uniform(5, 60, (S, T, W)) * (np.arange(T) % 2 == 1)[None, :, None]
    v = valuation(value, minutes)
    v.minutes["field"] = rng.uniform(20, 90, (S, T, W)) * (np.arange(T) >= 6)[None, :, None]
    capacity = {(team, w): 0.3 * float(v.minutes[team][:, :, w].sum()) / T for team in ("callers", "field")
                for w in range(W)}
    return v, capacity


def direct_highs(v, capacity) -> tuple[float, float]:
    S = v.value.shape[0]
    n = S * T
    rows = [sparse.kron(sparse.eye(S), np.ones((1, T)), format="csr")]
    upper = [np.ones(S)]
    lower = [np.ones(S)]
    for (team, w) in capacity:
        # The LP's rows: a team's work from week w to the horizon within its capacity over those weeks.
        rows.append(sparse.csr_matrix(v.minutes[team][:, :, w:].sum(axis=2).reshape(1, n)))
        upper.append(np.array([sum(c for (t, k), c in capacity.items() if t == team and k >= w)]))
        lower.append(np.array([-highspy.kHighsInf]))
    A = sparse.vstack(rows).tocsc()
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = n, A.shape[0]
    lp.col_cost_ = -v.value.reshape(n)
    lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
    lp.row_lower_, lp.row_upper_ = np.concatenate(lower), np.concatenate(upper)
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
    # The banner is written from C++ when the first Highs object is built, before output_flag can be set.
    with native_stdout_silenced():
        h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.passModel(lp)
        h.run()
    return -h.getInfo().objective_function_value, 0.0


# (scenario file, valuation) of the end-to-end runs: the card book and the hawkes world, both by the engine.
ALLOCATE_RUNS = (("baseline", "simulate"), ("hawkes_baseline", "simulate"))
SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _cpu() -> float:
    """CPU seconds of this process: the simulated valuation's local workers (forked by a forkserver, not by
    this process) are not in it — run with ``--workers 1`` to count them (wall seconds are the target's)."""
    return time.process_time()


class BatchClock:
    """CPU seconds inside the executor's batches, and what two workers would take for them.

    With ``--workers 1`` every run is in this process: a batch's units are
    timed one by one, and on two idle cores the batch would take at least its
    longest unit and at least half its total. The serial rest (warm-up,
    segments, LP solves, summary) plus that is the 2-core wall a shared,
    loaded machine cannot measure directly.
    """

    def __init__(self):
        self.batched = 0.0
        self.two_cores = 0.0
        # Each batch in the order made: (work unit's function, units, CPU, longest unit's CPU), to say which
        # part of allocate a change moved (docs/optimizer_validation.md's tables by batch).
        self.batches: list[tuple[str, int, float, float]] = []

    def __enter__(self):
        from sim import executors

        self._original = original = executors.LocalExecutor.map_unordered
        clock = self

        def timed(executor, fn, items):
            started = last = time.process_time()
            units = []
            for out in original(executor, fn, items):
                now = time.process_time()
                units.append(now - last)
                last = now
                yield out
            clock.batched += time.process_time() - started
            clock.two_cores += max(max(units, default=0.0), sum(units) / 2)
            clock.batches.append((getattr(fn, "__name__", str(fn)), len(units), sum(units), max(units, default=0.0)))

        executors.LocalExecutor.map_unordered = timed
        return self

    def __exit__(self, *exc):
        from sim import executors

        executors.LocalExecutor.map_unordered = self._original


def allocate_run(name: str, valuation: str, accounts: int, weeks: int | None, reps: int,
                 workers: int | None = None) -> dict:
    """``allocate`` on a shipped scenario: wall and CPU seconds, the plan's source and, with ``reps``, its
    simulated lead over the scenario's own ladder on verify's seeds. With ``workers`` 1, also the CPU
    outside the executor's batches (serial) and the estimated wall on two idle cores (:class:`BatchClock`)."""
    from optimizer.allocation import allocate, verify
    from sim.scenario import load_scenario

    scenario = load_scenario(SCENARIOS / f"{name}.toml", {"simulation.accounts": accounts})
    with BatchClock() as clock:
        wall, cpu = time.perf_counter(), _cpu()
        result = allocate(scenario, weeks=weeks, valuation=valuation, workers=workers)
        wall, cpu = time.perf_counter() - wall, _cpu() - cpu
    plan = result.plan
    out = {"scenario": name, "model": scenario.behavior.model, "valuation": valuation,
           "seconds": wall, "cpu": cpu, "two_cores": None,
           "source": f"ladder {plan.reference}" if plan.reference else "LP plan", "lead": None}
    if workers == 1:
        out["two_cores"] = cpu - clock.batched + clock.two_cores
        out["serial"] = cpu - clock.batched
        out["batches"] = clock.batches
    if plan.reference is not None:
        # The returned plan is the own ladder (+0 by construction): check the LP's own plan instead,
        # the plan the guard turned down (the model solved again gives it back).
        plan = solve(result.model, "highs", fallback=plan.fallback)
        out["source"] += " (checked: the LP's own plan)"
    if reps and plan.ok:
        strategy = plan.to_strategy(scenario)
        started = time.perf_counter()
        check = verify(scenario, strategy, [scenario], reps, segments=plan.segments, days=plan.days,
                       valuation=valuation)
        out["lead"] = check.difference(strategy.display_name, scenario.display_name)
        out["verify_seconds"] = time.perf_counter() - started
    return out


def median_run(runs: list[dict]) -> dict:
    """One scenario's repeated runs as one: the first run's plan and check, the median wall, CPU and 2-core
    estimate, and every run's wall (``walls``)."""
    out = dict(runs[0])
    for key in ("seconds", "cpu", "two_cores"):
        if out[key] is not None:
            out[key] = float(np.median([r[key] for r in runs]))
    out["walls"] = [r["seconds"] for r in runs]
    return out


def print_allocate_runs(runs: list[dict], accounts: int, reps: int, batches: bool = False) -> None:
    print(f"\nallocate at {accounts:,} accounts (wall s / CPU s of allocate; plan − own ladder on verify's "
          f"{reps} fresh seeds, net recovery, mean and 95 % CI):")
    for r in runs:
        line = (f"  {r['scenario']:<14} {r['model']:<7} {r['valuation']:<9} {r['seconds']:6.1f} s wall "
                f"{r['cpu']:6.1f} s CPU   returned: {r['source']}")
        if r["two_cores"] is not None:
            line += f"; on 2 idle cores about {r['two_cores']:.1f} s"
        if len(r["walls"]) > 1:
            line += f"; median of {len(r['walls'])} runs (walls {', '.join(f'{w:.1f}' for w in r['walls'])} s)"
        lead = r["lead"]
        if lead is not None:
            line += (f"; plan − own ladder {lead['mean']:+,.0f} ({lead['low']:+,.0f} … {lead['high']:+,.0f}), "
                     f"predicted {lead['predicted']:+,.0f}; verify {r['verify_seconds']:.1f} s")
        print(line)
        if batches and r.get("batches") is not None:
            print(f"    serial (outside the batches) {r['serial']:.2f} s CPU")
            for k, (kind, units, cpu, longest) in enumerate(r["batches"]):
                print(f"    batch {k + 1}: {units:>3} × {kind:<13} {cpu:6.2f} s CPU, longest {longest:5.2f} s, "
                      f"on 2 cores {max(longest, cpu / 2):5.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000, 10000], help="segment counts")
    parser.add_argument("--allocate-accounts", type=int, default=5000,
                        help="accounts of the end-to-end allocate runs (0: skip them)")
    parser.add_argument("--weeks", type=int, default=None, help="allocate's horizon (default: the scenario's days)")
    parser.add_argument("--workers", type=int, default=None,
                        help="allocate's local processes for the simulated valuation (default: one per core)")
    parser.add_argument("--verify-reps", type=int, default=5, help="replications of the plan's check (0: skip it)")
    parser.add_argument("--batches", action="store_true",
                        help="with --workers 1: list allocate's batches of runs (units, CPU, longest)")
    parser.add_argument("--repeat", type=int, default=1,
                        help="allocate runs per scenario, taken in turn (baseline, hawkes_baseline, baseline …); "
                             "the line shows the median wall and every run's (a shared machine's speed drifts "
                             "by 10 %% from one minute to the next)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()} ({machine()['cpu']}), "
          f"Python {platform.python_version()}, highspy {metadata.version('highspy')}; "
          f"10 M additions in a Python loop {interpreter_seconds():.2f} s (the machine's speed: wall figures "
          "compare beside it)")
    headline = None
    headline_size = 0
    for S in args.sizes:
        v, capacity = synthetic(S)
        started = time.perf_counter()
        direct_objective, _ = direct_highs(v, capacity)
        direct = time.perf_counter() - started
        started = time.perf_counter()
        model = build_allocation_model(v, capacity)
        built = time.perf_counter() - started
        plan = solve(model, "highs")
        pulp_time = time.perf_counter() - started
        assert abs(plan.objective - direct_objective) <= 1e-6 * max(1.0, abs(direct_objective))
        started = time.perf_counter()
        slow = build_allocation_model(v, capacity)
        slow.problem.solve(pulp.HiGHS(msg=False, mip=False))
        own_interface = time.perf_counter() - started
        ratio = pulp_time / direct
        print(f"{S:>6} segments × {T} treatments × {W} weeks: PuLP build {built:.2f} s + solve "
              f"{pulp_time - built:.2f} s = {pulp_time:.2f} s; highspy direct {direct:.2f} s; ratio {ratio:.2f} "
              f"(through PuLP's own HiGHS interface {own_interface:.2f} s, ratio {own_interface / direct:.2f})")
        if headline is None or S == 2000:
            headline, headline_size = ratio, S
    rounds = [[allocate_run(name, valuation, args.allocate_accounts, args.weeks, args.verify_reps if k == 0 else 0,
                            args.workers)
               for name, valuation in ALLOCATE_RUNS] for k in range(max(1, args.repeat))] if args.allocate_accounts else []
    runs = [median_run([r[j] for r in rounds]) for j in range(len(ALLOCATE_RUNS))] if rounds else []
    if runs:
        print_allocate_runs(runs, args.allocate_accounts, args.verify_reps, args.batches)
    times = "; ".join(f"{r['scenario']} {r['seconds']:.1f} s"
                      + (f" (2 idle cores: {r['two_cores']:.1f} s)" if r["two_cores"] is not None else "")
                      for r in runs)
    print(f"headline: PuLP build+solve / highspy direct = {headline:.2f} ({headline_size:,} segments; target <= 2)"
          + (f"; allocate at {args.allocate_accounts:,} accounts: {times} (target <= 15 s)" if runs else ""))


if __name__ == "__main__":
    main()
