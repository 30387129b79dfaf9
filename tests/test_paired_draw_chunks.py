"""The per-account draws made a chunk of accounts at a time hold the very numbers of the whole blocks.

:class:`sim.streams._AccountBlocks` makes a block's rows for a chunk of
accounts when one of them first needs it (Philox's counter advanced to the
chunk's first row), so that a run does not make (and write to memory) whole
blocks for the few accounts that reach them. Pairing rests on the numbers
being the whole blocks' whatever the order in which chunks were made: these
tests draw with chunks of 4 accounts in scattered orders and compare every
number with the blocks made whole.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.streams import AccountUniformArrays, AccountUniforms

SEED = np.random.SeedSequence(11, spawn_key=(3, 1_002))


class SmallChunks(AccountUniformArrays):
    CHUNK = 4


class SmallChunksOneAtATime(AccountUniforms):
    CHUNK = 4


def whole_rows(draws, blocks: int, accounts: int, width: int) -> np.ndarray:
    """Account i's k-th event's numbers at [i, k], from the blocks made whole."""
    made = np.concatenate([draws._generate(b) for b in range(blocks)], axis=1)
    return made.reshape(accounts, -1, width)


@pytest.mark.parametrize("accounts", [4, 17, 30])
def test_a_chunks_rows_are_the_whole_blocks_rows(accounts):
    width, block = 2, 2
    draws = SmallChunks(SEED, accounts, width, block=block)
    expected = whole_rows(draws, 31, accounts, width)  # 60 draws of 2-event blocks at most
    rng = np.random.default_rng(accounts)
    drawn = np.zeros(accounts, dtype=np.int64)
    for _ in range(60):
        # A few accounts drawn often (they run far ahead, past the room the table starts with), the rest rarely.
        idx = np.unique(np.concatenate([[1, accounts - 1], rng.choice(accounts, size=rng.integers(0, 4))]))
        got = draws.draw(idx.astype(np.int64))
        assert np.array_equal(got, expected[idx, drawn[idx]])
        drawn[idx] += 1
    assert drawn.max() > 2 * block * 4  # beyond the four blocks of room the table starts with
    # Chunks no drawn account reached past block 0 were never made past it.
    reached = np.zeros(draws._chunks, dtype=np.int64)
    np.maximum.at(reached, np.arange(accounts) // 4, -(-drawn // block))
    assert np.array_equal(draws._chunk_blocks, np.maximum(reached, 1))


def test_one_account_at_a_time_reads_the_whole_blocks_rows_in_any_order():
    width, block, accounts = 4, 4, 23
    draws = SmallChunksOneAtATime(SEED, accounts, width, block=block)
    expected = whole_rows(draws, 6, accounts, width)
    drawn = [0] * accounts
    for i in [22, 5, 5, 5, 0, 22, 13] * 7 + [7]:
        got = draws.draw(i)
        assert list(got) == expected[i, drawn[i]].tolist()
        drawn[i] += 1
    # Only the chunks of accounts that drew were made.
    assert [j for j, part in enumerate(draws._made[0]) if part is not None] == [0, 1, 3, 5]
    assert sum(part is not None for part in draws._made[1]) == 4  # 22, 5, 0 and 13 went past block 0; 7 did not


def test_the_default_chunks_hold_the_default_blocks():
    """The shipped sizes (64-account chunks, 16-event blocks) against the whole blocks, across a chunk edge."""
    accounts, width = 200, 2
    one, many = AccountUniforms(SEED, accounts, width), AccountUniformArrays(SEED, accounts, width)
    expected = whole_rows(one, 3, accounts, width)
    for k in range(40):
        assert list(one.draw(130)) == expected[130, k].tolist()
        idx = np.array([63, 64, 199] if k % 2 else [64, 130], dtype=np.int64)
        got = many.draw(idx)
        counts = many._events[idx] - 1
        assert np.array_equal(got, expected[idx, counts])
