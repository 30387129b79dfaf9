"""What the contact log identifies about reach: the right-party rate of a dial by hour (and by bucket).

Every outbound call in the log is a Bernoulli trial: it reached the borrower
(``right_party`` or any conversation result) or it did not (``no_answer``,
``wrong_party``). The engine's chance (:mod:`sim.engine.calls`) is

* without rules by account: ``right_party_by_hour[hour]``, the book's hour;
* with them (a ``[contact]`` section, or a book with ``time_zone``,
  ``exclusion`` or ``state`` columns): ``right_party_by_hour[local hour] ×
  right_party_by_bucket[bucket] × right_party_by_segment[segment] ×
  fatigue(pressure, dial attempts in the last 7 days, hardening)``.

In the first case each hour's rate is its share of right-party dials, with
a Wilson interval. In the second the hours and the buckets are a product:
only their ratios are told apart, so the multiplier of the first bucket with
dials is held at the base's (reported ``"identified": false``, like the card
fit's reference segment) and the hours and the other buckets are fitted by
maximum likelihood on the log scale, each with its score interval (below);
the segment multipliers and the pressure are held at the base's. An hour or a bucket with fewer than :data:`MIN_DIALS` dials, or
with none reached, is not identified (the base's value stays).

Intervals: a dial is a Bernoulli trial, and an hour with few dials (the
evening's) is a small binomial sample, where a Wald interval, even on the log
scale, is lopsided: ``right_party_by_hour.18`` covered in 91.5 % of 200
seeds with it. Each hour and bucket gets the score (Rao) interval instead:
the values v whose score test, the other parameters re-fitted with it held at
v, does not reject at 5 % (``U(v)ᵀ I(v)⁻¹ U(v) ≤ 1.96²``, expected
information). For an hour alone (one parameter, no buckets) that is exactly
Wilson's interval, the one the hours get without rules by account, and like
it, it needs no normal approximation of the estimate. The dials of one
account are not independent trials where borrowers differ in how reachable
they are (a real book's do; the engine's do not): the score test's variance
is the larger of the model's and the accounts' own (cluster-robust, see
:class:`_LogLinkBernoulli`), so the interval widens only where they differ.

Names: ``right_party_by_hour.H`` (H = 0 … 23, inside ``[behavior]``) and
``contact.right_party_by_bucket.BUCKET`` (inside ``[contact]``, hence the
section's prefix). Approximations: the bucket of a dial under ``cgw`` is the
start's days past due plus the day (a ``cgw`` account never cures); under
``card`` it is the rebuilt statement's. The consumers' time zones come from
the portfolio's ``time_zone`` column (a book whose zones the scenario draws
is taken in the book's time). Attempts before the window are not in the log,
so the first week's pressure is read low.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize

from ..consumers import consumer_facts
from ..domain import (
    DELINQUENT_BUCKETS,
    MINUTES_PER_DAY,
    MINUTES_PER_HOUR,
    Channel,
    bucket_of,
    fatigue,
)
from ..scenario import Scenario
from .estimates import Z95, ParameterEstimate, log_scale_covariance, wald_on_log, wilson
from .history_files import Contacts

MIN_DIALS = 10
HOURS = 24
HOUR_NAMES = tuple(f"right_party_by_hour.{h}" for h in range(HOURS))
BUCKET_NAMES = tuple(f"contact.right_party_by_bucket.{b}" for b in DELINQUENT_BUCKETS)


def _by_account(scenario: Scenario, portfolio) -> bool:
    """Whether the engine reads each account's own reach (its rules by account, sim.engine.standing)."""
    from ..compliance import ContactRules
    from ..engine.standing import needs_standing

    return needs_standing(scenario, portfolio, ContactRules.from_section(scenario.compliance))


def _earlier_dials(position: np.ndarray, day: np.ndarray) -> np.ndarray:
    """Per dial (sorted by account then time): the account's dials before it in its last seven days."""
    key = position.astype(np.float64) * 1e6 + day
    return np.arange(position.size) - np.searchsorted(key, key - 6.0, side="left")


def right_party_rates(scenario: Scenario, portfolio, contacts: Contacts,
                      bucket_by_day: np.ndarray | None = None) -> dict[str, ParameterEstimate]:
    """``right_party_by_hour.H`` (and, with ``[contact]``, ``contact.right_party_by_bucket.B``) from the dials."""
    calls = contacts.channel == Channel.CALL
    position, time, reached = contacts.position[calls], contacts.time[calls], contacts.right_party[calls]
    day = np.floor(time).astype(np.int64)
    # To the second: a day's fraction times 1440 can land a hair below the minute it was logged at.
    minute = np.rint((time - day) * MINUTES_PER_DAY * 60.0) / 60.0
    if not _by_account(scenario, portfolio):
        return _hours_alone(np.minimum((minute // MINUTES_PER_HOUR).astype(np.int64), HOURS - 1), reached)
    offset = np.zeros(len(portfolio))
    if portfolio.time_zone is not None:
        offset = consumer_facts(scenario, portfolio, np.random.SeedSequence(0)).offset.astype(np.float64)
    hour = (np.floor((minute + offset[position]) / MINUTES_PER_HOUR).astype(np.int64)) % HOURS
    if bucket_by_day is not None:
        at = np.minimum(day, bucket_by_day.shape[1] - 1)
        bucket = bucket_by_day[position, at].astype(np.int64)
    else:
        bucket = bucket_of(portfolio.days_past_due[position] + day).astype(np.int64)
    contact = scenario.contact
    by_bucket = np.array([1.0] + [contact.right_party_by_bucket[b] if contact else 1.0 for b in DELINQUENT_BUCKETS])
    by_segment = np.array([contact.right_party_by_segment.get(s, 1.0) if contact else 1.0
                           for s in portfolio.segment_names])
    pressure = contact.pressure if contact is not None else 0.0
    hardening = contact.hardening if contact is not None else 0.0
    known = by_segment[portfolio.segment[position]] * fatigue(pressure, _earlier_dials(position, day), hardening)
    keep = bucket > 0  # a current account is not dialled by a ladder; a row that is says nothing of a bucket
    return _hours_and_buckets(hour[keep], bucket[keep], known[keep], reached[keep], by_bucket, position[keep])


def _hours_alone(hour: np.ndarray, reached: np.ndarray) -> dict[str, ParameterEstimate]:
    dials = np.bincount(hour, minlength=HOURS)
    hits = np.bincount(hour, weights=reached, minlength=HOURS)
    return {name: (wilson(hits[h] / dials[h], dials[h]) if dials[h] >= MIN_DIALS and hits[h] > 0
                   else ParameterEstimate.unidentified()) for h, name in enumerate(HOUR_NAMES)}


def _hours_and_buckets(hour: np.ndarray, bucket: np.ndarray, known: np.ndarray, reached: np.ndarray,
                       held_bucket: np.ndarray, account: np.ndarray | None = None) -> dict[str, ParameterEstimate]:
    """log p = a[hour] + b[bucket] + log known; a Bernoulli likelihood, b of the reference bucket held.

    ``account`` (per dial): whose number was dialled; the score intervals are then never narrower than the
    accounts' own spread of scores says (:meth:`_LogLinkBernoulli.score_statistic`).
    """
    out = {name: ParameterEstimate.unidentified() for name in (*HOUR_NAMES, *BUCKET_NAMES)}
    hour_dials = np.bincount(hour, minlength=HOURS)
    hour_hits = np.bincount(hour, weights=reached, minlength=HOURS)
    bucket_dials = np.bincount(bucket, minlength=len(DELINQUENT_BUCKETS) + 1)
    bucket_hits = np.bincount(bucket, weights=reached, minlength=len(DELINQUENT_BUCKETS) + 1)
    hours = np.flatnonzero((hour_dials >= MIN_DIALS) & (hour_hits > 0))
    buckets = np.flatnonzero((bucket_dials >= MIN_DIALS) & (bucket_hits > 0))
    buckets = buckets[buckets > 0]
    if hours.size == 0 or buckets.size == 0:
        return out
    reference, fitted = buckets[0], buckets[1:]
    rows = np.isin(hour, hours) & np.isin(bucket, buckets)
    hour_col = np.searchsorted(hours, hour[rows])
    bucket_col = np.searchsorted(fitted, bucket[rows])  # the reference has no column
    has_bucket = bucket[rows] != reference
    y = reached[rows].astype(np.float64)
    base = np.log(known[rows] * held_bucket[reference])
    k = hours.size + fitted.size

    design = np.zeros((y.size, k))
    design[np.arange(y.size), hour_col] = 1.0
    design[np.flatnonzero(has_bucket), hours.size + bucket_col[has_bucket]] = 1.0
    # log p = base + design @ θ, the reference bucket's multiplier inside base for every row: a row of another
    # bucket carries its own multiplier in θ instead.
    base = base - np.where(has_bucket, math.log(held_bucket[reference]), 0.0)

    # The dials of one hour, bucket and known factor (segment × fatigue: a few dozen values) are one binomial
    # cell: the likelihood, its score and its information are the same summed by cell, and far cheaper.
    cells, inverse = np.unique(np.c_[design, base], axis=0, return_inverse=True)
    inverse = inverse.ravel()
    fit = _LogLinkBernoulli(cells[:, :k], np.bincount(inverse, weights=y), np.bincount(inverse).astype(np.float64),
                            cells[:, k])
    if account is not None:
        fit.cluster_by(inverse, np.unique(account[rows], return_inverse=True)[1].ravel(), y)
    start = np.log(np.maximum(hour_hits[hours] / hour_dials[hours], 1e-3) / max(np.mean(known), 1e-9)
                   / held_bucket[reference])
    theta = np.r_[start, np.log(held_bucket[fitted])]
    # Every row has one hour: lowering the hours lowers every chance, so a start that puts one at 1 or more
    # (the hours' shares include the buckets' multipliers) is moved inside.
    theta[:hours.size] -= max(float(fit.eta(theta).max()) + 0.05, 0.0)
    theta = fit.maximise(theta, np.ones(k, dtype=bool))
    if theta is None:
        return out
    p = np.exp(fit.eta(theta))
    weight = (fit.trials - fit.hits) * p / (1 - p) ** 2  # −d² log-likelihood / d eta²: the observed information
    covariance = log_scale_covariance(fit.design.T @ (fit.design * weight[:, None]), np.ones(k, dtype=bool))
    if covariance is None:
        return out
    names = [HOUR_NAMES[h] for h in hours] + [BUCKET_NAMES[b - 1] for b in fitted]
    for j, name in enumerate(names):
        se = math.sqrt(covariance[j, j])
        wald = wald_on_log(float(theta[j]), se)
        if not wald.identified:
            continue
        low, high = fit.score_interval(theta, j, se)
        out[name] = ParameterEstimate(estimate=wald.estimate, std_error=wald.std_error, ci_low=math.exp(low),
                                      ci_high=math.exp(high), identified=True)
    return out


class _LogLinkBernoulli:
    """Binomial cells (``hits`` of ``trials`` dials) with log p = base + design @ θ: Fisher scoring, and each
    parameter's score interval.

    Clustered dials (:meth:`cluster_by`): the binomial information takes every dial as an independent trial. A
    lender's borrowers are not alike: one who never picks up is a run of misses, and such dials tell less than
    as many independent ones (on 400 synthetic books whose accounts' reach varied by a gamma factor of
    coefficient of variation 0.8, the evening hour's score interval covered in 83 %). With the dials' accounts
    known, the score test's variance is the larger of the model's and the accounts' own (the sum over accounts
    of each one's squared efficient score: the cluster-robust, "sandwich", variance of the score), so the
    interval widens where the accounts differ and stays the binomial one where they do not (the engine's
    accounts have no reach of their own: there the two agree within a few percent).
    """

    def __init__(self, design: np.ndarray, hits: np.ndarray, trials: np.ndarray, base: np.ndarray):
        self.design, self.hits, self.trials, self.base = design, hits, trials, base
        # Each row has one hour and at most one bucket: η by indexing, not a matrix product (which goes
        # through a BLAS that spins its threads on a busy machine).
        self.first = np.argmax(design, axis=1)
        second = design.shape[1] - 1 - np.argmax(design[:, ::-1], axis=1)
        self.two = np.flatnonzero(second != self.first)
        self.second = second[self.two]

        self.dial_cell = self.dial_account = self.dial_hit = None

    def cluster_by(self, dial_cell: np.ndarray, dial_account: np.ndarray, dial_hit: np.ndarray) -> None:
        """Each dial's cell, its account (0 … accounts − 1) and whether it reached: the score test's variance
        is then the larger of the model's and the accounts'."""
        self.dial_cell, self.dial_account, self.dial_hit = dial_cell, dial_account, dial_hit

    def eta(self, theta: np.ndarray) -> np.ndarray:
        value = self.base + theta[self.first]
        value[self.two] += theta[self.second]
        return value

    def negative(self, theta: np.ndarray) -> float:
        e = self.eta(theta)
        if np.any(e >= 0):
            return math.inf
        return -float(self.hits @ e + (self.trials - self.hits) @ np.log1p(-np.exp(e)))

    def score_and_information(self, theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The score and the expected information in θ (log-link Bernoulli: weight p/(1 − p))."""
        p = np.exp(self.eta(theta))
        score = self.design.T @ ((self.hits - self.trials * p) / (1 - p))
        information = self.design.T @ (self.design * (self.trials * p / (1 - p))[:, None])
        return score, information

    def maximise(self, theta: np.ndarray, free: np.ndarray, iterations: int = 100) -> np.ndarray | None:
        """θ's ``free`` entries re-fitted, the others held, by Fisher scoring (halving a step that would put a
        chance at 1 or lower the likelihood); None if it does not converge."""
        theta = theta.copy()
        value = self.negative(theta)
        if not math.isfinite(value):
            return None
        for _ in range(iterations):
            score, information = self.score_and_information(theta)
            try:
                step = np.linalg.solve(information[np.ix_(free, free)], score[free])
            except np.linalg.LinAlgError:
                return None
            for _ in range(40):
                trial = self.negative(_moved(theta, free, step))
                if trial <= value + 1e-12 * abs(value):
                    break
                step /= 2
            theta, previous, value = _moved(theta, free, step), value, trial
            if abs(previous - value) <= 1e-10 * max(abs(value), 1.0) and np.abs(step).max() < 1e-8:
                return theta
        return None

    def score_statistic(self, theta: np.ndarray, j: int, v: float) -> float:
        """The score test of θ_j = v: the others re-fitted with θ_j held, then U ᵀ I⁻¹ U (χ²₁ if θ_j = v)."""
        free = np.arange(theta.size) != j
        held = theta.copy()
        _, information = self.score_and_information(theta)
        # Start the re-fit where the others move with θ_j to first order (the regression of the information).
        held[free] -= np.linalg.solve(information[np.ix_(free, free)], information[free, j]) * (v - theta[j])
        held[j] = v
        refit = self.maximise(held, free) if free.any() else held
        if refit is None:
            refit = self.maximise(np.r_[theta[:j], v, theta[j + 1:]], free) if free.any() else None
        if refit is None or not math.isfinite(self.negative(refit)):
            return math.inf  # a chance at 1 for some dial: far outside
        score, information = self.score_and_information(refit)
        statistic = float(score @ np.linalg.solve(information, score))
        if self.dial_cell is None or not free.any():
            return statistic
        # The efficient score of θ_j (the others' part regressed out: a·U with a = e_j − I_oo⁻¹ I_oj) and its
        # variance: the model's, aᵀ I a, against the accounts', Σ_accounts (a·U_account)².
        a = np.zeros(theta.size)
        a[j] = 1.0
        a[free] = -np.linalg.solve(information[np.ix_(free, free)], information[free, j])
        p = np.exp(self.eta(refit))
        per_cell = self.design @ a / (1 - p)
        cell = self.dial_cell
        by_account = np.bincount(self.dial_account, weights=per_cell[cell] * (self.dial_hit - p[cell]))
        model, accounts = float(a @ information @ a), float(by_account @ by_account)
        return statistic * model / max(model, accounts)

    def score_interval(self, theta: np.ndarray, j: int, se: float) -> tuple[float, float]:
        """The θ_j (log scale) where the score statistic crosses 1.96², either side of the estimate, searched
        from the Wald ends."""
        edge = lambda v: self.score_statistic(theta, j, v) - Z95 * Z95  # noqa: E731 (< 0 inside)
        ends = []
        for side in (-1.0, 1.0):
            near, far = theta[j], theta[j] + side * Z95 * se
            while edge(far) < 0:
                near, far = far, far + side * Z95 * se
            ends.append(optimize.brentq(edge, *sorted((near, far)), xtol=1e-3 * se))
        return ends[0], ends[1]


def _moved(theta: np.ndarray, free: np.ndarray, step: np.ndarray) -> np.ndarray:
    moved = theta.copy()
    moved[free] += step
    return moved
