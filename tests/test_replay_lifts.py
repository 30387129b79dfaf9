"""A replayed contact log lifts the borrowers as the engine's own contacts did: the same contacts, in the same
7-day fatigue window, give the same lift to the same account on the same day.

The backtest reads the lifts a lender's contacts gave through the replay (:mod:`sim.engine.replay`); a replay that
counted fatigue differently from the engine (messages never leaving the 7-day window, a callback counted as
pressure, a lift read before the day's other contacts were counted) made every replayed SMS worth two thirds of
the history's, and the card backtest collect a fifth too little late in the window.
"""

from __future__ import annotations

import numpy as np
import pytest

from sim.domain import ACTIVE, Channel
from sim.engine import Engine
from sim.engine.replay import LoggedContacts
from sim.portfolio import build_portfolio
from sim.scenario import load_scenario
from sim.streams import RandomStreams

from simhelpers import benchmark_module

SCENARIOS = __import__("pathlib").Path(__file__).resolve().parents[1] / "scenarios"
_recovery = benchmark_module("calibration_recovery")


def _every_channel():
    """The theory world's ladder (SMS, e-mail, calls, letters, visits, filings, callbacks), visits brought forward
    so that a short run has them, every channel lifting; handle times fixed (the log has no call lengths, so the
    replay ends a contact after its mean: with fixed times that is when the engine's ended)."""
    return load_scenario(SCENARIOS / "hawkes_baseline.toml").with_overrides({
        "simulation.accounts": 1500, "simulation.days": 35,
        "behavior.lift.letter": 0.002, "behavior.lift.call_attempt": 0.001,
        "strategy.steps.4.from_dpd": 30, "strategy.steps.4.min_balance": 0, "strategy.steps.4.after_failed": 0,
        **{f"teams.{team}.handle_distribution": "fixed" for team in ("callers", "inbound", "field")}})


def _rules_by_account(tmp_path):
    """A book under ``[contact]``: each message at its send time in the consumer's own time zone."""
    path = _recovery.write_scenario(tmp_path, 1500, 30, contacts=True)
    return load_scenario(path).with_overrides({"teams.callers.handle_distribution": "fixed"})


class _Evenings:
    """Before each evening: the lift each account is about to receive, its status during the day, and its
    contacts of the last 7 days (today's included)."""

    def __init__(self, engine: Engine):
        self.lift, self.status, self.recent = [], [], []
        book, counters = engine.book, engine.counters
        evening = book.evening

        def record(day: int) -> None:
            today = np.zeros(book.n, dtype=np.int64)
            for i, n in counters.today_contacts.items():
                today[i] = n
            self.lift.append(book.pending_lift.copy())
            self.status.append(book.status.copy())
            self.recent.append(counters.contacts_7d.astype(np.int64) + today)
            evening(day)

        book.evening = record


def _run_then_replay(scenario):
    portfolio = build_portfolio(scenario, RandomStreams(3)["portfolio"])
    engine = Engine(scenario, portfolio, RandomStreams(3), record_contacts=True)
    original = _Evenings(engine)
    engine.run()
    log = engine.outcome().log.build(portfolio.account_id, [], scenario.simulation.start_date)
    rows = np.searchsorted(portfolio.account_id, log.account)
    logged = LoggedContacts(row=rows, minute=log.minute, channel=log.channel, outcome=log.outcome,
                            line=np.arange(len(log)) + 2)
    replay = Engine(scenario, portfolio, RandomStreams(4), record_contacts=True, replay=logged)
    replayed = _Evenings(replay)
    replay.run()
    return logged, original, replayed


def _same_lifts(logged, original, replayed, channels):
    days = len(original.lift)
    per_channel = logged.per_day(days).sum(axis=0)
    for channel in channels:
        assert per_channel[channel] > 0, Channel(channel).label
    # The same contacts in the same 7-day window, for every account on every day (whoever paid or not).
    assert np.array_equal(np.array(original.recent), np.array(replayed.recent))
    assert max(r.max() for r in original.recent) >= 4  # fatigue has something to damp
    # And so the same lift, for every account open in both runs (a conversation lifts an open account only).
    compared = 0
    for day in range(days):
        both = (original.status[day] == ACTIVE) & (replayed.status[day] == ACTIVE)
        np.testing.assert_allclose(replayed.lift[day][both], original.lift[day][both], rtol=1e-12, atol=0,
                                   err_msg=f"day {day}")
        compared += int(np.count_nonzero(original.lift[day][both]))
    assert compared > 1000


def test_a_replayed_log_lifts_each_account_as_the_engines_contacts_did():
    logged, original, replayed = _run_then_replay(_every_channel())
    _same_lifts(logged, original, replayed, [int(c) for c in Channel])


def test_so_does_a_log_of_messages_sent_in_each_consumers_time_zone(tmp_path):
    logged, original, replayed = _run_then_replay(_rules_by_account(tmp_path))
    _same_lifts(logged, original, replayed, [Channel.SMS, Channel.EMAIL, Channel.CALL])


def test_a_replay_from_day_k_starts_with_the_logs_last_week_in_its_fatigue_window():
    """A backtest replays the log from day K on a book that has been contacted before: the week before K still
    damps the first week's lifts (without it every account would start the held-out days fresh)."""
    scenario = _every_channel()
    logged, original, _ = _run_then_replay(scenario)
    k, day = 14, 1440
    keep = logged.minute >= (k - 7) * day
    later = LoggedContacts(row=logged.row[keep], minute=logged.minute[keep] - k * day, channel=logged.channel[keep],
                           outcome=logged.outcome[keep], line=logged.line[keep])
    portfolio = build_portfolio(scenario, RandomStreams(3)["portfolio"])
    rest = scenario.with_overrides({"simulation.days": 35 - k})
    replay = Engine(rest, portfolio, RandomStreams(5), record_contacts=True, replay=later)
    replayed = _Evenings(replay)
    replay.run()
    assert np.array_equal(replay.tally.contacts[:35 - k], logged.per_day(35)[k:])  # the week before is not replayed
    assert np.array_equal(np.array(replayed.recent), np.array(original.recent[k:]))
    assert replayed.recent[0].sum() > 2 * (later.minute // day == 0).sum()  # the carried week is most of day K's


def test_the_strategy_that_takes_an_account_over_keeps_the_lenders_cadence_and_the_log_stops():
    """From its handover day the strategy works an account (the lender's account closed): the log's later rows
    for it are another episode's and are not replayed, and each step waits its ``every_days`` from the lender's
    last contact on its channel instead of starting again."""
    scenario = _every_channel()
    logged, _, _ = _run_then_replay(scenario)
    portfolio = build_portfolio(scenario, RandomStreams(3)["portfolio"])
    handover = np.full(len(portfolio), 10)
    taken = LoggedContacts(row=logged.row, minute=logged.minute, channel=logged.channel, outcome=logged.outcome,
                           line=logged.line, handover=handover)
    engine = Engine(scenario, portfolio, RandomStreams(6), record_contacts=True, replay=taken)
    engine.run()
    log = engine.outcome().log.build(portfolio.account_id, [], scenario.simulation.start_date)
    day = (log.minute // 1440).astype(np.int64)
    assert (day >= 10).sum() > 1000
    for channel, every in ((Channel.SMS, 5), (Channel.EMAIL, 7), (Channel.CALL, 2)):
        mine = log.channel == channel
        pairs = np.unique(np.c_[log.account[mine], day[mine]], axis=0)  # an account's days with the channel
        same = pairs[1:, 0] == pairs[:-1, 0]
        gaps = np.diff(pairs[:, 1])[same]
        assert gaps.size > 100 and gaps.min() >= every, Channel(channel).label


@pytest.mark.parametrize("idx", [[], [4], [3, 1, 3, 2, 3, 1], [5, 6, 7]])
def test_a_batch_with_an_account_twice_is_sent_as_batches_of_distinct_accounts(idx):
    from sim.engine.replay import _rounds

    rounds = _rounds(np.array(idx, dtype=np.int64))
    assert sorted(np.concatenate(rounds).tolist()) == sorted(idx)
    assert all(np.unique(r).size == r.size for r in rounds)
    assert len(rounds) == max([idx.count(i) for i in idx], default=1)
