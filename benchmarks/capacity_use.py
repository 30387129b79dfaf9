"""Where the predicted lead of the plan over a shipped ladder goes: capacity, streams, buckets, weeks (issue 13).

``allocate --verify`` predicts each ladder by whole-book runs of the
valuation (:func:`optimizer.allocation.sim_valuation.simulate_ladder`: the
scenario's own teams, per-account draws, the valuation's seed) and holds the
plan − ladder difference against ``--verify``'s replications (the same teams,
ordinary streams, fresh books). In most world × ladder cells the predicted
lead is above the simulated one. This script tests where that comes from in
one world, for the plan ``allocate`` makes (as ``--verify`` runs it,
``Plan.to_strategy``) and the shipped ladders given:

* *capacity*: the LP's planned work by team and week (``capacity_used``,
  measured on the sample with teams that never bind) against the minutes the
  whole-book runs used, the team's paid minutes and its busy share, the
  dials made and their outcomes, the inbound calls and those abandoned —
  for each ladder, run verify's way and the valuation's way;
* *streams*: on ``--verify``'s own first N replication books, each ladder run
  verify's way (ordinary streams) and the valuation's way (per-account
  draws, a valuation stream of that book's seed); each ladder's level (by
  start bucket) and its contacts and spend by channel, and the plan's lead,
  paired book by book, taken apart by the bucket the account starts the
  measured days in (arrivals apart) and by week of collection, on net
  collections and on the objective.

A closed book (cn_2025) is run as ``--verify`` runs it: replication k's book
is child k's portfolio draw and its ladders run on child k itself (an open
book's on a child of child k, after the warm-up).

    python benchmarks/capacity_use.py [--world baseline] [--accounts 5000] [--books 10]
        [--shipped baseline,call_heavy,early_field]
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np
from common import ROOT, positive_int, print_machine

WORLDS = ("baseline", "sms_gentle", "call_heavy", "early_field", "cn_2025")
# Groups of a planning book's rows: the bucket an account starts the measured days in, and the arrivals.
GROUPS = ("1-30", "31-60", "61-90", "91-120", "121-150", "151-180", "arrivals")


def row_groups(book) -> np.ndarray:
    """Each planning-book row's group (index into GROUPS): its start bucket, or arrivals."""
    dpd = book.portfolio.days_past_due
    bucket = np.clip((dpd - 1) // 30, 0, 5)
    return np.where(book.entry_day < 0, bucket, len(GROUPS) - 1)


def run_figures(run, world, valued, days: int, groups: np.ndarray) -> dict:
    """What one whole-book run did: money by group and week, work by team and week, dials, the inbound line."""
    from optimizer.allocation.objective import horizon_value
    from optimizer.allocation.sim_valuation import lp_work
    from optimizer.allocation.valuation import LadderOutcome

    ledger = run.ledger
    outcome = LadderOutcome.from_ledger(ledger)
    net = outcome.net
    book = horizon_value(valued, outcome.book())
    tally = run.tally
    weeks = int(np.ceil(days / 7))
    week_of_day = np.arange(tally.collected.size) // 7

    def by_week(series: np.ndarray) -> np.ndarray:
        return np.bincount(week_of_day, weights=series, minlength=weeks)[:weeks]

    work = {team: cube.sum(axis=1)[:weeks] for team, cube in lp_work(world, ledger, days).items()}
    from sim.ledger import SPEND_ITEMS

    return {"net": np.bincount(groups, weights=net, minlength=len(GROUPS)),
            "collected": np.bincount(groups, weights=ledger.collected, minlength=len(GROUPS)),
            "spend": np.array([ledger.spend[item].sum() for item in SPEND_ITEMS]),
            "book": np.bincount(groups, weights=book, minlength=len(GROUPS)),
            "collected_by_week": by_week(tally.collected), "work": work,
            "dials": np.stack([by_week(tally.call_outcomes[:, k].astype(float)) for k in range(3)]),
            "busy": by_week(tally.agent_busy), "paid": by_week(tally.agent_paid),
            "inbound": np.array([tally.inbound_arrivals.sum(), tally.inbound_answered.sum(),
                                 tally.inbound_abandoned.sum()], dtype=float),
            "contacts": tally.contacts.sum(axis=0).astype(float)}


def run_book(ladder, book, seed, days: int, *, paired: bool):
    """``ladder`` on ``book`` with the scenario's own teams staffed on it, as verify (``paired=False``: ordinary
    streams) or as the valuation (``paired=True``: per-account draws) runs it; the engine's outcome."""
    from optimizer.allocation.open_book import arrivals_of
    from optimizer.allocation.verify import from_planning_book
    from sim.engine import Engine
    from sim.streams import RandomStreams

    world = from_planning_book(ladder, book)
    simulation = world.simulation.model_copy(update={"days": days})
    world = world.model_copy(update={"simulation": simulation})
    engine = Engine(world, book.portfolio, RandomStreams(seed), ledger=True, paired_draws=paired,
                    arrivals=arrivals_of(book.entry_day, days))
    engine.run()
    return world, engine.outcome()


def parse_args() -> tuple[argparse.Namespace, list[str]]:
    """The options, checked: a bad one is one line on stderr and exit 2."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", default="baseline", help=f"one of {', '.join(WORLDS)}")
    parser.add_argument("--accounts", type=positive_int, default=5000)
    parser.add_argument("--books", type=positive_int, default=10, help="--verify's replication books")
    parser.add_argument("--shipped", default="baseline,call_heavy,early_field",
                        help="the shipped ladders to hold the plan against")
    parser.add_argument("--sample", type=positive_int, default=40, help="allocate --sample")
    parser.add_argument("--passes", type=positive_int, default=2, help="allocate --passes")
    parser.add_argument("--books-from", choices=("verify", "prediction"), default="verify",
                        help="whose books: --verify's replication books (default) or the prediction's fresh ones "
                             "(verify.prediction_seeds: the valuation's own, runs 1 … N)")
    parser.add_argument("--skip", type=int, default=0,
                        help="leave out the first K of those books (to add books to an earlier run's)")
    parser.add_argument("--out", help="also write every book's figures (net and objective by ladder and way) here, "
                                      "as JSON")
    args = parser.parse_args()
    shipped = [w.strip() for w in args.shipped.split(",") if w.strip()]
    if args.skip < 0:
        print(f"capacity_use: --skip: {args.skip} (allowed: 0 or more)", file=sys.stderr)
        sys.exit(2)
    for name in [args.world, *shipped]:
        if name not in WORLDS:
            print(f"capacity_use: --world/--shipped: unknown {name} (allowed: {', '.join(WORLDS)})", file=sys.stderr)
            sys.exit(2)
    return args, shipped


def main() -> None:
    from optimizer.allocation import allocate
    from optimizer.allocation.open_book import is_open, planning_book
    from optimizer.allocation.search import with_strategy
    from optimizer.allocation.sim_valuation import VALUATION_STREAM
    from optimizer.allocation.verify import MEASURED_CHILD, prediction_seeds
    from sim.experiment import replication_seeds
    from sim.scenario import load_scenario

    args, shipped = parse_args()
    scenarios = ROOT / "scenarios"
    overrides = {"simulation.accounts": args.accounts}
    loaded = load_scenario(scenarios / f"{args.world}.toml", overrides)
    print_machine()
    world = loaded.champion_world()
    others = [load_scenario(scenarios / f"{o}.toml", overrides).champion_world() for o in WORLDS if o != args.world]
    started, cpu0 = time.time(), time.process_time()
    # As optimizer_table.py calls it: every other shipped ladder is a candidate treatment (--against).
    result = allocate(loaded, ladders=others, per_segment=args.sample, passes=args.passes, workers=1)
    plan = result.plan
    print(f"{time.strftime('%H:%M:%S')} allocate: {plan.status}, {time.process_time() - cpu0:.0f} s CPU", flush=True)
    ladders = {"plan": plan.to_strategy(world)}
    for name in shipped:
        o = load_scenario(scenarios / f"{name}.toml", overrides)
        ladders[name] = with_strategy(world, o)
    names = list(ladders)
    days = plan.days
    if args.books_from == "verify":
        _, children = replication_seeds(world.simulation.seed, args.skip + args.books)
    else:
        children = [book_seed for book_seed, _ in prediction_seeds(world, args.skip + args.books + 1)[1:]]
    children = children[args.skip:]
    figs = {(way, name): [] for way in ("verify", "valuation") for name in names}
    for k, child in enumerate(children):
        book = planning_book(world, days, rng=child)
        groups = row_groups(book)
        # verify's replication k: an open book's ladders run on a child of child k (child k drove the warm-up);
        # a closed book is run as the scenario defines it, on child k itself (its book is child k's portfolio draw).
        verify_seed = (np.random.SeedSequence(child.entropy, spawn_key=(*child.spawn_key, MEASURED_CHILD))
                       if is_open(world) else child)
        own_seed = np.random.SeedSequence(child.entropy, spawn_key=(*child.spawn_key, VALUATION_STREAM))
        for name in names:
            for way, seed, paired in (("verify", verify_seed, False), ("valuation", own_seed, True)):
                w, run = run_book(ladders[name], book, seed, days, paired=paired)
                figs[(way, name)].append(run_figures(run, w, result.world, days, groups))
        lead = {way: figs[(way, "plan")][-1]["net"].sum() - figs[(way, names[1])][-1]["net"].sum()
                for way in ("verify", "valuation")}
        print(f"{time.strftime('%H:%M:%S')} book {k + 1}/{args.books} ({time.time() - started:.0f} s wall, "
              f"{time.process_time() - cpu0:.0f} s CPU): plan − {names[1]} net {lead['verify']:+,.0f} verify's way, "
              f"{lead['valuation']:+,.0f} the valuation's", flush=True)
    if args.out:
        import json

        per_book = {way: {n: {"net": [float(f["net"].sum()) for f in figs[(way, n)]],
                              "objective": [float(f["net"].sum() + f["book"].sum()) for f in figs[(way, n)]],
                              "net_by_group": [f["net"].tolist() for f in figs[(way, n)]],
                              "contacts": [f["contacts"].tolist() for f in figs[(way, n)]],
                              "spend": [f["spend"].tolist() for f in figs[(way, n)]]}
                          for n in names} for way in ("verify", "valuation")}
        with open(args.out, "w") as fh:
            json.dump({"world": args.world, "accounts": args.accounts, "books_from": args.books_from,
                       "per_book": per_book}, fh, indent=1)
    report(args, plan, names, figs, days)


def _se(x: np.ndarray) -> float:
    return float(x.std(ddof=1) / np.sqrt(x.shape[0])) if x.shape[0] > 1 else float("nan")


def stack(figs, key: str, sub: str | None = None) -> np.ndarray:
    return np.array([f[key][sub] if sub is not None else f[key] for f in figs], dtype=float)


def levels_and_channels(names, figs) -> None:
    """Each ladder's level (net collections, by start bucket) and its contacts and spend by channel: the
    valuation's way − verify's on the same books, paired (SE): where the two ways of running one ladder part."""
    from sim.domain import ALL_CHANNELS
    from sim.ledger import SPEND_ITEMS

    print("\n## Levels, each ladder: valuation's way − verify's on the same books, paired by book (SE)")
    print("| ladder | net: verify | net: valuation − verify | collected: valuation − verify | "
          + " | ".join(f"net {g}" for g in GROUPS) + " |")
    print("|---|---|---|---|" + "---|" * len(GROUPS))
    for n in names:
        a, b = figs[("verify", n)], figs[("valuation", n)]
        d = stack(b, "net") - stack(a, "net")
        c = (stack(b, "collected") - stack(a, "collected")).sum(axis=1)
        cells = [f"{d[:, g].mean():+,.0f} ({_se(d[:, g]):,.0f})" for g in range(len(GROUPS))]
        print(f"| {n} | {stack(a, 'net').sum(axis=1).mean():,.0f} | {d.sum(axis=1).mean():+,.0f} "
              f"({_se(d.sum(axis=1)):,.0f}) | {c.mean():+,.0f} ({_se(c):,.0f}) | " + " | ".join(cells) + " |")
    print("\n## Contacts by channel and spend by item, each ladder: verify's mean / valuation − verify, paired (SE)")
    for key, labels in (("contacts", ALL_CHANNELS), ("spend", SPEND_ITEMS)):
        keep = [k for k in range(len(labels)) if any(stack(figs[(w, n)], key)[:, k].any()
                                                     for w in ("verify", "valuation") for n in names)]
        print(f"| {key}: ladder | " + " | ".join(labels[k] for k in keep) + " |")
        print("|---|" + "---|" * len(keep))
        for n in names:
            a, b = stack(figs[("verify", n)], key), stack(figs[("valuation", n)], key)
            d = b - a
            print(f"| {n} | " + " | ".join(f"{a[:, k].mean():,.0f} / {d[:, k].mean():+,.0f} ({_se(d[:, k]):,.0f})"
                                           for k in keep) + " |")


def report(args, plan, names, figs, days: int) -> None:
    weeks = int(np.ceil(days / 7))
    teams = sorted({t for (t, _) in plan.capacity})
    print(f"\n# {args.world}'s world, {args.accounts} accounts, {args.books} of --verify's books; the plan against "
          f"{', '.join(names[1:])}")
    print("\n## Work by team: the LP's plan (capacity_used, on the sample with teams that never bind) against the "
          "whole-book runs (mean over books), and the teams' capacity")
    print("| team | weeks | capacity | LP plan asks | " + " | ".join(f"{n} verify / valuation" for n in names) + " |")
    print("|---|---|---|---|" + "---|" * len(names))
    spans = [(0, 4), (4, 9), (9, 13), (13, 17), (17, 22), (22, weeks)]
    for team in teams:
        for lo, hi in spans:
            cap = sum(plan.capacity.get((team, w), 0.0) for w in range(lo, hi))
            asked = sum(plan.capacity_used.get((team, w), 0.0) for w in range(lo, hi))
            cells = []
            for n in names:
                # A team a run gave no work (a legal team on a book where nothing was filed) is not in its figures.
                used = [float(np.mean([f["work"][team][lo:hi].sum() if team in f["work"] else 0.0
                                       for f in figs[(way, n)]])) for way in ("verify", "valuation")]
                cells.append(f"{used[0]:,.0f} / {used[1]:,.0f}")
            print(f"| {team} | {lo}-{hi - 1} | {cap:,.0f} | {asked:,.0f} | " + " | ".join(cells) + " |")
    print("\n## Dials, the agents' busy share, the inbound line (per book, mean)")
    print("| ladder | way | dials | right party | busy / paid | inbound calls | answered | abandoned | sms | letters "
          "| emails |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    from sim.domain import ALL_CHANNELS

    channel = {ch: k for k, ch in enumerate(ALL_CHANNELS)}
    for n in names:
        for way in ("verify", "valuation"):
            f = figs[(way, n)]
            dials = stack(f, "dials").sum(axis=2).mean(axis=0)
            busy, paid = stack(f, "busy").sum(axis=1).mean(), stack(f, "paid").sum(axis=1).mean()
            inbound = stack(f, "inbound").mean(axis=0)
            contacts = stack(f, "contacts").mean(axis=0)
            pick = [contacts[channel[c]] if c in channel else float("nan") for c in ("sms", "letter", "email")]
            print(f"| {n} | {way} | {dials.sum():,.0f} | {dials[2]:,.0f} | {busy / paid if paid else 0:.3f} | "
                  f"{inbound[0]:,.0f} | {inbound[1]:,.0f} | {inbound[2]:,.0f} | "
                  + " | ".join(f"{p:,.0f}" for p in pick) + " |")
    levels_and_channels(names, figs)
    print("\n## The plan's lead, by the bucket an account starts in (net collections; objective = net + book "
          "value at the horizon): verify's way, the valuation's way, and valuation − verify paired by book (SE)")
    print("| plan − ladder | group | net: verify | net: valuation | net: valuation − verify (SE) | objective: verify "
          "| objective: valuation | objective: valuation − verify (SE) |")
    print("|---|---|---|---|---|---|---|---|")
    total_tilt = {}
    for n in names[1:]:
        for g, label in [*enumerate(GROUPS), (None, "all")]:
            cells = []
            for measure in ("net", "objective"):
                lead = {}
                for way in ("verify", "valuation"):
                    p, q = stack(figs[(way, "plan")], "net"), stack(figs[(way, n)], "net")
                    if measure == "objective":
                        p = p + stack(figs[(way, "plan")], "book")
                        q = q + stack(figs[(way, n)], "book")
                    d = p - q
                    lead[way] = d.sum(axis=1) if g is None else d[:, g]
                tilt = lead["valuation"] - lead["verify"]
                if g is None:
                    total_tilt[(n, measure)] = (tilt.mean(), _se(tilt))
                cells += [f"{lead['verify'].mean():+,.0f}", f"{lead['valuation'].mean():+,.0f}",
                          f"{tilt.mean():+,.0f} ({_se(tilt):,.0f})"]
            print(f"| {n} | {label} | " + " | ".join(cells) + " |")
    print("\n## The plan's lead by week of collection (net collections are by row; this is cash by day, all rows): "
          "valuation − verify, paired by book")
    print("| plan − ladder | " + " | ".join(f"w{lo}-{hi - 1}" for lo, hi in spans) + " |")
    print("|---|" + "---|" * len(spans))
    for n in names[1:]:
        cells = []
        for lo, hi in spans:
            t = [(stack(figs[(way, "plan")], "collected_by_week") - stack(figs[(way, n)], "collected_by_week"))
                 [:, lo:hi].sum(axis=1) for way in ("verify", "valuation")]
            d = t[1] - t[0]
            cells.append(f"{d.mean():+,.0f} ({_se(d):,.0f})")
        print(f"| {n} | " + " | ".join(cells) + " |")
    worst = max(names[1:], key=lambda n: abs(total_tilt[(n, "objective")][0]))
    m, s = total_tilt[(worst, "objective")]
    net_m, net_s = total_tilt[(worst, "net")]
    print(f"headline: {args.world}, {args.books} books: the plan's lead over {worst}, valuation's way − verify's on "
          f"the same books: objective {m:+,.0f} (SE {s:,.0f}), net collections {net_m:+,.0f} (SE {net_s:,.0f})")


if __name__ == "__main__":
    main()
