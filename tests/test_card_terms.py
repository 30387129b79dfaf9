"""Card terms, written once in ``sim.card_terms``: the interest conventions and the minimum-due rule."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

from sim.card_terms import cycle_rate, default_minimum, late_fee_due, minimum_due, to_cents


def rule(**terms):
    return SimpleNamespace(**{"percent": 0.01, "plus_interest": True, "plus_fees": True, "floor": 25.0,
                              "fixed": None, **terms})


def test_monthly_is_apr_over_twelve_whatever_the_cycle():
    assert cycle_rate("monthly", 0.24, 31) == cycle_rate("monthly", 0.24, 28) == Fraction(2, 100)


def test_daily_is_apr_over_365_times_the_actual_days():
    assert cycle_rate("daily", 0.365, 31) == Fraction(31, 1000)


def test_a_cn_card_charges_its_daily_rate_and_a_penalty_apr_daily():
    assert cycle_rate("cn", 0.1825, 30, cn_daily_rate=0.0005) == Fraction(15, 1000)
    assert cycle_rate("cn", 0.365, 30) == Fraction(30, 1000)


def test_the_minimum_is_percent_plus_interest_and_fees_with_a_floor_never_more_than_owed():
    # 1 % of 5,000.00 = 50.00, + 100.00 interest + 10.00 fees.
    assert minimum_due(rule(), 500_000, 10_000, 1_000, 511_000) == 16_000
    assert minimum_due(rule(), 100_000, 0, 0, 100_000) == to_cents(25)  # the floor
    assert minimum_due(rule(), 1_000, 0, 0, 1_000) == 1_000  # never more than owed
    assert minimum_due(rule(fixed=120.0), 500_000, 10_000, 0, 510_000) == 12_000
    assert minimum_due(rule(plus_interest=False, floor=0.0), 500_000, 10_000, 0, 510_000) == 5_100


def test_defaults_and_the_late_fee_cap():
    assert default_minimum("cn") == {"percent": 0.10, "floor": 10.0}
    assert default_minimum("monthly") == {"percent": 0.01, "floor": 25.0}
    assert late_fee_due(4_000, 2_500) == 2_500
