"""The fidelity report: how far the simulated book is from a real credit-card book (issue 15).

``python -m sim fidelity SCENARIO`` runs the scenario ``reps`` times and a
**no-contact holdout** (the same book and seeds, ``strategy.steps = []``),
and sets each measure next to the range a real card collections book shows
and the range's source (:data:`RANGES`, the one place they are written).
A measure is in range when ``low ≤ value ≤ high``; a measure the model
cannot produce has ``value = None`` and is never in range.

How each measure is taken
-------------------------
**30-day flow rates.** The book is snapshotted at the start (day 0) and at
every month-end (days 30, 60, 90, …, the month-ends of the roll-rate matrix
of :mod:`sim.metrics`). A flow rate from bucket *b* is the share of the
**accounts** in *b* at one snapshot that are in bucket *b + 1* at the next,
pooled over all pairs of consecutive snapshots and all replications
(151-180 flows to charged off). Accounts, not balances: the roll-rate matrix
counts accounts too, so both read the same. An account referred to legal or
cured in between counts in the denominator and not as rolled.

Why day 0 is a snapshot: today's book is closed (every account is in it
from day 0, and a cure is forever except under ``model = "card"``, where
cured accounts re-default), so from day 30 on the early buckets hold
almost nobody (only accounts on a plan, which do not age): measured from day
30, the 1-30 flow rests on a few hundred plan accounts in a book of 20,000
and says nothing about the model. Once issue 15's open book simulates a
warm-up, the first snapshot is the end of the warm-up
(:data:`FIRST_SNAPSHOT_DAY`).

**Cure from 91+.** The share of the accounts in 91-120, 121-150 or 151-180
at a month-end that are current (cured or paid off) at the next.

**Holdout effect.** The holdout's charge-off rate minus the ladder's (means
over the replications, on the same seeds): how much the whole ladder saves.

**Payment mix.** Over the borrowers' own receipts (kinds ``payment`` and
``instalment`` of :mod:`sim.history`; legal recoveries are not payments).
*Full balance*: a receipt that paid the account off (its last receipt, when
the account ended paid off). *Minimum or past-due*: under ``model = "card"``
the book records the kind of every repayment the borrower chose
(:class:`sim.card_behavior.PaymentChoice`): the repayments that paid one
minimum or the whole past-due amount, over all the borrowers' receipts (kept
promises and plan instalments count in the denominator, not the numerator).
The other models draw a repayment as a share of the whole balance and keep
no statement, so the check reports ``None`` (not measurable) there.

**Right-party contact rate.** Right-party outcomes per outbound call
attempt, as the KPI of the same name.

**Complaints.** Per 1,000 accounts in the book at the start, annualised from
the run's days (× 365 / days).

**Inbound service level.** The callbacks answered within 20 seconds over all
the callbacks that came in during the measured days (the KPI
``inbound_service_level``, pooled over the replications): a caller who hung
up, or who called when no agent was on shift, counts as not answered in time.
The range is the common 80/20 standard (80 % within 20 s) up to 100 %.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .card_behavior import PaymentChoice
from .domain import BUCKET_DAYS, BUCKETS, PAID_OFF, RIGHT_PARTY, PaymentKind, RollState
from .engine import Engine
from .experiment import replication_seeds
from .history import PaymentLog
from .metrics import build_result
from .portfolio import build_portfolio
from .scenario import Scenario
from .streams import RandomStreams, describe_seed

ISSUE = "issue 15, 'Defaults from published figures'"
OCC = "OCC Comptroller's Handbook 'Credit Card Lending' (roll-rate method); practitioners' ranges (weak)"


@dataclass(frozen=True)
class Range:
    """Where a measure of a real card book falls, and who says so."""

    low: float
    high: float
    source: str
    unit: str = "%"  # how the table shows it: "%" (a share), "pp" (points), or a unit of its own


# Every range the report checks, with its source: issue 15's targets, drawn from /work/shared/DOMAIN.md
# ("What a real card collections book looks like"). Issue 15 widens DOMAIN's practitioners' ranges a
# little (e.g. 20-40 % against 20-35 %) so that a model is not failed on the weak end of a weak number.
RANGES: dict[str, Range] = {
    "flow 1-30 → 31-60": Range(0.20, 0.40, f"{ISSUE}; {OCC}"),
    "flow 31-60 → 61-90": Range(0.40, 0.65, f"{ISSUE}; {OCC}"),
    "flow 61-90 → 91-120": Range(0.55, 0.85, f"{ISSUE}; {OCC}"),
    "flow 91-120 → 121-150": Range(0.70, 0.95, f"{ISSUE}; {OCC}"),
    "flow 121-150 → 151-180": Range(0.70, 0.95, f"{ISSUE}; {OCC}"),
    "flow 151-180 → charged off": Range(0.85, 1.0, f"{ISSUE}; {OCC}"),
    "cure from 91+ a month": Range(0.0, 0.15, f"{ISSUE}; DOMAIN.md: single digits a month, practitioners (weak)"),
    "holdout effect on charge-off": Range(
        0.03, 0.20, f"{ISSUE}; DOMAIN.md: randomised tests move outcomes a few points to low double digits "
                    "(Saulitis 2023; Karlan, Morten & Zinman 2015; Dewies et al. 2022)", unit="pp"),
    "payments of the minimum or past-due": Range(
        0.50, 1.0, f"{ISSUE}; DOMAIN.md: FFIEC account-management guidance 2003, Reg Z minimum payment"),
    "payments of the full balance": Range(
        0.0, 0.15, f"{ISSUE}; DOMAIN.md: FFIEC account-management guidance 2003, Reg Z minimum payment"),
    # DOMAIN.md: 2-4 attempts to reach the right party for most agencies (TransUnion 2020), so one
    # right-party contact per 2 to 4 attempts: 25-50 % of attempts (a quarter of agencies need 5-7: 14-20 %).
    "right-party contacts per call attempt": Range(
        0.25, 0.50, "DOMAIN.md: 2-4 attempts per right-party contact for most agencies (TransUnion 2020 "
                    "survey), so 1/4 to 1/2 of attempts (derived)"),
    "complaints per 1,000 accounts a year": Range(
        0.5, 5.0, f"{ISSUE}; DOMAIN.md: CFPB Consumer Response reports, about 1-2 per 1,000 consumers "
                  "in collection a year (order of magnitude)", unit="per 1,000 a year"),
    # Issue 15 measured 29 % (shifts ending at 18:00 while callbacks come in until 21:00); 80/20 is the
    # call-centre industry's common target (Gans, Koole & Mandelbaum 2003, "Telephone call centers",
    # M&SOM 5(2): "the 80/20 rule"), and sim.engine.calls counts an answer within 20 s.
    "inbound service level (answered within 20 s)": Range(
        0.80, 1.0, "the common 80/20 call-centre target (80 % of calls answered within 20 s; Gans, Koole & "
                   "Mandelbaum 2003); issue 15 measured 29 %"),
}

# The flows the waterfall checks: (from state, to state), in RANGES' order.
FLOWS = tuple((RollState(b), RollState(b + 1)) for b in range(RollState.DPD_1_30, RollState.CHARGED_OFF))
LATE_STATES = (RollState.DPD_91_120, RollState.DPD_121_150, RollState.DPD_151_180)
BORROWER_KINDS = (int(PaymentKind.PAYMENT), int(PaymentKind.INSTALMENT))
STATE_NAMES = (*BUCKETS, "charged off")
FIRST_SNAPSHOT_DAY = 0  # the book at the start: see the module's note on flow rates


def flow_name(frm: int, to: int) -> str:
    return f"flow {STATE_NAMES[frm]} → {STATE_NAMES[to]}"


@dataclass(frozen=True)
class Check:
    """One measure next to its range."""

    name: str
    value: float | None  # None: the model cannot produce it (see ``note``)
    low: float
    high: float
    source: str
    unit: str = "%"
    note: str = ""

    @property
    def in_range(self) -> bool:
        return self.value is not None and self.low <= self.value <= self.high

    def to_json(self) -> dict:
        return {"name": self.name, "value": self.value, "low": self.low, "high": self.high,
                "in_range": self.in_range, "source": self.source}


def check(name: str, value: float | None, note: str = "") -> Check:
    """``value`` against :data:`RANGES` ``[name]`` (read at call time, so a test may widen a range)."""
    r = RANGES[name]
    return Check(name, None if value is None else float(value), r.low, r.high, r.source, r.unit, note)


# ----------------------------------------------------------------------------- one run


@dataclass(frozen=True)
class Observation:
    """What the report reads from one run."""

    transitions: np.ndarray  # (states, states): accounts in state i at a month-end, j at the next
    payments: PaymentLog
    paid_off: np.ndarray  # account ids that ended paid off
    accounts: int
    days: int
    charge_off_rate: float
    call_attempts: int
    right_party: int
    complaints: int
    contacts: int  # every contact of every channel (the holdout has none)
    inbound_calls: int = 0  # callbacks that came in during the measured days
    inbound_in_time: int = 0  # of them, answered within the service level's 20 s
    choices: np.ndarray | None = None  # repayments by PaymentChoice (model = "card"), else None


def observe(scenario: Scenario, seed) -> Observation:
    """Run ``scenario`` once on ``seed``, snapshotting every account's roll state at the start and each month-end.

    Built on :class:`~sim.engine.Engine` rather than :func:`sim.simulation.simulate`
    because the snapshots need the book between days (the progress call comes
    after each day's evening, where the roll-rate matrix is counted too).
    """
    streams = RandomStreams(seed)
    portfolio = build_portfolio(scenario, streams["portfolio"])
    snapshots: list[np.ndarray] = []
    engine: Engine | None = None

    def month_end(day: int, _days: int) -> None:
        if day % BUCKET_DAYS == 0 and day >= FIRST_SNAPSHOT_DAY:
            snapshots.append(engine.roll_state())

    engine = Engine(scenario, portfolio, streams, record_contacts=False, progress=month_end, record_payments=True)
    if not scenario.simulation.warmup_days:
        month_end(0, scenario.simulation.days)  # with a warm-up, the engine reports day 0 at its end
    engine.run()
    status = engine.book.status.copy()
    statements = engine.book.statements
    result = build_result(engine.outcome(), scenario_name=scenario.display_name,
                          scenario_hash=scenario.content_hash, seed=describe_seed(streams.seed_sequence))
    outcomes = result.series["call_outcomes"]
    return Observation(
        transitions=month_end_transitions(snapshots), payments=result.history.payments,
        paid_off=engine.portfolio.account_id[status == PAID_OFF], days=result.days,
        accounts=int(result.kpis.get("measured_book", result.accounts)),  # an open book: the measured book
        charge_off_rate=float(result.kpis["charge_off_rate"]),
        call_attempts=int(outcomes.sum()), right_party=int(outcomes[:, RIGHT_PARTY].sum()),
        complaints=int(result.kpis["complaints"]), contacts=int(sum(result.kpis["contacts"].values())),
        inbound_calls=int(result.kpis["inbound_calls"]),
        inbound_in_time=int(result.series["inbound_within_target"].sum()),
        choices=None if statements is None else statements.mix.copy())


# ----------------------------------------------------------------------------- the measures


def month_end_transitions(snapshots: list[np.ndarray]) -> np.ndarray:
    """Counts of accounts in state i at one month-end and j at the next, over consecutive pairs."""
    states = len(RollState)
    out = np.zeros((states, states), dtype=np.int64)
    for before, after in zip(snapshots, snapshots[1:], strict=False):
        pairs = before.astype(np.int64) * states + after
        out += np.bincount(pairs, minlength=states**2).reshape(states, states)
    return out


def flow_rate(transitions: np.ndarray, frm: int, to: int) -> float | None:
    """Share of the accounts in ``frm`` at a month-end that are in ``to`` at the next; None without any."""
    base = transitions[frm].sum()
    return float(transitions[frm, to] / base) if base > 0 else None


def cure_from_late(transitions: np.ndarray) -> float | None:
    """Share of the accounts 91+ days past due at a month-end that are current at the next."""
    late = list(LATE_STATES)
    base = transitions[late].sum()
    return float(transitions[late, RollState.CURRENT].sum() / base) if base > 0 else None


def borrower_payments(payments: PaymentLog) -> np.ndarray:
    """Which receipts are the borrowers' own (payments and instalments, not legal recoveries)."""
    return np.isin(payments.kind, BORROWER_KINDS)


def full_balance_payments(payments: PaymentLog, paid_off: np.ndarray) -> int:
    """Receipts that paid their account off: the last receipt of each account that ended paid off."""
    own = borrower_payments(payments)
    accounts = payments.account[own]
    # The log is sorted by time: the last occurrence of an account is its last receipt.
    _, last_from_end = np.unique(accounts[::-1], return_index=True)
    last = accounts.size - 1 - last_from_end
    return int(np.isin(accounts[last], paid_off).sum())


def complaints_a_year(complaints: int, accounts: int, days: int) -> float:
    """Complaints per 1,000 accounts, annualised from ``days``."""
    return 1000.0 * complaints / accounts * 365.0 / days if accounts and days else 0.0


def _share(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator > 0 else None


# ----------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class Report:
    """Every check of one scenario, with the size it was measured at."""

    scenario: str
    reps: int
    accounts: int
    days: int
    checks: list[Check]
    holdout_contacts: int

    @property
    def all_in_range(self) -> bool:
        return all(c.in_range for c in self.checks)

    def to_json(self) -> dict:
        return {"scenario": self.scenario, "checks": [c.to_json() for c in self.checks]}


def holdout(scenario: Scenario) -> Scenario:
    """The same book with an empty ladder: no contact at all."""
    return scenario.with_overrides({"strategy.steps": []})


def fidelity(scenario: Scenario, reps: int = 3, seed=None) -> Report:
    """Run the scenario and its holdout ``reps`` times on common seeds; every check of :data:`RANGES`, in order."""
    _, seeds = replication_seeds(scenario.simulation.seed if seed is None else seed, reps)
    quiet = holdout(scenario)
    runs = [observe(scenario, s) for s in seeds]
    held = [observe(quiet, s) for s in seeds]
    checks = [*_flow_checks(runs), _holdout_check(runs, held), *_payment_checks(runs, scenario.behavior.model),
              _contact_check(runs), _complaints_check(runs), _inbound_check(runs)]
    return Report(scenario.display_name, reps, runs[0].accounts, runs[0].days, checks,
                  holdout_contacts=sum(h.contacts for h in held))


def _flow_checks(runs: list[Observation]) -> list[Check]:
    transitions = sum(r.transitions for r in runs)
    short = "" if transitions.any() else f"needs a month-end after the start: at least {BUCKET_DAYS} days"
    checks = [check(flow_name(frm, to), flow_rate(transitions, frm, to), short) for frm, to in FLOWS]
    checks.append(check("cure from 91+ a month", cure_from_late(transitions), short))
    return checks


def _holdout_check(runs: list[Observation], held: list[Observation]) -> Check:
    effect = np.mean([h.charge_off_rate for h in held]) - np.mean([r.charge_off_rate for r in runs])
    return check("holdout effect on charge-off", effect)


def _contact_check(runs: list[Observation]) -> Check:
    attempts = sum(r.call_attempts for r in runs)
    return check("right-party contacts per call attempt", _share(sum(r.right_party for r in runs), attempts),
                 "" if attempts else "no call attempts")


def _complaints_check(runs: list[Observation]) -> Check:
    complaints = sum(r.complaints for r in runs)
    return check("complaints per 1,000 accounts a year",
                 complaints_a_year(complaints, sum(r.accounts for r in runs), runs[0].days))


def _inbound_check(runs: list[Observation]) -> Check:
    calls = sum(r.inbound_calls for r in runs)
    return check("inbound service level (answered within 20 s)",
                 _share(sum(r.inbound_in_time for r in runs), calls), "" if calls else "no callbacks came in")


def _payment_checks(runs: list[Observation], model: str) -> list[Check]:
    paid = sum(int(borrower_payments(r.payments).sum()) for r in runs)
    full = sum(full_balance_payments(r.payments, r.paid_off) for r in runs)
    if all(r.choices is not None for r in runs):
        due = sum(int(r.choices[PaymentChoice.MINIMUM] + r.choices[PaymentChoice.PAST_DUE]) for r in runs)
        minimum = check("payments of the minimum or past-due", _share(due, paid), "" if paid else "no payments")
    else:
        minimum = check("payments of the minimum or past-due", None,
                        f"not measurable with model = {model}: no statements, a repayment is a share of the balance")
    return [minimum, check("payments of the full balance", _share(full, paid), "" if paid else "no payments")]


# ----------------------------------------------------------------------------- the table


def _shown(value: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "%":
        return f"{100 * value:.1f} %"
    if unit == "pp":
        return f"{100 * value:+.1f} pp"
    return f"{value:.2f}"


def _range(c: Check) -> str:
    if c.unit in ("%", "pp"):
        unit = " %" if c.unit == "%" else " pp"
        return f"{100 * c.low:g}–{100 * c.high:g}{unit}"
    return f"{c.low:g}–{c.high:g}"


def table_rows(report: Report) -> list[tuple[str, str, str, str]]:
    """Each check as the table shows it: name, value, range, ✓ or ✗ (the command line and the app)."""
    return [(c.name, _shown(c.value, c.unit), _range(c), "✓" if c.in_range else "✗") for c in report.checks]


def format_report(report: Report) -> str:
    """The table a manager reads: measure, value, range, ✓/✗, then the sources."""
    from .errors import printable

    rows = table_rows(report)
    width = max(len(r[0]) for r in rows)
    head = (f"{printable(report.scenario)}: fidelity over {report.reps} × {report.accounts:,} accounts × "
            f"{report.days} days, against a no-contact holdout on the same seeds")
    lines = [head, "-" * len(head), f"{'check':<{width}}  {'value':>10}  {'range':>14}"]
    lines += [f"{name:<{width}}  {value:>10}  {rng:>14}  {mark}" for name, value, rng, mark in rows]
    inside = sum(c.in_range for c in report.checks)
    lines += ["", f"{inside} of {len(report.checks)} checks in range"]
    notes = [f"{c.name}: {c.note}" for c in report.checks if c.note]
    if notes:
        lines += ["", *notes]
    lines += ["", "sources:"]
    lines += [f"  {c.name}: {c.source}" for c in report.checks]
    return "\n".join(lines)
