"""Scenario files: the validated, immutable description of one collections set-up.

A scenario says which accounts are in the book (``[portfolio]``), how borrowers
behave (``[behavior]``), what the collector does (``[strategy]``), who does it
(``[teams.*]``), which contact rules apply (``[compliance]``) and what things
cost (``[costs]``). It is loaded from TOML, may ``extends`` another file, and is
checked field by field: unknown keys, wrong types, NaN, negative counts,
inverted shifts, unknown channels or presets are all a :class:`ScenarioError`
naming the file and the field.

Defaults and their sources are documented in ``scenarios/README.md``.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import math
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from .domain import (
    AFTER_CHARGE_OFF_CHANNELS,
    AUTOMATED_CHANNELS,
    DELINQUENT_BUCKETS,
    LADDER_CHANNELS,
    OFFER_CHANNELS,
    STRATEGY_CHANNELS,
    TEAM_KIND_OF_CHANNEL,
    TEAM_KINDS,
    WEEKDAYS,
)
from .errors import FieldError, ScenarioError, printable
from .io import is_regular_file, read_bounded
from .presets import PRESET_RULES

CHANNELS = STRATEGY_CHANNELS  # the ladder's channels, in the one order of sim.domain
PRESETS = ("us_reg_f", "us_massachusetts", "cn_2025", "us_first_party", "none")
MAX_ACCOUNTS = 20_000_000
MAX_DAYS = 3650
FIRST_START = dt.date(1900, 1, 1)
LAST_START = dt.date(2199, 12, 31)
MAX_SCENARIO_BYTES = 5_000_000
MAX_CSV_BYTES = 2_000_000_000  # a portfolio CSV (sim.portfolio reads it with the same limit)
# Variants of variants rarely go beyond three; 32 leaves room and keeps the
# cycle check and the merge cheap.
MAX_EXTENDS_DEPTH = 32
# The largest balance one account may have, in the currency unit. With at most
# MAX_ACCOUNTS accounts, a book's total stays below 2e16 and every sum, interest
# and fee in a run stays a finite float (1e308 per account once made the
# initial balance inf).
MAX_BALANCE = 1e9

Channel = Literal[LADDER_CHANNELS]  # type: ignore[valid-type]  # the same tuple, as a pydantic choice
# The fields of an offer step, by channel (sim/engine/offers.py holds their defaults, each a labelled
# assumption or sourced there). Unset, they stay None, so a scenario without offers hashes as before.
OFFER_FIELDS = {
    "settlement_offer": ("discount", "pay_within_days", "acceptance", "acceptance_by_bucket",
                         "acceptance_by_segment", "keep_rate"),
    "hardship_plan": ("apr", "months", "reage_after", "acceptance", "acceptance_by_bucket",
                      "acceptance_by_segment"),
}
# The terms of a step after charge-off, by channel (sim/engine/lifecycle.py); every one is required on its
# step (a contract's terms have no neutral default), and scenarios/card_lifecycle.toml cites where its come from.
AFTER_CHARGE_OFF_FIELDS = {
    "agency": ("after_charge_off_days", "contingency_fee", "recovery_curve"),
    "attorney": ("after_charge_off_days", "contingency_fee", "recovery_curve", "court_cost"),
    "debt_sale": ("after_charge_off_days", "price"),
}
# The fields of a step that only channels before charge-off read (their reach in days past due, cadence, time).
BEFORE_CHARGE_OFF_FIELDS = ("from_dpd", "to_dpd", "every_days", "after_failed", "attempts_per_day", "send_time",
                            "team")
MAX_CURVE_MONTHS = 120


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=False)


def parse_clock(text: str, *, allow_24: bool = True) -> int:
    """Minutes after midnight for ``"HH:MM"``; ``"24:00"`` is the end of the day."""
    if not isinstance(text, str) or len(text.split(":")) != 2:
        raise ValueError(f"expected a time 'HH:MM', got {text!r}")
    hours, minutes = text.split(":")
    if not (hours.isascii() and minutes.isascii() and hours.isdigit() and minutes.isdigit()
            and 1 <= len(hours) <= 2 and len(minutes) == 2):
        raise ValueError(f"expected a time 'HH:MM', got {text!r}")
    h, m = int(hours), int(minutes)
    if m >= 60 or h > 24 or (h == 24 and (m != 0 or not allow_24)):
        raise ValueError(f"time {text!r} is outside the day 00:00-24:00")
    return h * 60 + m


def minutes_to_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def parse_shift(text: str) -> tuple[int, int]:
    """``"09:00-17:00"`` as (start, end) minutes after midnight; start < end."""
    if not isinstance(text, str) or text.count("-") != 1:
        raise ValueError(f"a shift is 'HH:MM-HH:MM', got {text!r}")
    start_text, end_text = text.split("-")
    start, end = parse_clock(start_text.strip()), parse_clock(end_text.strip())
    if start >= end:
        raise ValueError(f"shift {text!r} ends before it starts (start must be before end)")
    return start, end


# ----------------------------------------------------------------------------- sections


class SimulationSection(_Section):
    """The run: measured ``days`` from ``start_date``, after ``warmup_days`` simulated before it.

    The warm-up days run before ``start_date`` (the book of ``accounts``
    accounts starts ``warmup_days`` earlier) and are left out of every KPI,
    series and cost: the measured days start with the book the warm-up left.
    ``warmup_days = 0`` (the default) is a run without warm-up.
    """

    days: int = Field(180, ge=1, le=MAX_DAYS)
    accounts: int = Field(10_000, ge=1, le=MAX_ACCOUNTS)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    start_date: dt.date = dt.date(2026, 1, 5)
    discount_rate: float = Field(0.06, ge=0.0, le=1.0)
    # ISO 4217 code of every amount in the scenario; None: the compliance preset's country's (currency_of).
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")
    warmup_days: int = Field(0, ge=0, le=MAX_DAYS)

    @property
    def total_days(self) -> int:
        """Days the engine simulates: the warm-up, then the measured days."""
        return self.warmup_days + self.days

    @model_serializer(mode="wrap")
    def _as_written(self, handler):
        # No warm-up is written as nothing, so scenarios without one keep their content hash.
        data = handler(self)
        if not self.warmup_days:
            data.pop("warmup_days", None)
        return data

    @field_validator("start_date")
    @classmethod
    def _calendar(cls, value: dt.date) -> dt.date:
        # A run must stay inside the calendar (dates overflow after 9999) and the
        # public-holiday tables; a year like 9999 or 0001 is a typo, not a plan.
        if not FIRST_START <= value <= LAST_START:
            raise ValueError(f"must be between {FIRST_START} and {LAST_START}, got {value}")
        return value


# The currency a compliance preset's country uses; a scenario's own [simulation] currency wins.
PRESET_CURRENCY = {"us_reg_f": "USD", "us_massachusetts": "USD", "cn_2025": "CNY", "none": "USD"}


class BalanceDistribution(_Section):
    distribution: Literal["lognormal", "uniform", "fixed"] = "lognormal"
    median: float = Field(2500.0, gt=0, le=MAX_BALANCE)
    sigma: float = Field(0.9, ge=0, le=5)
    min: float = Field(50.0, ge=0, le=MAX_BALANCE)
    max: float = Field(50_000.0, gt=0, le=MAX_BALANCE)

    @model_validator(mode="after")
    def _ordered(self) -> BalanceDistribution:
        if self.min > self.max:
            raise ValueError("min must not exceed max")
        return self


def _default_bucket_shares() -> dict[str, float]:
    return {"1-30": 0.55, "31-60": 0.18, "61-90": 0.10, "91-120": 0.07, "121-150": 0.05, "151-180": 0.05}


def _default_segments() -> dict[str, float]:
    return {"low": 0.5, "medium": 0.3, "high": 0.2}


def _check_shares(shares: dict[str, float], what: str, allowed: tuple[str, ...] | None) -> None:
    if not shares:
        raise ValueError(f"{what} must name at least one entry")
    for key, value in shares.items():
        if allowed is not None and key not in allowed:
            raise ValueError(f"unknown {what} {key!r}; allowed: {', '.join(allowed)}")
        if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
            raise ValueError(f"{what} share for {key!r} must be a number ≥ 0")
    total = sum(shares.values())
    if abs(total - 1.0) > 1e-6:
        raise ValueError(f"{what} shares must add up to 1 (they add up to {total:g})")


class PortfolioSection(_Section):
    csv: str | None = None
    balance: BalanceDistribution = BalanceDistribution()
    apr: float = Field(0.24, ge=0.0, le=1.0, description="a fraction: 0.24 for 24 %")
    late_fee: float = Field(30.0, ge=0, le=10_000)
    min_due_rate: float = Field(0.03, gt=0, le=1)
    charge_off_dpd: int = Field(180, ge=30, le=MAX_DAYS + 400)
    buckets: dict[str, float] = Field(default_factory=_default_bucket_shares)
    segments: dict[str, float] = Field(default_factory=_default_segments)
    phone_known: float = Field(0.92, ge=0, le=1)
    email_known: float = Field(0.75, ge=0, le=1)

    @field_validator("buckets")
    @classmethod
    def _buckets(cls, value: dict[str, float]) -> dict[str, float]:
        _check_shares(value, "bucket", DELINQUENT_BUCKETS)
        return value

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: dict[str, float]) -> dict[str, float]:
        _check_shares(value, "segment", None)
        if len(value) > 100:
            raise ValueError("at most 100 risk segments")
        return value

    @field_validator("apr", mode="before")
    @classmethod
    def _apr_fraction(cls, value: Any) -> Any:
        if isinstance(value, (int, float)) and value > 1:
            raise ValueError(f"APR is a fraction (0.25 for 25 %), got {value}")
        return value


class ArrivalsSection(_Section):
    """An open book (``[arrivals]``): new delinquent accounts entering every day.

    ``per_month`` accounts a month (30 days) on average enter the book at 1 day
    past due (the 1-30 bucket), a Poisson number each day (see
    :mod:`sim.engine.arrivals` for why); or ``per_1000_per_month`` for every
    1,000 accounts of the book at the start (``simulation.accounts``, or a CSV's own accounts), so that ``--accounts`` scales
    the inflow with the book. Their balances and segment mix are the
    portfolio's unless given here; segments must be the portfolio's.
    """

    per_month: float | None = Field(None, ge=0, le=MAX_ACCOUNTS)
    per_1000_per_month: float | None = Field(None, ge=0, le=100_000)
    balance: BalanceDistribution | None = None
    segments: dict[str, float] | None = None
    phone_known: float | None = Field(None, ge=0, le=1)
    email_known: float | None = Field(None, ge=0, le=1)

    @field_validator("segments")
    @classmethod
    def _segments(cls, value: dict[str, float] | None) -> dict[str, float] | None:
        if value is not None:
            _check_shares(value, "segment", None)
        return value

    @model_validator(mode="after")
    def _one_rate(self) -> ArrivalsSection:
        if (self.per_month is None) == (self.per_1000_per_month is None):
            raise ValueError("give per_month or per_1000_per_month (one of them)")
        return self

    def monthly(self, accounts: int) -> float:
        """Arrivals a month on average, for a book of ``accounts`` at the start."""
        if self.per_month is not None:
            return self.per_month
        return self.per_1000_per_month * accounts / 1000.0


def _default_base_intensity() -> dict[str, float]:
    # Per day. Chosen so that 40-50 % of the 1-30 bucket pays within a month once reminders lift it
    # (early-stage self-cure 40-60 %, DOMAIN.md, weak) and later buckets fade.
    return {"1-30": 0.015, "31-60": 0.008, "61-90": 0.005, "91-120": 0.0035, "121-150": 0.0025, "151-180": 0.002}


def _default_segment_multiplier() -> dict[str, float]:
    return {"low": 1.5, "medium": 1.0, "high": 0.5}


def _default_lift() -> dict[str, float]:
    # δ2 of each treatment and outcome, added to the daily intensity (per day).
    return {
        "sms": 0.004,
        "email": 0.002,
        "letter": 0.006,
        "call_attempt": 0.0,
        "right_party_contact": 0.03,
        "inbound_call": 0.03,
        "field_visit": 0.05,
        "legal_filing": 0.02,
    }


LIFT_KEYS = tuple(_default_lift())


def _default_callback() -> dict[str, float]:
    return {"sms": 0.01, "email": 0.005, "letter": 0.02}


def _default_right_party_by_hour() -> list[float]:
    # Right-party contact probability of a dialled call by local hour: low in the
    # working day, highest in the evening (DESIGN.md; TransUnion 2020: 2-4 attempts
    # to reach the right party, i.e. 25-50 % per attempt at the best hours).
    day = [0.0] * 24
    for hour in range(24):
        if 8 <= hour < 12:
            day[hour] = 0.18
        elif 12 <= hour < 17:
            day[hour] = 0.15
        elif 17 <= hour < 21:
            day[hour] = 0.30
        else:
            day[hour] = 0.10
    return day


PAYMENT_CHOICES = ("minimum", "past_due", "partial", "full")  # what a card-model repayment pays (sim.card_behavior)


def _default_payment_choice() -> dict[str, list[float]]:
    # Weights of each kind of repayment by bucket (1-30 … 151-180), under model = "card". An assumption
    # tuned to DOMAIN.md ("mostly the minimum due or the past-due amount, some partial amounts, rarely the
    # whole balance") and to issue 15's ranges on scenarios/card_baseline.toml at its own size (at least half
    # the borrowers' receipts the minimum or the past-due amount, at most 15 % the whole balance, cure from
    # 91+ at most 15 % a month): later buckets pay the whole past-due amount less often, and part of a
    # minimum more often.
    return {
        "minimum": [0.48, 0.45, 0.42, 0.38, 0.35, 0.32],
        "past_due": [0.26, 0.20, 0.14, 0.10, 0.08, 0.07],
        "partial": [0.20, 0.31, 0.41, 0.50, 0.55, 0.59],
        "full": [0.06, 0.04, 0.03, 0.02, 0.02, 0.02],
    }


def _default_cure_multiplier() -> dict[str, float]:
    # Assumption: lower-risk borrowers pay the whole past-due amount (or the balance) more often.
    return {"low": 1.3, "medium": 1.0, "high": 0.7}


def _default_redefault_rate() -> dict[str, float]:
    # Monthly hazard that a cured account misses its next minimum again. DOMAIN.md: "a real share of cures
    # roll again within months" (practitioners, weak): an assumption of 2-8 % a month (about 20-60 % within
    # a year), to be fitted from a lender's data.
    return {"low": 0.02, "medium": 0.04, "high": 0.08}


# [behavior] keys read by model = "card" only (sim.card_behavior, sim.engine.statements).
CARD_ONLY_FIELDS = ("minimum_percent", "minimum_floor", "payment_choice", "partial_min", "cure_multiplier",
                    "contact_cure_multiplier", "promise_cure_multiplier", "contact_memory_days", "redefault_rate")
REDEFAULT_UNNAMED = 0.04  # the monthly re-default rate of a segment the table does not name (the medium rate)


def _over_defaults(defaults: dict[str, float], value: dict[str, float], allowed: tuple[str, ...], kind: str,
                   invalid: str) -> dict[str, float]:
    """``defaults`` with ``value``'s entries over them: keys from ``allowed`` only, each a finite number ≥ 0."""
    for key, number in value.items():
        if key not in allowed:
            raise ValueError(f"unknown {kind} {key!r}; allowed: {', '.join(allowed)}")
        if not (math.isfinite(number) and number >= 0):
            raise ValueError(invalid.format(key=repr(key)))
        defaults[key] = float(number)
    return defaults



class BehaviorSection(_Section):
    model: Literal["hawkes", "cgw", "card"] = "hawkes"
    # Self-exciting repayment intensity (Chehrazi & Weber 2015; Chehrazi, Glynn &
    # Weber 2019), all per day.
    lambda0: float = Field(0.02, ge=0, le=100)
    lambda_inf: float = Field(0.01, ge=0, le=100)
    kappa: float = Field(0.1, ge=0, le=100)
    delta10: float = Field(0.01, ge=0, le=100)
    delta11: float = Field(0.05, ge=0, le=100)
    r_min: float = Field(0.1, ge=0, le=1)
    lift: dict[str, float] = Field(default_factory=_default_lift)
    # Extras of the full borrower model.
    base_intensity: dict[str, float] = Field(default_factory=_default_base_intensity)
    segment_multiplier: dict[str, float] = Field(default_factory=_default_segment_multiplier)
    promise_probability: float = Field(0.35, ge=0, le=1)
    promise_keep_rate: float = Field(0.6, ge=0, le=1)
    promise_days: int = Field(7, ge=1, le=60)
    plan_uptake: float = Field(0.10, ge=0, le=1)
    plan_instalments: int = Field(6, ge=2, le=120)
    plan_keep_rate: float = Field(0.8, ge=0, le=1)
    dispute_probability: float = Field(0.02, ge=0, le=1)
    complaint_probability: float = Field(0.005, ge=0, le=1)
    fatigue: float = Field(0.25, ge=0, le=100)
    callback_probability: dict[str, float] = Field(default_factory=_default_callback)
    right_party_by_hour: list[float] = Field(default_factory=_default_right_party_by_hour)
    wrong_party_rate: float = Field(0.05, ge=0, le=1)
    patience_minutes: float = Field(3.0, gt=0, le=1e7)
    # model = "card": statements, what a repayment pays, re-default (sim.card_behavior, sim.engine.statements).
    # The minimum due is sim.card_terms' rule: the greater of minimum_floor and minimum_percent of the balance
    # plus the cycle's interest and fees (defaults: card_terms' US card, 1 % + interest + fees, floor 25).
    minimum_percent: float = Field(0.01, ge=0, le=1)
    minimum_floor: float = Field(25.0, ge=0, le=1e6)
    payment_choice: dict[str, list[float]] = Field(default_factory=_default_payment_choice)
    partial_min: float = Field(0.25, ge=0, le=1)  # a partial payment is U[partial_min, 1) × one cycle's minimum
    cure_multiplier: dict[str, float] = Field(default_factory=_default_cure_multiplier)
    contact_cure_multiplier: float = Field(1.5, ge=0, le=100)  # past-due weight after a recent treatment
    promise_cure_multiplier: float = Field(2.0, ge=0, le=100)  # past-due weight while a promise is open
    contact_memory_days: int = Field(7, ge=0, le=365)
    redefault_rate: dict[str, float] = Field(default_factory=_default_redefault_rate)

    @model_serializer(mode="wrap")
    def _as_written(self, handler):
        # The card model's parameters change nothing under the other models: left out of their content,
        # so a hawkes or cgw scenario keeps its content hash (and its TOML) from before they existed.
        data = handler(self)
        if self.model != "card":
            for key in CARD_ONLY_FIELDS:
                data.pop(key, None)
        return data

    @field_validator("payment_choice")
    @classmethod
    def _payment_choice(cls, value: dict[str, list[float]]) -> dict[str, list[float]]:
        weights = _default_payment_choice()
        for key, row in value.items():
            if key not in PAYMENT_CHOICES:
                raise ValueError(f"unknown kind of payment {key!r}; allowed: {', '.join(PAYMENT_CHOICES)}")
            if len(row) != len(DELINQUENT_BUCKETS) or not all(math.isfinite(w) and w >= 0 for w in row):
                raise ValueError(f"{key} needs {len(DELINQUENT_BUCKETS)} weights ≥ 0, one per bucket "
                                 f"({', '.join(DELINQUENT_BUCKETS)})")
            weights[key] = [float(w) for w in row]
        for b, bucket in enumerate(DELINQUENT_BUCKETS):
            if sum(weights[k][b] for k in PAYMENT_CHOICES) <= 0:
                raise ValueError(f"the weights of bucket {bucket} add up to 0; at least one must be > 0")
        return weights

    @field_validator("cure_multiplier", "redefault_rate")
    @classmethod
    def _by_segment(cls, value: dict[str, float], info) -> dict[str, float]:
        for key, number in value.items():
            if not (math.isfinite(number) and number >= 0):
                raise ValueError(f"value for {key!r} must be a number ≥ 0")
            if info.field_name == "redefault_rate" and number > 1:
                raise ValueError(f"re-default rate for {key!r} is a monthly probability, between 0 and 1")
        return value

    @field_validator("lift")
    @classmethod
    def _lift(cls, value: dict[str, float]) -> dict[str, float]:
        return _over_defaults(_default_lift(), value, LIFT_KEYS, "lift", "lift {key} must be a number ≥ 0")

    @field_validator("base_intensity")
    @classmethod
    def _base(cls, value: dict[str, float]) -> dict[str, float]:
        return _over_defaults(_default_base_intensity(), value, DELINQUENT_BUCKETS, "bucket",
                              "base intensity for {key} must be a number ≥ 0")

    @field_validator("segment_multiplier", "callback_probability")
    @classmethod
    def _non_negative_map(cls, value: dict[str, float]) -> dict[str, float]:
        for key, number in value.items():
            if not (math.isfinite(number) and number >= 0):
                raise ValueError(f"value for {key!r} must be a number ≥ 0")
        return value

    @field_validator("callback_probability")
    @classmethod
    def _callback(cls, value: dict[str, float]) -> dict[str, float]:
        for key, number in value.items():
            if key not in AUTOMATED_CHANNELS:
                raise ValueError(f"unknown channel {key!r}; allowed: {', '.join(AUTOMATED_CHANNELS)}")
            if number > 1:
                raise ValueError(f"callback probability for {key!r} must be between 0 and 1")
        return value

    @field_validator("right_party_by_hour")
    @classmethod
    def _hours(cls, value: list[float]) -> list[float]:
        if len(value) != 24:
            raise ValueError(f"needs 24 probabilities, one per hour, got {len(value)}")
        for p in value:
            if not (math.isfinite(p) and 0 <= p <= 1):
                raise ValueError("every hourly probability must be between 0 and 1")
        return value

    @model_validator(mode="after")
    def _outcomes(self) -> BehaviorSection:
        if self.promise_probability + self.plan_uptake + self.dispute_probability > 1 + 1e-12:
            raise ValueError(
                "promise_probability + plan_uptake + dispute_probability must not exceed 1"
            )
        if any(p + self.wrong_party_rate > 1 + 1e-12 for p in self.right_party_by_hour):
            raise ValueError("right_party_by_hour + wrong_party_rate must not exceed 1 in any hour")
        return self


def _a(noun: str) -> str:
    """``noun`` with its indefinite article ("an agency", "a call")."""
    return f"{'an' if noun[0] in 'aeiou' else 'a'} {noun}"


class Step(_Section):
    # Required on every step before charge-off; a step after charge-off (AFTER_CHARGE_OFF_CHANNELS) has none.
    from_dpd: int | None = Field(None, ge=0, le=MAX_DAYS + 400)
    to_dpd: int | None = Field(None, ge=0, le=MAX_DAYS + 400)
    channel: Channel
    every_days: int = Field(1, ge=1, le=365)
    segments: list[str] | None = None
    min_balance: float = Field(0.0, ge=0)
    max_balance: float | None = Field(None, gt=0)
    after_failed: int = Field(0, ge=0, le=1000)
    attempts_per_day: int = Field(1, ge=1, le=20)
    send_time: str = "10:00"
    team: str | None = None
    # Offers (channel settlement_offer or hardship_plan; see OFFER_FIELDS and sim/engine/offers.py).
    discount: float | None = Field(None, gt=0, lt=1)  # the share of the balance forgiven
    pay_within_days: int | None = Field(None, ge=1, le=365)
    acceptance: float | None = Field(None, ge=0, le=1)  # one probability for every bucket
    acceptance_by_bucket: dict[str, float] | None = None  # probability by days-past-due bucket
    acceptance_by_segment: dict[str, float] | None = None  # a factor on it by risk segment
    keep_rate: float | None = Field(None, ge=0, le=1)  # an accepted settlement is paid
    apr: float | None = Field(None, ge=0, le=1)  # the hardship plan's reduced rate
    months: int | None = Field(None, ge=1, le=120)
    reage_after: int | None = Field(None, ge=1, le=120)  # on-time instalments before the account is re-aged
    # After charge-off (channel agency, attorney or debt_sale; see AFTER_CHARGE_OFF_FIELDS, sim/engine/lifecycle.py).
    after_charge_off_days: int | None = Field(None, ge=0, le=MAX_DAYS)  # days from charge-off to the step
    contingency_fee: float | None = Field(None, ge=0, le=1)  # the agency's or attorney's share of what it collects
    recovery_curve: list[float] | None = None  # share of the placed balance collected in each month of the term
    court_cost: float | None = Field(None, ge=0, le=1e6)  # filing and service, paid by the lender per suit
    price: float | None = Field(None, ge=0, le=1)  # a debt sale's price per unit of balance

    @field_validator("send_time")
    @classmethod
    def _send_time(cls, value: str) -> str:
        if parse_clock(value, allow_24=False) >= 24 * 60:
            raise ValueError("send_time must be within the day")
        return value

    @model_validator(mode="after")
    def _range(self) -> Step:
        if self.channel in AFTER_CHARGE_OFF_CHANNELS:
            self._check_after_charge_off()
            return self
        for name in ("from_dpd", "to_dpd"):
            if getattr(self, name) is None:
                raise ValueError(f"{name} is required on {_a(self.channel)} step (days past due it acts from and to)")
        for name in ("after_charge_off_days", "contingency_fee", "recovery_curve", "court_cost", "price"):
            if getattr(self, name) is not None:
                where = [c for c, fields in AFTER_CHARGE_OFF_FIELDS.items() if name in fields]
                raise ValueError(f"{name} is for channel {' or '.join(where)} (after charge-off), not {self.channel}")
        if self.to_dpd < self.from_dpd:
            raise ValueError(f"to_dpd ({self.to_dpd}) is before from_dpd ({self.from_dpd})")
        if self.max_balance is not None and self.max_balance <= self.min_balance:
            raise ValueError(f"max_balance ({self.max_balance:g}) must be above min_balance ({self.min_balance:g})")
        self._check_offer()
        return self

    def _check_after_charge_off(self) -> None:
        """A step after charge-off: its own terms, all of them, and none of the ladder's before charge-off."""
        for name in BEFORE_CHARGE_OFF_FIELDS:
            # At its default the field says nothing (a scenario written back from its content spells them out).
            if getattr(self, name) != type(self).model_fields[name].default:
                raise ValueError(f"{name} is for steps before charge-off; {_a(self.channel)} step starts "
                                 "after_charge_off_days after the account's charge-off")
        allowed = AFTER_CHARGE_OFF_FIELDS[self.channel]
        for name in sorted({f for fields in (*OFFER_FIELDS.values(), *AFTER_CHARGE_OFF_FIELDS.values()) for f in fields}):
            given = getattr(self, name) is not None
            if given and name not in allowed:
                where = [c for c, fields in (*OFFER_FIELDS.items(), *AFTER_CHARGE_OFF_FIELDS.items()) if name in fields]
                raise ValueError(f"{name} is for channel {' or '.join(where)}, not {self.channel}")
            if not given and name in allowed:
                raise ValueError(f"{_a(self.channel)} step needs {name} ({', '.join(allowed)})")
        curve = self.recovery_curve
        if curve is not None:
            if not 1 <= len(curve) <= MAX_CURVE_MONTHS:
                raise ValueError(f"recovery_curve gives one share a month for 1 to {MAX_CURVE_MONTHS} months, "
                                 f"got {len(curve)}")
            if any(not 0 <= x <= 1 for x in curve) or sum(curve) > 1 + 1e-9:
                raise ValueError("recovery_curve: each month's share is between 0 and 1 and together at most 1 "
                                 f"(the whole placed balance), got a total of {sum(curve):.3g}")
        if self.max_balance is not None and self.max_balance <= self.min_balance:
            raise ValueError(f"max_balance ({self.max_balance:g}) must be above min_balance ({self.min_balance:g})")

    @property
    def after_charge_off(self) -> bool:
        """A step of the account's life after charge-off (agency, attorney, debt sale)."""
        return self.channel in AFTER_CHARGE_OFF_CHANNELS

    def _check_offer(self) -> None:
        """Offer fields only on their offer's step, and each table keyed by what it names."""
        allowed = OFFER_FIELDS.get(self.channel, ())
        for name in sorted({f for fields in OFFER_FIELDS.values() for f in fields}):
            if getattr(self, name) is not None and name not in allowed:
                where = [c for c, fields in OFFER_FIELDS.items() if name in fields]
                raise ValueError(f"{name} is for channel {' or '.join(where)}, not {self.channel}")
        if self.channel not in OFFER_CHANNELS:
            return
        if self.acceptance is not None and self.acceptance_by_bucket is not None:
            raise ValueError("give acceptance (every bucket) or acceptance_by_bucket, not both")
        for bucket, p in (self.acceptance_by_bucket or {}).items():
            if bucket not in DELINQUENT_BUCKETS:
                raise ValueError(f"acceptance_by_bucket: unknown bucket {bucket!r}; use {', '.join(DELINQUENT_BUCKETS)}")
            if not 0 <= p <= 1:
                raise ValueError(f"acceptance_by_bucket.{bucket}: a probability is between 0 and 1, got {p}")
        for segment, factor in (self.acceptance_by_segment or {}).items():
            if not 0 <= factor <= 100:
                raise ValueError(f"acceptance_by_segment.{segment}: a factor between 0 and 100, got {factor}")
        if self.reage_after is not None and self.months is not None and self.reage_after > self.months:
            raise ValueError(f"reage_after ({self.reage_after}) is more instalments than the plan's months "
                             f"({self.months})")


class StrategySection(_Section):
    name: str = "unnamed"
    priority: Literal["balance", "days_past_due", "expected_value", "account_id"] = "balance"
    redial_minutes: int = Field(120, ge=1, le=1440)
    steps: list[Step] = Field(default_factory=list)

    @field_validator("steps")
    @classmethod
    def _steps(cls, value: list[Step]) -> list[Step]:
        if len(value) > 64:
            raise ValueError("at most 64 ladder steps")
        return value


# At most this many strategies share one book; each is an arm of the test.
MAX_STRATEGIES = 10
# Every arm's steps run as one ladder (the engine keeps per-step counters for
# every account), so the combined ladder keeps the one-strategy limit.
MAX_COMBINED_STEPS = 64
SHARE_TOLERANCE = 1e-9


class ArmSection(StrategySection):
    """One strategy of a champion/challenger book (``[[strategies]]``): a ladder and its share of the accounts.

    ``from = "file.toml"`` (resolved when the scenario is loaded) takes another
    scenario's ladder. All arms share one call list, so only the champion may
    set ``priority`` and ``redial_minutes``.
    """

    name: str = Field(min_length=1, max_length=64)
    share: float = Field(gt=0, le=1)
    champion: bool = False
    # Unset (None) unless the champion gives them: a challenger's would never apply.
    priority: Literal["balance", "days_past_due", "expected_value", "account_id"] | None = None
    redial_minutes: int | None = Field(None, ge=1, le=1440)

    def as_strategy(self) -> StrategySection:
        """The arm as a one-strategy section (the call-list settings the strategy defaults if unset)."""
        settings = {key: getattr(self, key) for key in ("priority", "redial_minutes") if getattr(self, key) is not None}
        return StrategySection(name=self.name, steps=list(self.steps), **settings)


class HandleMinutes(_Section):
    no_answer: float = Field(1.0, gt=0, le=600)
    wrong_party: float = Field(2.0, gt=0, le=600)
    right_party: float = Field(8.0, gt=0, le=600)
    inbound: float = Field(6.0, gt=0, le=600)
    field_visit: float = Field(60.0, gt=0, le=1440)


MAX_AGENTS = 100_000  # one team's agents


def scaled_size(per_1000: float, accounts: int) -> float:
    """Full-time agents that ``per_1000`` per 1,000 accounts ask for, fractions kept (0.4 of 800 is 0.32).

    Rounded to a millionth of an agent, so a ratio that gives whole agents
    gives them exactly (binary fractions such as 0.05 × 20,000 / 1,000 would
    otherwise leave a part-timer of 10⁻¹⁶).
    """
    return round(per_1000 * accounts / 1000, 6) if per_1000 > 0 else 0.0


def scaled_agents(per_1000: float, accounts: int) -> int:
    """The people on a team of ``per_1000`` per 1,000 accounts: its size rounded up, at least one if ``per_1000`` > 0.

    A fractional size is honoured by the last of them working part-time
    (:func:`part_time_share`), so a small book is not staffed above its ratio.
    """
    if per_1000 <= 0:
        return 0
    return max(1, math.ceil(scaled_size(per_1000, accounts)))


def part_time_share(per_1000: float, accounts: int) -> float:
    """The share of each shift the last agent of a scaled team works: 1.0 when the size is whole.

    0.32 agents is one agent working 32 % of each shift; 2.2 agents, two full-time
    and one at 20 %. A size that rounds to nothing still has its one agent, on
    the shortest shift the engine gives (one minute).
    """
    agents = scaled_agents(per_1000, accounts)
    if agents == 0:
        return 1.0
    # In [0, 1]: the size is above agents - 1 and at most agents (0 only for a size that rounds to nothing).
    return scaled_size(per_1000, accounts) - (agents - 1)


def team_part_time_share(team: TeamSection, accounts: int) -> float:
    """:func:`part_time_share` of a scaled team, or 1.0 when the team has no part-timer (``part_time = false``)."""
    return part_time_share(team.agents_per_1000, accounts) if team.part_time else 1.0


class TeamSection(_Section):
    """One team. Its size is ``agents``, or ``agents_per_1000`` accounts in the book at the start.

    With ``agents_per_1000`` the scenario sets ``agents`` from
    ``simulation.accounts`` when it is validated (:func:`scaled_agents`: the
    size rounded up), so everything that reads ``agents`` sees the people the
    run has, and :attr:`part_time_share` is the share of each shift the last of
    them works (a size of 0.32 is one agent on 32 % of each shift), unless
    ``part_time = false``: then every agent works whole shifts (the size rounded
    up). An inbound line needs that: a part-timer works the start of each shift
    only, so the line would be closed for the rest of the hours callbacks come
    in (Erlang C staffing is not proportional to volume anyway). The team's
    content (TOML, hash) keeps the ratio, not the count. To resize a scaled team
    in code, use ``Scenario.with_overrides({"teams.NAME.agents": n})``, which
    replaces the ratio (and the part-timer: given agents are all full-time).
    """

    kind: Literal[TEAM_KINDS] = "call"  # type: ignore[valid-type]
    agents: int = Field(10, ge=0, le=MAX_AGENTS)
    agents_per_1000: float | None = Field(None, ge=0, le=1000)
    shifts: list[str] = Field(default_factory=lambda: ["09:00-17:00"])
    work_days: list[Literal[WEEKDAYS]] = Field(  # type: ignore[valid-type]
        default_factory=lambda: ["mon", "tue", "wed", "thu", "fri"]
    )
    handle_minutes: HandleMinutes = HandleMinutes()
    handle_distribution: Literal["exponential", "fixed"] = "exponential"
    inbound: bool = True
    part_time: bool = True  # a scaled team's last agent may work part of each shift (see the class docstring)
    visits_per_day: int = Field(6, ge=0, le=100)
    visit_success: float = Field(0.6, ge=0, le=1)
    filings_per_day: int = Field(20, ge=0, le=100_000)
    filing_delay_days: int = Field(60, ge=0, le=1000)
    legal_success: float = Field(0.5, ge=0, le=1)
    recovery_share: float = Field(0.6, ge=0, le=1)

    @field_validator("shifts")
    @classmethod
    def _shifts(cls, value: list[str]) -> list[str]:
        parsed = sorted(parse_shift(s) for s in value)
        for (_s1, e1), (s2, _) in zip(parsed, parsed[1:], strict=False):
            if s2 < e1:
                raise ValueError(f"shifts overlap: {value}")
        return value

    # Set with ``agents`` when the scenario staffs a scaled team; not part of the content.
    _part_time_share: float = PrivateAttr(1.0)

    @property
    def shift_minutes(self) -> list[tuple[int, int]]:
        return sorted(parse_shift(s) for s in self.shifts)

    @property
    def part_time_share(self) -> float:
        """The share of each shift the last agent works: below 1 only for a scaled team of fractional size.

        A copy whose ``agents`` or ratio was replaced (``model_copy``) is all
        full-time, as a count given in the file is.
        """
        if self.agents_per_1000 is None or self.agents == 0:
            return 1.0
        return self._part_time_share

    @property
    def full_time_equivalents(self) -> float:
        """The team's size in full-time agents: the part-timer counts by its share (0.32 agents is 0.32).

        What a planner's capacity reads; ``agents`` is the people (the part-timer is one of them).
        """
        return self.agents - 1 + self.part_time_share if self.agents else 0.0

    @model_validator(mode="after")
    def _one_size(self) -> TeamSection:
        if self.agents_per_1000 is not None and "agents" in self.model_fields_set:
            raise ValueError("give agents or agents_per_1000, not both")
        return self

    @model_serializer(mode="wrap")
    def _as_written(self, handler):
        # A scaled team is written as its ratio: the count follows from simulation.accounts.
        data = handler(self)
        if self.agents_per_1000 is not None:
            data.pop("agents", None)
        return data


Preset = Literal[PRESETS]  # type: ignore[valid-type]


class ComplianceSection(_Section):
    preset: Preset = "us_reg_f"
    # Rules that switch at placement: before ``placement_dpd`` days past due (or before an agency step
    # places the account) the lender collects its own debt under ``lender_preset``; from then on the
    # agency collects under ``preset`` (and its overrides).
    lender_preset: Preset | None = None
    placement_dpd: int | None = Field(None, ge=1, le=MAX_DAYS + 400)
    window_start: str | None = None
    window_end: str | None = None
    max_call_attempts_7d: int | None = Field(None, ge=0, le=1000)
    quiet_days_after_conversation: int | None = Field(None, ge=0, le=365)
    max_conversations_7d: int | None = Field(None, ge=0, le=1000)
    max_connected_calls_per_day: int | None = Field(None, ge=0, le=1000)
    max_attempts_per_day: int | None = Field(None, ge=0, le=1000)
    max_field_visits_30d: int | None = Field(None, ge=0, le=1000)
    no_contact_on: list[Literal["weekend", "holiday"]] = Field(default_factory=list)
    holiday_country: str = "US"

    @field_validator("window_start", "window_end")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None:
            parse_clock(value)
        return value

    @model_validator(mode="after")
    def _window_order(self) -> ComplianceSection:
        # An inverted window would silently forbid every contact.
        preset = PRESET_RULES[self.preset]
        start = parse_clock(self.window_start or preset["window_start"])
        end = parse_clock(self.window_end or preset["window_end"])
        if start >= end:
            field = "compliance.window_end" if self.window_end is not None else "compliance.window_start"
            raise FieldError(
                field,
                f"the contact window {minutes_to_clock(start)}-{minutes_to_clock(end)} closes before it "
                "opens; window_start must be before window_end",
            )
        # Without placement_dpd the switch comes with the ladder's agency step (checked with the strategy).
        if self.lender_preset is None and self.placement_dpd is not None:
            raise FieldError("compliance.lender_preset", "rules that switch at placement need both lender_preset "
                             "(before) and placement_dpd (the days past due at which the agency's preset starts)")
        return self

    @field_validator("holiday_country")
    @classmethod
    def _country(cls, value: str) -> str:
        if value not in _holiday_countries() and value not in _all_holiday_codes():
            raise ValueError(f"unknown holiday country {value!r}; use an ISO code such as US or CN")
        return value


def _holiday_countries() -> frozenset[str]:
    """ISO codes the ``holidays`` package has calendars for (read from its registry,
    which does not import every country's module)."""
    global _HOLIDAY_COUNTRIES
    if _HOLIDAY_COUNTRIES is None:
        from holidays import registry

        _HOLIDAY_COUNTRIES = frozenset(code for codes in registry.COUNTRIES.values() for code in codes[1:3])
    return _HOLIDAY_COUNTRIES


_HOLIDAY_COUNTRIES: frozenset[str] | None = None


def _all_holiday_codes() -> set[str]:
    # Aliases such as "UK" are only known to the full (slower) listing.
    import holidays

    return set(holidays.list_supported_countries())


class CostsSection(_Section):
    sms: float = Field(0.05, ge=0, le=1e6)
    email: float = Field(0.01, ge=0, le=1e6)
    letter: float = Field(3.0, ge=0, le=1e6)
    agent_minute: float = Field(0.5, ge=0, le=1e6)
    field_visit: float = Field(45.0, ge=0, le=1e6)
    legal_filing: float = Field(250.0, ge=0, le=1e6)
    agency_commission: float = Field(0.139, ge=0, le=1)
    # Money per complaint (handling it); an assumption, see scenarios/README.md.
    complaint: float = Field(100.0, ge=0, le=1e6)


EXCLUSIONS = ("bankruptcy", "deceased", "scra", "attorney", "dispute")  # why an account may not be collected
STATE_CODE = re.compile(r"[A-Z]{2}")


def _default_right_party_by_bucket() -> dict[str, float]:
    # Multipliers on right_party_by_hour. An assumption: early-stage accounts still answer (working numbers,
    # engaged cardholders) and reach falls with delinquency; tuned so that the US scenarios' right-party
    # contacts per attempt (17 % with the flat curve) land inside TransUnion's 2-4 attempts per right-party
    # contact (25-50 %, DOMAIN.md) under the default pressure.
    return {"1-30": 2.2, "31-60": 2.0, "61-90": 1.8, "91-120": 1.6, "121-150": 1.5, "151-180": 1.4}


def _default_opt_out() -> dict[str, float]:
    # Chance that one message leads to an opt-out of its channel, before fatigue: marketing SMS opt-outs run
    # about half a per cent a message and e-mail unsubscribes about a quarter (vendors' benchmarks, weak).
    return {"sms": 0.005, "email": 0.0025}


class ContactSection(_Section):
    """Contact that reacts (``[contact]``, opt-in): who answers, who asks to stop, who may not be contacted.

    Absent, a run is the original model: one right-party curve by hour, no
    opt-outs or cease requests, every account in the book's time zone.
    """

    right_party_by_bucket: dict[str, float] = Field(default_factory=_default_right_party_by_bucket)
    right_party_by_segment: dict[str, float] = Field(default_factory=dict)  # absent segment: 1
    # Contact pressure on the right-party chance: it is multiplied by sim.domain.fatigue(pressure, dial
    # attempts in the last 7 days, hardening): a number dialled often stops being answered (an assumption).
    pressure: float = Field(0.05, ge=0, le=100)
    # Fatigue hardens: sim.domain.contact_pressure's exponent 1 + hardening (0: the original linear one).
    hardening: float = Field(0.5, ge=0, le=10)
    opt_out: dict[str, float] = Field(default_factory=_default_opt_out)
    # Chance that a conversation, and that a message, ends in a cease-communication request (FDCPA §805(c)),
    # before fatigue (assumptions: no public rate found).
    cease_request: float = Field(0.003, ge=0, le=1)
    cease_after_message: float = Field(0.0002, ge=0, le=1)
    # Shares of the generated book excluded from collection (a CSV gives its own ``exclusion`` column).
    exclusions: dict[str, float] = Field(default_factory=dict)
    # The consumers' time zones (IANA names) as shares of the generated book; the rest live in the book's.
    time_zones: dict[str, float] = Field(default_factory=dict)
    book_time_zone: str = "America/New_York"
    # US states (two-letter codes) as shares of the generated book; MA residents get Massachusetts' caps.
    states: dict[str, float] = Field(default_factory=dict)

    @field_validator("right_party_by_bucket")
    @classmethod
    def _by_bucket(cls, value: dict[str, float]) -> dict[str, float]:
        return _over_defaults(_default_right_party_by_bucket(), value, DELINQUENT_BUCKETS, "bucket",
                              "the right-party multiplier for {key} must be a number ≥ 0")

    @field_validator("opt_out")
    @classmethod
    def _opt_out(cls, value: dict[str, float]) -> dict[str, float]:
        merged = _over_defaults(_default_opt_out(), value, ("sms", "email"), "channel",
                                "the opt-out chance for {key} must be between 0 and 1")
        if any(p > 1 for p in merged.values()):
            raise ValueError("an opt-out chance is between 0 and 1")
        return merged

    @field_validator("right_party_by_segment")
    @classmethod
    def _by_segment(cls, value: dict[str, float]) -> dict[str, float]:
        for key, number in value.items():
            if not (math.isfinite(number) and number >= 0):
                raise ValueError(f"the right-party multiplier for {key!r} must be a number ≥ 0")
        return value

    @field_validator("exclusions", "time_zones", "states")
    @classmethod
    def _shares(cls, value: dict[str, float], info) -> dict[str, float]:
        allowed = EXCLUSIONS if info.field_name == "exclusions" else None
        for key, share in value.items():
            if allowed is not None and key not in allowed:
                raise ValueError(f"unknown exclusion {key!r}; allowed: {', '.join(allowed)}")
            if info.field_name == "states" and not STATE_CODE.fullmatch(key):
                raise ValueError(f"a state is a two-letter code such as MA, got {key!r}")
            if not (math.isfinite(share) and 0 <= share <= 1):
                raise ValueError(f"the share of {key!r} must be between 0 and 1")
        if math.fsum(value.values()) > 1 + 1e-9:
            raise ValueError("the shares add up to more than 1")
        if info.field_name == "time_zones":
            for name in value:
                time_zone(name)
        return value

    @field_validator("book_time_zone")
    @classmethod
    def _book_zone(cls, value: str) -> str:
        time_zone(value)
        return value


def time_zone(name: str):
    """The IANA time zone ``name`` (``America/Chicago``), or a ValueError saying what is allowed."""
    import zoneinfo

    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}; use an IANA name such as America/Chicago") from None


# Expected collections per unit of balance over the next 180 days, by the
# state an account is in at the horizon (docs/optimizer_validation.md says how
# they were measured; "current" and "legal" are assumptions).
DEFAULT_BALANCE_VALUE = {"current": 0.95, "1-30": 0.99, "31-60": 0.97, "61-90": 0.95, "91-120": 0.90,
                         "121-150": 0.77, "151-180": 0.42, "legal": 0.26}


class ObjectiveSection(_Section):
    """What the optimizer maximises beyond the cash of the horizon (scenarios/README.md has the sources)."""

    horizon_value: bool = True  # count the book left at the horizon (false: cash within the horizon only)
    balance_value: dict[str, float] = Field(default_factory=lambda: dict(DEFAULT_BALANCE_VALUE))
    written_off_value: float = Field(0.11, ge=0, le=1)  # what a written-off unit still brings (debt sale)
    roll_past_30: float = Field(0.0, ge=0, le=1e6)  # money per account reaching 31 days past due

    @field_validator("balance_value")
    @classmethod
    def _known_states(cls, value: dict[str, float]) -> dict[str, float]:
        states = ("current", *DELINQUENT_BUCKETS, "legal")
        for state, weight in value.items():
            if state not in states:
                raise ValueError(f"unknown state {state!r}; use {', '.join(states)}")
            if not 0 <= weight <= 1:
                raise ValueError(f"{state}: a value per unit of balance is between 0 and 1, got {weight}")
        return {**DEFAULT_BALANCE_VALUE, **value}


def _default_teams() -> dict[str, TeamSection]:
    return {"callers": TeamSection()}


class Scenario(_Section):
    """A whole scenario; build it with :func:`load_scenario` or :meth:`from_dict`."""

    name: str | None = None
    description: str = ""
    simulation: SimulationSection = SimulationSection()
    portfolio: PortfolioSection = PortfolioSection()
    behavior: BehaviorSection = BehaviorSection()
    strategy: StrategySection = StrategySection()
    # Champion/challenger in one book: several strategies instead of one; then
    # ``strategy`` is the champion's (what allocate optimises) and is not content.
    strategies: list[ArmSection] | None = None
    teams: dict[str, TeamSection] = Field(default_factory=_default_teams)
    compliance: ComplianceSection = ComplianceSection()
    costs: CostsSection = CostsSection()
    # Contact that reacts (issue 15); None: the original contact model (and the same content hash).
    contact: ContactSection | None = None
    objective: ObjectiveSection = ObjectiveSection()
    arrivals: ArrivalsSection | None = None  # an open book; None: a closed cohort
    # Where the scenario came from; not part of its content hash.
    source: str = Field("<memory>", exclude=True)
    base_dir: str = Field(".", exclude=True)

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        segments = set(self.portfolio.segments)
        self._check_strategies()
        for prefix, steps in self._ladders():
            self._check_steps(prefix, steps, segments)
        for key in self.behavior.segment_multiplier:
            if key not in segments:
                raise FieldError(
                    f"behavior.segment_multiplier.{key}",
                    f"unknown segment {key!r}; the portfolio has: {', '.join(sorted(segments))}",
                )
        # The card model's tables by segment are checked where a scenario gives them (their defaults
        # name low, medium and high; a segment a table does not name gets the table's fallback).
        for table in ("cure_multiplier", "redefault_rate"):
            given = getattr(self.behavior, table) if table in self.behavior.model_fields_set else {}
            for key in given:
                if key not in segments:
                    raise FieldError(f"behavior.{table}.{key}",
                                     f"unknown segment {key!r}; the portfolio has: {', '.join(sorted(segments))}")
        for name in self.teams:
            if not name.replace("_", "").replace("-", "").isalnum():
                raise FieldError(f"teams.{name}", "team names use letters, digits, - and _")
        self._check_arrivals(segments)
        self._check_placement()
        self._staff_scaled_teams()
        self._check_contact()
        return self

    def _check_placement(self) -> None:
        """A lender's preset switches to the agency's at ``placement_dpd`` or at a ladder's agency step."""
        compliance = self.compliance
        if compliance.lender_preset is None or compliance.placement_dpd is not None:
            return
        if not any(step.channel == "agency" for _, steps in self._ladders() for step in steps):
            raise FieldError("compliance.placement_dpd", "rules that switch at placement need placement_dpd (the "
                             "days past due at which the agency's preset starts) or an agency step in the ladder")

    def _check_contact(self) -> None:
        """``[contact]``'s segments exist, and no hour's right-party chance can pass 1 − wrong_party_rate."""
        contact = self.contact
        if contact is None:
            return
        for key in contact.right_party_by_segment:
            if key not in self.portfolio.segments:
                raise FieldError(f"contact.right_party_by_segment.{key}",
                                 f"unknown segment {key!r}; the portfolio has: {', '.join(self.portfolio.segments)}")
        highest = (max(self.behavior.right_party_by_hour) * max(contact.right_party_by_bucket.values())
                   * max([1.0, *contact.right_party_by_segment.values()]))
        if highest + self.behavior.wrong_party_rate > 1 + 1e-12:
            raise FieldError("contact.right_party_by_bucket",
                             f"the best hour × bucket × segment gives a right-party chance of {highest:.3g}, "
                             "which with behavior.wrong_party_rate passes 1; lower the multipliers")

    def _check_arrivals(self, segments: set[str]) -> None:
        """Arrivals' segments are the portfolio's, and the book with every arrival fits the account limit."""
        arrivals = self.arrivals
        if arrivals is None:
            return
        for seg in arrivals.segments or {}:
            if seg not in segments:
                raise FieldError(f"arrivals.segments.{seg}",
                                 f"unknown segment {seg!r}; the portfolio has: {', '.join(sorted(segments))}")
        # Rows are preallocated for every arrival: bound their expected number (Poisson: + 6 sd).
        monthly = arrivals.monthly(self.simulation.accounts)
        mean = monthly * self.simulation.total_days / 30.0
        if self.simulation.accounts + mean + 6.0 * math.sqrt(mean) > MAX_ACCOUNTS:
            field = "arrivals.per_month" if arrivals.per_month is not None else "arrivals.per_1000_per_month"
            raise FieldError(field, f"{monthly:,.0f} a month over {self.simulation.total_days} days is about "
                             f"{mean:,.0f} accounts; with the book that is more than {MAX_ACCOUNTS:,}")

    def _ladders(self) -> list[tuple[str, list[Step]]]:
        """Every ladder of the scenario with the field its steps are under."""
        if self.strategies is None:
            return [("strategy.steps", self.strategy.steps)]
        return [(f"strategies.{i}.steps", arm.steps) for i, arm in enumerate(self.strategies)]

    def _check_steps(self, prefix: str, steps: list[Step], segments: set[str]) -> None:
        for i, step in enumerate(steps):
            for seg in step.segments or []:
                if seg not in segments:
                    raise FieldError(
                        f"{prefix}.{i}.segments",
                        f"unknown segment {seg!r}; the portfolio has: {', '.join(sorted(segments))}",
                    )
            for seg in step.acceptance_by_segment or {}:
                if seg not in segments:
                    raise FieldError(
                        f"{prefix}.{i}.acceptance_by_segment",
                        f"unknown segment {seg!r}; the portfolio has: {', '.join(sorted(segments))}",
                    )
            if step.team is not None:
                if step.team not in self.teams:
                    raise FieldError(
                        f"{prefix}.{i}.team",
                        f"unknown team {step.team!r}; teams: {', '.join(self.teams) or 'none'}",
                    )
                want = TEAM_KIND_OF_CHANNEL.get(step.channel)
                if want is None or self.teams[step.team].kind != want:
                    raise FieldError(
                        f"{prefix}.{i}.team",
                        f"team {step.team!r} cannot do {step.channel}",
                    )

    def _check_strategies(self) -> None:
        """Several strategies: two or more, distinct names, one champion, shares adding up to 1.

        The champion's strategy becomes ``strategy``, so that whatever reads one
        strategy (the call list's priority, allocate) reads the champion's.
        """
        arms = self.strategies
        if arms is None:
            return
        if "strategy" in self.model_fields_set:
            raise FieldError("strategies", "give one [strategy] or several [[strategies]], not both")
        if not 2 <= len(arms) <= MAX_STRATEGIES:
            raise FieldError("strategies", f"champion/challenger needs 2 to {MAX_STRATEGIES} strategies, "
                                           f"got {len(arms)} (one strategy is [strategy])")
        _check_arm_names(arms)
        champion = _the_champion(arms)
        total = math.fsum(arm.share for arm in arms)
        if abs(total - 1.0) > SHARE_TOLERANCE:
            raise FieldError("strategies", f"shares must add up to 1 (they add up to {total:.12g})")
        steps = sum(len(arm.steps) for arm in arms)
        if steps > MAX_COMBINED_STEPS:
            raise FieldError("strategies", f"the strategies have {steps} steps together; they run as one ladder "
                                           f"of at most {MAX_COMBINED_STEPS}")
        # Set once while the (frozen) scenario is built, like the scaled teams.
        object.__setattr__(self, "strategy", champion.as_strategy())

    def _staff_scaled_teams(self) -> None:
        """Teams given per 1,000 accounts get their agents for this book's size at the start.

        A generated book has ``simulation.accounts``; a book read from
        ``portfolio.csv`` has the CSV's accounts, counted here (its data rows).
        With an open book and a warm-up the engine staffs them again on the
        book at the start of the measured days (:mod:`sim.engine.arrivals`).
        """
        accounts = None
        for name, team in self.teams.items():
            if team.agents_per_1000 is None:
                continue
            field = f"teams.{name}.agents_per_1000"
            if accounts is None:
                accounts = self._csv_accounts(field) if self.portfolio.csv else self.simulation.accounts
            agents = scaled_agents(team.agents_per_1000, accounts)
            if agents > MAX_AGENTS:
                raise FieldError(field, f"{team.agents_per_1000:g} per 1,000 of {accounts:,} accounts is "
                                         f"{agents:,} agents; a team has at most {MAX_AGENTS:,}")
            # The frozen team is replaced in the (mutable) table, once, while the scenario is built.
            staffed = team.model_copy(update={"agents": agents})
            staffed._part_time_share = team_part_time_share(team, accounts)
            self.teams[name] = staffed

    def _csv_accounts(self, field: str) -> int:
        """The accounts of ``portfolio.csv`` (its non-blank rows after the header), to staff a scaled team."""
        path = self.csv_path
        if path is None or not is_regular_file(path):
            raise FieldError(field, f"counts the accounts of portfolio.csv, and {self.portfolio.csv!r} is not a "
                                    "readable file: give agents, or the CSV")
        raw = read_bounded(path, limit=MAX_CSV_BYTES, kind="portfolio CSV")
        return sum(1 for line in raw.splitlines()[1:] if line.strip())

    # -- provenance ---------------------------------------------------------------------------

    @property
    def display_name(self) -> str:
        return self.name or self.strategy.name

    def content(self) -> dict[str, Any]:
        """The scenario as plain data (what the hash covers), TOML-ready."""
        data = self.model_dump(mode="json", exclude_none=True)
        if self.strategies is not None:
            data.pop("strategy")  # the champion's, already in strategies
        if data["simulation"].get("currency") == PRESET_CURRENCY[self.compliance.preset]:
            data["simulation"].pop("currency")  # the default spelled out is the same scenario (same hash)
        return data

    @property
    def currency(self) -> str:
        """The ISO 4217 code of the scenario's amounts: ``[simulation] currency`` or the preset's country's."""
        return self.simulation.currency or PRESET_CURRENCY[self.compliance.preset]

    @property
    def champion(self) -> ArmSection | None:
        """The champion of a champion/challenger scenario (None with one strategy)."""
        if self.strategies is None:
            return None
        return next(arm for arm in self.strategies if arm.champion)

    def champion_world(self) -> Scenario:
        """The scenario with the champion's strategy alone, as if it had the whole book."""
        if self.strategies is None:
            return self
        data = self.content()
        data.pop("strategies")
        data["strategy"] = self.strategy.model_dump(mode="json", exclude_none=True)
        return Scenario.from_dict(data, source=self.source, base_dir=self.base_dir)

    @property
    def content_hash(self) -> str:
        payload = json.dumps(self.content(), sort_keys=True, separators=(",", ":"))
        digest = hashlib.sha256(payload.encode())
        if self.portfolio.csv:
            csv_path = self.csv_path
            if csv_path is not None and is_regular_file(csv_path):
                digest.update(csv_path.read_bytes())
        return digest.hexdigest()[:16]

    @property
    def csv_path(self) -> Path | None:
        if not self.portfolio.csv:
            return None
        path = Path(self.portfolio.csv)
        return path if path.is_absolute() else Path(self.base_dir) / path

    def to_toml(self) -> str:
        import tomli_w

        data = self.content()
        if self.portfolio.csv and self.csv_path is not None:
            data["portfolio"]["csv"] = str(self.csv_path.resolve())
        return tomli_w.dumps(data)

    # -- variants -----------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any], *, source: str = "<memory>", base_dir: str = ".") -> Scenario:
        """Validate plain data (as read from TOML) into a scenario."""
        if not isinstance(data, dict):
            raise ScenarioError(source, "", "a scenario is a TOML table")
        data = dict(data)
        data.pop("extends", None)
        data = _take_strategy_files(data, source, base_dir)
        try:
            return cls.model_validate({**data, "source": source, "base_dir": base_dir})
        except ValidationError as err:
            raise _as_scenario_error(err, source) from None
        except FieldError as err:
            raise ScenarioError(source, err.field, err.message) from None

    def with_overrides(self, overrides: dict[str, Any]) -> Scenario:
        """A copy with dotted-path overrides applied, e.g. ``{"simulation.days": 30}``."""
        data = self.content()
        for path, value in overrides.items():
            set_path(data, path, value, source=self.source)
        return Scenario.from_dict(data, source=self.source, base_dir=self.base_dir)


def _check_arm_names(arms: list[ArmSection]) -> None:
    seen: set[str] = set()
    for i, arm in enumerate(arms):
        if arm.name in seen:
            raise FieldError(f"strategies.{i}.name", f"duplicate strategy name {arm.name!r}; each needs its own")
        seen.add(arm.name)
        if not arm.champion:
            for key in ("priority", "redial_minutes"):
                if getattr(arm, key) is not None:
                    raise FieldError(f"strategies.{i}.{key}", "the strategies share one call list; "
                                                              "set it on the champion only")


def _the_champion(arms: list[ArmSection]) -> ArmSection:
    champions = [i for i, arm in enumerate(arms) if arm.champion]
    if not champions:
        raise FieldError("strategies", "exactly one strategy needs champion = true; none has it")
    if len(champions) > 1:
        names = " and ".join(repr(arms[i].name) for i in champions[:2])
        raise FieldError(f"strategies.{champions[1]}.champion",
                         f"exactly one strategy is the champion; {names} both are")
    return arms[champions[0]]


def _as_scenario_error(err: ValidationError, source: str) -> ScenarioError:
    first = err.errors()[0]
    loc = ".".join(str(p) for p in first.get("loc", ()) if p != "__root__")
    message = first.get("msg", "invalid value")
    if first.get("type") == "extra_forbidden":
        message = "unknown key (check the spelling)"
    elif message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    ctx_input = first.get("input")
    if first.get("type") in {"finite_number"}:
        message = f"must be a finite number, got {ctx_input}"
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        return ScenarioError(source, cause.field, cause.message)
    return ScenarioError(source, loc, message)


# ----------------------------------------------------------------------------- loading


# Keys that say the same thing two ways: setting one (in a nearer file, or as an
# override) drops the other, so a variant can switch a team to a ratio.
ALTERNATIVE_KEYS = {"agents": "agents_per_1000", "agents_per_1000": "agents",
                    "strategy": "strategies", "strategies": "strategy"}


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Tables merge key by key; anything else (numbers, strings, arrays) is replaced.

    A key of :data:`ALTERNATIVE_KEYS` replaces its alternative too.
    """
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if key in ALTERNATIVE_KEYS:
            merged.pop(ALTERNATIVE_KEYS[key], None)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def set_path(data: dict[str, Any], path: str, value: Any, *, source: str = "<override>") -> None:
    """Set ``a.b.0.c`` in nested TOML data; list indices are numbers."""
    parts = path.split(".")
    node: Any = data
    for i, part in enumerate(parts):
        last = i == len(parts) - 1
        if isinstance(node, list):
            if not part.isdigit() or int(part) >= len(node):
                raise ScenarioError(source, path, f"no list item {part!r} (there are {len(node)})")
            if last:
                node[int(part)] = value
            else:
                node = node[int(part)]
        elif isinstance(node, dict):
            if last:
                if part in ALTERNATIVE_KEYS:
                    node.pop(ALTERNATIVE_KEYS[part], None)
                node[part] = value
            else:
                node = node.setdefault(part, {})
        else:
            raise ScenarioError(source, path, f"{'.'.join(parts[:i])} is not a table or list")


def _article(noun: str) -> str:
    return "an" if noun[0] in "aeiou" else "a"


def decode_small_file(raw: bytes, source: str, *, kind: str, needs: str, max_bytes: int,
                      fmt: str = "TOML") -> str:
    """A small input file's bytes as text; too large, binary or empty is a ScenarioError.

    Shared by the command lines (files on disk) and the app (uploads), so both
    give the same one-line answer. ``kind`` names the file ("scenario", "debt
    file"), ``needs`` says what an empty one lacks, ``fmt`` its format.
    """
    article = _article(kind)
    if len(raw) > max_bytes:
        raise ScenarioError(source, "", f"file is larger than {max_bytes // 1_000_000} MB; "
                                        f"{article} {kind} is a small {fmt} file")
    try:
        # A byte-order mark is what Windows editors put first in UTF-8 files;
        # TOML forbids it, but it says nothing wrong about the content.
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(source, "", f"not a text file ({article} {kind} is UTF-8 {fmt})") from None
    if "\x00" in text:
        raise ScenarioError(source, "", f"not a text file ({article} {kind} is UTF-8 {fmt})")
    if not text.strip():
        raise ScenarioError(source, "", f"file is empty; {article} {kind} needs {needs}")
    return text


def read_toml_file(path: Path, source: str, *, kind: str = "scenario", needs: str = "at least [strategy]",
                   max_bytes: int = MAX_SCENARIO_BYTES) -> dict[str, Any]:
    """The TOML table in a small input file; every way it can be unreadable is a ScenarioError.

    The bytes come from :func:`sim.io.read_bounded`: only a regular file of at
    most ``max_bytes`` is read, so a device, a FIFO or a symlink loop is one
    line too, never a hang.
    """
    raw = read_bounded(path, limit=max_bytes, kind=kind, source=source)
    text = decode_small_file(raw, source, kind=kind, needs=needs, max_bytes=max_bytes)
    return parse_toml(text, source)


_TOML_POSITION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def parse_toml(text: str, source: str) -> dict[str, Any]:
    """TOML text as data; any failure is a :class:`ScenarioError` naming the line."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        message = str(err)
        position = _TOML_POSITION.search(message)
        if position:
            message = message[: position.start()]
            raise ScenarioError(source, f"line {position[1]}",
                                f"TOML syntax error at column {position[2]}: {message}") from None
        raise ScenarioError(source, "", f"TOML syntax error: {message}") from None
    except RecursionError:
        raise ScenarioError(source, "", "arrays or tables are nested too deeply") from None
    except ValueError as err:
        if "digits" in str(err):  # Python's limit on integer literals (4300 digits)
            raise ScenarioError(source, "", "a number has thousands of digits; no field allows that") from None
        raise ScenarioError(source, "", f"TOML error: {err}") from None


def _resolve(path: Path) -> dict[str, Any]:
    """The file's TOML merged over everything it ``extends``, nearest file last.

    The chain is followed in a loop, not by recursion, so that a long chain is
    this module's error naming the file where it becomes too deep, not a
    ``RecursionError`` blamed on whichever file was being parsed. A cycle, a
    missing, unreadable or special ``extends`` target is blamed on the file
    whose ``extends`` names it; a fault inside a target names the target.
    """
    layers = [_one_kind_of_strategy(read_toml_file(path, str(path)), str(path))]
    chain = [Path(os.path.realpath(path))]
    current = path
    while (parent := layers[-1].pop("extends", None)) is not None:
        source = str(current)
        if not isinstance(parent, str) or not parent:
            raise ScenarioError(source, "extends", "must be the path of another scenario file")
        if len(layers) >= MAX_EXTENDS_DEPTH:
            raise ScenarioError(source, "extends", f"the chain of extends starting at {path} is more than "
                                                   f"{MAX_EXTENDS_DEPTH} files long here; at most "
                                                   f"{MAX_EXTENDS_DEPTH} files may extend one another")
        parent_path = Path(parent) if Path(parent).is_absolute() else current.parent / parent
        try:
            # Read before realpath: the reader turns a NUL byte or a symlink loop into one line.
            raw = read_bounded(parent_path, limit=MAX_SCENARIO_BYTES, kind="scenario")
        except ScenarioError as err:
            message = f"file {parent!r} not found" if err.message == "file not found" else f"{parent!r} {err.message}"
            raise ScenarioError(source, "extends", message) from None
        real = Path(os.path.realpath(parent_path))
        if real in chain:
            cycle = " -> ".join(p.name for p in (*chain, real))
            raise ScenarioError(source, "extends", f"cycle of extends: {cycle}")
        text = decode_small_file(raw, str(parent_path), kind="scenario", needs="at least [strategy]",
                                 max_bytes=MAX_SCENARIO_BYTES)
        layers.append(_one_kind_of_strategy(parse_toml(text, str(parent_path)), str(parent_path)))
        chain.append(real)
        current = parent_path
    merged: dict[str, Any] = {}
    for layer in reversed(layers):
        merged = deep_merge(merged, layer)
    return merged


def _one_kind_of_strategy(layer: dict[str, Any], source: str) -> dict[str, Any]:
    """A file's table, refused if it gives both ``[strategy]`` and ``[[strategies]]``.

    Checked file by file: once merged, the nearer file's kind replaces the
    other (:data:`ALTERNATIVE_KEYS`), so a champion/challenger file can extend
    a one-strategy scenario.
    """
    if "strategy" in layer and "strategies" in layer:
        raise ScenarioError(source, "strategies", "give one [strategy] or several [[strategies]], not both")
    return layer


def _take_strategy_files(data: dict[str, Any], source: str, base_dir: str) -> dict[str, Any]:
    """``data`` with each ``[[strategies]]`` entry's ``from = "file.toml"`` replaced by that file's ladder."""
    arms = data.get("strategies")
    if not isinstance(arms, list) or not any(isinstance(arm, dict) and "from" in arm for arm in arms):
        return data
    taken = [_strategy_from_file(dict(arm), i, source, base_dir) if isinstance(arm, dict) and "from" in arm
             else arm for i, arm in enumerate(arms)]
    return {**data, "strategies": taken}


def _strategy_from_file(arm: dict[str, Any], i: int, source: str, base_dir: str) -> dict[str, Any]:
    """One arm with another scenario's strategy: its steps (and, for the champion, its call-list settings).

    The other file is read with its ``extends`` but must hold one ``[strategy]``:
    a champion/challenger file there would be a test inside a test (and could
    name this file back).
    """
    field = f"strategies.{i}.from"
    target = arm.pop("from")
    if not isinstance(target, str) or not target:
        raise ScenarioError(source, field, "must be the path of another scenario file")
    if "steps" in arm:
        raise ScenarioError(source, field, "give steps or from, not both")
    path = Path(target) if Path(target).is_absolute() else Path(base_dir) / target
    try:
        other = _resolve(path)
    except ScenarioError as err:
        if err.source == printable(str(path)) and not err.field:  # the file itself is missing or unreadable
            raise ScenarioError(source, field, f"{target!r}: {err.message}") from None
        raise
    if "strategies" in other:
        raise ScenarioError(source, field, f"{target!r} has [[strategies]]; from takes a scenario with one "
                                           "[strategy]")
    strategy = Scenario.from_dict(other, source=str(path), base_dir=str(path.parent)).strategy
    arm.setdefault("name", strategy.name)
    arm["steps"] = [step.model_dump(mode="json", exclude_none=True) for step in strategy.steps]
    if arm.get("champion") is True:
        arm.setdefault("priority", strategy.priority)
        arm.setdefault("redial_minutes", strategy.redial_minutes)
    return arm


def load_scenario(path: str | Path, overrides: dict[str, Any] | None = None) -> Scenario:
    """Load, merge (``extends``), override and validate a scenario file.

    Raises
    ------
    ScenarioError
        With one line naming the file, the field and what is allowed.
    """
    path = Path(path)
    data = _resolve(path)
    for dotted, value in (overrides or {}).items():
        set_path(data, dotted, value, source=str(path))
    return Scenario.from_dict(data, source=str(path), base_dir=str(path.parent))


def load_scenario_text(text: str, *, source: str = "<upload>", base_dir: str = ".") -> Scenario:
    """Validate scenario TOML given as text (uploads, the app's editor). No ``extends``."""
    if not text.strip():
        raise ScenarioError(source, "", "empty; a scenario needs at least [strategy]")
    data = parse_toml(text, source)
    if "extends" in data:
        raise ScenarioError(source, "extends", "not allowed here; upload the merged scenario")
    for i, arm in enumerate(data.get("strategies") or []):
        if isinstance(arm, dict) and "from" in arm:
            raise ScenarioError(source, f"strategies.{i}.from", "not allowed here; give the strategy's steps")
    return Scenario.from_dict(data, source=source, base_dir=base_dir)
