"""Where the valuation's prediction of a whole ladder goes wrong: the book, the run, or a bias (issue 13).

``allocate --verify`` predicts each ladder's net collections by one engine
run (:func:`optimizer.allocation.sim_valuation.simulate_ladder`) on one book —
the planning book the world's own warm-up leaves on the scenario's seed —
with the valuation's seed and per-account draws, and holds it against the
mean of ``--reps`` replications, each on a book of its own (a warm-up on child
k of the seed) with ordinary streams. This script takes the prediction apart
in one world, for the five shipped ladders:

* ``books``: on replication k's own planning book (the one ``--verify`` builds),
  the ladder run as verify runs it (ordinary streams) and as the valuation
  runs it (per-account draws, a valuation stream of that book's seed). Their
  mean difference, paired book by book, is any bias of the valuation's runs
  against verify's; the spread of the valuation-style run over books is how
  far one prediction scatters;
* ``runs``: the valuation's own book (the prediction's), run on the valuation
  seed and its children (the guard's seeds): the spread of the run alone,
  the book held fixed;
* the prediction as ``--verify`` makes it, against the books' verify-style mean.

A whole ladder's prediction does not read ``--sample`` (the sample values the
segments' treatments, which choose the plan; the ladders run the whole book).

``--ladder FILE`` adds a ladder written by ``allocate --strategy-out`` (the
plan: the one ladder the valuation chose, so the one it may flatter);
``--shipped NAMES`` keeps only these shipped ladders (the world's own first).

    python benchmarks/prediction_error.py [--world baseline] [--accounts 5000] [--books 10] [--runs 5]
        [--ladder FILE] [--shipped baseline,sms_gentle]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
from common import ROOT, positive_int, print_machine

WORLDS = ("baseline", "sms_gentle", "call_heavy", "early_field", "cn_2025")


def load_ladders(args):
    """The world, and every ladder to take apart as it runs in the world (its own first)."""
    from optimizer.allocation.search import with_strategy
    from sim.scenario import load_scenario

    scenarios = ROOT / "scenarios"
    overrides = {"simulation.accounts": args.accounts}
    world = load_scenario(scenarios / f"{args.world}.toml", overrides)
    ladders = {world.strategy.name: world}
    shipped = [w.strip() for w in args.shipped.split(",") if w.strip()]
    paths = [scenarios / f"{other}.toml" for other in WORLDS if other != args.world and other in shipped]
    for path in [*args.ladder, *paths]:
        o = load_scenario(path, overrides)
        name = f"{o.strategy.name} ({Path(path).name})" if o.strategy.name in ladders else o.strategy.name
        ladders[name] = with_strategy(world, o)
    return world, ladders


def main() -> None:
    from optimizer.allocation.open_book import is_open, planning_book
    from optimizer.allocation.sim_valuation import VALUATION_STREAM, simulate_ladder, valuation_seed
    from optimizer.allocation.verify import _replication
    from sim.experiment import replication_seeds

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="baseline", help=f"one of {', '.join(WORLDS)}")
    parser.add_argument("--accounts", type=positive_int, default=5000)
    parser.add_argument("--books", type=positive_int, default=10, help="replications' books (verify's children)")
    parser.add_argument("--runs", type=positive_int, default=5, help="valuation seeds on the valuation's own book")
    parser.add_argument("--ladder", action="append", default=[], help="another ladder (a scenario file) to take apart")
    parser.add_argument("--shipped", default=",".join(WORLDS), help="the shipped ladders to take apart")
    args = parser.parse_args()
    if args.world not in WORLDS:
        print(f"prediction_error: --world: unknown {args.world} (allowed: {', '.join(WORLDS)})", file=sys.stderr)
        sys.exit(2)
    print_machine()
    world, ladders = load_ladders(args)
    days = world.simulation.days
    _, children = replication_seeds(world.simulation.seed, args.books)
    names = list(ladders)
    verify_style = np.zeros((args.books, len(names)))
    valuation_style = np.zeros((args.books, len(names)))
    opening = np.zeros(args.books)
    started = time.time()
    for k, child in enumerate(children):
        book = planning_book(world, days, rng=child)
        segments = SimpleNamespace(portfolio=book.portfolio, entry_day=book.entry_day)
        opening[k] = float(book.portfolio.balance[book.entry_day < 0].sum())
        own_seed = np.random.SeedSequence(child.entropy, spawn_key=(*child.spawn_key, VALUATION_STREAM))
        for j, name in enumerate(names):
            lw = ladders[name]
            # As --verify runs replication k: an open book from the world's warm-up on child k; a closed book
            # (cn_2025) as the scenario defines it, on child k itself (the book planning_book draws from child k).
            verify_style[k, j] = _replication((lw, world, child, world if is_open(world) else None))[4]
            valuation_style[k, j] = float(simulate_ladder(lw, segments, lw.strategy.steps, days, seed=own_seed).net.sum())
        print(f"{time.strftime('%H:%M:%S')} book {k + 1}/{args.books} ({time.time() - started:.0f} s): opening "
              f"{opening[k]:,.0f}; " + ", ".join(f"{n} {v:,.0f}/{p:,.0f}" for n, v, p in
                                                  zip(names, verify_style[k], valuation_style[k], strict=True)),
              flush=True)
    book = planning_book(world, days)
    segments = SimpleNamespace(portfolio=book.portfolio, entry_day=book.entry_day)
    seed = valuation_seed(world)
    seeds = [seed] + [np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, r)) for r in range(1, args.runs)]
    own_book = np.array([[float(simulate_ladder(ladders[n], segments, ladders[n].strategy.steps, days, seed=s).net.sum())
                          for n in names] for s in seeds])
    valuation_opening = float(book.portfolio.balance[book.entry_day < 0].sum())
    print(f"{time.strftime('%H:%M:%S')} valuation's book: {args.runs} runs done ({time.time() - started:.0f} s)")

    def se(x: np.ndarray) -> float:
        return float(x.std(ddof=1) / np.sqrt(x.size)) if x.size > 1 else float("nan")

    print(f"\n# {args.world}'s world, {args.accounts} accounts: {args.books} books (verify's), {args.runs} valuation "
          f"seeds on the valuation's book")
    print(f"opening balance: books {opening.mean():,.0f} (sd {opening.std(ddof=1):,.0f}); the valuation's book "
          f"{valuation_opening:,.0f} ({(valuation_opening / opening.mean() - 1) * 100:+.1f} %)")
    print("| ladder | verify-style mean (SE) | valuation-style mean (SE) | bias: valuation − verify, paired (SE) | "
          "sd over books: verify / valuation | sd over runs, book fixed | prediction (run 0) | prediction − "
          "verify mean |")
    print("|---|---|---|---|---|---|---|---|")
    for j, name in enumerate(names):
        a, b, r = verify_style[:, j], valuation_style[:, j], own_book[:, j]
        d = b - a
        print(f"| {name} | {a.mean():,.0f} ({se(a):,.0f}) | {b.mean():,.0f} ({se(b):,.0f}) | {d.mean():+,.0f} "
              f"({se(d):,.0f}) | {a.std(ddof=1):,.0f} / {b.std(ddof=1):,.0f} | {r.std(ddof=1):,.0f} | "
              f"{r[0]:,.0f} | {(r[0] / a.mean() - 1) * 100:+.1f} % |")
    print("\ndifferences, own ladder − each (what --verify compares, a plan in place of the own ladder):")
    # With a plan (--ladder) first, these are its leads. Two ways the valuation could flatter the plan it chose:
    # its runs value the plan's lead above verify's on the same books (the paired bias column), or run 0 — the
    # book and seed the plan was chosen on — gives it a lead the fresh books do not (the last column's z).
    print("| own − ladder | verify-style mean (SE) | valuation-style mean (SE) | bias: valuation − verify, paired (SE) "
          "| sd over books: verify / valuation | sd over runs, book fixed | prediction (run 0) | run 0 − books' "
          "valuation-style mean (z) | run 0 − other seeds' mean, own book (z) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for j, name in enumerate(names[1:], start=1):
        a = verify_style[:, 0] - verify_style[:, j]
        b = valuation_style[:, 0] - valuation_style[:, j]
        r = own_book[:, 0] - own_book[:, j]
        gap = r[0] - b.mean()
        seeds = r[0] - r[1:].mean() if r.size > 2 else float("nan")
        seeds_z = seeds / r[1:].std(ddof=1) if r.size > 2 else float("nan")
        print(f"| {name} | {a.mean():+,.0f} ({se(a):,.0f}) | {b.mean():+,.0f} ({se(b):,.0f}) | {(b - a).mean():+,.0f} "
              f"({se(b - a):,.0f}) | {a.std(ddof=1):,.0f} / {b.std(ddof=1):,.0f} | {r.std(ddof=1):,.0f} | "
              f"{r[0]:+,.0f} | {gap:+,.0f} ({gap / b.std(ddof=1):+.2f}) | "
              f"{seeds:+,.0f} ({seeds_z:+.2f}) |")
    bias = (valuation_style - verify_style).mean(axis=0) / verify_style.mean(axis=0) * 100
    excess = own_book[0] / verify_style.mean(axis=0) * 100 - 100
    print(f"headline: {args.world}: the valuation's runs against verify's on the same books {bias.min():+.1f} … "
          f"{bias.max():+.1f} %; its own book {(valuation_opening / opening.mean() - 1) * 100:+.1f} % at the start, "
          f"its prediction {excess.min():+.1f} … {excess.max():+.1f} %")


if __name__ == "__main__":
    main()
