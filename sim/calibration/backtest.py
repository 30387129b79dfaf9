"""The backtest: fit on the first K days, simulate the rest, and compare with what happened.

The fit of the first ``fit_days`` gives the parameters and their sampling
distribution. Each replication draws its own parameters from it (the timing
parameters from the normal law of their log-estimates, ``r_min`` from the
exact law of the smallest share), so the band carries the fit's uncertainty
as well as the borrowers' randomness. It then runs the real engine from the
book as it stood on day K, the book's balances and days past due rebuilt
from the history and each account's intensity at day K from its own
repayments under the drawn parameters. With a contact log the held-out
days replay the contacts that actually happened (:mod:`sim.engine.replay`)
at the fitted lifts, the log's week before day K in the fatigue window they
start with; without one they run the base scenario's strategy.
What is compared, day by day from K: the cumulative
recovery (cash over the balance outstanding at K) against the simulated 90 %
band, and the 30-day roll rates from each bucket, predicted against actual.

``model = "cgw"`` starts from the pieces here; ``model = "card"`` from
:mod:`.card_backtest` (the statements replayed to day K, the card parameters
drawn). The simulated days run the book on day K only: an open book's later
arrivals are left out of the runs, as they are of the actual cash.

``known_parameters=True`` (card) runs every replication at the base
scenario's parameters, nothing drawn: on a history the engine wrote from that
scenario (``benchmarks/calibration_backtest.py --known-parameters``) the runs
then differ from the history only by the replay's state on day K and the
borrowers' randomness, which is how a shortfall is told apart from the fit's.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from dataclasses import dataclass

import numpy as np

from ..domain import DELINQUENT_BUCKETS, MINUTES_PER_DAY, PaymentKind, RollState
from ..engine import Engine
from ..engine.arrivals import Arrivals
from ..engine.replay import LoggedContacts
from ..errors import InputError
from ..portfolio import Portfolio
from ..scenario import Scenario
from ..streams import RandomStreams
from . import cgw, contact_fit
from .balance_paths import BalancePaths, rebuild
from .calibrate import CMDLINE, History, cgw_calibration, cgw_parts
from .card_backtest import card_start
from .card_paths import rebuild_card
from .estimates import MAX_SPAN, Z95
from .history_files import Contacts, Receipts

BAND = (0.05, 0.95)  # the 90 % band
ROLL_DAYS = 30
FATIGUE_DAYS = 7  # the contact counters' window: the log's days before K that still damp a lift at K
MAX_RATE = 100.0  # the schema's largest rate a day


@dataclass(frozen=True)
class Backtest:
    """The band against what happened, as ``--json`` prints it (and the fit of the first K days)."""

    fit_days: int
    reps: int
    days: np.ndarray  # the window's days K … N − 1
    actual: np.ndarray  # cumulative recovery by the end of each day
    low: np.ndarray
    high: np.ndarray
    roll_predicted: dict[str, float | None]
    roll_actual: dict[str, float | None]
    paid_share: tuple[float, float]  # accounts active at K that paid anything by the end: predicted (mean), actual
    receipts: tuple[float, float]  # their repayments and instalments after K: predicted (mean), actual
    last_day_runs: tuple[float, float]  # the runs' cumulative recovery on the last day: mean, standard deviation
    cash_by_bucket: dict[str, tuple[float, float]]  # by bucket at K: cash predicted (mean), actual
    fit: object  # the Calibration of the first K days

    @property
    def inside_share(self) -> float:
        return float(np.mean((self.actual >= self.low) & (self.actual <= self.high)))

    @property
    def last_day_z(self) -> float:
        """The actual last-day recovery in the runs' standard deviations from their mean (0 on average over
        histories when the runs are right; a seed's band says less, as it is one draw)."""
        mean, sd = self.last_day_runs
        return (float(self.actual[-1]) - mean) / sd if sd > 0 else 0.0

    def as_dict(self) -> dict:
        curve = [{"day": int(d), "actual": float(a), "low": float(lo), "high": float(hi)}
                 for d, a, lo, hi in zip(self.days, self.actual, self.low, self.high, strict=True)]
        return {"fit_days": self.fit_days, "reps": self.reps, "curve": curve, "inside_share": self.inside_share,
                "roll_rates": {"predicted": self.roll_predicted, "actual": self.roll_actual}}


def _truncate(history: History, days: int) -> History:
    """The history of the first ``days`` days only."""
    r = history.receipts
    keep = r.time < days
    receipts = Receipts(position=r.position[keep], time=r.time[keep], dated=r.dated[keep], amount=r.amount[keep],
                        kind=r.kind[keep], line=r.line[keep], source=r.source, last=r.last[keep])
    contacts = None
    if history.contacts is not None:
        c = history.contacts
        inside = c.time < days
        contacts = Contacts(position=c.position[inside], time=c.time[inside], channel=c.channel[inside],
                            right_party=c.right_party[inside])
    scenario = history.scenario.with_overrides({"simulation.days": days})
    window = dataclasses.replace(history.window, days=days)
    arrivals = history.arrivals
    return History(scenario=scenario, portfolio=history.portfolio, receipts=receipts, contacts=contacts,
                   window=window, arrivals=Arrivals(arrivals.first_row, arrivals.entry_day, days))


def _left_collection(history: History, fit_days: int) -> np.ndarray:
    """Per portfolio account, when the real account left collection after day ``fit_days`` (the whole
    window replayed): from the next day the lender's log no longer covers it (:func:`.contact_fit.replay_after`).

    A card account also leaves when it cures: the lender stops the ladder, and a replication whose borrower
    has not cured must then be worked by the strategy, not left untreated (which made the card runs collect
    a third too little in the window's last 30 days). A cgw account leaves when it pays off, charges off or
    is filed.
    """
    if history.scenario.behavior.model != "card":
        return rebuild(history.scenario, history.portfolio, history.receipts, history.contacts,
                       history.arrivals).observed_until
    paths = rebuild_card(history.scenario, history.portfolio, history.receipts, history.contacts, history.arrivals)
    out = np.full(len(history.portfolio), float(history.window.days))
    spans = (paths.episode_from < fit_days) & (paths.episode_until >= fit_days)  # the episode open at day K
    out[paths.episode_account[spans]] = paths.episode_until[spans]
    return out


def _with_last_week(replay: LoggedContacts | None, contacts: Contacts | None, active: np.ndarray,
                    fit_days: int) -> LoggedContacts | None:
    """The replay with the log's contacts of the week before day K (before its minute 0): the held-out days
    start with them in the 7-day fatigue window, as the history's borrowers did (:mod:`sim.engine.replay`)."""
    if replay is None or contacts is None:
        return replay
    start = max(fit_days - FATIGUE_DAYS, 0)
    week = contact_fit.replay_after(contacts, active, start)
    shift = (fit_days - start) * MINUTES_PER_DAY
    before = week.minute < shift
    return dataclasses.replace(
        replay, row=np.r_[week.row[before], replay.row], minute=np.r_[week.minute[before] - shift, replay.minute],
        channel=np.r_[week.channel[before], replay.channel], outcome=np.r_[week.outcome[before], replay.outcome],
        line=np.r_[week.line[before], replay.line])


def _book_at(paths: BalancePaths) -> tuple[np.ndarray, Portfolio]:
    """The accounts still active at the end of the fitted days, as a portfolio to run on."""
    active = np.flatnonzero(paths.active_at_end)
    p = paths.at_end
    return active, Portfolio(account_id=p.account_id[active], balance=p.balance[active],
                             past_due=p.past_due[active], days_past_due=p.days_past_due[active],
                             segment=p.segment[active], phone_known=p.phone_known[active],
                             email_known=p.email_known[active], segment_names=p.segment_names)


class _ParameterDraws:
    """Parameters drawn from the fit's sampling distribution, and each account's intensity at day K under them."""

    adds_floor = False  # draw() returns the whole intensity (card: the excess over the engine's floor)

    def __init__(self, result: cgw.CgwFit, data: cgw.CgwData, rows: np.ndarray):
        if result.covariance is None or not result.converged:
            raise InputError(CMDLINE, "--fit-days", "the fitted days identify too little to simulate from; "
                                                    "give more days or more accounts")
        self.theta, self.data, self.rows = result.theta, data, rows
        # Parameters with an interval wider than the "not identified" span stay at their estimate: the
        # normal law of a log-estimate that loose would draw rates no borrower has.
        variance = np.nan_to_num(np.diag(result.covariance), nan=np.inf)
        regular = Z95 * np.sqrt(variance) <= math.log(MAX_SPAN)
        self.regular = np.flatnonzero(regular)
        sub = result.covariance[np.ix_(regular, regular)]
        self.factor = np.linalg.cholesky(sub) if sub.size else sub
        shares = data.measured_shares()[0]
        self.smallest, self.n = float(shares.min()), int(shares.size)

    def draw(self, rng: np.random.Generator) -> tuple[dict[str, float], np.ndarray]:
        theta = self.theta.copy()
        theta[self.regular] += self.factor @ rng.standard_normal(self.regular.size)
        # Kept inside what a scenario allows.
        lam_inf, excess0, kappa, d10, d11 = np.minimum(np.exp(theta), MAX_RATE)
        u = rng.beta(1.0, self.n)  # (min − r_min)/(1 − r_min) is the smallest of n uniforms
        r_min = max((self.smallest - u) / (1.0 - u), 0.0)
        _, at_end, _ = cgw.excess_before(self.data, excess0, kappa, d10, d11)
        behavior = {"lambda0": min(lam_inf + excess0, MAX_RATE), "lambda_inf": lam_inf, "kappa": kappa, "delta10": d10,
                    "delta11": d11, "r_min": r_min}
        return behavior, lam_inf + at_end[self.rows]


def _cgw_start(fitted_part: History, base_scenario: str):
    """``model = "cgw"``: the fit of the first K days, the active accounts, the book then, draws, roll states."""
    paths, data, result = cgw_parts(fitted_part)
    fit = cgw_calibration(fitted_part, base_scenario, data, result)
    active, book = _book_at(paths)
    if active.size == 0:
        raise InputError(CMDLINE, "--fit-days", f"no account is still active after {fitted_part.window.days} days")
    observed = paths.observed_until > paths.observed_from
    draws = _ParameterDraws(result, data, (np.cumsum(observed) - 1)[active])
    return fit, active, book, draws, paths.roll_state_at_end[active]


def backtest(history: History, base_scenario: str, *, fit_days: int, reps: int = 50, seed: int = 0,
             known_parameters: bool = False) -> Backtest:
    """Fit the first ``fit_days`` days of ``history``, simulate the rest ``reps`` times, compare
    (``known_parameters``, card: every replication at the base scenario's parameters, nothing drawn)."""
    days = history.window.days
    if not 1 <= fit_days < days:
        raise InputError(CMDLINE, "--fit-days", f"must be between 1 and {days - 1} (the window has {days} days)")
    card_model = history.scenario.behavior.model == "card"
    if known_parameters and not card_model:
        raise ValueError("known_parameters: the card model's backtest only")
    fitted_part = _truncate(history, fit_days)
    if card_model:
        begin = card_start(fitted_part, base_scenario)
        fit, active, book, draws, start_state = begin.fit, begin.active, begin.book, begin.draws, begin.start_state
        statements = begin.statements
        if known_parameters:
            draws = draws.at_base(history.scenario.behavior)
    else:
        fit, active, book, draws, start_state = _cgw_start(fitted_part, base_scenario)
        statements = None
    rest = days - fit_days
    start = history.window.start + dt.timedelta(days=fit_days)
    # With a contact log the held-out days replay its contacts at the fitted lifts (sim.engine.replay).
    closed = _left_collection(history, fit_days) if history.contacts is not None else None
    replay = _with_last_week(contact_fit.replay_after(history.contacts, active, fit_days, closed),
                             history.contacts, active, fit_days)
    lifted = history if known_parameters else dataclasses.replace(
        history, scenario=history.scenario.with_overrides(contact_fit.fitted_lifts(fit.parameters)))
    runs = _simulate_rest(lifted, draws, book, rest, start, reps, seed, start_state, replay, statements)
    outstanding = float(book.balance.sum())
    cash = _actual_cash(history.receipts, active, fit_days, rest)
    curves = np.cumsum(runs.cash, axis=1) / outstanding
    low, high = np.quantile(curves, BAND, axis=0)
    actual_by_account = _cash_by_account(history.receipts, active, fit_days)
    actual_buckets = _by_bucket(start_state, actual_by_account)
    return Backtest(fit_days=fit_days, reps=reps, days=np.arange(fit_days, days), actual=np.cumsum(cash) / outstanding,
                    low=low, high=high, roll_predicted=_mean_rolls(runs.rolls, start_state),
                    roll_actual=_actual_rolls(history, fit_days, active, start_state),
                    paid_share=(float(np.mean(runs.paid_share)), float(np.mean(actual_by_account > 0))),
                    receipts=(float(np.mean(runs.receipts)), float(_actual_receipts(history.receipts, active,
                                                                                      fit_days, rest))),
                    last_day_runs=(float(curves[:, -1].mean()), float(curves[:, -1].std(ddof=1)) if reps > 1 else 0.0),
                    cash_by_bucket={bucket: (float(runs.bucket_cash[:, k].mean()), float(actual_buckets[k]))
                                    for k, bucket in enumerate(DELINQUENT_BUCKETS)},
                    fit=fit)


@dataclass(frozen=True)
class _Replications:
    cash: np.ndarray  # reps × days: cash collected each day
    rolls: list[np.ndarray]  # each replication's roll states after 30 days (if the rest is that long)
    paid_share: np.ndarray  # per replication: share of the accounts that paid anything
    receipts: np.ndarray  # per replication: repayments and instalments (the tally's payments)
    bucket_cash: np.ndarray  # reps × buckets: cash by the account's bucket at day K


def _simulate_rest(history: History, draws: _ParameterDraws, book: Portfolio, rest: int, start: dt.date,
                   reps: int, seed: int, start_state: np.ndarray, replay=None,
                   statements: dict[str, np.ndarray] | None = None) -> _Replications:
    """Run the engine over the rest of the window ``reps`` times, each with its own drawn parameters
    (``statements``, card: each account's statement on day K, restored in every run)."""
    cash = np.zeros((reps, rest))
    paid_share = np.zeros(reps)
    receipts = np.zeros(reps)
    bucket_cash = np.zeros((reps, len(DELINQUENT_BUCKETS)))
    rolls: list[np.ndarray] = []
    children = np.random.SeedSequence(seed).spawn(reps)
    for k, child in enumerate(children):
        parameter_stream, run_stream = child.spawn(2)
        behavior, intensity = draws.draw(np.random.default_rng(parameter_stream))
        overrides = {f"behavior.{name}": value for name, value in behavior.items()}
        overrides |= {"simulation.days": rest, "simulation.start_date": start}
        scenario = _closed(history.scenario.with_overrides(overrides))
        snapshot = _RollSnapshot()
        # The account ledger gives each account's cash (it reads agent work from the contact log).
        engine = Engine(scenario, book, RandomStreams(run_stream), record_contacts=True, ledger=True,
                        progress=snapshot, replay=replay)
        snapshot.book = engine.book
        if statements is not None:
            engine.book.statements.restore(statements)
        # The state each account reached in the fitted days (card: the excitation over its drawn floor).
        engine.book.intensity = intensity + engine.book.floor if draws.adds_floor else intensity.copy()
        engine.run()
        cash[k] = engine.tally.collected[:rest]
        receipts[k] = engine.tally.payments[:rest].sum()
        collected = engine.ledger.collected
        paid_share[k] = float(np.mean(collected > 0))
        bucket_cash[k] = _by_bucket(start_state, collected)
        rolls += snapshot.states
    return _Replications(cash=cash, rolls=rolls, paid_share=paid_share, receipts=receipts, bucket_cash=bucket_cash)


def _closed(scenario: Scenario) -> Scenario:
    """The scenario without ``[arrivals]``: the simulated days run the book on day K only."""
    if scenario.arrivals is None:
        return scenario
    data = scenario.content()
    data.pop("arrivals", None)
    return Scenario.from_dict(data, source=scenario.source, base_dir=scenario.base_dir)


def _by_bucket(start_state: np.ndarray, amounts: np.ndarray) -> np.ndarray:
    """Amounts summed by the account's delinquency bucket at day K."""
    totals = np.bincount(start_state, weights=amounts, minlength=len(DELINQUENT_BUCKETS) + 1)
    return totals[int(RollState.DPD_1_30):int(RollState.DPD_1_30) + len(DELINQUENT_BUCKETS)]


def _cash_by_account(receipts: Receipts, active: np.ndarray, fit_days: int) -> np.ndarray:
    """What each account active at day K paid from then on (in the order of ``active``)."""
    later = receipts.time >= fit_days
    at = np.searchsorted(active, receipts.position[later])
    at = np.minimum(at, active.size - 1)
    mine = active[at] == receipts.position[later]
    return np.bincount(at[mine], weights=receipts.amount[later][mine], minlength=active.size)


class _RollSnapshot:
    """The engine's progress callback: keeps the book's roll states after its 30th day."""

    def __init__(self) -> None:
        self.book = None
        self.states: list[np.ndarray] = []

    def __call__(self, day: int, total: int) -> None:
        if day == ROLL_DAYS and self.book is not None:
            self.states.append(self.book.roll_state())


def _actual_cash(receipts: Receipts, active: np.ndarray, fit_days: int, rest: int) -> np.ndarray:
    later = (receipts.time >= fit_days) & np.isin(receipts.position, active)
    day = np.floor(receipts.time[later]).astype(np.int64) - fit_days
    return np.bincount(day, weights=receipts.amount[later], minlength=rest)[:rest]


def _actual_receipts(receipts: Receipts, active: np.ndarray, fit_days: int, rest: int) -> int:
    """The repayments and instalments of the accounts active at day K in the rest of the window (what the
    engine's tally counts as payments: not what an agency or a sale brought in)."""
    mine = (receipts.time >= fit_days) & (receipts.time < fit_days + rest) & np.isin(receipts.position, active)
    return int(np.sum(mine & np.isin(receipts.kind, (int(PaymentKind.PAYMENT), int(PaymentKind.INSTALMENT)))))


def _roll_rates(start_state: np.ndarray, later_state: np.ndarray) -> dict[str, float | None]:
    """Per bucket: the share of its accounts in a later state (next bucket, charged off, legal) 30 days on."""
    out: dict[str, float | None] = {}
    for k, bucket in enumerate(DELINQUENT_BUCKETS, start=int(RollState.DPD_1_30)):
        members = start_state == k
        out[bucket] = float(np.mean(later_state[members] > k)) if members.any() else None
    return out


def _mean_rolls(rolls: list[np.ndarray], start_state: np.ndarray) -> dict[str, float | None]:
    if not rolls:
        return {bucket: None for bucket in DELINQUENT_BUCKETS}
    each = [_roll_rates(start_state, later) for later in rolls]
    return {bucket: (None if each[0][bucket] is None else float(np.mean([e[bucket] for e in each])))
            for bucket in DELINQUENT_BUCKETS}


def _actual_rolls(history: History, fit_days: int, active: np.ndarray,
                  start_state: np.ndarray) -> dict[str, float | None]:
    if fit_days + ROLL_DAYS > history.window.days:
        return {bucket: None for bucket in DELINQUENT_BUCKETS}
    month = _truncate(history, fit_days + ROLL_DAYS)
    replay = rebuild_card if history.scenario.behavior.model == "card" else rebuild
    later = replay(month.scenario, history.portfolio, month.receipts, month.contacts,
                   month.arrivals).roll_state_at_end
    return _roll_rates(start_state, later[active])
