"""What a cardholder pays when they pay, and whether a cured account rolls again (``model = "card"``).

Before charge-off a delinquent cardholder does not pay a share of the whole
balance (the CGW model, made for charged-off accounts): they pay against what
the statement says is due (DOMAIN.md, "What a real card collections book
looks like"). When the self-exciting process of :mod:`sim.behavior` fires,
the repayment is one of:

* ``minimum`` — one cycle's minimum due (the latest statement's, by the rule
  of :mod:`sim.card_terms`): applied to the oldest cycle first, it rolls the
  account back a bucket, or holds it there once the next cycle is missed;
* ``past_due`` — the whole past-due amount: the account is current again;
* ``partial`` — less than one minimum, U[``partial_min``, 1) of it;
* ``full`` — the whole balance: the account is paid off.

The kind is drawn from weights by bucket (``[behavior] payment_choice``);
the weights of ``past_due`` and ``full`` are multiplied by the segment's
``cure_multiplier``, and ``past_due``'s again by ``contact_cure_multiplier``
when a treatment reached the borrower in the last ``contact_memory_days`` and
by ``promise_cure_multiplier`` while a promise to pay is open. One uniform
decides both the kind and, within ``partial``, how much: the payments stream
stays aligned across strategies (common random numbers).

A cured account re-defaults at its segment's monthly ``redefault_rate``
(checked once a cycle, on its statement day).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

import numpy as np

from .card_terms import cycle_rate, minimum_due_cents
from .domain import BUCKET_DAYS
from .scenario import PAYMENT_CHOICES, REDEFAULT_UNNAMED, BehaviorSection


class PaymentChoice(IntEnum):
    """What a card-model repayment paid (the order of :data:`sim.scenario.PAYMENT_CHOICES`)."""

    MINIMUM = 0
    PAST_DUE = 1
    PARTIAL = 2
    FULL = 3


assert tuple(c.name.lower() for c in PaymentChoice) == PAYMENT_CHOICES


@dataclass(frozen=True)
class MinimumRule:
    """The book's card minimum, in the shape :func:`sim.card_terms.minimum_due` reads (percent + interest + fees)."""

    percent: float
    floor: float
    plus_interest: bool = True
    plus_fees: bool = True
    fixed: float | None = None


def minimum_rule(behavior: BehaviorSection) -> MinimumRule:
    return MinimumRule(percent=behavior.minimum_percent, floor=behavior.minimum_floor)


def first_minimum(behavior: BehaviorSection, apr: float, balance: np.ndarray) -> np.ndarray:
    """The minimum due of a statement on ``balance`` with a whole cycle's interest (the book at the start,
    whose cycles the run has not seen): the card rule of :mod:`sim.card_terms`, in the currency unit."""
    cents = np.rint(np.asarray(balance, dtype=np.float64) * 100.0).astype(np.int64)
    interest = np.rint(cents * float(cycle_rate("daily", apr, BUCKET_DAYS))).astype(np.int64)
    return minimum_due_cents(minimum_rule(behavior), cents, interest, 0, cents + interest) / 100


def _by_segment(table: dict[str, float], segment_names: tuple[str, ...], unnamed: float) -> np.ndarray:
    return np.array([table.get(s, unnamed) for s in segment_names], dtype=np.float64)


def row_sums(w: np.ndarray) -> np.ndarray:
    """Each row's sum, added left to right: what ``w.sum(axis=1)`` gives for a table of fewer than 8 columns
    (NumPy adds a reduction along so short an axis one column at a time; from 8 on it sums pairwise), at a
    tenth of its time. For the payment kinds' weights (4) and the past due by age (6)."""
    if w.shape[1] >= 8:
        return w.sum(axis=1)
    total = w[:, 0].copy()
    for k in range(1, w.shape[1]):
        total += w[:, k]
    return total


def running_sums(w: np.ndarray) -> np.ndarray:
    """Each row's running sums, added left to right: ``np.cumsum(w, axis=1)`` (which walks a short row's
    elements one call at a time), a column at a time, the same numbers at a third of the time."""
    upper = w.copy()
    for k in range(1, w.shape[1]):
        upper[:, k] += upper[:, k - 1]
    return upper


class CardChoice:
    """The payment-choice weights of one run, resolved to arrays once."""

    def __init__(self, behavior: BehaviorSection, segment_names: tuple[str, ...]):
        # weights[bucket - 1, kind]
        self.weights = np.array([behavior.payment_choice[k] for k in PAYMENT_CHOICES], dtype=np.float64).T
        self.cure_by_segment = _by_segment(behavior.cure_multiplier, segment_names, 1.0)
        self.redefault_by_segment = _by_segment(behavior.redefault_rate, segment_names, REDEFAULT_UNNAMED)
        self.contact = behavior.contact_cure_multiplier
        self.promise = behavior.promise_cure_multiplier
        self.partial_min = behavior.partial_min

    def probabilities(self, bucket: np.ndarray, segment: np.ndarray, reached: np.ndarray,
                      promised: np.ndarray) -> np.ndarray:
        """(accounts, kinds) probabilities of each kind of repayment, rows summing to 1.

        ``bucket`` 1-6 (current accounts count as 1-30), ``reached``: a treatment reached the borrower
        recently, ``promised``: a promise to pay is open.
        """
        w = self.weights[np.clip(bucket, 1, self.weights.shape[0]) - 1]  # a gather: already a copy
        cure = self.cure_by_segment[segment]
        w[:, PaymentChoice.PAST_DUE] *= cure * np.where(reached, self.contact, 1.0) * np.where(promised, self.promise, 1.0)
        w[:, PaymentChoice.FULL] *= cure
        total = row_sums(w)
        # A row whose weights were all multiplied away pays the minimum.
        empty = total <= 0
        w[empty, PaymentChoice.MINIMUM] = 1.0
        total[empty] = 1.0
        return w / total[:, None]

    @staticmethod
    def choose(probabilities: np.ndarray, u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The kind each uniform ``u`` falls on, and where in its kind's interval (itself a uniform)."""
        upper = running_sums(probabilities)
        upper[:, -1] = 1.0  # rounding never leaves a uniform without a kind
        # The count of bounds at or below u, a column at a time (a sum over a (payers, 4) comparison walks
        # each row's four elements one call at a time).
        kind = np.zeros(u.size, dtype=np.int64)
        for k in range(upper.shape[1]):
            kind += u >= upper[:, k]
        np.minimum(kind, len(PaymentChoice) - 1, out=kind)
        rows = np.arange(u.size)
        width = probabilities[rows, kind]
        lower = upper[rows, kind] - width
        within = np.divide(u - lower, width, out=np.zeros_like(u), where=width > 0)
        return kind, np.clip(within, 0.0, 1.0 - 1e-12)

    def amounts(self, kind: np.ndarray, within: np.ndarray, minimum: np.ndarray, past_due: np.ndarray,
                balance: np.ndarray) -> np.ndarray:
        """What each repayment pays: one minimum, the past-due amount (one minimum if none is past due),
        part of a minimum, or the balance; never more than the balance."""
        due = np.where(past_due > 0, past_due, minimum)
        partial = (self.partial_min + (1.0 - self.partial_min) * within) * minimum
        amount = np.maximum(np.round(np.choose(kind, [minimum, due, partial, balance]), 2), 0.01)
        # The whole balance exactly (not rounded), so a full payment leaves nothing behind.
        return np.where(kind == PaymentChoice.FULL, balance, np.minimum(amount, balance))

    def redefaults(self, segment: np.ndarray, u: np.ndarray) -> np.ndarray:
        """Which cured accounts miss this cycle's minimum: ``u`` below their segment's monthly rate."""
        return u < self.redefault_by_segment[segment]
