"""Statements and what is due (``model = "card"``): each account's cycle, its minimum, its past-due amounts by age.

Every account has a statement day in the 30-day cycle (``Portfolio.statement_day``;
for a delinquent account it follows from its days past due). On that day,
for each active account not on a plan:

1. whatever is left of the minimum that fell due becomes past due, and the
   older past-due amounts age by a cycle (``past_due_by_age``: column 0 is
   1-30, column 5 is 151-180 and everything older, as card systems keep
   their delinquency buckets);
2. a late fee is charged, capped at the missed minimum (Reg Z §1026.52(b):
   :func:`sim.card_terms.late_fees_due`);
3. a new statement sets the next minimum by the card's rule
   (:func:`sim.card_terms.minimum_due_cents`) on the balance, the cycle's
   interest and its fees.

A payment goes to the oldest past-due amount first, then to the minimum not
yet due (card practice counts contractual delinquency this way). Days past
due follow from what is unpaid: paying the whole past-due amount makes the
account current (cured); clearing the oldest amounts rolls it back a bucket
per cycle cleared (an account k cycles behind is 30(k−1) + the days since its
last statement day + 1 days past due).

A cured account re-defaults at its segment's monthly rate, drawn on its
statement day from the ``redefault`` stream: its next statement's minimum is
then past due and it re-enters 1-30. Cured accounts are otherwise not
followed (no interest, no payments), as under the other models.

Money moves only through the book (:meth:`Book.charge_fees`, :meth:`Book.collect`).
"""

from __future__ import annotations

import numpy as np

from ..behavior import floor_intensity
from ..card_behavior import CardChoice, PaymentChoice, first_minimum, minimum_rule, row_sums
from ..card_terms import late_fees_due, minimum_due_cents, to_cents
from ..domain import ACTIVE, BUCKET_DAYS, CURED, bucket_of
from .rows import kept, put_table_rows, table_rows

AGES = 6  # past-due amounts kept by cycle: 1-30 … 151-180 (and older, in the last)
HALF_CENT = 0.005
NEVER = -(10**6)


def cents(amount: np.ndarray) -> np.ndarray:
    return np.rint(np.asarray(amount) * 100.0).astype(np.int64)


def delinquent_dpd(cycles: np.ndarray, cycle_day: np.ndarray, day: int) -> np.ndarray:
    """Days past due at the end of ``day`` of an account ``cycles`` ≥ 1 cycles behind, statement day ``cycle_day``."""
    return (BUCKET_DAYS * (cycles - 1) + (day - cycle_day) % BUCKET_DAYS + 1).astype(np.int32)


class Statements:
    """The card model's cycles over the book's accounts (positions as in :class:`~sim.engine.book.Book`)."""

    def __init__(self, book, rng: np.random.Generator):
        self.book = book
        self.rng = rng
        behavior, portfolio = book.behavior, book.portfolio
        self.rule = minimum_rule(behavior)
        self.choice = CardChoice(behavior, portfolio.segment_names)
        self.memory = behavior.contact_memory_days
        n = book.n
        self.past_due_by_age = np.zeros((n, AGES))
        self.minimum = np.zeros(n)  # one cycle's minimum: the latest statement's
        self.due = np.zeros(n)  # what is left of it to pay by the next statement day
        self.cycle_interest = np.zeros(n)
        self.cycle_fees = np.zeros(n)
        self.last_reached = np.full(n, NEVER, dtype=np.int32)  # the last day a treatment reached the borrower
        # Repayments and kept promises by kind (the fidelity report's payment mix).
        self.mix = np.zeros(len(PaymentChoice), dtype=np.int64)
        self.redefaults = 0
        self._open(portfolio)
        # The rows of each statement day, ascending (a statement day never changes): a day's statements and
        # re-defaults look at a 30th of the book instead of scanning every row.
        order = np.argsort(self.cycle_day, kind="stable")
        bounds = np.searchsorted(self.cycle_day[order], np.arange(BUCKET_DAYS + 1))
        self._rows_by_cycle_day = [order[bounds[d]:bounds[d + 1]] for d in range(BUCKET_DAYS)]

    # ------------------------------------------------------------------------- the book at the start

    def _open(self, portfolio) -> None:
        """Cycle days, past-due amounts by age and the current minimum of the accounts at the start."""
        book = self.book
        dpd = book.dpd
        given = portfolio.statement_day
        derived = (-dpd.astype(np.int64)) % BUCKET_DAYS
        self.cycle_day = (derived if given is None else np.where(given >= 0, given, derived)).astype(np.int32)
        late = np.flatnonzero(dpd > 0)
        cycles = (dpd[late] + BUCKET_DAYS - 1) // BUCKET_DAYS
        # The bucket is kept; the days within it follow from the statement day (the evening before day 0).
        dpd[late] = delinquent_dpd(cycles, self.cycle_day[late], -1)
        balance = book.balance
        self.minimum[:] = first_minimum(book.behavior, book.ctx.scenario.portfolio.apr, balance)
        # The book's past-due amount (the synthetic book's is one card minimum per missed cycle) is spread
        # evenly over its cycles; a delinquent account without one owes a minimum per cycle.
        past_due = book.past_due[late]
        missing = past_due < HALF_CENT
        past_due[missing] = cycles[missing] * self.minimum[late][missing]
        past_due = np.minimum(past_due, balance[late])
        share = past_due / cycles
        for age in range(AGES):
            held = np.where(cycles > age, share, 0.0)
            if age == AGES - 1:
                held = np.maximum(cycles - age, 0) * share  # the oldest column holds every older cycle too
            self.past_due_by_age[late, age] = held
        book.past_due[late] = past_due
        self.due[:] = np.minimum(self.minimum, np.maximum(balance - book.past_due, 0.0))

    STATE = ("past_due_by_age", "minimum", "due", "cycle_interest", "cycle_fees")

    def state(self, rows: np.ndarray) -> dict[str, np.ndarray]:
        """The statement state of the accounts at ``rows`` (what :meth:`restore` takes back)."""
        return {name: getattr(self, name)[rows].copy() for name in self.STATE}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """Continue from a replayed book's statements (a backtest's day K, :mod:`sim.calibration.backtest`):
        ``_open`` can only guess them from the balance and past due, spreading the past due evenly over its
        cycles with a fresh minimum, where the history has paid the oldest cycles down first."""
        for name in self.STATE:
            getattr(self, name)[:] = state[name]
        self.book.past_due[:] = self.past_due_by_age.sum(axis=1)

    # ------------------------------------------------------------------------- payments

    def amounts(self, day: int):
        """``repayment_day``'s amount rule for today: the kind of each repayment, and what it pays."""
        book, choice = self.book, self.choice

        def rule(who, u, balance_left, paid_today):
            reached = (day - self.last_reached[who]) <= self.memory
            promised = book.promise_day[who] >= day
            probabilities = choice.probabilities(bucket_of(book.dpd[who]), book.segment[who], reached, promised)
            kind, within = choice.choose(probabilities, u)
            self.mix += np.bincount(kind, minlength=len(PaymentChoice))
            past_due = np.maximum(book.past_due[who] - paid_today, 0.0)
            return choice.amounts(kind, within, self.minimum[who], past_due, balance_left)

        return rule

    def promised(self, who: np.ndarray, u: np.ndarray, day: int) -> np.ndarray:
        """What kept promises pay: a repayment chosen like any other (one uniform ``u`` each), with the
        promise shifting the choice toward the past-due amount (``promise_cure_multiplier``)."""
        book, choice = self.book, self.choice
        reached = (day - self.last_reached[who]) <= self.memory
        probabilities = choice.probabilities(bucket_of(book.dpd[who]), book.segment[who], reached,
                                             np.ones(who.size, dtype=bool))
        kind, within = choice.choose(probabilities, u)
        self.mix += np.bincount(kind, minlength=len(PaymentChoice))
        return choice.amounts(kind, within, self.minimum[who], book.past_due[who], book.balance[who])

    def reached(self, who: np.ndarray, day: int) -> None:
        self.last_reached[who] = day

    def pay(self, who: np.ndarray, paid: np.ndarray) -> None:
        """Apply payments: the oldest past-due amount first, then the minimum not yet due."""
        left = np.asarray(paid, dtype=np.float64).copy()
        by_age = table_rows(self.past_due_by_age, who)
        for age in range(AGES - 1, -1, -1):
            take = np.minimum(by_age[:, age], left)
            by_age[:, age] -= take
            left -= take
        by_age[by_age < HALF_CENT] = 0.0
        put_table_rows(self.past_due_by_age, who, by_age)
        self.due[who] = np.maximum(self.due[who] - left, 0.0)
        self.book.past_due[who] = row_sums(by_age)

    def after_payment(self, who: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
        """Cure or roll back the active payers ``who`` (unique): returns (cured, rolled back)."""
        book = self.book
        who = kept(who, book.status[who] == ACTIVE)
        cured = kept(who, book.past_due[who] < HALF_CENT)
        if cured.size:
            put_table_rows(self.past_due_by_age, cured, 0.0)
            book.past_due[cured] = 0.0
        late = kept(who, book.past_due[who] >= HALF_CENT)
        cycles = self._cycles_behind(late)
        # This evening's ageing is still to come: the days past due as of this morning.
        dpd = delinquent_dpd(cycles, self.cycle_day[late], day - 1)
        back = (dpd < book.dpd[late]) & (cycles < AGES)
        rolled = late[back]
        book.dpd[rolled] = dpd[back]
        return cured, rolled

    def _cycles_behind(self, late: np.ndarray) -> np.ndarray:
        """Cycles still behind: the oldest column with something left (the last column holds the older
        cycles too, so an account still owing it keeps its days past due)."""
        return AGES - np.argmax(table_rows(self.past_due_by_age, late)[:, ::-1] > 0, axis=1)

    def resume(self, who: np.ndarray, day: int) -> np.ndarray:
        """Accounts whose plan broke, before this evening's ageing: their days past due, which stood still
        on the plan, follow again from what is unpaid and their statement day. Returns those with nothing
        past due (the instalments paid it): they are current."""
        book = self.book
        cured = kept(who, book.past_due[who] < HALF_CENT)
        late = kept(who, book.past_due[who] >= HALF_CENT)
        cycles = self._cycles_behind(late)
        keep = cycles < AGES
        book.dpd[late[keep]] = delinquent_dpd(cycles[keep], self.cycle_day[late[keep]], day - 1)
        return cured

    # ------------------------------------------------------------------------- the statement day

    def cycle_evening(self, day: int) -> None:
        """The evening's statements (after ageing): active accounts not on a plan (those ageing tonight) age
        their past due and get a new minimum; cured accounts may re-default. Looks at today's statement day's
        rows only (a 30th of the book)."""
        book = self.book
        today = self._rows_by_cycle_day[day % BUCKET_DAYS]
        cycle = kept(today, (book.status[today] == ACTIVE) & ~book.in_plan[today])
        if cycle.size:
            self._age_past_due(cycle)
            self._statement(cycle, self.minimum[cycle], day)
        cured = kept(today, self.book.status[today] == CURED)
        cured = kept(cured, self.book.balance[cured] >= HALF_CENT)
        # Paired runs (ctx.draws): one uniform per account every evening, whoever is cured, so an account's
        # re-default does not depend on which other accounts a treatment cured.
        draws = self.book.ctx.draws
        daily = None
        if draws is not None:
            daily = self.rng.random(draws.accounts)
            if draws.keys is not None:
                daily = daily[draws.keys]
        if cured.size:
            u = daily[cured] if daily is not None else None
            self._redefault(self.redefaulting(cured, day, u), day)

    def redefaulting(self, cured: np.ndarray, day: int, uniforms: np.ndarray | None = None) -> np.ndarray:
        """Which of the cured accounts ``cured`` miss this statement's minimum (drawn at their segment's rate;
        ``uniforms``: each account's own draws in a paired run). A replay of a lender's history
        (sim.calibration.card_paths) overrides it with what the files show."""
        u = self.rng.random(cured.size) if uniforms is None else uniforms
        return cured[self.choice.redefaults(self.book.segment[cured], u)]

    def _age_past_due(self, who: np.ndarray) -> None:
        by_age = table_rows(self.past_due_by_age, who)
        by_age[:, AGES - 1] += by_age[:, AGES - 2]
        by_age[:, 1:AGES - 1] = by_age[:, 0:AGES - 2]
        by_age[:, 0] = self.due[who]
        put_table_rows(self.past_due_by_age, who, by_age)
        self.book.past_due[who] = row_sums(by_age)
        self.due[who] = 0.0

    def _statement(self, who: np.ndarray, missed: np.ndarray, day: int) -> None:
        """A late fee for the missed minimum ``missed``, then the next statement's minimum."""
        book = self.book
        fee = late_fees_due(to_cents(book.ctx.scenario.portfolio.late_fee), cents(missed)) / 100
        book.charge_fees(who, fee, day)
        self.cycle_fees[who] += fee
        owed = cents(book.balance[who])
        interest = np.minimum(cents(self.cycle_interest[who]), owed)
        fees = np.minimum(cents(self.cycle_fees[who]), owed - interest)
        minimum = minimum_due_cents(self.rule, owed - interest - fees, interest, fees, owed) / 100
        # Never more than the balance leaves beyond what is already past due.
        minimum = np.minimum(minimum, np.maximum(book.balance[who] - book.past_due[who], 0.0))
        self.minimum[who] = minimum
        self.due[who] = minimum
        self.cycle_interest[who] = 0.0
        self.cycle_fees[who] = 0.0

    def _redefault(self, who: np.ndarray, day: int) -> None:
        """Cured accounts that miss this statement's minimum: past due again, back in 1-30."""
        if who.size == 0:
            return
        book = self.book
        balance = cents(book.balance[who])
        missed = minimum_due_cents(self.rule, balance, 0, 0, balance) / 100
        self.past_due_by_age[who] = 0.0
        self.past_due_by_age[who, 0] = missed
        book.past_due[who] = missed
        book.status[who] = ACTIVE
        book.activate(who)
        book.dpd[who] = 1
        book.floor[who] = floor_intensity(book.behavior, bucket_of(book.dpd[who]), book.segment[who],
                                          book.portfolio.segment_names)
        book.intensity[who] = book.floor[who]
        self.cycle_interest[who] = 0.0
        self.cycle_fees[who] = 0.0
        self._statement(who, missed, day)
        self.redefaults += who.size
