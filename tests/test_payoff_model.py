"""Debt files: good examples load, every bad input is one clear line naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from optimizer.payoff.model import DebtFile, load_debts
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
    "debts_typo_balanse.toml": ("debts.0.balanse", "unknown key; did you mean 'balance'?"),
    "debts_typo_budjet.toml": ("budjet", "unknown key; did you mean 'budget'?"),
    "debts_typo_minimum_flor.toml": ("debts.0.minimum.flor", "unknown key; did you mean 'floor'?"),
    "debts_typo_extra_amuont.toml": ("extra_payments.0.amuont", "unknown key; did you mean 'amount'?"),
    "debts_start_9999.toml": ("start", "must be a month between 1900-01 and 2200-12, got 9999-12"),
    "debts_balance_1e308.toml": ("debts.0.balance", "must be at most 1,000,000,000"),
    "debts_extra_1e300.toml": ("extra_payments.0.amount", "must be at most 1,000,000,000"),
    "debts_integer_5000_digits.toml": ("", "thousands of digits"),
    # Issue 19, the [[options]] a client compares.
    "debts_option_typo_origination.toml": ("options.0.orignation_fee", "did you mean 'origination_fee'?"),
    "debts_option_term_of_another_kind.toml": ("options.0.promo_months", "not a term of a consolidation_loan"),
    "debts_option_unknown_debt.toml": ("options.0.debts.0", "unknown debt 'Vsia'; did you mean 'Visa'?"),
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


TYPOS = [  # (where the typo is, the data, the line's field, the suggestion)
    ("top level", {"budget": 1, "curency": "EUR"}, "curency", "did you mean 'currency'?"),
    ("debts", {"budget": 1, "debts": [{"name": "A", "balanse": 5000, "apr": 0.2}]},
     "debts.0.balanse", "did you mean 'balance'?"),
    ("debts, second", {"budget": 1, "debts": [{"name": "A", "balance": 1, "apr": 0.2},
                                              {"name": "B", "balance": 1, "apr": 0.2, "penalty_ap": 0.3}]},
     "debts.1.penalty_ap", "did you mean 'penalty_apr'?"),
    ("minimum", {"budget": 1, "debts": [{"name": "A", "balance": 1, "apr": 0.2,
                                         "minimum": {"percnt": 0.02}}]},
     "debts.0.minimum.percnt", "did you mean 'percent'?"),
    ("promo", {"budget": 1, "debts": [{"name": "A", "balance": 1, "apr": 0.2,
                                       "promo": [{"month": 6, "apr": 0.0}]}]},
     "debts.0.promo.0.month", "did you mean 'months'?"),
    ("hardship", {"budget": 1, "debts": [{"name": "A", "balance": 1, "apr": 0.2,
                                          "hardship": {"apr": 0.07, "montsh": 60}}]},
     "debts.0.hardship.montsh", "did you mean 'months'?"),
    ("budget_changes", {"budget": 1, "budget_changes": [{"month": 3, "amout": 500}]},
     "budget_changes.0.amout", "did you mean 'amount'?"),
    ("extra_payments", {"budget": 1, "extra_payments": [{"mnth": 3, "amount": 500}]},
     "extra_payments.0.mnth", "did you mean 'month'?"),
]


@pytest.mark.parametrize(("where", "data", "field", "hint"), TYPOS, ids=[t[0] for t in TYPOS])
def test_a_typo_names_the_key_typed_and_the_closest_allowed_one(where, data, field, hint):
    data = {"debts": [{"name": "A", "balance": 1, "apr": 0.2}], **data}
    with pytest.raises(ScenarioError) as caught:
        DebtFile.from_dict(data, source="debts.toml")
    assert caught.value.field == field
    assert caught.value.message == f"unknown key; {hint}"
    assert str(caught.value) == f"debts.toml: {field}: unknown key; {hint}"


def test_an_unknown_key_with_no_close_match_lists_the_allowed_keys():
    with pytest.raises(ScenarioError) as caught:
        DebtFile.from_dict({"budget": 1, "debts": [{"name": "A", "balance": 1, "apr": 0.2,
                                                    "minimum": {"xyz": 1}}]})
    assert caught.value.field == "debts.0.minimum.xyz"
    assert caught.value.message == "unknown key; allowed: percent, plus_interest, plus_fees, floor, fixed"


@pytest.mark.parametrize(("start", "ok"), [("1899-12", False), ("1900-01", True), ("2200-12", True),
                                           ("2201-01", False), ("9999-12", False)])
def test_start_is_a_month_between_1900_and_2200(start, ok):
    data = {"budget": 100, "start": start, "debts": [{"name": "A", "balance": 1000, "apr": 0.3,
                                                      "minimum": {"fixed": 1}}]}
    if ok:
        debts = DebtFile.from_dict(data)
        # The last month a plan can reach is still a calendar date.
        assert debts.calendar_month(600) and debts.days_in_month(600) >= 28
        return
    with pytest.raises(ScenarioError) as caught:
        DebtFile.from_dict(data)
    assert caught.value.field == "start"
    assert "between 1900-01 and 2200-12" in caught.value.message


MONEY_FIELDS = [
    ("budget", {"budget": 1e308}),
    ("debts.0.balance", {"debts": [{"name": "A", "balance": 1e308, "apr": 0.2}]}),
    ("debts.0.annual_fee", {"debts": [{"name": "A", "balance": 1, "apr": 0.2, "annual_fee": 1e308}]}),
    ("debts.0.late_fee", {"debts": [{"name": "A", "balance": 1, "apr": 0.2, "late_fee": 1e13}]}),
    ("debts.0.minimum.floor", {"debts": [{"name": "A", "balance": 1, "apr": 0.2, "minimum": {"floor": 1e308}}]}),
    ("debts.0.minimum.fixed", {"debts": [{"name": "A", "balance": 1, "apr": 0.2, "minimum": {"fixed": 1e308}}]}),
    ("budget_changes.0.amount", {"budget_changes": [{"month": 2, "amount": 1e308}]}),
    ("extra_payments.0.amount", {"extra_payments": [{"month": 2, "amount": 10**400}]}),
]


@pytest.mark.parametrize(("field", "data"), MONEY_FIELDS, ids=[f for f, _ in MONEY_FIELDS])
def test_money_above_a_billion_is_refused_naming_the_field_and_the_limit(field, data):
    data = {"budget": 100, "debts": [{"name": "A", "balance": 1000, "apr": 0.2}], **data}
    with pytest.raises(ScenarioError) as caught:
        DebtFile.from_dict(data, source="debts.toml")
    assert caught.value.field == field
    assert caught.value.message.startswith("must be at most 1,000,000,000, got ")
    assert "\n" not in str(caught.value)


def test_a_budget_option_above_the_limit_is_refused():
    debts = load_debts(ROOT / "scenarios" / "household.toml")
    with pytest.raises(ScenarioError, match="between 0 and 1e"):
        debts.with_budget(1e308)
