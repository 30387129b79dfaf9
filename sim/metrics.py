"""Run results: the KPIs a collections manager reads, the daily series, provenance.

A :class:`RunResult` is plain data: the scenario it came from (name and
content hash), the seed, the package versions, the KPIs, the daily series,
the monthly roll-rate matrix between buckets and (optionally) the contact log.

KPI definitions
---------------
Every KPI counts the **measured days** only: a warm-up
(``simulation.warmup_days``) is simulated before them and left out of every
KPI, series and cost. The **measured book** is the accounts in the book when
the measured days start plus those arriving during them (``[arrivals]``):

* a closed cohort without warm-up: every account of the starting book, as
  always (so its numbers are exactly what they were);
* otherwise: the accounts in collection (delinquent or in legal) at 00:00 of
  the first measured day (the warm-up's cured, paid-off and charged-off
  accounts have left it), plus every arrival of the measured days at entry.

``initial_balance`` is what the measured book owed at the start;
``outstanding`` what every account the run saw still owes at the horizon.

``recovery_rate``      collected / (balance owed at the start + arrivals' balances at entry);
                       closed cohort: collected / initial balance.
``cure_rate``          of the accounts delinquent at the start (in collection, > 0 days past
                       due) or arriving, the share that ended cured (paid their past-due
                       amount) or paid off.
``charge_off_rate``    share of the measured book charged off (by the horizon).
``written_off``        balances charged off or closed by legal, net of what was recovered after
                       charge-off (an agency, an attorney, a sale: the charge-off loss).
``cost``               every cost item of the run (``cost_by_item``): messages, letters, agent
                       time, visits, filings, agency commission, complaints handled, and after
                       charge-off the agency's and attorney's fees and court costs.
``net_recovery``       collected − cost.
``npv_collected``      daily collections discounted at ``simulation.discount_rate`` a year.
``right_party_contact_rate``  right-party outcomes per outbound call attempt (0 if none).
``promise_kept_rate``  kept / (kept + broken) promises that fell due (0 if none).
``agent_utilization``  call-agent minutes talking or dialling / paid shift minutes.
``inbound_service_level``  inbound callers answered within 20 s / callers (1 if none).
``complaints_per_1000`` complaints of the measured days per 1,000 accounts of the measured book.
``conservation_error`` |opening + arrived + interest_and_fees − collected − written_off − outstanding|
                       (``opening``: what every account owed at the start, cured ones too;
                       ``arrived``: the arrivals' balances at entry; a closed cohort: initial + 0).

Roll rates (``roll_rates``) come from month-end snapshots: the first at the
start of the measured days, then every 30 days; a row of the matrix counts the
accounts in a state at one snapshot (those in the book then: later arrivals
wait for the next) by their state at the next.

A ladder with steps after charge-off (sim/engine/lifecycle.py) adds ``after_charge_off``: accounts
placed with an agency, sued and sold in the measured days, what each brought in, the fees and court
costs, ``recovered`` (agency + attorney + sale cash, all in ``collected``) and ``net`` (recovered − fees
− court costs).

An open book or a warm-up adds ``arrivals`` (accounts entering in the measured
days), ``arrived_balance``, ``book_at_start`` (accounts owing at the start),
``measured_book`` and ``warmup_days`` to the KPIs, and the daily ``arrivals``
series; a closed cohort without warm-up has none of them.
"""

from __future__ import annotations

import datetime as dt
import platform
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .consumers import NOT_PLACED
from .contact_log import ContactLog
from .domain import (
    ACTIVE,
    ALL_CHANNELS,
    CHARGED_OFF,
    CURED,
    MINUTES_PER_DAY,
    PAID_OFF,
    ROLL_STATES,
    daily_discount,
)
from .engine.tally import RunOutcome
from .history import RunHistory, measured_payments
from .ledger import AccountLedger
from .portfolio import Portfolio

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


def measured_book(run: RunOutcome) -> tuple[np.ndarray | None, np.ndarray]:
    """The measured book (None: every account) and who in it was delinquent (see the module's definitions)."""
    start = run.measured_start
    if start is None:
        return None, run.portfolio.days_past_due > 0
    arrived = np.zeros(run.accounts, dtype=bool)
    if run.entered_day is not None:
        arrived = (run.entered_day >= start.day) & ~start.in_book
    return start.in_book | arrived, start.delinquent | arrived


def _opening(run: RunOutcome) -> float:
    """What every account owed when the measured days started (cured accounts too: they still owe)."""
    return run.initial_balance if run.measured_start is None else run.measured_start.owed_by_all


def _open_book_kpis(run: RunOutcome, book: np.ndarray) -> dict[str, Any]:
    start = run.measured_start
    return {"arrivals": int(run.tally.arrivals.sum()), "arrived_balance": run.arrived_balance,
            "book_at_start": int(start.in_book.sum()), "measured_book": int(book.sum()), "warmup_days": run.warmup}


def _kpis(run: RunOutcome, roll_rates: np.ndarray) -> dict[str, Any]:
    """The run's headline figures (money, contacts, promises, the inbound line) and the detail a manager asks about."""
    tally = run.tally
    book, delinquent = measured_book(run)
    n = run.accounts if book is None else int(book.sum())
    status = run.status if book is None else np.where(book, run.status, -1)
    scenario = run.scenario
    initial = run.initial_balance
    collected = run.collected
    written_off = run.written_off
    interest = run.interest_and_fees
    outstanding = float(run.balance.sum())
    cost = float(tally.cost.sum())
    days = run.days
    discount = daily_discount(scenario.simulation.discount_rate, days)
    ended_cured = np.isin(status, (CURED, PAID_OFF)) & delinquent
    attempts = float(tally.call_outcomes.sum())
    kept, broken = float(tally.promises_kept.sum()), float(tally.promises_broken.sum())
    arrivals = float(tally.inbound_arrivals.sum())
    kpis = {
        "initial_balance": initial,
        "collected": collected,
        "outstanding": outstanding,
        "written_off": written_off,
        "interest_and_fees": interest,
        "recovery_rate": _ratio(collected, initial + run.arrived_balance),
        "cure_rate": _ratio(float(ended_cured.sum()), float(delinquent.sum())),
        "charge_off_rate": _ratio(float((status == CHARGED_OFF).sum()), n),
        "cost": cost,
        "net_recovery": collected - cost,
        # numpy's own sum, not np.dot: BLAS picks its kernel by CPU (OpenBLAS's SkylakeX and Haswell kernels add
        # in different orders), and a KPI must be the same number on every machine (tests/test_goldens.py).
        "npv_collected": float((tally.collected * discount).sum()),
        "right_party_contact_rate": _ratio(float(tally.call_outcomes[:, 2].sum()), attempts),
        "promise_kept_rate": _ratio(kept, kept + broken),
        "complaints_per_1000": 1000.0 * float(tally.complaints.sum()) / n if n else 0.0,
        "agent_utilization": _ratio(float(tally.agent_busy.sum()), float(tally.agent_paid.sum())),
        "inbound_service_level": _ratio(float(tally.inbound_within_target.sum()), arrivals, empty=1.0),
        "contacts": {ch: int(tally.contacts[:, k].sum()) for k, ch in enumerate(ALL_CHANNELS)},
        "compliance_refusals": int(tally.refusals.sum()),
        "conservation_error": abs(_opening(run) + run.arrived_balance + interest - collected - written_off
                                  - outstanding),
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
    if book is not None:
        kpis.update(_open_book_kpis(run, book))
    return kpis


def _series(tally, open_book: bool = False) -> dict[str, np.ndarray]:
    """The daily series of a run, by name (an open book or a warm-up adds ``arrivals``)."""
    series = {
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
    if open_book:
        series["arrivals"] = tally.arrivals
    return series


def measured_contacts(log: ContactLog, warmup: int) -> ContactLog:
    """The contact log of the measured days (a warm-up's contacts left out), timed from the first measured day."""
    if not warmup:
        return log
    keep = log.minute >= warmup * MINUTES_PER_DAY
    start = log.start_date + dt.timedelta(days=warmup)
    measured = ContactLog(log.account[keep], log.minute[keep] - warmup * MINUTES_PER_DAY, log.channel[keep],
                          log.outcome[keep], log.agent[keep], log.duration[keep], log.agent_names, start)
    if getattr(log, "facts", None) is not None:
        # The audit checks each row against its consumer's rules, so the facts go with the rows, their
        # placement days timed from the first measured day like the rows (placed in the warm-up: < 0).
        facts = log.facts
        placed = np.where(facts.placed_on == NOT_PLACED, NOT_PLACED, facts.placed_on.astype(np.int64) - warmup)
        measured.facts = replace(facts, placed_on=placed)
    return measured


def _history(run: RunOutcome) -> RunHistory:
    """The run's history as a lender exports it: the measured days' receipts and the accounts they concern.

    A closed cohort without warm-up: every account, entered on the start date.
    Otherwise the measured book (see the module's definitions): each account
    at its state when the measured days started, or at entry for an arrival,
    with the date it entered the book.
    """
    start = run.scenario.simulation.start_date
    measured = run.measured_start
    if measured is None:
        entered_on = np.full(run.accounts, np.datetime64(start, "D"))
        return RunHistory(portfolio=_with_standing(run.portfolio, run, slice(None)), entered_on=entered_on,
                          payments=run.receipts.build(run.portfolio.account_id, start))
    book, _ = measured_book(run)
    p = run.portfolio
    pick = np.flatnonzero(book)
    in_book = measured.in_book[pick]
    portfolio = Portfolio(
        account_id=p.account_id[pick], balance=np.where(in_book, measured.balance[pick], p.balance[pick]),
        past_due=np.where(in_book, measured.past_due[pick], p.past_due[pick]),
        days_past_due=np.where(in_book, measured.days_past_due[pick], p.days_past_due[pick]).astype(np.int32),
        segment=p.segment[pick], phone_known=p.phone_known[pick], email_known=p.email_known[pick],
        segment_names=p.segment_names,
        statement_day=None if p.statement_day is None else _cycle_day_at(p.statement_day[pick], run.warmup))
    portfolio = _with_standing(portfolio, run, pick)
    entered_day = run.entered_day if run.entered_day is not None else np.zeros(run.accounts, np.int32)
    entered_on = np.datetime64(run.first_day, "D") + entered_day[pick].astype("timedelta64[D]")
    payments = measured_payments(run.receipts.build(p.account_id, run.first_day, from_minute=run.warmup * MINUTES_PER_DAY),
                                 run.warmup)
    return RunHistory(portfolio=portfolio, entered_on=entered_on, payments=payments)


def _after_charge_off(figures: dict[str, Any]) -> dict[str, Any]:
    """The life after charge-off's KPIs, with what it recovered in all and net of its fees and court costs."""
    recovered = figures["agency_collected"] + figures["attorney_collected"] + figures["sale_proceeds"]
    spent = figures["agency_fees"] + figures["attorney_fees"] + figures["court_costs"]
    return {**figures, "recovered": recovered, "net": recovered - spent}


def _cycle_day_at(statement_day: np.ndarray, warmup: int) -> np.ndarray:
    """Statement days counted from the engine's day 0 as counted from the first measured day."""
    return np.where(statement_day >= 0, (statement_day - warmup) % 30, statement_day)


def _with_standing(portfolio: Portfolio, run: RunOutcome, rows) -> Portfolio:
    """The accounts with the consumers' exclusions, time zones and states the run had (``rows`` of its book)."""
    facts = getattr(run.log, "facts", None)
    if facts is None:
        return portfolio
    extra: dict[str, Any] = {"exclusion": facts.exclusion[rows]}
    if facts.time_zone is not None:
        extra.update(time_zone=facts.time_zone[rows], time_zone_names=facts.time_zone_names)
    if facts.state is not None:
        extra.update(state=facts.state[rows], state_names=facts.state_names)
    return replace(portfolio, **extra)


def build_result(run: RunOutcome, *, scenario_name: str, scenario_hash: str, seed: dict[str, Any]) -> RunResult:
    """The KPIs, series and contact log of a finished run (:meth:`sim.engine.Engine.outcome`)."""
    scenario = run.scenario
    roll_rates = _roll_rates(run.tally)
    kpis = _kpis(run, roll_rates)
    if run.offers is not None:  # only a ladder that makes offers has them (sim/engine/offers.py)
        kpis["offers"] = run.offers
    if run.after_charge_off is not None:  # only a ladder with steps after charge-off (sim/engine/lifecycle.py)
        kpis["after_charge_off"] = _after_charge_off(run.after_charge_off)
    series = _series(run.tally, open_book=run.measured_start is not None)
    log = None
    if run.log.enabled:
        start = run.first_day or scenario.simulation.start_date
        log = measured_contacts(run.log.build(run.portfolio.account_id, list(run.agent_names), start), run.warmup)
    history = None
    if run.receipts is not None:
        history = _history(run)
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
