"""Does the fitted process describe the book? The time-rescaling test, AIC, and the QQ plots.

By the time-rescaling theorem (Brown, Barbieri, Ventura, Kass & Frank,
*Neural Computation* 14, 2002) the compensator increments between one
account's repayments are i.i.d. Exp(1) when the model is right: a
Kolmogorov–Smirnov test of them against Exp(1) and their QQ plot. The
amounts get the same: each repayment's share of the balance against the
fitted Uniform[r_min, 1]. AIC compares the process with the simplest model
of the same data, a constant hazard (every account pays at one rate λ,
fitted as repayments / exposure) with the same shares. The QQ plots are
drawn by :mod:`.figures`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats
from scipy.special import gammaln


@dataclass(frozen=True)
class GoodnessOfFit:
    ks_statistic: float | None
    ks_pvalue: float | None
    aic: float | None
    aic_constant_hazard: float | None
    share_ks_statistic: float | None
    share_ks_pvalue: float | None

    def as_dict(self) -> dict:
        """The four figures ``--json`` prints."""
        return {"ks_statistic": self.ks_statistic, "ks_pvalue": self.ks_pvalue, "aic": self.aic,
                "aic_constant_hazard": self.aic_constant_hazard}


def exponential_ks(increments: np.ndarray) -> tuple[float | None, float | None]:
    if increments.size < 2:
        return None, None
    test = stats.kstest(increments, "expon")
    return float(test.statistic), float(test.pvalue)


def uniform_ks(shares: np.ndarray, r_min: float | None) -> tuple[float | None, float | None]:
    if shares.size < 2 or r_min is None or r_min >= 1:
        return None, None
    # The smallest share is the estimate itself; it is left out so the test is not trivially tight there.
    rest = np.sort(shares)[1:]
    test = stats.kstest(rest, "uniform", args=(r_min, 1.0 - r_min))
    return float(test.statistic), float(test.pvalue)


def constant_hazard_log_likelihood(repayments: int, exposure: float, dated_day_counts: np.ndarray,
                                   shares: np.ndarray, r_min: float | None) -> float:
    """log L of one constant rate for every account (its MLE) with the same Uniform[r_min, 1] shares."""
    if repayments == 0 or exposure <= 0:
        return float("nan")
    rate = repayments / exposure
    value = repayments * math.log(rate) - rate * exposure - float(gammaln(dated_day_counts + 1.0).sum())
    if r_min is not None:
        value -= shares.size * math.log1p(-r_min)
    return value


def aic(log_likelihood: float, parameters: int) -> float | None:
    return None if not math.isfinite(log_likelihood) else 2.0 * parameters - 2.0 * log_likelihood
