"""Where replications run: in this process, in a local process pool, or on a Dask cluster.

An experiment is a list of independent work units (one scenario, one
replication seed). An executor only decides *where* each unit runs; it yields
``(position, result)`` pairs in whatever order units finish, and the
experiment puts every result back in its slot. Because each unit is a pure
function of plain data, the numbers are the same whichever executor runs them
and however many workers it has.
"""

from __future__ import annotations

import collections
import logging
import multiprocessing
import os
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .errors import InputError

EXECUTORS = ("local", "dask")
SCHEDULER_SCHEMES = ("tcp", "tls", "ws", "wss")
# Seconds to wait for a Dask scheduler: a wrong address should fail while the user is still watching.
CONNECT_TIMEOUT = 5

log = logging.getLogger(__name__)


def default_workers() -> int:
    return os.cpu_count() or 1


def worker_context(preload: Sequence[str] = ()):
    """The multiprocessing context for local workers.

    A forkserver is started once per parent process and imports the simulator
    (and ``preload``, if it is not running yet) before it forks any worker:
    each new worker then starts in milliseconds instead of paying half a
    second of imports (numpy, scipy, simpy, pydantic), which is what keeps
    two workers close to twice as fast as one.
    """
    if "forkserver" in multiprocessing.get_all_start_methods():
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["sim.simulation", "sim.experiment", *preload])
        return context
    return multiprocessing.get_context("spawn")


class LocalExecutor:
    """Processes on this machine (``concurrent.futures.ProcessPoolExecutor``).

    With one worker, or a single unit to run, the work runs in this process:
    starting a pool would cost more than it saves and the results are the same.
    Workers are forked from a clean ``forkserver`` process that has already
    imported the simulator (``spawn`` where there is no forkserver), so that no
    lock or thread of the parent (a database connection, a progress-bar thread,
    a web server) is copied and no worker pays the imports again.

    A worker that dies (killed, out of memory) breaks the whole pool; the units
    it took down are run again in a new pool, at most ``restarts`` times, and
    units that had finished are kept. A unit is a pure function of its seed,
    so running it again gives the same numbers.

    ``keep_workers``: one pool serves every :meth:`map_unordered` call until
    :meth:`close` (use the executor as a context manager). For a caller that
    hands it many short batches, as ``allocate`` does (seven at 5,000
    accounts), a pool per batch made each batch's workers import the
    optimizer again (0.5 s of SciPy a worker) and start with cold caches:
    measured, ``allocate`` on baseline took 22.7 s with a pool per batch and
    17.9 s with one kept (two workers, idle).
    A pool is given up (shut down) if a batch is left before its end, so a
    kept pool never holds stray work.
    """

    kind = "local"

    def __init__(self, workers: int | None = None, *, restarts: int = 2, keep_workers: bool = False):
        self.workers = max(1, int(workers or default_workers()))
        self.restarts = max(0, int(restarts))
        self.keep_workers = keep_workers
        self._pool: ProcessPoolExecutor | None = None

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        if self.workers == 1 or len(items) <= 1:
            for position, item in enumerate(items):
                yield position, fn(item)
            return
        queue = collections.deque(range(len(items)))
        restarts = 0
        while queue:
            lost = yield from self._run_pool(fn, items, queue)
            if lost is None:
                continue
            restarts += 1
            if restarts > self.restarts:
                raise BrokenProcessPool(f"a worker process died {restarts} times; {len(lost) + len(queue)} units "
                                        "were not run (finished runs are kept if a store was given)")
            log.warning("a worker process died; starting new workers for the %d units it took down", len(lost))
            queue.extendleft(reversed(lost))

    def _run_pool(self, fn, items, queue) -> Iterator[tuple[int, Any]]:
        """Run units from ``queue`` in one pool.

        Returns None when the queue is done, or the positions in flight that
        were lost when a worker died (the rest of the queue is left in it).
        """
        if self.keep_workers:
            if self._pool is None:
                self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=worker_context())
            pool = self._pool
        else:
            pool = ProcessPoolExecutor(max_workers=min(self.workers, len(queue)), mp_context=worker_context())
        finished = False
        try:
            # Keep at most two units per worker in flight: an interrupted sweep then
            # loses little work, and memory stays bounded for long sweeps.
            pending: dict[Any, int] = {}
            window = 2 * self.workers

            def top_up() -> bool:
                """Submit units until the window is full; False once the pool is broken."""
                while queue and len(pending) < window:
                    position = queue.popleft()
                    try:
                        pending[pool.submit(fn, items[position])] = position
                    except BrokenProcessPool:
                        queue.appendleft(position)
                        return False
                return True

            healthy = top_up()
            while healthy and pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                if any(isinstance(f.exception(), BrokenProcessPool) for f in done):
                    healthy = False
                    break
                for future in done:
                    position = pending.pop(future)
                    yield position, future.result()
                healthy = top_up()
            if healthy:
                finished = True
                return None
            # A worker died: every unit in flight fails with the pool; keep those that finished first.
            wait(pending)
            lost = []
            for future, position in sorted(pending.items(), key=lambda fp: fp[1]):
                error = future.exception()
                if error is None:
                    yield position, future.result()
                elif isinstance(error, BrokenProcessPool):
                    lost.append(position)
                else:
                    raise error
            return lost
        finally:
            if not (finished and pool is self._pool):
                pool.shutdown(wait=True, cancel_futures=True)
                if pool is self._pool:
                    self._pool = None

    def start(self) -> None:
        """Nothing to reach before the work: a pool starts with the first units."""

    def warm(self, modules: Sequence[str]) -> None:
        """Start the workers' forkserver now, if this process has none yet, importing the simulator and
        ``modules``, and return at once: the caller goes on with its own work while one process pays the
        imports, which every worker then has (``allocate`` builds its segments and treatments, about 0.5 s,
        while the forkserver imports the optimizer; started with the first batch instead, each of its
        workers paid the optimizer's 0.5 s of SciPy before its first unit). Nothing with one worker."""
        if self.workers == 1:
            return
        if worker_context(modules).get_start_method() == "forkserver":
            from multiprocessing import forkserver

            forkserver.ensure_running()

    def close(self) -> None:
        """Shut down the kept pool, if any (``keep_workers``); the executor can be used again after."""
        if self._pool is not None:
            pool, self._pool = self._pool, None
            pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> LocalExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> str:
        return f"local, {self.workers} worker{'s' if self.workers != 1 else ''}"


class DaskExecutor:
    """A Dask distributed cluster: at ``scheduler`` (``tcp://HOST:8786``), or a
    ``LocalCluster`` of ``workers`` single-threaded processes started on demand.

    The workers must have the same repaylab installed (the experiment checks
    the code version each unit reports) and must be able to read any portfolio
    CSV a scenario names, at the same path.
    """

    kind = "dask"

    def __init__(self, scheduler: str | None = None, workers: int | None = None):
        self.scheduler = scheduler
        self.workers = max(1, int(workers or default_workers()))
        self._client = None
        self._cluster = None

    def client(self):
        if self._client is None:
            from distributed import Client, LocalCluster

            if self.scheduler:
                try:
                    self._client = Client(self.scheduler, timeout=f"{CONNECT_TIMEOUT}s")
                except (OSError, TimeoutError) as err:
                    raise InputError(self.scheduler, "--scheduler",
                                     f"cannot reach the Dask scheduler within {CONNECT_TIMEOUT} s "
                                     f"({' '.join(str(err).split())[:160]})") from None
            else:
                self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=True,
                                             dashboard_address=None, silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
        return self._client

    def start(self) -> None:
        """Connect to the scheduler (or start the LocalCluster) now, before an experiment is recorded."""
        self.client()

    def map_unordered(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[tuple[int, Any]]:
        from distributed import as_completed

        client = self.client()
        batch = uuid.uuid4().hex[:8]
        futures = [client.submit(fn, item, key=f"repaylab-{batch}-{i}", pure=False) for i, item in enumerate(items)]
        position = {future.key: i for i, future in enumerate(futures)}
        try:
            for future in as_completed(futures):
                yield position[future.key], future.result()
        finally:
            client.cancel([f for f in futures if not f.done()])

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def __enter__(self) -> DaskExecutor:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def describe(self) -> str:
        return f"dask at {self.scheduler}" if self.scheduler else f"dask LocalCluster, {self.workers} workers"


def make_executor(kind: str = "local", *, workers: int | None = None, scheduler: str | None = None):
    """The executor a command line asked for."""
    if kind == "local":
        if scheduler:
            raise InputError("--scheduler", "", "only used with --executor dask")
        return LocalExecutor(workers)
    if kind == "dask":
        return DaskExecutor(check_scheduler(scheduler) if scheduler is not None else None, workers)
    raise InputError("--executor", "", f"unknown executor {kind!r}; allowed: {', '.join(EXECUTORS)}")


def check_scheduler(address: str) -> str:
    """A Dask scheduler address, ``tcp://HOST:PORT`` (or tls, ws, wss); anything else is a InputError."""
    from urllib.parse import urlsplit

    allowed = f"expected {'|'.join(SCHEDULER_SCHEMES)}://HOST:PORT, e.g. tcp://10.0.0.5:8786"
    text = str(address).strip()
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InputError(address, "--scheduler", f"not a scheduler address; {allowed}") from None
    if parts.scheme not in SCHEDULER_SCHEMES or not parts.hostname or port is None or port == 0 \
            or parts.path or parts.query or parts.fragment or " " in text:
        raise InputError(address, "--scheduler", f"not a scheduler address; {allowed}")
    return text
