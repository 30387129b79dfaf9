"""An open book at scale: a book of a given size at the start of the measured days, with arrivals and a warm-up.

The run is sized so that the book **at the start of the measured days** (the
accounts in collection then, ``book_at_start``) is ``--book`` accounts: a
small pilot run (same warm-up, inflow and agents per 1,000 accounts, 1/50
of the size) measures how much of the starting book is still in collection after
the warm-up, and the starting book is scaled by it. Arrivals come at
``--per-1000`` a month per 1,000 starting accounts (``[arrivals]
per_1000_per_month``), so the pilot's ratio holds at any size.

The run itself is one fresh Python process (peak memory is its own), without
the contact log, and is timed in phases: set-up (portfolio, arrivals, engine),
the **warm-up** (reported separately), the **measured days**, and building the
result; inside the two simulated phases, the daily array work
(``Engine._start_of_day``/``_end_of_day``) apart from the agents' events, as
``limits.py`` splits them.

Beside it, the bare NumPy kernel of ``limits.py`` (one exponential draw,
intensity decay, a compare and a balance update per account-day) over the
same account-days: the book at the start × the measured days. An open book
holds a row for every account the run will ever see (the starting book plus
every arrival, drawn up front); the engine's day works on the live rows (the
active accounts, their repayment draws included), and the table shows those
row-days too.

Run: ``python benchmarks/open_book.py [--book 1000000 --days 180 --warmup 60 --agents 100 --per-1000 450]``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from common import BASELINE, Stopwatch, load, peak_rss_mb, positive_int, print_machine, print_table

TARGET_SECONDS, TARGET_GB = 30.0, 3.0
PILOT_SHARE = 50  # the pilot is 1/50 of the run (at least 5,000 accounts)


def scenario_for(path: str, accounts: int, args) -> object:
    from sim.scenario import load_scenario

    return load_scenario(path, {"simulation.accounts": accounts, "simulation.days": args.days,
                                "simulation.warmup_days": args.warmup, "teams.callers.agents": args.agents,
                                "arrivals": {"per_1000_per_month": args.per_1000}})


def still_in_book(args, accounts: int) -> float:
    """The pilot: the share of ``accounts`` starting accounts that the measured days start with, in collection."""
    from sim.engine import Engine
    from sim.portfolio import build_portfolio
    from sim.streams import RandomStreams

    # The pilot is staffed like the run, per account: staffing changes how many are still in collection.
    agents = max(1, round(args.agents * accounts / args.book))
    pilot = argparse.Namespace(**{**vars(args), "days": 1, "agents": agents})
    scenario = scenario_for(args.scenario, accounts, pilot)
    streams = RandomStreams(args.seed)
    engine = Engine(scenario, build_portfolio(scenario, streams["portfolio"]), streams, record_contacts=False)
    engine.run()
    return int(engine.measured_start.in_book.sum()) / accounts


def child(args) -> None:
    """One timed run, printed as JSON on the last line."""
    from limits import ARRAY_METHODS, _timed

    from sim.engine import Engine
    from sim.metrics import build_result
    from sim.portfolio import build_portfolio
    from sim.streams import RandomStreams, describe_seed

    scenario = scenario_for(args.scenario, args.accounts, args)
    laps = {"setup": Stopwatch(), "warmup": Stopwatch(), "measured": Stopwatch(), "result": Stopwatch()}
    arrays = {"warmup": Stopwatch(), "measured": Stopwatch()}
    phase = {"now": "warmup" if args.warmup else "measured"}
    clock = {"wall": time.perf_counter(), "cpu": time.process_time()}

    def lap(name: str) -> None:
        """Close the running lap as ``name``'s."""
        wall, cpu = time.perf_counter(), time.process_time()
        laps[name].wall += wall - clock["wall"]
        laps[name].cpu += cpu - clock["cpu"]
        clock.update(wall=wall, cpu=cpu)

    def progress(day: int, _days: int) -> None:
        if day == 0:  # the warm-up's end
            lap("warmup")
            phase["now"] = "measured"

    streams = RandomStreams(args.seed)
    engine = Engine(scenario, build_portfolio(scenario, streams["portfolio"]), streams, record_contacts=False,
                    progress=progress)
    for name in ARRAY_METHODS:
        method = getattr(engine, name)
        setattr(engine, name, lambda day, _m=method: _timed(_m, arrays[phase["now"]])(day))
    lap("setup")
    engine.run()
    lap("measured")
    result = build_result(engine.outcome(), scenario_name=scenario.display_name,
                          scenario_hash=scenario.content_hash, seed=describe_seed(streams.seed_sequence))
    lap("result")
    k = result.kpis
    out = {f"{name}_{c}": getattr(watch, c) for name, watch in laps.items() for c in ("wall", "cpu")}
    out.update({f"{name}_array_cpu": watch.cpu for name, watch in arrays.items()})
    out.update(rows=len(engine.portfolio), book_at_start=k["book_at_start"], arrivals=k["arrivals"],
               accounts=args.accounts, contacts=int(sum(k["contacts"].values())), peak_mb=peak_rss_mb(),
               conservation_error=k["conservation_error"])
    print(json.dumps(out))


def measure(args, accounts: int) -> dict:
    command = [sys.executable, str(Path(__file__).resolve()), "--child", "--accounts", str(accounts),
               "--scenario", args.scenario, "--days", str(args.days), "--warmup", str(args.warmup),
               "--agents", str(args.agents), "--per-1000", repr(args.per_1000), "--seed", str(args.seed)]
    out = subprocess.run(command, check=True, capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def report(args, run: dict) -> None:
    from limits import bare_numpy_kernel

    book, days = run["book_at_start"], args.days
    kernel = bare_numpy_kernel(book, days)
    measured = run["measured_cpu"] + run["result_cpu"]
    row_days = run["rows"] * (args.warmup + days)
    rows = [
        ["set-up (book, arrivals, engine)", run["setup_wall"], run["setup_cpu"], "", ""],
        [f"warm-up ({args.warmup} days)", run["warmup_wall"], run["warmup_cpu"], run["warmup_array_cpu"],
         run["warmup_cpu"] - run["warmup_array_cpu"]],
        [f"measured days ({days})", run["measured_wall"], run["measured_cpu"], run["measured_array_cpu"],
         run["measured_cpu"] - run["measured_array_cpu"]],
        ["result (KPIs, series)", run["result_wall"], run["result_cpu"], "", ""],
        [f"bare NumPy kernel, {book:,} × {days}", kernel.wall, kernel.cpu, kernel.cpu, ""],
    ]
    print_table(["phase", "wall s", "CPU s", "array CPU s", "event CPU s"], rows)
    print(f"book: {run['accounts']:,} accounts at the warm-up's start, {run['book_at_start']:,} in collection at "
          f"the start of the measured days, {run['arrivals']:,} arrivals in the measured days; the engine holds "
          f"{run['rows']:,} rows ({row_days:,} row-days simulated, warm-up included); {run['contacts']:,} contacts; "
          f"conservation error {run['conservation_error']:.1e}")
    ratio = measured / kernel.cpu
    per_row = measured / (run["rows"] * days) / (kernel.cpu / (book * days))
    print(f"load average now {load()} on {os.cpu_count()} cores (wall time is inflated when it exceeds the cores)")
    wall = run["measured_wall"] + run["result_wall"]
    print(f"headline: open book, {book:,} accounts at the start of the measured days x {days} days with "
          f"{args.agents} agents: {measured:.1f} s CPU, {wall:.1f} s wall "
          f"({'met' if max(measured, wall) <= TARGET_SECONDS else 'not met'}; warm-up of {args.warmup} days "
          f"{run['warmup_cpu']:.1f} s CPU apart), peak {run['peak_mb'] / 1024:.2f} GB "
          f"({'met' if run['peak_mb'] <= TARGET_GB * 1024 else 'not met'}); targets <= {TARGET_SECONDS:.0f} s, "
          f"<= {TARGET_GB:.0f} GB; {ratio:.1f}x the bare NumPy kernel over the same account-days "
          f"({per_row:.1f}x per row-day the engine holds)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(BASELINE))
    parser.add_argument("--book", type=positive_int, default=1_000_000,
                        help="accounts in collection at the start of the measured days")
    parser.add_argument("--days", type=positive_int, default=180, help="measured days")
    parser.add_argument("--warmup", type=int, default=60, help="warm-up days")
    parser.add_argument("--agents", type=positive_int, default=100, help="teams.callers.agents")
    parser.add_argument("--per-1000", dest="per_1000", type=float, default=450.0,
                        help="arrivals a month per 1,000 starting accounts")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--accounts", type=positive_int, help=argparse.SUPPRESS)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args)
        return 0
    print_machine()
    pilot = max(args.book // PILOT_SHARE, 5_000)
    share = still_in_book(args, pilot)
    accounts = max(round(args.book / share), 1)
    print(f"scenario {Path(args.scenario).stem}, open book: {args.per_1000:g} arrivals a month per 1,000 starting "
          f"accounts, {args.warmup} warm-up days, {args.days} measured days, {args.agents} call agents, no contact "
          f"log; pilot of {pilot:,}: {share:.1%} of the starting book is in collection after the warm-up, so "
          f"{accounts:,} starting accounts")
    report(args, measure(args, accounts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
