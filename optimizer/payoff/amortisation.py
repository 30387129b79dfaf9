"""Month-by-month repayment of one's own debts, to the cent, under a payment strategy.

This models a borrower's month as a lender books it (DOMAIN.md, "Repaying
one's own debts"):

1. the month's rate is set: promotional schedule, else the base APR; a penalty
   APR after a missed minimum (until six on-time payments, as the CARD Act
   review does); the reduced APR of a hardship plan;
2. fees post: the balance-transfer fee in month 1, the annual fee in months
   12, 24, … while a balance is carried;
3. interest accrues on the balance (end-of-period, as numpy-financial):
   ``monthly`` APR/12, ``daily`` APR/365 × days in the cycle, ``cn`` the daily
   rate × days on the whole statement unless it is paid in full (全额计息);
4. the payment is made at the end of the month: every minimum first, in the
   strategy's priority order, then the rest of the budget in that order
   (Reg Z §1026.53: above the minimum, highest APR first for avalanche);
5. a minimum not met costs the late fee and switches on the penalty APR.

The card terms themselves (the conventions, the minimum-due rule, the late-fee
cap, the penalty's cure) are :mod:`sim.card_terms`'s; this module books them.

Money is held in integer cents; interest is computed exactly (balance x rate,
a fraction) and rounded once, half up, to the cent, so start balance +
interest + fees = paid + remaining holds exactly.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from fractions import Fraction

from sim.card_terms import (
    CN_DAILY_RATE,
    MONTHS_PER_YEAR,
    PENALTY_CURE_MONTHS,
    cycle_rate,
    late_fee_due,
    minimum_due,
    round_half_up,
    to_cents,
    waives_interest_when_paid_in_full,
)

from .model import MAX_MONTHS, Debt, DebtFile

STRATEGIES = ("avalanche", "snowball", "custom", "minimum", "optimal", "snowball_rerank")
# Compared by "all"; snowball_rerank is a variant asked for by name (DOMAIN.md: it can be very costly).
STANDARD_STRATEGIES = ("avalanche", "snowball", "custom", "minimum", "optimal")
STALL_MONTHS = 24  # a balance that has not fallen for this long, with nothing left to change, never will


def amortising_payment_cents(balance_cents: int, apr: float, months: int) -> int:
    """The level payment (rounded up to the cent) that repays a loan in ``months``.

    Same as ``-numpy_financial.pmt(apr/12, months, balance)``, rounded up so the
    last payment is the smaller one and the term is not exceeded.
    """
    rate = Decimal(str(apr)) / MONTHS_PER_YEAR
    principal = Decimal(balance_cents)
    if rate == 0:
        payment = principal / months
    else:
        growth = (1 + rate) ** months
        payment = principal * rate * growth / (growth - 1)
    return int(payment.quantize(Decimal(1), ROUND_CEILING))


# ----------------------------------------------------------------------------- records


@dataclass(frozen=True)
class ScheduleRow:
    """One debt in one month: what was paid, charged and left."""

    month: int
    debt: str
    payment: int  # cents
    interest: int
    fees: int
    balance: int
    minimum: int
    apr: float

    def as_dict(self) -> dict[str, object]:
        return {
            "month": self.month,
            "debt": self.debt,
            "payment": self.payment / 100,
            "interest": self.interest / 100,
            "fees": self.fees / 100,
            "balance": self.balance / 100,
        }


@dataclass(frozen=True)
class MissedMinimum:
    """A minimum the budget could not cover: who went unpaid and what it cost."""

    month: int
    debt: str
    minimum: int
    paid: int
    late_fee: int
    penalty_apr: float | None


@dataclass(frozen=True)
class BalanceTrend:
    """How the total balance moves when a plan does not pay off."""

    start: int
    end: int
    months: int

    @property
    def per_month(self) -> float:
        return (self.end - self.start) / 100 / max(self.months, 1)

    @property
    def growing(self) -> bool:
        return self.end >= self.start


@dataclass(frozen=True)
class PayoffResult:
    """The outcome of one strategy: status as data, schedule, totals and payoff order.

    ``status`` is ``"paid_off"``, ``"never"`` (the balance stopped falling: a
    minimum below the interest, or a budget too small), ``"horizon"`` (still
    owing after :data:`MAX_MONTHS`) or ``"infeasible"`` (the optimal plan has
    no solution, e.g. the budget is below the minimums).
    """

    strategy: str
    status: str
    budget: float
    schedule: tuple[ScheduleRow, ...] = ()
    payoff_months: dict[str, int] = field(default_factory=dict)
    missed: tuple[MissedMinimum, ...] = ()
    trend: BalanceTrend | None = None
    start_balance: int = 0
    message: str = ""
    lp_bound: float | None = None
    solver: str | None = None
    proven: bool | None = None  # the optimal plan: did the solver prove it least-cost (None: not an LP plan)

    @property
    def pays_off(self) -> bool:
        return self.status == "paid_off"

    @property
    def months(self) -> int | None:
        return max(self.payoff_months.values(), default=0) if self.pays_off else None

    @property
    def months_simulated(self) -> int:
        return max((row.month for row in self.schedule), default=0)

    def _total(self, name: str) -> int:
        return sum(getattr(row, name) for row in self.schedule)

    @property
    def total_interest(self) -> float:
        return self._total("interest") / 100

    @property
    def total_fees(self) -> float:
        return self._total("fees") / 100

    @property
    def total_paid(self) -> float:
        return self._total("payment") / 100

    @property
    def remaining(self) -> float:
        last: dict[str, int] = {}
        for row in self.schedule:
            last[row.debt] = row.balance
        return sum(last.values()) / 100

    @property
    def payoff_order(self) -> list[str]:
        return sorted(self.payoff_months, key=lambda name: (self.payoff_months[name], name))

    def total_balance_by_month(self) -> list[float]:
        """Total balance owed after each month's payment, month 0 first."""
        totals = [self.start_balance / 100]
        by_month: dict[int, int] = {}
        for row in self.schedule:
            by_month[row.month] = by_month.get(row.month, 0) + row.balance
        totals += [by_month[m] / 100 for m in sorted(by_month)]
        return totals


# ----------------------------------------------------------------------------- one month


@dataclass
class _Account:
    """The engine's mutable view of one debt while a plan runs."""

    index: int
    debt: Debt
    balance: int
    penalty: bool = False
    on_time: int = 0
    hardship_payment: int | None = None

    @property
    def open(self) -> bool:
        return self.balance > 0

    def apr(self, month: int) -> float:
        if self.penalty and self.debt.penalty_apr is not None:
            return self.debt.penalty_apr
        return self.debt.apr_in_month(month)


@dataclass(frozen=True)
class _Statement:
    """What one open debt asks for this month, before the payment."""

    account: _Account
    apr: float
    fees: int
    interest: int  # charged unless the statement is paid in full where that waives it
    minimum: int
    payoff: int  # the amount that clears the debt this month


def monthly_rate(debt: Debt, apr: float, days: Fraction | float) -> Fraction:
    """The fraction of the balance charged as interest for one cycle of ``debt`` at ``apr``, exactly.

    The conventions are :func:`sim.card_terms.cycle_rate`'s; a hardship plan
    is charged monthly, and a ``cn`` card's own daily rate applies while it is
    on its base rate (not on a penalty APR).
    """
    convention = "monthly" if debt.hardship is not None else debt.convention
    own = (debt.daily_rate or CN_DAILY_RATE) if convention == "cn" and apr == debt.base_apr else None
    return cycle_rate(convention, apr, days, cn_daily_rate=own)


def minimum_payment(debt: Debt, balance: int, interest: int, fees: int, owed: int,
                    hardship_payment: int | None) -> int:
    """The minimum due on a statement (cents), never more than ``owed``: a hardship plan's payment,
    else the card's rule (:func:`sim.card_terms.minimum_due`)."""
    if hardship_payment is not None:
        return min(hardship_payment, owed)
    return minimum_due(debt.minimum_rule, balance, interest, fees, owed)


def _statement(account: _Account, month: int, days: float) -> _Statement:
    debt = account.debt
    fees = 0
    if month == 1 and debt.balance_transfer_fee > 0:
        fees += round_half_up(Decimal(str(debt.balance_transfer_fee)) * account.balance)
    if debt.annual_fee > 0 and month % 12 == 0 and debt.hardship is None:
        fees += to_cents(debt.annual_fee)
    apr = account.apr(month)
    interest = round_half_up(monthly_rate(debt, apr, days) * account.balance)
    owed = account.balance + fees + interest
    # Chinese cards: paying the whole statement by the due date keeps the grace
    # period, so the cycle's interest is not charged.
    payoff = account.balance + fees if waives_interest_when_paid_in_full(debt.convention) else owed
    minimum = minimum_payment(debt, account.balance, interest, fees, owed, account.hardship_payment)
    return _Statement(account, apr, fees, interest, min(minimum, payoff), payoff)


Priority = Callable[[Sequence[_Statement], int], list[_Statement]]
Targets = Callable[[Sequence[_Statement], int], dict[int, int]]


def allocate(statements: Sequence[_Statement], budget: int, ordered: list[_Statement],
             extra: bool, targets: dict[int, int] | None = None) -> dict[int, int]:
    """Split the month's budget: every minimum, then the rest in the strategy's priority order.

    Minimums are met in :func:`shortfall_order`, so that a budget too small for
    all of them leaves unpaid the debt whose miss costs least.
    With ``targets`` (a planned payment per debt index, as from the LP), the
    rest first tops each debt up to its target and only then goes in order.
    """
    paid = {s.account.index: 0 for s in statements}
    left = budget
    for s in shortfall_order(statements):
        give = min(s.minimum, left)
        paid[s.account.index] += give
        left -= give
    if not extra:
        return paid
    if targets:
        for s in ordered:
            want = min(targets.get(s.account.index, 0), s.payoff) - paid[s.account.index]
            give = max(0, min(want, left))
            paid[s.account.index] += give
            left -= give
    for s in ordered:
        give = max(0, min(s.payoff - paid[s.account.index], left))
        paid[s.account.index] += give
        left -= give
    return paid


# ----------------------------------------------------------------------------- strategies


def miss_cost(s: _Statement) -> int:
    """What missing this minimum would cost next month: the late fee plus the penalty rate's extra interest."""
    debt = s.account.debt
    late = min(to_cents(debt.late_fee), s.minimum)
    extra_rate = max((debt.penalty_apr or s.apr) - s.apr, 0.0) / 12
    return late + round(extra_rate * s.account.balance)


def shortfall_order(statements: Sequence[_Statement]) -> list[_Statement]:
    """The order minimums are met in; it only matters when the budget cannot meet them all.

    A hardship plan's payment comes first (missing one usually ends the plan),
    then the minimums whose miss costs most; ties: highest APR, then file order.
    """
    return sorted(statements, key=lambda s: (s.account.hardship_payment is None, -miss_cost(s),
                                             -s.apr, s.account.index))



def avalanche_order(statements: Sequence[_Statement], month: int) -> list[_Statement]:
    """Highest current APR first (Reg Z §1026.53); ties: smaller balance, then file order."""
    return sorted(statements, key=lambda s: (-s.apr, s.account.balance, s.account.index))


def snowball_order(statements: Sequence[_Statement], month: int) -> list[_Statement]:
    """Smallest **starting** balance first, an order set once; ties: higher first-month APR, then file order.

    This is the snowball as it is taught (DOMAIN.md): the list is written down
    at the start and worked through. Re-ranking by the current balance lets a
    0 % card that shrinks overtake a 30 % card that grows, and moves the extra
    money off the dear card for good (that is :func:`snowball_rerank_order`).
    """
    return sorted(statements, key=lambda s: (to_cents(s.account.debt.balance),
                                             -s.account.debt.apr_in_month(1), s.account.index))


def snowball_rerank_order(statements: Sequence[_Statement], month: int) -> list[_Statement]:
    """Smallest **current** balance first, re-ranked every month; ties: higher APR, then file order."""
    return sorted(statements, key=lambda s: (s.account.balance, -s.apr, s.account.index))


def custom_order(names: Sequence[str]) -> Priority:
    """The borrower's own order; debts not named follow in avalanche order."""
    rank = {name: i for i, name in enumerate(names)}

    def order(statements: Sequence[_Statement], month: int) -> list[_Statement]:
        rest = avalanche_order([s for s in statements if s.account.debt.name not in rank], month)
        named = sorted((s for s in statements if s.account.debt.name in rank),
                       key=lambda s: rank[s.account.debt.name])
        return named + rest

    return order


# ----------------------------------------------------------------------------- the run


def simulate(debts: DebtFile, strategy: str, *, priority: Priority | None = None,
             targets: Targets | None = None, budget: float | None = None,
             horizon: int = MAX_MONTHS) -> PayoffResult:
    """Run one strategy month by month until every debt is paid or the plan stalls.

    Parameters
    ----------
    debts
        The validated debt file.
    strategy
        ``avalanche``, ``snowball``, ``snowball_rerank``, ``custom``, ``minimum``, or a label for a
        plan given by ``priority``/``targets`` (the LP replay).
    budget
        The base monthly budget; the file's budget changes still apply.
    horizon
        Months after which a plan still owing is reported as ``"horizon"``.
    """
    base_budget = debts.budget if budget is None else budget
    priority = priority or _priority_for(debts, strategy)
    extra = strategy != "minimum"
    accounts = [_open_account(i, d) for i, d in enumerate(debts.debts)]
    start = sum(a.balance for a in accounts)
    rows: list[ScheduleRow] = []
    missed: list[MissedMinimum] = []
    payoff_months = {a.debt.name: 0 for a in accounts if not a.open}
    totals = [start]
    for month in range(1, horizon + 1):
        open_accounts = [a for a in accounts if a.open]
        if not open_accounts:
            break
        days = debts.days_in_month(month)
        statements = [_statement(a, month, days) for a in open_accounts]
        money = to_cents(debts.budget_in_month(month, base_budget))
        if extra:
            money += to_cents(debts.extra_in_month(month))
        ordered = priority(statements, month)
        wanted = targets(statements, month) if targets is not None else None
        paid = allocate(statements, money, ordered, extra, wanted)
        for s in statements:
            row, miss = _settle(s, paid[s.account.index], month)
            rows.append(row)
            if miss is not None:
                missed.append(miss)
            if not s.account.open:
                payoff_months[s.account.debt.name] = month
        totals.append(sum(a.balance for a in accounts))
        if _stalled(totals, month, debts.last_scheduled_month, payoff_months):
            return _unpaid(strategy, "never", base_budget, rows, payoff_months, missed, totals, start)
    if any(a.open for a in accounts):
        return _unpaid(strategy, "horizon", base_budget, rows, payoff_months, missed, totals, start)
    return PayoffResult(strategy, "paid_off", base_budget, tuple(rows), payoff_months,
                        tuple(missed), None, start)


def _priority_for(debts: DebtFile, strategy: str) -> Priority:
    if strategy == "snowball":
        return snowball_order
    if strategy == "snowball_rerank":
        return snowball_rerank_order
    if strategy == "custom":
        return custom_order(debts.custom_order or [])
    return avalanche_order


def _open_account(index: int, debt: Debt) -> _Account:
    balance = to_cents(debt.balance)
    hardship = None
    if debt.hardship is not None:
        hardship = amortising_payment_cents(balance, debt.hardship.apr, debt.hardship.months)
    return _Account(index, debt, balance, hardship_payment=hardship)


def _settle(s: _Statement, payment: int, month: int) -> tuple[ScheduleRow, MissedMinimum | None]:
    """Book the payment: clear the debt, or carry the balance with interest (and a late fee)."""
    account, debt = s.account, s.account.debt
    interest, fees = s.interest, s.fees
    if payment >= s.payoff:
        payment = s.payoff
        if waives_interest_when_paid_in_full(debt.convention):
            interest = 0
        account.balance = 0
    else:
        account.balance += fees + interest - payment
    miss = None
    if payment < s.minimum:
        late = late_fee_due(to_cents(debt.late_fee), s.minimum)
        fees += late
        account.balance += late
        account.penalty = debt.penalty_apr is not None
        account.on_time = 0
        miss = MissedMinimum(month, debt.name, s.minimum, payment, late, debt.penalty_apr)
    else:
        account.on_time += 1
        if account.on_time >= PENALTY_CURE_MONTHS:
            account.penalty = False
    row = ScheduleRow(month, debt.name, payment, interest, fees, account.balance, s.minimum, s.apr)
    return row, miss


def _stalled(totals: list[int], month: int, last_event: int, payoff_months: dict[str, int]) -> bool:
    """True once nothing is scheduled to change and the total owed has not fallen in 24 months."""
    if month < last_event + STALL_MONTHS:
        return False
    if any(m > month - STALL_MONTHS for m in payoff_months.values()):
        return False
    return totals[-1] >= totals[-1 - STALL_MONTHS]


def _unpaid(strategy: str, status: str, budget: float, rows: list[ScheduleRow],
            payoff_months: dict[str, int], missed: list[MissedMinimum], totals: list[int],
            start: int) -> PayoffResult:
    trend = BalanceTrend(totals[0], totals[-1], len(totals) - 1)
    return PayoffResult(strategy, status, budget, tuple(rows), payoff_months, tuple(missed),
                        trend, start)


def budget_needed(debts: DebtFile, strategy: str = "minimum") -> float:
    """The smallest constant monthly budget under which ``strategy`` meets every minimum.

    Paying only the minimums keeps balances (and so minimums) highest, so the
    peak month of that plan, run without a budget limit, is enough for any
    plan; for other strategies the least sufficient budget is found by
    bisection to the cent. The file's budget changes are ignored (a constant
    budget); its one-off extras still count.
    """
    constant = debts.model_copy(update={"budget_changes": []})
    plenty = sum(d.balance for d in debts.debts) * 10 + 1e6
    peak = _peak_minimums(simulate(constant, "minimum", budget=plenty))
    if strategy == "minimum":
        return peak / 100
    low, high = 0, peak  # no shortfall at ``high``; find the least such budget
    while low < high:
        middle = (low + high) // 2
        if simulate(constant, strategy, budget=middle / 100).missed:
            low = middle + 1
        else:
            high = middle
    return high / 100


def _peak_minimums(plan: PayoffResult) -> int:
    per_month: dict[int, int] = {}
    for row in plan.schedule:
        per_month[row.month] = per_month.get(row.month, 0) + row.payment
    return max(per_month.values(), default=0)
