"""Does the valuation flatter the plan it chose on its own book? The optimizer's curse in the agreement table (issue 13).

``allocate`` chooses the plan on one planning book (the warm-up of the
scenario's seed) with the valuation's seed, and ``--verify --prediction-runs P``
predicts every ladder as the mean of the valuation's whole-ladder runs on P
books: run 0 is that same book and seed, runs 1 … P − 1 books of the
valuation's own that the plan was not chosen on. If the plan fits the noise of
the book it was chosen on (selection bias), its lead over each ladder is
larger in run 0 than on the fresh books, and the prediction inherits that.

This script reads the ``--json`` of ``optimizer_table.py --out DIR`` (one
``WORLD.json`` per world, made with ``--prediction-runs`` ≥ 3) and, for every
world × ladder, sets run 0's predicted plan − ladder lead (net collections)
beside the fresh books' mean and spread (z = (run 0 − fresh mean) / fresh sd),
and counts agreement (the predicted lead inside the simulated 95 % interval)
with the prediction as made (all P runs) and with the fresh books only.

    python benchmarks/prediction_selection.py DIR [DIR ...]
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import numpy as np
from common import print_machine


def comparisons(verification: dict) -> list[dict]:
    """Per ladder of one world's ``verification`` (allocate ``--verify --json``): run 0's predicted plan − ladder
    lead, the fresh books' mean and sd, the simulated mean and its 95 % half-width, net collections."""
    from scipy import stats

    runs = verification["prediction_per_run"]["net_collections"]
    simulated = verification["per_replication"]["net_collections"]
    labels = list(runs)
    plan = labels[0]  # verify lists the optimised strategy first
    if len(runs[plan]) < 3:
        raise ValueError(f"{len(runs[plan])} prediction runs: run 0 against fresh books needs --prediction-runs ≥ 3")
    out = []
    for label in labels[1:]:
        lead = np.asarray(runs[plan], dtype=float) - np.asarray(runs[label], dtype=float)
        sim = np.asarray(simulated[plan], dtype=float) - np.asarray(simulated[label], dtype=float)
        fresh = lead[1:]
        half = float(stats.t.ppf(0.975, sim.size - 1) * sim.std(ddof=1) / math.sqrt(sim.size))
        out.append({"ladder": label, "run0": float(lead[0]), "fresh_mean": float(fresh.mean()),
                    "fresh_sd": float(fresh.std(ddof=1)), "all_mean": float(lead.mean()),
                    "simulated": float(sim.mean()), "half_width": half,
                    "z": float((lead[0] - fresh.mean()) / fresh.std(ddof=1))})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="optimizer_table.py --out directories")
    args = parser.parse_args()
    files = sorted(f for d in args.dirs for f in d.glob("*.json"))
    if not files:
        print(f"prediction_selection: {', '.join(map(str, args.dirs))}: no WORLD.json (optimizer_table.py --out)",
              file=sys.stderr)
        sys.exit(2)
    print_machine()
    rows = []
    for path in files:
        verification = json.loads(path.read_text()).get("verification")
        if verification is None or "prediction_per_run" not in verification:
            print(f"prediction_selection: {path}: no verification with prediction_per_run (allocate --verify --json)",
                  file=sys.stderr)
            sys.exit(2)
        try:
            rows += [{"world": path.stem, **c} for c in comparisons(verification)]
        except ValueError as e:
            print(f"prediction_selection: {path}: {e}", file=sys.stderr)
            sys.exit(2)
    print("| world | ladder | run 0 (allocate's book) | fresh books: mean (sd) | z | simulated (95 % half-width) | "
          "inside: all runs / fresh only |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        inside_all = abs(r["all_mean"] - r["simulated"]) <= r["half_width"]
        inside_fresh = abs(r["fresh_mean"] - r["simulated"]) <= r["half_width"]
        print(f"| {r['world']} | {r['ladder']} | {r['run0']:+,.0f} | {r['fresh_mean']:+,.0f} ({r['fresh_sd']:,.0f}) | "
              f"{r['z']:+.2f} | {r['simulated']:+,.0f} (±{r['half_width']:,.0f}) | "
              f"{'yes' if inside_all else 'NO'} / {'yes' if inside_fresh else 'NO'} |")
    z = np.array([r["z"] for r in rows])
    gap = np.array([r["run0"] - r["fresh_mean"] for r in rows])
    n = len(rows)
    inside_all = sum(abs(r["all_mean"] - r["simulated"]) <= r["half_width"] for r in rows)
    inside_fresh = sum(abs(r["fresh_mean"] - r["simulated"]) <= r["half_width"] for r in rows)
    above_all = sum(r["all_mean"] > r["simulated"] for r in rows)
    above_fresh = sum(r["fresh_mean"] > r["simulated"] for r in rows)
    print(f"\nrun 0 − fresh books' mean: {gap.mean():+,.0f} on average (SE {gap.std(ddof=1) / math.sqrt(n):,.0f} "
          f"if the {n} were independent; the ladders of one world share run 0's plan), mean z {z.mean():+.2f} "
          f"(sd {z.std(ddof=1):.2f}), run 0 above in {(gap > 0).sum()} of {n}")
    print(f"predicted lead above the simulated one: {above_all} of {n} (all runs), {above_fresh} of {n} (fresh only)")
    print(f"headline: run 0 (allocate's own book) − fresh books, plan's lead: mean z {z.mean():+.2f}; agreement "
          f"{inside_all} of {n} with all runs, {inside_fresh} of {n} with fresh books only")


if __name__ == "__main__":
    main()
