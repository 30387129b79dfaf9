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
  still open after month *t* (``b[i,t] <= M[i,t] * o[i,t]``, ``o`` never
  reopens); ``M[i,t]`` is the most the debt can owe after month *t* when every
  minimum is paid, which also bounds ``b[i,t]``;
* fees that depend on the plan need the same binaries: the annual fee is
  ``annual * o[i,t-1]``, and on a ``cn`` card the cycle's interest is waived
  when the statement is paid in full (``I >= r * b - M * (1 - o)``).

Objective: minimise total interest + fees; then, at that cost, the sum of
balances, so that ties go to the plan that is debt-free soonest. Binaries are
created only for debts whose terms need them; otherwise it is a pure LP.

Solving: the relaxation first (its cost is a lower bound), then the
relaxation's open/closed pattern rounded up and fixed, an LP again. With the
tight ``M[i,t]`` the two usually agree within a cent, which proves the plan
optimal without branch and bound (50 debts: under a second). Only otherwise
does HiGHS branch, starting from that plan, for at most
:data:`TIME_LIMIT_SECONDS`; a plan it has not proven by then is returned with
the status ``"time_limit"``, and its cost is never reported as a bound.

Penalty APRs and late fees are not in the program: every minimum is a hard
constraint, so a budget below the minimums makes it infeasible (the
strategies in :mod:`optimizer.payoff.amortisation` simulate that shortfall).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pulp

from .. import solvers
from .amortisation import amortising_payment_cents, monthly_rate, to_cents
from .model import Debt, DebtFile

TIME_LIMIT_SECONDS = 20  # the least-cost pass; a plan found by then is reported as not proven optimal
TIE_BREAK_SECONDS = 5  # the second pass only orders plans of equal cost; its best so far is good enough
COST_GAP = 0.01  # a plan proven within a cent of the least cost is optimal: the engine books cents
TIE_TOLERANCE = 0.005  # half a cent: the cost the tie-break may not give up
BALANCE_SLACK = 0.01  # a cent of room on the highest balances, for floating-point round-off


@dataclass(frozen=True)
class LpPlan:
    """The solved program: status, its plan's cost, and the planned payment per debt and month.

    ``status`` is ``"optimal"`` (proven least cost), ``"time_limit"`` (the best
    plan found before the time limit: feasible, **not** proven optimal, and its
    cost is not a bound), ``"infeasible"`` or ``"not_solved"``.
    """

    status: str
    cost: float | None
    payments: dict[tuple[int, int], float]
    balances: dict[tuple[int, int], float]
    horizon: int
    solver: str
    message: str = ""
    bound: float | None = None  # proven plans: no plan of the program costs less

    @property
    def proven(self) -> bool:
        return self.status == "optimal"


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
    highest: list[float]  # the most the debt can owe after month t under any plan of the program (t = 0..T)

    @property
    def needs_binary(self) -> bool:
        return self.floor > 0 or self.waive_on_full or any(self.annual)


def _terms(debts: DebtFile, debt: Debt, horizon: int) -> _Terms:
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
    terms = _Terms(rate, fee, annual, opening, percent, plus_interest, plus_fees, floor,
                   debt.convention == "cn" and debt.hardship is None, [])
    terms.highest.extend(_highest_balances(terms, horizon))
    return terms


def _highest_balances(k: _Terms, horizon: int) -> list[float]:
    """The most the debt can owe after each month when every minimum is paid (month 0 first).

    Paying only the minimum leaves the most owing, and what is left,
    ``owed - minimum``, grows with the balance, so this one path bounds every
    plan the program allows. It is the program's big-M: the tighter it is, the
    closer the relaxation (``open >= balance / M``) comes to charging the floor
    and the annual fee in full, and the faster the solver proves its plan.
    """
    highest = [k.opening]
    for t in range(1, horizon + 1):
        before = highest[-1]
        interest = k.rate[t] * before
        fees = k.fee[t] + k.annual[t]
        owed = before + interest + fees
        if k.percent == 0:  # a fixed or hardship minimum: only the floor
            due = 0.0
        elif k.plus_interest:
            due = k.percent * before + interest + (fees if k.plus_fees else 0.0)
        else:
            due = k.percent * owed
        highest.append(max(owed - max(due, k.floor), 0.0))
    return [b + BALANCE_SLACK for b in highest]


def build(debts: DebtFile, horizon: int, budget: float | None = None) -> tuple[pulp.LpProblem, dict]:
    """The program for ``horizon`` months; returns the problem and its variables by name."""
    base = debts.budget if budget is None else budget
    n, months = len(debts.debts), range(1, horizon + 1)
    terms = [_terms(debts, d, horizon) for d in debts.debts]
    prob = pulp.LpProblem("debt_payoff", pulp.LpMinimize)
    pay = {(i, t): prob.add_variable(f"pay_d{i}_m{t}", lowBound=0) for i in range(n) for t in months}
    bal = {(i, t): prob.add_variable(f"balance_d{i}_m{t}", lowBound=0, upBound=terms[i].highest[t])
           for i in range(n) for t in months}
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
                prob += (interest[i, t] >= k.rate[t] * before - k.rate[t] * k.highest[t - 1]
                         * (1 - still_open[i, t]), f"interest_d{i}_m{t}")
                # Never more than the full rate: keeps the highest balances a true bound.
                prob += interest[i, t] <= k.rate[t] * before, f"interest_at_most_d{i}_m{t}"
            else:
                interest[i, t] = k.rate[t] * before
            prob += bal[i, t] == before + interest[i, t] + fees[i, t] - pay[i, t], f"balance_d{i}_m{t}"
            _minimum_constraints(prob, k, i, t, before, pay, interest, fees, still_open)
            if (i, t) in still_open:
                prob += bal[i, t] <= k.highest[t] * still_open[i, t], f"closed_d{i}_m{t}"
                if t > 1:
                    prob += still_open[i, t] <= still_open[i, t - 1], f"stays_closed_d{i}_m{t}"
        prob += bal[i, horizon] == 0, f"debt_free_d{i}"
    for t in months:
        money = debts.budget_in_month(t, base) + debts.extra_in_month(t)
        prob += pulp.lpSum(pay[i, t] for i in range(n)) <= money, f"budget_m{t}"
    cost = pulp.lpSum(interest.values()) + pulp.lpSum(fees.values())
    prob += cost
    return prob, {"pay": pay, "balance": bal, "open": still_open, "cost": cost}


def _minimum_constraints(prob, k: _Terms, i: int, t: int, before, pay, interest, fees, still_open):
    if k.percent > 0:
        if k.plus_interest:
            due = k.percent * before + interest[i, t] + (fees[i, t] if k.plus_fees else 0)
        else:
            due = k.percent * (before + interest[i, t] + fees[i, t])
        prob += pay[i, t] >= due, f"minimum_d{i}_m{t}"
    if k.floor > 0:
        prob += pay[i, t] >= k.floor * still_open[i, t], f"floor_d{i}_m{t}"


class _StartedHiGHS(pulp.HiGHS):
    """HiGHS given a plan to start from (a MIP start), so it has a good plan from its first node."""

    def __init__(self, start: dict[pulp.LpVariable, float] | None = None, **options):
        super().__init__(**options)
        self.start = start or {}

    def buildSolverModel(self, lp):
        super().buildSolverModel(lp)
        known = [(v.index, value) for v, value in self.start.items()
                 if getattr(v, "index", None) is not None and value is not None]
        if known:
            index, value = zip(*known, strict=True)
            lp.solverModel.setSolution(len(index), np.array(index, dtype=np.int32), np.array(value, dtype=float))


def _run(prob: pulp.LpProblem, *, mip: bool = True, time_limit: float = TIME_LIMIT_SECONDS,
         gap: float = COST_GAP, start: dict | None = None) -> tuple[str, bool]:
    """Solve with HiGHS (CBC if highspy is missing or fails): PuLP's status and whether it is proven.

    PuLP reports a MIP stopped by its time limit as "Optimal" too; only the
    solution status tells a proven optimum from the best plan found so far.
    """
    solver = solvers.get_solver("highs", mip=mip, time_limit=time_limit, gap_rel=1e-9, gap_abs=gap,
                                highs=lambda **options: _StartedHiGHS(start, **options))
    status = pulp.LpStatus[solvers.solve(prob, solver)]
    return status, status == "Optimal" and prob.sol_status == pulp.LpSolutionOptimal


def _solver_name() -> str:
    return {"highs": "HiGHS", "cbc": "CBC"}[solvers.solver_name(solvers.get_solver("highs", mip=False))]


def solve(debts: DebtFile, horizon: int, budget: float | None = None,
          start: dict[tuple[int, int], bool] | None = None) -> LpPlan:
    """Build and solve the program; the plan's status says whether it has an answer.

    With binaries, the relaxation comes first: its cost is a lower bound, and
    rounding its open/closed pattern up and solving again gives a plan. When
    that plan is within :data:`COST_GAP` of the bound it is proven optimal
    without any branching (the usual case: the highest balances make the
    relaxation tight). Otherwise branch and bound starts from the better of
    that plan and ``start`` (for a known plan, the cheapest heuristic, whether
    debt *i* is still open after month *t*), within :data:`TIME_LIMIT_SECONDS`.
    """
    prob, var = build(debts, horizon, budget)
    name = _solver_name()
    binaries = var["open"]
    status, proven = _run(prob, mip=False)
    if status != "Optimal":
        kind = "infeasible" if status == "Infeasible" else "not_solved"
        return LpPlan(kind, None, {}, {}, horizon, name, f"solver status: {status}")
    bound = float(pulp.value(var["cost"])) if proven else None
    if binaries:
        pattern = _rounded_up(var)
        cost = _cost_with(prob, var, pattern)
        if cost is None or bound is None or cost - bound > COST_GAP:
            begin = {v: v.value() for v in prob.variables()} if cost is not None else {
                binaries[key]: float(is_open) for key, is_open in (start or {}).items() if key in binaries}
            status, proven = _run(prob, start=begin)
            if status != "Optimal":
                kind = "infeasible" if status == "Infeasible" else "not_solved"
                return LpPlan(kind, None, {}, {}, horizon, name, f"solver status: {status}")
            pattern = {key: round(v.value() or 0.0) for key, v in binaries.items()}
    cost = float(pulp.value(var["cost"]))
    found = _values(var)
    message = "" if proven else (f"stopped at its {TIME_LIMIT_SECONDS} s time limit "
                                 "before proving its plan optimal")
    # Second pass, an LP with the open/closed pattern fixed: the same cost (to
    # half a cent), balances paid down as early as possible.
    if binaries:
        _fix(binaries, pattern)
    prob += var["cost"] <= cost + TIE_TOLERANCE, "keep_least_cost"
    prob.setObjective(pulp.lpSum(var["balance"].values()))
    if _run(prob, mip=False, time_limit=TIE_BREAK_SECONDS)[0] == "Optimal":
        found = _values(var)  # at the same cost either way
    # Proven means within COST_GAP of the optimum, which may say more than the relaxation.
    if proven:
        bound = min(cost, max(bound if bound is not None else -math.inf, cost - COST_GAP))
    return LpPlan("optimal" if proven else "time_limit", cost, *found, horizon, name, message,
                  bound=bound if proven else None)


def _rounded_up(var: dict) -> dict[tuple[int, int], int]:
    """The relaxation's open/closed pattern, rounded up: a debt is open until its last month owing a cent."""
    pattern = {}
    for (i, t), balance in sorted(var["balance"].items(), key=lambda item: (item[0][0], -item[0][1])):
        if (i, t) in var["open"]:
            later = pattern.get((i, t + 1), 0)
            pattern[i, t] = 1 if later or (balance.value() or 0.0) >= BALANCE_SLACK else 0
    return pattern


def _fix(binaries: dict, pattern: dict[tuple[int, int], int] | None) -> None:
    for key, v in binaries.items():
        if pattern is None:
            v.lowBound, v.upBound = 0, 1
        else:
            v.lowBound = v.upBound = pattern[key]


def _cost_with(prob: pulp.LpProblem, var: dict, pattern: dict[tuple[int, int], int]) -> float | None:
    """The least cost with the binaries fixed at ``pattern`` (a plan), or None if no plan has it."""
    _fix(var["open"], pattern)
    try:
        status, _ = _run(prob, mip=False)
        return float(pulp.value(var["cost"])) if status == "Optimal" else None
    finally:
        _fix(var["open"], None)


def _values(var: dict) -> tuple[dict[tuple[int, int], float], dict[tuple[int, int], float]]:
    payments = {key: float(v.value() or 0.0) for key, v in var["pay"].items()}
    balances = {key: float(v.value() or 0.0) for key, v in var["balance"].items()}
    return payments, balances
