"""Debt files: good examples load, every bad input is one clear line naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.payoff_model import DebtFile, load_debts
from sim.errors import ScenarioError

ROOT = Path(__file__).resolve().parents[1]
BAD = Path(__file__).parent / "bad_inputs"

BAD_FILES = {
    "debts_negative_balance.toml": ("debts.0.balance", "greater than or equal to 0"),
    "debts_apr_percent.toml": ("debts.0.apr", "APR is a fraction (0.25 for 25 %)"),
    "debts_promo_apr_percent.toml": ("debts.0.promo.0.apr", "APR is a fraction"),
    "debts_unknown_key.toml": ("debts.0.minimum_payment", "unknown key"),
    "debts_nan.toml": ("debts.0.balance", "finite number"),
    "debts_binary.toml": ("", "not a text file"),
    "debts_empty.toml": ("", "file is empty"),
    "debts_syntax.toml": ("line 2", "TOML syntax error"),
    "debts_wrong_type.toml": ("debts.0.balance", "valid number"),
    "debts_custom_order_unknown.toml": ("custom_order.0", "unknown debt 'Card Z'"),
    "debts_no_debts.toml": ("debts", "required"),
    "debts_negative_budget.toml": ("budget", "greater than or equal to 0"),
    # Issue 12, hostile files: read through sim.io.read_bounded.
    "debts_symlink_to_dev_zero.toml": ("", "not a regular file"),
    "debts_symlink_loop.toml": ("", "symlink loop"),
    "debts_bom_negative_budget.toml": ("budget", "greater than or equal to 0"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_is_one_line_naming_file_and_field(name):
    field, words = BAD_FILES[name]
    with pytest.raises(ScenarioError) as caught:
        load_debts(BAD / name)
    err = caught.value
    assert err.field == field
    assert words in err.message
    assert str(err).startswith(str(BAD / name))
    assert "\n" not in str(err)


def test_every_bad_debt_file_is_covered():
    assert {p.name for p in BAD.glob("debts_*.toml")} == set(BAD_FILES)


def test_missing_file_is_an_error_not_a_traceback():
    with pytest.raises(ScenarioError, match="file not found"):
        load_debts(BAD / "no_such_debts.toml")


@pytest.mark.parametrize("name", ["household.toml", "debts_promo.toml", "debts_cn.toml",
                                  "debts_shortfall.toml"])
def test_example_files_load(name):
    debts = load_debts(ROOT / "scenarios" / name)
    assert debts.debts and debts.budget > 0


def test_promo_schedule_then_base_rate():
    debts = DebtFile.from_dict({"budget": 100, "debts": [
        {"name": "A", "balance": 100, "apr": 0.25,
         "promo": [{"months": 6, "apr": 0.0}, {"months": 6, "apr": 0.099}]}]})
    card = debts.debts[0]
    assert [card.apr_in_month(m) for m in (1, 6, 7, 12, 13)] == [0.0, 0.0, 0.099, 0.099, 0.25]


def test_budget_changes_apply_from_their_month():
    debts = DebtFile.from_dict({"budget": 300, "budget_changes": [{"month": 5, "amount": 450}],
                                "extra_payments": [{"month": 3, "amount": 1000}],
                                "debts": [{"name": "A", "balance": 100, "apr": 0.2}]})
    assert [debts.budget_in_month(m) for m in (1, 4, 5, 40)] == [300, 300, 450, 450]
    assert debts.extra_in_month(3) == 1000 and debts.extra_in_month(4) == 0


def test_calendar_months_and_days_follow_the_start_date():
    debts = DebtFile.from_dict({"budget": 1, "start": "2026-11",
                                "debts": [{"name": "A", "balance": 1, "apr": 0.1}]})
    assert debts.calendar_month(1) == "2026-11" and debts.calendar_month(3) == "2027-01"
    assert debts.days_in_month(4) == 28.0  # February 2027


def test_cn_card_takes_a_daily_rate_not_an_apr():
    with pytest.raises(ScenarioError, match="daily_rate"):
        DebtFile.from_dict({"budget": 1, "debts": [
            {"name": "A", "balance": 1, "convention": "cn", "apr": 0.18}]})


def test_fixed_minimum_excludes_percent():
    with pytest.raises(ScenarioError) as caught:
        DebtFile.from_dict({"budget": 1, "debts": [
            {"name": "A", "balance": 1, "apr": 0.1, "minimum": {"fixed": 20, "percent": 0.02}}]})
    assert caught.value.field == "debts.0.minimum"


def test_budget_override_is_checked():
    debts = load_debts(ROOT / "scenarios" / "household.toml")
    assert debts.with_budget(900).budget == 900
    with pytest.raises(ScenarioError, match="--budget"):
        debts.with_budget(float("nan"))
