"""Keyed paired draws: rows that are copies of one account draw that account's numbers, each at its own pace.

Groundwork for several treatments' sample runs made as one engine run (copies
of the sample, each under its own steps): a copy must draw what its account
would draw alone for the treatments to stay paired. With each row its own key
the numbers are the unkeyed ones, to the bit.
"""

from __future__ import annotations

import numpy as np

from sim.streams import AccountUniformArrays, AccountUniforms, RowDayUniforms

SEED = np.random.SeedSequence(7, spawn_key=(2, 1_003))


class SmallChunks(AccountUniformArrays):
    CHUNK = 4


def test_each_row_its_own_key_draws_the_unkeyed_numbers():
    n = 13
    for cls in (AccountUniforms, SmallChunks):
        plain, keyed = cls(SEED, n, 2, block=2), cls(SEED, n, 2, block=2, keys=np.arange(n))
        for k in range(9):
            if cls is AccountUniforms:
                for i in (0, 12, 5 + k % 3):
                    assert list(plain.draw(i)) == list(keyed.draw(i))
            else:
                idx = np.array(sorted({0, 12, 5 + k % 3}), dtype=np.int64)
                assert np.array_equal(plain.draw(idx), keyed.draw(idx))
    rng = np.random.default_rng(1)
    plain = RowDayUniforms(np.random.default_rng(3), n)
    keyed = RowDayUniforms(np.random.default_rng(3), n, keys=np.arange(n))
    rows = np.sort(rng.choice(n, 6, replace=False))
    assert np.array_equal(plain.draw(rows, 4), keyed.draw(rows, 4))


def test_copies_of_an_account_draw_its_numbers_each_at_its_own_pace():
    n, copies = 9, 3
    keys = np.tile(np.arange(n), copies)  # row c·n + i is copy c of account i
    alone = AccountUniforms(SEED, n, 1, block=2)
    many = AccountUniforms(SEED, n * copies, 1, block=2, keys=keys)
    mine = [alone.draw(4)[0] for _ in range(7)]
    # Copy 2 of account 4 draws its 7 events while copy 0 draws 3 and copy 1 none: each copy gets account 4's.
    got = []
    for k in range(7):
        if k < 3:
            many.draw(4)
        got.append(many.draw(2 * n + 4)[0])
    assert got == mine
    arrays_alone = SmallChunks(SEED, n, 2, block=2)
    arrays_many = SmallChunks(SEED, n * copies, 2, block=2, keys=keys)
    expected = np.stack([arrays_alone.draw(np.array([1, 8]))for _ in range(6)])
    for k in range(6):
        idx = np.array([1, 8, n + 1, 2 * n + 8], dtype=np.int64) if k % 2 else np.array([2 * n + 1, n + 8])
        out = arrays_many.draw(idx)
        for position, row in zip(idx.tolist(), out, strict=True):
            account, drawn = position % n, int(arrays_many._events[position]) - 1
            assert np.array_equal(row, expected[drawn, [1, 8].index(account)])
    days = RowDayUniforms(np.random.default_rng(5), n * copies, keys=keys)
    single = RowDayUniforms(np.random.default_rng(5), n)
    assert np.array_equal(days.draw(np.array([3, n + 3, 2 * n + 3]), 11),
                          np.repeat(single.draw(np.array([3]), 11), 3, axis=1))


def test_an_engine_run_with_each_row_its_own_key_is_the_paired_run_to_the_bit():
    """``Engine(draw_keys=arange(n))`` reads exactly what a paired run reads: the ledger the same, account by
    account (hawkes borrowers, and card borrowers with their statements' evening draws)."""
    from sim.engine import Engine
    from sim.portfolio import build_portfolio
    from sim.scenario import load_scenario
    from sim.streams import RandomStreams

    from simhelpers import SCENARIOS

    for name in ("hawkes_baseline", "card_baseline"):
        scenario = load_scenario(SCENARIOS / f"{name}.toml", {"simulation.accounts": 300, "simulation.days": 40,
                                                               "simulation.warmup_days": 0})
        portfolio = build_portfolio(scenario, RandomStreams(11)["portfolio"])
        runs = []
        for keys in (None, np.arange(len(portfolio))):
            engine = Engine(scenario, portfolio, RandomStreams(11), ledger=True, paired_draws=True, draw_keys=keys)
            engine.run()
            ledger = engine.outcome().ledger
            runs.append((ledger.collected.copy(), ledger.balance_end.copy(), ledger.total_spend.copy()))
        for plain, keyed in zip(*runs, strict=True):
            assert np.array_equal(plain, keyed)
        assert runs[0][0].sum() > 0
