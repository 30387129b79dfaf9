"""What the contact log identifies: each channel's lift, fitted jointly with the repayment process.

In the engine a contact raises the repayment intensity, from the end of its
day, by its channel's lift (``[behavior.lift]``) damped by fatigue
(:mod:`.treatment_lifts`). The log gives every contact's account, day,
channel and whether it reached the borrower, so each contact is a jump of
the intensity at a known time whose size is a known combination of the
lifts: ``design[row] @ lifts``. The lifts are then parameters of the same
Ogata likelihood as λ∞, κ, δ10 and δ11 (:mod:`.cgw`): fitted together on the
log scale, each lift with its profile-likelihood interval (the others
re-maximised, :class:`_Profile`), so that what a lift cannot be told apart
from (the base rate, the decay, a channel always sent with another) widens
its interval instead of biasing it, and its skew is the likelihood's, not a
normal approximation's.

A lift is fitted when at least :data:`MIN_CONTACTS` contacts inside the
accounts' observed windows give it; with fewer (a channel the lender does
not use) it is ``"identified": false`` and held at the base's value in the
likelihood. A lift whose maximum is at 0 (its likelihood flat from its
estimate down to 0, :func:`.estimates.flat_toward_zero`) is on the boundary:
estimate 0, held there for the others' information, with a one-sided profile
interval; one so near 0 that its log-scale interval would span more than the
identification limit gets its profile interval from 0 too
(:meth:`_Profile.near_zero`). Either is "not identified" only if that
interval never closes below :data:`~.estimates.MAX_SPAN` times the base's lift.
The right-party rate by hour is :mod:`.contact_fit_reach`'s.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
from scipy import optimize

from ..domain import MINUTES_PER_DAY
from ..engine.replay import LoggedContacts
from ..scenario import BehaviorSection
from . import cgw
from .balance_paths import BalancePaths
from .estimates import (
    CHI2_95_HALF,
    MAX_SPAN,
    Z95,
    ParameterEstimate,
    flat_toward_zero,
    log_scale_covariance,
    numerical_hessian,
    wald_on_log,
)
from .history_files import Contacts, Receipts
from .treatment_lifts import FITTED_LIFTS, ContactTiming, base_lifts, contact_rows

MIN_CONTACTS = 10  # contacts giving a lift, inside the observed windows, for it to be fitted
# A lift worth less log-likelihood than this is held at 0 when the information is singular (a small part of the
# χ²₁ half-point 1.92: holding it at 0 moves no interval end by anything the data could see).
NEAR_ZERO = 0.01
LIFT_NAMES = tuple(f"lift.{key}" for key in FITTED_LIFTS)  # as --set writes them inside [behavior]
TIMING = len(cgw.TIMING)


@dataclasses.dataclass(frozen=True)
class LiftDesign:
    """The likelihood's events with, for every contact event, how much of each lift it gives."""

    data: cgw.CgwData  # known_jump: the base's lifts (replaced at every evaluation)
    design: np.ndarray  # events × FITTED_LIFTS (zero rows for receipts)
    free: np.ndarray  # the lifts fitted (positions in FITTED_LIFTS)
    held: np.ndarray  # the base's lifts, where not fitted
    counts: np.ndarray  # per lift: contacts inside the windows that give it

    def with_lifts(self, lifts: np.ndarray) -> cgw.CgwData:
        """The events with every contact's jump at these lifts (FITTED_LIFTS order)."""
        # Column by column over the lifts some contact gives (a matrix product goes through a BLAS that
        # spins its threads on a busy machine: twenty times slower here).
        jump = np.zeros(self.design.shape[0])
        for k in np.flatnonzero(self.counts).tolist():
            jump += self.design[:, k] * lifts[k]
        return dataclasses.replace(self.data, known_jump=jump)

    def lifts(self, log_free: np.ndarray) -> np.ndarray:
        values = self.held.copy()
        values[self.free] = np.exp(log_free)
        return values


def prepare(receipts: Receipts, paths: BalancePaths, contacts: Contacts, behavior: BehaviorSection,
            hardening: float = 0.0, timing: ContactTiming | None = None) -> LiftDesign:
    """The events of :func:`cgw.prepare` with each contact event's row of the lift design
    (``timing``: :func:`.treatment_lifts.lift_design`)."""
    traced, rows_design = contact_rows(contacts, behavior, hardening, timing)
    data = cgw.prepare(receipts, paths, traced)
    design = np.zeros((data.time.size, len(FITTED_LIFTS)))
    known = ~data.receipt
    design[known] = rows_design[np.rint(data.known_jump[known]).astype(np.int64) - 1]
    counts = (design > 0).sum(axis=0)
    free = np.flatnonzero(counts >= MIN_CONTACTS)
    held = base_lifts(behavior)
    prepared = LiftDesign(data=data, design=np.asfortranarray(design), free=free, held=held, counts=counts)
    return dataclasses.replace(prepared, data=prepared.with_lifts(held))


@dataclasses.dataclass(frozen=True)
class LiftFit:
    """The CGW fit with the lifts: the timing part as :func:`cgw.fit` returns it, the lifts beside it."""

    timing: cgw.CgwFit  # theta and covariance: the five timing log-parameters only
    data: cgw.CgwData  # the events with the contacts' jumps at the fitted lifts
    lifts: np.ndarray  # FITTED_LIFTS order: fitted where free, the base's elsewhere
    parameters: dict[str, ParameterEstimate]  # lift.KEY


def fit_cgw(prepared: LiftDesign) -> LiftFit:
    """Maximise the CGW likelihood over the timing parameters and the free lifts together."""
    data, free = prepared.data, prepared.free
    if data.repayments < cgw.MIN_REPAYMENTS or free.size == 0:
        timing = cgw.fit(data)
        return LiftFit(timing, data, prepared.held, _lift_estimates(prepared, None, None))
    scale = 1.0 / max(data.accounts, 1)

    def objective(theta: np.ndarray) -> float:
        events = prepared.with_lifts(prepared.lifts(theta[TIMING:]))
        return -cgw.log_likelihood(theta[:TIMING], events) * scale

    start = cgw.starting_point(data)
    rate = math.exp(start[0])
    start = np.r_[start, np.log(np.maximum(prepared.held[free], 0.5 * rate))]
    k = start.size
    result = optimize.minimize(objective, start, method="L-BFGS-B", bounds=[cgw.LOG_BOUNDS] * k,
                               options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9})
    theta = result.x.copy()
    on_bound = (theta <= cgw.LOG_BOUNDS[0] + 0.5) | (theta >= cgw.LOG_BOUNDS[1] - 0.5)
    # A lift whose maximum is at 0 stops wherever its likelihood goes flat, often far above the bound (the
    # observed information there is singular, and every interval of the fit was lost with it): it is on the
    # boundary, estimate 0, held there for the rest's information, with a one-sided profile interval
    # (the card fit's rule, estimates.flat_toward_zero). Counting those fits matters: the 6 e-mail fits of 200
    # left out as "not identified" had their maxima at or near 0, the low tail where an interval misses
    # (seed 171's, at 0 now, is [0, 0.0029] against a truth of 0.004).
    at_zero = flat_toward_zero(lambda t: -objective(t) / scale, theta, cgw.LOG_BOUNDS[0])
    at_zero[:TIMING] = False  # the timing's own bounds are cgw's (κ at 0 is no process)
    theta[at_zero] = cgw.LOG_BOUNDS[0]
    on_bound |= at_zero
    hessian = numerical_hessian(objective, theta) / scale
    covariance = log_scale_covariance(hessian, ~on_bound)
    if covariance is None:
        # Still singular: a lift so near 0 (e^-12, e^-14 a day) that its log carries no curvature, though the
        # likelihood is not flat to 1e-6 (seed 171 of 200: e-mail and call_attempt both, every interval lost).
        # Those whose whole value is worth less than NEAR_ZERO of log-likelihood are held at 0 too.
        top = -objective(theta) / scale
        for i in np.flatnonzero(~on_bound[TIMING:]) + TIMING:
            moved = theta.copy()
            moved[i] = cgw.LOG_BOUNDS[0]
            if top + objective(moved) / scale < NEAR_ZERO:
                at_zero[i] = on_bound[i] = True
                theta[i] = cgw.LOG_BOUNDS[0]
        hessian = numerical_hessian(objective, theta) / scale
        covariance = log_scale_covariance(hessian, ~on_bound)
    full = None
    if covariance is not None:
        full = np.full((k, k), np.nan)
        regular = np.flatnonzero(~on_bound)
        full[np.ix_(regular, regular)] = covariance
    lifts = prepared.lifts(theta[TIMING:])
    events = prepared.with_lifts(lifts)
    shares, slack = events.measured_shares()
    timing_parameters = cgw._estimates(theta[:TIMING], on_bound[:TIMING],
                                       None if full is None else full[:TIMING, :TIMING])
    timing_parameters["r_min"] = r_min = cgw.smallest_share_estimate(shares, slack)
    marks = -shares.size * math.log1p(-r_min.estimate) if r_min.estimate is not None else 0.0
    timing = cgw.CgwFit(theta=theta[:TIMING], log_likelihood=-result.fun / scale + marks,
                        parameters=timing_parameters, shares=shares, converged=bool(result.success),
                        covariance=None if full is None else full[:TIMING, :TIMING])
    estimates = _lift_estimates(prepared, theta[TIMING:], full, on_bound)
    if full is not None:
        profile = _Profile(lambda t: objective(t) / scale, theta, hessian, np.flatnonzero(~on_bound))
        for j, key in enumerate(prepared.free):
            wald = estimates[LIFT_NAMES[key]]
            if wald.identified:
                low, high = profile.interval(TIMING + j, math.sqrt(full[TIMING + j, TIMING + j]))
                estimates[LIFT_NAMES[key]] = dataclasses.replace(wald, ci_low=low, ci_high=high)
            elif at_zero[TIMING + j] or not on_bound[TIMING + j]:
                # At 0, or so near it that its log-scale interval spans more than MAX_SPAN (e^-8 a day where
                # the truth was 0.005: 13 of 200 seeds' call_attempt, left out as not identified): the
                # natural-scale profile interval from 0 says what the data do.
                estimates[LIFT_NAMES[key]] = profile.near_zero(TIMING + j, float(prepared.held[key]))
    return LiftFit(timing, events, lifts, estimates)


class _Profile:
    """A lift's profile-likelihood interval: the lifts v ≥ 0 whose log-likelihood, the other parameters
    re-maximised with the lift held at v, is within χ²₁(95 %)/2 of the maximum.

    Why: a lift is told apart only by the repayments after its contacts, a few dozen per channel in a book of
    a thousand accounts, and ``call_attempt`` only by the calls that missed (a reached call gives it with
    ``right_party_contact``), so their likelihood is skewed: on 200 seeds the log-scale Wald intervals of
    ``call_attempt`` and ``right_party_contact`` covered in 89.1 % and 90.0 %. (Not misspecification: the
    sandwich covariance from the accounts' scores, :func:`account_scores`, matches the observed information
    within a few percent.) The intensity is linear in the lifts, so the profile is searched on their natural
    scale, 0 included.

    Re-maximising: the others start where they move with the lift to first order (the regression of the
    observed information, ``−H_oo⁻¹ H_oj`` per unit of log-lift, taken linearly in v so that v = 0 stays
    finite), then one Newton step with the fit's Hessian and the gradient by central differences; the
    likelihood is close to a parabola in the others, so that is within a small fraction of the 1.92 drop.
    """

    def __init__(self, negative, theta: np.ndarray, hessian: np.ndarray, regular: np.ndarray):
        self.negative, self.theta, self.hessian, self.regular = negative, theta, hessian, regular
        self.top = -negative(theta)

    def log_likelihood(self, j: int, v: float) -> float:
        others = self.regular[self.regular != j]
        h_oo = self.hessian[np.ix_(others, others)]
        held = self.theta.copy()
        held[j] = math.log(v) if v > 0 else -np.inf
        starts = [held]
        if j in self.regular:  # a lift at 0 has no information there to move the others with: Newton alone
            first = held.copy()
            slope = -np.linalg.solve(h_oo, self.hessian[others, j])  # per unit of log-lift at the estimate
            first[others] += slope * (v / math.exp(self.theta[j]) - 1.0)
            starts.insert(0, first)
        best = -math.inf
        for t in starts:
            value, settled = self._climb(t, others, h_oo)
            best = max(best, value)
            if settled:
                break
        return best

    def _climb(self, t: np.ndarray, others: np.ndarray, h_oo: np.ndarray, steps: int = 4) -> tuple[float, bool]:
        """Newton steps in the others (the fit's Hessian, the gradient by central differences) from ``t``,
        while they raise the likelihood: its highest value, and whether the first step was a parabola's (every
        log-parameter moved by less than 0.1; then one step is all it takes).

        A longer step is cut to move no log-parameter by more than 1 and the climb goes on: where another lift
        is near 0 its log barely matters and the first-order start can throw it far (on 200 seeds the 19 whose
        ``call_attempt`` was near 0 held 7 of ``sms``'s 16 misses when such a step was refused outright).
        """
        with np.errstate(over="ignore", invalid="ignore"):
            value = -self.negative(t)
        if not math.isfinite(value):
            return -math.inf, False  # the others pushed out of range: far outside the interval
        h = 1e-4
        for n in range(steps):
            gradient = np.empty(others.size)
            with np.errstate(over="ignore", invalid="ignore"):
                for i, o in enumerate(others):
                    up, down = t.copy(), t.copy()
                    up[o] += h
                    down[o] -= h
                    gradient[i] = (self.negative(up) - self.negative(down)) / (2 * h)
            step = np.linalg.solve(h_oo, gradient)
            if not np.all(np.isfinite(step)):
                return value, False
            biggest = float(np.abs(step).max())
            if biggest > 1.0:
                step = step / biggest
            trial = t.copy()
            trial[others] -= step
            with np.errstate(over="ignore", invalid="ignore"):
                moved = -self.negative(trial)
            if not (math.isfinite(moved) and moved > value):
                return value, False
            t, value = trial, moved
            if biggest < 0.1:
                return value, n == 0
        return value, False

    def interval(self, j: int, log_se: float) -> tuple[float, float]:
        estimate = math.exp(self.theta[j])
        inside = lambda v: self.log_likelihood(j, v) - (self.top - CHI2_95_HALF)  # noqa: E731 (> 0 inside)
        low = 0.0
        guess = estimate * math.exp(-Z95 * log_se)
        if inside(guess) > 0:
            if inside(0.0) < 0:
                low = optimize.brentq(inside, 0.0, guess, rtol=1e-3, xtol=1e-3 * estimate)
        else:
            low = optimize.brentq(inside, guess, estimate, rtol=1e-3, xtol=1e-3 * estimate)
        near, far = estimate, estimate * math.exp(Z95 * log_se)
        while inside(far) > 0:
            near, far = far, far * math.exp(Z95 * log_se)
        high = optimize.brentq(inside, near, far, rtol=1e-3, xtol=1e-3 * estimate)
        return low, high

    def near_zero(self, j: int, scale: float) -> ParameterEstimate:
        """A lift at 0 (on the boundary: estimate 0) or near it: the interval from its estimate down to 0 or to
        where its profile has dropped by χ²₁(95 %)/2, and up to where it has, searched by doubling from
        ``scale`` (the base's lift, or 10⁻³ a day). Not identified if it never closes below
        :data:`~.estimates.MAX_SPAN` times the start."""
        estimate = math.exp(self.theta[j]) if j in self.regular else 0.0
        top = max(self.top, self.log_likelihood(j, estimate))
        inside = lambda v: self.log_likelihood(j, v) - (top - CHI2_95_HALF)  # noqa: E731 (> 0 inside)
        start = max(scale if scale > 0 else 1e-3, 2.0 * estimate)
        low = 0.0
        if estimate > 0 and inside(0.0) < 0:
            low = optimize.brentq(inside, 0.0, estimate, rtol=1e-3, xtol=1e-3 * estimate)
        near, far = estimate, start
        while inside(far) > 0:
            if far > MAX_SPAN * start:
                return ParameterEstimate.unidentified()
            near, far = far, 2.0 * far
        high = optimize.brentq(inside, near, far, rtol=1e-3, xtol=1e-3 * start)
        return ParameterEstimate(estimate=estimate, std_error=(high - low) / (2 * Z95), ci_low=low, ci_high=high,
                                 identified=True)


def account_scores(prepared: LiftDesign, theta: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Per observed account, the gradient of its log-likelihood term in θ (timing and free lifts, log scale),
    by central differences of :func:`cgw.account_log_likelihoods` (2k passes over the events)."""
    def terms(t: np.ndarray) -> np.ndarray:
        return cgw.account_log_likelihoods(t[:TIMING], prepared.with_lifts(prepared.lifts(t[TIMING:])))

    scores = np.empty((prepared.data.accounts, theta.size))
    for j in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[j] += step
        down[j] -= step
        scores[:, j] = (terms(up) - terms(down)) / (2 * step)
    return scores


def _lift_estimates(prepared: LiftDesign, log_free: np.ndarray | None, full: np.ndarray | None,
                    on_bound: np.ndarray | None = None) -> dict[str, ParameterEstimate]:
    out = {name: ParameterEstimate.unidentified() for name in LIFT_NAMES}
    if log_free is None or full is None:
        return out
    for j, key in enumerate(prepared.free):
        at = TIMING + j
        if not on_bound[at] and full[at, at] > 0:
            out[LIFT_NAMES[key]] = wald_on_log(float(log_free[j]), math.sqrt(full[at, at]))
    return out


def fitted_lifts(parameters: dict[str, ParameterEstimate]) -> dict[str, float]:
    """The identified lifts as ``behavior.lift.KEY`` overrides (a backtest runs the engine with them)."""
    return {f"behavior.{name}": p.estimate for name, p in parameters.items()
            if name in LIFT_NAMES and p.identified and p.estimate is not None}


def replay_after(contacts: Contacts | None, active: np.ndarray, fit_days: int,
                 observed_until: np.ndarray | None = None) -> LoggedContacts | None:
    """The contacts of the held-out days to the accounts a backtest runs (``active``: their positions in the
    portfolio, ascending), as the engine's replay reads them: book rows, minutes from day ``fit_days``.

    ``observed_until`` (per portfolio account, over the whole window): when the real account closed; from the
    next day the scenario's strategy works it in the replication (:mod:`sim.engine.replay`).
    """
    if contacts is None:
        return None
    handover = None
    if observed_until is not None:
        handover = np.floor(observed_until[active]).astype(np.int64) + 1 - fit_days
    later = contacts.time >= fit_days
    at = np.minimum(np.searchsorted(active, contacts.position[later]), max(active.size - 1, 0))
    mine = active[at] == contacts.position[later]
    rows = np.flatnonzero(later)[mine]
    outcome = contacts.outcome[rows] if contacts.outcome is not None else np.where(contacts.right_party[rows], 2, -1)
    line = contacts.line[rows] if contacts.line is not None else np.zeros(rows.size, np.int64)
    return LoggedContacts(row=at[mine], minute=(contacts.time[rows] - fit_days) * MINUTES_PER_DAY,
                          channel=contacts.channel[rows], outcome=outcome, line=line, source=contacts.source,
                          handover=handover)
