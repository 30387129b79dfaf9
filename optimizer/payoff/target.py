"""Debt-free by a date: the least monthly budget, to the cent, with which a strategy gets there.

A client asks "how much a month to be free by June 2028?". The answer is
found on the same cent-exact engine as every plan
(:func:`~optimizer.payoff.amortisation.simulate`: promotions, fees, minimums
and conventions as the file says), by bisection on whole cents: a budget
*works* when the plan pays every debt off by the target month without
missing a minimum. The answer is then checked at itself and one cent less,
so it is the least budget that works, not merely one that does.

The budget is constant: the file's budget changes are ignored (the answer
is the budget to hold), its one-off extras still count.

``optimal`` is the least budget with which *some* plan gets there: the
linear program over the target's horizon (every debt at zero by the target
month) is solved for each budget tried and its plan booked to the cent; the
search runs between the least the debts' principal needs and the best
heuristic's answer. With promotions or fixed instalments it can be well
below avalanche's (avalanche follows today's rates, not the schedule).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

from sim.card_terms import to_cents
from sim.errors import InputError

from .amortisation import PayoffResult, simulate
from .model import MAX_MONEY, MAX_MONTHS, DebtFile

TARGET_STRATEGIES = ("avalanche", "snowball", "custom", "optimal", "snowball_rerank")


@dataclass(frozen=True)
class TargetBudget:
    """The least budget with which ``strategy`` is debt-free by the target, and that plan (None: no budget does)."""

    strategy: str
    budget: float | None
    plan: PayoffResult | None

    def as_dict(self) -> dict[str, object]:
        if self.plan is None:
            return {"budget": None, "months": None, "total_interest": None}
        return {"budget": self.budget, "months": self.plan.months,
                "total_interest": round(self.plan.total_interest, 2)}


@dataclass(frozen=True)
class TargetAnswer:
    target_date: str
    months: int  # the plan month the target is: payment at its end
    budgets: tuple[TargetBudget, ...]

    def as_dict(self) -> dict[str, object]:
        return {"target_date": self.target_date, "budgets": {b.strategy: b.as_dict() for b in self.budgets}}


def target_month(debts: DebtFile, target: str, option: str = "--target-date") -> int:
    """The plan month of ``target`` (``"2028-06"``): the file's start month is month 1."""
    parts = target.strip().split("-")
    if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[1]) <= 12:
        raise InputError(option, "", f"must be a month written YYYY-MM (e.g. 2028-06), got {target!r}")
    if debts.start is None:
        raise InputError(debts.source, "start", f"{option} needs the month the plan starts: add start = \"YYYY-MM\"")
    month = int(parts[0]) * 12 + int(parts[1]) - (debts.start.year * 12 + debts.start.month) + 1
    if not 1 <= month <= MAX_MONTHS:
        raise InputError(option, "", f"must be from {debts.calendar_month(1)} (the file's start) to "
                                     f"{debts.calendar_month(MAX_MONTHS)}, got {target}")
    return month


def least_cents(works: Callable[[int], bool], high: int, low: int = 0) -> int | None:
    """The least whole number of cents from ``low`` to ``high`` for which ``works`` holds (it is monotone); None if none.

    Checked at the answer and one cent below, so a non-monotone case would show rather than hide.
    """
    if not works(high):
        return None
    while low < high:
        middle = (low + high) // 2
        if works(middle):
            high = middle
        else:
            low = middle + 1
    while high > 0 and works(high - 1):  # the check at one cent less
        high -= 1
    return high


def _plenty(debts: DebtFile) -> int:
    """A budget that clears everything in month 1: every balance with a year of its highest rate, and fees."""
    owed = sum(to_cents(d.balance) * 2 + to_cents(d.annual_fee) for d in debts.debts) + 100_000
    return min(owed, to_cents(MAX_MONEY))


def budget_for_date(debts: DebtFile, strategy: str, month: int) -> TargetBudget:
    """The least constant budget with which ``strategy`` pays off by plan ``month`` with no minimum missed."""
    constant = debts.model_copy(update={"budget_changes": []})

    def run(cents: int) -> PayoffResult:
        return simulate(constant, strategy, budget=cents / 100, horizon=month)

    def works(cents: int) -> bool:
        plan = run(cents)
        return plan.pays_off and not plan.missed and plan.months <= month

    cents = least_cents(works, _plenty(debts))
    if cents is None:
        return TargetBudget(strategy, None, None)
    return TargetBudget(strategy, cents / 100, run(cents))


def optimal_budget_for_date(debts: DebtFile, month: int, high: int) -> TargetBudget:
    """The least constant budget with which the LP's plan, booked to the cent, pays off by plan ``month``.

    ``high`` (cents) is a budget known to work for a heuristic; no plan needs
    less than the principal less the extras, spread over the months.
    """
    from . import lp as payoff_lp
    from .advisor import replay_lp

    constant = debts.model_copy(update={"budget_changes": []})
    heuristics = [h for h in ("avalanche", "snowball", "custom") if h != "custom" or debts.custom_order]

    def plans(cents: int) -> list[PayoffResult]:
        """Every plan that gets there with this budget: the LP's booked to the cent, and the heuristics'."""
        found = [simulate(constant, h, budget=cents / 100, horizon=month) for h in heuristics]
        lp = payoff_lp.solve(constant, month, cents / 100)
        if lp.status in ("optimal", "time_limit"):
            found.append(replay_lp(constant, lp, cents / 100, horizon=month))
        return [p for p in found if p.pays_off and not p.missed and p.months <= month]

    extras = sum(to_cents(constant.extra_in_month(m)) for m in range(1, month + 1))
    floor = max(0, (sum(to_cents(d.balance) for d in debts.debts) - extras) // month - 1)
    cents = least_cents(lambda c: bool(plans(c)), high, low=min(floor, high))
    if cents is None:
        return TargetBudget("optimal", None, None)
    # As for the optimal plan itself: the cheapest plan booked to the cent is shown.
    cheapest = min(plans(cents), key=lambda p: round((p.total_interest + p.total_fees) * 100))
    return TargetBudget("optimal", cents / 100, dataclasses.replace(cheapest, strategy="optimal"))


def budgets_for_date(debts: DebtFile, target: str, strategies: list[str] | tuple[str, ...] = ("all",)) -> TargetAnswer:
    """Each strategy's least budget to be debt-free by ``target``; ``"all"``: avalanche, snowball, custom."""
    month = target_month(debts, target)
    if list(strategies) == ["all"]:
        strategies = [s for s in TARGET_STRATEGIES[:4] if s != "custom" or debts.custom_order]
    chosen = [s for s in strategies if s in TARGET_STRATEGIES]
    if not chosen:
        raise InputError("--target-date", "", "applies to avalanche, snowball, custom, optimal and snowball_rerank; "
                                              "use --strategy all or one of them")
    found = [budget_for_date(debts, s, month) for s in chosen if s != "optimal"]
    if "optimal" in chosen:
        known = [b.budget for b in found if b.budget is not None]
        if not known:  # asked for alone: the heuristic's answer bounds the search
            known = [b.budget for b in [budget_for_date(debts, "avalanche", month)] if b.budget is not None]
        high = to_cents(min(known)) if known else _plenty(debts)
        found.insert(chosen.index("optimal"), optimal_budget_for_date(debts, month, high))
    return TargetAnswer(debts.calendar_month(month), month, tuple(found))
