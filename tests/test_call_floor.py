"""The call floor (sim/engine/floor.py): agents' shifts run off SimPy's queue but in SimPy's order."""

from __future__ import annotations

import gc
from collections import deque

import numpy as np
import simpy

from sim.engine.floor import AgentShift, Floor, FloorProcess


def _agent(name: str, start: float, durations: list[float], log: list, env: simpy.Environment):
    """A shift that logs each moment it acts at: the floor's protocol (yield minutes, be sent the time)."""
    now = yield start - env.now
    for minutes in durations:
        log.append((now, name))
        now = yield minutes
    log.append((now, name))


def _outsider(times: list[float], log: list, env: simpy.Environment):
    for at in times:
        yield env.timeout(at - env.now)
        log.append((env.now, "outsider"))


def _as_process(gen, env: simpy.Environment):
    """The same shift as one SimPy process, each wait a timeout: what the floor replaces."""
    delay = next(gen)
    while True:
        yield env.timeout(delay)
        try:
            delay = gen.send(env.now)
        except StopIteration:
            return


def _run(on_floor: bool, seed: int) -> list:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    log: list = []
    floor = Floor(env)
    # Whole minutes, so that agents and the outsider often act at the same minute: the order of ties matters.
    outsider_times = np.cumsum(rng.integers(0, 4, 40)).astype(float).tolist()
    env.process(_outsider(outsider_times, log, env))
    for a in range(6):
        gen = _agent(f"agent-{a}", float(rng.integers(0, 5)), rng.integers(0, 4, 30).astype(float).tolist(), log, env)
        if on_floor:
            shift = AgentShift()
            shift.gen = gen
            floor.start(shift)
        else:
            env.process(_as_process(gen, env))
    env.run(until=500)
    return log


def test_agents_on_the_floor_act_in_the_order_simpy_processes_would():
    for seed in range(5):
        assert _run(on_floor=True, seed=seed) == _run(on_floor=False, seed=seed)


def test_a_sleeping_agent_wakes_at_its_timer_or_when_woken_whichever_comes_first():
    env = simpy.Environment()
    floor = Floor(env)
    idle: deque = deque()
    resumed: list = []

    def sleeper(name: str, until: float):
        shift = shifts[name]
        now = yield 1.0
        idle.append((shift, shift.token))
        floor.sleep(shift, until, floor.next_order())
        now = yield None
        shift.asleep = False
        shift.token += 1
        resumed.append((name, now))

    def caller():
        yield env.timeout(5.0)
        floor.wake(idle, env.now)  # wakes the first still asleep: "early"

    shifts = {name: AgentShift() for name in ("early", "late")}
    for name, until in (("early", 50.0), ("late", 20.0)):
        shifts[name].gen = sleeper(name, until)
        floor.start(shifts[name])
    env.process(caller())
    env.run(until=100)
    assert resumed == [("early", 5.0), ("late", 20.0)]


def test_a_shift_woken_early_and_asleep_again_keeps_one_timer_and_wakes_at_it():
    """An agent woken by a caller, then asleep again until the end of its shift (the same timer): its old
    timer is made valid again, not pushed a second time, and it still wakes at the end of its shift."""
    env = simpy.Environment()
    floor = Floor(env)
    idle: deque = deque()
    resumed: list = []
    heap_sizes: list = []
    shift = AgentShift()

    def agent():
        now = yield 1.0
        end_order = floor.next_order()
        for _ in range(2):
            idle.append((shift, shift.token))
            floor.sleep(shift, 30.0, end_order, now)
            heap_sizes.append(len(floor.heap))
            now = yield None
            shift.asleep = False
            shift.token += 1
            resumed.append(now)

    def caller():
        yield env.timeout(5.0)
        floor.wake(idle, env.now)

    shift.gen = agent()
    floor.start(shift)
    env.process(caller())
    env.run(until=100)
    assert resumed == [5.0, 30.0]
    # The running shift's own entry stays on top while it runs, beside its timer; asleep again: the same timer,
    # valid again, no second one beside the void one (which would make 3).
    assert heap_sizes == [2, 2]


def _callers(name: str, times: list[float], now: float, log: list):
    """A batch of callers on the floor: each arrives at its time (the floor's protocol, from ``now``)."""
    for at in times:
        if at > now:
            now = yield at - now
        log.append((now, name))


def _delivery(name: str, minute: float, callers: list[float], now: float, log: list, floor: Floor):
    """A delivery waiting for its minute on the floor, then starting its callers: at once when the floor runs it,
    as a SimPy process when it is delivered as it starts (what the ladder does)."""
    on_floor = None
    if minute > now:
        on_floor = yield minute - now
    log.append((now if on_floor is None else on_floor, name))
    batch = FloorProcess(_callers(f"{name}-caller", callers, now if on_floor is None else on_floor, log))
    if on_floor is None:
        floor.start(batch)
    else:
        floor.begin(batch, on_floor)


def _delivery_process(name: str, minute: float, callers: list[float], log: list, env: simpy.Environment):
    """The same delivery as its own SimPy process, its callers another: what the floor replaces."""
    if minute > env.now:
        yield env.timeout(minute - env.now)
    log.append((env.now, name))

    def arrive():
        for at in callers:
            if at > env.now:
                yield env.timeout(at - env.now)
            log.append((env.now, f"{name}-caller"))

    env.process(arrive())


def _run_with_deliveries(on_floor: bool, seed: int) -> list:
    rng = np.random.default_rng(seed)
    env = simpy.Environment()
    log: list = []
    floor = Floor(env)
    env.process(_outsider(np.cumsum(rng.integers(0, 4, 40)).astype(float).tolist(), log, env))
    # Whole minutes again, some deliveries due at once (minute 0) and callers at their delivery's minute.
    deliveries = [(f"delivery-{d}", float(rng.integers(0, 12)), rng.integers(0, 3, 5).astype(float)) for d in range(8)]
    if on_floor:
        floor.start_all([FloorProcess(_delivery(name, minute, (minute + np.cumsum(gaps)).tolist(), 0.0, log, floor))
                         for name, minute, gaps in deliveries])
    else:
        for name, minute, gaps in deliveries:
            env.process(_delivery_process(name, minute, (minute + np.cumsum(gaps)).tolist(), log, env))
    shifts = []
    for a in range(6):
        gen = _agent(f"agent-{a}", float(rng.integers(0, 5)), rng.integers(0, 4, 30).astype(float).tolist(), log, env)
        if on_floor:
            shifts.append(AgentShift(gen))
        else:
            env.process(_as_process(gen, env))
    if on_floor:
        floor.start_all(shifts)
    env.run(until=500)
    return log


def test_deliveries_and_their_callers_on_the_floor_act_in_the_order_simpy_processes_would():
    # Ties at the same minute between agents, an outsider, deliveries and callers fall as SimPy's queue orders
    # them: the floor's entries take their places in SimPy's counter when the processes would have taken theirs.
    for seed in range(20):
        floor_log = _run_with_deliveries(on_floor=True, seed=seed)
        assert floor_log == _run_with_deliveries(on_floor=False, seed=seed)
        assert sum(name.endswith("caller") for _, name in floor_log) == 40


def test_a_finished_shift_is_freed_at_once_not_left_to_the_cycle_collector():
    """A shift that slept on a timer and ended: nothing refers to it any more, so reference counting frees it
    (its last timer referred back to it; a run ends thousands of shifts, each a cycle the collector walked)."""

    def tracked_shifts() -> int:
        return sum(isinstance(o, AgentShift) for o in gc.get_objects())

    def agent(shift: AgentShift, until: float):
        now = yield 1.0
        floor.sleep(shift, until, floor.next_order(), now)
        now = yield None
        shift.asleep = False
        shift.token += 1

    was_enabled = gc.isenabled()
    gc.disable()
    try:
        before = tracked_shifts()
        env = simpy.Environment()
        floor = Floor(env)
        for until in (10.0, 12.0, 15.0):
            shift = AgentShift()
            shift.gen = agent(shift, until)
            floor.start(shift)
        del shift
        env.run(until=20)
        assert not floor.heap
        assert tracked_shifts() == before
    finally:
        if was_enabled:
            gc.enable()
