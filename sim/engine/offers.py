"""Settlement and hardship offers: ladder steps that offer a borrower a way out, and what becomes of them.

Two kinds of step make offers instead of contacts (``sim.domain.OFFER_CHANNELS``):

* ``settlement_offer`` — pay ``1 − discount`` of the balance within
  ``pay_within_days`` and the rest is forgiven. An accepted offer puts the
  account in an arrangement (not worked, not ageing, as an instalment plan
  does); on its pay day it is kept with probability ``keep_rate``: the
  borrower pays the agreed amount (or the balance, if less), the rest of the
  balance is written off as forgiven and the account is closed. So an
  accepted, kept settlement's cash plus its forgiven amount is exactly the
  balance it closed. A broken one returns the account to the ladder.
* ``hardship_plan`` — the balance repaid over ``months`` equal instalments
  at a reduced ``apr``. An accepted plan is the book's instalment plan (kept
  with ``behavior.plan_keep_rate``, broken after two missed instalments), with
  the account's own rate (:attr:`Book.apr_by_account`); after ``reage_after``
  instalments paid in a row the account is re-aged (FFIEC: three consecutive
  payments) and counts as cured.

An offer travels by post: it costs ``costs.letter``, is refused on a quiet
day (a refusal, as a letter's is) and has no contact-log row. Whether the
borrower accepts is a draw against a probability by days-past-due bucket
times a factor by risk segment; every default is a labelled assumption
(no public figure was found) or cites its source below and in
scenarios/README.md. The draws come from the run's own ``offers`` stream,
so no other stream moves and a scenario without offers runs as before.

The part counts offers made, accepted, kept and broken, the amount forgiven,
the cash the accepted accounts paid after accepting (and its NPV at
``simulation.discount_rate``) and the balance they had when they accepted,
and values them against the loss given charge-off: what the accepted
balances would still bring once charged off (``objective.written_off_value``,
a debt-sale price). Imports the domain, the scenario, the book and the context.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..domain import (
    ACTIVE,
    CURED,
    DELINQUENT_BUCKETS,
    OFFER_CHANNELS,
    PAID_OFF,
    bucket_of,
    daily_discount,
)
from ..scenario import Step
from .book import NEVER, PAID_OFF_BELOW, Book
from .context import Context

# Defaults of the offers' terms. No public figure was found for acceptance or keeping: each is an
# assumption, labelled as such (scenarios/README.md, section "Offers").
SETTLEMENT_ACCEPTANCE = dict(zip(DELINQUENT_BUCKETS, (0.02, 0.04, 0.06, 0.08, 0.10, 0.12), strict=True))  # assumption
HARDSHIP_ACCEPTANCE = dict(zip(DELINQUENT_BUCKETS, (0.05, 0.08, 0.10, 0.10, 0.08, 0.06), strict=True))  # assumption
DEFAULT_DISCOUNT = 0.30  # assumption
DEFAULT_PAY_WITHIN_DAYS = 30  # assumption: one statement cycle
DEFAULT_SETTLEMENT_KEEP = 0.70  # assumption
DEFAULT_HARDSHIP_APR = 0.05  # assumption
DEFAULT_MONTHS = 60  # FFIEC account-management guidance (2003): workouts repay within 60 months
DEFAULT_REAGE_AFTER = 3  # FFIEC Uniform Retail Credit Classification (2000): three consecutive payments
COUNTS = ("made", "refused", "accepted", "kept", "broken")


@dataclass(frozen=True)
class Terms:
    """One offer step's terms with the defaults filled in."""

    channel: str
    acceptance: np.ndarray  # by bucket index 0 (current, never offered) … 6
    segment_factor: np.ndarray  # by segment code
    discount: float = DEFAULT_DISCOUNT
    pay_within_days: int = DEFAULT_PAY_WITHIN_DAYS
    keep_rate: float = DEFAULT_SETTLEMENT_KEEP
    apr: float = DEFAULT_HARDSHIP_APR
    months: int = DEFAULT_MONTHS
    reage_after: int = DEFAULT_REAGE_AFTER

    @classmethod
    def of(cls, step: Step, segment_names: tuple[str, ...] | list[str]) -> Terms:
        table = dict(SETTLEMENT_ACCEPTANCE if step.channel == "settlement_offer" else HARDSHIP_ACCEPTANCE)
        if step.acceptance is not None:
            table = dict.fromkeys(DELINQUENT_BUCKETS, step.acceptance)
        table.update(step.acceptance_by_bucket or {})
        factors = step.acceptance_by_segment or {}
        given = {name: getattr(step, name) for name in ("discount", "pay_within_days", "keep_rate", "apr",
                                                        "months", "reage_after") if getattr(step, name) is not None}
        return cls(channel=step.channel, acceptance=np.array([0.0, *(table[b] for b in DELINQUENT_BUCKETS)]),
                   segment_factor=np.array([factors.get(name, 1.0) for name in segment_names] or [1.0]), **given)

    def instalment(self, balance: np.ndarray) -> np.ndarray:
        """The equal monthly instalment that repays ``balance`` over ``months`` at ``apr``."""
        rate = self.apr / 12.0
        if rate == 0:
            return balance / self.months
        return balance * rate / (1.0 - (1.0 + rate) ** -self.months)


class Offers:
    """The ladder's offer steps on the book: made in the morning, settled and re-aged in the evening."""

    def __init__(self, ctx: Context, book: Book, last_step_day: np.ndarray, rng: np.random.Generator):
        self.ctx = ctx
        self.book = book
        self.last_step_day = last_step_day  # the ladder's cadence counter (steps × accounts)
        self.rng = rng
        names = book.portfolio.segment_names
        steps = ctx.scenario.strategy.steps
        self.terms = {s: Terms.of(step, names) for s, step in enumerate(steps) if step.channel in OFFER_CHANNELS}
        self.reage_after = np.array([self.terms[s].reage_after if s in self.terms else 0 for s in range(len(steps))])
        n = book.n
        self.settle_day = np.full(n, NEVER, dtype=np.int32)
        self.settle_amount = np.zeros(n)
        self.settle_step = np.full(n, -1, dtype=np.int16)
        self.kind_of = np.zeros(n, dtype=np.int8)  # the last offer an account accepted: 1 + OFFER_CHANNELS index
        self.hardship_step = np.full(n, -1, dtype=np.int16)  # the step of an account's running hardship plan
        self.streak = np.zeros(n, dtype=np.int32)  # instalments paid in a row on the hardship plan
        self._last_left = np.zeros(n, dtype=np.int32)
        self._last_missed = np.zeros(n, dtype=np.int8)
        self.paid_since = np.zeros(n)  # cash an accepted account had paid when it accepted (to subtract)
        self.counts = {kind: dict.fromkeys(COUNTS, 0) for kind in OFFER_CHANNELS}
        self.money = {kind: {"forgiven": 0.0, "cash": 0.0, "cash_npv": 0.0, "balance_accepted": 0.0}
                      for kind in OFFER_CHANNELS}
        self.reaged = 0
        self.settlements: list[tuple[int, float, float, float]] = []  # (account, balance, cash, forgiven)
        book.collected_by_account = np.zeros(n)  # the hook that measures what accepted accounts pay
        self.ledger = ctx.ledger
        if self.ledger is not None:
            self.ledger.track_offers(OFFER_CHANNELS)
        discount_rate = ctx.scenario.simulation.discount_rate
        self.discount = daily_discount(discount_rate, ctx.days)

    # ------------------------------------------------------------------------- the morning

    def make(self, s: int, idx: np.ndarray, day: int) -> None:
        """Step ``s`` offers its terms to accounts ``idx``; those who accept enter the arrangement."""
        terms = self.terms[s]
        ctx = self.ctx
        counts = self.counts[terms.channel]
        if ctx.calendar.is_quiet(day):
            ctx.tally.refusals[day] += idx.size
            counts["refused"] += idx.size
            return
        self.last_step_day[s, idx] = day
        counts["made"] += idx.size
        self._note(terms.channel, "made", idx)
        ctx.charge(day, terms.channel, idx, ctx.costs.letter, idx.size)
        book = self.book
        p = terms.acceptance[bucket_of(book.dpd[idx])] * terms.segment_factor[book.segment[idx]]
        u = self.rng.random((idx.size, 2))  # accept?, and when to pay: two draws for every offer
        yes = u[:, 0] < np.minimum(p, 1.0)
        accepted = idx[yes]
        if accepted.size == 0:
            return
        counts["accepted"] += accepted.size
        self._note(terms.channel, "accepted", accepted)
        self.money[terms.channel]["balance_accepted"] += float(book.balance[accepted].sum())
        self.kind_of[accepted] = 1 + OFFER_CHANNELS.index(terms.channel)
        self.paid_since[accepted] = book.collected_by_account[accepted]
        book.in_plan[accepted] = True  # in an arrangement: not worked, not ageing
        if terms.channel == "settlement_offer":
            pay_in = 1 + np.floor(u[yes, 1] * terms.pay_within_days).astype(np.int32)
            self.settle_day[accepted] = day + pay_in
            self.settle_amount[accepted] = (1.0 - terms.discount) * book.balance[accepted]
            self.settle_step[accepted] = s
        else:
            self._start_plan(s, terms, accepted, day)

    def _start_plan(self, s: int, terms: Terms, accepted: np.ndarray, day: int) -> None:
        """The book's instalment plan at the offer's rate: equal instalments, the first in 30 days."""
        book = self.book
        if book.apr_by_account is None:
            book.apr_by_account = np.full(book.n, self.ctx.scenario.portfolio.apr)
        book.apr_by_account[accepted] = terms.apr
        book.plan_amount[accepted] = terms.instalment(book.balance[accepted])
        book.plan_left[accepted] = terms.months
        book.plan_missed[accepted] = 0
        book.plan_next_day[accepted] = day + 30
        book.plans_due[day + 30].extend(accepted.tolist())
        self.hardship_step[accepted] = s
        self.streak[accepted] = 0
        self._last_left[accepted] = terms.months
        self._last_missed[accepted] = 0

    # ------------------------------------------------------------------------- the evening

    def settle(self, day: int) -> None:
        """Before the book's evening: settlements due today are paid (and the rest forgiven) or broken."""
        due = np.flatnonzero(self.settle_day == day)
        if due.size == 0:
            return
        book = self.book
        self.settle_day[due] = NEVER
        open_ = due[np.isin(book.status[due], (ACTIVE, CURED)) & (book.balance[due] >= PAID_OFF_BELOW)]
        kept = np.zeros(open_.size, dtype=bool)
        for s in np.unique(self.settle_step[open_]):
            mine = self.settle_step[open_] == s
            kept[mine] = self.rng.random(int(mine.sum())) < self.terms[int(s)].keep_rate
        counts, money = self.counts["settlement_offer"], self.money["settlement_offer"]
        counts["kept"] += int(kept.sum())
        counts["broken"] += int((~kept).sum())
        book.in_plan[open_[~kept]] = False  # back to the ladder
        payers = open_[kept]
        if payers.size:
            balance = book.balance[payers].copy()
            cash = np.minimum(self.settle_amount[payers], balance)
            book.collect(payers, cash, day)
            forgiven = book.balance[payers].copy()
            book.write_off(payers, day)  # the discount: forgiven, so it leaves the book as written off
            book.status[payers] = PAID_OFF
            book.in_plan[payers] = False
            money["forgiven"] += float(forgiven.sum())
            self._note("settlement_offer", "kept", payers)
            self._note("settlement_offer", "forgiven", payers, forgiven)
            self.settlements.extend(zip(payers.tolist(), balance.tolist(), cash.tolist(), forgiven.tolist(),
                                        strict=True))

    def after_evening(self, day: int) -> None:
        """After the book's evening: the day's cash of accepted accounts, and hardship plans paid, re-aged or ended."""
        book = self.book
        accepted = np.flatnonzero(self.kind_of)
        if accepted.size:
            paid = book.collected_by_account[accepted] - self.paid_since[accepted]
            self.paid_since[accepted] = book.collected_by_account[accepted]
            for k, kind in enumerate(OFFER_CHANNELS, start=1):
                mine = self.kind_of[accepted] == k
                cash = float(paid[mine].sum())
                self._note(kind, "cash_after_accepting", accepted[mine], paid[mine])
                self.money[kind]["cash"] += cash
                self.money[kind]["cash_npv"] += cash * float(self.discount[day])
        self._hardship_day()

    def _hardship_day(self) -> None:
        book = self.book
        running = np.flatnonzero((self.hardship_step >= 0) & (self.streak >= 0))  # plans still followed
        if running.size == 0:
            return
        paid = book.plan_left[running] < self._last_left[running]
        missed = book.plan_missed[running] > self._last_missed[running]
        self.streak[running[paid]] += 1
        self.streak[running[missed]] = 0
        self._last_left[running] = book.plan_left[running]
        self._last_missed[running] = book.plan_missed[running]
        counts = self.counts["hardship_plan"]
        need = self.reage_after[self.hardship_step[running]]
        reage = running[(self.streak[running] >= need) & (book.status[running] == ACTIVE) & book.in_plan[running]]
        if reage.size:  # brought current: cured, as the book treats every cure
            book.dpd[reage] = 0
            book.past_due[reage] = 0.0
            book.status[reage] = CURED
            book.in_plan[reage] = False
            self.reaged += reage.size
        ended = running[~book.in_plan[running]]  # re-aged, cured, paid off or broken
        if ended.size:
            good = np.isin(book.status[ended], (CURED, PAID_OFF))
            counts["kept"] += int(good.sum())
            self._note("hardship_plan", "kept", ended[good])
            counts["broken"] += int((~good).sum())
            book.apr_by_account[ended] = self.ctx.scenario.portfolio.apr
            self.streak[ended] = -1  # done: no longer followed

    def _note(self, kind: str, what: str, accounts: np.ndarray, amount=1.0) -> None:
        """Per account, in the run's ledger when it keeps one (champion/challenger readouts split by strategy)."""
        if self.ledger is not None:
            self.ledger.offer(kind, what, accounts, amount)

    # ------------------------------------------------------------------------- the readout

    def kpis(self) -> dict[str, dict[str, float]]:
        """Per kind of offer: made, refused, accepted, kept, broken; forgiven; the accepted accounts' cash and its
        NPV; their balance at acceptance; and the NPV against the loss given charge-off."""
        recovery_if_charged_off = self.ctx.scenario.objective.written_off_value
        out = {}
        for kind in OFFER_CHANNELS:
            if not any(t.channel == kind for t in self.terms.values()):
                continue
            counts, money = self.counts[kind], self.money[kind]
            out[kind] = {**counts, **money,
                         "acceptance_rate": counts["accepted"] / counts["made"] if counts["made"] else 0.0,
                         "value_if_charged_off": recovery_if_charged_off * money["balance_accepted"],
                         "npv_vs_charge_off": money["cash_npv"] - recovery_if_charged_off * money["balance_accepted"]}
            if kind == "hardship_plan":
                out[kind]["reaged"] = self.reaged
        return out
