"""The open book's inflow: how many new delinquent accounts enter a month, fitted from ``entered_on``.

The engine's arrivals are a Poisson number a day with mean a month's
arrivals / 30 (:mod:`sim.engine.arrivals`). A lender's portfolio CSV over a
window says when each account entered the book (``entered_on``): the
accounts entering on days 1 … N − 1 of an N-day window are the arrivals seen.
Those of day 0 cannot be told from the book at the start (both carry the start
date), so the exposure is the N − 1 days after it: the count over them is
Poisson with mean rate × (N − 1), whose maximum-likelihood rate is the count
over the days, with Garwood's exact interval (chi-square quantiles of the
count, never below 0, at least 95 % coverage however few arrived).

The rate is given as ``per_month`` and, when the base scenario's
``[arrivals]`` is keyed that way, as ``per_1000_per_month`` of the accounts
in the book at the start (the book the CSV holds on the start date, less the
day-0 arrivals expected among it).
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats

from ..domain import BUCKET_DAYS
from .estimates import LEVEL, ParameterEstimate

PER_1000 = "per_1000_per_month"


def arrival_rates(entered_day: np.ndarray | None, days: int, base_key: str | None) -> dict[str, ParameterEstimate]:
    """``[arrivals]`` keys with their estimates: ``per_month`` always, ``per_1000_per_month`` if ``base_key`` is it.

    ``entered_day``: each account's entry day from the window's start (None: the CSV has no ``entered_on``,
    so the inflow is not identified); ``base_key``: the key the base scenario's ``[arrivals]`` uses, if any.
    """
    names = ["per_month"] + ([PER_1000] if base_key == PER_1000 else [])
    if entered_day is None or days < 2:
        return {name: ParameterEstimate.unidentified() for name in names}
    seen = int(np.count_nonzero((entered_day >= 1) & (entered_day < days)))
    exposure_months = (days - 1) / BUCKET_DAYS
    out = {"per_month": poisson_rate(seen, exposure_months)}
    if PER_1000 in names:
        # The day-0 arrivals carry the start date like the book at the start: their expected number is
        # taken out, so that the rate is per 1,000 of the book the scenario's simulation.accounts counts.
        day0 = min(out["per_month"].estimate / BUCKET_DAYS, float(np.count_nonzero(entered_day == 0)))
        at_start = int(np.count_nonzero(entered_day <= 0)) - day0
        out[PER_1000] = (_scaled(out["per_month"], 1000.0 / at_start) if at_start > 0
                         else ParameterEstimate.unidentified())
    return out


def poisson_rate(count: int, exposure: float) -> ParameterEstimate:
    """A Poisson rate per unit of ``exposure`` from ``count`` events: the MLE with Garwood's exact interval."""
    alpha = 1.0 - LEVEL
    low = float(stats.chi2.ppf(alpha / 2, 2 * count)) / 2 if count > 0 else 0.0
    high = float(stats.chi2.ppf(1 - alpha / 2, 2 * count + 2)) / 2
    return ParameterEstimate(estimate=count / exposure, std_error=math.sqrt(count) / exposure,
                             ci_low=low / exposure, ci_high=high / exposure, identified=True)


def _scaled(p: ParameterEstimate, factor: float) -> ParameterEstimate:
    return ParameterEstimate(estimate=p.estimate * factor, std_error=p.std_error * factor,
                             ci_low=p.ci_low * factor, ci_high=p.ci_high * factor, identified=True)
