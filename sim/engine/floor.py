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


class AgentShift:
    """One agent's shift on the floor: its generator, and which of its wake-ups is still valid."""

    __slots__ = ("asleep", "gen", "token")

    def __init__(self) -> None:
        self.gen = None
        self.token = 0  # raised at each wake-up from a sleep: older timers and wake-ups of that sleep are void
        self.asleep = False


class Floor:
    """The call agents' heap of (time, order, token, shift) and the SimPy process that runs it."""

    def __init__(self, env) -> None:
        self.env = env
        self.heap: list[tuple[float, int, int, AgentShift]] = []
        # SimPy's own counter of scheduled events (simpy 4: Environment._eid, ._queue), so that the floor's
        # entries and SimPy's events share one order.
        self.order = env._eid
        self.running = False
        self.starting: list[AgentShift] = []  # shifts started and not yet begun (one SimPy process begins them)

    def next_order(self) -> int:
        """A place in the order of scheduling, as a SimPy timeout made now would get."""
        return next(self.order)

    def start(self, shift: AgentShift) -> None:
        """A shift starts as a SimPy process would: at its initialisation, in the order it was started.

        The shifts started together (a morning's, before SimPy runs anything
        else) begin in one SimPy process, at the place in SimPy's order the
        first one's own process would have begun: each process's beginning
        came right after the previous one's, with nothing between them but
        the no-op end of that process, so the heap gets the same entries in
        the same order, for one SimPy process a morning instead of one an
        agent's shift (most of the events of a small book with roomy teams).
        """
        self.starting.append(shift)
        if len(self.starting) == 1:
            self.env.process(self._begin())

    def _begin(self):
        """Run each starting shift's generator to its first wait (it yields the minutes until its start), then
        put it on the heap; the floor's own process runs while there is anything on it."""
        starting, self.starting = self.starting, []
        for shift in starting:
            try:
                delay = next(shift.gen)
            except StopIteration:
                continue
            heapq.heappush(self.heap, (self.env.now + delay, next(self.order), shift.token, shift))
            if not self.running:
                self.running = True
                self.env.process(self._run())
        return
        yield  # a generator: SimPy runs it as a process

    def sleep(self, shift: AgentShift, until: float, order: int) -> None:
        """The shift has nothing to do: it wakes at ``until`` (in ``order``) unless :meth:`wake` wakes it first."""
        shift.asleep = True
        heapq.heappush(self.heap, (until, order, shift.token, shift))

    def wake(self, idle: deque, at: float) -> None:
        """Wake the first shift on ``idle`` (entries ``(shift, token)``) still asleep in that sleep, at ``at``."""
        while idle:
            shift, token = idle.popleft()
            if shift.asleep and shift.token == token:
                shift.asleep = False
                heapq.heappush(self.heap, (at, next(self.order), token, shift))
                return

    def _run(self):
        """Resume the shifts in order while they come before SimPy's next event; then wait for that event."""
        env = self.env
        queue = env._queue  # SimPy's heap of (time, priority, order, event)
        heap = self.heap
        heappop, heapreplace = heapq.heappop, heapq.heapreplace
        order = self.order
        while heap:
            # Nothing the agents do schedules a SimPy event (callers, deliveries and the day's end do; they
            # run while the floor waits), so SimPy's next event stays the same until the floor yields.
            if queue:
                next_at, priority, next_order, next_event = queue[0]
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
                    continue
                if busy is None:
                    heappop(heap)  # asleep: its timer is on the heap
                else:
                    heapreplace(heap, (at + busy, next(order), shift.token, shift))
            if heap:
                # Resume right after SimPy's next event is processed (not a timeout of our own, which
                # would come after every other event scheduled at that time).
                yield next_event
        self.running = False
