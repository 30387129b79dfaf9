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
maximum likelihood on the log scale, with Wald intervals from the observed
information; the segment multipliers and the pressure are held at the
base's. An hour or a bucket with fewer than :data:`MIN_DIALS` dials, or
with none reached, is not identified (the base's value stays).

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
from .estimates import ParameterEstimate, log_scale_covariance, wald_on_log, wilson
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
    return _hours_and_buckets(hour[keep], bucket[keep], known[keep], reached[keep], by_bucket)


def _hours_alone(hour: np.ndarray, reached: np.ndarray) -> dict[str, ParameterEstimate]:
    dials = np.bincount(hour, minlength=HOURS)
    hits = np.bincount(hour, weights=reached, minlength=HOURS)
    return {name: (wilson(hits[h] / dials[h], dials[h]) if dials[h] >= MIN_DIALS and hits[h] > 0
                   else ParameterEstimate.unidentified()) for h, name in enumerate(HOUR_NAMES)}


def _hours_and_buckets(hour: np.ndarray, bucket: np.ndarray, known: np.ndarray, reached: np.ndarray,
                       held_bucket: np.ndarray) -> dict[str, ParameterEstimate]:
    """log p = a[hour] + b[bucket] + log known; a Bernoulli likelihood, b of the reference bucket held."""
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

    def eta(theta):
        value = base + theta[hour_col]
        value[has_bucket] += theta[hours.size + bucket_col[has_bucket]] - math.log(held_bucket[reference])
        return value

    design = np.zeros((y.size, k))
    design[np.arange(y.size), hour_col] = 1.0
    design[np.flatnonzero(has_bucket), hours.size + bucket_col[has_bucket]] = 1.0

    def negative(theta):
        e = eta(theta)
        return math.inf if np.any(e >= 0) else -float((y * e + (1 - y) * np.log1p(-np.exp(e))).sum())

    start = np.log(np.maximum(hour_hits[hours] / hour_dials[hours], 1e-3) / max(np.mean(known), 1e-9)
                   / held_bucket[reference])
    theta = np.r_[start, np.log(held_bucket[fitted])]
    # Fisher scoring (a log-link Bernoulli: information weight p/(1 − p)), halving a step that would put a
    # chance at 1 or lower the likelihood.
    value, converged = negative(theta), False
    for _ in range(100):
        p = np.exp(eta(theta))
        score = design.T @ (y - (1 - y) * p / (1 - p))
        information = design.T @ (design * (p / (1 - p))[:, None])
        try:
            step = np.linalg.solve(information, score)
        except np.linalg.LinAlgError:
            return out
        for _ in range(40):
            trial = negative(theta + step)
            if trial <= value + 1e-12 * abs(value):
                break
            step /= 2
        theta, previous, value = theta + step, value, trial
        if abs(previous - value) <= 1e-10 * max(abs(value), 1.0) and np.abs(step).max() < 1e-8:
            converged = True
            break
    p = np.exp(eta(theta))
    weight = (1 - y) * p / (1 - p) ** 2  # −d² log-likelihood / d eta²: the observed information
    covariance = log_scale_covariance(design.T @ (design * weight[:, None]), np.ones(k, dtype=bool))
    if covariance is None or not converged:
        return out
    for j, h in enumerate(hours):
        out[HOUR_NAMES[h]] = wald_on_log(float(theta[j]), math.sqrt(covariance[j, j]))
    for j, b in enumerate(fitted):
        at = hours.size + j
        out[BUCKET_NAMES[b - 1]] = wald_on_log(float(theta[at]), math.sqrt(covariance[at, at]))
    return out
