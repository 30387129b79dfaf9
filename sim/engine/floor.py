"""The call floor's clock: every call agent's shift on one timeline of its own, in step with SimPy.

Call agents meet only each other on the floor (the call list, the redials,
the idle colleagues they wake) and the outside world through the inbound
queue. So their shifts run as generators on one heap ordered by time, then
by the order things were scheduled (SimPy's own rule), and the floor hands
control back to SimPy only when another process's event (a caller's arrival,
an automated delivery, the day's end, a field visit) comes first. A dial
then costs a heap push and a generator resume instead of a SimPy event; the
agents still act in time order, so who takes which account is decided as
before. Imports nothing of the engine.

A shift's generator yields the minutes it is busy (``now = yield minutes``),
or, with nothing to do, sleeps: :meth:`Floor.sleep` puts it on the heap at
the time it must wake by (its shift's end, a redial due), and it yields
``None``; :meth:`Floor.wake` wakes it earlier (a caller, a colleague). Either
way it is sent the time it resumes at.
"""

from __future__ import annotations

import heapq
import itertools
from collections import deque


class AgentShift:
    """One agent's shift on the floor: its generator, and which of its wake-ups is still valid."""

    __slots__ = ("asleep", "gen", "token")

    def __init__(self) -> None:
        self.gen = None
        self.token = 0  # raised at each wake-up from a sleep: older timers and wake-ups of that sleep are void
        self.asleep = False


class Floor:
    """The call agents' heap of (time, order, shift, token) and the SimPy process that runs it."""

    def __init__(self, env) -> None:
        self.env = env
        self.heap: list[tuple[float, int, AgentShift, int]] = []
        self.order = itertools.count()
        self.running = False

    def start(self, shift: AgentShift) -> None:
        """A shift's generator, run to its first wait now (it yields the minutes until its start)."""
        try:
            delay = next(shift.gen)
        except StopIteration:
            return
        heapq.heappush(self.heap, (self.env.now + delay, next(self.order), shift, shift.token))
        if not self.running:
            self.running = True
            self.env.process(self._run())

    def sleep(self, shift: AgentShift, until: float) -> None:
        """The shift has nothing to do: it wakes at ``until`` unless :meth:`wake` wakes it first."""
        shift.asleep = True
        heapq.heappush(self.heap, (until, next(self.order), shift, shift.token))

    def wake(self, idle: deque, at: float) -> None:
        """Wake the first shift on ``idle`` (entries ``(shift, token)``) still asleep in that sleep, at ``at``."""
        while idle:
            shift, token = idle.popleft()
            if shift.asleep and shift.token == token:
                shift.asleep = False
                heapq.heappush(self.heap, (at, next(self.order), shift, token))
                return

    def _run(self):
        """Resume the shifts in time order while nothing else is scheduled earlier; else let SimPy run it."""
        env = self.env
        heap = self.heap
        heappop, heappush = heapq.heappop, heapq.heappush
        order = self.order
        peek = env.peek
        while heap:
            # Nothing the agents do schedules a SimPy event (callers, deliveries and the day's end do; they
            # run while the floor waits), so the next other event stays where it was until the floor yields.
            horizon = peek()
            while heap and heap[0][0] < horizon:
                at, _, shift, token = heappop(heap)
                if token != shift.token:
                    continue  # a timer or wake-up of a sleep the shift has already left
                send = shift.gen.send
                try:
                    busy = send(at)
                    # The same agent again while its next moment comes before everyone else's: no heap.
                    while busy is not None and at + busy < horizon and (not heap or at + busy < heap[0][0]):
                        at += busy
                        busy = send(at)
                except StopIteration:
                    continue
                if busy is not None:
                    heappush(heap, (at + busy, next(order), shift, shift.token))
            if heap:
                yield env.timeout(horizon - env.now)
        self.running = False
