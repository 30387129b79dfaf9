"""The call floor (sim/engine/floor.py): agents' shifts run off SimPy's queue but in SimPy's order."""

from __future__ import annotations

from collections import deque

import numpy as np
import simpy

from sim.engine.floor import AgentShift, Floor


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
