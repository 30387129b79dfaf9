"""Run results: the KPIs a collections manager reads, the daily series, provenance.

A :class:`RunResult` is plain data: the scenario it came from (name and
content hash), the seed, the package versions, the KPIs, the daily series,
the monthly roll-rate matrix between buckets and (optionally) the contact log.

KPI definitions
---------------
``recovery_rate``      collected / initial balance.
``cure_rate``          share of initially delinquent accounts that ended cured (paid
                       their past-due amount) or paid off.
``charge_off_rate``    share of accounts charged off.
``cost``               every cost item of the run (``cost_by_item``): messages, letters, agent
                       time, visits, filings, agency commission, complaints handled.
``net_recovery``       collected − cost.
``npv_collected``      daily collections discounted at ``simulation.discount_rate`` a year.
``right_party_contact_rate``  right-party outcomes per outbound call attempt (0 if none).
``promise_kept_rate``  kept / (kept + broken) promises that fell due (0 if none).
``agent_utilization``  call-agent minutes talking or dialling / paid shift minutes.
``inbound_service_level``  inbound callers answered within 20 s / callers (1 if none).
``conservation_error`` |initial + interest_and_fees − collected − written_off − outstanding|.
"""

from __future__ import annotations

import datetime as dt
import platform
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .contact_log import ContactLog
from .domain import ACTIVE, ALL_CHANNELS, CHARGED_OFF, CURED, PAID_OFF, ROLL_STATES
from .engine.tally import RunOutcome
from .history import RunHistory
from .ledger import AccountLedger

SCALAR_KPIS = (
    "initial_balance",
    "collected",
    "outstanding",
    "written_off",
    "interest_and_fees",
    "recovery_rate",
    "cure_rate",
    "charge_off_rate",
    "cost",
    "net_recovery",
    "npv_collected",
    "right_party_contact_rate",
    "promise_kept_rate",
    "complaints_per_1000",
    "agent_utilization",
    "inbound_service_level",
    "compliance_refusals",
    "conservation_error",
)


def versions() -> dict[str, str]:
    import pulp  # noqa: F401 - recorded only if importable
    import scipy
    import simpy

    from . import __version__

    return {
        "repaylab": __version__,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "simpy": simpy.__version__,
    }


@dataclass(frozen=True)
class RunResult:
    """Everything one run produced, with the settings that produced it."""

    scenario_name: str
    scenario_hash: str
    seed: dict[str, Any]
    accounts: int
    days: int
    start_date: dt.date
    kpis: dict[str, Any]
    series: dict[str, np.ndarray]
    roll_rates: np.ndarray
    contact_log: ContactLog | None = None
    versions: dict[str, str] = field(default_factory=dict)
    ledger: AccountLedger | None = None  # per-account totals, when the run was asked to keep them
    history: RunHistory | None = None  # receipts and accounts as a lender exports them, when asked for
    # Champion/challenger runs (sim.arms): each account's strategy, the KPIs by strategy, the within-run tests.
    arms: Any = None
    kpis_by_strategy: dict[str, dict[str, Any]] | None = None
    strategy_tests: dict[str, dict[str, dict[str, float]]] | None = None

    def scalar_kpis(self) -> dict[str, float]:
        return {k: float(self.kpis[k]) for k in SCALAR_KPIS}

    def recovery_curve(self) -> np.ndarray:
        """Cumulative share of the initial balance collected, by day."""
        initial = self.kpis["initial_balance"]
        return np.cumsum(self.series["collected"]) / initial if initial > 0 else np.zeros(self.days)

    def to_dict(self, *, series: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "scenario": self.scenario_name,
            "scenario_hash": self.scenario_hash,
            "seed": self.seed,
            "accounts": self.accounts,
            "days": self.days,
            "kpis": _jsonable(self.kpis),
            "versions": self.versions,
        }
        if series:
            out["series"] = {k: _jsonable(v) for k, v in self.series.items()}
        return out


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, (np.floating, float)):
        v = float(value)
        return v if np.isfinite(v) else None
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def _ratio(numerator: float, denominator: float, empty: float = 0.0) -> float:
    return float(numerator / denominator) if denominator > 0 else empty


def _roll_rates(tally) -> np.ndarray:
    """The roll-rate matrix: each row the shares of a roll state's accounts by the state they moved to."""
    roll = tally.roll_counts.astype(np.float64)
    rows = roll.sum(axis=1, keepdims=True)
    return np.divide(roll, rows, out=np.zeros_like(roll), where=rows > 0)


def _kpis(run: RunOutcome, roll_rates: np.ndarray) -> dict[str, Any]:
    """The run's headline figures (money, contacts, promises, the inbound line) and the detail a manager asks about."""
    tally = run.tally
    n = run.accounts
    scenario = run.scenario
    initial = run.initial_balance
    collected = run.collected
    written_off = run.written_off
    interest = run.interest_and_fees
    outstanding = float(run.balance.sum())
    cost = float(tally.cost.sum())
    days = run.days
    discount = (1.0 + scenario.simulation.discount_rate) ** (-(np.arange(days) + 1) / 365.0)
    delinquent = run.portfolio.days_past_due > 0
    ended_cured = np.isin(run.status, (CURED, PAID_OFF)) & delinquent
    attempts = float(tally.call_outcomes.sum())
    kept, broken = float(tally.promises_kept.sum()), float(tally.promises_broken.sum())
    arrivals = float(tally.inbound_arrivals.sum())
    return {
        "initial_balance": initial,
        "collected": collected,
        "outstanding": outstanding,
        "written_off": written_off,
        "interest_and_fees": interest,
        "recovery_rate": _ratio(collected, initial),
        "cure_rate": _ratio(float(ended_cured.sum()), float(delinquent.sum())),
        "charge_off_rate": _ratio(float((run.status == CHARGED_OFF).sum()), n),
        "cost": cost,
        "net_recovery": collected - cost,
        "npv_collected": float(np.dot(tally.collected, discount)),
        "right_party_contact_rate": _ratio(float(tally.call_outcomes[:, 2].sum()), attempts),
        "promise_kept_rate": _ratio(kept, kept + broken),
        "complaints_per_1000": 1000.0 * float(tally.complaints.sum()) / n,
        "agent_utilization": _ratio(float(tally.agent_busy.sum()), float(tally.agent_paid.sum())),
        "inbound_service_level": _ratio(float(tally.inbound_within_target.sum()), arrivals, empty=1.0),
        "contacts": {ch: int(tally.contacts[:, k].sum()) for k, ch in enumerate(ALL_CHANNELS)},
        "compliance_refusals": int(tally.refusals.sum()),
        "conservation_error": abs(initial + interest - collected - written_off - outstanding),
        "roll_rates": {"states": list(ROLL_STATES), "matrix": roll_rates.tolist()},
        # Further detail a manager asks about.
        "accounts": n,
        "active_accounts": int((run.status == ACTIVE).sum()),
        "promises_made": int(tally.promises_made.sum()),
        "plans_started": int(tally.plans_started.sum()),
        "complaints": int(tally.complaints.sum()),
        # The provision view: accounts reaching 31 days past due (bureau reporting, IFRS 9 stage 2).
        "rolled_past_30": int(tally.rolled_past_30.sum()),
        "disputes": int(tally.disputes.sum()),
        "inbound_calls": int(arrivals),
        "inbound_abandoned": int(tally.inbound_abandoned.sum()),
        "inbound_waited_share": _ratio(float(tally.inbound_waited.sum()), float(tally.inbound_answered.sum())),
        "mean_inbound_wait_minutes": _ratio(float(tally.inbound_wait.sum()), float(tally.inbound_answered.sum())),
        "cost_by_item": {k: float(v) for k, v in sorted(tally.cost_by_item.items())},
        # Only runs with rules by account have these (accounts excluded, opt-outs, cease requests).
        **(tally.extra_kpis() if tally.extra_kpis is not None else {}),
    }


def _series(tally) -> dict[str, np.ndarray]:
    """The daily series of a run, by name."""
    return {
        "collected": tally.collected,
        "interest_and_fees": tally.interest_and_fees,
        "written_off": tally.written_off,
        "cost": tally.cost,
        "outstanding_by_bucket": tally.outstanding_by_bucket,
        "contacts": tally.contacts,
        "call_outcomes": tally.call_outcomes,
        "refusals": tally.refusals,
        "inbound_arrivals": tally.inbound_arrivals,
        "inbound_answered": tally.inbound_answered,
        "inbound_abandoned": tally.inbound_abandoned,
        "inbound_within_target": tally.inbound_within_target,
        "agent_busy_minutes": tally.agent_busy,
        "agent_paid_minutes": tally.agent_paid,
        "promises_made": tally.promises_made,
        "promises_kept": tally.promises_kept,
        "complaints": tally.complaints,
        "payments": tally.payments,
    }


def build_result(run: RunOutcome, *, scenario_name: str, scenario_hash: str, seed: dict[str, Any]) -> RunResult:
    """The KPIs, series and contact log of a finished run (:meth:`sim.engine.Engine.outcome`)."""
    scenario = run.scenario
    roll_rates = _roll_rates(run.tally)
    kpis = _kpis(run, roll_rates)
    if run.offers is not None:  # only a ladder that makes offers has them (sim/engine/offers.py)
        kpis["offers"] = run.offers
    series = _series(run.tally)
    log = None
    if run.log.enabled:
        log = run.log.build(run.portfolio.account_id, list(run.agent_names), scenario.simulation.start_date)
    history = None
    if run.receipts is not None:
        start = scenario.simulation.start_date
        # The book is closed: every account is in it from the start date.
        entered_on = np.full(run.accounts, np.datetime64(start, "D"))
        history = RunHistory(portfolio=run.portfolio, entered_on=entered_on,
                             payments=run.receipts.build(run.portfolio.account_id, start))
    return RunResult(
        scenario_name=scenario_name,
        scenario_hash=scenario_hash,
        seed=seed,
        accounts=run.accounts,
        days=run.days,
        start_date=scenario.simulation.start_date,
        kpis=kpis,
        series=series,
        roll_rates=roll_rates,
        contact_log=log,
        versions=versions(),
        ledger=run.ledger,
        history=history,
    )
