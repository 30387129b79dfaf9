"""Maximum likelihood for the CGW repayment process (``model = "cgw"``), over all accounts at once.

Each account's intensity is λ(t) = λ∞ + X(t): the excess X starts at
x₀ = λ0 − λ∞ when the account is first observed (the engine clamps a
negative excess to zero, so λ0 below λ∞ cannot be told from λ0 = λ∞),
decays at rate κ, and jumps by δ10 + δ11·r at every repayment of share r and
at every kept promise or instalment (which the engine excites the same way).
Over an account's observed window [s, e] (right-censored at pay-off,
charge-off, filing or the window's end) the log-likelihood is

    Σ log λ(tᵢ⁻) − ∫ₛᵉ λ(t) dt,        ∫ X dt = (x₀ + Σ jumps − X(e)) / κ

(Ogata 1978). A receipt known only by its date is a day-interval: the
probability of its k repayments in that day, ∫…∫ Π λ(uᵢ⁻) e^{−Λ_d} du over
their ordered times, is taken at one point of the day, the times placed
evenly ((i + 1)/(k + 1); k = 1: noon), with volume 1/k!. Λ_d, the compensator
of the day, includes their own jumps, so a repayment's excitation of the rest
of its day counts both ways; with a constant intensity this is exactly the
Poisson probability Λ_dᵏ e^{−Λ_d}/k!. Nothing is put at midnight. A lone
repayment's day also gets the next term of that integral's expansion about
noon (:func:`_spread_in_day`), and a dated pay-off ends its account's window
at its placed time, not at the day's end (:func:`_dated_payoff_ends`).

The shares r ~ Uniform[r_min, 1] add −log(1 − r_min) a repayment and are fitted
apart (:func:`~.estimates.smallest_share_estimate`). The timing parameters are
fitted on the log scale (positive by construction) with ``scipy.optimize``.
The recursion over events runs by rank: the k-th event of every account at
once, so the cost is one pass of vector work over the events.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize
from scipy.special import gammaln

from ..domain import PaymentKind
from .balance_paths import CENT_TOLERANCE, BalancePaths
from .estimates import (
    ParameterEstimate,
    log_scale_covariance,
    numerical_hessian,
    smallest_share_estimate,
    wald_on_log,
)
from .history_files import Receipts
from .treatment_lifts import Lifts

TIMING = ("lambda_inf", "excess0", "kappa", "delta10", "delta11")  # the fitted log-parameters, in order
PARAMETERS = ("lambda0", "lambda_inf", "kappa", "delta10", "delta11", "r_min")  # as [behavior] names them
LOG_BOUNDS = (-25.0, 6.0)  # e^-25 ≈ 1e-11 a day is "none"; e^6 ≈ 400 a day is more than anyone pays
MIN_REPAYMENTS = 10  # fewer repayments than this identify nothing
SHARE_BALANCE_FLOOR = 100.0  # shares of smaller balances are too coarse after rounding to the cent
CENT_SLACK = 0.015  # how far rounding to the cent may move one amount


@dataclass(frozen=True)
class CgwData:
    """The events and windows the likelihood reads; events sorted by account then time."""

    account: np.ndarray  # per event: account position
    time: np.ndarray  # per event: days since the start (a dated one placed within its day)
    share: np.ndarray  # per event: the share r of the balance it paid (drives the jump)
    known_jump: np.ndarray  # per event: a contact's lift (its jump is known); 0 for a receipt
    receipt: np.ndarray  # per event: a receipt, whose jump is δ10 + δ11·r
    balance_before: np.ndarray  # per event: the balance it found
    point: np.ndarray  # per event: a repayment of the process (kept promises only jump)
    dated: np.ndarray  # per event: known only by its date
    day_first: np.ndarray  # per event: the first event of its account's dated day (itself if timed)
    day_count: np.ndarray  # per event: how many dated repayments its account made that day
    start: np.ndarray  # per observed account: when its window opens
    end: np.ndarray  # per observed account: when it closes
    by_rank: tuple[np.ndarray, ...]  # event indices of rank 0, 1, 2, … within their account
    accounts: int  # accounts observed

    @property
    def repayments(self) -> int:
        return int(self.point.sum())

    def measured_shares(self) -> tuple[np.ndarray, np.ndarray]:
        """The repayments' shares that the cent rounding leaves precise, and how far rounding may move each.

        An amount is off by at most a cent and a half (rounding carried over an
        account's receipts, a sub-cent residue folded into the last), so a
        share of a balance under :data:`SHARE_BALANCE_FLOOR` is left out; the
        share does not depend on the balance, so leaving them out biases nothing.
        """
        usable = self.point & (self.balance_before >= SHARE_BALANCE_FLOOR)
        return self.share[usable], CENT_SLACK / self.balance_before[usable]


def prepare(receipts: Receipts, paths: BalancePaths, lifts: Lifts | None = None) -> CgwData:
    """The likelihood's events: receipts inside each account's window that excite the intensity,
    and the contacts' lifts (known jumps at the end of their day)."""
    observed = paths.observed_until > paths.observed_from
    renumber = np.cumsum(observed) - 1
    jumps = paths.in_window & observed[receipts.position] & (receipts.kind != PaymentKind.LEGAL)
    account = renumber[receipts.position[jumps]]
    time = receipts.time[jumps].copy()
    dated = receipts.dated[jumps]
    point = receipts.kind[jumps] == PaymentKind.PAYMENT
    day = np.floor(time).astype(np.int64)
    # Dated repayments of one account and day: a group of k, placed at the day's (j+1)/(k+1).
    key = np.where(dated & point, account * 1_000_000 + day, -1 - np.arange(time.size))
    first = np.r_[True, key[1:] != key[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    size = np.diff(np.r_[starts, time.size])
    rank_in_day = np.arange(time.size) - starts[group]
    placed = dated & point
    time[placed] = day[placed] + (rank_in_day[placed] + 1.0) / (size[group][placed] + 1.0)
    share, balance_before = paths.share[jumps], paths.balance_before[jumps]
    first_index, count = starts[group], size[group]
    until = _dated_payoff_ends(paths, account, time, placed, observed)
    known = np.zeros(time.size)
    if lifts is not None and lifts.position.size:
        inside = observed[lifts.position] & (lifts.time <= until[lifts.position])
        m = int(inside.sum())
        account = np.r_[account, renumber[lifts.position[inside]]]
        time = np.r_[time, lifts.time[inside]]
        dated, point = np.r_[dated, np.zeros(m, bool)], np.r_[point, np.zeros(m, bool)]
        share, balance_before = np.r_[share, np.zeros(m)], np.r_[balance_before, np.zeros(m)]
        first_index = np.r_[first_index, np.arange(first_index.size, first_index.size + m)]
        count, known = np.r_[count, np.ones(m, count.dtype)], np.r_[known, lifts.size[inside]]
    # Placing can reorder a dated day against a timed instalment; a lift at midnight goes before that second.
    order = np.lexsort((known == 0, time, account))
    account, time, dated, point = account[order], time[order], dated[order], point[order]
    share, balance_before = share[order], balance_before[order]
    first_index, count, known = first_index[order], count[order], known[order]
    inverse = np.empty_like(order)
    inverse[order] = np.arange(order.size)
    day_first = np.where(dated & point, inverse[first_index], np.arange(order.size))
    new = np.r_[True, account[1:] != account[:-1]]
    rank = np.arange(account.size) - np.flatnonzero(new)[np.cumsum(new) - 1]
    # Events grouped by rank in one sort (an account with thousands of receipts costs no more).
    by_rank = tuple(np.split(np.argsort(rank, kind="stable"), np.cumsum(np.bincount(rank))[:-1])) \
        if rank.size else ()
    return CgwData(account=account, time=time, share=share, known_jump=known, receipt=known == 0,
                   balance_before=balance_before, point=point, dated=dated & point,
                   day_first=day_first, day_count=count, start=paths.observed_from[observed],
                   end=until[observed], by_rank=by_rank, accounts=int(observed.sum()))


def _dated_payoff_ends(paths: BalancePaths, account: np.ndarray, time: np.ndarray, placed: np.ndarray,
                       observed: np.ndarray) -> np.ndarray:
    """Each account's window end, a pay-off known only by its date ending at the pay-off's placed time.

    The book closes a dated pay-off at the end of its day; but the account left when it paid, so the
    day's probability is ∫ λ(u) e^{−Λ(s, u)} du with nothing after u: counting the rest of the day (and
    the pay-off's own jump in it) as time in which it did not pay again biased κ by −1 % and δ11 by
    −2 % on the log scale against the same histories with date-times (the 2,000-account recovery study).
    """
    until = paths.observed_until.copy()
    if account.size == 0 or not isinstance(paths, BalancePaths) or not placed.any():
        return until  # the card fit's episodes (not BalancePaths) count their exposure by whole days
    paid_off = ~paths.active_at_end & (paths.at_end.balance < CENT_TOLERANCE)
    last = np.r_[account[1:] != account[:-1], True]  # each account's last receipt (sorted by account, time)
    position = np.flatnonzero(observed)[account[last]]
    closes = placed[last] & paid_off[position] & (np.floor(time[last]) + 1.0 == until[position])
    until[position[closes]] = time[last][closes]
    return until


def excess_before(data: CgwData, excess0: float, kappa: float, d10: float, d11: float):
    """X(tᵢ⁻) at every event, and X at each account's window end, by the recursion over ranks."""
    state = np.full(data.accounts, excess0)
    last = data.start.copy()
    before = np.empty(data.time.size)
    jump = np.where(data.receipt, d10 + d11 * data.share, data.known_jump)
    for idx in data.by_rank:
        a = data.account[idx]
        before[idx] = state[a] * np.exp(-kappa * (data.time[idx] - last[a]))
        state[a] = before[idx] + jump[idx]
        last[a] = data.time[idx]
    return before, state * np.exp(-kappa * (data.end - last)), jump


def log_likelihood(theta: np.ndarray, data: CgwData) -> float:
    """The timing log-likelihood at log-parameters ``theta`` (order :data:`TIMING`)."""
    lam_inf, excess0, kappa, d10, d11 = np.exp(theta)
    before, at_end, jump = excess_before(data, excess0, kappa, d10, d11)
    injected = excess0 * data.accounts + jump.sum()
    compensator = lam_inf * float((data.end - data.start).sum()) + (injected - at_end.sum()) / kappa
    timed = data.point & ~data.dated
    value = float(np.log(lam_inf + before[timed]).sum()) - compensator
    dated = data.dated
    if dated.any():
        value += _dated_days(data, before, lam_inf) + float(_spread_in_day(data, before, jump, lam_inf, kappa).sum())
    return value


def account_log_likelihoods(theta: np.ndarray, data: CgwData) -> np.ndarray:
    """Each observed account's term of :func:`log_likelihood` (they sum to it): the accounts are independent,
    so the spread of their scores is what a robust (sandwich) covariance reads (:mod:`.contact_fit`)."""
    lam_inf, excess0, kappa, d10, d11 = np.exp(theta)
    before, at_end, jump = excess_before(data, excess0, kappa, d10, d11)
    n = data.accounts
    injected = excess0 + np.bincount(data.account, weights=jump, minlength=n)
    value = -lam_inf * (data.end - data.start) - (injected - at_end) / kappa
    points = data.point  # timed and dated repayments alike: log λ at the (placed) time
    value += np.bincount(data.account[points], weights=np.log(lam_inf + before[points]), minlength=n)
    dated = data.dated
    if dated.any():
        firsts = np.flatnonzero(dated)[data.day_first[dated] == np.flatnonzero(dated)]
        value -= np.bincount(data.account[firsts], weights=gammaln(data.day_count[firsts] + 1.0), minlength=n)
        value += np.bincount(data.account, weights=_spread_in_day(data, before, jump, lam_inf, kappa), minlength=n)
    return value


def _spread_in_day(data: CgwData, before: np.ndarray, jump: np.ndarray, lam_inf: float, kappa: float) -> np.ndarray:
    """Per event: the second-order term of a lone dated repayment's day integral (0 for the others).

    Its time u is unknown within the day (uniform a priori, variance 1/12); the likelihood is
    ∫ e^{ℓ(u)} du, which placing it at noon takes as e^{ℓ(½)}. The next term of the expansion,
    ℓ''/24 + log(sinh(ℓ'/2)/(ℓ'/2)) (≈ (ℓ'' + ℓ'²)/24) with ℓ's derivatives in u at the placed time (the
    others' times held), is added:
    without it κ came out 0.7 % low on the log scale against the same histories with date-times
    (0.2 standard errors), and its interval covered 91.5 % of 1,000 seeds. Days with several
    repayments are few and left as placed (they moved κ by 0.08 %).

    ℓ depends on u through log λ(u⁻) (the excess decaying to it), the jump's compensator up to the
    window's end e, and the jump's share c_j = J e^{−κ(t_j − u)} in each later repayment's log λ(t_j);
    for a pay-off e = u: the compensator of the account's whole stay grows with it instead.
    """
    lam = lam_inf + before
    n = data.time.size
    s1, s2 = np.zeros(n), np.zeros(n)  # Σ_{later j} e^{−κ(t_j − tᵢ)} / λ_j and Σ e^{−2κ(t_j − tᵢ)} / λ_j²
    following = np.r_[data.account[1:] == data.account[:-1], False]
    nxt = np.minimum(np.arange(n) + 1, n - 1)
    inv = np.where(data.point, 1.0 / lam, 0.0)
    for idx in reversed(data.by_rank):
        on = idx[following[idx]]
        k = nxt[on]
        decay = np.exp(-kappa * (data.time[k] - data.time[on]))
        s1[on] = decay * (inv[k] + s1[k])
        s2[on] = decay * decay * (inv[k] ** 2 + s2[k])
    lone = data.dated & (data.day_count == 1)
    end = data.end[data.account]
    payoff = lone & (data.time >= end)
    carried = jump * np.exp(-kappa * (end - data.time))  # the jump's excess left at the window's end
    d1 = -kappa * before / lam + carried + kappa * jump * s1
    d2 = kappa**2 * before * lam_inf / lam**2 + kappa * carried + kappa**2 * (jump * s1 - jump**2 * s2)
    d1 = np.where(payoff, -kappa * before / lam - lam, d1)
    d2 = np.where(payoff, kappa**2 * before * lam_inf / lam**2 + kappa * before, d2)
    # log ∫ e^{d1·(u − ½)} du = log(sinh(d1/2)/(d1/2)) ≈ d1²/24 near 0, but only |d1|/2 far out: with d1²/24
    # itself an unlikely point (a large d1 there) gained without bound, and the fit of one seed in 1,000
    # stopped at such a saddle.
    return np.where(lone, _log_sinhc(0.5 * d1) + d2 / 24.0, 0.0)


def _log_sinhc(x: np.ndarray) -> np.ndarray:
    """log(sinh(x)/x), without overflow and exact to rounding near 0."""
    a = np.abs(x)
    small = a < 1e-4
    big = np.where(small, 1.0, a)
    return np.where(small, a * a / 6.0, big + np.log1p(-np.exp(-2.0 * big)) - np.log(2.0 * big))


def _dated_days(data: CgwData, before: np.ndarray, lam_inf: float) -> float:
    """log P(k repayments in a dated day), as the k-fold integral over their times taken at one point.

    P(k in the day) = ∫…∫ Π λ(uᵢ⁻) e^{−Λ} du over ordered times; with the times placed evenly
    ((i + 1)/(k + 1)), each one's intensity includes the jumps before it and Λ the jumps inside the
    day, so a repayment's excitation of the rest of its day is counted both ways (more repayments,
    none after the last), and the ordered simplex has volume 1/k!.
    """
    dated = data.dated
    firsts = data.day_first[dated] == np.flatnonzero(dated)
    return float(np.log(lam_inf + before[dated]).sum()) - float(gammaln(data.day_count[dated][firsts] + 1.0).sum())


def rescaled_increments(theta: np.ndarray, data: CgwData) -> np.ndarray:
    """The gaps of all accounts' rescaled repayments laid end to end: i.i.d. Exp(1) if the model is right.

    Each account's repayments, at their compensator values Λ(tᵢ), form a unit
    Poisson process on [0, Λ(e)], stopped at its window's end (a stopping
    time: pay-off, charge-off, filing or the window's end). Laid end to end,
    the accounts make one unit Poisson process, whose gaps are Exp(1). Taking
    only the gaps between an account's own repayments would be biased short
    by the censoring. Accounts with a dated repayment are left out (their
    times within the day are unknown).
    """
    lam_inf, excess0, kappa, d10, d11 = np.exp(theta)
    return rescaled_from(data, excess0, kappa, d10, d11, lam_inf * (data.time - data.start[data.account]),
                         lam_inf * (data.end - data.start))


def rescaled_from(data: CgwData, excess0: float, kappa: float, d10: float, d11: float,
                  floor_to_event: np.ndarray, floor_total: np.ndarray) -> np.ndarray:
    """:func:`rescaled_increments` given the floor's integral from each account's start to each event and
    over its whole window (a constant λ∞ here; floors by bucket and day under the card model)."""
    before, at_end, jump = excess_before(data, excess0, kappa, d10, d11)
    new = np.r_[True, data.account[1:] != data.account[:-1]]
    starts = np.flatnonzero(new)
    group = np.cumsum(new) - 1
    jumped = np.cumsum(jump) - jump  # jumps before each event, over all accounts …
    jumped -= jumped[starts][group]  # … then within its account only
    level = floor_to_event + (excess0 + jumped - before) / kappa
    all_jumps = np.bincount(data.account, weights=jump, minlength=data.accounts)
    total = floor_total + (excess0 + all_jumps - at_end) / kappa
    has_dated = np.zeros(data.accounts, dtype=bool)
    has_dated[data.account[data.dated]] = True
    offset = np.cumsum(np.where(has_dated, 0.0, total)) - np.where(has_dated, 0.0, total)
    keep = data.point & ~has_dated[data.account]
    rescaled = level[keep] + offset[data.account[keep]]
    if rescaled.size == 0:
        return rescaled
    return np.diff(np.sort(rescaled), prepend=0.0)


def starting_point(data: CgwData) -> np.ndarray:
    exposure = float((data.end - data.start).sum())
    rate = max(data.repayments / max(exposure, 1e-9), 1e-6)
    return np.log(np.array([0.7 * rate, rate, 0.1, 0.3 * rate, 0.3 * rate]))


@dataclass(frozen=True)
class CgwFit:
    """The fitted process: the estimates by ``[behavior]`` name, and what the goodness-of-fit needs."""

    theta: np.ndarray
    log_likelihood: float  # timing plus shares
    parameters: dict[str, ParameterEstimate]
    shares: np.ndarray  # the repayments' shares
    converged: bool
    covariance: np.ndarray | None = None  # of the log-parameters (TIMING order); NaN rows for those on a bound


def fit(data: CgwData) -> CgwFit:
    """Maximise the likelihood; intervals from the observed information, ``r_min`` exactly."""
    shares, slack = data.measured_shares()
    r_min = smallest_share_estimate(shares, slack)
    if data.repayments < MIN_REPAYMENTS:
        nothing = {name: ParameterEstimate.unidentified() for name in PARAMETERS}
        return CgwFit(theta=np.full(5, np.nan), log_likelihood=float("nan"), parameters=nothing, shares=shares,
                      converged=False)
    scale = 1.0 / max(data.accounts, 1)

    def objective(theta: np.ndarray) -> float:
        return -log_likelihood(theta, data) * scale

    result = optimize.minimize(objective, starting_point(data), method="L-BFGS-B",
                               bounds=[LOG_BOUNDS] * 5, options={"maxiter": 500, "ftol": 1e-13, "gtol": 1e-9})
    theta = result.x
    hessian = numerical_hessian(objective, theta) / scale
    on_bound = (theta <= LOG_BOUNDS[0] + 0.5) | (theta >= LOG_BOUNDS[1] - 0.5)
    covariance = log_scale_covariance(hessian, ~on_bound)
    full = _full_covariance(on_bound, covariance)
    parameters = _estimates(theta, on_bound, full)
    parameters["r_min"] = r_min
    marks = -shares.size * math.log1p(-r_min.estimate) if r_min.estimate is not None else 0.0
    return CgwFit(theta=theta, log_likelihood=-result.fun / scale + marks, parameters=parameters,
                  shares=shares, converged=bool(result.success), covariance=full)


def _full_covariance(on_bound: np.ndarray, covariance: np.ndarray | None) -> np.ndarray | None:
    """The regular parameters' covariance in a 5 × 5 matrix; rows of parameters on a bound are NaN."""
    if covariance is None:
        return None
    full = np.full((5, 5), np.nan)
    regular = np.flatnonzero(~on_bound)
    full[np.ix_(regular, regular)] = covariance
    return full


def _estimates(theta: np.ndarray, on_bound: np.ndarray, full: np.ndarray | None) -> dict[str, ParameterEstimate]:
    """Each timing parameter's estimate; λ0 = λ∞ + x₀ by the delta method on the log scale."""
    out = {name: ParameterEstimate.unidentified() for name in ("lambda0", "lambda_inf", "kappa", "delta10", "delta11")}
    if full is None:
        return out
    for k, name in enumerate(TIMING):
        if name != "excess0" and not on_bound[k] and full[k, k] > 0:
            out[name] = wald_on_log(float(theta[k]), math.sqrt(full[k, k]))
    if not on_bound[0] and not on_bound[1]:
        lam_inf, excess0 = math.exp(theta[0]), math.exp(theta[1])
        lam0 = lam_inf + excess0
        gradient = np.array([lam_inf / lam0, excess0 / lam0])  # d log λ0 / d (log λ∞, log x₀)
        variance = float(gradient @ full[:2, :2] @ gradient)
        if variance > 0:
            out["lambda0"] = wald_on_log(math.log(lam0), math.sqrt(variance))
    return out
