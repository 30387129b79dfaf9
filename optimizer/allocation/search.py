"""Capacity allocation: which segments get which treatment, within agent hours and budget.

The linear programme (build, solve and report are separate steps):

* variables ``x[s, t]`` — the share of segment s given treatment t (0-1);
* maximise Σ value[s, t]·x[s, t], the expected net recovery over the horizon
  from :mod:`optimizer.allocation.value_model`;
* ``assign_{s}``: Σ_t x[s, t] = 1 — every account gets exactly one treatment;
* ``capacity_{team}_{week}``: Σ minutes[s, t, week]·x[s, t] ≤ the team's
  minutes that week (agents × shift minutes × working days — the same paid
  minutes the simulator's agents and the whole-ladder valuation give out;
  legal teams count filings);
* ``budget``: Σ spend[s, t]·x[s, t] ≤ the budget for variable spend (messages,
  letters, visits, filings, commission, complaint handling) — agent pay is fixed by the teams;
* minimum service (optional): treatments without any contact are not allowed.

Shares are rounded to account counts with the largest-remainder method, so
each segment's counts add up to its accounts. The shadow price of a capacity
row is the value of one more minute (filing) of that team in that week; times
60 it is the value of one more agent hour. A price that exists in one week
tells a planner little, so the main figure is :func:`agent_values`: the LP
re-solved with one more agent's paid minutes in every week of a team, against
what that agent costs.
"""

from __future__ import annotations

import json
import math
import time
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pulp

from sim.compliance import ContactCalendar, ContactRules
from sim.domain import MINUTES_PER_HOUR, WEEKDAYS, minutes_to_hours
from sim.errors import ScenarioError
from sim.scenario import Scenario, Step

from .. import solvers
from .segments import BUCKET_DPD, Segments
from .treatments import CHANNEL_ORDER, Treatment, team_for
from .value_model import Valuation

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
                out[(name, w)] = float(team.agents * span * working)
            else:
                shift = sum(end - start for start, end in team.shift_minutes)
                out[(name, w)] = team.agents * shift * working * utilisation
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


def build_allocation_model(valuation: Valuation, capacity: dict[tuple[str, int], float], *,
                           budget: float | None = None, min_service: bool = False,
                           units: dict[str, str] | None = None) -> AllocationModel:
    """The PuLP model, every row built from NumPy arrays by one ``LpAffineExpression(zip(...))``."""
    from scipy import sparse

    S, T = valuation.value.shape
    treatments = valuation.treatments
    problem = pulp.LpProblem("capacity_allocation", pulp.LpMaximize)
    allowed = np.ones((S, T), dtype=bool)
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
    for (team, week), cap in capacity.items():
        cube = valuation.minutes.get(team)
        if cube is None or week >= cube.shape[2]:
            continue
        coef = cube[:, :, week][allowed]
        nz = np.flatnonzero(coef > TINY)
        if nz.size == 0:
            continue
        rows.append((f"capacity_{team}_{week}", nz, coef[nz], pulp.LpConstraintLE, float(cap)))
    if budget is not None:
        spend = valuation.spend[allowed]
        nz = np.flatnonzero(spend > TINY)
        rows.append(("budget", nz, spend[nz], pulp.LpConstraintLE, float(budget)))
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
                           constraints=list(constraints.values()))


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


def solver_for(name: str, time_limit: float | None, model: AllocationModel | None = None):
    if name == "highs":
        if model is not None and model.matrix is not None:
            return ArrayHiGHS(model, msg=False, timeLimit=time_limit, mip=False)
        return pulp.HiGHS(msg=False, timeLimit=time_limit, mip=False)
    if name == "cbc":
        coin = pulp.COIN_CMD(msg=False, timeLimit=time_limit)
        if coin.available():
            return coin
        # The CBC binary bundled with PuLP; PuLP 3.3 flags the class as going away in 4.0.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            return pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit)
    raise ValueError(f"unknown solver {name!r}; use highs or cbc")


def largest_remainder(shares: np.ndarray, total: int) -> np.ndarray:
    """Whole counts proportional to ``shares`` (summing to 1) that add up to ``total``."""
    shares = np.clip(shares, 0.0, None)
    if shares.sum() <= 0:
        shares = np.ones_like(shares)
    shares = shares / shares.sum()
    exact = shares * total
    counts = np.floor(exact + 1e-9).astype(np.int64)
    left = total - int(counts.sum())
    if left > 0:
        order = np.argsort(-(exact - counts), kind="stable")
        counts[order[:left]] += 1
    return counts


def largest_remainder_rows(shares: np.ndarray, totals: np.ndarray) -> np.ndarray:
    """:func:`largest_remainder` for every row of ``shares`` at once (row k adds up to ``totals[k]``)."""
    shares = np.clip(shares, 0.0, None)
    empty = shares.sum(axis=1) <= 0
    shares = np.where(empty[:, None], 1.0, shares)
    shares = shares / shares.sum(axis=1, keepdims=True)
    exact = shares * np.asarray(totals, dtype=float)[:, None]
    counts = np.floor(exact + 1e-9).astype(np.int64)
    left = np.asarray(totals, dtype=np.int64) - counts.sum(axis=1)
    order = np.argsort(-(exact - counts), axis=1, kind="stable")
    rank = np.empty_like(order)
    np.put_along_axis(rank, order, np.arange(shares.shape[1])[None, :].repeat(shares.shape[0], 0), axis=1)
    return counts + (rank < left[:, None])


@dataclass(frozen=True)
class AgentValue:
    """One more agent on a team for the whole horizon, as the LP values it.

    ``per_agent`` is the LP's optimal objective with one more agent's paid
    minutes in every week of the team, less the objective without (the same
    values per segment and treatment: the plan may move accounts to use the
    agent); ``per_agent_hour`` divides it by that agent's paid hours over the
    horizon, to set against ``cost_per_agent_hour`` (``[costs] agent_minute``
    × 60, what the engine pays for an agent's shift). The weekly shadow
    prices say where the minutes bind; this says what a hire is worth.
    """

    team: str
    per_agent: float
    agent_hours: float
    cost_per_agent_hour: float

    @property
    def per_agent_hour(self) -> float:
        return self.per_agent / self.agent_hours if self.agent_hours > 0 else 0.0

    @property
    def cost_per_agent(self) -> float:
        return self.cost_per_agent_hour * self.agent_hours

    def to_dict(self) -> dict[str, float]:
        return {"per_agent": self.per_agent, "per_agent_hour": self.per_agent_hour,
                "cost_per_agent_hour": self.cost_per_agent_hour, "agent_hours": self.agent_hours}


def one_more_agent(scenario: Scenario, team: str, days: int) -> dict[tuple[str, int], float]:
    """The teams' capacity by week with one more agent on ``team`` (its paid minutes in every week)."""
    agents = scenario.teams[team].agents
    return team_capacity(scenario.with_overrides({f"teams.{team}.agents": agents + 1}), days)


def agent_values(scenario: Scenario, model: AllocationModel, days: int, *, solver: str = "highs",
                 time_limit: float | None = None) -> dict[str, AgentValue]:
    """:class:`AgentValue` of every call and field team: the LP re-solved with one more agent on it.

    Legal teams are priced per filing by their weekly shadow prices and have
    no agents to add.
    """
    base = solve(model, solver, time_limit)
    if base.objective is None:
        return {}
    out = {}
    for name, spec in scenario.teams.items():
        if spec.kind == "legal":
            continue
        capacity = one_more_agent(scenario, name, days)
        more = build_allocation_model(model.valuation, capacity, budget=model.budget, min_service=model.min_service,
                                      units=model.units)
        plan = solve(more, solver, time_limit)
        if plan.objective is None:
            continue
        added = sum(c - model.capacity.get(key, 0.0) for key, c in capacity.items() if key[0] == name)
        out[name] = AgentValue(team=name, per_agent=max(plan.objective - base.objective, 0.0),
                               agent_hours=minutes_to_hours(added),
                               cost_per_agent_hour=MINUTES_PER_HOUR * scenario.costs.agent_minute)
    return out


@dataclass
class Plan:
    """The solved allocation: status, objective, the table, capacity and its prices."""

    status: str
    objective: float | None
    shares: np.ndarray | None  # (S, T)
    counts: np.ndarray | None  # (S, T) whole accounts
    segments: Segments
    treatments: tuple[Treatment, ...]
    capacity: dict[tuple[str, int], float]
    capacity_used: dict[tuple[str, int], float]
    capacity_prices: dict[tuple[str, int], float]  # value of one more unit (minute or filing)
    budget: float | None
    budget_used: float | None
    budget_price: float | None
    units: dict[str, str] = field(default_factory=dict)
    solver: str = "highs"
    solve_seconds: float = 0.0
    days: int = 0
    fallback: int = 0  # treatment of cells no segment starts in (the scenario's own ladder)
    # The value model's expected net of the whole plan as a ladder (teams' daily
    # capacity), and of every reference ladder by name: what the plan is judged on.
    model_value: float | None = None
    lp_value: float | None = None  # the LP's own plan as a ladder (differs from model_value if a reference won)
    reference_values: dict[str, float] = field(default_factory=dict)
    # Set when a hand-written ladder rates at least as well as the LP's plan: the
    # plan is then that ladder (its steps as written), and ``note`` says so.
    reference: str | None = None
    reference_steps: tuple[Step, ...] = ()
    reference_strategy: dict[str, Any] | None = None  # its whole strategy section, as run in this world
    note: str = ""
    # What one more agent is worth to the LP over the horizon, by team (:func:`agent_values`).
    agent_value: dict[str, AgentValue] = field(default_factory=dict)
    # The plan as a manager reads it (:func:`optimizer.allocation.plan_summary.plan_summary`).
    summary: dict[str, Any] = field(default_factory=dict)
    # Per segment × treatment, the segment's value the LP read and, when the
    # valuation measured one (by simulation), its standard error.
    value: np.ndarray | None = None
    value_std_error: np.ndarray | None = None

    @property
    def ok(self) -> bool:
        return self.shares is not None

    def allocation(self) -> list[dict[str, Any]]:
        if self.counts is None:
            return []
        rows = []
        for s, t in zip(*np.nonzero(self.counts), strict=True):
            row = {"segment": self.segments.names[s], "treatment": self.treatments[t].name,
                   "accounts": int(self.counts[s, t])}
            # The row's accounts' share of the segment's value (and of its standard error).
            share = self.counts[s, t] / max(int(self.segments.accounts[s]), 1)
            if self.value is not None:
                row["value"] = float(self.value[s, t] * share)
            row["value_std_error"] = (float(self.value_std_error[s, t] * share)
                                      if self.value_std_error is not None else None)
            rows.append(row)
        return rows

    def hour_value(self, team: str) -> float:
        """Value of one more agent hour of a team in its most constrained week (per filing for legal)."""
        prices = [p for (name, _), p in self.capacity_prices.items() if name == team]
        scale = 1.0 if self.units.get(team) == "filings" else MINUTES_PER_HOUR  # per minute → per hour
        return max(prices, default=0.0) * scale

    def shadow_prices(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for (team, week), price in self.capacity_prices.items():
            scale = 1.0 if self.units.get(team) == "filings" else MINUTES_PER_HOUR
            out[f"{team}/{week}"] = price * scale
        if self.budget_price is not None:
            out["budget"] = self.budget_price
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "objective": self.objective,
            "allocation": self.allocation(),
            "capacity": {f"{t}/{w}": c for (t, w), c in self.capacity.items()},
            "capacity_used": {f"{t}/{w}": u for (t, w), u in self.capacity_used.items()},
            "agent_value": {team: v.to_dict() for team, v in self.agent_value.items()},
            "summary": self.summary,
            "shadow_prices": self.shadow_prices(),
            "units": {**self.units, "shadow_prices": "per agent hour (per filing for legal teams); budget per unit of money"},
            "budget": self.budget,
            "budget_used": self.budget_used,
            "solver": self.solver,
            "horizon_days": self.days,
            "plan_source": f"reference ladder {self.reference}" if self.reference else "lp",
            "note": self.note,
            "model_value": self.model_value,
            "lp_plan_model_value": self.lp_value,
            "reference_values": self.reference_values,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def dominant_treatment(self) -> np.ndarray:
        """The treatment most of each segment's accounts get (a ladder cannot split a segment)."""
        if self.shares is None:
            raise ValueError(f"no plan to turn into a strategy (status {self.status})")
        return np.argmax(self.shares, axis=1)

    def to_strategy(self, scenario: Scenario) -> Scenario:
        """The plan as a ladder the simulator runs: steps by dpd range × risk segment × balance band.

        Each segment's dominant treatment becomes its steps cut to the
        segment's bucket (dpd range), risk segment and balance band
        (``min_balance``/``max_balance``); cells no segment starts in get the
        nearest earlier bucket's choice. Neighbouring cells with the same steps
        share one (see :func:`plan_steps`).
        """
        data = scenario.content()
        if self.reference is not None:
            # The reference ladder's strategy as written (priority too; teams the
            # world lacks dropped, as with_strategy does).
            data["strategy"] = dict(self.reference_strategy)
            steps = data["strategy"]["steps"]
            data["description"] = f"reference ladder {self.reference}: {self.note}"
        else:
            table = continuation_table(self.segments, self.dominant_treatment(), self.fallback)
            steps = plan_steps(self.segments, self.treatments, table, scenario)
        data["strategy"]["name"] = f"optimised-{scenario.strategy.name}"
        data["strategy"]["steps"] = steps
        data["name"] = f"optimised-{scenario.display_name}"
        return Scenario.from_dict(data, source=scenario.source, base_dir=scenario.base_dir)


def _cell_steps(treatment: Treatment, lo: int, hi: int, risk: str, bal_lo: float, bal_hi: float | None,
                team_of) -> list[dict[str, Any]]:
    """A treatment's steps restricted to one cell: dpd lo-hi, one risk segment, balances [bal_lo, bal_hi)."""
    out = []
    for step in treatment.steps:
        a, z = max(step.from_dpd, lo), min(step.to_dpd, hi)
        if a > z or (step.segments is not None and risk not in step.segments):
            continue
        low = max(step.min_balance, bal_lo)
        highs = [h for h in (step.max_balance, bal_hi) if h is not None]
        high = min(highs) if highs else None
        if high is not None and high <= low:
            continue
        out.append({"channel": step.channel, "every_days": step.every_days, "attempts": step.attempts_per_day,
                    "after_failed": step.after_failed, "send_time": step.send_time, "team": team_of(step.channel),
                    "dpd": (a, z), "risks": frozenset([risk]), "balance": (low, high)})
    return out


def _merge(steps: list[dict[str, Any]], field_name: str) -> list[dict[str, Any]]:
    """Merge steps that differ only in ``field_name`` where their ranges touch (risk sets: always)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for st in steps:
        rest = tuple((k, v) for k, v in sorted(st.items(), key=lambda kv: kv[0]) if k != field_name)
        groups.setdefault(rest, []).append(st)
    out = []
    for members in groups.values():
        if field_name == "risks":
            merged = dict(members[0])
            merged["risks"] = frozenset().union(*(m["risks"] for m in members))
            out.append(merged)
            continue
        members.sort(key=lambda m: m[field_name][0])
        current = dict(members[0])
        for m in members[1:]:
            lo, hi = current[field_name]
            nlo, nhi = m[field_name]
            touches = (nlo <= hi + 1) if field_name == "dpd" else (hi is not None and nlo <= hi)
            if touches:
                if field_name == "dpd":
                    current[field_name] = (lo, max(hi, nhi))
                else:
                    current[field_name] = (lo, None if nhi is None else max(hi, nhi))
            else:
                out.append(current)
                current = dict(m)
        out.append(current)
    return out


def plan_steps(segments: Segments, treatments: tuple[Treatment, ...], table: np.ndarray,
               scenario: Scenario) -> list[dict[str, Any]]:
    """Ladder steps (plain dicts) for a treatment per cell ``table[bucket, risk, band]``.

    Every cell (days-past-due bucket × risk segment × balance band) gets its
    treatment's steps cut to the cell's dpd range, risk segment and balance
    band (``min_balance`` … ``max_balance``); steps that differ only in one of
    those and touch are merged, so a treatment chosen for neighbouring cells
    (or everywhere) becomes the one step the hand-written ladder has.
    """
    edges = segments.band_edges
    charge_off = scenario.portfolio.charge_off_dpd
    risks = segments.portfolio.segment_names
    team_of = lambda channel: team_for(scenario, channel)  # noqa: E731
    raw: list[dict[str, Any]] = []
    for bucket in range(1, 7):
        lo = BUCKET_DPD[bucket][0]
        hi = BUCKET_DPD[bucket][1] if bucket < 6 else charge_off - 1
        hi = min(hi, charge_off - 1)
        if lo > hi:
            continue
        for r, risk in enumerate(risks):
            for k in range(len(edges)):
                bal_hi = edges[k + 1] if k + 1 < len(edges) else None
                raw += _cell_steps(treatments[int(table[bucket, r, k])], lo, hi, risk, edges[k], bal_hi, team_of)
    steps = raw
    for _ in range(6):
        before = len(steps)
        for name in ("dpd", "balance", "risks"):
            steps = _merge(steps, name)
        if len(steps) == before:
            break
    out = []
    for st in sorted(steps, key=lambda st: (st["dpd"][0], CHANNEL_ORDER.index(st["channel"]), st["balance"][0])):
        step: dict[str, Any] = {"channel": st["channel"], "from_dpd": st["dpd"][0], "to_dpd": st["dpd"][1],
                                "every_days": st["every_days"]}
        if st["channel"] == "call" and st["attempts"] > 1:
            step["attempts_per_day"] = st["attempts"]
        if set(st["risks"]) != set(risks):
            step["segments"] = sorted(st["risks"], key=risks.index)
        if st["balance"][0] > 0:
            step["min_balance"] = st["balance"][0]
        if st["balance"][1] is not None:
            step["max_balance"] = st["balance"][1]
        if st["after_failed"]:
            step["after_failed"] = st["after_failed"]
        if st["send_time"] != "10:00":
            step["send_time"] = st["send_time"]
        if st["team"] is not None:
            step["team"] = st["team"]
        Step.model_validate(step)
        out.append(step)
    if len(out) > 64:
        raise ValueError(f"the plan needs {len(out)} ladder steps; a strategy allows 64 (use fewer balance bands)")
    return out


_STATUS = {
    pulp.LpStatusOptimal: "optimal",
    pulp.LpStatusInfeasible: "infeasible",
    pulp.LpStatusUnbounded: "unbounded",
    pulp.LpStatusNotSolved: "not_solved",
    pulp.LpStatusUndefined: "undefined",
}


def solve(model: AllocationModel, solver: str = "highs", time_limit: float | None = None) -> Plan:
    """Solve the model; infeasible, unbounded or out of time is a status in the Plan, never an exception."""
    problem = model.problem
    started = time.perf_counter()
    try:
        code = solvers.solve(problem, solver_for(solver, time_limit, model))
        status = _STATUS.get(code, "undefined")
        if status == "optimal" and problem.sol_status != pulp.LpSolutionOptimal:
            status = "time_limit"
    except pulp.PulpSolverError as err:
        status = f"solver_error: {err}".splitlines()[0]
    elapsed = time.perf_counter() - started
    valuation = model.valuation
    S, T = valuation.value.shape
    segments = valuation.segments
    feasible = status in ("optimal", "time_limit")
    shares = counts = None
    used: dict[tuple[str, int], float] = {}
    prices: dict[tuple[str, int], float] = {}
    budget_used = budget_price = None
    objective = None
    if feasible:
        shares = np.zeros((S, T))
        if model.column_of is not None:
            got = np.array([v.varValue if v.varValue is not None else 0.0 for v in model.columns], dtype=float)
            mask = model.column_of >= 0
            shares[mask] = np.clip(got[model.column_of[mask]], 0.0, 1.0)
        else:
            for s in range(S):
                for t in range(T):
                    v = model.x[s][t]
                    if v is not None and v.varValue is not None:
                        shares[s, t] = min(max(v.varValue, 0.0), 1.0)
        counts = largest_remainder_rows(shares, segments.accounts)
        objective = float(pulp.value(problem.objective) or 0.0)
        # Sign: PuLP reports duals of the maximisation as the solver gives them;
        # the value of relaxing a ≤ row is reported as a non-negative number.
        sign = _dual_sign(solver)
        for (team, week), _cap in model.capacity.items():
            cube = valuation.minutes.get(team)
            used[(team, week)] = float((cube[:, :, week] * shares).sum()) if cube is not None and week < cube.shape[2] else 0.0
            con = problem.get_constraint_by_name(f"capacity_{team}_{week}")
            prices[(team, week)] = max(0.0, sign * (con.pi or 0.0)) if con is not None and con.pi is not None else 0.0
        if model.budget is not None:
            budget_used = float((valuation.spend * shares).sum())
            con = problem.get_constraint_by_name("budget")
            budget_price = max(0.0, sign * (con.pi or 0.0)) if con is not None and con.pi is not None else 0.0
    return Plan(status=status, objective=objective, shares=shares, counts=counts, segments=segments,
                treatments=valuation.treatments, capacity=model.capacity, capacity_used=used,
                capacity_prices=prices, budget=model.budget, budget_used=budget_used, budget_price=budget_price,
                units=model.units, solver=solver, solve_seconds=elapsed, days=valuation.days,
                value=valuation.value, value_std_error=getattr(valuation, "value_std_error", None))


def _dual_sign(solver: str) -> float:
    # HiGHS solves the negated (minimisation) objective PuLP passes it, so its
    # row duals of a maximisation come out negated; CBC reports them as is.
    return -1.0 if solver == "highs" else 1.0


def continuation_table(segments: Segments, choice: np.ndarray, fallback: int = 0) -> np.ndarray:
    """treatment[bucket, risk, band] of the plan, for accounts that age into another bucket.

    A cell with no segment of its own takes the nearest earlier bucket's choice
    for the same risk segment and band (what that account was getting).
    """
    n_risk = len(segments.portfolio.segment_names)
    table = np.full((7, n_risk, len(segments.band_edges)), -1, dtype=np.int64)
    table[segments.bucket, segments.risk, segments.band] = choice
    for bucket in range(1, 7):
        missing = table[bucket] < 0
        table[bucket][missing] = table[bucket - 1][missing]
    table[table < 0] = fallback
    return table


@dataclass
class Allocation:
    """Everything ``allocate`` produced: the model solved, its plan and the valuation behind it.

    ``ladder_values`` is the value model's expected net of whole ladders on
    the book with the teams' daily capacity (the plan's as ``"plan"``, and
    every reference ladder by name): what ``--verify`` then simulates.
    """

    model: AllocationModel
    plan: Plan
    valuation: Valuation
    build_seconds: float
    value_seconds: float
    ladder_values: dict[str, float] = field(default_factory=dict)


VALUATIONS = ("analytic", "simulate")


def valuers(valuation: str):
    """(value every treatment, value a whole ladder) for a valuation method.

    ``analytic``: the mean-field model of :mod:`optimizer.allocation.value_model`;
    ``simulate``: the engine itself (:mod:`optimizer.allocation.sim_valuation`).
    """
    if valuation == "analytic":
        from .value_model import value_ladder, value_treatments

        return value_treatments, value_ladder
    if valuation == "simulate":
        from .sim_valuation import simulate_ladder, simulate_treatments

        return simulate_treatments, simulate_ladder
    raise ValueError(f"unknown valuation {valuation!r}; use one of {', '.join(VALUATIONS)}")


def allocate(scenario: Scenario, *, weeks: int | None = None, budget: float | None = None,
             min_service: bool = False, solver: str = "highs", time_limit: float | None = None,
             band_edges=None, rng=None, per_segment: int = 40, passes: int = 2,
             ladders: list[Scenario] | None = None, valuation: str = "analytic") -> Allocation:
    """Segments, treatments, values, the LP and its plan for a scenario.

    The treatments are the scenario's channels and cadences plus, as ladder
    treatments, the scenario's own ladder and each of ``ladders`` (and their
    automated parts), so every hand-written strategy restricted to a segment
    is a candidate; each treatment that calls but never visits also comes with
    monthly field visits on top (:func:`optimizer.allocation.treatments.with_field_visits`).
    The first pass values a treatment as given while the account stays in its
    starting bucket and the scenario's own ladder after;
    each further pass uses the previous plan as what accounts get once they
    age out of their bucket (the ladder the plan becomes is keyed by current
    days past due) and solves again. Of the passes, the plan whose ladder the
    value model rates best on the whole book (with the teams' daily capacity)
    is kept; if a reference ladder rates at least as well, the plan is that
    ladder (:func:`adopt_reference`).

    Values come from a stratified sample of ``per_segment`` accounts per
    segment (weighted to the segment), the same sample for the treatments, the
    plan and the reference ladders, so their comparison is paired. The
    defaults (40 accounts, 2 passes) keep a 5,000-account book near 15 s on
    two cores; a third pass rarely changed the plan in measurements.

    ``valuation`` says where the values come from: ``"analytic"`` (the
    value model's expectation) or ``"simulate"`` (the engine run on the
    sample, one paired run per treatment; whole ladders run on the whole book).
    """
    from .segments import DEFAULT_BALANCE_BANDS, build_segments
    from .treatments import (
        ladder_treatment,
        ladder_treatments,
        scenario_treatments,
        with_field_visits,
    )
    value_treatments, value_ladder = valuers(valuation)
    days = 7 * weeks if weeks is not None else scenario.simulation.days
    segments = build_segments(scenario, rng, band_edges=band_edges or DEFAULT_BALANCE_BANDS)
    # Each reference ladder as it runs in this world: its whole strategy section
    # (steps, call-list priority, redial gap) with this scenario's book and teams.
    worlds = {scenario.strategy.name: scenario}
    for other in ladders or []:
        worlds.setdefault(other.strategy.name, with_strategy(scenario, other))
    references = [(name, list(world.strategy.steps)) for name, world in worlds.items()]
    treatments = scenario_treatments(scenario)
    treatments += [t for t in ladder_treatments(scenario, references) if t not in treatments]
    treatments = with_field_visits(scenario, treatments)
    own = next((k for k, t in enumerate(treatments) if t.label == f"ladder:{scenario.strategy.name}"), 0)
    capacity = team_capacity(scenario, days)
    units = {name: ("filings" if team.kind == "legal" else "minutes") for name, team in scenario.teams.items()}
    n_risk = len(segments.portfolio.segment_names)
    continuation = np.full((7, n_risk, len(segments.band_edges)), own, dtype=np.int64)
    timings = {"value": 0.0, "build": 0.0}

    def value_and_solve(continuation):
        """Value every treatment, build the LP and solve it (timed: the report shows where time goes)."""
        started = time.perf_counter()
        valuation = value_treatments(scenario, segments, treatments, days, continuation=continuation,
                                     per_segment=per_segment)
        timings["value"] += time.perf_counter() - started
        started = time.perf_counter()
        model = build_allocation_model(valuation, capacity, budget=budget, min_service=min_service, units=units)
        timings["build"] += time.perf_counter() - started
        plan = solve(model, solver, time_limit)
        plan.fallback = own
        return valuation, model, plan

    best = None
    seen: list[np.ndarray] = []
    retried = ""
    for k in range(max(1, passes)):
        valuation, model, plan = value_and_solve(continuation)
        if plan.status == "infeasible" and k == 0 and continuation is not None:
            # Accounts that age out of their bucket get the scenario's own ladder,
            # whatever their first treatment: where that ladder alone asks for more
            # minutes in some week than the team has (the value model does not cut
            # it to capacity here), no allocation is feasible. Value each treatment
            # as kept for the whole horizon instead ('none' then needs no minutes).
            continuation = None
            valuation, model, plan = value_and_solve(None)
            retried = ("first pass valued treatments as kept for the whole horizon: with the own ladder after "
                       "the bucket the LP was infeasible")
        if not plan.ok:
            best = best or (model, plan, valuation, None)
            break
        started = time.perf_counter()
        try:
            ladder = plan.to_strategy(scenario)
        except ValueError as err:
            if best is None:
                # The user's options gave a plan no strategy can hold: one line, not a traceback.
                raise ScenarioError(scenario.source or "<scenario>", "--bands", str(err)) from None
            # A later pass's plan too fragmented to be written as a ladder (more
            # than 64 steps): keep the best plan so far and say so.
            retried = "; ".join(x for x in (retried, f"pass {k + 1} not used: {err}") if x)
            break
        worth = ladder_worth(scenario, value_ladder(ladder, segments, ladder.strategy.steps, days,
                                                    per_segment=per_segment))
        timings["value"] += time.perf_counter() - started
        if best is None or best[3] is None or worth > best[3]:
            best = (model, plan, valuation, worth)
        new = continuation_table(segments, plan.dominant_treatment(), own)
        if any(np.array_equal(new, old) for old in seen):
            break
        seen.append(new)
        continuation = new
    model, plan, valuation, worth = best
    agents = agent_values(scenario, model, days, solver=solver, time_limit=time_limit) if plan.ok else {}
    plan.agent_value = agents
    values: dict[str, float] = {}
    if worth is not None:
        started = time.perf_counter()
        outcomes = {name: value_ladder(world, segments, world.strategy.steps, days, per_segment=per_segment)
                    for name, world in worlds.items()}
        timings["value"] += time.perf_counter() - started
        values = {name: ladder_worth(scenario, r) for name, r in outcomes.items()}
        plan.model_value = plan.lp_value = worth
        plan.reference_values = dict(values)
        # A reference ladder may replace the plan only within the budget the plan was given:
        # every returned plan satisfies the budget and capacity it was asked to meet.
        eligible = {name: v for name, v in values.items()
                    if within_budget(float(outcomes[name].cost.sum()), budget)}
        top = max(eligible, key=eligible.get) if eligible else None
        if top is not None and eligible[top] >= worth:
            steps = dict(references)[top]
            own_ladder = ladder_treatment(scenario, steps, f"ladder:{top}")
            index = treatments.index(own_ladder) if own_ladder in treatments else own
            plan = adopt_reference(plan, top, worlds[top], index, outcomes[top], worth)
        values["plan"] = plan.model_value
    if retried:
        plan.note = "; ".join(x for x in (plan.note, retried) if x)
    if plan.ok:
        from .plan_summary import plan_summary

        plan.summary = plan_summary(plan, valuation, scenario, own)
    return Allocation(model=model, plan=plan, valuation=valuation, build_seconds=timings["build"],
                      value_seconds=timings["value"], ladder_values=values)


def adopt_reference(plan: Plan, name: str, world: Scenario, index: int, outcome, lp_worth: float) -> Plan:
    """The plan replaced by the reference ladder ``name``, which the value model rates at least as high.

    Every account gets the ladder (the allocation table shows its ladder
    treatment, number ``index``), the objective and capacity used are the ladder's by the value
    model with the teams' daily capacity; the shadow prices stay those of the
    LP (the value of an agent hour to the LP's own allocation).
    """
    from dataclasses import replace

    S, T = plan.shares.shape
    shares = np.zeros((S, T))
    shares[:, index] = 1.0
    counts = np.zeros((S, T), dtype=np.int64)
    counts[:, index] = plan.segments.accounts
    used = {}
    for (team, week) in plan.capacity:
        per_week = outcome.minutes.get(team)
        used[(team, week)] = float(per_week[week].sum()) if per_week is not None and week < per_week.shape[0] else 0.0
    value = ladder_worth(world, outcome)
    note = (f"reference ladder {name} is already optimal under the model: it is worth {value:,.0f} against "
            f"{lp_worth:,.0f} for the LP's plan as a ladder")
    budget_used = float(outcome.cost.sum()) if plan.budget is not None else plan.budget_used
    return replace(plan, shares=shares, counts=counts, objective=value, capacity_used=used, model_value=value,
                   budget_used=budget_used,
                   reference=name, reference_steps=tuple(world.strategy.steps),
                   reference_strategy=world.content()["strategy"], note=note)


def ladder_worth(scenario: Scenario, outcome) -> float:
    """A whole ladder's objective: its net collections plus the value of the book it leaves at the horizon."""
    from .objective import horizon_value

    worth = float(outcome.net.sum())
    if outcome.balance_end is not None:
        worth += float(horizon_value(scenario, outcome.book()).sum())
    return worth


def within_budget(spend: float, budget: float | None) -> bool:
    """Whether ``spend`` keeps to ``budget`` (no budget: always), to a cent's tolerance."""
    return budget is None or spend <= budget + 0.01


def with_strategy(world: Scenario, other: Scenario) -> Scenario:
    """``world`` (its book, teams, rules, costs) run with ``other``'s ladder: equal capacity."""
    data = world.content()
    strategy = other.content()["strategy"]
    for step in strategy.get("steps", []):
        if step.get("team") is not None and step["team"] not in world.teams:
            step.pop("team")
    data["strategy"] = strategy
    data["name"] = other.strategy.name
    return Scenario.from_dict(data, source=other.source, base_dir=world.base_dir)


@dataclass
class Verification:
    """Simulated net recovery of the optimised strategy against others, paired by replication.

    The runs are :func:`sim.experiment.run_experiment`'s (common random
    numbers: replication k of every strategy uses child k of one root seed).
    """

    reps: int
    labels: list[str]
    net_recovery: dict[str, list[float]]  # label -> per replication
    predicted: dict[str, float]  # label -> value model's expected net collections of the ladder
    comparison: Any = None  # the sim.experiment.Comparison behind it

    def difference(self, label: str, against: str) -> dict[str, float]:
        """``label`` − ``against``: mean paired difference, its 95 % interval, and the value model's prediction."""
        from sim.experiment import estimate

        d = np.asarray(self.net_recovery[label]) - np.asarray(self.net_recovery[against])
        e = estimate(d)
        low, high = (e.ci_low, e.ci_high) if d.size > 1 else (-math.inf, math.inf)
        return {"mean": e.mean, "low": low, "high": high,
                "predicted": self.predicted[label] - self.predicted[against]}

    def to_dict(self, optimised: str) -> dict[str, Any]:
        def plain(x: float) -> float | None:
            return x if math.isfinite(x) else None

        return {"reps": self.reps,
                "experiment_id": getattr(self.comparison, "experiment_id", None),
                "mean_net_recovery": {k: float(np.mean(v)) for k, v in self.net_recovery.items()},
                "predicted_net": self.predicted,
                "differences": {k: {n: plain(x) for n, x in self.difference(optimised, k).items()}
                                for k in self.labels if k != optimised}}


def verify(world: Scenario, optimised: Scenario, others: list[Scenario], reps: int, *, segments: Segments,
           seed: int | None = None, days: int | None = None, executor=None,
           per_segment: int = 40, valuation: str = "analytic") -> Verification:
    """Simulate the optimised strategy and every other ladder in ``world`` (equal capacity), ``reps`` times each.

    Runs through :func:`sim.experiment.run_experiment` with the optimised
    strategy as champion, so the replications are paired by common random
    numbers; ``predicted`` is the value model's expected net of each ladder.
    """
    from sim.experiment import run_experiment

    value_ladder = valuers(valuation)[1]
    runs = {optimised.display_name: optimised}
    for other in others:
        runs.setdefault(other.display_name, with_strategy(world, other))
    labels = list(runs)
    comparison = run_experiment(list(runs.values()), reps, world.simulation.seed if seed is None else seed,
                                executor=executor, labels=labels)
    horizon = days or world.simulation.days
    net = {label: [float(x) for x in comparison.values(label, "net_recovery")] for label in labels}
    predicted = {label: float(value_ladder(scenario, segments, scenario.strategy.steps, horizon,
                                           per_segment=per_segment).net.sum())
                 for label, scenario in runs.items()}
    return Verification(reps=reps, labels=labels, net_recovery=net, predicted=predicted, comparison=comparison)
