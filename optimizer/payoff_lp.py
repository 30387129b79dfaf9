"""The optimal repayment plan: a linear program over the whole horizon and rate schedule.

Avalanche is optimal only while rates stay put (DOMAIN.md); with a promotional
rate that ends, or with fees, the cheapest plan has to look ahead. This module
builds, solves and reads back that program (build, solve, report are separate;
infeasible is a status, not an exception).

For debt *i* and month *t* = 1..T (all amounts in currency units):

* ``b[i,t] = b[i,t-1] + I[i,t] + F[i,t] - p[i,t]``, ``b, p >= 0``, ``b[i,T] = 0``;
* interest ``I[i,t] = r[i,t] * b[i,t-1]`` with the month's scheduled rate
  (promo, base, hardship; ``monthly``/``daily``/``cn`` conventions);
* budget ``sum_i p[i,t] <= budget_t`` (with the month's one-off extras);
* minimums ``p >= percent * b[i,t-1] + I (+ F)`` and, with a floor or a fixed
  minimum, ``p >= floor * o[i,t]``, where the binary ``o[i,t]`` says the debt is
  still open after month *t* (``b[i,t] <= M * o[i,t]``, ``o`` never reopens);
* fees that depend on the plan need the same binaries: the annual fee is
  ``annual * o[i,t-1]``, and on a ``cn`` card the cycle's interest is waived
  when the statement is paid in full (``I >= r * b - M * (1 - o)``).

Objective: minimise total interest + fees; then, at that cost, the sum of
balances, so that ties go to the plan that is debt-free soonest. Binaries are
created only for debts whose terms need them; otherwise it is a pure LP.

Penalty APRs and late fees are not in the program: every minimum is a hard
constraint, so a budget below the minimums makes it infeasible (the
strategies in :mod:`optimizer.payoff_engine` simulate that shortfall).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulp

from . import solvers
from .payoff_engine import amortising_payment_cents, monthly_rate, to_cents
from .payoff_model import Debt, DebtFile

TIME_LIMIT_SECONDS = 60
TIE_TOLERANCE = 0.005  # half a cent: the cost the tie-break may not give up


@dataclass(frozen=True)
class LpPlan:
    """The solved program: status, the least cost, and the planned payment per debt and month."""

    status: str  # "optimal", "infeasible", "not_solved"
    cost: float | None
    payments: dict[tuple[int, int], float]
    balances: dict[tuple[int, int], float]
    horizon: int
    solver: str
    message: str = ""


@dataclass(frozen=True)
class _Terms:
    """The constants of one debt in the program."""

    rate: list[float]  # r[t] for t = 1..T, index 0 unused
    fee: list[float]  # fees fixed in advance (balance transfer)
    annual: list[float]  # annual fee charged in month t if open after t-1
    opening: float
    percent: float
    plus_interest: bool
    plus_fees: bool
    floor: float
    waive_on_full: bool
    big_m: float

    @property
    def needs_binary(self) -> bool:
        return self.floor > 0 or self.waive_on_full or any(self.annual)


def _terms(debts: DebtFile, debt: Debt, horizon: int, big_m: float) -> _Terms:
    rate = [0.0] + [float(monthly_rate(debt, debt.apr_in_month(t), debts.days_in_month(t)))
                    for t in range(1, horizon + 1)]
    opening = to_cents(debt.balance) / 100
    fee = [0.0] * (horizon + 1)
    if debt.balance_transfer_fee > 0 and horizon >= 1:
        fee[1] = round(debt.balance_transfer_fee * opening, 2)
    annual = [0.0] * (horizon + 1)
    if debt.annual_fee > 0 and debt.hardship is None:
        for t in range(12, horizon + 1, 12):
            annual[t] = debt.annual_fee
    rule = debt.minimum_rule
    percent, plus_interest, plus_fees, floor = rule.percent, rule.plus_interest, rule.plus_fees, rule.floor
    if debt.hardship is not None:
        percent, floor = 0.0, amortising_payment_cents(
            to_cents(debt.balance), debt.hardship.apr, debt.hardship.months) / 100
    elif rule.fixed is not None:
        percent, floor = 0.0, rule.fixed
    return _Terms(rate, fee, annual, opening, percent, plus_interest, plus_fees, floor,
                  debt.convention == "cn" and debt.hardship is None, big_m)


def build(debts: DebtFile, horizon: int, budget: float | None = None,
          balance_bounds: list[float] | None = None) -> tuple[pulp.LpProblem, dict]:
    """The program for ``horizon`` months; returns the problem and its variables by name."""
    base = debts.budget if budget is None else budget
    n, months = len(debts.debts), range(1, horizon + 1)
    bounds = balance_bounds or [d.balance * 2 + 1 for d in debts.debts]
    terms = [_terms(debts, d, horizon, bounds[i]) for i, d in enumerate(debts.debts)]
    prob = pulp.LpProblem("debt_payoff", pulp.LpMinimize)
    pay = {(i, t): prob.add_variable(f"pay_d{i}_m{t}", lowBound=0) for i in range(n) for t in months}
    bal = {(i, t): prob.add_variable(f"balance_d{i}_m{t}", lowBound=0) for i in range(n) for t in months}
    still_open = {(i, t): prob.add_variable(f"open_d{i}_m{t}", cat="Binary")
                  for i in range(n) if terms[i].needs_binary for t in months}
    interest, fees = {}, {}
    for i, k in enumerate(terms):
        for t in months:
            before = k.opening if t == 1 else bal[i, t - 1]
            was_open = 1 if t == 1 else still_open.get((i, t - 1), 1)
            fees[i, t] = k.fee[t] + (k.annual[t] * was_open if k.annual[t] else 0)
            if k.waive_on_full:
                interest[i, t] = prob.add_variable(f"interest_d{i}_m{t}", lowBound=0)
                prob += (interest[i, t] >= k.rate[t] * before - k.rate[t] * k.big_m
                         * (1 - still_open[i, t]), f"interest_d{i}_m{t}")
            else:
                interest[i, t] = k.rate[t] * before
            prob += bal[i, t] == before + interest[i, t] + fees[i, t] - pay[i, t], f"balance_d{i}_m{t}"
            _minimum_constraints(prob, k, i, t, before, pay, interest, fees, still_open)
            if (i, t) in still_open:
                prob += bal[i, t] <= k.big_m * still_open[i, t], f"closed_d{i}_m{t}"
                if t > 1:
                    prob += still_open[i, t] <= still_open[i, t - 1], f"stays_closed_d{i}_m{t}"
        prob += bal[i, horizon] == 0, f"debt_free_d{i}"
    for t in months:
        money = debts.budget_in_month(t, base) + debts.extra_in_month(t)
        prob += pulp.lpSum(pay[i, t] for i in range(n)) <= money, f"budget_m{t}"
    cost = pulp.lpSum(interest.values()) + pulp.lpSum(fees.values())
    prob += cost
    return prob, {"pay": pay, "balance": bal, "cost": cost}


def _minimum_constraints(prob, k: _Terms, i: int, t: int, before, pay, interest, fees, still_open):
    if k.percent > 0:
        if k.plus_interest:
            due = k.percent * before + interest[i, t] + (fees[i, t] if k.plus_fees else 0)
        else:
            due = k.percent * (before + interest[i, t] + fees[i, t])
        prob += pay[i, t] >= due, f"minimum_d{i}_m{t}"
    if k.floor > 0:
        prob += pay[i, t] >= k.floor * still_open[i, t], f"floor_d{i}_m{t}"


def _solver():
    """HiGHS (via highspy) with a tight gap, so the cost is right to the cent; CBC if absent."""
    highs = pulp.HiGHS(msg=False, timeLimit=TIME_LIMIT_SECONDS, gapRel=1e-9, gapAbs=1e-4)
    if highs.available():
        return highs, "HiGHS"
    return pulp.PULP_CBC_CMD(msg=False, timeLimit=TIME_LIMIT_SECONDS, gapRel=1e-9), "CBC"


def solve(debts: DebtFile, horizon: int, budget: float | None = None,
          balance_bounds: list[float] | None = None) -> LpPlan:
    """Build and solve the program; the plan's status says whether it has an answer."""
    prob, var = build(debts, horizon, budget, balance_bounds)
    solver, name = _solver()
    status = pulp.LpStatus[solvers.solve(prob, solver)]
    if status != "Optimal":
        kind = "infeasible" if status == "Infeasible" else "not_solved"
        return LpPlan(kind, None, {}, {}, horizon, name, f"solver status: {status}")
    cost = pulp.value(var["cost"])
    # Second pass: same cost (to half a cent), balances paid down as early as possible.
    prob += var["cost"] <= cost + TIE_TOLERANCE, "keep_least_cost"
    prob.setObjective(pulp.lpSum(var["balance"].values()))
    if pulp.LpStatus[solvers.solve(prob, solver)] != "Optimal":
        return LpPlan("not_solved", cost, {}, {}, horizon, name, "tie-break pass failed")
    payments = {key: float(v.value() or 0.0) for key, v in var["pay"].items()}
    balances = {key: float(v.value() or 0.0) for key, v in var["balance"].items()}
    return LpPlan("optimal", float(cost), payments, balances, horizon, name)
