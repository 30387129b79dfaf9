"""UniformPool: the scalar draws of the calls, conversations and callers are the stream's uniforms in order.

The pool hands out its generator's blocks through a C-level iterator; whatever mix of single draws and
(uniform, exponential) pairs a run asks for, and wherever a block ends, the values are the ones the
stream's blocks hold, in order, so two runs with the same seed draw the same numbers.
"""

import math

import numpy as np
import pytest

from sim.streams import UniformPool


def _stream(seed: int, block: int, blocks: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return [u for _ in range(blocks) for u in rng.random(block).tolist()]


@pytest.mark.parametrize("block", [1, 2, 3, 8])
def test_draws_are_the_streams_uniforms_in_order_across_block_ends(block):
    expected = _stream(11, block, 200 // block + 1)
    pool = UniformPool(np.random.default_rng(11), block=block)
    at = 0
    for step in range(30):  # a dial's pair, then one to three single draws (a conversation's)
        u, e = pool.uniform_and_exponential(2.0)
        assert u == expected[at]
        assert e == -2.0 * math.log(1.0 - expected[at + 1])
        at += 2
        for j in range(1 + step % 3):  # by the method or by the iterator: the same draws, one stream
            assert (pool.next() if j % 2 else next(pool.uniforms)) == expected[at]
            at += 1


def test_exponential_is_minus_mean_log_of_the_next_uniform():
    expected = _stream(3, 4, 3)
    pool = UniformPool(np.random.default_rng(3), block=4)
    got = [pool.exponential(1.5) for _ in range(10)]
    assert got == [-1.5 * math.log(1.0 - u) for u in expected[:10]]


def test_two_pools_of_the_same_seed_agree_and_do_not_share_state():
    a, b = UniformPool(np.random.default_rng(5)), UniformPool(np.random.default_rng(5))
    first = [a.next() for _ in range(10_000)]  # past the first block of 8,192
    assert [b.next() for _ in range(10_000)] == first
    assert a.next() == b.next()
