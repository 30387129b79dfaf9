"""The solved allocation as data: :class:`Plan`, its reports and JSON, and the ladder it becomes.

A :class:`Plan` is built once, complete (:func:`optimizer.allocation.lp.solve`
builds the LP's; :func:`optimizer.allocation.search.allocate` derives the one
it returns with ``dataclasses.replace``). Shares are rounded to account counts
with the largest-remainder method, so each segment's counts add up to its
accounts. :meth:`Plan.to_strategy` writes the plan as a ladder the simulator
runs (:func:`plan_steps`); :func:`written_strategy` gives the TOML text
``allocate --strategy-out`` writes and the scenario that text reads back as,
the one ``--verify`` runs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from sim.domain import LADDER_CHANNELS, MINUTES_PER_HOUR
from sim.scenario import Scenario, Step, load_scenario_text

from .segments import BUCKET_DPD, Segments
from .treatments import Treatment, team_for


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
    """One more agent on a team for the whole horizon.

    ``per_agent`` is what the plan the LP makes with one more agent's paid
    minutes in every week of the team, run as its ladder with that team,
    brings over the plan for today's team run with today's team (paired
    whole-book runs, :func:`optimizer.allocation.search.agent_values`; the
    plan may move accounts to use the agent); ``lp_per_agent`` is the LP's
    own difference of the two optima, which counts every call a plan asks
    for as made on time. ``per_agent_hour`` divides ``per_agent`` by that
    agent's paid hours over the horizon, to set against
    ``cost_per_agent_hour`` (``[costs] agent_minute`` × 60, what the engine
    pays for an agent's shift). The weekly shadow prices say where the
    minutes bind; this says what a hire is worth.
    """

    team: str
    per_agent: float
    agent_hours: float
    cost_per_agent_hour: float
    # The LP's difference alone, before the correction for the work each side's team does not reach (None: none made).
    lp_per_agent: float | None = None

    @property
    def per_agent_hour(self) -> float:
        return self.per_agent / self.agent_hours if self.agent_hours > 0 else 0.0

    @property
    def cost_per_agent(self) -> float:
        return self.cost_per_agent_hour * self.agent_hours

    def to_dict(self) -> dict[str, float]:
        return {"per_agent": self.per_agent, "per_agent_hour": self.per_agent_hour,
                "cost_per_agent_hour": self.cost_per_agent_hour, "agent_hours": self.agent_hours,
                "lp_per_agent": self.lp_per_agent}



@dataclass(frozen=True, eq=False)
class Plan:
    """The solved allocation: status, objective, the table, capacity and its prices."""

    status: str
    objective: float | None
    shares: np.ndarray | None  # (S, T)
    counts: np.ndarray | None  # (S, T) whole accounts
    segments: Segments
    treatments: tuple[Treatment, ...]
    capacity: dict[tuple[str, int], float]
    # Work asked of each team by week (it may exceed one week's capacity: the lists carry over,
    # :meth:`capacity_backlog`) and the value of one more unit (minute or filing) in that week.
    capacity_used: dict[tuple[str, int], float]
    capacity_prices: dict[tuple[str, int], float]
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
    # Under the simulated valuation: the paired runs of plan and references behind the choice
    # (:func:`optimizer.allocation.search._Search.guarded_reference`); empty otherwise.
    guard: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    # What one more agent is worth to the LP over the horizon, by team (:func:`agent_values`).
    agent_value: dict[str, AgentValue] = field(default_factory=dict)
    # The plan as a manager reads it (:func:`optimizer.allocation.plan_summary.plan_summary`).
    summary: dict[str, Any] = field(default_factory=dict)
    # Per segment × treatment, the segment's value the LP read and, when the
    # valuation measured one (by simulation), its standard error.
    value: np.ndarray | None = None
    value_std_error: np.ndarray | None = None
    # Which valuation gave the values ("analytic" or "simulate") and the report's line saying so.
    valued_by: str = ""
    valuation_note: str = ""
    # Cells (bucket, risk, band; shape (7, R, B)) with the same number share one treatment mix: the LP was
    # solved with their segments tied, so the plan is written with fewer ladder steps (None: every cell its own).
    cell_groups: np.ndarray | None = None
    # How the LP's plan was fitted into a strategy's 64 ladder steps (treatments dropped, cells keyed more
    # coarsely) and the LP objective that cost (:func:`optimizer.allocation.ladder_fit.fit_ladder`); empty
    # when the LP's own plan fitted as it was.
    ladder_fit: dict[str, Any] = field(default_factory=dict)

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

    def capacity_backlog(self) -> dict[tuple[str, int], float]:
        """Work the plan asks of each team from week ``w`` on, less the team's capacity over those weeks.

        The engine's lists carry over (a call no agent reached today is due
        tomorrow), so the work of one week may be done in a later one: the
        plan keeps to its teams' capacity when no figure here is above 0 (the
        LP's rows, :func:`optimizer.allocation.lp.backlog_rows`). A week's
        ``capacity_used`` may exceed its capacity — the first sweep of the
        book, worked off in the weeks after.
        """
        out: dict[tuple[str, int], float] = {}
        for team in dict.fromkeys(team for team, _ in self.capacity):
            excess = 0.0
            for week in sorted((w for t, w in self.capacity if t == team), reverse=True):
                excess += self.capacity_used.get((team, week), 0.0) - self.capacity[(team, week)]
                out[(team, week)] = excess
        return out

    def within_capacity(self, tolerance: float = 1e-6) -> bool:
        """Whether every team's work from every week on fits its capacity from then on (relative ``tolerance``)."""
        total = {team: sum(c for (t, _), c in self.capacity.items() if t == team) for team, _ in self.capacity}
        return all(excess <= tolerance * (total[team] + 1.0) for (team, _), excess in self.capacity_backlog().items())

    def hour_value(self, team: str) -> float:
        """Value of one more agent hour of a team in the week it is worth most (per filing for legal).

        Work carries over to later weeks, so an hour is worth at least as much
        in a later week as in an earlier one (:meth:`capacity_backlog`).
        """
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
            "valuation": self.valued_by,
            "valuation_note": self.valuation_note,
            "model_value": self.model_value,
            "lp_plan_model_value": self.lp_value,
            "reference_values": self.reference_values,
            "guard": self.guard,
            # Only when the plan had to be fitted into 64 ladder steps (absent: the LP's plan as solved, loss 0).
            **({"ladder_fit": self.ladder_fit} if self.ladder_fit else {}),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def dominant_treatment(self) -> np.ndarray:
        """The treatment most of each segment's accounts get (a ladder cannot split a segment).

        Segments whose cells are tied (:attr:`cell_groups`) have the same
        shares in the LP; their summed shares decide, so a split that the
        solver's tolerance leaves a hair uneven cannot give them two treatments.
        """
        if self.shares is None:
            raise ValueError(f"no plan to turn into a strategy (status {self.status})")
        if self.cell_groups is None:
            return np.argmax(self.shares, axis=1)
        seg = self.segments
        group = self.cell_groups[seg.bucket, seg.risk, seg.band]
        ids, member = np.unique(group, return_inverse=True)
        summed = np.zeros((ids.size, self.shares.shape[1]))
        np.add.at(summed, member, self.shares)
        return np.argmax(summed, axis=1)[member]

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
            table = continuation_table(self.segments, self.dominant_treatment(), self.fallback, self.cell_groups)
            steps = plan_steps(self.segments, self.treatments, table, scenario)
        data["strategy"]["name"] = f"optimised-{scenario.strategy.name}"
        data["strategy"]["steps"] = steps
        data["name"] = f"optimised-{scenario.display_name}"
        return Scenario.from_dict(data, source=scenario.source, base_dir=scenario.base_dir)


def written_strategy(plan: Plan, scenario: Scenario, path: str | None = None) -> tuple[str, Scenario]:
    """The plan's ladder as the TOML text ``--strategy-out`` writes, and the scenario read back from that text.

    ``--verify`` simulates the scenario returned here, not the object the
    text was written from: what it checks is what the file holds, so a field
    the TOML lost or re-read differently would show in verify's figures
    rather than only in the user's runs. ``path``: where the file goes
    (its source and directory, as ``load_scenario`` reads it); None keeps
    the world's.
    """
    text = plan.to_strategy(scenario).to_toml()
    source, base_dir = (scenario.source, scenario.base_dir) if path is None else (path, str(Path(path).parent))
    return text, load_scenario_text(text, source=source, base_dir=base_dir)


def _cell_steps(treatment: Treatment, lo: int, hi: int, risk: str, bal_lo: float, bal_hi: float | None,
                team_of) -> list[dict[str, Any]]:
    """A treatment's steps restricted to one cell: dpd lo-hi, one risk segment, balances [bal_lo, bal_hi)."""
    out = []
    for step in treatment.steps:
        if step.after_charge_off:
            continue  # the plan's cells end at charge-off
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
    out = [_written_step(st, risks)
           for st in sorted(steps, key=lambda st: (st["dpd"][0], LADDER_CHANNELS.index(st["channel"]), st["balance"][0]))]
    if len(out) > 64:
        raise ValueError(f"the plan needs {len(out)} ladder steps; a strategy allows 64 (use fewer balance bands)")
    return out


def _written_step(st: dict[str, Any], risks: tuple[str, ...]) -> dict[str, Any]:
    """One merged cell step as the strategy section writes it (defaults left out), validated."""
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
    return step



def continuation_table(segments: Segments, choice: np.ndarray, fallback: int = 0,
                       cell_groups: np.ndarray | None = None) -> np.ndarray:
    """treatment[bucket, risk, band] of the plan, for accounts that age into another bucket.

    A cell with no segment of its own takes its group's choice when
    ``cell_groups`` ties it to cells that have one (a coarser key, one ladder
    step for all of them), else the nearest earlier bucket's choice for the
    same risk segment and band (what that account was getting).
    """
    n_risk = len(segments.portfolio.segment_names)
    table = np.full((7, n_risk, len(segments.band_edges)), -1, dtype=np.int64)
    table[segments.bucket, segments.risk, segments.band] = choice
    if cell_groups is not None:
        # Every segment of a group has the group's choice (dominant_treatment), so any filled cell gives it.
        chosen = table >= 0
        of_group = dict(zip(cell_groups[chosen].tolist(), table[chosen].tolist(), strict=True))
        for group in np.unique(cell_groups[~chosen]).tolist():
            if group in of_group:
                table[(cell_groups == group) & ~chosen] = of_group[group]
    for bucket in range(1, 7):
        missing = table[bucket] < 0
        table[bucket][missing] = table[bucket - 1][missing]
    table[table < 0] = fallback
    return table

