"""The allocation linear programme: build it, solve it, read the status and the duals.

The linear programme (build, solve and report are separate steps):

* variables ``x[s, t]`` — the share of segment s given treatment t (0-1);
* maximise Σ value[s, t]·x[s, t], the net recovery over the horizon (and the
  book left at it) measured by :mod:`optimizer.allocation.sim_valuation`;
* ``assign_{s}``: Σ_t x[s, t] = 1 — every account gets exactly one treatment;
* ``capacity_{team}_{week}``: Σ over the weeks from ``week`` to the horizon
  of minutes[s, t, w]·x[s, t] ≤ the team's minutes over those weeks (agents ×
  shift minutes × working days — the same paid minutes the simulator's agents
  and the whole-ladder valuation give out; legal teams count filings): work
  asked for in one week may be done in a later one, as the engine's lists
  carry over (:func:`backlog_rows`). With ``carry=False`` a week's work is
  held to that week's minutes alone: the rows an agent is priced by;
* ``budget``: Σ spend[s, t]·x[s, t] ≤ the budget for variable spend (messages,
  letters, visits, filings, commission, complaint handling) — agent pay is fixed by the teams;
* minimum service (optional): treatments without any contact are not allowed.

The value of one more minute (filing) of a team in a week is the sum of the
duals of its rows from that week back to week 0 (every row the minute
relaxes); times 60 it is the value of one more agent hour.
A price that exists in one week tells a planner little, so the main figure is
:func:`optimizer.allocation.search.agent_values`: the plan the LP makes with
one more agent's paid minutes in every week of a team against its plan, each
run as its ladder with its team (work the carrying rows move to later weeks
is not delivered at the value the valuation measured on time,
docs/optimizer_validation.md, "One more agent: the plans' ladders, run"),
against what that agent costs. :func:`solve` returns a :class:`optimizer.allocation.plan.Plan`;
infeasible or out of time is its status, never an exception.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import numpy as np
import pulp

from sim.compliance import ContactCalendar, ContactRules
from sim.domain import WEEKDAYS
from sim.scenario import Scenario

from .. import solvers
from .plan import Plan, largest_remainder_rows
from .valuation import Valuation

# Share of paid shift minutes the LP plans for. The engine's agents and the
# whole-ladder valuation (``value_ladder``) hand out every shift minute, so the
# LP does too: planning at less made it leave calls on the table that the
# hand-written ladders make, and lose to them by its own values.
CALL_UTILISATION = 1.0
TINY = 1e-9


def team_capacity(scenario: Scenario, days: int, *, utilisation: float = CALL_UTILISATION) -> dict[tuple[str, int], float]:
    """Minutes (filings for legal teams) each team can give each week of the horizon."""
    rules = ContactRules.from_section(scenario.compliance)
    calendar = ContactCalendar(rules, scenario.simulation.start_date, days)
    weeks = math.ceil(days / 7)
    out: dict[tuple[str, int], float] = {}
    for name, team in scenario.teams.items():
        for w in range(weeks):
            working = sum(1 for d in range(w * 7, min(days, w * 7 + 7))
                          if WEEKDAYS[calendar.date(d).weekday()] in team.work_days and not calendar.is_quiet(d))
            if team.kind == "legal":
                out[(name, w)] = float(team.filings_per_day * working)
            elif team.kind == "field":
                span = team.shift_minutes[-1][1] - team.shift_minutes[0][0]
                out[(name, w)] = float(team.full_time_equivalents * span * working)
            else:
                shift = sum(end - start for start, end in team.shift_minutes)
                out[(name, w)] = team.full_time_equivalents * shift * working * utilisation
    return out


@dataclass
class AllocationModel:
    """A built (not yet solved) allocation LP and the data it came from.

    ``problem`` is the PuLP model (what ``--mps`` writes and CBC solves); the
    same rows are also kept as a sparse matrix over ``columns`` (row order =
    the problem's constraint order), which the HiGHS path hands to ``highspy``
    in one call instead of term by term.
    """

    problem: pulp.LpProblem
    x: list[list[pulp.LpVariable | None]]
    valuation: Valuation
    capacity: dict[tuple[str, int], float]
    budget: float | None
    min_service: bool
    units: dict[str, str]
    columns: list[pulp.LpVariable] = field(default_factory=list)
    column_of: np.ndarray | None = None  # (S, T) column index, -1 where not allowed
    cost: np.ndarray | None = None  # objective coefficient per column (maximised)
    matrix: Any = None  # scipy.sparse CSR, one row per constraint
    row_lower: np.ndarray | None = None
    row_upper: np.ndarray | None = None
    constraints: list[pulp.LpConstraint] = field(default_factory=list)
    # (S, T) which segment × treatment columns the model has (None: all but what min_service forbids).
    allowed: np.ndarray | None = None
    # Whether work may be carried into later weeks (backlog rows) or is held to its own week's minutes.
    carry: bool = True
    # (7, R, B) cells with the same number tied to one treatment mix (``tie_*`` rows); None: no ties.
    cell_groups: np.ndarray | None = None


def build_allocation_model(valuation: Valuation, capacity: dict[tuple[str, int], float], *,
                           budget: float | None = None, min_service: bool = False,
                           units: dict[str, str] | None = None, allowed: np.ndarray | None = None,
                           carry: bool = True, cell_groups: np.ndarray | None = None) -> AllocationModel:
    """The PuLP model, every row built from NumPy arrays by one ``LpAffineExpression(zip(...))``.

    ``allowed`` (S, T): the segment × treatment choices the model may make
    (None: all; ``min_service`` forbids more). ``carry``: a team's rows hold
    its work from each week to the horizon (:func:`backlog_rows`); False: a
    row per week, that week's work against that week's minutes.
    ``cell_groups`` (7, R, B): segments whose cells share a number get the
    same shares (``tie_{s}_{t}``: x[s, t] = x[first of the group, t]), so the
    plan keys them as one ladder cell (:func:`tie_rows`).
    """
    from scipy import sparse

    S, T = valuation.value.shape
    treatments = valuation.treatments
    problem = pulp.LpProblem("capacity_allocation", pulp.LpMaximize)
    given = allowed
    allowed = np.ones((S, T), dtype=bool) if given is None else np.asarray(given, dtype=bool).copy()
    if min_service:
        allowed[:, [not t.is_reminder for t in treatments]] = False
    pairs = np.argwhere(allowed)  # row-major: the column order
    column_of = np.full((S, T), -1, dtype=np.int64)
    column_of[pairs[:, 0], pairs[:, 1]] = np.arange(len(pairs))
    columns = [problem.add_variable(f"x_{s}_{t}", 0, 1) for s, t in pairs.tolist()]
    x: list[list[pulp.LpVariable | None]] = [[None] * T for _ in range(S)]
    for (s, t), var in zip(pairs.tolist(), columns, strict=True):
        x[s][t] = var
    cost = valuation.objective[allowed].astype(float)
    problem.setObjective(pulp.LpAffineExpression(zip(columns, cost.tolist(), strict=True)))

    def pick(index: np.ndarray) -> list[pulp.LpVariable]:
        return [columns[k] for k in index.tolist()]

    rows: list[tuple[str, np.ndarray, np.ndarray, int, float]] = []  # name, columns, coefficients, sense, rhs
    starts = np.searchsorted(pairs[:, 0], np.arange(S + 1))
    for s in range(S):
        cols = np.arange(starts[s], starts[s + 1])
        rows.append((f"assign_{s}", cols, np.ones(cols.size), pulp.LpConstraintEQ, 1.0))
    for (team, week), (coef, cap) in backlog_rows(valuation, capacity, allowed, carry=carry).items():
        nz = np.flatnonzero(coef > TINY)
        if nz.size == 0:
            continue
        rows.append((f"capacity_{team}_{week}", nz, coef[nz], pulp.LpConstraintLE, float(cap)))
    if budget is not None:
        spend = valuation.spend[allowed]
        nz = np.flatnonzero(spend > TINY)
        rows.append(("budget", nz, spend[nz], pulp.LpConstraintLE, float(budget)))
    if cell_groups is not None:
        rows += [(name, cols, coef, pulp.LpConstraintEQ, 0.0)
                 for name, cols, coef in tie_rows(valuation.segments, cell_groups, column_of)]
    constraints: dict[str, pulp.LpConstraint] = {}
    for name, cols, coef, sense, rhs in rows:
        expr = pulp.LpAffineExpression(zip(pick(cols), coef.tolist(), strict=True))
        constraints[name] = pulp.LpConstraint(expr, sense, name, rhs)
    problem.extend(constraints)
    lengths = np.array([r[1].size for r in rows], dtype=np.int64)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    indices = np.concatenate([r[1] for r in rows]) if rows else np.zeros(0, np.int64)
    data = np.concatenate([r[2] for r in rows]).astype(float) if rows else np.zeros(0)
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(rows), len(columns)))
    rhs = np.array([r[4] for r in rows])
    equal = np.array([r[3] == pulp.LpConstraintEQ for r in rows], dtype=bool)
    return AllocationModel(problem=problem, x=x, valuation=valuation, capacity=dict(capacity), budget=budget,
                           min_service=min_service, units=units or {}, columns=columns, column_of=column_of,
                           cost=cost, matrix=matrix, row_lower=np.where(equal, rhs, -np.inf), row_upper=rhs,
                           constraints=list(constraints.values()), allowed=given, carry=carry,
                           cell_groups=cell_groups)


def tie_rows(segments, cell_groups: np.ndarray, column_of: np.ndarray) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """Rows x[s, t] − x[g, t] = 0 tying every segment s to the first segment g of its cell group.

    A treatment only one of the two may have is held at 0 in the other's
    row (x[s, t] = 0 or −x[g, t] = 0): a tie means one mix. Returns
    (name, columns, coefficients) per row, right-hand side 0.
    """
    group = cell_groups[segments.bucket, segments.risk, segments.band]
    _, first = np.unique(group, return_index=True)
    leader = first[np.searchsorted(np.unique(group), group)]
    rows = []
    for s in np.flatnonzero(leader != np.arange(group.size)).tolist():
        g = int(leader[s])
        for t in np.flatnonzero((column_of[s] >= 0) | (column_of[g] >= 0)).tolist():
            cols = [(int(column_of[s, t]), 1.0)] if column_of[s, t] >= 0 else []
            cols += [(int(column_of[g, t]), -1.0)] if column_of[g, t] >= 0 else []
            rows.append((f"tie_{s}_{t}", np.array([c for c, _ in cols], dtype=np.int64),
                         np.array([v for _, v in cols])))
    return rows


def backlog_rows(valuation: Valuation, capacity: dict[tuple[str, int], float],
                 allowed: np.ndarray, *, carry: bool = True) -> dict[tuple[str, int], tuple[np.ndarray, float]]:
    """Each team's work from week ``w`` to the horizon's end against its minutes over the same weeks.

    The engine's lists carry over: an account due for a call that no agent
    reached today is due again tomorrow (its step's cadence clock moves only
    when it is contacted), and a visit or a filing waits likewise. Work a
    plan asks for in one week may therefore be done in a later one, never in
    an earlier one; with a queue that carries over, everything asked for by
    the horizon is done by then exactly when, for every week ``w``, the work
    asked for from ``w`` on fits in the capacity from ``w`` on (Lindley's
    recursion of the backlog). A row per week of its own would price only the
    first week: the valuation's runs, with capacity to spare, contact every
    account due on the first day, so the book's first sweep lands in week 0
    and the LP rationed the whole horizon's calls to it — on card_baseline at
    5,000 accounts its plan used 44 k of the callers' 120 k minutes and lost
    to baseline's ladder, which works the backlog off over the weeks that
    follow. What the rows do not model: the valuation values the work asked
    for as done on time, and a call made late may merge with the account's
    next one (docs/optimizer_validation.md measures it). Returns
    ``{(team, w): (coefficients over the allowed columns, capacity from w on)}``.

    ``carry=False``: each week's work against its own week's minutes. Under
    a team far too small for the book the carrying rows overstate what it
    delivers — one caller for 1,500 accounts 61–150 days past due: the LP
    put its plan at 4.94 M, the engine with one caller at 4.74 M: the
    engine's list is worked by priority (carried calls of low-balance
    accounts wait behind new high-balance ones) and a call made weeks late
    has lost part of what an 8-week horizon gave it — so an agent is priced
    by running each side's plan as its ladder with its team
    (:func:`optimizer.allocation.search.agent_values`).
    """
    out: dict[tuple[str, int], tuple[np.ndarray, float]] = {}
    teams = dict.fromkeys(team for team, _ in capacity)
    for team in teams:
        cube = valuation.minutes.get(team)
        if cube is None:
            continue
        weeks = sorted(w for t, w in capacity if t == team and w < cube.shape[2])
        coef = np.zeros(int(allowed.sum()))
        cap = 0.0
        for week in reversed(weeks):
            if carry:
                coef = coef + cube[:, :, week][allowed]
                cap += capacity[(team, week)]
            else:
                coef, cap = cube[:, :, week][allowed], capacity[(team, week)]
            out[(team, week)] = (coef, cap)
    return out


class ArrayHiGHS(pulp.HiGHS):
    """PuLP's HiGHS interface, handing the model's prebuilt sparse matrix to ``highspy`` in one ``passModel``.

    PuLP's own ``buildSolverModel`` adds every column and row from Python and
    walks all constraint terms three times to collect the variables; for the
    allocation LP that took longer than solving it. Results go back into the
    PuLP variables and constraints (values, reduced costs, duals, slacks) as
    PuLP's interface puts them, so ``problem`` reads the same afterwards.
    """

    def __init__(self, model: AllocationModel, **options):
        super().__init__(**options)
        self.model = model

    def buildSolverModel(self, lp):
        import highspy

        m = self.model
        if lp is not m.problem or lp.numConstraints() != m.matrix.shape[0]:
            return super().buildSolverModel(lp)  # the problem was changed after building
        for i, var in enumerate(m.columns):
            var.index = i
        for i, con in enumerate(m.constraints):
            con.index = i
        A = m.matrix.tocsc()
        n = len(m.columns)
        model = highspy.HighsLp()
        model.num_col_, model.num_row_ = n, A.shape[0]
        model.col_cost_ = -m.cost  # HiGHS minimises
        model.col_lower_, model.col_upper_ = np.zeros(n), np.ones(n)
        inf = highspy.kHighsInf
        model.row_lower_ = np.where(np.isfinite(m.row_lower), m.row_lower, -inf)
        model.row_upper_ = m.row_upper
        model.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        model.a_matrix_.start_, model.a_matrix_.index_, model.a_matrix_.value_ = A.indptr, A.indices, A.data
        lp.solverModel.passModel(model)

    def actualSolve(self, lp):
        m = self.model
        if lp is not m.problem:
            return super().actualSolve(lp)
        import highspy

        self.createAndConfigureSolver(lp)
        self.buildSolverModel(lp)
        self.callSolver(lp)
        h = lp.solverModel
        status = h.getModelStatus()
        solution = h.getSolution()
        S = highspy.HighsModelStatus
        finite = math.isfinite(h.getInfo().objective_function_value)
        if status == S.kOptimal:
            code, sol = pulp.LpStatusOptimal, pulp.LpSolutionOptimal
        elif status in (S.kInfeasible, S.kUnboundedOrInfeasible):
            code, sol = pulp.LpStatusInfeasible, pulp.LpSolutionInfeasible
        elif status == S.kUnbounded:
            code, sol = pulp.LpStatusUnbounded, pulp.LpSolutionUnbounded
        elif status in (S.kTimeLimit, S.kIterationLimit, S.kInterrupt, S.kObjectiveBound, S.kObjectiveTarget) \
                and finite and solution.value_valid:
            code, sol = pulp.LpStatusOptimal, pulp.LpSolutionIntegerFeasible
        else:
            code, sol = pulp.LpStatusNotSolved, pulp.LpSolutionNoSolutionFound
        if solution.value_valid:
            for var, value, dj in zip(m.columns, solution.col_value, solution.col_dual, strict=True):
                var.varValue = value
                var.dj = dj
                var.modified = False
            rows = list(solution.row_value)
            duals = list(solution.row_dual) if solution.dual_valid else [None] * len(rows)
            for con, value, dual in zip(m.constraints, rows, duals, strict=True):
                con.slack = con.constant + value
                if con.sense == pulp.LpConstraintLE:
                    con.slack *= -1.0
                con.pi = dual
                con.modified = False
        lp.assignStatus(code, sol)
        return code


_STATUS = {
    pulp.LpStatusOptimal: "optimal",
    pulp.LpStatusInfeasible: "infeasible",
    pulp.LpStatusUnbounded: "unbounded",
    pulp.LpStatusNotSolved: "not_solved",
    pulp.LpStatusUndefined: "undefined",
}


def solve(model: AllocationModel, solver: str = "highs", time_limit: float | None = None, *,
          fallback: int = 0) -> Plan:
    """Solve the model; infeasible, unbounded or out of time is a status in the Plan, never an exception.

    The solver comes from :func:`optimizer.solvers.get_solver` (HiGHS, handed
    the prebuilt matrix by :class:`ArrayHiGHS`; CBC if HiGHS is missing or
    fails), and :attr:`Plan.solver` names the one that answered: the duals'
    sign follows it. ``fallback`` is the treatment the plan's ladder gives
    cells no segment starts in (:attr:`Plan.fallback`: the scenario's own ladder).
    """
    started = time.perf_counter()
    status, ran = _run(model, solver, time_limit)
    elapsed = time.perf_counter() - started
    valuation = model.valuation
    segments = valuation.segments
    shares = counts = objective = budget_used = budget_price = None
    used: dict[tuple[str, int], float] = {}
    prices: dict[tuple[str, int], float] = {}
    if status in ("optimal", "time_limit"):
        shares = _shares(model)
        counts = largest_remainder_rows(shares, segments.accounts)
        objective = float(pulp.value(model.problem.objective) or 0.0)
        sign = _dual_sign(ran)
        for (team, week) in model.capacity:
            cube = valuation.minutes.get(team)
            used[(team, week)] = float((cube[:, :, week] * shares).sum()) if cube is not None and week < cube.shape[2] else 0.0
        # One more minute in week w relaxes every row from an earlier week on (its own row alone without carry).
        for team in dict.fromkeys(team for team, _ in model.capacity):
            price = 0.0
            for week in sorted(w for t, w in model.capacity if t == team):
                row = _price(model.problem, f"capacity_{team}_{week}", sign)
                price = price + row if model.carry else row
                prices[(team, week)] = price
        if model.budget is not None:
            budget_used = float((valuation.spend * shares).sum())
            budget_price = _price(model.problem, "budget", sign)
    return Plan(status=status, objective=objective, shares=shares, counts=counts, segments=segments,
                treatments=valuation.treatments, capacity=model.capacity, capacity_used=used,
                capacity_prices=prices, budget=model.budget, budget_used=budget_used, budget_price=budget_price,
                units=model.units, solver=ran, solve_seconds=elapsed, days=valuation.days, fallback=fallback,
                value=valuation.value, value_std_error=getattr(valuation, "value_std_error", None),
                cell_groups=model.cell_groups)


def _run(model: AllocationModel, solver: str, time_limit: float | None) -> tuple[str, str]:
    """Solve ``model.problem``: (its status, the name of the solver that answered)."""
    problem = model.problem
    highs = partial(ArrayHiGHS, model) if model.matrix is not None else pulp.HiGHS
    chosen = solvers.get_solver(solver, mip=False, time_limit=time_limit, highs=highs)
    try:
        code = solvers.solve(problem, chosen)
    except pulp.PulpSolverError as err:
        return f"solver_error: {err}".splitlines()[0], solver
    status = _STATUS.get(code, "undefined")
    if status == "optimal" and problem.sol_status != pulp.LpSolutionOptimal:
        status = "time_limit"
    return status, solvers.solver_name(problem.solver)


def _shares(model: AllocationModel) -> np.ndarray:
    """The solution's share of each segment per treatment, (S, T), 0 where a treatment is not allowed."""
    S, T = model.valuation.value.shape
    shares = np.zeros((S, T))
    if model.column_of is not None:
        got = np.array([v.varValue if v.varValue is not None else 0.0 for v in model.columns], dtype=float)
        mask = model.column_of >= 0
        shares[mask] = np.clip(got[model.column_of[mask]], 0.0, 1.0)
        return shares
    for s in range(S):
        for t in range(T):
            v = model.x[s][t]
            if v is not None and v.varValue is not None:
                shares[s, t] = min(max(v.varValue, 0.0), 1.0)
    return shares


def _price(problem: pulp.LpProblem, row: str, sign: float) -> float:
    """The value of relaxing a ≤ row by one unit, as a non-negative number (0 for a missing row or dual)."""
    con = problem.get_constraint_by_name(row)
    return max(0.0, sign * (con.pi or 0.0)) if con is not None and con.pi is not None else 0.0


def _dual_sign(solver: str) -> float:
    """The sign that turns the row duals ``solver`` reports for a maximisation into values of relaxing a row.

    HiGHS solves the negated (minimisation) objective PuLP passes it, so its
    row duals of a maximisation come out negated; CBC reports them as is.
    ``solver`` must be the solver that answered, not the one asked for.
    """
    return -1.0 if solver == "highs" else 1.0
