"""The true cost of a credit: the internal rate of return of its payments, as an annual rate.

A loan's quoted rate leaves out its fees, and an instalment conversion
(账单分期) quotes only a monthly fee on the principal. What the client pays
for the money is the monthly rate *r* at which the payments are worth what
was borrowed (the internal rate of return, as ``numpy_financial.irr``);
the nominal annual rate is 12·r (as an APR is quoted), the effective annual
rate (1 + r)^12 − 1.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from fractions import Fraction

MONTHS_PER_YEAR = 12
_LOW, _HIGH = -0.99, 10.0  # monthly rates searched: any cost of credit a client meets lies between
_STEPS = 200


@dataclass(frozen=True)
class AnnualRates:
    """A credit's cost as a nominal (12 × monthly) and an effective ((1 + monthly)^12 − 1) annual rate."""

    monthly: float

    @property
    def nominal(self) -> float:
        return self.monthly * MONTHS_PER_YEAR

    @property
    def effective(self) -> float:
        return (1 + self.monthly) ** MONTHS_PER_YEAR - 1


def _npv(rate: float, flows: Sequence[int]) -> float:
    return sum(flow / (1 + rate) ** t for t, flow in enumerate(flows))


def monthly_irr(flows: Sequence[int]) -> float | None:
    """The monthly rate at which ``flows`` (month 0 first; money received positive) are worth nothing.

    A credit's flows change sign once (money in, then payments out), so the
    value falls with the rate and bisection finds the one root. None when
    there is no root in the range (nothing borrowed, or nothing paid).
    """
    if not flows or all(f >= 0 for f in flows) or all(f <= 0 for f in flows):
        return None
    low, high = _LOW, _HIGH
    value_low = _npv(low, flows)
    if value_low == 0:
        return low
    if (value_low > 0) == (_npv(high, flows) > 0):
        return None
    for _ in range(_STEPS):
        middle = (low + high) / 2
        value = _npv(middle, flows)
        if value == 0 or high - low < 1e-15:
            return middle
        if (value > 0) == (value_low > 0):
            low, value_low = middle, value
        else:
            high = middle
    return (low + high) / 2


def credit_rates(received_cents: int, payments_cents: Sequence[int]) -> AnnualRates | None:
    """The annual rates of a credit paying out ``received_cents`` now, repaid by monthly ``payments_cents``."""
    rate = monthly_irr([received_cents, *(-p for p in payments_cents)])
    return None if rate is None else AnnualRates(rate)


def level_instalment(principal_cents: int, months: int) -> list[int]:
    """An instalment plan's principal part by month: equal cents, the remainder in the first months."""
    share, rest = divmod(principal_cents, months)
    return [share + (1 if m < rest else 0) for m in range(months)]


def fee_each_month(principal_cents: int, monthly_fee: float) -> int:
    """An instalment conversion's monthly fee: the share of the converted principal, to the cent (half up)."""
    exact = Fraction(str(monthly_fee)) * principal_cents
    return int(exact + Fraction(1, 2))
