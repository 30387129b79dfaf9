"""Exact event sequences of the engine on tiny books, checked minute by minute."""

from __future__ import annotations

import numpy as np

from sim import simulate
from sim.portfolio import Portfolio

from simhelpers import QUIET_BOOK, scenario


def tiny_book(balances, dpd=10):
    n = len(balances)
    return Portfolio(
        account_id=np.arange(100, 100 + n, dtype=np.int64),
        balance=np.array(balances, dtype=float),
        past_due=np.array(balances, dtype=float) * 0.03,
        days_past_due=np.full(n, dpd, dtype=np.int32),
        segment=np.zeros(n, dtype=np.int16),
        phone_known=np.ones(n, dtype=bool),
        email_known=np.ones(n, dtype=bool),
        segment_names=("low", "medium", "high"),
    )


def call_scenario(agents=1, attempts=1, redial=30, shift="09:00-10:00", right_party=0.0, days=1, preset="us_reg_f"):
    return scenario({
        "simulation": {"days": days, "accounts": 3, "start_date": "2026-01-05"},  # a Monday
        "behavior": {"right_party_by_hour": [right_party] * 24, "wrong_party_rate": 0.0},
        "strategy": {"priority": "balance", "redial_minutes": redial,
                     "steps": [{"channel": "call", "from_dpd": 1, "to_dpd": 170, "every_days": 1,
                                "attempts_per_day": attempts}]},
        "teams": {"callers": {"agents": agents, "shifts": [shift], "handle_distribution": "fixed", "inbound": False,
                              "handle_minutes": {"no_answer": 2.0, "wrong_party": 3.0, "right_party": 10.0}}},
        "compliance": {"preset": preset},
    }, base=QUIET_BOOK)


def rows(result):
    log = result.contact_log
    return list(zip(log.account.tolist(), log.timestamps(), log.channel_names().tolist(),
                    log.outcome_names().tolist(), [log.agent_names[a] if a >= 0 else "" for a in log.agent.tolist()], strict=True))


def test_one_agent_calls_the_list_in_priority_order():
    result = simulate(call_scenario(), 1, portfolio=tiny_book([500, 3000, 1200]))
    assert rows(result) == [
        (101, "2026-01-05T09:00:00", "call", "no_answer", "callers-1"),
        (102, "2026-01-05T09:02:00", "call", "no_answer", "callers-1"),
        (100, "2026-01-05T09:04:00", "call", "no_answer", "callers-1"),
    ]
    assert result.kpis["agent_utilization"] == 6 / 60


def test_redials_come_back_after_the_redial_gap():
    result = simulate(call_scenario(attempts=2, redial=30), 1, portfolio=tiny_book([500, 3000, 1200]))
    times = [(acc, stamp[11:16]) for acc, stamp, *_ in rows(result)]
    # First pass at 09:00, 09:02, 09:04; each no-answer is ready again 30 minutes
    # after its call ended (09:32, 09:34, 09:36).
    assert times == [(101, "09:00"), (102, "09:02"), (100, "09:04"),
                     (101, "09:32"), (102, "09:34"), (100, "09:36")]


def test_two_agents_share_the_list_and_the_redials():
    result = simulate(call_scenario(agents=2, attempts=2, redial=30), 1, portfolio=tiny_book([500, 3000, 1200]))
    got = [(acc, stamp[11:16], agent) for acc, stamp, _, _, agent in rows(result)]
    assert got == [
        (101, "09:00", "callers-1"), (102, "09:00", "callers-2"), (100, "09:02", "callers-1"),
        # callers-2 fell idle first (09:02) and watches the redial timer; at 09:32 it
        # takes the first redial and wakes its idle colleague for the second.
        (101, "09:32", "callers-2"), (102, "09:32", "callers-1"), (100, "09:34", "callers-2"),
    ]


def test_no_call_starts_after_the_shift_ends():
    result = simulate(call_scenario(shift="09:00-09:03"), 1, portfolio=tiny_book([500, 3000, 1200]))
    assert [stamp[11:16] for _, stamp, *_ in rows(result)] == ["09:00", "09:02"]


def test_calls_outside_the_contact_window_are_refused():
    # Reg F: no calls before 08:00; a 07:00 shift dials nobody until 08:00.
    result = simulate(call_scenario(shift="07:00-08:04"), 1, portfolio=tiny_book([500, 3000, 1200]))
    assert result.kpis["compliance_refusals"] == 3
    assert len(result.contact_log) == 0


def test_quiet_week_after_a_conversation_under_reg_f():
    # Everyone answers: a conversation on Monday blocks calls until the next Monday.
    result = simulate(call_scenario(right_party=1.0, days=8), 3, portfolio=tiny_book([500]))
    call_days = sorted({stamp[:10] for _, stamp, channel, *_ in rows(result) if channel == "call"})
    assert call_days == ["2026-01-05", "2026-01-12"]


def test_seven_attempts_in_seven_days_under_reg_f():
    # Nobody answers and the strategy asks for 3 dials a day: Reg F allows 7 in any 7 days.
    result = simulate(call_scenario(attempts=3, redial=10, days=7, shift="09:00-12:00"), 3, portfolio=tiny_book([500]))
    assert len(result.contact_log) == 7
    assert result.kpis["compliance_refusals"] > 0


def test_cn_caps_dial_attempts_per_day():
    result = simulate(call_scenario(attempts=10, redial=5, days=1, shift="09:00-12:00", preset="cn_2025"), 3,
                      portfolio=tiny_book([500]))
    assert len(result.contact_log) == 6
    assert result.kpis["compliance_refusals"] == 1  # the 7th dial is refused; no further redial follows


def test_weekend_quiet_days_send_nothing():
    s = scenario({
        "simulation": {"days": 7, "start_date": "2026-01-05"},
        "strategy": {"steps": [{"channel": "sms", "from_dpd": 1, "to_dpd": 170, "every_days": 1}]},
        "teams": {},
        "compliance": {"preset": "us_reg_f", "no_contact_on": ["weekend"]},
    }, base=QUIET_BOOK)
    result = simulate(s, 1, portfolio=tiny_book([100, 200]))
    days = sorted({stamp[:10] for _, stamp, *_ in rows(result)})
    assert days == ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-08", "2026-01-09"]
    assert result.kpis["compliance_refusals"] == 4  # two accounts × Saturday and Sunday


def test_holidays_come_from_the_holidays_package():
    s = scenario({
        "simulation": {"days": 3, "start_date": "2026-01-01"},  # New Year's Day is a holiday in the US
        "strategy": {"steps": [{"channel": "email", "from_dpd": 1, "to_dpd": 170, "every_days": 1}]},
        "teams": {},
        "compliance": {"preset": "none", "no_contact_on": ["holiday"], "holiday_country": "US"},
    }, base=QUIET_BOOK)
    result = simulate(s, 1, portfolio=tiny_book([100]))
    assert [stamp[:10] for _, stamp, *_ in rows(result)] == ["2026-01-02", "2026-01-03"]


def test_cadence_every_three_days():
    s = scenario({
        "simulation": {"days": 10},
        "strategy": {"steps": [{"channel": "sms", "from_dpd": 1, "to_dpd": 170, "every_days": 3, "send_time": "11:30"}]},
        "teams": {},
        "compliance": {"preset": "none"},
    }, base=QUIET_BOOK)
    result = simulate(s, 1, portfolio=tiny_book([100]))
    assert [stamp for _, stamp, *_ in rows(result)] == [
        "2026-01-05T11:30:00", "2026-01-08T11:30:00", "2026-01-11T11:30:00", "2026-01-14T11:30:00"]


def test_escalation_after_failed_attempts():
    # A letter goes out only after 3 calls without reaching the borrower.
    s = scenario({
        "simulation": {"days": 5},
        "strategy": {"steps": [
            {"channel": "call", "from_dpd": 1, "to_dpd": 170, "every_days": 1},
            {"channel": "letter", "from_dpd": 1, "to_dpd": 170, "every_days": 30, "after_failed": 3},
        ]},
        "teams": {"callers": {"agents": 1, "shifts": ["09:00-10:00"], "handle_distribution": "fixed", "inbound": False}},
        "behavior": {"right_party_by_hour": [0.0] * 24, "wrong_party_rate": 0.0},
        "compliance": {"preset": "none"},
    }, base=QUIET_BOOK)
    result = simulate(s, 1, portfolio=tiny_book([100]))
    got = [(stamp[:16], channel) for _, stamp, channel, *_ in rows(result)]
    assert got == [("2026-01-05T09:00", "call"), ("2026-01-06T09:00", "call"), ("2026-01-07T09:00", "call"),
                   ("2026-01-08T09:00", "call"), ("2026-01-08T10:00", "letter"), ("2026-01-09T09:00", "call")]


def test_charge_off_exactly_at_the_configured_days_past_due():
    s = scenario({"simulation": {"days": 10}, "portfolio": {"charge_off_dpd": 180},
                  "strategy": {"steps": []}, "teams": {}}, base=QUIET_BOOK)
    result = simulate(s, 1, portfolio=tiny_book([100, 250], dpd=175))
    written = result.series["written_off"]
    # 175 days past due at the start; the 5th day's ageing reaches 180.
    assert written[4] == 350.0 and written.sum() == 350.0
    assert result.kpis["charge_off_rate"] == 1.0


def test_balance_band_of_a_step():
    # min_balance is inclusive, max_balance exclusive: [200, 1000) gets the SMS.
    s = scenario({
        "simulation": {"days": 1},
        "strategy": {"steps": [{"channel": "sms", "from_dpd": 1, "to_dpd": 170, "min_balance": 200,
                                "max_balance": 1000}]},
        "teams": {},
        "compliance": {"preset": "none"},
    }, base=QUIET_BOOK)
    result = simulate(s, 1, portfolio=tiny_book([199.99, 200, 999.99, 1000]))
    assert sorted(acc for acc, *_ in rows(result)) == [101, 102]


def test_a_step_acts_only_on_the_accounts_its_mask_gives_it():
    book = tiny_book([500, 3000, 1200])
    masked = simulate(call_scenario(), 1, portfolio=book, step_accounts=[np.array([True, False, True])])
    assert rows(masked) == [
        (102, "2026-01-05T09:00:00", "call", "no_answer", "callers-1"),
        (100, "2026-01-05T09:02:00", "call", "no_answer", "callers-1"),
    ]


def test_a_step_mask_must_fit_the_ladder_and_the_book():
    import pytest

    book = tiny_book([500, 3000, 1200])
    with pytest.raises(ValueError, match="2 entries for 1 ladder steps"):
        simulate(call_scenario(), 1, portfolio=book, step_accounts=[None, None])
    with pytest.raises(ValueError, match="shape"):
        simulate(call_scenario(), 1, portfolio=book, step_accounts=[np.ones(2, dtype=bool)])


def test_the_ledger_puts_each_call_minute_and_the_day_money_on_its_account():
    sc = call_scenario(attempts=2, right_party=0.5, days=8)
    result = simulate(sc, 3, portfolio=tiny_book([500, 3000, 1200]), ledger=True)
    ledger, log = result.ledger, result.contact_log
    for position, account in enumerate((100, 101, 102)):
        mine = log.account == account
        assert ledger.minutes["callers"][:, position].sum() == log.duration[mine].sum()
        assert ledger.work["callers"][:, position].sum() == mine.sum()
    assert ledger.minutes["callers"].sum() == result.series["agent_busy_minutes"].sum()
    assert ledger.collected.sum() == result.kpis["collected"]
    assert ledger.complaints.sum() == result.kpis["complaints"]
    assert ledger.balance_end.sum() == result.kpis["outstanding"]
