"""Champion/challenger in one book: which strategy each account gets, the one ladder that runs them all,
and the readout by strategy.

A scenario with ``[[strategies]]`` (:class:`sim.scenario.ArmSection`) is run
as one book, the way a bank tests: every account is assigned once to one
strategy (an *arm*), and the arms' ladders run together as one ladder whose
steps each act only on their arm's accounts (``simulate(..., step_accounts=...)``).
So the arms share the teams and the call list (ordered by the champion's
``priority``): a challenger that calls more takes agent time from the
champion, as in a real book, and :func:`kpis_by_strategy` says how much.

Assignment
----------
Stratified by starting bucket and segment: in each stratum every arm gets
``share × stratum size`` accounts, rounded by largest remainder (ties to the
arm listed first), and which accounts is a random order drawn once for the
whole book. The draws come from their own stream, so an account's arm
depends on its stratum, the shares and the seed, never on the ladders or
anything else in the scenario:

* a generated book: the replication's ``assignment`` stream
  (:data:`sim.streams.STREAM_NAMES`; a new name, so no other stream moves);
* a CSV book: a stream seeded from ``simulation.seed`` and the account ids,
  so the same accounts get the same arms in every replication.

An open book (``[arrivals]``): arrivals are assigned as they arrive, from
their own stream (``arrival_assignment``), stratified by the month they
enter and their segment (they all enter in 1-30): within each month's
arrivals of a segment every arm gets its share by largest remainder, so the
arms stay balanced through the run, warm-up included. All arrivals are drawn
up front (:mod:`sim.engine.arrivals`), so their arms are too.

Readout
-------
:func:`kpis_by_strategy` reads the run's account ledger (the measured days
only) and contact log per arm. Every account the run saw has exactly one
arm, so money (cash, cost, write-offs), complaints, roll-past-30 counts,
contacts and offers are summed over *all* the arm's accounts and add up to
the book's, including those outside the measured book: an account cured in
the warm-up that re-defaults in the measured days keeps its arm and brings
its cash and contacts to its arm's readout, not to no one's.

The denominators are the book's (README, "An open book"; the measured book of
:func:`sim.metrics.measured_book`: every account of a closed cohort; with an
open book or a warm-up, the accounts in collection when the measured days
start and the arrivals after), restricted to the arm: ``accounts`` (they add
up to ``measured_book``), ``recovery_rate`` (cash over the balance its
measured book owed at the start or at entry), ``cure_rate`` (of its delinquent
accounts), ``charge_off_rate``, ``roll_past_30_rate`` (of its accounts in 1-30
at the start or at entry) and ``complaints_per_1000``. So each book rate is
the arms' rates weighted by their denominators. Cash, cost and right-party
contacts *per account* are per account the arm had in collection in the
measured days: its measured book plus ``reentered``, its accounts outside
the measured book that were back in collection or paid in them; that is the
sample of the cash test, so its difference is the readout's.

Agent pay is a cost of the shared teams: each arm is charged the share of
the agent minutes its accounts used (by accounts if no agent worked).
:func:`within_run_tests` is the test a bank runs on its accounts at the end:
each challenger against the champion, a two-proportion z test for rates and
Welch's t test for cash per account.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .domain import ACTIVE, IN_LEGAL, RollState, bucket_of, reached_right_party
from .portfolio import Portfolio
from .scenario import Scenario, StrategySection
from .streams import RandomStreams

ASSIGNMENT_STREAM = "assignment"
ARRIVAL_ASSIGNMENT_STREAM = "arrival_assignment"
MONTH_DAYS = 30  # arrivals are stratified by the month they enter
CONFIDENCE = 0.95  # the intervals of the within-run tests, as compare's
RATE_KPIS = ("cure_rate", "roll_past_30_rate")  # tested with two proportions
MEAN_KPIS = {"cash_per_account": "collected"}  # tested with Welch's t, from the ledger's per-account array


@dataclass(frozen=True)
class Arms:
    """Which strategy each account of one run has: ``arm[i]`` indexes ``names``."""

    names: tuple[str, ...]
    champion: int
    shares: tuple[float, ...]
    arm: np.ndarray  # int8, one per account
    population: Population | None = None  # whom the readout counts, once the run is over (simulate_arms)

    def members(self, k: int) -> np.ndarray:
        return self.arm == k

    @property
    def challengers(self) -> list[int]:
        return [k for k in range(len(self.names)) if k != self.champion]


# ----------------------------------------------------------------------------- assignment


def largest_remainder(size: int, shares: np.ndarray) -> np.ndarray:
    """Whole counts adding up to ``size``, each ``share × size`` rounded by largest remainder (ties: first arm)."""
    quotas = np.asarray(shares, dtype=np.float64) * size
    counts = np.floor(quotas).astype(np.int64)
    left = size - int(counts.sum())
    if left > 0:
        order = np.argsort(-(quotas - counts), kind="stable")
        counts[order[:left]] += 1
    return counts


def stratified_assignment(strata: np.ndarray, shares, rng: np.random.Generator) -> np.ndarray:
    """Each account's arm: within each stratum the arms' counts by largest remainder, accounts in random order.

    One uniform per account is drawn, whatever the strata, so the draws do
    not depend on how the book splits.
    """
    strata = np.asarray(strata)
    shares = np.asarray(shares, dtype=np.float64)
    key = rng.random(strata.size)
    order = np.lexsort((key, strata))
    arm = np.empty(strata.size, dtype=np.int8)
    sorted_strata = strata[order]
    bounds = np.flatnonzero(np.diff(sorted_strata)) + 1
    for part in np.split(order, bounds):
        counts = largest_remainder(part.size, shares)
        arm[part] = np.repeat(np.arange(shares.size, dtype=np.int8), counts)
    return arm


def strata_of(portfolio: Portfolio) -> np.ndarray:
    """Each account's stratum: its starting bucket and its segment, as one number."""
    segments = max(len(portfolio.segment_names), 1)
    return bucket_of(portfolio.days_past_due).astype(np.int64) * segments + portfolio.segment.astype(np.int64)


def assignment_rng(scenario: Scenario, portfolio: Portfolio, streams: RandomStreams) -> np.random.Generator:
    """The assignment's stream: the replication's own, or for a CSV book one fixed by the seed and the ids."""
    if not scenario.portfolio.csv:
        return streams[ASSIGNMENT_STREAM]
    digest = hashlib.sha256(np.ascontiguousarray(portfolio.account_id, dtype=np.int64).tobytes()).digest()
    words = np.frombuffer(digest[:16], dtype=np.uint32).tolist()
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([scenario.simulation.seed, *words])))


def assign(scenario: Scenario, portfolio: Portfolio, streams: RandomStreams) -> Arms:
    """The arms of a champion/challenger scenario's accounts (see the module's notes)."""
    if scenario.strategies is None:
        raise ValueError("the scenario has one strategy; there is nothing to assign")
    arms = scenario.strategies
    shares = tuple(arm.share for arm in arms)
    champion = next(k for k, arm in enumerate(arms) if arm.champion)
    arm = stratified_assignment(strata_of(portfolio), shares, assignment_rng(scenario, portfolio, streams))
    return Arms(names=tuple(a.name for a in arms), champion=champion, shares=shares, arm=arm)


def assign_arrivals(scenario: Scenario, arms: Arms, arrivals, segment: np.ndarray,
                    streams: RandomStreams) -> Arms:
    """``arms`` extended to the arrivals (rows after the book, ``segment`` theirs), stratified by month and segment."""
    segments = max(len(scenario.portfolio.segments), 1)
    strata = (arrivals.entry_day // MONTH_DAYS).astype(np.int64) * segments + segment.astype(np.int64)
    arrived = stratified_assignment(strata, arms.shares, streams[ARRIVAL_ASSIGNMENT_STREAM])
    return replace(arms, arm=np.concatenate((arms.arm, arrived)))


def combined(scenario: Scenario, arms: Arms) -> tuple[Scenario, list[np.ndarray]]:
    """One scenario whose ladder is every arm's steps in turn, and each step's accounts (its arm's)."""
    steps, masks = [], []
    for k, section in enumerate(scenario.strategies or []):
        members = arms.members(k)
        steps += section.steps
        masks += [members] * len(section.steps)
    champion = scenario.strategy
    ladder = StrategySection(name=champion.name, priority=champion.priority,
                             redial_minutes=champion.redial_minutes, steps=steps)
    # Validated already, arm by arm; the combined copy is what the engine runs.
    return scenario.model_copy(update={"strategy": ladder}), masks


def simulate_arms(scenario: Scenario, portfolio: Portfolio, streams: RandomStreams, *, contact_log: bool,
                  step_accounts=None, ledger: bool = False, **options) -> Any:
    """One run of a champion/challenger scenario: assign, run the combined ladder, read out by strategy.

    The readout needs the ledger and the contact log, so the run keeps both;
    the result keeps them only if they were asked for.
    """
    from .engine import Engine
    from .metrics import build_result
    from .streams import describe_seed

    if step_accounts is not None:
        raise ValueError("a champion/challenger scenario's steps act on their strategy's accounts; "
                         "step_accounts is for one strategy")
    from .engine.arrivals import with_arrivals
    from .metrics import measured_book

    arms = assign(scenario, portfolio, streams)
    start = len(portfolio)
    book, arrivals = with_arrivals(scenario, portfolio, streams)
    if arrivals is not None:
        arms = assign_arrivals(scenario, arms, arrivals, book.segment[start:], streams)
    world, masks = combined(scenario, arms)
    engine = Engine(world, book, streams, record_contacts=True, progress=options.get("progress"),
                    step_accounts=masks, ledger=True, paired_draws=options.get("paired_draws", False),
                    record_payments=options.get("history", False), arrivals=arrivals)
    engine.run()
    outcome = engine.outcome()
    result = build_result(outcome, scenario_name=scenario.display_name,
                          scenario_hash=scenario.content_hash, seed=describe_seed(streams.seed_sequence))
    population = Population.of(outcome, *measured_book(outcome))
    arms = replace(arms, population=population)
    return replace(result, arms=arms, kpis_by_strategy=kpis_by_strategy(result, book, arms, population),
                   strategy_tests=within_run_tests(result, book, arms, population),
                   ledger=result.ledger if ledger else None, contact_log=result.contact_log if contact_log else None)


@dataclass(frozen=True)
class Population:
    """Whom the readout counts: the measured book, who in it was delinquent, who was in 1-30 at its start or
    entry, what each owed then, and who outside it was back in collection in the measured days."""

    members: np.ndarray | None  # None: every account (a closed cohort)
    delinquent: np.ndarray
    early: np.ndarray
    owed: np.ndarray  # each account's balance at the start of the measured days, or at entry for an arrival
    reentered: np.ndarray | None = None  # outside the measured book, in collection or paying in the measured days

    @classmethod
    def closed(cls, portfolio: Portfolio) -> Population:
        dpd = portfolio.days_past_due
        return cls(None, dpd > 0, (dpd > 0) & (dpd <= 30), portfolio.balance)

    @classmethod
    def of(cls, outcome, members: np.ndarray | None, delinquent: np.ndarray) -> Population:
        """From a finished run and :func:`sim.metrics.measured_book`: days past due at the start or at entry."""
        start = outcome.measured_start
        if members is None:
            return cls.closed(outcome.portfolio)
        in_book = start.in_book
        dpd = np.where(in_book, start.days_past_due, outcome.portfolio.days_past_due)
        owed = np.where(in_book, start.balance, outcome.portfolio.balance)
        return cls(members, delinquent, delinquent & (dpd <= 30), owed, ~members & _active(outcome))

    def mask(self, mine: np.ndarray) -> np.ndarray:
        """``mine``'s accounts in the measured book (the denominators of the book's rates)."""
        return mine if self.members is None else mine & self.members

    def worked(self, mine: np.ndarray) -> np.ndarray:
        """``mine``'s accounts in collection in the measured days: its measured book and its re-entered ones."""
        return mine if self.members is None else mine & (self.members | self.reentered)


def _active(outcome) -> np.ndarray:
    """Accounts with anything in the measured days: in collection at the horizon, or cash, cost, a complaint,
    a write-off or a roll in the ledger (a cured account that re-defaulted and cured again has paid)."""
    ledger = outcome.ledger
    return (np.isin(outcome.status, (ACTIVE, IN_LEGAL)) | (ledger.collected != 0) | (ledger.total_spend != 0)
            | (ledger.complaints > 0) | (ledger.written_off != 0) | (ledger.rolled_past_30 > 0)
            | (_agent_minutes(ledger) > 0))


# ----------------------------------------------------------------------------- readout


def _positions(portfolio: Portfolio, account_ids: np.ndarray) -> np.ndarray:
    """The positions in the book of contact-log account ids."""
    order = np.argsort(portfolio.account_id, kind="stable")
    return order[np.searchsorted(portfolio.account_id, account_ids, sorter=order)]


def _per_account_contacts(result, portfolio: Portfolio) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From the contact log: each row's account position and channel, and each account's right-party contacts."""
    log = result.contact_log
    where = _positions(portfolio, log.account)
    right_party = np.bincount(where[reached_right_party(log.outcome, log.channel)], minlength=len(portfolio))
    return where, log.channel.astype(np.int64), right_party


def _agent_minutes(ledger) -> np.ndarray:
    """Each account's agent minutes over the horizon (calls, callbacks, visits), all teams."""
    total = np.zeros(ledger.accounts)
    for cube in ledger.minutes.values():
        total += cube.sum(axis=0)
    return total


def _rate(numerator: float, denominator: float) -> float:
    return float(numerator / denominator) if denominator > 0 else 0.0


def kpis_by_strategy(result, portfolio: Portfolio, arms: Arms,
                     population: Population | None = None) -> dict[str, dict[str, Any]]:
    """``{strategy: {KPI: value}}`` of one champion/challenger run, from its ledger and contact log."""
    ledger = result.ledger
    if ledger is None or result.contact_log is None:
        raise ValueError("kpis by strategy read the run's ledger and contact log; run with both kept")
    population = population or Population.closed(portfolio)
    delinquent, early = population.delinquent, population.early
    cured = (ledger.state_end == RollState.CURRENT) & delinquent
    charged_off = ledger.state_end == RollState.CHARGED_OFF
    spend = ledger.total_spend
    minutes = _agent_minutes(ledger)
    agent_pay = float(result.kpis["cost_by_item"].get("agent_time", 0.0))
    where, channel, right_party = _per_account_contacts(result, portfolio)
    channels = list(result.kpis["contacts"])
    everyone_worked = population.worked(np.ones(ledger.accounts, dtype=bool)).sum()
    out = {}
    for k, name in enumerate(arms.names):
        everyone = arms.members(k)  # money and counts: every account of the arm, so they add up to the book's
        mine = population.mask(everyone)  # the book's denominators
        worked = population.worked(everyone)  # per account: the sample of the cash test
        n, m = int(mine.sum()), int(worked.sum())
        pay_share = _rate(minutes[everyone].sum(), minutes.sum()) if minutes.sum() > 0 else _rate(m, everyone_worked)
        cost = float(spend[everyone].sum()) + agent_pay * pay_share
        collected = float(ledger.collected[everyone].sum())
        complaints = int(ledger.complaints[everyone].sum())
        contacts = np.bincount(channel[everyone[where]], minlength=len(channels))
        out[name] = {
            "champion": k == arms.champion,
            "share": arms.shares[k],
            "accounts": n,
            "reentered": m - n,
            "recovery_rate": _rate(collected, population.owed[mine].sum()),
            "cure_rate": _rate(cured[mine].sum(), (delinquent & mine).sum()),
            "charge_off_rate": _rate((charged_off & mine).sum(), n),
            "roll_past_30_rate": _rate(((ledger.rolled_past_30 > 0) & early & mine).sum(), (early & mine).sum()),
            "rolled_past_30": int(ledger.rolled_past_30[everyone].sum()),
            "collected": collected,
            "cash_per_account": _rate(collected, m),
            "cost": cost,
            "cost_per_account": _rate(cost, m),
            "written_off": float(ledger.written_off[everyone].sum()),
            "complaints": complaints,
            "complaints_per_1000": 1000.0 * _rate(complaints, n),
            "right_party_contacts": int(right_party[everyone].sum()),
            "right_party_contacts_per_account": _rate(right_party[everyone].sum(), m),
            "agent_minutes": float(minutes[everyone].sum()),
            "agent_time_share": _rate(minutes[everyone].sum(), minutes.sum()),
            "contacts": {ch: int(contacts[c]) for c, ch in enumerate(channels)},
        }
        if ledger.offers is not None:
            out[name]["offers"] = _offers_of(ledger.offers, everyone)
    return out


def _offers_of(offers: dict[str, dict[str, np.ndarray]], mine: np.ndarray) -> dict[str, dict[str, float]]:
    """One strategy's offers by kind (only the kinds its book was offered): made, accepted, kept, forgiven,
    cash after accepting, acceptance rate."""
    out = {}
    for kind, totals in offers.items():
        sums = {what: float(values[mine].sum()) for what, values in totals.items()}
        if sums["made"] == 0:
            continue
        out[kind] = {**sums, "acceptance_rate": _rate(sums["accepted"], sums["made"])}
    return out


# ----------------------------------------------------------------------------- within-run tests


def two_proportion_test(hits_a: int, n_a: int, hits_b: int, n_b: int,
                        confidence: float = CONFIDENCE) -> dict[str, float]:
    """Rate b − rate a: a Wald interval (unpooled) and the two-sided p-value of the pooled z test.

    No continuity correction, as ``python -m sim power`` sizes the test.
    """
    from scipy.special import ndtr, ndtri

    if n_a == 0 or n_b == 0:
        return _no_test()
    p_a, p_b = hits_a / n_a, hits_b / n_b
    difference = p_b - p_a
    z = float(ndtri(0.5 + confidence / 2.0))
    se = math.sqrt(p_a * (1 - p_a) / n_a + p_b * (1 - p_b) / n_b)
    pooled = (hits_a + hits_b) / (n_a + n_b)
    se0 = math.sqrt(pooled * (1 - pooled) * (1 / n_a + 1 / n_b))
    p_value = 2.0 * float(ndtr(-abs(difference) / se0)) if se0 > 0 else (1.0 if difference == 0 else 0.0)
    return {"difference": difference, "ci_low": difference - z * se, "ci_high": difference + z * se,
            "p_value": p_value}


def welch_test(a: np.ndarray, b: np.ndarray, confidence: float = CONFIDENCE) -> dict[str, float]:
    """Mean b − mean a with Welch's t: the interval on Welch–Satterthwaite degrees of freedom, two-sided p."""
    from scipy.stats import t as student

    if a.size < 2 or b.size < 2:
        return _no_test()
    difference = float(b.mean() - a.mean())
    va, vb = float(a.var(ddof=1)) / a.size, float(b.var(ddof=1)) / b.size
    se = math.sqrt(va + vb)
    if se == 0:
        return {"difference": difference, "ci_low": difference, "ci_high": difference,
                "p_value": 1.0 if difference == 0 else 0.0}
    df = (va + vb) ** 2 / (va**2 / (a.size - 1) + vb**2 / (b.size - 1))
    half = float(student.ppf(0.5 + confidence / 2.0, df)) * se
    p_value = 2.0 * float(student.sf(abs(difference) / se, df))
    return {"difference": difference, "ci_low": difference - half, "ci_high": difference + half,
            "p_value": p_value}


def _no_test() -> dict[str, float]:
    nan = float("nan")
    return {"difference": nan, "ci_low": nan, "ci_high": nan, "p_value": nan}


def _rate_counts(ledger, population: Population, kpi: str, mine: np.ndarray) -> tuple[int, int]:
    """Hits and trials of a rate KPI among ``mine``: cured of the delinquent, rolled of the 1-30 at the start or at entry."""
    if kpi == "cure_rate":
        eligible = population.delinquent & mine
        hits = (ledger.state_end == RollState.CURRENT) & eligible
    else:
        eligible = population.early & mine
        hits = (ledger.rolled_past_30 > 0) & eligible
    return int(hits.sum()), int(eligible.sum())


def within_run_tests(result, portfolio: Portfolio, arms: Arms,
                     population: Population | None = None) -> dict[str, dict[str, dict[str, float]]]:
    """``{challenger: {KPI: {difference, ci_low, ci_high, p_value}}}``: challenger − champion on this run's accounts."""
    ledger = result.ledger
    population = population or Population.closed(portfolio)
    champion = population.mask(arms.members(arms.champion))
    champion_worked = population.worked(arms.members(arms.champion))
    out = {}
    for k in arms.challengers:
        mine = population.mask(arms.members(k))
        tests = {kpi: two_proportion_test(*_rate_counts(ledger, population, kpi, champion),
                                          *_rate_counts(ledger, population, kpi, mine)) for kpi in RATE_KPIS}
        for kpi, array in MEAN_KPIS.items():
            # Per account in collection in the measured days, as the readout's cash per account.
            values = getattr(ledger, array)
            tests[kpi] = welch_test(values[champion_worked], values[population.worked(arms.members(k))])
        out[arms.names[k]] = tests
    return out


# ----------------------------------------------------------------------------- output


def readout_json(result) -> dict[str, Any]:
    """What ``run --json`` adds for a champion/challenger run: ``kpis_by_strategy`` and ``tests``."""
    from .metrics import _jsonable

    return {"champion": result.arms.names[result.arms.champion],
            "kpis_by_strategy": _jsonable(result.kpis_by_strategy),
            "tests": _jsonable(result.strategy_tests)}


def _pct(value: float) -> str:
    return f"{100 * value:.1f} %"


READOUT_ROWS = (
    ("share of accounts", "share", _pct),
    ("accounts (measured book)", "accounts", lambda v: f"{v:,}"),
    ("re-entered (cured before, back)", "reentered", lambda v: f"{v:,}"),
    ("recovery rate", "recovery_rate", _pct),
    ("cure rate", "cure_rate", _pct),
    ("charge-off rate", "charge_off_rate", _pct),
    ("roll past 30 (of 1-30 at start, entry)", "roll_past_30_rate", _pct),
    ("cash per account", "cash_per_account", lambda v: f"{v:,.2f}"),
    ("cost per account", "cost_per_account", lambda v: f"{v:,.2f}"),
    ("complaints per 1,000", "complaints_per_1000", lambda v: f"{v:.2f}"),
    ("right-party contacts per account", "right_party_contacts_per_account", lambda v: f"{v:.2f}"),
    ("agent minutes", "agent_minutes", lambda v: f"{v:,.0f}"),
    ("share of agent time", "agent_time_share", _pct),
)
TEST_ROWS = (("cure rate", "cure_rate", 100.0, " pts"), ("roll past 30", "roll_past_30_rate", 100.0, " pts"),
             ("cash per account", "cash_per_account", 1.0, ""))


def format_readout(result) -> str:
    """The per-strategy table of a champion/challenger run and each challenger's test against the champion."""
    from .errors import printable

    arms = result.arms
    kpis = result.kpis_by_strategy
    heads = [printable(name) + (" (champion)" if k == arms.champion else "") for k, name in enumerate(arms.names)]
    width = max(len(label) for label, _, _ in READOUT_ROWS)
    cols = [max(len(h), 12) for h in heads]
    lines = ["by strategy (one book, shared teams; the call list in the champion's priority)",
             " " * width + "".join(f"  {h:>{c}}" for h, c in zip(heads, cols, strict=True))]
    for label, key, show in READOUT_ROWS:
        cells = [show(kpis[name][key]) if key in kpis[name] else "n/a" for name in arms.names]
        lines.append(f"{label:<{width}}" + "".join(f"  {v:>{c}}" for v, c in zip(cells, cols, strict=True)))
    champion = printable(arms.names[arms.champion])
    for name, tests in result.strategy_tests.items():
        lines += ["", f"{printable(name)} − {champion} on this run's accounts "
                      f"({100 * CONFIDENCE:.0f} % intervals; two-proportion z for rates, Welch's t for cash):"]
        for label, key, scale, unit in TEST_ROWS:
            t = tests[key]
            lines.append(f"  {label:<17} {scale * t['difference']:+10.2f}{unit:<4} "
                         f"[{scale * t['ci_low']:+.2f}, {scale * t['ci_high']:+.2f}]  p = {t['p_value']:.3g}")
    return "\n".join(lines)
