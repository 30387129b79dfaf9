"""Maximum likelihood for the card borrower model (``model = "card"``): timing, payment choice, re-default.

*Timing.* The card model keeps hawkes' self-exciting process: an account in
collection repays at λ(t) = floor(bucket, segment) + X(t), the floor
``base_intensity[bucket] × segment_multiplier[segment]`` (moving at the day's
end as the account ages, rolls back or cures), X starting at 0, decaying at
κ and jumping by δ10 + δ11·r at every repayment and kept promise (r the
share of the balance it paid) and by each contact's lift. Over each episode
in collection (:mod:`.card_paths`) the log-likelihood is Ogata's
Σ log λ(tᵢ⁻) − ∫ λ dt; the floor's integral is Σ floor·exposure by bucket and
segment, X's is the CGW one (the recursion of :func:`.cgw.excess_before`,
episodes as accounts, dated receipts as day intervals by :func:`.cgw.prepare`).
One segment's multiplier is held at the base's (the floors are a product: only
their ratios are told apart); the others and the floors are fitted on the log
scale, with Wald intervals from the observed information. With a contact log
each contact's jump is its row's design (which lifts it gives, fatigue
included: :mod:`.treatment_lifts`) times the lifts, and the lifts a log
gives often enough (``lift.KEY``) are parameters of the same likelihood, as
under cgw (:mod:`.contact_fit`); the others are held at the base's and
reported not identified.

*Payment choice.* Each repayment is classified from the rebuilt statement
(:mod:`.card_paths`): one minimum, the past-due amount, part of a minimum, the
whole balance, or, where those amounts coincide (a book opened one minimum
behind), any of them. The probabilities by bucket are a multinomial fitted by
EM over the ambiguous ones; each gets its profile-likelihood interval (the
others re-maximised by EM with it held), which stays in [0, 1] (a Wald
interval does not near 0) and reads the ambiguous ones' weaker information
from the likelihood itself. The base's multipliers (segment,
contact, promise) are taken as 1 by this fit: they are reported as not
identified, and books whose multipliers are not 1 bias the shares.

*Re-default.* Every statement day a cured account is watched is a trial, a
re-default seen an event (right-censored at the window's end): the monthly
rate by segment is events / trials, with a Wilson interval, reported only
with a contact log (without one most re-defaults are invisible).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace

import numpy as np
from scipy import optimize
from scipy.special import gammaln

from ..domain import DELINQUENT_BUCKETS, PaymentKind
from ..scenario import PAYMENT_CHOICES
from . import cgw
from .card_paths import KINDS, CardPaths
from .estimates import (
    CHI2_95_HALF,
    Z95,
    ParameterEstimate,
    flat_toward_zero,
    hessian_from_gradient,
    log_scale_covariance,
    wald_on_log,
    wilson,
)
from .history_files import Receipts
from .treatment_lifts import FITTED_LIFTS, Lifts

LIFT_NAMES = tuple(f"lift.{key}" for key in FITTED_LIFTS)  # as --set writes them inside [behavior]
MIN_CONTACTS = 10  # contacts giving a lift, inside the episodes, for it to be fitted (as under cgw)

BUCKETS = len(DELINQUENT_BUCKETS)
MIN_EVENTS = 10  # fewer repayments than this in a cell identify nothing
MIN_TRIALS = 10  # cured statement days watched, for a re-default rate
MAX_RATE = 100.0  # the schema's largest rate a day: a δ11 interval still open there is not identified


@dataclass(frozen=True)
class _Spells:
    """Receipts and lifts re-indexed by episode: the shapes :func:`cgw.prepare` reads."""

    position: np.ndarray
    time: np.ndarray
    dated: np.ndarray
    kind: np.ndarray
    observed_from: np.ndarray
    observed_until: np.ndarray
    in_window: np.ndarray
    share: np.ndarray
    balance_before: np.ndarray


@dataclass(frozen=True)
class CardData:
    events: cgw.CgwData  # episodes as the likelihood's accounts
    cell: np.ndarray  # per event: (bucket − 1) × segments + segment of the floor it found
    exposure: np.ndarray  # (buckets × segments,) days in collection in each cell
    segments: int
    free: np.ndarray  # the fitted log-parameters' positions among buckets + segments (the others held)
    held_multiplier: np.ndarray  # per segment: the base's multiplier (used where not fitted)
    reference: int  # the segment whose multiplier is held
    walk: _Walk | None = None  # what the excitation's recursion reads, gathered once (not per likelihood)
    # With a contact log: per event, how much of each lift (FITTED_LIFTS order, fatigue included) it gives
    # (zero rows for receipts); the lifts fitted (positions in FITTED_LIFTS) and the base's values of the others.
    lift_design: np.ndarray | None = None
    lift_free: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    lift_held: np.ndarray = field(default_factory=lambda: np.zeros(len(FITTED_LIFTS)))

    @property
    def timing_size(self) -> int:
        """θ's entries before the lifts: the free floors and multipliers, κ, δ10, δ11."""
        return self.free.size + 3


@dataclass(frozen=True)
class _Walk:
    """The events by rank with what does not depend on the parameters, gathered once for every likelihood.

    Per rank: the events' accounts, the gaps since their account's last event, receipt (1.0/0.0), share (0 for
    a contact), known jump (a contact's lift), and which of them are repayments (``pick``) with their place
    among the repayments (``at``): the recursion keeps X only where the log-likelihood reads it.
    """

    ranks: tuple[tuple[np.ndarray, ...], ...]  # (account, gap, receipt, share, known, pick, at, lift rows) per rank
    end_gap: np.ndarray  # per episode: from its last event to its end
    receipts: float  # how many receipts jump by δ10 + δ11·r
    shares: float  # the sum of their shares
    known: float  # the sum of the contacts' known jumps (the held lifts' part, with lifts fitted)
    lift_sums: np.ndarray  # per fitted lift: the sum of its design column (the jumps it scales)
    points: int  # repayments
    point_cell: np.ndarray  # per repayment: its cell
    dated_constant: float  # Σ log k! over dated days with k repayments (the day-interval likelihood's)

    @classmethod
    def of(cls, ev: cgw.CgwData, cell: np.ndarray, lift_rows: np.ndarray | None = None,
           held_known: np.ndarray | None = None) -> _Walk:
        """``lift_rows``: per event, the fitted lifts' design columns; ``held_known``: the rest of its known
        jump (the lifts not fitted). Without them every known jump is ``ev.known_jump``."""
        last = ev.start.copy()
        ranks = []
        share = np.where(ev.receipt, ev.share, 0.0)
        receipt = ev.receipt.astype(np.float64)
        place = np.cumsum(ev.point) - 1
        known = ev.known_jump if held_known is None else held_known
        rows = np.zeros((ev.time.size, 0)) if lift_rows is None else lift_rows
        for idx in ev.by_rank:
            acc = ev.account[idx]
            pick = np.flatnonzero(ev.point[idx])
            ranks.append((acc, ev.time[idx] - last[acc], receipt[idx], share[idx], known[idx], pick,
                          place[idx[pick]], rows[idx]))
            last[acc] = ev.time[idx]
        dated = 0.0
        if ev.dated.any():
            firsts = ev.day_first[ev.dated] == np.flatnonzero(ev.dated)
            dated = float(gammaln(ev.day_count[ev.dated][firsts] + 1.0).sum())
        return cls(ranks=tuple(ranks), end_gap=ev.end - last, receipts=float(receipt.sum()),
                   shares=float(share.sum()), known=float(known.sum()), lift_sums=rows.sum(axis=0),
                   points=int(ev.point.sum()),
                   point_cell=cell[ev.point], dated_constant=dated)


def _episode_lifts(lifts: Lifts, paths: CardPaths) -> Lifts:
    """Each lift given to the episode open at its time (lifts outside every episode are dropped)."""
    if lifts.position.size == 0 or paths.episode_account.size == 0:
        return Lifts.none()
    big = float(paths.bucket_by_day.shape[1] + 10)
    order = np.lexsort((paths.episode_from, paths.episode_account))
    keys = paths.episode_account[order] * big + paths.episode_from[order]
    at = np.searchsorted(keys, lifts.position * big + lifts.time, side="right") - 1
    ok = at >= 0
    episode = order[np.maximum(at, 0)]
    ok &= paths.episode_account[episode] == lifts.position
    ok &= lifts.time >= paths.episode_from[episode]
    return Lifts(position=episode[ok], time=lifts.time[ok], size=lifts.size[ok])


def _exposure(paths: CardPaths, segment: np.ndarray, segments: int) -> np.ndarray:
    """Days in collection by (bucket, segment): every morning in collection, less a pay-off day's rest."""
    weight = (paths.bucket_by_day > 0).astype(np.float64)
    ends = paths.episode_until
    mid = ends != np.floor(ends)
    a, d = paths.episode_account[mid], np.floor(ends[mid]).astype(np.int64)
    inside = d < weight.shape[1]
    weight[a[inside], d[inside]] = ends[mid][inside] - d[inside]
    cell = (paths.bucket_by_day.astype(np.int64) - 1) * segments + segment[:, None]
    used = paths.bucket_by_day > 0
    return np.bincount(cell[used], weights=weight[used], minlength=BUCKETS * segments)


def prepare_card(receipts: Receipts, paths: CardPaths, lifts: Lifts, segment: np.ndarray,
                 held_multiplier: np.ndarray, reference: int, lift_rows: np.ndarray | None = None,
                 held_lifts: np.ndarray | None = None) -> CardData:
    """The likelihood's data: episodes, their events and the floors' exposure by cell.

    With ``lift_rows`` (a contact log: :func:`.treatment_lifts.contact_rows`) each lift's size is its row
    number + 1 there, and the lifts are parameters: a lift given by at least :data:`MIN_CONTACTS` contacts
    inside the episodes is fitted, the others are held at ``held_lifts`` (the base's).
    """
    in_window = paths.episode >= 0
    spells = _Spells(position=np.maximum(paths.episode, 0), time=receipts.time, dated=receipts.dated,
                     kind=receipts.kind, observed_from=paths.episode_from, observed_until=paths.episode_until,
                     in_window=in_window, share=np.divide(receipts.amount, paths.balance_before,
                                                          out=np.ones(len(receipts)),
                                                          where=paths.balance_before > 0).clip(max=1.0),
                     balance_before=paths.balance_before)
    # cgw.prepare reads receipts sorted by account then time: the episodes' order is the accounts' in time.
    order = np.lexsort((receipts.time, spells.position))
    spells = _Spells(**{k: (v[order] if k not in ("observed_from", "observed_until") else v)
                        for k, v in spells.__dict__.items()})
    events = cgw.prepare(spells, spells, _episode_lifts(lifts, paths))
    segments = held_multiplier.size
    observed = paths.episode_until > paths.episode_from
    account = paths.episode_account[observed][events.account]
    day = np.minimum(np.floor(events.time).astype(np.int64), paths.bucket_by_day.shape[1] - 1)
    bucket = np.maximum(paths.bucket_by_day[account, day].astype(np.int64), 1)
    exposure = _exposure(paths, segment, segments)
    by_bucket = exposure.reshape(BUCKETS, segments).sum(axis=1)
    by_segment = exposure.reshape(BUCKETS, segments).sum(axis=0)
    free = np.r_[np.flatnonzero(by_bucket > 0),
                 BUCKETS + np.flatnonzero((by_segment > 0) & (np.arange(segments) != reference))]
    cell = (bucket - 1) * segments + segment[account]
    data = CardData(events=events, cell=cell, exposure=exposure, segments=segments, free=free,
                    held_multiplier=held_multiplier, reference=reference)
    if lift_rows is None:
        return replace(data, walk=_Walk.of(events, cell))
    design = np.zeros((events.time.size, len(FITTED_LIFTS)))
    known = ~events.receipt
    design[known] = lift_rows[np.rint(events.known_jump[known]).astype(np.int64) - 1]
    lift_free = np.flatnonzero((design > 0).sum(axis=0) >= MIN_CONTACTS)
    held = np.asarray(held_lifts, dtype=np.float64)
    fixed = np.delete(np.arange(len(FITTED_LIFTS)), lift_free)
    held_known = design[:, fixed] @ held[fixed]
    data = replace(data, lift_design=design, lift_free=lift_free, lift_held=held,
                   walk=_Walk.of(events, cell, np.ascontiguousarray(design[:, lift_free]), held_known))
    return at_lifts(data, held)


def lift_values(theta: np.ndarray, data: CardData) -> np.ndarray:
    """Every lift in FITTED_LIFTS order: θ's where fitted, the base's elsewhere."""
    values = data.lift_held.copy()
    values[data.lift_free] = np.exp(theta[data.timing_size:data.timing_size + data.lift_free.size])
    return values


def at_lifts(data: CardData, lifts: np.ndarray) -> CardData:
    """The data with every contact's known jump at these lifts (what the recursion outside the fit reads:
    the goodness of fit, the backtest's excess on day K)."""
    if data.lift_design is None:
        return data
    jump = np.zeros(data.events.time.size)
    for k in np.flatnonzero(data.lift_design.any(axis=0)).tolist():  # a column at a time (see contact_fit)
        jump += data.lift_design[:, k] * lifts[k]
    return replace(data, events=replace(data.events, known_jump=jump))


def _events(theta: np.ndarray, data: CardData) -> cgw.CgwData:
    """The events with the contacts' jumps at θ's lifts (as they are without a contact log)."""
    if data.lift_design is None or data.lift_free.size == 0:
        return data.events
    return at_lifts(data, lift_values(theta, data)).events


def _unpack(theta: np.ndarray, data: CardData) -> tuple[np.ndarray, float, float, float]:
    """The floor of each cell, and κ, δ10, δ11, from the fitted log-parameters."""
    logs = np.r_[np.full(BUCKETS, -30.0), np.log(np.maximum(data.held_multiplier, 1e-300))]
    logs[data.free] = theta[:data.free.size]
    floors = np.exp(logs[:BUCKETS])[:, None] * np.exp(logs[BUCKETS:])[None, :]
    kappa, d10, d11 = np.exp(theta[data.free.size:data.free.size + 3])
    return floors.ravel(), kappa, d10, d11


def log_likelihood(theta: np.ndarray, data: CardData) -> float:
    floors, kappa, d10, d11 = _unpack(theta, data)
    ev = _events(theta, data)
    before, at_end, jump = cgw.excess_before(ev, 0.0, kappa, d10, d11)
    compensator = float(floors @ data.exposure) + (jump.sum() - at_end.sum()) / kappa
    level = floors[data.cell] + before
    value = float(np.log(level[ev.point]).sum()) - compensator
    if ev.dated.any():
        firsts = ev.day_first[ev.dated] == np.flatnonzero(ev.dated)
        value -= float(gammaln(ev.day_count[ev.dated][firsts] + 1.0).sum())
    return value


def _excess_and_slopes(data: CardData, kappa: float, d10: float, d11: float, lifts: np.ndarray):
    """X(tᵢ⁻) at every repayment and X at each episode's end (as :func:`cgw.excess_before` with X₀ = 0), with
    their derivatives: by δ10 (A: Σ e^{−κ(t−tₖ)} over earlier receipts), by δ11 (B: the same weighted by
    each receipt's share), minus by κ (D: Σ jumpₖ (t − tₖ) e^{−κ(t−tₖ)}) and by each fitted lift (E: Σ of
    its design over earlier contacts, decayed like A). One pass over the ranks. ``lifts``: the fitted
    lifts' values (the others are in the walk's known jumps)."""
    walk = data.walk
    n = data.events.accounts
    m = lifts.size
    x, a, b, d = np.zeros(n), np.zeros(n), np.zeros(n), np.zeros(n)
    e = np.zeros((n, m))
    out = np.empty((4, walk.points))
    out_e = np.empty((walk.points, m))
    for acc, gap, receipt, share, known, pick, at, rows in walk.ranks:
        decay = np.exp(-kappa * gap)
        xs = x[acc]
        # D decays with X and gains the gap times the X it decays from: d/dt D = X − κD.
        dd = (d[acc] + gap * xs) * decay
        xs *= decay
        aa, bb = a[acc] * decay, b[acc] * decay
        if m:
            ee = e[acc] * decay[:, None]
        if pick.size:
            out[0, at], out[1, at], out[2, at], out[3, at] = xs[pick], aa[pick], bb[pick], dd[pick]
            if m:
                out_e[at] = ee[pick]
        jump = d10 * receipt + d11 * share + known
        if m:
            for j in range(m):  # column by column: a matrix product would go through BLAS (see contact_fit)
                jump = jump + rows[:, j] * lifts[j]
            e[acc] = ee + rows
        x[acc] = xs + jump
        a[acc] = aa + receipt
        b[acc] = bb + share
        d[acc] = dd
    gap = walk.end_gap
    decay = np.exp(-kappa * gap)
    ends = np.stack([x * decay, a * decay, b * decay, (d + gap * x) * decay])
    return out, ends, out_e, e * decay[:, None]


def value_and_gradient(theta: np.ndarray, data: CardData) -> tuple[float, np.ndarray]:
    """The log-likelihood of :func:`log_likelihood` and its gradient in θ (the log-parameters), exactly."""
    floors, kappa, d10, d11 = _unpack(theta, data)
    walk = data.walk
    lifts = np.exp(theta[data.timing_size:])
    (before, a, b, d), (x_end, a_end, b_end, d_end), e, e_end = _excess_and_slopes(data, kappa, d10, d11, lifts)
    jumps = d10 * walk.receipts + d11 * walk.shares + walk.known + float(walk.lift_sums @ lifts)
    excess_integral = (jumps - x_end.sum()) / kappa
    compensator = float(floors @ data.exposure) + excess_integral
    level = floors[walk.point_cell] + before
    value = float(np.log(level).sum()) - compensator - walk.dated_constant
    inverse = 1.0 / level
    # Floors: ∂ℓ/∂F_cell = Σ_points 1/level − exposure; each free log-floor or log-multiplier scales its cells.
    by_cell = (np.bincount(walk.point_cell, weights=inverse, minlength=floors.size) - data.exposure) * floors
    by_cell = by_cell.reshape(BUCKETS, data.segments)
    slots = np.r_[by_cell.sum(axis=1), by_cell.sum(axis=0)]
    g_d10 = float(inverse @ a) - (walk.receipts - a_end.sum()) / kappa
    g_d11 = float(inverse @ b) - (walk.shares - b_end.sum()) / kappa
    g_kappa = -float(inverse @ d) + excess_integral / kappa - d_end.sum() / kappa
    g_lifts = inverse @ e - (walk.lift_sums - e_end.sum(axis=0)) / kappa
    grad = np.r_[slots[data.free], kappa * g_kappa, d10 * g_d10, d11 * g_d11, lifts * g_lifts]
    return value, grad


def _start(data: CardData) -> np.ndarray:
    ev = data.events
    points = np.bincount(data.cell[ev.point], minlength=data.exposure.size).reshape(BUCKETS, data.segments)
    exposure = data.exposure.reshape(BUCKETS, data.segments)
    rate = (points.sum(axis=1) + 0.5) / np.maximum(exposure.sum(axis=1), 1e-9) / max(data.held_multiplier.mean(), 1e-9)
    logs = np.r_[np.log(0.7 * rate), np.zeros(data.segments)]
    overall = max(ev.repayments / max(float(data.exposure.sum()), 1e-9), 1e-6)
    lifts = np.log(np.maximum(data.lift_held[data.lift_free], 0.5 * overall))
    return np.r_[logs[data.free], np.log([0.1, 0.3 * overall, 0.3 * overall]), lifts]


@dataclass(frozen=True)
class TimingFit:
    theta: np.ndarray
    log_likelihood: float
    parameters: dict[str, ParameterEstimate]
    converged: bool
    regular: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # θ's entries off the bounds
    covariance: np.ndarray | None = None  # of θ[regular], the inverse observed information (the backtest draws)
    at_zero: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))  # θ's entries held at 0 (the bound)


def fit_timing(data: CardData, segment_names: tuple[str, ...]) -> TimingFit:
    """Maximise the timing likelihood; Wald intervals on the log scale where the maximum is inside the bounds.

    With a contact log the lifts are fitted with the rest (``lift.KEY``, Wald on the log scale from the same
    joint observed information); a lift too few contacts give is reported not identified.
    """
    names = timing_names(segment_names)
    lift_names = [LIFT_NAMES[j] for j in data.lift_free]
    k = data.timing_size + len(lift_names)
    at_d11 = data.timing_size - 1
    if data.events.repayments < MIN_EVENTS:
        nothing = {n: ParameterEstimate.unidentified() for n in names}
        if data.lift_design is not None:
            nothing |= {n: ParameterEstimate.unidentified() for n in LIFT_NAMES}
        return TimingFit(np.full(k, np.nan), float("nan"), nothing, False)
    scale = 1.0 / max(data.events.accounts, 1)

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        value, grad = value_and_gradient(theta, data)
        return -value * scale, -grad * scale

    # The exact gradient: a finite-difference one would cost k + 1 likelihoods a step (the 100,000-account
    # benchmark's time went there), and the Hessian is differenced from it (2k gradients, not 2k² values).
    result = optimize.minimize(objective, _start(data), jac=True, method="L-BFGS-B", bounds=[cgw.LOG_BOUNDS] * k,
                               options={"maxiter": 1000, "ftol": 1e-13, "gtol": 1e-9})
    theta = result.x.copy()
    # A rate whose maximum is at 0 stops wherever the likelihood goes flat (seen at e^-22.6 and e^-19.5, not
    # within 0.5 of the bound): it is held at the bound, the rest's information taken there (else singular).
    at_zero = flat_toward_zero(lambda t: -objective(t)[0] / scale, theta, cgw.LOG_BOUNDS[0])
    theta[at_zero] = cgw.LOG_BOUNDS[0]
    on_bound = at_zero | (theta >= cgw.LOG_BOUNDS[1] - 0.5)
    hessian = hessian_from_gradient(lambda t: objective(t)[1], theta)
    covariance = log_scale_covariance(hessian / scale, ~on_bound)
    parameters = {n: ParameterEstimate.unidentified() for n in names}
    if data.lift_design is not None:
        parameters |= {n: ParameterEstimate.unidentified() for n in LIFT_NAMES}
    if covariance is not None:
        fitted = [names[i] for i in data.free] + ["kappa", "delta10", "delta11"] + lift_names
        regular = np.flatnonzero(~on_bound)
        for j, i in enumerate(regular):
            if covariance[j, j] > 0:
                parameters[fitted[i]] = wald_on_log(float(theta[i]), math.sqrt(covariance[j, j]))
        # δ11 is weakly told apart (a card repayment is a few percent of the balance): its log-scale Wald
        # interval covered in 88 % of 200 seeds and its maximum is often at 0. Its profile-likelihood
        # interval, on the natural scale with 0 allowed, is used instead (see delta11_profile).
        nuisance = regular[regular != at_d11]
        parameters["delta11"] = delta11_profile(objective, theta, nuisance, scale, bool(at_zero[at_d11]), at_d11)
        # Any other rate at 0 (a floor no repayment came at, a lift that adds nothing) gets the same one-sided
        # profile interval from 0, the regular ones re-maximised. κ is not a rate that can be 0 (X would never
        # decay and its integral diverge): at its bound it stays not identified.
        at_kappa = data.free.size
        for i in np.flatnonzero(at_zero):
            if i not in (at_d11, at_kappa):
                parameters[fitted[i]] = delta11_profile(objective, theta, regular, scale, True, int(i))
    return TimingFit(theta, -result.fun / scale, parameters, bool(result.success), np.flatnonzero(~on_bound),
                     covariance, np.flatnonzero(at_zero))


def delta11_profile(objective, theta: np.ndarray, nuisance: np.ndarray, scale: float,
                    at_zero: bool, last: int | None = None) -> ParameterEstimate:
    """δ11's profile-likelihood interval: the δ11 ≥ 0 whose profile log-likelihood is within χ²₁(95 %)/2 of
    the maximum, the other parameters re-maximised at each (L-BFGS-B with the exact gradient, from the
    nearest point already profiled). ``at_zero``: the maximum is on the lower bound, so the estimate is 0
    and the interval starts there. An interval that never closes below :data:`MAX_RATE` is reported as not
    identified.

    The likelihood in δ11 is skewed, often flat towards 0, and δ11 trades off against δ10 (a fit with δ10
    near 0 puts the jumps in δ11): a Wald interval (on either scale) assumes a parabola; the profile does
    not, and it stays a likelihood-ratio interval with 0 inside the range. (Re-maximising the others by a
    few Newton steps with the fit's Hessian was not enough where δ10 moves far on its log scale: it covered
    in 90 % of 40 seeds.)
    """
    last = theta.size - 1 if last is None else last  # δ11's place in θ (the lifts follow it)
    done: dict[float, np.ndarray] = {}

    def profile(v: float) -> float:
        nearest = min(done, key=lambda u: abs(u - v)) if done else None
        t = (done[nearest] if nearest is not None else theta).copy()
        t[last] = math.log(v) if v > 0 else -np.inf

        def partial(x: np.ndarray) -> tuple[float, np.ndarray]:
            t[nuisance] = x
            value, grad = objective(t)
            return value, grad[nuisance]

        result = optimize.minimize(partial, t[nuisance], jac=True, method="L-BFGS-B",
                                   bounds=[cgw.LOG_BOUNDS] * nuisance.size,
                                   options={"maxiter": 200, "ftol": 1e-9, "gtol": 1e-6})
        t[nuisance] = result.x
        done[v] = t.copy()
        return -result.fun / scale

    estimate = 0.0 if at_zero else math.exp(theta[last])
    top = max(-objective(theta)[0] / scale, profile(estimate))
    inside = lambda v: profile(v) - (top - CHI2_95_HALF)  # noqa: E731 (> 0 inside the interval)
    low = 0.0
    if estimate > 0 and inside(0.0) < 0:
        low = optimize.brentq(inside, 0.0, estimate, rtol=5e-3, xtol=5e-3 * estimate)
    high = max(2 * estimate, 1e-3)
    while inside(high) > 0:
        if high > MAX_RATE:
            return ParameterEstimate.unidentified()
        high *= 2
    high = optimize.brentq(inside, estimate, high, rtol=5e-3, xtol=5e-3 * estimate + 1e-6)
    return ParameterEstimate(estimate=estimate, std_error=(high - low) / (2 * Z95), ci_low=low, ci_high=high,
                             identified=True)


def timing_names(segment_names: tuple[str, ...]) -> list[str]:
    """The timing parameters' ``[behavior]`` paths: floors by bucket, multipliers by segment, κ, δ10, δ11."""
    return ([f"base_intensity.{b}" for b in DELINQUENT_BUCKETS] + [f"segment_multiplier.{s}" for s in segment_names]
            + ["kappa", "delta10", "delta11"])


def choice_shares(matches: np.ndarray, bucket: np.ndarray) -> dict[str, ParameterEstimate]:
    """``payment_choice.KIND.I`` (bucket I, 0 = 1-30): the multinomial shares by EM, each with its
    profile-likelihood interval (:func:`share_profile`)."""
    out: dict[str, ParameterEstimate] = {}
    for b in range(BUCKETS):
        rows = matches[(bucket == b + 1) & matches.any(axis=1)]
        identified = rows.shape[0] >= MIN_EVENTS
        if identified:
            patterns, counts = np.unique(rows, axis=0, return_counts=True)
            p = _em_shares(rows)
        for k, kind in enumerate(PAYMENT_CHOICES):
            name = f"payment_choice.{kind}.{b}"
            out[name] = share_profile(patterns, counts, p, k) if identified else ParameterEstimate.unidentified()
    return out


def _pattern_log_likelihood(patterns: np.ndarray, counts: np.ndarray, p: np.ndarray) -> float:
    """log L(p) = Σ count · log(Σ_{k ∈ its kinds} p_k) over the classification patterns."""
    with np.errstate(divide="ignore"):
        return float(counts @ np.log(patterns @ p))


def _em_with_share_fixed(patterns: np.ndarray, counts: np.ndarray, start: np.ndarray, k: int, v: float,
                         iterations: int = 500) -> np.ndarray:
    """The shares that maximise the likelihood with share ``k`` held at ``v`` (EM: the others take 1 − v in
    proportion to their expected counts, the constrained M-step)."""
    others = np.arange(start.size) != k
    p = start.copy()
    rest = p[others].sum()
    p[others] = (1.0 - v) * (p[others] / rest if rest > 0 else 1.0 / others.sum())
    p[k] = v
    for _ in range(iterations):
        weight = patterns * p
        total = weight.sum(axis=1, keepdims=True)
        expected = (np.divide(weight, total, out=np.zeros_like(weight), where=total > 0) * counts[:, None]).sum(axis=0)
        new = p.copy()
        free = expected[others].sum()
        new[others] = (1.0 - v) * (expected[others] / free if free > 0 else 1.0 / others.sum())
        if np.abs(new - p).max() < 1e-12:
            return new
        p = new
    return p


def share_profile(patterns: np.ndarray, counts: np.ndarray, p: np.ndarray, k: int) -> ParameterEstimate:
    """Share ``k``'s profile-likelihood 95 % interval: the v whose likelihood, the other shares re-maximised
    with p_k = v, is within χ²₁(95 %)/2 of the maximum.

    Why not Wald or Wilson: a share of a few percent from a few hundred repayments has a skewed likelihood
    (Wald's interval is symmetric and can leave [0, 1]), and a repayment that is only "minimum or past due"
    informs a share less than a classified one. The Wilson interval on an effective count (the share's
    variance from the observed information) covered ``full`` at 4 % in bucket 31-60 in 91.0 % of 200 seeds;
    the profile reads the ambiguity from the likelihood itself, with no count to approximate, it stays in
    [0, 1], and where every repayment is classified it is the binomial likelihood-ratio interval. The
    standard error reported is the interval's half-width over 1.96.
    """
    top = _pattern_log_likelihood(patterns, counts, p)
    drop = lambda v: _pattern_log_likelihood(  # noqa: E731 (> 0 inside the interval)
        patterns, counts, _em_with_share_fixed(patterns, counts, p, k, v)) - (top - CHI2_95_HALF)
    estimate = float(p[k])
    edge = 1e-12  # the ends are searched just inside [0, 1]: a kind some repayment can only be has log 0 at 0
    low = 0.0
    if estimate > 2 * edge and drop(edge) < 0:
        low = float(optimize.brentq(drop, edge, estimate, xtol=1e-7, rtol=1e-6))
    high = 1.0
    if estimate < 1.0 - 2 * edge and drop(1.0 - edge) < 0:
        high = float(optimize.brentq(drop, estimate, 1.0 - edge, xtol=1e-7, rtol=1e-6))
    return ParameterEstimate(estimate=estimate, std_error=(high - low) / (2 * Z95), ci_low=low, ci_high=high,
                             identified=True)


def _em_shares(rows: np.ndarray, iterations: int = 500) -> np.ndarray:
    """Multinomial shares when some observations say only "one of these kinds" (EM over the patterns)."""
    if rows.shape[0] == 0:
        return np.full(KINDS, np.nan)
    patterns, counts = np.unique(rows, axis=0, return_counts=True)
    p = np.full(KINDS, 1.0 / KINDS)
    for _ in range(iterations):
        weight = patterns * p
        expected = (weight / weight.sum(axis=1, keepdims=True) * counts[:, None]).sum(axis=0)
        new = expected / counts.sum()
        if np.abs(new - p).max() < 1e-12:
            return new
        p = new
    return p


def redefault_rates(paths: CardPaths, segment_names: tuple[str, ...], with_contacts: bool) -> dict[str, ParameterEstimate]:
    """``redefault_rate.SEGMENT``: re-defaults seen over cured statement days watched (Wilson), contacts only."""
    out = {}
    for s, name in enumerate(segment_names):
        trials, events = int(paths.redefault_trials[s]), int(paths.redefault_events[s])
        ok = with_contacts and trials >= MIN_TRIALS
        out[f"redefault_rate.{name}"] = wilson(events / trials, trials) if ok else ParameterEstimate.unidentified()
    return out


def rescaled_increments(theta: np.ndarray, data: CardData, paths: CardPaths, segment: np.ndarray) -> np.ndarray:
    """Time-rescaled repayments laid end to end (see :func:`cgw.rescaled_increments`), floors by day."""
    floors, kappa, d10, d11 = _unpack(theta, data)
    ev = _events(theta, data)
    observed = paths.episode_until > paths.episode_from
    account = paths.episode_account[observed]
    table = np.r_[0.0, floors].reshape(-1)  # cell 0 is "not in collection"
    cells = np.where(paths.bucket_by_day > 0,
                     (paths.bucket_by_day.astype(np.int64) - 1) * data.segments + segment[:, None] + 1, 0)
    by_day = np.cumsum(np.c_[np.zeros(cells.shape[0]), table[cells]], axis=1)  # ∫ floor from day 0 to each day
    days = cells.shape[1]

    def floor_integral(acc: np.ndarray, t: np.ndarray) -> np.ndarray:
        d = np.minimum(np.floor(t).astype(np.int64), days)
        rest = np.where(d < days, table[cells[acc, np.minimum(d, days - 1)]], 0.0)
        return by_day[acc, d] + rest * (t - d)

    start = floor_integral(account, paths.episode_from[observed])
    to_event = floor_integral(account[ev.account], ev.time) - start[ev.account]
    total = floor_integral(account, paths.episode_until[observed]) - start
    return cgw.rescaled_from(ev, 0.0, kappa, d10, d11, to_event, total)


def amount_law_sample(paths: CardPaths, receipts: Receipts) -> np.ndarray:
    """The partial repayments' fractions of a minimum (U[partial_min, 1) if the model is right)."""
    partial = paths.matches[:, 2] & (paths.episode >= 0) & (receipts.kind == PaymentKind.PAYMENT)
    return paths.partial_fraction[partial]
