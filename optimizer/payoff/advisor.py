"""The debt payoff advisor: in what order to pay, when one is debt-free, what each choice costs.

For borrowers' advisors (DOMAIN.md, "Repaying one's own debts"). Given a debt
file (:mod:`optimizer.payoff.model`), it runs the strategies month by month
(:mod:`optimizer.payoff.amortisation`) and finds the least-cost plan with a linear
program (:mod:`optimizer.payoff.lp`):

* ``avalanche`` highest current rate first after all minimums;
* ``snowball`` smallest starting balance first, the order set once;
* ``snowball_rerank`` smallest current balance first, re-ranked every month
  (asked for by name only; not in ``all``);
* ``custom`` the borrower's ``custom_order``;
* ``minimum`` minimums only: the minimum-payment trap;
* ``optimal`` the LP over the whole horizon and rate schedule.

Outcomes that are not errors are statuses on the result: a plan that never
pays off (with its balance trend), a budget below the minimums (who goes
unpaid, late fees, penalty APR, and the budget that would be needed).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from sim.errors import InputError

from . import lp as payoff_lp
from .amortisation import (
    STANDARD_STRATEGIES,
    STRATEGIES,
    PayoffResult,
    avalanche_order,
    budget_needed,
    simulate,
    to_cents,
)
from .model import MAX_MONTHS, DebtFile, load_debts

__all__ = ["STANDARD_STRATEGIES", "STRATEGIES", "Advice", "PayoffResult", "advise", "load_debts", "plan", "optimal_plan"]

HEURISTICS = ("avalanche", "snowball", "custom")
LP_SLACK_MONTHS = 12  # the LP may take a little longer than the slowest heuristic


def plan(debts: DebtFile, strategy: str, budget: float | None = None) -> PayoffResult:
    """One strategy's plan; ``budget`` overrides the file's base budget."""
    if strategy not in STRATEGIES:
        raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    if strategy == "custom" and not debts.custom_order:
        raise InputError(debts.source, "custom_order",
                         "the custom strategy needs custom_order = [\"debt name\", …] in the file")
    if strategy == "optimal":
        return optimal_plan(debts, budget)
    return simulate(debts, strategy, budget=budget)


def _cost(result: PayoffResult) -> int:
    return round((result.total_interest + result.total_fees) * 100)


def optimal_plan(debts: DebtFile, budget: float | None = None) -> PayoffResult:
    """The least-cost plan: solve the LP, then replay its payments to the cent.

    When the solver proves its plan optimal (within a cent), its lower bound
    is reported as ``lp_bound``: no plan costs less before cents are rounded. When it stops at
    its time limit, the plan is only the best found: it is labelled not proven
    optimal and no bound is claimed. Either way the cheapest plan booked to
    the cent is returned; should a heuristic plan be cheaper than the LP's
    replay, that plan is returned, and the message says so.
    """
    heuristics = [simulate(debts, s, budget=budget) for s in HEURISTICS
                  if s != "custom" or debts.custom_order]
    base = debts.budget if budget is None else budget
    paying = [h for h in heuristics if h.pays_off and not h.missed]
    if not paying:
        return _no_optimal(debts, base, heuristics)
    best = min(paying, key=_cost)
    horizon = min(MAX_MONTHS, max(h.months for h in paying) + LP_SLACK_MONTHS)
    lp = payoff_lp.solve(debts, horizon, budget, _open_after(debts, best, horizon))
    if lp.status not in ("optimal", "time_limit"):
        return PayoffResult("optimal", lp.status, base, message=lp.message, solver=lp.solver)
    replay = replay_lp(debts, lp, budget)
    chosen = replay if replay.pays_off and _cost(replay) <= _cost(best) else best
    notes = [] if lp.proven else [f"not proven optimal: the solver {lp.message}"]
    if chosen is not replay:
        gap = (_cost(replay) - _cost(best)) / 100 if replay.pays_off else None
        notes.append(f"the {best.strategy} plan is shown: "
                     + ("the LP's plan does not pay off once booked to the cent" if gap is None else
                        f"it costs {debts.currency}{gap:,.2f} less than the LP's plan once booked to the cent"))
    return dataclasses.replace(chosen, strategy="optimal", lp_bound=round(lp.bound, 2) if lp.proven and lp.bound is not None else None,
                               solver=lp.solver, message="; ".join(notes), proven=lp.proven)


def replay_lp(debts: DebtFile, lp: payoff_lp.LpPlan, budget: float | None,
              horizon: int = MAX_MONTHS) -> PayoffResult:
    """The LP's payments booked to the cent on the engine (a debt the LP clears is cleared)."""
    return simulate(debts, "optimal", targets=_lp_targets(lp), priority=_closing_first(lp), budget=budget,
                    horizon=horizon)


def _open_after(debts: DebtFile, result: PayoffResult, horizon: int) -> dict[tuple[int, int], bool]:
    """Whether each debt is still open after each month of a plan: the solver's starting point."""
    return {(i, t): t < result.payoff_months.get(debt.name, horizon + 1)
            for i, debt in enumerate(debts.debts) for t in range(1, horizon + 1)}


def _no_optimal(debts: DebtFile, base: float, heuristics: list[PayoffResult]) -> PayoffResult:
    if any(h.missed for h in heuristics):
        first = min(m.month for h in heuristics for m in h.missed)
        message = f"the budget does not meet every minimum (first short in month {first})"
    else:
        message = f"no plan pays off within {MAX_MONTHS} months with this budget"
    return PayoffResult("optimal", "infeasible", base, message=message)


def _closing_first(lp: payoff_lp.LpPlan):
    """Avalanche order, but the debts the LP clears this month first.

    Cents of rounding can leave the month's budget a little short of the LP's
    payments; the shortfall must fall on a debt that stays open, not leave a
    few cents on one the LP closes (which would then carry an annual fee).
    """

    def order(statements, month):
        closes = {s.account.index: lp.balances.get((s.account.index, month), 1.0) < 0.005 for s in statements}
        ordered = avalanche_order(statements, month)
        return [s for s in ordered if closes[s.account.index]] + [s for s in ordered if not closes[s.account.index]]

    return order


def _lp_targets(lp: payoff_lp.LpPlan):
    """The LP's payments as per-debt targets in cents; a debt the LP clears is cleared."""

    def targets(statements, month):
        wanted = {}
        for s in statements:
            i = s.account.index
            if (i, month) not in lp.payments:
                continue
            cleared = lp.balances[i, month] < 0.005
            wanted[i] = s.payoff if cleared else to_cents(lp.payments[i, month])
        return wanted

    return targets


@dataclass(frozen=True)
class Advice:
    """Every requested plan and the minimum-payment trap beside them.

    ``budget_needed`` maps each plan that misses a minimum (or has no
    solution) to the least constant monthly budget that would meet them all.
    """

    debts: DebtFile
    plans: tuple[PayoffResult, ...]
    trap: PayoffResult
    budget_needed: dict[str, float]

    @property
    def shortfall(self) -> bool:
        return bool(self.budget_needed)

    def comparison(self) -> list[dict[str, object]]:
        """One row per plan: months, interest, fees, paid, and interest saved against the trap."""
        rows = []
        for p in self.plans:
            saved = self.trap.total_interest - p.total_interest if self.trap.pays_off else None
            rows.append({
                "strategy": p.strategy,
                "status": p.status,
                "months": p.months,
                "total_interest": round(p.total_interest, 2),
                "total_fees": round(p.total_fees, 2),
                "total_paid": round(p.total_paid, 2),
                "interest_saved_vs_minimum": None if saved is None else round(saved, 2),
            })
        return rows


def advise(debts: DebtFile, strategies: list[str] | tuple[str, ...] = ("avalanche",),
           budget: float | None = None) -> Advice:
    """Run ``strategies`` (``"all"``: every applicable standard one) and the minimum trap."""
    if budget is not None:
        debts = debts.with_budget(budget)
    if list(strategies) == ["all"]:
        strategies = [s for s in STANDARD_STRATEGIES if s != "custom" or debts.custom_order]
    plans = tuple(plan(debts, s) for s in strategies)
    trap = next((p for p in plans if p.strategy == "minimum"), None) or plan(debts, "minimum")
    needed = {}
    for p in (*plans, trap):
        if p.missed or p.status == "infeasible":
            simulated = "avalanche" if p.strategy == "optimal" else p.strategy
            needed[p.strategy] = budget_needed(debts, simulated)
    return Advice(debts, plans, trap, needed)
