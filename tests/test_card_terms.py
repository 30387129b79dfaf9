"""Card terms, written once in ``sim.card_terms``: the interest conventions and the minimum-due rule."""

from __future__ import annotations

from fractions import Fraction
from types import SimpleNamespace

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.card_terms import (
    cycle_rate,
    default_minimum,
    late_fee_due,
    late_fees_due,
    minimum_due,
    minimum_due_cents,
    to_cents,
)


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


# ----------------------------------------------------------------------------- many statements at once


@settings(max_examples=200, deadline=None)
@given(percent=st.sampled_from([0.01, 0.02, 0.025, 0.0275, 0.05, 0.1, 0.015, 0.333]),
       floor=st.sampled_from([0.0, 10.0, 25.0, 35.5]), plus_interest=st.booleans(), plus_fees=st.booleans(),
       fixed=st.sampled_from([None, None, 120.0]),
       rows=st.lists(st.tuples(st.integers(0, 10**11), st.integers(0, 10**7), st.integers(0, 10**5)),
                     min_size=1, max_size=30))
def test_the_array_minimum_is_the_scalar_rule_on_every_statement(percent, floor, plus_interest, plus_fees, fixed,
                                                                  rows):
    r = rule(percent=percent, floor=floor, plus_interest=plus_interest, plus_fees=plus_fees, fixed=fixed)
    balance, interest, fees = (np.array(column, dtype=np.int64) for column in zip(*rows, strict=True))
    owed = balance + interest + fees
    expected = [minimum_due(r, *map(int, row)) for row in zip(balance, interest, fees, owed, strict=True)]
    assert minimum_due_cents(r, balance, interest, fees, owed).tolist() == expected


def test_halfway_cents_round_up_in_the_array_rule_as_in_the_scalar_one():
    # 1 % of 250 cents is 2.5 cents: half up, 3 (a float product could land on 2.4999…).
    r = rule(floor=0.0)
    balance = np.array([250, 150, 1_050, 12_345_650], dtype=np.int64)
    got = minimum_due_cents(r, balance, np.zeros(4, np.int64), np.zeros(4, np.int64), balance)
    assert got.tolist() == [minimum_due(r, int(b), 0, 0, int(b)) for b in balance] == [3, 2, 11, 123_457]


def test_the_array_late_fee_is_capped_at_each_minimum():
    assert late_fees_due(4_000, np.array([2_500, 4_000, 9_000])).tolist() == [
        late_fee_due(4_000, m) for m in (2_500, 4_000, 9_000)]
