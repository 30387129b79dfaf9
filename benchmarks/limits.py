"""Engine vs the machine's limits: the book's array work and the agents' events, each against its floor.

One engine run of the baseline scenario is split in two by timing hooks:

* the **array part** — the daily process's morning and evening over the whole
  book (``Engine._start_of_day`` and ``Engine._end_of_day``: ladder
  eligibility, automated channels, planning the call list, repayments,
  promises, interest, ageing, charge-off);
* the **event part** — everything else inside ``env.run``: the SimPy kernel
  and the caller, delivery, field and legal processes, and the call floor
  (``sim/engine/floor.py``: the agents' calls in SimPy's order, on a heap of
  their own instead of one SimPy event each).

Both are timed over the **measured days** only: a scenario with a warm-up
(baseline's 150 days) simulates it first, untimed here, and the book the
kernel is sized to is the one in collection when the measured days start
(``--accounts`` is the book at the warm-up's start). Until 2026-11-26 the
warm-up's days were timed too, against a kernel of ``--days`` days only.

The array part is compared with a bare NumPy kernel doing the minimum work
per account-day on arrays of the same size (one exponential draw, intensity
decay, a compare and a balance update, written with ``out=`` so it runs at
memory speed); the event part with bare SimPy: processes looping ``yield
env.timeout(x)`` with as many timeouts as the engine made contacts.

A third line measures the **floor of a call's own work**: the least a call
needs — take the next account, pick the outcome by the hour from one uniform,
draw its length, count the attempt, tally the outcome, queue a redial after no
answer, advance the agent's clock — in a plain-Python loop over the same
agents and as many calls, with no event kernel at all and every random number
drawn beforehand. Against bare SimPy it shows how much of "≥ 50 % of bare
timeouts" is left for the kernel once the call itself is paid for.

Run: ``python benchmarks/limits.py [--accounts 1000000 --days 30 --agents 100]``. The default is a
book of a million accounts, the size the targets are set for; on a small book
the kernel's arrays fit in the CPU cache and each day's fixed Python work
(about 7 ms) weighs more, so the array ratio is larger (18x at 200,000).
"""

from __future__ import annotations

import argparse
import heapq
import sys
import time

import numpy as np
import simpy
from common import Stopwatch, add_engine_run_options, load_engine_run, print_table

from sim.engine import Engine
from sim.metrics import build_result
from sim.portfolio import build_portfolio
from sim.scenario import Scenario
from sim.streams import RandomStreams, describe_seed

ARRAY_METHODS = ("_start_of_day", "_end_of_day")
EVENT_CHANNELS = ("call", "inbound_call", "field_visit")


def timed_engine_run(scenario: Scenario, seed: int, *, contact_log: bool = False) -> dict[str, float]:
    """What ``sim.simulate`` does, with timing hooks on the daily book-keeping.

    Returns wall and CPU seconds of the whole run (portfolio, engine, result),
    of ``Engine.run`` and of its daily array work (the event part is the rest
    of ``Engine.run``), and the number of contact events (calls, inbound
    calls, visits). The ``measured_*`` keys are the same for the measured days
    alone (a scenario's warm-up left out), with ``book_at_start``, the accounts
    in collection when they start: what the bare kernel is compared with.
    """
    with Stopwatch() as whole:
        streams = RandomStreams(seed)
        portfolio = build_portfolio(scenario, streams["portfolio"])
        warmup = scenario.simulation.warmup_days
        marks: dict[str, float] = {}

        def progress(day: int, _days: int) -> None:
            if day == 0:  # the warm-up's end
                marks.update(wall=time.perf_counter(), cpu=time.process_time(), array_wall=array.wall,
                             array_cpu=array.cpu)

        engine = Engine(scenario, portfolio, streams, record_contacts=contact_log, progress=progress)
        array = Stopwatch()
        for name in ARRAY_METHODS:
            method = getattr(engine, name, None)
            if method is None:
                raise SystemExit(f"error: Engine has no {name}; update benchmarks/limits.py to the engine's daily hooks")
            setattr(engine, name, _timed(method, array))
        with Stopwatch() as total:
            if not warmup:  # no warm-up: the measured days start with the run
                progress(0, scenario.simulation.days)
            tally = engine.run()
            end_wall, end_cpu = time.perf_counter(), time.process_time()
        book_at_start = len(portfolio) if engine.measured_start is None else int(engine.measured_start.in_book.sum())
        result = build_result(engine.outcome(), scenario_name=scenario.display_name, scenario_hash=scenario.content_hash,
                              seed=describe_seed(streams.seed_sequence))
    channels = ("sms", "email", "call", "inbound_call", "letter", "field_visit", "legal")

    def events_in(contacts: np.ndarray) -> int:
        return int(sum(contacts[channels.index(c)] for c in EVENT_CHANNELS))

    contacts = tally.contacts.sum(axis=0)
    measured = {"measured_total_wall": end_wall - marks["wall"], "measured_total_cpu": end_cpu - marks["cpu"],
                "measured_array_wall": array.wall - marks["array_wall"],
                "measured_array_cpu": array.cpu - marks["array_cpu"],
                "measured_events": events_in(tally.contacts[warmup:].sum(axis=0)), "book_at_start": book_at_start}
    for clock in ("wall", "cpu"):
        measured[f"measured_event_{clock}"] = measured[f"measured_total_{clock}"] - measured[f"measured_array_{clock}"]
    return {"whole_wall": whole.wall, "whole_cpu": whole.cpu,
            "total_wall": total.wall, "total_cpu": total.cpu, "array_wall": array.wall, "array_cpu": array.cpu,
            "event_wall": total.wall - array.wall, "event_cpu": total.cpu - array.cpu,
            "events": events_in(contacts), "contacts": int(contacts.sum()), "refusals": int(tally.refusals.sum()),
            "collected": float(result.kpis["collected"]), **measured}


def _timed(method, watch: Stopwatch):
    def wrapper(*args, **kwargs):
        with watch:
            return method(*args, **kwargs)
    return wrapper


def bare_numpy_kernel(n: int, days: int, seed: int = 0) -> Stopwatch:
    """The minimum repayment work per account-day, at memory speed.

    Per day: one Exp(1) draw per account, the intensity's decay toward its
    floor, a compare against the day's expected payments, and a balance update.
    """
    rng = np.random.default_rng(seed)
    balance = rng.uniform(50, 5000, n)
    floor = np.full(n, 0.01)
    intensity = floor + rng.uniform(0, 0.05, n)
    draw = np.empty(n)
    excess = np.empty(n)
    paid = np.empty(n)
    hit = np.empty(n, dtype=bool)
    decay = np.exp(-0.1)
    with Stopwatch() as watch:
        for _ in range(days):
            rng.standard_exponential(out=draw)
            np.subtract(intensity, floor, out=excess)
            excess *= decay
            np.add(floor, excess, out=intensity)
            np.less(draw, intensity, out=hit)
            np.multiply(balance, 0.5, out=paid)
            paid *= hit
            balance -= paid
    return watch


def bare_simpy_timeouts(events: int, processes: int, seed: int = 0) -> Stopwatch:
    """``events`` timeouts spread over ``processes`` SimPy processes looping ``yield env.timeout(x)``."""
    env = simpy.Environment()
    rng = np.random.default_rng(seed)
    per = max(events // max(processes, 1), 1)

    def worker(delays: list[float]):
        for d in delays:
            yield env.timeout(d)

    for _ in range(max(processes, 1)):
        env.process(worker(rng.exponential(2.0, per).tolist()))
    with Stopwatch() as watch:
        env.run()
    return watch


def minimal_call_loop(calls: int, agents: int, seed: int = 0) -> Stopwatch:
    """The least work ``calls`` outbound calls need, shared by ``agents``, with no event kernel.

    List scheduling in plain Python: the earliest-free agent takes the next
    account; one uniform against the hour's right-party rate picks the
    outcome, a unit exponential scales its handle time; the attempt is counted
    per account, the outcome tallied, a no-answer queues a redial, and the
    agent's clock moves on. Random numbers are drawn before the clock starts,
    so this is a lower bound on any engine that simulates each call.
    """
    rng = np.random.default_rng(seed)
    accounts = rng.integers(0, max(calls, 1), calls).tolist()
    uniforms = rng.random(calls).tolist()
    lengths = rng.standard_exponential(calls).tolist()
    right_party_by_hour = [0.05 + 0.01 * hour for hour in range(24)]
    means = (0.5, 1.0, 4.0)
    attempts: dict[int, int] = {}
    outcomes = [0, 0, 0]
    redials: list[tuple[float, int]] = []
    clocks = [(480.0, agent) for agent in range(max(agents, 1))]
    heapify, heapreplace, heappush = heapq.heapify, heapq.heapreplace, heapq.heappush
    with Stopwatch() as watch:
        heapify(clocks)
        for k in range(calls):
            now, agent = clocks[0]
            account = accounts[k]
            u = uniforms[k]
            p_right = right_party_by_hour[int(now % 1440.0 // 60)]
            outcome = 2 if u < p_right else (1 if u < p_right + 0.05 else 0)
            tried = attempts.get(account, 0)
            attempts[account] = tried + 1
            outcomes[outcome] += 1
            if outcome == 0 and tried < 2:
                heappush(redials, (now + 60.0, account))
            heapreplace(clocks, (now + means[outcome] * lengths[k], agent))
    return watch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_engine_run_options(parser)
    args = parser.parse_args(argv)
    scenario = load_engine_run(args)
    whole = timed_engine_run(scenario, args.seed)
    # The measured days only, against a kernel over the same account-days: the book in collection when they
    # start × the days (a warm-up, simulated before them, is timed apart: open_book.py reports it).
    run = {name[len("measured_"):]: value for name, value in whole.items() if name.startswith("measured_")}
    book = whole["book_at_start"]
    warmup = scenario.simulation.warmup_days
    if warmup:
        print(f"measured days only: {book:,} accounts in collection at their start, after {warmup} warm-up days "
              f"({whole['total_cpu'] - run['total_cpu']:.1f} s CPU, not counted)")
    account_days = book * args.days
    kernel = bare_numpy_kernel(book, args.days)
    bare_events = max(run["events"] // args.agents, 1) * args.agents
    bare = bare_simpy_timeouts(run["events"], args.agents)
    floor = minimal_call_loop(bare_events, args.agents)
    rows, ratios = [], {}
    for clock in ("cpu", "wall"):
        engine_array = account_days / run[f"array_{clock}"]
        limit_array = account_days / getattr(kernel, clock)
        engine_events = run["events"] / run[f"event_{clock}"] if run[f"event_{clock}"] > 0 else float("nan")
        limit_events = bare_events / getattr(bare, clock)
        ratios[clock] = (limit_array / engine_array, engine_events / limit_events)
        rows.append([f"array (book), {clock}", run[f"array_{clock}"], getattr(kernel, clock), engine_array,
                     limit_array, "account-days/s", f"{ratios[clock][0]:.1f}x slower", "<= 10x"])
        rows.append([f"events (agents), {clock}", run[f"event_{clock}"], getattr(bare, clock), engine_events,
                     limit_events, "contacts/s", f"{ratios[clock][1]:.0%} of bare", ">= 50%"])
        floor_events = bare_events / getattr(floor, clock)
        rows.append([f"call floor (no kernel), {clock}", getattr(floor, clock), getattr(bare, clock), floor_events,
                     limit_events, "calls/s", f"{floor_events / limit_events:.0%} of bare", ""])
        # One SimPy event per call (the design) plus the floor of the call's work.
        best_time = getattr(floor, clock) + getattr(bare, clock)
        best_events = bare_events / best_time
        rows.append([f"event + call floor, {clock}", best_time, getattr(bare, clock), best_events,
                     limit_events, "contacts/s", f"{best_events / limit_events:.0%} of bare", "best possible"])
        ratios[clock] += (floor_events / limit_events, best_events / limit_events)
    print_table(["part, clock", "engine s", "limit s", "engine rate", "limit rate", "unit", "ratio", "target"], rows)
    print(f"engine run, measured days: {run['total_wall']:.2f} s wall, {run['total_cpu']:.2f} s CPU; "
          f"{run['events']:,} contact events (calls, inbound, visits); whole run {whole['refusals']:,} refusals")
    array_ratio, event_share, floor_share, best_share = ratios["cpu"]
    print(f"the least work a call needs, in plain Python with no event kernel, runs at {floor_share:.0%} of bare "
          f"SimPy timeouts; with one SimPy event per call on top, the best any engine can do is {best_share:.0%}")
    print(f"headline: array part {array_ratio:.1f}x the bare NumPy kernel (target <= 10x); "
          f"event part {event_share:.0%} of bare SimPy timeouts per event (target >= 50%; "
          f"best possible with an event per call {best_share:.0%}) [CPU time]")
    return 0


if __name__ == "__main__":
    sys.exit(main())
