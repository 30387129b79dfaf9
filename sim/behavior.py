"""Borrower behaviour: when a borrower pays, and how a conversation ends.

Repayment follows the self-exciting point process of Chehrazi & Weber (2015)
and Chehrazi, Glynn & Weber (2019). Each account has an intensity λ(t) that
decays toward a floor λ∞ at rate κ between events; a repayment pays a fraction
r ~ Uniform[r_min, 1] of the balance and raises λ by δ10 + δ11·r; a treatment
raises λ by its lift δ2.

Within a day the process is simulated exactly (Dassios & Zhao's method for an
exponential-decay Hawkes process: the next event is the earlier of a decay
candidate and a floor candidate), so several repayments in one day happen
when the intensity is high, just as in continuous time. Only treatments are
discretised: their lift applies from the end of the day they happen.

``model = "cgw"`` uses the pure process with a constant floor ``lambda_inf``
and starting intensity ``lambda0``. ``model = "hawkes"`` (the full borrower
model) makes the floor depend on the days-past-due bucket and risk segment and
adds promises, plans, disputes, complaints and contact fatigue.
``model = "card"`` keeps hawkes' timing but pays against the statement (the
minimum, the past-due amount, part of a minimum or the balance:
:mod:`sim.card_behavior`, through ``repayment_day``'s ``amount_rule``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Conversation outcomes are sim.domain's; re-exported for the modules that import them from here.
from .domain import DELINQUENT_BUCKETS, DISPUTE, PLAN, PROMISE, REFUSAL, fatigue
from .scenario import BehaviorSection


@dataclass(frozen=True)
class RepaymentDay:
    """What one day of the repayment process did to a set of accounts."""

    payers: np.ndarray  # positions of the accounts that repaid today (ascending)
    paid: np.ndarray  # amount each payer paid over the day
    payments: np.ndarray  # number of repayments each payer made over the day
    intensity_end: np.ndarray  # λ of every account at the end of the day


def floor_intensity(behavior: BehaviorSection, bucket: np.ndarray, segment: np.ndarray,
                    segment_names: tuple[str, ...]) -> np.ndarray:
    """λ∞ of each account: constant for ``cgw``; by bucket × segment for ``hawkes``."""
    if behavior.model == "cgw":
        return np.full(bucket.shape, behavior.lambda_inf)
    by_bucket = np.array([0.0] + [behavior.base_intensity[b] for b in DELINQUENT_BUCKETS])
    by_segment = np.array([behavior.segment_multiplier.get(s, 1.0) for s in segment_names])
    return by_bucket[bucket] * by_segment[segment]


def compensator(excess: np.ndarray, floor: np.ndarray, kappa: float, tau) -> np.ndarray:
    """Λ(τ) = ∫₀^τ λ: the expected number of repayments in the next τ days."""
    if kappa > 0:
        return floor * tau + excess * (-np.expm1(-kappa * tau)) / kappa
    return (floor + excess) * tau


def _first_event_time(excess, floor, kappa, target, horizon):
    """Solve Λ(τ) = target for τ in (0, horizon]; Λ is increasing and concave.

    Newton's method from τ = 0 approaches the root from below and never
    overshoots on a concave function, so it converges monotonically.
    """
    tau = np.zeros_like(target)
    for _ in range(60):
        value = compensator(excess, floor, kappa, tau) - target
        slope = floor + excess * np.exp(-kappa * tau)
        step = -value / slope
        tau = np.minimum(tau + step, horizon)
        if np.all(np.abs(step) <= 1e-13 * np.maximum(1.0, tau)):
            break
    return tau


def repayment_day(intensity: np.ndarray, floor: np.ndarray, balance: np.ndarray,
                  behavior: BehaviorSection, rng: np.random.Generator,
                  payable: np.ndarray | None = None,
                  followup_rng: np.random.Generator | None = None, followup_draws=None,
                  events: list | None = None, amount_rule=None, rows: np.ndarray | None = None,
                  draws: tuple[np.ndarray, np.ndarray] | None = None) -> RepaymentDay:
    """Simulate one day (length 1) of the self-exciting repayment process exactly.

    By the time-change theorem, the first repayment after time s happens at the
    τ with Λ(τ) = E, E ~ Exp(1); there is none today when E ≥ Λ(rest of day).
    Every account draws exactly one E and one repayment share r per day
    (whether it pays or not: from ``rng``, or the engine's ``draws`` numbered by
    account and day), so the draws stay aligned across strategies (common
    random numbers): the same borrower pays the same share on the same day
    unless a treatment changed its intensity. Later repayments on the same day,
    which are rare, draw from ``followup_rng``.

    Parameters
    ----------
    intensity, floor, balance
        λ at the start of the day, λ∞ and the balance of each account.
    payable
        Boolean mask of the accounts that can pay; the others only decay.
    followup_draws
        Instead of ``followup_rng``: called with the positions of the accounts
        that may repay again, returns two uniforms each (the time, the share),
        so that each account's later repayments draw from its own sequence.
    amount_rule
        What a repayment pays when it is not a share of the balance (``model = "card"``): called with the
        payers' positions, one uniform each, their balance left and what they already paid today, it
        returns the amounts; the jump then takes r = amount / balance. ``None``: r ~ U[r_min, 1] of the
        balance (the CGW process, exactly).
    events
        A list to append each repayment to, as ``(positions, time in the day, amount)``
        arrays, one tuple per round of the loop (a run's payment history, kept only when
        asked: ``None`` costs nothing and draws nothing).
    rows
        Instead of ``payable``: the positions (ascending) of the accounts that can pay. Only these rows
        are computed, and ``intensity`` is updated in place at them (the others keep theirs: an account
        that cannot pay has no intensity anyone reads until it is reset) and returned as ``intensity_end``.
        Without ``draws`` every account still draws its two numbers from ``rng``, so the stream and the
        outcomes are those of ``payable``.
    draws
        With ``rows``: the day's two uniforms of each of those rows, already drawn (the engine's, numbered by
        account and day: :class:`sim.streams.RowDayUniforms`), as (U, the share's uniform); the first
        repayment's E is −log(1 − U). ``rng`` then draws nothing for the first repayment, and the work is
        that of the rows alone.
    """
    kappa = behavior.kappa
    n = balance.size
    if rows is not None:
        intensity_rows, floor_rows = intensity[rows], floor[rows]
    else:
        intensity_rows, floor_rows = intensity, floor
    # On the live rows the gathered intensities are a copy of the day's own: the excess is computed in it (one
    # array of a million fewer to allocate, and to fault in, each evening).
    excess = np.subtract(intensity_rows, floor_rows, out=intensity_rows if rows is not None else None)
    np.maximum(excess, 0.0, out=excess)
    # Λ(1) = λ∞ + excess·(1 − e^{−κ})/κ, written with in-place steps (1M accounts a day).
    whole_day = excess * ((-np.expm1(-kappa)) / kappa if kappa > 0 else 1.0)
    whole_day += floor_rows
    if draws is not None:
        if rows is None:
            raise ValueError("draws are given for the rows: pass rows too")
        uniform, shares = draws  # one per row of ``rows``
        # E = −log(1 − U) ≥ U, so only a row with U < Λ(1) can have E < Λ(1): the logarithm is taken for
        # those few candidates, not for every live row.
        candidates = np.flatnonzero(uniform < whole_day)
        exponential = -np.log1p(-uniform[candidates])
        fires = exponential < whole_day[candidates]
        hit_at = candidates[fires]  # positions in ``rows``
        hit = rows[hit_at]
        first_target, first_share = exponential[fires], shares[hit_at]
    else:
        targets, shares = rng.standard_exponential(n), rng.random(n)
        if rows is not None:
            hit_at = np.flatnonzero(targets[rows] < whole_day)  # positions in ``rows``
            hit = rows[hit_at]
        else:
            hit_mask = targets < whole_day
            if payable is not None:
                hit_mask &= payable
            hit = hit_at = np.flatnonzero(hit_mask)
        first_target, first_share = targets[hit], shares[hit]  # the whole book's draws, by position
    if hit.size:
        h_excess, h_floor = excess[hit_at], floor_rows[hit_at]
    # λ at the day's end, decayed from the excess in place (read above for the payers, not after).
    lam_end = np.multiply(excess, np.exp(-kappa) if kappa > 0 else 1.0, out=excess)
    lam_end += floor_rows
    paid, payments = np.zeros(0), np.zeros(0, np.int32)
    if hit.size:
        paid, payments, t = _repayments(hit, first_target, first_share, h_excess, h_floor,
                                        balance[hit].copy(),
                                        behavior, rng if followup_rng is None else followup_rng, followup_draws,
                                        events, amount_rule)
        lam_end[hit_at] = h_floor + h_excess * np.exp(-kappa * (1.0 - t))
    if rows is not None:
        intensity[rows] = lam_end
        lam_end = intensity
    return RepaymentDay(payers=hit, paid=paid, payments=payments, intensity_end=lam_end)


def _repayments(hit, target, uniform, h_excess, h_floor, h_bal, behavior: BehaviorSection, followup_rng,
                followup_draws, events, amount_rule) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The day's repayments of the accounts ``hit`` (their first event's Exp(1) ``target``, share ``uniform``),
    and any later ones: what each paid, how many times, and the time of its last repayment.
    ``h_excess`` ends as each one's excess intensity just after its last repayment."""
    kappa, d10, d11, r_min = behavior.kappa, behavior.delta10, behavior.delta11, behavior.r_min
    t = np.zeros(hit.size)
    h_paid = np.zeros(hit.size)
    h_count = np.zeros(hit.size, dtype=np.int32)
    live = np.arange(hit.size)
    while live.size:
        tau = _first_event_time(h_excess[live], h_floor[live], kappa, target, 1.0 - t[live])
        if amount_rule is None:
            r = r_min + (1.0 - r_min) * uniform
            amount = r * h_bal[live]
        else:
            amount = amount_rule(hit[live], uniform, h_bal[live], h_paid[live])
            r = np.divide(amount, h_bal[live], out=np.ones_like(amount), where=h_bal[live] > 0)
        h_bal[live] -= amount
        h_paid[live] += amount
        h_count[live] += 1
        # Intensity just after the repayment: decayed excess plus the jump.
        h_excess[live] = h_excess[live] * np.exp(-kappa * tau) + d10 + d11 * r
        t[live] += tau
        if events is not None:
            events.append((hit[live], t[live], amount))
        rest = 1.0 - t[live]
        if followup_draws is None:
            target = followup_rng.standard_exponential(live.size)
        else:
            u = followup_draws(hit[live])
            target = -np.log1p(-u[:, 0])
        again = target < compensator(h_excess[live], h_floor[live], kappa, rest)
        live = live[again]
        target = target[again]
        uniform = followup_rng.random(live.size) if followup_draws is None else u[again, 1]
    return h_paid, h_count, t


def fatigue_factor(behavior: BehaviorSection, recent_contacts: int | np.ndarray):
    """How much a borrower contacted this often in 7 days still listens (1 = fully)."""
    return fatigue(behavior.fatigue, recent_contacts)


def complaint_probability(behavior: BehaviorSection, recent_contacts: int | np.ndarray):
    """Complaints rise with contact pressure (fatigue); per account for an array of contact counts."""
    p = behavior.complaint_probability * (1.0 + behavior.fatigue * recent_contacts)
    return np.minimum(p, 1.0) if isinstance(p, np.ndarray) else min(1.0, p)


def conversation_outcome(behavior: BehaviorSection, u: float) -> int:
    """How a right-party conversation ends, from one uniform draw."""
    if u < behavior.promise_probability:
        return PROMISE
    u -= behavior.promise_probability
    if u < behavior.plan_uptake:
        return PLAN
    u -= behavior.plan_uptake
    if u < behavior.dispute_probability:
        return DISPUTE
    return REFUSAL
