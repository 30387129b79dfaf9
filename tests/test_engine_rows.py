"""The engine's day on the live rows gives what the whole-book day gave: same payers, amounts and intensities."""

from __future__ import annotations

import numpy as np
import pytest

import sim.engine.calls as calls
from sim.behavior import repayment_day
from sim.domain import ACTIVE
from sim.engine.rows import (
    distinct,
    distinct_first,
    kept,
    minutes_order,
    put_table_rows,
    stable_argsort,
    table_rows,
)
from sim.scenario import BehaviorSection, load_scenario
from sim.simulation import simulate

from simhelpers import SCENARIOS


@pytest.mark.parametrize("size", [0, 1, 2, 50, 5_000])
def test_distinct_rows_are_numpys_unique(size):
    rows = np.random.default_rng(size).integers(0, max(size // 3, 1), size)
    assert np.array_equal(distinct(rows), np.unique(rows))
    values, first = distinct_first(rows)
    want_values, want_first = np.unique(rows, return_index=True)
    assert np.array_equal(values, want_values)
    assert np.array_equal(first, want_first)  # the first occurrence, as np.unique gives it


@pytest.mark.parametrize("size", [0, 1, 7, 70_000])
def test_a_batchs_minutes_are_ordered_as_the_stable_sort_orders_them(size):
    rng = np.random.default_rng(size)
    # A batch's send minutes in the book's time: a few time zones' offsets, many equal keys, on day 100.
    minutes = 100 * 1440 + 600 - rng.choice([0, 60, 120, 180, 360], size)
    assert np.array_equal(minutes_order(minutes), np.argsort(minutes, kind="stable"))
    wide = rng.integers(0, 10**6, size)  # more than 16 bits apart: the 64-bit sort itself
    assert np.array_equal(minutes_order(wide), np.argsort(wide, kind="stable"))


def a_days_book(seed: int, n: int = 20_000):
    """A day's book of ``n`` accounts: floors, intensities above them, balances, and which 30 % can pay."""
    rng = np.random.default_rng(seed)
    floor = rng.uniform(0.001, 0.05, n)
    intensity = floor + rng.exponential(0.3, n)
    balance = rng.uniform(100, 5_000, n)
    payable = rng.random(n) < 0.3
    return n, floor, intensity, balance, payable


@pytest.mark.parametrize("model", ["hawkes", "cgw"])
def test_repayment_day_on_live_rows_matches_the_whole_book(model):
    """An account that cannot pay is left out of the work, not out of the draws: the stream, the payers,
    what they pay and the payable accounts' intensity are the same bit for bit."""
    behavior = BehaviorSection(model=model)
    n, floor, intensity, balance, payable = a_days_book(5)
    whole = repayment_day(intensity.copy(), floor, balance, behavior, np.random.default_rng(9), payable,
                          followup_rng=np.random.default_rng(10))
    rows = np.flatnonzero(payable)
    live_intensity = intensity.copy()
    stream = np.random.default_rng(9)
    live = repayment_day(live_intensity, floor, balance, behavior, stream, followup_rng=np.random.default_rng(10),
                         rows=rows)
    assert whole.payers.size > 100
    assert np.array_equal(live.payers, whole.payers)
    assert np.array_equal(live.paid, whole.paid)
    assert np.array_equal(live.payments, whole.payments)
    assert np.array_equal(live.intensity_end[rows], whole.intensity_end[rows])
    assert live.intensity_end is live_intensity  # updated in place
    assert np.array_equal(live_intensity[~payable], intensity[~payable])  # the others are not touched
    # The stream is where the whole-book day left it: the next day's draws are the same.
    after = np.random.default_rng(9)
    after.standard_exponential(n)
    after.random(n)
    assert stream.random() == after.random()


def test_repayment_day_with_the_rows_own_draws_matches_the_whole_book():
    """Given the live rows' own draws (the engine's, numbered by account and day), the day is the one the
    whole book would have had with those numbers at those rows."""
    behavior = BehaviorSection(model="hawkes")
    n, floor, intensity, balance, payable = a_days_book(6)
    whole = repayment_day(intensity.copy(), floor, balance, behavior, np.random.default_rng(9), payable,
                          followup_rng=np.random.default_rng(10))
    same = np.random.default_rng(9)
    targets, shares = same.standard_exponential(n), same.random(n)
    uniforms = -np.expm1(-targets)  # the uniforms these exponentials are the inverse of: E = −log(1 − U)
    rows = np.flatnonzero(payable)
    live = repayment_day(intensity.copy(), floor, balance, behavior, None, followup_rng=np.random.default_rng(10),
                         rows=rows, draws=(uniforms[rows], shares[rows]))
    assert whole.payers.size > 100
    assert np.array_equal(live.payers, whole.payers)
    assert np.array_equal(live.paid, whole.paid)
    # The exponentials come back from their uniforms to the last bit or two: so do the times and intensities.
    assert np.allclose(live.intensity_end[rows], whole.intensity_end[rows], rtol=1e-12, atol=0)


def test_an_accounts_daily_draws_do_not_depend_on_which_other_rows_are_drawn():
    """Common random numbers by account and day: two strategies that close different accounts still give
    every account they both keep the same repayment draws, and the draws are uniform and independent."""
    from sim.streams import RowDayUniforms

    draws = RowDayUniforms(np.random.default_rng(3), 100_000)  # two per row and day
    every = draws.draw(np.arange(100_000), 7)
    some = np.sort(np.random.default_rng(4).choice(100_000, 30_000, replace=False))
    assert np.array_equal(draws.draw(some, 7), every[:, some])
    again = RowDayUniforms(np.random.default_rng(3), 100_000).draw(some, 7)
    assert np.array_equal(again, every[:, some])  # same seed, same numbers
    assert not np.array_equal(draws.draw(some, 8), every[:, some])  # another day, other numbers
    assert every.shape == (2, 100_000) and every.min() >= 0.0 and every.max() < 1.0
    # Uniform: mean 1/2 and variance 1/12 within 5 standard errors; the two draws and the days uncorrelated.
    assert np.allclose(every.mean(axis=1), 0.5, atol=5 * (1 / 12) ** 0.5 / 100_000**0.5)
    assert np.allclose(every.var(axis=1), 1 / 12, atol=5 * 0.0745 / 100_000**0.5)  # sd of U²'s mean
    next_day = draws.draw(np.arange(100_000), 8)
    for a, b in ((every[0], every[1]), (every[0], next_day[0]), (every[0][:-1], every[0][1:])):
        assert abs(np.corrcoef(a, b)[0, 1]) < 5 / 100_000**0.5


@pytest.mark.parametrize("name", ["baseline", "call_heavy"])
def test_the_call_list_read_a_chunk_at_a_time_calls_the_same_accounts(name, monkeypatch):
    """The agents' list is made Python lists (and its rules per position read) as they get to it: with chunks
    of one position the run dials, reaches and collects exactly what the whole list read at once gives."""
    scenario = load_scenario(SCENARIOS / f"{name}.toml", {"simulation.accounts": 1_500, "simulation.days": 20,
                                                          "simulation.warmup_days": 10})
    monkeypatch.setattr(calls, "LIST_CHUNK", 10**9)
    whole = simulate(scenario, 5)
    monkeypatch.setattr(calls, "LIST_CHUNK", 1)
    chunked = simulate(scenario, 5)
    assert whole.kpis["contacts"]["call"] > 500
    assert chunked.kpis == whole.kpis
    for name in whole.series:
        assert np.array_equal(chunked.series[name], whole.series[name], equal_nan=True), name
    for column in ("account", "minute", "channel", "outcome", "agent", "duration"):
        assert np.array_equal(getattr(chunked.contact_log, column), getattr(whole.contact_log, column)), column


@pytest.mark.parametrize("size", [1_000, 20_000])
@pytest.mark.parametrize("share", [0.0, 0.5, 0.97, 0.99, 0.9995, 1.0])
def test_kept_rows_are_the_boolean_index(share, size):
    """``kept(rows, mask)`` is ``rows[mask]`` (rows or a table's rows) whichever way it takes (compress, boolean
    indexing, a copy), never the caller's array itself, and a mask of another length is an error rather than a
    quiet cut; ``table_rows(table, rows)`` is ``table[rows]``."""
    rng = np.random.default_rng(3)
    rows = np.sort(rng.choice(1_000_000, 20_000, replace=False))[:size]
    mask = rng.random(rows.size) < share
    out = kept(rows, mask)
    assert np.array_equal(out, rows[mask]) and out.dtype == rows.dtype and not np.shares_memory(out, rows)
    table = rng.random((rows.size, 6))
    assert np.array_equal(kept(table, mask), table[mask])
    book_table = rng.random((1_000_000, 6))
    assert np.array_equal(table_rows(book_table, rows), book_table[rows])
    with pytest.raises(ValueError, match=f"a mask of {size - 1} rows for {size}"):
        kept(rows, mask[1:])


@pytest.mark.parametrize("count", [0, 1, 5_000])
def test_rows_written_whole_are_the_assignment(count):
    """``put_table_rows(table, rows, values)`` leaves the table ``table[rows] = values`` leaves, for a row each
    and for one value for all (the statements' past due by age, cleared on a cure)."""
    rng = np.random.default_rng(5)
    table = rng.random((50_000, 6))
    rows = np.sort(rng.choice(table.shape[0], count, replace=False))
    values = rng.random((count, 6))
    for value in (values, 0.0):
        expected, got = table.copy(), table.copy()
        expected[rows] = value
        put_table_rows(got, rows, value)
        assert np.array_equal(got.view(np.int64), expected.view(np.int64))  # bit for bit


def test_the_call_order_is_the_stable_order_with_or_without_ties():
    """Highest balance first, equal balances by position: the fast sort is used only when it cannot differ."""
    from sim.engine import Engine
    from sim.portfolio import build_portfolio
    from sim.streams import RandomStreams

    scenario = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 3_000})
    streams = RandomStreams(4)
    book = Engine(scenario, build_portfolio(scenario, streams["portfolio"]), streams, record_contacts=False).book
    idx = np.flatnonzero(book.balance > 0)
    assert idx.size > 1_000

    def stable() -> np.ndarray:
        return np.argsort(-book.balance[idx], kind="stable")

    assert np.array_equal(book.call_order(idx), stable())  # distinct balances
    book.balance[idx[::3]] = 2_500.0  # a third of the accounts tie
    assert np.array_equal(book.call_order(idx), stable())
    book.balance[idx[1::7]] = np.nan
    assert np.array_equal(book.call_order(idx), stable())


@pytest.mark.parametrize("case", ["distinct", "ties", "signed zeros", "nan", "one", "empty"])
def test_stable_argsort_is_numpys_stable_sort(case):
    rng = np.random.default_rng(8)
    key = -rng.lognormal(7.8, 0.9, 50_000)
    if case == "ties":
        key[rng.random(key.size) < 0.3] = -50_000.0  # clipped balances
        key[::11] = np.round(key[::11], -2)
    elif case == "signed zeros":
        key[::3] = 0.0
        key[1::3] = -0.0
    elif case == "nan":
        key[::13] = np.nan
    elif case == "one":
        key = key[:1]
    elif case == "empty":
        key = key[:0]
    assert np.array_equal(stable_argsort(key), np.argsort(key, kind="stable"))


def test_live_rows_and_7_day_counts_stay_those_a_scan_of_the_book_gives():
    """Every evening of an open card book (arrivals, cures, re-defaults, calls and messages): the live rows the
    day works on are exactly the active accounts, ascending, and each 7-day count is the sum of its ring, with
    the rows a day left the window cleared."""
    from sim.engine import Engine
    from sim.portfolio import build_portfolio
    from sim.streams import RandomStreams

    scenario = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 3_000, "simulation.days": 25,
                                                           "simulation.warmup_days": 20})
    streams = RandomStreams(4)
    engine = Engine(scenario, build_portfolio(scenario, streams["portfolio"]), streams, record_contacts=False)
    evening, checked = engine._end_of_day, []

    def checked_evening(day):
        evening(day)
        book, counters = engine.book, engine.counters
        assert np.array_equal(book.active_rows(), np.flatnonzero(book.status == ACTIVE)), day
        for ring, total in ((counters.attempt_ring, counters.attempts_7d),
                            (counters.contact_ring, counters.contacts_7d)):
            assert np.array_equal(ring.sum(axis=0), total), day
        checked.append(day)

    engine._end_of_day = checked_evening
    engine.run()
    assert len(checked) == 45
    assert engine.book.statements.redefaults > 0  # re-defaults went back into the live rows
    assert engine.counters.contacts_7d.sum() > 0


def test_the_bucket_entry_table_is_the_modulo_for_any_days_past_due():
    """The evening finds accounts entering a bucket (31, 61, … days past due) by a periodic table: the same mask
    as ``dpd % 30 == 1`` for every count, past the table's length and below zero included."""
    from sim.engine.book import ENTERS_BUCKET

    dpd = np.arange(-5_000, 20_000, dtype=np.int32)
    assert np.array_equal(np.take(ENTERS_BUCKET, dpd, mode="wrap"), dpd % 30 == 1)


def test_a_step_given_to_few_rows_is_narrowed_from_them_with_the_same_accounts(monkeypatch):
    """A step given to fewer than one row in four (a copy's step in a valuation's runs made together) is narrowed
    from its own rows (Ladder.static_rows), not from every workable row: the same run to the bit."""
    from test_determinism import run_digest

    import sim.engine.ladder as ladder

    world = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 400, "simulation.days": 30})
    data = world.content()
    data["contact"] = load_scenario(SCENARIOS / "baseline.toml").content()["contact"]  # rules by account too
    scenario = type(world).from_dict(data, source=world.source, base_dir=world.base_dir)
    made = []
    init = ladder.Ladder.__init__

    def spy(self, *args, **kwargs):
        init(self, *args, **kwargs)
        made.append(self)

    monkeypatch.setattr(ladder.Ladder, "__init__", spy)
    simulate(scenario, contact_log=False)
    rows = made[-1].book.n
    # Every other step given to a tenth of the rows, the rest to six in ten.
    masks = [np.random.default_rng(k).random(rows) < (0.1 if k % 2 == 0 else 0.6)
             for k in range(len(scenario.strategy.steps))]
    narrowed = simulate(scenario, step_accounts=masks)
    assert [r is not None for r in made[-1].static_rows] == [k % 2 == 0 for k in range(len(masks))]
    monkeypatch.setattr(ladder, "SPARSE", 10**9)  # every step from the workable rows in its window
    scanned = simulate(scenario, step_accounts=masks)
    assert all(r is None for r in made[-1].static_rows)
    assert run_digest(narrowed) == run_digest(scanned)
