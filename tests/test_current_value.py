"""The value of a dollar kept current at the horizon (issue 13): measured by the engine under the card model,
and the delinquent buckets measured against a scenario's own current value."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.allocation.objective import engine_balance_values, measure_current_value
from sim.scenario import DEFAULT_BALANCE_VALUE, load_scenario

from simhelpers import SCENARIOS

DAYS = 60


@pytest.fixture(scope="module")
def card_book():
    return load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 400})


def seeds():
    return np.random.SeedSequence(7).spawn(2)


def test_a_current_balance_is_worth_what_its_re_defaults_bring_discounted(card_book):
    measured = measure_current_value(card_book, seeds(), days=DAYS)
    assert measured.accounts_current > 100  # the warm-up cured accounts that still owe
    # The card model follows no payment of a cured account until it re-defaults: its dollar is collected
    # over years, so discounting takes a real share of it, and never all.
    assert 0.05 < measured.value < measured.undiscounted <= 1.0
    assert measured.discount == pytest.approx(1.06 ** (-DAYS / 365))
    assert measured.std_error > 0 and len(measured.per_run) == 2
    # Same seeds, same value.
    again = measure_current_value(card_book, seeds(), days=DAYS)
    assert again.per_run == measured.per_run


def test_a_cured_account_that_never_re_defaults_brings_no_collections(card_book):
    never = card_book.with_overrides({"behavior.redefault_rate": {"low": 0.0, "medium": 0.0, "high": 0.0}})
    measured = measure_current_value(never, seeds(), days=DAYS)
    assert measured.accounts_current > 100
    assert measured.value == pytest.approx(0.0, abs=1e-9)
    assert np.isnan(measured.undiscounted)  # nothing ever leaves current: no undiscounted fixed point


def test_the_buckets_are_measured_against_the_scenarios_own_current_value(card_book):
    assert card_book.objective.balance_value["current"] == 0.41  # baseline states the measured value
    valued, note = engine_balance_values(card_book, days=30)
    values = valued.objective.balance_value
    assert "measured by the engine" in note
    assert values["current"] == 0.41 and values["legal"] == DEFAULT_BALANCE_VALUE["legal"]
    assert values["1-30"] != DEFAULT_BALANCE_VALUE["1-30"]
    # A scenario that states its own bucket values keeps them.
    own = card_book.with_overrides({"objective.balance_value": {"1-30": 0.8}})
    assert engine_balance_values(own, days=30) == (own, "")


def test_a_closed_book_has_no_current_accounts_to_measure():
    closed = load_scenario(SCENARIOS / "card_baseline.toml", {"simulation.accounts": 100})
    with pytest.raises(ValueError, match="open book with a warm-up"):
        measure_current_value(closed, seeds(), days=10)
