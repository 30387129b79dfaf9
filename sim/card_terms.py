"""Card terms, written once: how interest accrues under each convention, and what the minimum due is.

The simulator's book and the borrower's payoff advisor (``optimizer.payoff``)
both read these; neither restates them (DOMAIN.md, "Repaying one's own debts").

Interest conventions (the rate charged for one statement cycle):

* ``monthly`` — APR / 12, whatever the cycle's length;
* ``daily`` — APR / 365 × the days in the cycle (actual days);
* ``cn`` — a Chinese card: a daily rate (0.05 % a day unless the card says
  otherwise) × the days, charged on the whole statement unless it is paid in
  full by the due date (全额计息: paying in full keeps the grace period, so
  the cycle's interest is waived); on any other rate (a penalty APR) the card
  accrues APR / 365 × days.

The minimum due on a statement is either a fixed amount (a loan instalment)
or the greater of a floor and a percent of the balance, plus the cycle's
interest and fees where the rule says so (a percent of everything owed where
it does not); never more than is owed, and at least a cent while anything is
owed. Defaults: 1 % plus interest and fees with a floor of 25 (US cards),
10 % plus interest and fees with a floor of 10 (Chinese cards). A missed
minimum costs the late fee, capped at the minimum due (Reg Z §1026.52(b)),
and a penalty APR ends after six on-time payments (the CARD Act review,
§1026.59).

Money here is integer cents and rates are exact fractions, so interest is
rounded once, half up, to the cent. The simulator's book, which cuts thousands
of statements a day, uses the same rule and cap on arrays of cents
(:func:`minimum_due_cents`, :func:`late_fees_due`), checked against the scalar
ones. This module imports nothing from the project.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Literal, Protocol

import numpy as np

CONVENTIONS = ("monthly", "daily", "cn")
Convention = Literal["monthly", "daily", "cn"]

DAYS_PER_YEAR = 365  # the daily rate is APR / 365 (the simulator's book accrues daily too)
MONTHS_PER_YEAR = 12
CN_DAILY_RATE = 0.0005  # 0.05 % a day, the Chinese card rate (DOMAIN.md)
CN_MINIMUM_PERCENT = 0.10
# With 10 % plus interest and fees, a floor of 10 closes small balances instead
# of shrinking them by 10 % forever.
CN_MINIMUM_FLOOR = 10.0
US_MINIMUM_PERCENT = 0.01
US_MINIMUM_FLOOR = 25.0
PENALTY_CURE_MONTHS = 6  # on-time payments that end a penalty APR (CARD Act §1026.59 review)


def to_cents(amount: float) -> int:
    """An amount of money as whole cents, halves rounded away from zero."""
    return int(Decimal(str(amount)).scaleb(2).quantize(Decimal(1), ROUND_HALF_UP))


def round_half_up(amount: Decimal | Fraction) -> int:
    """Round an exact amount of cents to a whole cent, halves away from zero (as lenders do)."""
    exact = Fraction(amount)
    cents = (abs(exact.numerator) * 2 + exact.denominator) // (exact.denominator * 2)
    return cents if exact >= 0 else -cents


def cycle_rate(convention: Convention, apr: float, days: Fraction | float, *,
               cn_daily_rate: float | None = None) -> Fraction:
    """The fraction of the balance charged as interest for one cycle of ``days`` days, exactly.

    ``cn_daily_rate`` is a ``cn`` card's own daily rate, given while the card
    is on it (without it, a ``cn`` card accrues ``apr`` / 365 a day: its
    penalty rate). Exact, so that interest is rounded once: 0.19 / 12 as a
    28-digit decimal made 2,082.00 × 0.19 / 12 = 32.965 come out as 32.96
    instead of 32.97.
    """
    if convention == "monthly":
        return Fraction(str(apr)) / MONTHS_PER_YEAR
    if convention == "cn" and cn_daily_rate is not None:
        daily = Fraction(str(cn_daily_rate))
    else:
        daily = Fraction(str(apr)) / DAYS_PER_YEAR
    return daily * Fraction(days)


def waives_interest_when_paid_in_full(convention: Convention) -> bool:
    """Whether paying the whole statement by the due date waives the cycle's interest (全额计息: ``cn``)."""
    return convention == "cn"


class MinimumRule(Protocol):
    """What a minimum-payment rule says (the payoff advisor's ``Minimum`` table is one)."""

    percent: float
    plus_interest: bool
    plus_fees: bool
    floor: float
    fixed: float | None


def default_minimum(convention: Convention) -> dict[str, float]:
    """The minimum rule's percent and floor a card of ``convention`` has unless its terms say otherwise."""
    if convention == "cn":
        return {"percent": CN_MINIMUM_PERCENT, "floor": CN_MINIMUM_FLOOR}
    return {"percent": US_MINIMUM_PERCENT, "floor": US_MINIMUM_FLOOR}


def minimum_due(rule: MinimumRule, balance: int, interest: int, fees: int, owed: int) -> int:
    """The minimum due on a statement (cents): ``balance`` before the cycle, its ``interest`` and ``fees``,
    ``owed`` in all; never more than ``owed``, and at least a cent of a positive balance."""
    if rule.fixed is not None:
        due = to_cents(rule.fixed)
    elif rule.plus_interest:
        due = round_half_up(Decimal(str(rule.percent)) * balance) + interest
        due += fees if rule.plus_fees else 0
        due = max(due, to_cents(rule.floor))
    else:
        due = round_half_up(Decimal(str(rule.percent)) * owed)
        due = max(due, to_cents(rule.floor))
    # A positive balance always asks for at least a cent, so it cannot linger.
    return min(max(due, 1), owed)


def late_fee_due(late_fee: int, minimum: int) -> int:
    """The late fee charged for a missed minimum (cents): Reg Z caps it at the minimum due."""
    return min(late_fee, minimum)


# ----------------------------------------------------------------------------- many statements at once
#
# The simulator's book cuts thousands of statements a day, too many for the exact
# scalar rule above. These are the same rule and the same cap on whole arrays of
# cents, in integer arithmetic so that every halfway case rounds as the scalar
# rule does (tests/test_card_terms.py checks them against each other).


def _percent_of_cents(percent: float, cents):
    """``percent`` × ``cents`` rounded half up to whole cents, exactly, for an int64 array of cents ≥ 0."""
    exact = Fraction(Decimal(str(percent)))
    num, den = exact.numerator, exact.denominator
    cents = np.asarray(cents, dtype=np.int64)
    # 2·num·cents must fit in int64: MAX_BALANCE (1e9) is 1e11 cents, so num up to ~4e7 is safe;
    # a percent needing more digits goes through Python's integers.
    if num * max(int(cents.max(initial=0)), 1) < 2**61:
        return (2 * num * cents + den) // (2 * den)
    return np.array([(2 * num * int(c) + den) // (2 * den) for c in cents.tolist()], dtype=np.int64)


def minimum_due_cents(rule: MinimumRule, balance, interest, fees, owed):
    """:func:`minimum_due` on arrays of cents (int64, all ≥ 0): one statement per element, the same rule."""
    owed = np.asarray(owed, dtype=np.int64)
    if rule.fixed is not None:
        due = np.full(owed.shape, to_cents(rule.fixed), dtype=np.int64)
    elif rule.plus_interest:
        due = _percent_of_cents(rule.percent, balance) + np.asarray(interest, dtype=np.int64)
        if rule.plus_fees:
            due = due + np.asarray(fees, dtype=np.int64)
        due = np.maximum(due, to_cents(rule.floor))
    else:
        due = np.maximum(_percent_of_cents(rule.percent, owed), to_cents(rule.floor))
    return np.minimum(np.maximum(due, 1), owed)


def late_fees_due(late_fee: int, minimums):
    """:func:`late_fee_due` for an array of missed minimums (cents): the fee, capped at each minimum."""
    return np.minimum(late_fee, np.asarray(minimums, dtype=np.int64))
