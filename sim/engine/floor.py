"""The call floor's clock: every call agent's shift on one timeline of its own, in step with SimPy.

Call agents meet only each other on the floor (the call list, the redials,
the idle colleagues they wake) and the outside world through the inbound
queue. So their shifts run as generators on one heap, and the floor hands
control back to SimPy only when another process's event (a caller's arrival,
an automated delivery, the day's end, a field visit) comes first. A dial
then costs a heap step and a generator resume instead of a SimPy event.

The heap is ordered as SimPy orders its own queue: by time, then by the
order things were scheduled, numbered from SimPy's own event counter, so an
agent's call that ends at the same minute as another process's event comes
before or after it exactly as the call's timeout would have. The agents act
in the same order as when each call was a SimPy timeout, and who takes which
account is decided as before. Imports nothing of the engine.

The floor runs other generators by the same protocol, on the same heap: a
batch of callers arriving (:meth:`sim.engine.calls.CallCentre.start_callers`)
and a ladder step's messages delivered at each consumer's local send minute
(:meth:`sim.engine.ladder.Ladder.send_automated`), so that neither costs a
SimPy process and a timeout per caller or per minute. Neither schedules a
SimPy event while the floor runs it: callbacks a delivery causes start on the
floor at once (:meth:`Floor.begin`), as their own process would have begun
right after the delivery's.

A shift's generator yields the minutes it is busy (``now = yield minutes``),
or, with nothing to do, sleeps: :meth:`Floor.sleep` puts it on the heap at
the time it must wake by (its shift's end, a redial due), and it yields
``None``; :meth:`Floor.wake` wakes it earlier (a caller, a colleague). Either
way it is sent the time it resumes at.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

from simpy.events import NORMAL


class FloorProcess:
    """A generator run on the floor: its generator, and which of its wake-ups is still valid."""

    __slots__ = ("asleep", "gen", "timer", "token")

    def __init__(self, gen=None) -> None:
        self.gen = gen
        self.token = 0  # raised at each wake-up from a sleep: older timers and wake-ups of that sleep are void
        self.asleep = False
        self.timer: list | None = None  # the heap entry of its last sleep's timer


class AgentShift(FloorProcess):
    """One agent's shift on the floor (it may sleep and be woken)."""

    __slots__ = ()


class Floor:
    """The floor's heap of [time, order, token, generator] and the SimPy process that runs it.

    Entries are lists so that a sleep's timer can be made valid again in place (:meth:`sleep`); the orders
    are distinct, so the heap never compares past them and a token changed in place leaves it a heap."""

    def __init__(self, env) -> None:
        self.env = env
        self.heap: list[list] = []
        # SimPy's own counter of scheduled events (simpy 4: Environment._eid, ._queue), so that the floor's
        # entries and SimPy's events share one order.
        self.order = env._eid
        self.running = False

    def next_order(self) -> int:
        """A place in the order of scheduling, as a SimPy timeout made now would get."""
        return next(self.order)

    def start(self, proc: FloorProcess) -> None:
        """A generator starts as a SimPy process would: at its initialisation, in the order it was started."""
        self.start_all((proc,))

    def start_all(self, procs) -> None:
        """Several generators start in this order, as as many SimPy processes started one after another would
        (their initialisations come one after the other, nothing between them): one process begins them all."""
        self.env.process(self._begin_all(procs))

    def _begin_all(self, procs):
        now = self.env.now
        for proc in procs:
            self.begin(proc, now)
        return
        yield  # a generator: SimPy runs it as a process

    def begin(self, proc: FloorProcess, now: float) -> None:
        """Run ``proc``'s generator to its first wait (it yields the minutes from ``now`` until it acts), then put
        it on the heap; the floor's own process runs while there is anything on it. Called at ``now`` by a SimPy
        process's initialisation (:meth:`start_all`) or by a generator the floor is running."""
        try:
            delay = next(proc.gen)
        except StopIteration:
            return
        heapq.heappush(self.heap, [now + delay, next(self.order), proc.token, proc])
        if not self.running:
            self.running = True
            self.env.process(self._run())

    def sleep(self, shift: AgentShift, until: float, order: int, now: float | None = None) -> None:
        """The shift has nothing to do at ``now`` (the floor's time; None: unknown, no timer is reused): it wakes
        at ``until`` (in ``order``) unless :meth:`wake` wakes it first.

        A shift woken early leaves its timer on the heap, void (its token is old); when it sleeps again until
        the same time in the same order (the end of its shift, most of an inbound agent's sleeps), that entry
        is still on the heap (it is later than ``now``) and is made valid again instead of a new one being
        pushed beside it: the same place in the order, one push and one pop of a void entry fewer.
        """
        shift.asleep = True
        timer = shift.timer
        if timer is not None and now is not None and timer[0] == until and timer[1] == order and until > now:
            timer[2] = shift.token
            return
        timer = [until, order, shift.token, shift]
        shift.timer = timer
        heapq.heappush(self.heap, timer)

    def wake(self, idle: deque, at: float) -> None:
        """Wake the first shift on ``idle`` (entries ``(shift, token)``) still asleep in that sleep, at ``at``."""
        while idle:
            shift, token = idle.popleft()
            if shift.asleep and shift.token == token:
                shift.asleep = False
                heapq.heappush(self.heap, [at, next(self.order), token, shift])
                return

    def _run(self):
        """Resume the generators in order while they come before SimPy's next event; then wait for that event."""
        env = self.env
        queue = env._queue  # SimPy's heap of (time, priority, order, event)
        heap = self.heap
        heappop, heapreplace = heapq.heappop, heapq.heapreplace
        order = self.order
        while heap:
            # Nothing the floor runs schedules a SimPy event (the day's end, field visits and the processes
            # that start generators on the floor do; they run while the floor waits), so SimPy's next event
            # stays the same until the floor yields.
            if queue:
                next_at, priority, next_order, next_event = queue[0]
                next_at = float(next_at)  # SimPy's times may be ints; the floor's are floats (the fast comparison)
            else:
                next_at, priority, next_order, next_event = math.inf, NORMAL, 0, None
            while heap:
                entry = heap[0]
                at = entry[0]
                # The floor's entries are NORMAL-priority timeouts in SimPy's order.
                if at >= next_at and (at > next_at or priority < NORMAL or entry[1] > next_order):
                    break
                shift = entry[3]
                if entry[2] != shift.token:
                    heappop(heap)  # a timer or wake-up of a sleep the shift has already left
                    continue
                # The shift's entry stays at the top while it runs: whatever it schedules (its own sleep's
                # timer, a colleague's wake-up) comes at ``at`` or later and after it in order.
                try:
                    busy = shift.gen.send(at)
                except StopIteration:
                    heappop(heap)
                    # Its last timer refers back to it: dropped, so a finished shift is freed at once by
                    # reference counting, not left as a cycle for the collector (a run ends thousands).
                    shift.timer = None
                    continue
                if busy is None:
                    heappop(heap)  # asleep: its timer is on the heap
                elif entry is shift.timer:  # its sleep's timer (sleep() may make it valid again): left as it is
                    heapreplace(heap, [at + busy, next(order), shift.token, shift])
                else:
                    # The entry it ran from, reused in place for the end of its call (no new list a call); its
                    # token may have moved on (it woke from a sleep), so it is written again.
                    entry[0] = at + busy
                    entry[1] = next(order)
                    entry[2] = shift.token
                    heapreplace(heap, entry)
            if heap:
                # Resume right after SimPy's next event is processed (not a timeout of our own, which
                # would come after every other event scheduled at that time).
                yield next_event
        self.running = False
