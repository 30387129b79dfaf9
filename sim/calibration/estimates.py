"""Fitted parameters and how sure the data make us of them.

Two kinds of interval, by where the likelihood is regular:

* **Wald on the log scale** from the observed information (the numerical
  Hessian of the negative log-likelihood at its maximum) for a rate that is
  positive and estimated inside its range: ``exp(log θ̂ ± 1.96·se)``.
* **Exact, for a boundary parameter** such as ``r_min``, the low end of the
  uniform repayment share: its estimate is the smallest of the n shares seen,
  and ``(min − r_min)/(1 − r_min)`` is the smallest of n standard uniforms
  (Beta(1, n)), which gives a one-sided interval ``[low, min]`` with exactly
  95 % coverage. A Wald interval would be wrong there: the likelihood is not
  differentiable at its maximum.

Where a likelihood is skewed (a small share, a lift told apart by a few
dozen repayments, a rate from few trials) the modules that fit them use a
profile-likelihood interval (the parameters' values within χ²₁(95 %)/2 of
the maximum, the others re-maximised: :data:`CHI2_95_HALF`) or a score
interval (Wilson's is one) instead of Wald's.

A parameter the data cannot pin down (no events that inform it, a flat
likelihood, a maximum on a bound) is reported as not identified, with no
estimate, rather than made up.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

Z95 = 1.959963984540054  # the standard normal's 97.5 % point
CHI2_95_HALF = 1.920729410347062  # half the χ²₁ 95 % point: a profile likelihood's drop at its interval's ends
LEVEL = 0.95
MAX_SPAN = 1000.0  # an interval from θ̂/1000 to 1000·θ̂ says nothing: not identified
NEGLIGIBLE = 1e-6  # a parameter whose whole value moves the log-likelihood by less than this is at 0


@dataclass(frozen=True)
class ParameterEstimate:
    """One fitted parameter, as ``--json`` prints it."""

    estimate: float | None
    std_error: float | None
    ci_low: float | None
    ci_high: float | None
    identified: bool

    @classmethod
    def unidentified(cls) -> ParameterEstimate:
        return cls(estimate=None, std_error=None, ci_low=None, ci_high=None, identified=False)

    def as_dict(self) -> dict:
        return {"estimate": self.estimate, "std_error": self.std_error, "ci_low": self.ci_low,
                "ci_high": self.ci_high, "identified": self.identified}


def numerical_hessian(f: Callable[[np.ndarray], float], x: np.ndarray, step: float = 1e-3) -> np.ndarray:
    """The Hessian of ``f`` at ``x`` by central differences (``f`` smooth; ``x`` on the log scale)."""
    k = x.size
    h = np.full(k, step)
    f0 = f(x)
    hess = np.empty((k, k))
    shifted: dict[tuple[int, int, int, int], float] = {}

    def at(i: int, si: int, j: int, sj: int) -> float:
        key = (i, si, j, sj)
        if key not in shifted:
            y = x.copy()
            y[i] += si * h[i]
            y[j] += sj * h[j]
            shifted[key] = f(y)
        return shifted[key]

    for i in range(k):
        hess[i, i] = (at(i, 1, i, 1) - 2 * f0 + at(i, -1, i, -1)) / (4 * h[i] ** 2)
        for j in range(i):
            value = (at(i, 1, j, 1) - at(i, 1, j, -1) - at(i, -1, j, 1) + at(i, -1, j, -1)) / (4 * h[i] * h[j])
            hess[i, j] = hess[j, i] = value
    # at(i, ±1, i, ±1) moved x[i] by ±2h: the diagonal above is over (2h)², hence the 4.
    return hess


def hessian_from_gradient(gradient: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                          step: float = 1e-4) -> np.ndarray:
    """The Hessian by central differences of an exact gradient: 2k gradients instead of 2k² values."""
    k = x.size
    hess = np.empty((k, k))
    for i in range(k):
        up, down = x.copy(), x.copy()
        up[i] += step
        down[i] -= step
        hess[:, i] = (gradient(up) - gradient(down)) / (2 * step)
    return (hess + hess.T) / 2


def flat_toward_zero(log_likelihood: Callable[[np.ndarray], float], theta: np.ndarray, floor: float,
                     margin: float = 0.5) -> np.ndarray:
    """Which log-parameters sit at 0 on the natural scale: on the log scale's lower bound (within ``margin``),
    or anywhere the likelihood is flat from there down to it.

    A positive rate's maximum at 0 is where a log-scale optimiser stops wherever the likelihood stops moving
    (e^-20 and e^-25 a day are both "none"), often well above the bound: there the observed information is
    singular, and a Wald interval on the log scale is meaningless. The rule: moving the parameter from its
    estimate to the bound, the others held, changes the log-likelihood by less than :data:`NEGLIGIBLE`: its
    whole value contributes nothing the data can see, so its estimate is the boundary's (0), as ``r_min``'s
    and δ11's are, and it takes a one-sided profile interval instead.
    """
    at = theta <= floor + margin
    top = log_likelihood(theta)
    for i in np.flatnonzero(~at):
        moved = theta.copy()
        moved[i] = floor
        at[i] = abs(top - log_likelihood(moved)) < NEGLIGIBLE
    return at


def log_scale_covariance(hessian: np.ndarray, regular: np.ndarray) -> np.ndarray | None:
    """The covariance of the log-parameters marked ``regular`` (inverse observed information), or None."""
    sub = hessian[np.ix_(regular, regular)]
    if sub.size == 0 or not np.all(np.isfinite(sub)):
        return None
    try:
        np.linalg.cholesky(sub)
    except np.linalg.LinAlgError:
        return None
    return np.linalg.inv(sub)


def wald_on_log(log_value: float, log_se: float) -> ParameterEstimate:
    """A positive parameter's estimate and its interval ``exp(log θ̂ ± z·se)``; se by the delta method.

    An interval wider than a factor of :data:`MAX_SPAN` either way says the data
    do not pin the parameter down: it is reported as not identified.
    """
    if not (math.isfinite(log_se) and Z95 * log_se <= math.log(MAX_SPAN)):
        return ParameterEstimate.unidentified()
    value = math.exp(log_value)
    return ParameterEstimate(estimate=value, std_error=value * log_se,
                             ci_low=math.exp(log_value - Z95 * log_se), ci_high=math.exp(log_value + Z95 * log_se),
                             identified=True)


def smallest_share_estimate(shares: np.ndarray, slack: np.ndarray | None = None) -> ParameterEstimate:
    """``r_min`` of Uniform[r_min, 1] shares: the smallest share seen, with its exact one-sided 95 % interval.

    With m the smallest of n shares, P(m ≤ x) = 1 − ((1 − x)/(1 − r_min))ⁿ, so
    (m − r_min)/(1 − r_min) has the Beta(1, n) law; its 95 % point
    u = 1 − 0.05^{1/n} gives r_min ≥ (m − u)/(1 − u), and r_min ≤ m always.
    The standard error is that of m: (1 − m)·√n/((n + 1)·√(n + 2)). ``slack``
    is how far rounding may have moved each share: the interval is widened by
    the smallest share's, so that it still covers.
    """
    n = int(shares.size)
    if n < 2:
        return ParameterEstimate.unidentified()
    at = int(np.argmin(shares))
    m = float(shares[at])
    if m >= 1.0:
        return ParameterEstimate.unidentified()
    eps = float(slack[at]) if slack is not None else 0.0
    u = 1.0 - (1.0 - LEVEL) ** (1.0 / n)
    low = max((m - eps - u) / (1.0 - u), 0.0)
    se = (1.0 - m) * math.sqrt(n) / ((n + 1) * math.sqrt(n + 2))
    return ParameterEstimate(estimate=m, std_error=se, ci_low=low, ci_high=min(m + eps, 1.0), identified=True)


def wilson(share: float, n: float) -> ParameterEstimate:
    """A proportion's estimate with its Wilson score interval (inside [0, 1] always, unlike Wald's).

    ``n`` may be an effective number of observations (fewer than were seen when some of them were
    ambiguous between kinds: :func:`sim.calibration.card._effective_counts`).
    """
    if n <= 0 or not math.isfinite(share):
        return ParameterEstimate.unidentified()
    share, n = float(share), float(n)  # plain floats: they are written into TOML and JSON as they are
    z2 = Z95 * Z95
    centre = (share + z2 / (2 * n)) / (1 + z2 / n)
    half = Z95 * math.sqrt(share * (1 - share) / n + z2 / (4 * n * n)) / (1 + z2 / n)
    return ParameterEstimate(estimate=share, std_error=math.sqrt(share * (1 - share) / n),
                             ci_low=max(centre - half, 0.0), ci_high=min(centre + half, 1.0), identified=True)
