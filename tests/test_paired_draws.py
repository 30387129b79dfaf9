"""Per-account draws (``simulate(..., paired_draws=True)``): numbered by account, deterministic, opt-in.

The default run shares each random stream across the book in the order
events happen; the paired mode gives each account its own numbered
sequence per purpose, so that two runs of one seed pair account by account.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_determinism import run_digest, tiny

from sim.portfolio import build_portfolio
from sim.scenario import load_scenario
from sim.simulation import simulate
from sim.streams import AccountUniformArrays, AccountUniforms, RandomStreams

from simhelpers import SCENARIOS

SEED = np.random.SeedSequence(5, spawn_key=(1_000,))


def test_an_accounts_kth_draw_does_not_depend_on_other_accounts_or_the_order_of_events():
    alone, crowded = AccountUniforms(SEED, 6, 2, block=4), AccountUniforms(SEED, 6, 2, block=4)
    mine = [alone.draw(3) for _ in range(10)]  # past two blocks
    seen = []
    for k in range(10):
        for other in (0, 5, 1) * (k % 3):
            crowded.draw(other)
        seen.append(crowded.draw(3))
    assert seen == mine
    # The vectorised form numbers the same way, whatever accounts come along.
    a, b = AccountUniformArrays(SEED, 6, 1, block=4), AccountUniformArrays(SEED, 6, 1, block=4)
    first = np.concatenate([a.draw(np.array([3]))[:, 0] for _ in range(9)])
    second = []
    for k in range(9):
        idx = np.array([0, 3, 4]) if k % 2 else np.array([3, 5])
        second.append(b.draw(idx)[idx == 3, 0])
    assert np.array_equal(first, np.concatenate(second))
    assert len(set(first.tolist())) == 9


def test_an_accounts_draws_one_at_a_time_are_its_rows_of_the_blocks_in_order():
    """Account i's k-th event (``AccountUniforms.draw``) is the next ``width`` numbers of its row of block
    k // block, the same doubles the vectorised form reads: across blocks, for accounts met late or never."""
    width, block, accounts = 2, 4, 5
    draws = AccountUniforms(SEED, accounts, width, block=block)
    blocks = [np.random.Generator(np.random.Philox(np.random.SeedSequence(SEED.entropy, spawn_key=(*SEED.spawn_key, b))))
              .random((accounts, block * width)) for b in range(3)]
    for i in (4, 1):  # account 4 first; 0, 2 and 3 never draw
        got = [draws.draw(i) for _ in range(10)]
        assert all(type(u) is float for event in got for u in event)
        expected = np.concatenate([b[i] for b in blocks])[: 10 * width].reshape(10, width)
        assert np.array_equal(np.array([list(event) for event in got]), expected)
        u, v = got[0]  # unpacked as the agents' loop does
        assert (u, v) == tuple(expected[0])


def test_a_batch_of_accounts_in_different_blocks_draws_each_ones_next_event_of_its_own_row():
    """The vectorised form (the deliveries' draws): one batch mixes accounts in their first block with others
    several blocks on, past the room the draws start with; each gets its own next ``width`` numbers."""
    width, block, accounts = 2, 2, 5
    draws = AccountUniformArrays(SEED, accounts, width, block=block)
    blocks = [np.random.Generator(np.random.Philox(np.random.SeedSequence(SEED.entropy, spawn_key=(*SEED.spawn_key, b))))
              .random((accounts, block * width)) for b in range(8)]
    rows = np.concatenate(blocks, axis=1).reshape(accounts, -1, width)  # account i's k-th event: rows[i, k]
    drawn = [0] * accounts
    for idx in ([4], [4, 1], [4], [4], [4, 2], [4], [4], [4], [4, 1], [0, 1, 2, 3, 4], [], [3, 4], [1, 4]):
        idx = np.array(idx, dtype=np.int64)
        got = draws.draw(idx)
        assert got.shape == (idx.size, width)
        assert np.array_equal(got, np.array([rows[i, drawn[i]] for i in idx.tolist()]).reshape(-1, width))
        for i in idx.tolist():
            drawn[i] += 1
    assert drawn[4] == 12  # six blocks in: the draws' room grew on the way


@pytest.mark.parametrize("name", ["baseline", "cn_2025", "early_field"])
def test_a_paired_run_is_deterministic_and_draws_other_numbers_than_the_default(name):
    scenario = tiny(name)
    paired = simulate(scenario, 17, paired_draws=True)
    assert run_digest(simulate(scenario, 17, paired_draws=True)) == run_digest(paired)
    assert run_digest(simulate(scenario, np.random.SeedSequence(17), paired_draws=True)) == run_digest(paired)
    assert run_digest(paired) != run_digest(simulate(scenario, 17))
    assert run_digest(simulate(scenario, 18, paired_draws=True)) != run_digest(paired)


def roomy_baseline(extra_steps=(), name="hawkes_baseline"):
    """hawkes_baseline (or card_baseline) on a small book, agents to spare and one right-party rate all day.

    With capacity to spare and the same rate every hour, an account's outcomes
    depend only on its own draws and treatment: when in the day an agent
    reaches it (its place in a list other accounts shorten or lengthen) no
    longer matters.
    """
    scenario = load_scenario(SCENARIOS / f"{name}.toml", {
        "simulation.accounts": 400, "simulation.days": 60, "teams.callers.agents": 60, "teams.field.agents": 60,
        "behavior.right_party_by_hour": [0.2] * 24})
    steps = [*scenario.strategy.steps, *extra_steps]
    return scenario.model_copy(update={"strategy": scenario.strategy.model_copy(update={"steps": steps})})


# Closed books with a field team (the account-by-account comparison needs the same rows in both runs).
@pytest.mark.parametrize("name", ["hawkes_baseline", "card_baseline"])
def test_an_account_two_strategies_treat_alike_fares_the_same_with_paired_draws(name):
    # card_baseline: the card model's payment choice, kept promises and re-defaults draw per account too.
    plain = roomy_baseline(name=name)
    sms, call = (next(s for s in plain.strategy.steps if s.channel == c) for c in ("sms", "call"))
    # The same ladder, plus texts and daily calls for the high-risk segment only.
    more = roomy_baseline([sms.model_copy(update={"every_days": 2, "segments": ["high"]}),
                           call.model_copy(update={"every_days": 1, "from_dpd": 1, "segments": ["high"]})], name)
    book = build_portfolio(plain, RandomStreams(3)["portfolio"])
    alike = book.segment != book.segment_names.index("high")

    def outcomes(scenario, paired):
        ledger = simulate(scenario, 3, portfolio=book, ledger=True, paired_draws=paired).ledger
        return np.stack([ledger.collected, ledger.total_spend, ledger.complaints, ledger.balance_end,
                         ledger.state_end, ledger.minutes["callers"].sum(axis=0)])

    a, b = outcomes(plain, True), outcomes(more, True)
    assert np.array_equal(a[:, alike], b[:, alike])
    assert not np.array_equal(a[:, ~alike], b[:, ~alike])  # the extra steps did act on the others
    # With the shared streams the extra calls re-deal everyone's call outcomes.
    a, b = outcomes(plain, False), outcomes(more, False)
    assert not np.array_equal(a[:, alike], b[:, alike])
