"""The ``[[options]]`` of a debt file: the ways out of debt a client asks an advisor about.

Each option has a ``kind`` and the terms a lender or agency would quote
(DOMAIN.md, "Repaying one's own debts"; issue 19):

``consolidation_loan``
    ``apr``, ``months``, ``origination_fee`` (a share of the loan, deducted
    from what is paid out) and ``debts`` (which it pays off; all by default).
``balance_transfer``
    ``fee`` (a share of the amount moved), ``promo_apr`` for ``promo_months``,
    the card's ``apr`` after, its ``limit`` (the amount moved plus the fee) and
    ``debts`` (which move, in that order; the rest stay).
``debt_management_plan``
    the reduced ``apr`` (one rate, or a table by debt), ``payment_share`` (the
    monthly payment as a share of the enrolled balance; NFCC plans pay about
    1.75–2 %), a ``monthly_fee`` and ``debts`` (enrolled; all by default).
``settlement``
    ``forgiven`` (the share of the balance forgiven), ``month`` (when the
    settled amount is paid), an optional ``fee`` (the settlement company's,
    a share of the enrolled balance) and ``debts``.
``installment_conversion`` (账单分期, Chinese cards)
    ``debt`` (which card), ``monthly_fee`` (a share of the converted principal
    charged every month), ``months`` and an optional ``amount`` (the whole
    balance by default).

Which keys a kind takes is checked here, so that a key of another kind
(``promo_apr`` on a loan) is one line naming the allowed ones.
"""

from __future__ import annotations

import difflib
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim.errors import FieldError

MAX_TERM_MONTHS = 600

Kind = Literal["consolidation_loan", "balance_transfer", "debt_management_plan", "settlement",
               "installment_conversion"]

# The terms each kind takes besides ``kind`` and ``name``; the rest are required where noted in REQUIRED.
TERMS: dict[str, tuple[str, ...]] = {
    "consolidation_loan": ("apr", "months", "origination_fee", "debts"),
    "balance_transfer": ("fee", "promo_apr", "promo_months", "apr", "limit", "debts"),
    "debt_management_plan": ("apr", "payment_share", "monthly_fee", "debts"),
    "settlement": ("forgiven", "month", "fee", "debts"),
    "installment_conversion": ("debt", "monthly_fee", "months", "amount"),
}
REQUIRED: dict[str, tuple[str, ...]] = {
    "consolidation_loan": ("apr", "months"),
    "balance_transfer": ("fee", "apr"),
    "debt_management_plan": ("apr",),
    "settlement": ("forgiven", "month"),
    "installment_conversion": ("debt", "monthly_fee", "months"),
}
DEFAULT_NAMES = {
    "consolidation_loan": "Consolidation loan",
    "balance_transfer": "Balance transfer",
    "debt_management_plan": "Debt management plan",
    "settlement": "Settlement",
    "installment_conversion": "Instalment conversion",
}
DMP_PAYMENT_SHARE = 0.02  # NFCC: plans pay about 1.75-2 % of the enrolled balance a month


def _fraction(value: Any, what: str) -> Any:
    # "25" for 25 % is the commonest mistake: say what was meant.
    if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 1:
        raise ValueError(f"{what} is a fraction (0.25 for 25 %), got {value}")
    return value


class Option(BaseModel):
    """One option as written in the file; :mod:`optimizer.payoff.options` books it."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, strict=False)

    kind: Kind
    name: str | None = Field(None, min_length=1, max_length=80)
    debts: list[str] | None = Field(None, min_length=1, max_length=50)
    debt: str | None = Field(None, min_length=1, max_length=80)
    apr: float | dict[str, float] | None = None
    months: int | None = Field(None, ge=1, le=MAX_TERM_MONTHS)
    month: int | None = Field(None, ge=1, le=MAX_TERM_MONTHS)
    origination_fee: float = Field(0.0, ge=0, le=0.5)
    fee: float = Field(0.0, ge=0, le=0.5)
    promo_apr: float = Field(0.0, ge=0, le=1)
    promo_months: int = Field(0, ge=0, le=MAX_TERM_MONTHS)
    limit: float | None = Field(None, gt=0, le=1e9)
    payment_share: float = Field(DMP_PAYMENT_SHARE, gt=0, le=1)
    monthly_fee: float = Field(0.0, ge=0, le=1e9)
    forgiven: float | None = Field(None, ge=0, lt=1)
    amount: float | None = Field(None, gt=0, le=1e9)

    @field_validator("apr", "promo_apr", mode="before")
    @classmethod
    def _aprs(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for debt, rate in value.items():
                _fraction(rate, f"the APR of {debt!r}")
                if not isinstance(rate, (int, float)) or isinstance(rate, bool) or rate < 0:
                    raise ValueError(f"the APR of {debt!r} must be a number ≥ 0, got {rate!r}")
            return value
        if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
            raise ValueError(f"must be ≥ 0, got {value}")
        return _fraction(value, "APR")

    @model_validator(mode="after")
    def _terms_of_its_kind(self) -> Option:
        allowed = TERMS[self.kind]
        # A term of another kind (promo_months on a loan) is a mix-up, not a typo: list what this kind takes.
        for key in sorted(self.model_fields_set - {"kind", "name"} - set(allowed)):
            raise FieldError(key, f"not a term of a {self.kind}; a {self.kind} takes: {', '.join(allowed)}")
        for key in REQUIRED[self.kind]:
            if key not in self.model_fields_set or getattr(self, key) is None:
                raise FieldError(key, f"is required for a {self.kind} (it takes: {', '.join(allowed)})")
        if self.kind == "installment_conversion" and self.monthly_fee > 0.1:
            raise FieldError("monthly_fee", f"is a share of the principal a month (0.006 for 0.6 %), "
                                            f"got {self.monthly_fee}")
        if self.kind != "debt_management_plan" and isinstance(self.apr, dict):
            raise FieldError("apr", "one rate (a fraction); a table by debt is for a debt_management_plan")
        return self

    @property
    def label(self) -> str:
        return self.name or DEFAULT_NAMES[self.kind]

    def enrolled(self, names: list[str]) -> list[str]:
        """The debts the option takes over, in the order given (all, in file order, by default)."""
        if self.kind == "installment_conversion":
            return [self.debt] if self.debt else []
        return list(self.debts) if self.debts else list(names)

    def reduced_apr(self, debt: str) -> float | None:
        """A debt management plan's rate for ``debt`` (None: the debt keeps its own)."""
        if isinstance(self.apr, dict):
            return self.apr.get(debt)
        return self.apr


def check_debt_names(options: list[Option], names: list[str]) -> None:
    """Every debt an option names is in the file, once; raises FieldError naming the option."""
    for i, option in enumerate(options):
        fields = [f"options.{i}.debt" if option.kind == "installment_conversion" else f"options.{i}.debts.{j}"
                  for j in range(len(option.enrolled(names)))]
        named = option.enrolled(names)
        if isinstance(option.apr, dict):
            fields += [f"options.{i}.apr.{name}" for name in option.apr]
            named = named + list(option.apr)
        for j, (name, field) in enumerate(zip(named, fields, strict=True)):
            if name not in names:
                # Stricter than for keys: debt names share words ("card"), and a wrong guess misleads.
                close = difflib.get_close_matches(name, names, n=1, cutoff=0.7)
                hint = f"did you mean {close[0]!r}?" if close else f"debts: {', '.join(names)}"
                raise FieldError(field, f"unknown debt {name!r}; {hint}")
            if name in named[:j] and not field.startswith(f"options.{i}.apr."):
                raise FieldError(field, f"{name!r} is listed twice")
    labels = [o.label for o in options]
    for i, label in enumerate(labels):
        if label in labels[:i]:
            raise FieldError(f"options.{i}.name", f"two options are called {label!r}; give each a name")
