"""Analytic results the simulator must reproduce in their special cases.

* The expected unpaid balance of the Chehrazi–Glynn–Weber self-exciting
  repayment process without collection actions (DOMAIN.md): with
  α(0) = β(0) = 0,

      α'(t) = −κ·α(t) + E_r[1 − (1 − r)·exp(−(δ10 + δ11·r)·α(t))],   β'(t) = λ∞·α(t),
      E[W(t)] / W(0) = exp(−λ0·α(t) − κ·β(t)),

  and the expected discounted collections
  W(0)·(1 − ρ∫₀^∞ e^{−ρt}·exp(−λ0·α(t) − κ·β(t)) dt).
* The probability that an account with a constant daily hazard h pays at least
  once within d days: 1 − exp(−h·d).
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import quad, solve_ivp


def _expected_term(alpha: float, delta10: float, delta11: float, r_min: float) -> float:
    """E_r[1 − (1 − r)·exp(−(δ10 + δ11·r)·α)] for r ~ Uniform[r_min, 1]."""
    if r_min >= 1.0:
        return 1.0
    value, _ = quad(lambda r: 1.0 - (1.0 - r) * np.exp(-(delta10 + delta11 * r) * alpha), r_min, 1.0)
    return value / (1.0 - r_min)


def cgw_expected_balance_ratio(times, *, lambda0: float, lambda_inf: float, kappa: float,
                               delta10: float, delta11: float, r_min: float) -> np.ndarray:
    """E[W(t)]/W(0) at the given times (same time unit as the rates)."""
    times = np.atleast_1d(np.asarray(times, dtype=float))

    def rhs(_t, y):
        alpha = y[0]
        return [-kappa * alpha + _expected_term(alpha, delta10, delta11, r_min), lambda_inf * alpha]

    horizon = float(times.max())
    solution = solve_ivp(rhs, (0.0, horizon), [0.0, 0.0], t_eval=np.sort(times), rtol=1e-10, atol=1e-12)
    order = np.argsort(np.argsort(times))
    alpha, beta = solution.y[0][order], solution.y[1][order]
    return np.exp(-lambda0 * alpha - kappa * beta)


def cgw_expected_discounted_collections(*, lambda0: float, lambda_inf: float, kappa: float, delta10: float,
                                        delta11: float, r_min: float, rate: float, horizon: float) -> float:
    """Expected discounted collections per unit of balance, E[∫e^{−ρt} dC]/W(0), up to ``horizon``.

    Integrating by parts: ∫₀^T e^{−ρt} d(1 − m(t)) = 1 − e^{−ρT}m(T) − ρ∫₀^T e^{−ρt} m(t) dt,
    with m(t) = E[W(t)]/W(0).
    """
    grid = np.linspace(0.0, horizon, 2001)
    m = cgw_expected_balance_ratio(grid, lambda0=lambda0, lambda_inf=lambda_inf, kappa=kappa,
                                   delta10=delta10, delta11=delta11, r_min=r_min)
    integral = np.trapezoid(np.exp(-rate * grid) * m, grid)
    return float(1.0 - np.exp(-rate * horizon) * m[-1] - rate * integral)


def constant_hazard_payment_probability(hazard: float, days: float) -> float:
    return float(1.0 - np.exp(-hazard * days))
