"""Debt files: a borrower's debts, budget and card terms, validated and immutable.

This is the input side of the payoff advisor (DOMAIN.md, "Repaying one's own
debts"). A debt file is a small TOML file::

    budget = 400
    [[debts]]
    name = "Card A"
    balance = 5000
    apr = 0.25
    minimum = { percent = 0.01, plus_interest = true, floor = 25 }
    promo = [{ months = 12, apr = 0.0 }]

Every mistake a user can make (missing file, TOML syntax, unknown keys, a
negative balance, an APR written as 25 instead of 0.25, NaN, a wrong type) is
a :class:`~sim.errors.InputError` naming the file and the field.
"""

from __future__ import annotations

import datetime as dt
import difflib
import math
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim.card_terms import (
    CN_DAILY_RATE,
    DAYS_PER_YEAR,
    US_MINIMUM_FLOOR,
    US_MINIMUM_PERCENT,
    Convention,
    default_minimum,
)
from sim.errors import FieldError, InputError
from sim.scenario import read_toml_file

from .option_terms import Option, check_debt_names

MAX_MONEY = 1e9  # any amount of money (balance, budget, fee, extra): no household owes a billion
MAX_MONTHS = 600  # fifty years: the advisor's horizon; beyond it a plan "never" pays off
# The first month a plan may start in; with MAX_MONTHS after it, every plan date
# stays a valid calendar date (the last is December 2250).
FIRST_START_YEAR = 1900
LAST_START_YEAR = 2200
MAX_DEBTS = 50
MAX_OPTIONS = 20


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=False)


def _apr_is_fraction(value: Any) -> Any:
    # The commonest mistake: "25" for 25 %. Say what was meant instead of "≤ 1".
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 1:
        raise ValueError(f"APR is a fraction (0.25 for 25 %), got {value}")
    return value


class Minimum(_Table):
    """The card's minimum-payment rule.

    Either ``fixed`` (a fixed amount, e.g. a loan instalment) or the greater
    of ``floor`` and ``percent`` of the balance, plus this month's interest
    (``plus_interest``) and fees (``plus_fees``). Never more than is owed.
    """

    percent: float = Field(US_MINIMUM_PERCENT, ge=0, le=1)
    plus_interest: bool = True
    plus_fees: bool = True
    floor: float = Field(US_MINIMUM_FLOOR, ge=0, le=MAX_MONEY)
    fixed: float | None = Field(None, gt=0, le=MAX_MONEY)

    @model_validator(mode="after")
    def _fixed_alone(self) -> Minimum:
        if self.fixed is not None and self.model_fields_set & {"percent", "floor", "plus_interest"}:
            raise ValueError("give either fixed, or percent/floor/plus_interest, not both")
        return self


class PromoPeriod(_Table):
    """A stretch of months at a promotional APR; periods follow each other from month 1."""

    months: int = Field(ge=1, le=MAX_MONTHS)
    apr: float = Field(ge=0, le=1)

    @field_validator("apr", mode="before")
    @classmethod
    def _apr(cls, value: Any) -> Any:
        return _apr_is_fraction(value)


class Hardship(_Table):
    """A hardship (workout) plan: a reduced APR and a payment that amortises over ``months``."""

    apr: float = Field(ge=0, le=1)
    months: int = Field(60, ge=1, le=MAX_MONTHS)

    @field_validator("apr", mode="before")
    @classmethod
    def _apr(cls, value: Any) -> Any:
        return _apr_is_fraction(value)


class Debt(_Table):
    """One debt: its balance, rate schedule, minimum rule, fees and interest convention."""

    name: str = Field(min_length=1, max_length=80)
    balance: float = Field(ge=0, le=MAX_MONEY)
    apr: float | None = Field(None, ge=0, le=1)
    convention: Convention = "monthly"
    daily_rate: float | None = Field(None, gt=0, le=0.01)
    minimum: Minimum | None = None
    promo: list[PromoPeriod] = Field(default_factory=list, max_length=24)
    annual_fee: float = Field(0.0, ge=0, le=MAX_MONEY)
    balance_transfer_fee: float = Field(0.0, ge=0, le=0.5)
    late_fee: float = Field(0.0, ge=0, le=MAX_MONEY)
    penalty_apr: float | None = Field(None, ge=0, le=1)
    hardship: Hardship | None = None

    @field_validator("apr", "penalty_apr", mode="before")
    @classmethod
    def _aprs(cls, value: Any) -> Any:
        return _apr_is_fraction(value)

    @model_validator(mode="after")
    def _consistent(self) -> Debt:
        if self.convention == "cn":
            if self.apr is not None:
                raise ValueError("a cn card has a daily_rate (default 0.0005), not an apr")
        elif self.apr is None:
            raise ValueError("apr is required (a fraction: 0.25 for 25 %)")
        elif self.daily_rate is not None:
            raise ValueError("daily_rate is only for convention = 'cn'; use apr")
        if self.hardship is not None and self.promo:
            raise ValueError("a hardship plan replaces the rate schedule; drop promo")
        if sum(p.months for p in self.promo) > MAX_MONTHS:
            raise ValueError(f"promo periods add up to more than {MAX_MONTHS} months")
        return self

    # -- the terms the engine reads ----------------------------------------------------------

    @property
    def base_apr(self) -> float:
        """The APR after any promotion; for a cn card, the daily rate times 365."""
        if self.hardship is not None:
            return self.hardship.apr
        if self.convention == "cn":
            return (self.daily_rate or CN_DAILY_RATE) * DAYS_PER_YEAR
        return float(self.apr or 0.0)

    @property
    def minimum_rule(self) -> Minimum:
        if self.minimum is not None:
            return self.minimum
        if self.convention == "cn":
            return Minimum(**default_minimum("cn"))  # 10 % plus interest and fees, a floor of 10
        return Minimum()

    def apr_in_month(self, month: int) -> float:
        """The scheduled APR in ``month`` (1-based): promo periods first, then the base APR."""
        if self.hardship is None:
            end = 0
            for period in self.promo:
                end += period.months
                if month <= end:
                    return period.apr
        return self.base_apr

    @property
    def promo_months(self) -> int:
        return sum(p.months for p in self.promo)


class BudgetChange(_Table):
    """From ``month`` on, the monthly budget is ``amount``."""

    month: int = Field(ge=1, le=MAX_MONTHS)
    amount: float = Field(ge=0, le=MAX_MONEY)


class ExtraPayment(_Table):
    """A one-off extra amount (a bonus, a tax refund) available in ``month``."""

    month: int = Field(ge=1, le=MAX_MONTHS)
    amount: float = Field(gt=0, le=MAX_MONEY)


class DebtFile(_Table):
    """A borrower's whole situation; build it with :func:`load_debts` or :meth:`from_dict`."""

    name: str | None = None
    description: str = ""
    currency: str = Field("$", max_length=8)
    start: dt.date | None = None
    budget: float = Field(ge=0, le=MAX_MONEY)
    budget_changes: list[BudgetChange] = Field(default_factory=list, max_length=MAX_MONTHS)
    extra_payments: list[ExtraPayment] = Field(default_factory=list, max_length=MAX_MONTHS)
    custom_order: list[str] | None = None
    debts: list[Debt] = Field(min_length=1, max_length=MAX_DEBTS)
    options: list[Option] = Field(default_factory=list, max_length=MAX_OPTIONS)
    source: str = Field("<memory>", exclude=True)

    @field_validator("start", mode="before")
    @classmethod
    def _month(cls, value: Any) -> Any:
        # "2026-01" is the natural way to write a month; TOML dates work too.
        if isinstance(value, str) and len(value) == 7 and value[4] == "-":
            value = f"{value}-01"
        return value

    @field_validator("start")
    @classmethod
    def _first_of_month(cls, value: dt.date | None) -> dt.date | None:
        if value is None:
            return None
        # A plan runs up to MAX_MONTHS from here; a start near year 9999 would
        # overflow the calendar in the middle of the report.
        if not FIRST_START_YEAR <= value.year <= LAST_START_YEAR:
            raise ValueError(f"must be a month between {FIRST_START_YEAR}-01 and {LAST_START_YEAR}-12, "
                             f"got {value:%Y-%m}")
        return value.replace(day=1)

    @model_validator(mode="after")
    def _names(self) -> DebtFile:
        names = [d.name for d in self.debts]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise FieldError(f"debts.{i}.name", f"duplicate debt name {name!r}")
        for i, name in enumerate(self.custom_order or []):
            if name not in names:
                raise FieldError(f"custom_order.{i}", f"unknown debt {name!r}; debts: {', '.join(names)}")
            if name in (self.custom_order or [])[:i]:
                raise FieldError(f"custom_order.{i}", f"{name!r} is listed twice")
        check_debt_names(list(self.options), names)
        months = [c.month for c in self.budget_changes]
        if len(set(months)) != len(months):
            raise FieldError("budget_changes", "two budget changes in the same month")
        return self

    # -- schedule ----------------------------------------------------------------------------

    def budget_in_month(self, month: int, base: float | None = None) -> float:
        """The regular budget in ``month`` (before one-off extras)."""
        amount = self.budget if base is None else base
        for change in sorted(self.budget_changes, key=lambda c: c.month):
            if change.month <= month:
                amount = change.amount
        return amount

    def extra_in_month(self, month: int) -> float:
        return sum(e.amount for e in self.extra_payments if e.month == month)

    def calendar_month(self, month: int) -> str | None:
        """``"2027-03"`` for plan month ``month`` (payment at its end), if the file has a start."""
        if self.start is None:
            return None
        index = self.start.year * 12 + self.start.month - 1 + month - 1
        return f"{index // 12:04d}-{index % 12 + 1:02d}"

    def days_in_month(self, month: int) -> Fraction:
        """Days in the billing cycle: the calendar month's, or exactly 365/12 without a start date.

        Exact, so that Reg Z Appendix M1's APR/365 x 365/12 is APR/12 to the last digit.
        """
        if self.start is None:
            return Fraction(365, 12)
        label = self.calendar_month(month)
        year, mon = int(label[:4]), int(label[5:])
        nxt = dt.date(year + mon // 12, mon % 12 + 1, 1)
        return Fraction((nxt - dt.date(year, mon, 1)).days)

    @property
    def last_scheduled_month(self) -> int:
        """The last month in which a term changes (promo end, budget change, extra, hardship)."""
        months = [0]
        months += [c.month for c in self.budget_changes]
        months += [e.month for e in self.extra_payments]
        months += [d.promo_months for d in self.debts]
        months += [d.hardship.months for d in self.debts if d.hardship is not None]
        months += [12 for d in self.debts if d.annual_fee > 0]
        return max(months)

    @classmethod
    def from_dict(cls, data: Any, *, source: str = "<memory>") -> DebtFile:
        """Validate plain data (as read from TOML)."""
        if not isinstance(data, dict):
            raise InputError(source, "", "a debt file is a TOML table")
        try:
            return cls.model_validate({**data, "source": source})
        except ValidationError as err:
            raise _as_error(err, source) from None
        except FieldError as err:
            raise InputError(source, err.field, err.message) from None

    def with_budget(self, budget: float) -> DebtFile:
        """A copy with another base budget (``--budget``), checked like the file's own."""
        if not (isinstance(budget, (int, float)) and math.isfinite(budget) and 0 <= budget <= MAX_MONEY):
            raise InputError("--budget", "", f"must be a number between 0 and {MAX_MONEY:g}, got {budget}")
        data = self.model_dump(exclude={"source"}, exclude_unset=True)
        data["budget"] = budget
        return DebtFile.from_dict(data, source=self.source)


def _as_error(err: ValidationError, source: str) -> InputError:
    """The first validation problem as one line naming the field (e.g. ``debts.0.apr``).

    An unknown key comes first: a typo (``balanse``) also leaves the intended
    key missing, and "balance is required" would hide what the user wrote.
    """
    errors = err.errors()
    first = next((e for e in errors if e.get("type") == "extra_forbidden"), errors[0])
    cause = (first.get("ctx") or {}).get("error")
    if isinstance(cause, FieldError):
        # A table's own check (an option's terms) names its key; the location says which table.
        where = ".".join([*(str(p) for p in first.get("loc", ())), cause.field])
        return InputError(source, where, cause.message)
    loc = tuple(first.get("loc", ()))
    kind = first.get("type", "")
    message = first.get("msg", "invalid value")
    if kind == "extra_forbidden":
        message = _unknown_key(loc)
    elif kind == "finite_number":
        message = f"must be a finite number, got {first.get('input')}"
    elif kind == "missing":
        message = "is required"
    elif kind in ("less_than_equal", "greater_than_equal", "greater_than", "less_than"):
        message = _out_of_range(kind, first.get("ctx") or {}, first.get("input"))
    elif kind == "float_type" and isinstance(first.get("input"), int):
        # An integer too large even for a float (10**400): say the field's limit.
        message = _out_of_range("less_than_equal", {"le": _upper_limit(loc)}, first.get("input"))
    elif message.startswith("Value error, "):
        message = message[len("Value error, ") :]
    return InputError(source, ".".join(str(p) for p in loc), message)


def _out_of_range(kind: str, ctx: dict[str, Any], value: Any) -> str:
    words = {"less_than_equal": ("le", "at most"), "less_than": ("lt", "less than"),
             "greater_than_equal": ("ge", "greater than or equal to"), "greater_than": ("gt", "greater than")}
    key, phrase = words[kind]
    limit = ctx.get(key)
    if limit is None:
        return f"must be a number of sensible size, got {_shown(value)}"
    shown = f"{limit:,.0f}" if limit >= 1e6 else f"{limit:g}"
    return f"must be {phrase} {shown}, got {_shown(value)}"


def _shown(value: Any) -> str:
    # A 5,000-digit integer would make the one-line error 5,000 characters long.
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10**15:
        return f"a {len(str(abs(value)))}-digit integer"
    return f"{value}"


def _upper_limit(loc: tuple) -> float | None:
    """The ``le`` bound of the field at ``loc``, if it has one."""
    parent = next((str(p) for p in reversed(loc[:-1]) if isinstance(p, str)), "")
    model = _tables().get(parent)
    info = model.model_fields.get(str(loc[-1])) if model is not None and loc else None
    return next((m.le for m in getattr(info, "metadata", ()) if hasattr(m, "le")), None)


def _tables() -> dict[str, type[BaseModel]]:
    """The model behind each table of a debt file, by the key it sits under."""
    return {"": DebtFile, "debts": Debt, "minimum": Minimum, "promo": PromoPeriod, "hardship": Hardship,
            "budget_changes": BudgetChange, "extra_payments": ExtraPayment, "options": Option}


def _unknown_key(loc: tuple) -> str:
    """"unknown key", with the closest allowed key (or the list of them) for a typo."""
    key = str(loc[-1]) if loc else ""
    parent = next((str(p) for p in reversed(loc[:-1]) if isinstance(p, str)), "")
    model = _tables().get(parent)
    if model is None:
        return "unknown key (check the spelling)"
    allowed = [name for name, info in model.model_fields.items() if not info.exclude]
    close = difflib.get_close_matches(key, allowed, n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean {close[0]!r}?"
    return f"unknown key; allowed: {', '.join(allowed)}"


def read_toml(path: Path) -> dict[str, Any]:
    """The TOML table in ``path``; every way a file can be unreadable is a InputError."""
    return read_toml_file(path, str(path), kind="debt file", needs="budget and [[debts]]", max_bytes=1_000_000)


def load_debts(path: str | Path) -> DebtFile:
    """Load and validate a debt file.

    Raises
    ------
    InputError
        One line naming the file, the field and what is allowed.
    """
    path = Path(path)
    return DebtFile.from_dict(read_toml(path), source=str(path))
