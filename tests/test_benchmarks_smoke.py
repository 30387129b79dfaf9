"""The benchmark scripts run end to end at a tiny size (no timings are checked)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from simhelpers import ROOT

BENCH = ROOT / "benchmarks"

CASES = {
    "naive_sim": ["--accounts", "300", "--days", "10", "--seeds", "2", "--stock-accounts", "200"],
    "limits": ["--accounts", "500", "--days", "10", "--agents", "5"],
    "scaling": ["--sizes", "300", "600", "--days", "5", "--agents", "5"],
    "open_book": ["--book", "600", "--days", "5", "--warmup", "5", "--agents", "5"],
    "experiments": ["--reps", "1", "--accounts", "200", "--days", "5"],
    "power_check": ["--trials", "200", "--engine", "--engine-trials", "3", "--pilot-reps", "1",
                    "--pilot-accounts", "400", "--days", "10", "--challenger", "sms_gentle",
                    "--max-accounts", "20000"],
    "bench_allocation": ["--sizes", "50", "--allocate-accounts", "300", "--weeks", "2", "--verify-reps", "2"],
    "current_value": ["--accounts", "300", "--seeds", "2", "--days", "20"],
    "optimizer_table": ["--worlds", "cn_2025", "--accounts", "200", "--reps", "2", "--sample", "6", "--passes", "1",
                        "--guard-runs", "1", "--prediction-runs", "2"],
    "prediction_error": ["--world", "baseline", "--accounts", "200", "--books", "2", "--runs", "2",
                         "--shipped", "sms_gentle"],
    "capacity_use": ["--accounts", "300", "--books", "2", "--sample", "6", "--passes", "1", "--shipped", "baseline"],
    "profile_engine": ["--accounts", "300", "--days", "5", "--agents", "5", "--cprofile", "--top", "5"],
}


@pytest.mark.parametrize("script", sorted(CASES))
def test_benchmark_runs_and_ends_with_its_headline(script):
    out = subprocess.run([sys.executable, str(BENCH / f"{script}.py"), *CASES[script]], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert lines[0].startswith("machine: ")
    assert lines[-1].startswith("headline: ")


def test_naive_model_collects_like_the_engine_at_a_small_size():
    # The speed comparison is only fair if both models are the same model:
    # collected amount over a few paired seeds must agree within noise.
    sys.path.insert(0, str(BENCH))
    try:
        from naive_sim import run_engine, run_naive
    finally:
        sys.path.remove(str(BENCH))
    from sim.scenario import load_scenario

    # The naive model is the hawkes process on a closed book (benchmarks/naive_sim.py). At 400 or 1,000
    # accounts four seeds' sums differ by 11-17 % from the draws alone (whichever way the engine draws its
    # repayments); at 3,000 by 7.5 %, under the 15 % this allows with room to spare.
    scenario = load_scenario(ROOT / "scenarios" / "hawkes_baseline.toml",
                             {"simulation.accounts": 3000, "simulation.days": 40})
    engine = [run_engine(scenario, seed).collected for seed in (1, 2, 3, 4)]
    naive = [run_naive(scenario, seed).collected for seed in (1, 2, 3, 4)]
    assert abs(sum(naive) - sum(engine)) / sum(engine) < 0.15


def _verification_with_flattered_run0(tmp_path):
    """A world's ``--verify --json`` whose plan leads by 100 on every fresh book but by 400 on run 0 (the book it
    was chosen on), and by 100 in every simulated replication."""
    fresh = [1000.0 + x for x in (-3, 1, 2, 0, -1, 4, -2, 3, -4, 0)]
    plan_runs = [1400.0, *[f + 100.0 for f in fresh]]
    ladder_runs = [1000.0, *fresh]
    sims = [900.0 + x for x in (5, -5, 3, -3, 2, -2, 0, 1, -1, 4)]
    verification = {"prediction_per_run": {"net_collections": {"plan": plan_runs, "ladder": ladder_runs}},
                    "per_replication": {"net_collections": {"plan": [s + 100.0 for s in sims], "ladder": sims}}}
    (tmp_path / "baseline.json").write_text(json.dumps({"verification": verification}))


def test_prediction_selection_finds_a_run0_that_flatters_the_plan(tmp_path):
    # The optimizer's curse check of issue 13: a plan lead inflated on the book it was chosen on must show as a
    # large positive z, and the fresh books alone must agree with the simulation where all runs do not.
    _verification_with_flattered_run0(tmp_path)
    out = subprocess.run([sys.executable, str(BENCH / "prediction_selection.py"), str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    headline = out.stdout.strip().splitlines()[-1]
    z = float(headline.split("mean z ")[1].split(";")[0])
    assert z > 50
    assert headline.endswith("agreement 0 of 1 with all runs, 1 of 1 with fresh books only")


def test_prediction_selection_without_tables_is_one_line_and_exit_2(tmp_path):
    out = subprocess.run([sys.executable, str(BENCH / "prediction_selection.py"), str(tmp_path)], cwd=ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 2
    assert out.stderr.strip().count("\n") == 0 and "no WORLD.json" in out.stderr


def test_bench_allocation_lists_allocates_batches_and_they_make_up_its_two_core_estimate():
    # --batches is how a change to allocate's runs is told apart batch by batch (docs/optimizer_validation.md):
    # the serial CPU plus each batch's two-core time must be the estimate the line reports, scenario by scenario.
    args = ["--sizes", "50", "--allocate-accounts", "300", "--weeks", "2", "--verify-reps", "0", "--workers", "1",
            "--batches"]
    out = subprocess.run([sys.executable, str(BENCH / "bench_allocation.py"), *args], cwd=ROOT,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    estimates, parts = [], []
    for line in out.stdout.splitlines():
        if "on 2 idle cores about" in line:
            estimates.append(float(line.split("on 2 idle cores about ")[1].split(" s")[0]))
            parts.append([])
        elif line.strip().startswith("serial (outside the batches)"):
            parts[-1].append(float(line.split("batches) ")[1].split(" s")[0]))
        elif line.strip().startswith("batch "):
            parts[-1].append(float(line.split("on 2 cores ")[1].split(" s")[0]))
    assert len(estimates) == 2  # baseline and hawkes_baseline
    for estimate, listed in zip(estimates, parts, strict=True):
        assert len(listed) >= 4  # the serial part, then the first pass's, the plan's and the agent value's batches
        assert sum(listed) == pytest.approx(estimate, abs=0.05 + 0.005 * len(listed))
