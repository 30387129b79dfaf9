"""The plan against every shipped ladder in every world: the 25-comparison table of issue 13.

For each world (a shipped scenario's book, teams, rules and costs) this runs
``python -m optimizer allocate WORLD --verify --reps R --accounts N --json``
with every other shipped ladder given by ``--against``, so the returned plan
is simulated against all five ladders (the world's own and the other four)
on fresh seeds, paired by common random numbers. Each world's JSON is kept in
``--out`` as it finishes (``WORLD.json``; a world already there is not run
again unless ``--rerun``), and the table is printed from what is there, so a
long run can be read world by world and resumed.

Per world × ladder, plan − ladder: the objective (what the LP maximises, the
verdict), net collections of the accounts the plan is made for (what the
valuation predicts as the plan's net recovery) and the run's net-recovery KPI
(agents' time and every account included), each with the simulated mean,
its 95 % interval and the prediction. Then the issue's two checks:

* agreement: the valuation's predicted difference in net collections lies
  inside the simulated 95 % interval (target: at least 23 of 25); the same
  on the objective beside it;
* a second view of agreement, not a replacement: the prediction and the
  simulated mean are both estimates, so the count of |predicted − simulated
  mean| ≤ 1.96 · √(SE_predicted² + SE_simulated²) (the prediction's standard
  error needs ``--prediction-runs`` ≥ 2; with one run that count is not made);
* the plan beats every ladder: each objective interval lies above 0.

``--prediction-runs P``: the valuation predicts each ladder as the mean of
its runs on P books (``allocate --prediction-runs``;
:mod:`optimizer.allocation.verify`), with a standard error; 1 (the
default) is allocate's own prediction, one run on one book.

    python benchmarks/optimizer_table.py [--worlds call_heavy,early_field,...] [--accounts 5000] [--reps 20]
        [--out DIR] [--workers 1] [--sample N] [--passes N] [--guard-runs N] [--prediction-runs P]
        [--table-only] [--rerun]

cn_2025's world is run against the four US ladders and its own (a step
whose team the world lacks loses its team, as ``with_strategy`` does for every
``--against``), and each US world against cn_2025's ladder, as the hawkes-era
table did. cn_2025's money is in CNY.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, positive_int, print_machine

WORLDS = ("baseline", "sms_gentle", "call_heavy", "early_field", "cn_2025")
MEASURES = (("objective", "objective_differences"), ("net collections", "net_collections_differences"),
            ("net recovery (KPI)", "differences"))


def run_world(world: str, args: argparse.Namespace, out: Path | None) -> dict:
    """One world's ``allocate --verify --json``, against every other shipped ladder; saved to ``out/WORLD.json``."""
    scenarios = ROOT / "scenarios"
    cmd = [sys.executable, "-m", "optimizer", "allocate", str(scenarios / f"{world}.toml"),
           "--accounts", str(args.accounts), "--verify", "--reps", str(args.reps), "--json",
           "--workers", str(args.workers)]
    for option in ("sample", "passes", "guard_runs", "prediction_runs"):
        if getattr(args, option) is not None:
            cmd += [f"--{option.replace('_', '-')}", str(getattr(args, option))]
    for other in WORLDS:
        if other != world:
            cmd += ["--against", str(scenarios / f"{other}.toml")]
    started, cpu = time.time(), _children_cpu()
    run = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    if run.returncode != 0:
        last = run.stderr.strip().splitlines()[-1] if run.stderr.strip() else ""
        print(f"optimizer_table: {world}: allocate exited {run.returncode}: {last}", file=sys.stderr)
        sys.exit(2)
    data = json.loads(run.stdout)
    data["_measured"] = {"world": world, "accounts": args.accounts, "reps": args.reps,
                         "wall_seconds": round(time.time() - started, 1),
                         "cpu_seconds": round(_children_cpu() - cpu, 1),
                         "commit": _commit(), "command": " ".join(cmd[1:])}
    if out is not None:
        (out / f"{world}.json").write_text(json.dumps(data, indent=1))
    return data


def _children_cpu() -> float:
    """CPU seconds of this script's finished child processes (allocate and its workers)."""
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _commit() -> str:
    run = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], capture_output=True,
                           text=True, cwd=ROOT).stdout.strip()
    return run.stdout.strip() + ("+changes" if dirty else "")


def cells(data: dict) -> list[dict]:
    """One row per ladder the plan was verified against: the three measures' differences and the checks."""
    v = data["verification"]
    rows = []
    for ladder, verdict in v["verdict"].items():
        row = {"ladder": ladder, "verdict": verdict}
        for name, key in MEASURES:
            row[name] = v[key][ladder]
        nc = row["net collections"]
        ob = row["objective"]
        row["agrees"] = nc["low"] <= nc["predicted"] <= nc["high"]
        row["within_errors"] = within_errors(nc)
        row["as_one_run"] = within_one_run(v, ladder, "net_collections", nc["predicted"])
        row["agrees_objective"] = ob["low"] <= ob["predicted"] <= ob["high"]
        rows.append(row)
    return rows


def within_errors(d: dict) -> bool | None:
    """The second view: |predicted − simulated mean| ≤ 1.96 · √(SE_predicted² + SE_simulated²); None when the
    prediction has no standard error (one run) or the JSON predates it."""
    import math

    se_p, se_s = d.get("predicted_std_error"), d.get("std_error")
    if se_p is None or se_s is None or not math.isfinite(se_p) or not math.isfinite(se_s):
        return None
    return abs(d["predicted"] - d["mean"]) <= 1.96 * math.hypot(se_p, se_s)


def within_one_run(v: dict, ladder: str, measure: str, predicted: float) -> bool:
    """Whether the predicted plan − ladder lies inside the 95 % prediction interval of one more paired run.

    The valuation predicts a whole ladder by one engine run on one book (its
    own seed), so even without bias its difference scatters like one
    replication's, not like the mean of 20: that is the interval it can be
    held to (mean ± t · sd · √(1 + 1/n)).
    """
    import numpy as np
    from scipy import stats

    runs = v["per_replication"][measure]
    optimised = next(iter(runs))
    d = np.subtract(runs[optimised], runs[ladder])
    n = d.size
    if n < 2:
        return True
    half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) * np.sqrt(1 + 1 / n)
    return abs(predicted - d.mean()) <= half


def agreement_by_books(results: dict[str, dict]) -> dict[int, tuple[int, int]]:
    """The strict agreement count had each prediction been the mean of its first p books' runs, for p up to the
    runs made: (agreeing, comparisons) by p. Read from each world's ``prediction_per_run``."""
    counts: dict[int, list[int]] = {}
    for data in results.values():
        v = data["verification"]
        runs = v.get("prediction_per_run", {}).get("net_collections")
        if not runs:
            continue
        optimised = next(iter(v["per_replication"]["net_collections"]))
        made = len(runs[optimised])
        for ladder, d in v["net_collections_differences"].items():
            paired = [a - b for a, b in zip(runs[optimised], runs[ladder], strict=True)]
            for p in range(1, made + 1):
                predicted = sum(paired[:p]) / p
                tally = counts.setdefault(p, [0, 0])
                tally[0] += d["low"] <= predicted <= d["high"]
                tally[1] += 1
    return {p: (a, n) for p, (a, n) in counts.items()}


def levels(data: dict) -> list[tuple[str, float, float, float, bool]]:
    """Each strategy's own net collections: simulated mean, its 95 % interval, whether the prediction is inside."""
    from sim.experiment import estimate

    v = data["verification"]
    out = []
    for label, runs in v["per_replication"]["net_collections"].items():
        e = estimate(runs)
        predicted = v["predicted_net"][label]
        out.append((label, e.ci_low, e.ci_high, predicted, e.ci_low <= predicted <= e.ci_high))
    return out


def fmt(d: dict) -> str:
    se = d.get("predicted_std_error")
    shown = "" if se is None else f" ± {se:,.0f}"
    return f"{d['mean']:+,.0f} ({d['low']:+,.0f} … {d['high']:+,.0f}) / {d['predicted']:+,.0f}{shown}"


def print_tables(results: dict[str, dict]) -> tuple[int, int, int, int]:
    agree = agree_objective = beats = total = level_in = level_total = one_run = 0
    errors_in = errors_total = 0
    for world, data in results.items():
        m = data["_measured"]
        source = data.get("plan_source", "lp")
        runs = data["verification"].get("prediction_runs", 1)
        print(f"\n## {world}'s world: {m['accounts']} accounts, {m['reps']} reps, plan: {source}; prediction: "
              f"{runs} book{'s' if runs != 1 else ''}; {m['wall_seconds']:.0f} s wall, {m['cpu_seconds']:.0f} s CPU; "
              f"commit {m['commit']}")
        print("| ladder | verdict | objective: simulated (95 % CI) / predicted | net collections | net recovery (KPI) |")
        print("|---|---|---|---|---|")
        for row in cells(data):
            total += 1
            agree += row["agrees"]
            agree_objective += row["agrees_objective"]
            one_run += row["as_one_run"]
            if row["within_errors"] is not None:
                errors_total += 1
                errors_in += row["within_errors"]
            beats += row["verdict"] == "beats"
            mark = "" if row["agrees"] else " ✗"
            print(f"| {row['ladder']} | {row['verdict']} | {fmt(row['objective'])} | "
                  f"{fmt(row['net collections'])}{mark} | {fmt(row['net recovery (KPI)'])} |")
        shown = []
        for label, low, high, predicted, inside in levels(data):
            level_total += 1
            level_in += inside
            shown.append(f"{label} {predicted:,.0f} in ({low:,.0f} … {high:,.0f})" if inside else
                         f"{label} {predicted:,.0f} NOT in ({low:,.0f} … {high:,.0f})")
        print("levels, predicted net collections against the simulated 95 % interval: " + "; ".join(shown))
    print(f"\nagreement (predicted net-collections difference inside the simulated 95 % interval): "
          f"{agree} of {total} (target: at least 23 of 25)")
    print(f"agreement on the objective: {agree_objective} of {total}")
    print("second view, not a replacement: |predicted − simulated mean| net-collections difference within "
          "1.96·√(SE_predicted² + SE_simulated²): " + (f"{errors_in} of {errors_total}" if errors_total else
                                                          "not made (the predictions have no standard error: "
                                                          "--prediction-runs 1)"))
    by_books = agreement_by_books(results)
    if len(by_books) > 1:
        shown = [p for p in sorted(by_books) if p in (1, 2, 5, 10, 15, 20, 30, 40, 50) or p == max(by_books)]
        print("strict agreement had each prediction been the mean of its first p books: " +
              ", ".join(f"p={p}: {by_books[p][0]} of {by_books[p][1]}" for p in shown))
    print(f"the predicted net-collections difference inside the 95 % prediction interval of one paired run "
          f"(what a one-run prediction can be held to): {one_run} of {total}")
    print(f"levels: each strategy's predicted net collections inside its simulated 95 % interval: "
          f"{level_in} of {level_total}")
    print(f"the plan beats the ladder on the objective (interval above 0): {beats} of {total}")
    return agree, agree_objective, beats, total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--worlds", default=",".join(WORLDS),
                        help=f"comma-separated, in the order to run (of {', '.join(WORLDS)})")
    parser.add_argument("--accounts", type=positive_int, default=5000)
    parser.add_argument("--reps", type=positive_int, default=20)
    parser.add_argument("--workers", type=positive_int, default=1)
    parser.add_argument("--sample", type=positive_int, help="allocate --sample (default: allocate's)")
    parser.add_argument("--passes", type=positive_int, help="allocate --passes (default: allocate's)")
    parser.add_argument("--guard-runs", type=positive_int, help="allocate --guard-runs (default: allocate's)")
    parser.add_argument("--prediction-runs", type=positive_int,
                        help="allocate --prediction-runs: books each prediction is the mean of (default: allocate's, 1)")
    parser.add_argument("--out", help="a directory to keep each world's JSON in and resume from (default: none)")
    parser.add_argument("--table-only", action="store_true", help="print the table from --out, run nothing")
    parser.add_argument("--rerun", action="store_true", help="run worlds whose JSON is already in --out")
    args = parser.parse_args()
    worlds = [w.strip() for w in args.worlds.split(",") if w.strip()]
    unknown = [w for w in worlds if w not in WORLDS]
    if unknown:
        print(f"optimizer_table: --worlds: unknown {', '.join(unknown)} (allowed: {', '.join(WORLDS)})",
              file=sys.stderr)
        sys.exit(2)
    out = None if args.out is None else Path(args.out)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
    print_machine()
    results = {}
    for world in worlds:
        path = None if out is None else out / f"{world}.json"
        if path is not None and path.exists() and not args.rerun:
            results[world] = json.loads(path.read_text())
            continue
        if args.table_only:
            continue
        print(f"{time.strftime('%H:%M:%S')} {world}: running", flush=True)
        results[world] = run_world(world, args, out)
        print(f"{time.strftime('%H:%M:%S')} {world}: done in {results[world]['_measured']['wall_seconds']:.0f} s",
              flush=True)
        print_tables({world: results[world]})
        sys.stdout.flush()
    agree, _, beats, total = print_tables(results)
    print(f"headline: valuation agrees in {agree} of {total} comparisons; the plan beats {beats} of {total} ladders")


if __name__ == "__main__":
    main()
