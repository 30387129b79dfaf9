"""The local executor's kept pool: one set of worker processes for many batches, given up when in doubt.

``allocate`` hands its executor seven short batches at 5,000 accounts; a pool
per batch made every batch's workers import the optimizer again and start
with cold caches (baseline's allocate: 22.7 s against 17.9 s with the pool
kept, benchmarks/bench_allocation.py). These tests hold what the kept pool
promises: the same workers serve every batch, the numbers are those of a run
in this process, and a pool that may hold stray work (a batch left early, a
worker that died) is never used again.
"""

from __future__ import annotations

import os
import signal

from sim.executors import LocalExecutor


def pid_of(unit: int) -> tuple[int, int]:
    return unit, os.getpid()


def square(unit: int) -> int:
    return unit * unit


def dies_on_first_sight(unit: tuple[str, int]) -> int:
    """Kills its own process the first time any worker sees the marker path (created atomically)."""
    marker, value = unit
    if value == 2:
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return value
        os.close(fd)
        os.kill(os.getpid(), signal.SIGKILL)
    return value


def workers_of(executor: LocalExecutor, units: int = 8) -> set[int]:
    return {pid for _, (_, pid) in executor.map_unordered(pid_of, list(range(units)))}


def test_a_kept_pool_serves_every_batch_with_the_same_workers_until_closed():
    with LocalExecutor(2, keep_workers=True) as executor:
        first = workers_of(executor)
        assert os.getpid() not in first
        # Three batches, never more than the two workers between them: no process started per batch.
        assert len(first | workers_of(executor) | workers_of(executor)) <= 2
        kept = executor._pool
        assert kept is not None
        assert sorted(v for _, v in executor.map_unordered(square, list(range(10)))) == [k * k for k in range(10)]
        assert executor._pool is kept
    assert executor._pool is None  # closed with the block
    # Usable again after close: a new pool, new processes.
    again = workers_of(executor)
    assert again.isdisjoint(first)
    executor.close()


def test_without_keep_workers_every_batch_has_a_pool_of_its_own():
    executor = LocalExecutor(2)
    first, second = workers_of(executor), workers_of(executor)
    assert first.isdisjoint(second)
    assert executor._pool is None


def test_a_batch_left_before_its_end_gives_the_kept_pool_up():
    with LocalExecutor(2, keep_workers=True) as executor:
        before = workers_of(executor)
        batch = executor.map_unordered(pid_of, list(range(12)))
        next(batch)
        batch.close()  # the consumer stopped reading: units may still be running in that pool
        assert executor._pool is None
        assert workers_of(executor).isdisjoint(before)


def test_a_worker_dying_in_a_kept_pool_is_replaced_and_its_units_run_again(tmp_path):
    marker = str(tmp_path / "died")
    with LocalExecutor(2, keep_workers=True) as executor:
        before = workers_of(executor)
        done = dict(executor.map_unordered(dies_on_first_sight, [(marker, v) for v in range(6)]))
        assert os.path.exists(marker)  # a worker really died
        assert sorted(done.values()) == list(range(6))
        assert executor._pool is not None and workers_of(executor).isdisjoint(before)


def test_warm_starts_a_forkserver_whose_workers_have_the_modules_already():
    """``warm`` in a process with no forkserver yet: the workers forked after it find the modules imported
    (they are forked from a server that preloaded them), without the units importing anything."""
    import subprocess
    import sys
    import textwrap
    from pathlib import Path

    tests = Path(__file__).resolve().parent
    code = textwrap.dedent("""
        import sys
        from sim.executors import LocalExecutor
        from test_local_pool import loaded
        with LocalExecutor(2, keep_workers=True) as executor:
            executor.warm(["xml.dom.minidom"])
            seen = dict(executor.map_unordered(loaded, ["xml.dom.minidom", "xml.sax"] * 2))
        print(sorted(seen.values()))
    """)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests.parent), str(tests)])}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    # xml.sax: nobody imported it; xml.dom.minidom: the forkserver did, before forking the workers.
    assert done.stdout.split() == ["[False,", "False,", "True,", "True]"]


def loaded(module: str) -> bool:
    import sys

    return module in sys.modules
