"""The card model's backtest start: the fit of the first K days, the book on day K, and parameters drawn.

:mod:`.backtest` runs the engine over the held-back days from what this
module gives it for ``model = "card"`` (the ``cgw`` pieces live there):

* the book on day K, from the statements replayed over the first K days
  (:mod:`.card_paths`): balances, past due, days past due, each account's
  statement day in the cycle counted from day K, and its statement as it
  stood (past due by age, the minimum and what is left of it, the cycle's
  interest and fees), which each replication restores: left to the
  engine's start-of-run guess (the past due spread evenly over its cycles)
  an account needed more to roll back a bucket, so the runs rolled too many
  accounts forward and collected too little late in the window;
* each replication's parameters, drawn from the fit's sampling distribution:
  the timing parameters (floors by bucket, segment multipliers, κ, δ10)
  from the normal law of their log-estimates (inverse observed information;
  a parameter whose interval is wider than the "not identified" span stays at
  its estimate), δ11 from a normal law on the natural scale as wide as its
  profile interval (kept ≥ 0), the payment-choice shares of each bucket from
  a Dirichlet law centred on the fitted shares with the bucket's number of
  classified repayments as its weight, the re-default rates (fitted with a
  contact log) from the Beta law of their events over trials;
* each account's excitation on day K under the drawn κ, δ10, δ11: the
  excess X of its open episode, from its own repayments and contacts; the
  engine adds the drawn floor of its bucket and segment.

Parameters the fit could not identify stay as the base scenario has them.

:meth:`CardDraws.at_base` runs every replication at the base scenario's
parameters instead, with no draws (``backtest(..., known_parameters=True)``):
on a history the engine wrote from that scenario, the truth. What is left
between the runs and the history is then the replay's state on day K and the
borrowers' randomness, not the fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..domain import DELINQUENT_BUCKETS
from ..errors import InputError
from ..scenario import PAYMENT_CHOICES
from . import card, cgw
from .calibrate import CMDLINE, Calibration, History, card_calibration, card_parts
from .card_paths import CardPaths
from .estimates import MAX_SPAN, Z95
from .treatment_lifts import base_lifts

MAX_RATE = 100.0  # the schema's largest rate a day
MIN_WEIGHT = 0.5  # a Dirichlet weight for a kind never seen: its share is drawn small, not fixed at 0


@dataclass(frozen=True)
class CardStart:
    """What the backtest simulates from (the shape :func:`.backtest.backtest` reads)."""

    fit: Calibration
    active: np.ndarray  # positions of the accounts still in collection on day K
    book: object  # sim.portfolio.Portfolio of those accounts as they stood on day K
    start_state: np.ndarray  # their sim.domain.RollState on day K
    statements: dict[str, np.ndarray]  # their statements on day K (sim.engine.statements.Statements.state)
    draws: CardDraws


def card_start(fitted_part: History, base_scenario: str) -> CardStart:
    """Fit the first K days (``fitted_part``) and take the book on day K."""
    paths, data, timing = card_parts(fitted_part)
    fit = card_calibration(fitted_part, base_scenario, paths, data, timing)
    active = np.flatnonzero(paths.active_at_end)
    if active.size == 0:
        raise InputError(CMDLINE, "--fit-days", f"no account is still active after {fitted_part.window.days} days")
    at_end = paths.at_end
    book = at_end.__class__(
        account_id=at_end.account_id[active], balance=at_end.balance[active], past_due=at_end.past_due[active],
        days_past_due=at_end.days_past_due[active], segment=at_end.segment[active],
        phone_known=at_end.phone_known[active], email_known=at_end.email_known[active],
        segment_names=at_end.segment_names, statement_day=at_end.statement_day[active])
    draws = CardDraws(fitted_part, paths, data, timing, active, fit.parameters["delta11"])
    statements = {name: value[active] for name, value in paths.statements_at_end.items()}
    return CardStart(fit=fit, active=active, book=book, start_state=paths.roll_state_at_end[active], draws=draws,
                     statements=statements)


class CardDraws:
    """Parameters drawn from the card fit's sampling distribution, and each account's excess X on day K."""

    adds_floor = True  # what draw() returns is X: the engine's intensity is its floor plus X

    def __init__(self, history: History, paths: CardPaths, data: card.CardData, timing: card.TimingFit,
                 active: np.ndarray, delta11=None):
        if timing.covariance is None or not timing.converged:
            raise InputError(CMDLINE, "--fit-days", "the fitted days identify too little to simulate from; "
                                                    "give more days or more accounts")
        behavior = history.scenario.behavior
        self.base = {"base_intensity": dict(behavior.base_intensity),
                     "segment_multiplier": dict(behavior.segment_multiplier),
                     "payment_choice": {k: list(v) for k, v in behavior.payment_choice.items()},
                     "redefault_rate": dict(behavior.redefault_rate)}
        self.names = history.portfolio.segment_names
        self.theta, self.data = timing.theta, data
        variance = np.nan_to_num(np.diag(timing.covariance), nan=np.inf)
        loose = Z95 * np.sqrt(np.maximum(variance, 0.0)) > math.log(MAX_SPAN)
        keep = ~loose
        self.regular = timing.regular[keep]
        sub = timing.covariance[np.ix_(keep, keep)]
        self.factor = np.linalg.cholesky(sub) if sub.size else sub
        # θ's entries with an estimate (the others: the base's); those at 0 are held there, never drawn
        self.fitted = set(timing.regular.tolist()) | set(timing.at_zero.tolist())
        self.choices = _choice_weights(paths)
        with_contacts = history.contacts is not None
        self.redefault = [(int(e), int(t)) if with_contacts and t >= card.MIN_TRIALS else None
                          for e, t in zip(paths.redefault_events, paths.redefault_trials, strict=True)]
        self.open_episode = _open_episodes(paths, active, history.window.days)
        # δ11 from its profile interval (normal on the natural scale, kept ≥ 0): its log-scale Wald law is
        # far too wide (a factor of 40 either way on a card book) and made the band hold 99.8 % of days.
        self.delta11 = delta11 if delta11 is not None and delta11.identified else None

    def draw(self, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
        theta = self.theta.copy()
        if self.regular.size:
            theta[self.regular] += self.factor @ rng.standard_normal(self.regular.size)
        data, free = self.data, self.data.free
        floors = dict(self.base["base_intensity"])
        multipliers = dict(self.base["segment_multiplier"])
        for j, slot in enumerate(free.tolist()):
            if j not in self.fitted:
                continue
            value = float(min(math.exp(theta[j]), MAX_RATE))
            if slot < card.BUCKETS:
                floors[DELINQUENT_BUCKETS[slot]] = value
            else:
                multipliers[self.names[slot - card.BUCKETS]] = value
        k = free.size
        kappa, d10, d11 = (float(min(math.exp(theta[k + i]), MAX_RATE)) if k + i in self.fitted
                           else None for i in range(3))
        behavior: dict = {"base_intensity": floors, "segment_multiplier": multipliers}
        if self.delta11 is not None:
            d11 = max(self.delta11.estimate + self.delta11.std_error * float(rng.standard_normal()), 0.0)
            theta[k + 2] = math.log(d11) if d11 > 0 else -np.inf
        behavior |= {name: v for name, v in (("kappa", kappa), ("delta10", d10), ("delta11", d11)) if v is not None}
        choice = {kind: list(row) for kind, row in self.base["payment_choice"].items()}
        for b, weights in enumerate(self.choices):
            if weights is not None:
                shares = rng.dirichlet(weights)
                for i, kind in enumerate(PAYMENT_CHOICES):
                    choice[kind][b] = float(shares[i])
        behavior["payment_choice"] = choice
        rates = dict(self.base["redefault_rate"])
        for s, seen in enumerate(self.redefault):
            if seen is not None:
                events, trials = seen
                rates[self.names[s]] = float(rng.beta(events + 0.5, trials - events + 0.5))
        behavior["redefault_rate"] = rates
        kappa_x, d10_x, d11_x = card._unpack(theta, data)[1:]
        _, at_end, _ = cgw.excess_before(data.events, 0.0, kappa_x, d10_x, d11_x)
        excess = np.zeros(self.open_episode.size)
        has = self.open_episode >= 0
        excess[has] = at_end[self.open_episode[has]]
        return behavior, excess

    def at_base(self, behavior) -> BaseParameters:
        """Every replication at ``behavior``'s (the base scenario's) parameters: no draws, each account's
        excitation on day K under its κ, δ10, δ11 and lifts."""
        data = card.at_lifts(self.data, base_lifts(behavior))
        _, at_end, _ = cgw.excess_before(data.events, 0.0, behavior.kappa, behavior.delta10, behavior.delta11)
        excess = np.zeros(self.open_episode.size)
        has = self.open_episode >= 0
        excess[has] = at_end[self.open_episode[has]]
        return BaseParameters(excess)


@dataclass(frozen=True)
class BaseParameters:
    """The draws' shape with nothing drawn: the base scenario's parameters (no overrides) and each account's
    excess X on day K under them."""

    excess: np.ndarray
    adds_floor = True

    def draw(self, rng: np.random.Generator) -> tuple[dict, np.ndarray]:
        return {}, self.excess.copy()


def _choice_weights(paths: CardPaths) -> list[np.ndarray | None]:
    """Per bucket, the Dirichlet weights of the payment choice: fitted shares × classified repayments."""
    out: list[np.ndarray | None] = []
    for b in range(card.BUCKETS):
        rows = paths.matches[(paths.bucket == b + 1) & paths.matches.any(axis=1)]
        if rows.shape[0] < card.MIN_EVENTS:
            out.append(None)
            continue
        # Every classified repayment counts: the ambiguous ones are ambiguous where the kinds pay the same
        # amount (minimum = past due), so the cash does not depend on how they split. (The mean effective
        # count over the kinds, an earlier choice, spread the full share so widely that the band held 99.8 %
        # of days over 8 seeds.)
        p = card._em_shares(rows)
        out.append(np.maximum(p * rows.shape[0], MIN_WEIGHT))
    return out


def _open_episodes(paths: CardPaths, active: np.ndarray, days: int) -> np.ndarray:
    """For each active account, its episode open at the window's end among the likelihood's (observed)
    episodes, or −1 (none observed: it re-defaulted on the last evening, X starts at 0)."""
    episodes = paths.episode_account.size
    observed = paths.episode_until > paths.episode_from
    rank = np.cumsum(observed) - 1
    last = np.full(paths.bucket_by_day.shape[0], -1, dtype=np.int64)
    np.maximum.at(last, paths.episode_account, np.arange(episodes))
    ep = last[active]
    ok = ep >= 0
    ok[ok] = observed[ep[ok]] & (paths.episode_until[ep[ok]] >= days)
    return np.where(ok, rank[np.maximum(ep, 0)], -1)
