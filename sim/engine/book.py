"""The book: every account's state as arrays, and the evening that advances all of it at once.

At 24:00 the book simulates the day's repayments for every active account
(:func:`sim.behavior.repayment_day`), then promises and instalments falling
due, adds the day's treatment lifts to the intensity, closes paid-off
accounts, accrues interest, ages the accounts (late fees at each missed
cycle, intensity floors moved across buckets), charges off at
``charge_off_dpd`` and records the day. Money moves only through
:meth:`Book.collect` and :meth:`Book.write_off`, which keep the totals the
conservation check reads. Under ``model = "card"`` the book's statements
(:mod:`.statements`: statement days, past due by age, the minimum, late fees,
re-default) replace the 30-day cycles of days past due, repayments pay
against them, and a payment cures or rolls back from what is left unpaid.
Imports :mod:`sim.domain`, the behaviour, the statements and the run's
:class:`~sim.engine.context.Context`.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from ..behavior import floor_intensity, repayment_day
from ..card_terms import DAYS_PER_YEAR
from ..domain import (
    ACTIVE,
    CHARGED_OFF,
    CURED,
    IN_LEGAL,
    PAID_OFF,
    ROLL_STATES,
    PaymentKind,
    RollState,
    bucket_of,
    priority_key,
)
from ..history import RESIDUE, evening_minute
from ..portfolio import Portfolio
from ..streams import RandomStreams, RowDayUniforms
from .context import Context
from .rows import distinct, kept, stable_argsort
from .statements import Statements

NEVER = -(10**6)
PAID_OFF_BELOW = 0.005  # a balance under half a cent is paid off
# Whether a count of days past due has just entered a bucket (31, 61, …): ``dpd % 30 == 1`` as a periodic table,
# read by ``np.take(..., mode="wrap")`` (any count, the same mask) in half the time of the modulo over a
# million live rows (1.1 against 2.3 ms of CPU on this machine).
ENTERS_BUCKET = np.arange(30 * 128) % 30 == 1


class Book:
    """Account arrays indexed by position, the run's money totals, and the evening's steps."""

    def __init__(self, ctx: Context, portfolio: Portfolio, streams: RandomStreams):
        self.ctx = ctx
        self.portfolio = portfolio
        self.behavior = behavior = ctx.behavior
        # Each account's two repayment draws of a day are numbered by its row and the day (common random
        # numbers without drawing for the rows that cannot pay: sim.streams.RowDayUniforms).
        self.payment_draws = RowDayUniforms(streams["payments"], len(portfolio),
                                            keys=None if ctx.draws is None else ctx.draws.keys)
        self.followup_rng = streams["payment_followups"]
        self.promise_rng = streams["promises"]
        p = portfolio
        n = len(p)
        self.n = n
        self.balance = p.balance.astype(np.float64, copy=True)
        self.past_due = p.past_due.astype(np.float64, copy=True)
        self.dpd = p.days_past_due.astype(np.int32, copy=True)
        self.segment = p.segment
        self.status = np.where(self.balance > 0, ACTIVE, PAID_OFF).astype(np.int8)
        self.status[(self.dpd == 0) & (self.status == ACTIVE)] = CURED
        # Every active row, and maybe some closed since (see active_rows): a row becomes active only here, on
        # entering (admit) and on re-defaulting (activate).
        self._live = np.flatnonzero(self.status == ACTIVE)
        self.floor = floor_intensity(behavior, bucket_of(self.dpd), self.segment, p.segment_names)
        self.intensity = np.full(n, behavior.lambda0) if behavior.model == "cgw" else self.floor.copy()
        self.pending_lift = np.zeros(n)  # treatments' lifts of the day, added to the intensity at 24:00
        # The accounts given a lift since the last evening (positions, and arrays of them from batches), so
        # the evening reads those instead of scanning every row: whoever adds to ``pending_lift`` notes the
        # account here (:meth:`lift`, or appending to ``lifted`` in a per-call loop).
        self.lifted: list[int] = []
        self.lifted_batches: list[np.ndarray] = []
        self.in_plan = np.zeros(n, dtype=bool)
        self.plan_amount = np.zeros(n)
        self.plan_left = np.zeros(n, dtype=np.int32)
        self.plan_missed = np.zeros(n, dtype=np.int8)
        self.plan_next_day = np.full(n, NEVER, dtype=np.int32)
        self.promise_amount = np.zeros(n)
        self.promise_day = np.full(n, NEVER, dtype=np.int32)
        self.paused_until = np.zeros(n, dtype=np.int32)  # collection paused by a dispute until this day
        self.any_paused = False
        self.legal_queued = np.zeros(n, dtype=bool)
        self.filed: set[int] = set()  # accounts in legal, filed and awaiting their outcome
        self.charged_last = np.zeros(0, np.int64)  # the accounts charged off in the latest evening
        self.promises_due: dict[int, list[int]] = defaultdict(list)
        self.plans_due: dict[int, list[int]] = defaultdict(list)
        self._paid_today: list[np.ndarray] = []  # accounts that paid something today
        self.cured_ever = np.zeros(n, dtype=bool)
        self.initial_balance = float(self.balance.sum())
        self.interest_and_fees_total = 0.0
        self.collected_total = 0.0
        self.written_off_total = 0.0
        # model = "card": statements, minimums and past-due amounts by age, re-default (statements.py).
        self.statements = Statements(self, streams["redefault"]) if behavior.model == "card" else None
        self.month_start_state = self.roll_state()
        self.after_charge_off = None  # sim.engine.lifecycle.AfterChargeOff, when the ladder has steps after charge-off
        # Hooks for the offers (sim/engine/offers.py); None unless a ladder step makes offers.
        self.apr_by_account: np.ndarray | None = None  # each account's own rate (a hardship plan's)
        self.collected_by_account: np.ndarray | None = None  # cash by account, summed as it comes in
        # Rows are in order of entry: the first ``entered`` are in the book (arrivals enter later). Roll rates
        # count month-end snapshots from day ``roll_from`` (the end of a warm-up) on, over the first
        # ``roll_rows`` rows: the accounts in the book at the month's start.
        self.entered = self.roll_rows = n
        self.roll_from = 0

    # ------------------------------------------------------------------------- money

    def collect(self, i, amount, day: int, kind: int | None = None, minute: float | None = None) -> None:
        """Cash in from accounts ``i``; a run keeping its receipts records them as ``kind``
        (a :class:`~sim.domain.PaymentKind`, or ``RESIDUE``) at ``minute`` (default: the evening of ``day``)."""
        receipts = self.ctx.receipts
        if receipts is not None and kind is not None:
            receipts.add(i, amount, evening_minute(day) if minute is None else minute, kind)
        self.balance[i] -= amount
        self._paid_today.append(np.atleast_1d(i))
        total = float(np.sum(amount))
        self.collected_total += total
        self.ctx.tally.collected[day] += total
        if self.collected_by_account is not None:
            np.add.at(self.collected_by_account, i, amount)
        if self.ctx.ledger is not None:
            self.ctx.ledger.collect(i, amount)

    def recover(self, i, amount, day: int, kind: int) -> None:
        """Cash from charged-off accounts ``i`` (an agency, a suit, a sale: :mod:`.lifecycle`): collected, and
        that much of the charge-off loss reversed (their book balance is already zero)."""
        receipts = self.ctx.receipts
        if receipts is not None:
            receipts.add(i, amount, evening_minute(day), kind)
        total = float(np.sum(amount))
        self.collected_total += total
        self.ctx.tally.collected[day] += total
        self.written_off_total -= total
        self.ctx.tally.written_off[day] -= total
        if self.ctx.ledger is not None:
            self.ctx.ledger.collect(i, amount)
            self.ctx.ledger.write_off(i, -np.asarray(amount))

    def write_off(self, i, day: int) -> None:
        amount = float(np.sum(self.balance[i]))
        self.written_off_total += amount
        self.ctx.tally.written_off[day] += amount
        if self.ctx.ledger is not None:
            self.ctx.ledger.write_off(i, self.balance[i])
        self.balance[i] = 0.0

    # ------------------------------------------------------------------------- an open book (sim.engine.arrivals)

    def hold_back(self, rows: slice) -> None:
        """Rows of accounts that enter later: out of the book (owing nothing, worked by nothing) until admitted."""
        self.balance[rows] = 0.0
        self.past_due[rows] = 0.0
        self.status[rows] = PAID_OFF  # a closed row to every step, until admit()
        self.initial_balance = float(self.balance.sum())
        self.entered = self.roll_rows = rows.start
        self._live = self._live[self._live < rows.start]

    def admit(self, rows: slice) -> float:
        """Accounts entering the book today at the state the portfolio gives them; returns their balance."""
        p = self.portfolio
        self.balance[rows] = p.balance[rows]
        self.past_due[rows] = p.past_due[rows]
        self.dpd[rows] = p.days_past_due[rows]
        self.status[rows] = ACTIVE
        self.floor[rows] = floor_intensity(self.behavior, bucket_of(self.dpd[rows]), self.segment[rows],
                                           p.segment_names)
        self.intensity[rows] = self.behavior.lambda0 if self.behavior.model == "cgw" else self.floor[rows]
        self.entered = rows.stop
        # Entering rows come after every row entered before: the live rows stay ascending.
        self._live = np.concatenate([self._live, np.arange(rows.start, rows.stop)])
        return float(self.balance[rows].sum())

    # ------------------------------------------------------------------------- live rows

    def active_rows(self) -> np.ndarray:
        """Positions (ascending) of the accounts active now: the only rows the day's array work changes.

        A book holds a row for every account the run will see, and most of an
        open book's rows are not in collection (arrivals yet to enter, accounts
        paid off, charged off or cured), so the day's work gathers the live rows
        and runs on them. Rather than scan every row's status (five million in
        the 1M open-book benchmark, several times a day), the book keeps the
        rows that were active at the last call plus those activated since
        (:meth:`admit`, :meth:`activate`), and drops the ones closed since.
        Callers must not write into the array returned.
        """
        live = self._live
        active = self.status[live] == ACTIVE
        # The morning finds every row active still (the night closes none): then the array stays as it is,
        # not copied (a million positions, 0.2 ms and 8 MB of memory traffic).
        if not active.all():
            live = kept(live, active)
            self._live = live
        return live

    def activate(self, rows: np.ndarray) -> None:
        """Closed rows ``rows`` (distinct) active again (a cured account re-defaulting): back in the live rows."""
        live, rows = self._live, np.sort(rows)
        at = np.searchsorted(live, rows)
        new = (at == live.size) | (live[np.minimum(at, live.size - 1)] != rows) if live.size else np.ones(rows.size, bool)
        self._live = np.insert(live, at[new], rows[new])

    # ------------------------------------------------------------------------- the morning's view

    def workable(self, day: int, live: np.ndarray | None = None) -> np.ndarray:
        """Accounts a ladder step may act on today: active, not on a plan, not referred to legal, not paused.

        Positions, ascending (the live rows, :meth:`active_rows`, filtered; ``live``: those, when the caller
        has them).
        """
        rows = self.active_rows() if live is None else live
        keep = ~self.in_plan[rows]
        keep &= ~self.legal_queued[rows]
        if self.any_paused:
            keep &= self.paused_until[rows] <= day
        return kept(rows, keep)

    def call_order(self, idx: np.ndarray) -> np.ndarray:
        """Positions of ``idx`` (ascending) in the strategy's priority order; ties by account position."""
        return stable_argsort(self.priority_key(idx))

    def priority_key(self, idx: np.ndarray) -> np.ndarray:
        rule = self.ctx.scenario.strategy.priority
        # Only the columns the rule reads are gathered (a call list is up to a million accounts long).
        needs = {"balance": ("balance",), "days_past_due": ("days_past_due",),
                 "expected_value": ("balance", "intensity")}.get(rule, ("account_id",))
        columns = {"balance": self.balance, "days_past_due": self.dpd, "intensity": self.intensity,
                   "account_id": self.portfolio.account_id}
        gathered = {name: columns[name][idx] if name in needs else None for name in columns}
        return priority_key(rule, **gathered)

    def lift(self, idx: np.ndarray, amount) -> None:
        """Treatments of the day that reached accounts ``idx`` (distinct): their lifts count from 24:00."""
        self.pending_lift[idx] += amount
        self.lifted_batches.append(idx)

    def _lifted_today(self) -> np.ndarray:
        """The accounts with a lift pending (ascending), as a scan of ``pending_lift`` would find them."""
        if not self.lifted and not self.lifted_batches:
            return np.zeros(0, np.int64)
        rows = distinct(np.concatenate([np.asarray(self.lifted, dtype=np.int64), *self.lifted_batches]))
        self.lifted.clear()  # cleared in place: the call centre holds the list
        self.lifted_batches.clear()
        return kept(rows, self.pending_lift[rows] != 0)

    # ------------------------------------------------------------------------- the evening

    def evening(self, day: int) -> None:
        """24:00: repayments, promises and instalments due, lifts, paid-off accounts, interest, ageing, the day's record."""
        draws = self.ctx.draws
        # Borrowers on an instalment plan may still pay more than the instalment. Only the active rows pay,
        # draw (their own numbers of the day) and have their intensity moved (in place).
        receipts = self.ctx.receipts
        events = [] if receipts is not None else None
        statements = self.statements
        rows = self.active_rows()
        uniforms = self.payment_draws.draw(rows, day)
        result = repayment_day(self.intensity, self.floor, self.balance, self.behavior, None,
                               followup_rng=self.followup_rng,
                               followup_draws=draws.followup.draw if draws is not None else None, events=events,
                               amount_rule=statements.amounts(day) if statements is not None else None,
                               rows=rows, draws=(uniforms[0], uniforms[1]))
        self.intensity = result.intensity_end
        payers = result.payers
        if events:
            receipts.add_repayments(events, day, PaymentKind.PAYMENT)
        if payers.size:
            self.collect(payers, result.paid, day)
            self.ctx.tally.payments[day] += int(result.payments.sum())
            self._apply_payment(payers, result.paid, day)
        self._promises_due(day)
        self._plans_due(day)
        # Treatments of the day raise the intensity from the end of the day on.
        lifted = self._lifted_today()
        if lifted.size:
            self.intensity[lifted] += self.pending_lift[lifted]
            self.pending_lift[lifted] = 0.0
            if statements is not None:
                statements.reached(lifted, day)
        self._close_paid_off(day)
        self._interest_and_ageing(day)
        self._record_day(day)

    def _close_paid_off(self, day: int) -> None:
        """Paid-off accounts leave the book; sub-cent residue counts as collected.

        Only an account that paid today can have reached zero.
        """
        paid_today = distinct(np.concatenate(self._paid_today)) if self._paid_today else np.zeros(0, np.int64)
        self._paid_today = []
        done = kept(paid_today, (self.status[paid_today] == ACTIVE) & (self.balance[paid_today] < PAID_OFF_BELOW))
        if done.size:
            self.collect(done, self.balance[done].copy(), day, RESIDUE)
            self.status[done] = PAID_OFF
            self.in_plan[done] = False

    def _apply_payment(self, who: np.ndarray, paid: np.ndarray, day: int) -> None:
        if self.behavior.model == "cgw":
            return  # the pure process has no notion of curing
        if self.statements is not None:
            self._apply_card_payment(who, paid, day)
            return
        self.past_due[who] = np.maximum(self.past_due[who] - paid, 0.0)
        cured = kept(who, (self.past_due[who] <= PAID_OFF_BELOW) & (self.status[who] == ACTIVE))
        if cured.size:
            self.status[cured] = CURED
            self.dpd[cured] = 0
            self.in_plan[cured] = False
            self.cured_ever[cured] = True

    def _apply_card_payment(self, who: np.ndarray, paid: np.ndarray, day: int) -> None:
        """Against the statement: the oldest past due first; the whole past due cures, an older cycle cleared
        rolls the account back a bucket (its intensity floor moves with it)."""
        self.statements.pay(who, paid)
        cured, rolled = self.statements.after_payment(who, day)
        done = kept(cured, self.balance[cured] < PAID_OFF_BELOW)
        if done.size:  # the whole balance paid: the account leaves the book paid off, not cured
            self.collect(done, self.balance[done].copy(), day, RESIDUE)
            self.status[done] = PAID_OFF
            self.in_plan[done] = False
            cured = kept(cured, self.status[cured] == ACTIVE)
        self._cure(cured)
        if rolled.size:
            self._move_floors(rolled)

    def _cure(self, cured: np.ndarray) -> None:
        """Accounts with nothing past due any more are current: out of collection (and off any plan)."""
        if cured.size:
            self.status[cured] = CURED
            self.dpd[cured] = 0
            self.in_plan[cured] = False
            self.cured_ever[cured] = True

    def charge_fees(self, who: np.ndarray, fees: np.ndarray, day: int) -> None:
        """Fees added to balances (the card model's late fees): counted with interest and fees."""
        self.balance[who] += fees
        added = float(np.sum(fees))
        self.interest_and_fees_total += added
        self.ctx.tally.interest_and_fees[day] += added

    def _promises_due(self, day: int) -> None:
        due = self.promises_due.pop(day, [])
        if not due:
            return
        idx = distinct(np.array(due, dtype=np.int64))
        # A newer promise replaces an older one.
        idx = idx[(self.status[idx] == ACTIVE) & ~self.in_plan[idx] & (self.promise_day[idx] == day)]
        if idx.size == 0:
            return
        tally = self.ctx.tally
        keep_rate = self.behavior.promise_keep_rate
        u = self._keep_draws(idx, "promise_keep")
        kept = u < keep_rate
        tally.promises_kept[day] += int(kept.sum())
        tally.promises_broken[day] += int((~kept).sum())
        who = idx[kept]
        if who.size:
            amount = np.minimum(self.promise_amount[who], self.balance[who])
            if self.statements is not None:
                # Under the card model a kept promise pays against the statement, chosen like a repayment
                # (the promise shifts it toward the past-due amount); below the keep rate, u / rate is
                # itself a uniform, so the choice needs no draw of its own.
                amount = self.statements.promised(who, u[kept] / keep_rate, day)
            share = np.divide(amount, self.balance[who], out=np.ones_like(amount), where=self.balance[who] > 0)
            self.collect(who, amount, day, PaymentKind.INSTALMENT)
            tally.payments[day] += who.size
            # A kept promise is a repayment: it excites the intensity like one.
            self.intensity[who] += self.behavior.delta10 + self.behavior.delta11 * share
            self._apply_payment(who, amount, day)

    def _keep_draws(self, idx: np.ndarray, purpose: str) -> np.ndarray:
        """One uniform per promise or instalment due (accounts ``idx``, ascending) that decides if it is kept."""
        if self.ctx.draws is None:
            return self.promise_rng.random(idx.size)
        return getattr(self.ctx.draws, purpose).draw(idx)[:, 0]

    def _plans_due(self, day: int) -> None:
        due = self.plans_due.pop(day, [])
        if not due:
            return
        idx = distinct(np.array(due, dtype=np.int64))
        idx = idx[(self.status[idx] == ACTIVE) & self.in_plan[idx] & (self.plan_next_day[idx] == day)]
        if idx.size == 0:
            return
        kept = self._keep_draws(idx, "instalment_keep") < self.behavior.plan_keep_rate
        payers = idx[kept]
        if payers.size:
            last = self.plan_left[payers] <= 1
            amount = np.where(last, self.balance[payers], np.minimum(self.plan_amount[payers], self.balance[payers]))
            self.collect(payers, amount, day, PaymentKind.INSTALMENT)
            self.ctx.tally.payments[day] += payers.size
            self.plan_left[payers] -= 1
            self.plan_missed[payers] = 0
            if self.statements is not None:
                self.statements.pay(payers, amount)  # against the oldest past due; a plan does not cure
            else:
                self.past_due[payers] = np.maximum(self.past_due[payers] - amount, 0.0)
        missed = idx[~kept]
        if missed.size:
            self.plan_missed[missed] += 1
        # Two missed instalments in a row break the plan; collection resumes.
        broken = missed[self.plan_missed[missed] >= 2]
        self.in_plan[broken] = False
        if broken.size and self.statements is not None:
            self._cure(self.statements.resume(broken, day))
        continuing = idx[self.in_plan[idx] & (self.plan_left[idx] > 0) & (self.balance[idx] >= PAID_OFF_BELOW)]
        self.plan_next_day[continuing] = day + 30
        self.plans_due[day + 30].extend(continuing.tolist())

    def _interest_and_ageing(self, day: int) -> None:
        """Interest on the active accounts, ageing of those not on a plan, new cycles, floors moved across buckets,
        charge-off: on the live rows only (the others neither accrue nor age)."""
        portfolio = self.ctx.scenario.portfolio
        tally = self.ctx.tally
        active = self.active_rows()
        if portfolio.apr > 0 or self.apr_by_account is not None:
            apr = portfolio.apr if self.apr_by_account is None else self.apr_by_account[active]
            balance = self.balance[active]
            interest = balance * (apr / DAYS_PER_YEAR)  # the daily convention
            balance += interest
            self.balance[active] = balance
            if self.statements is not None:
                # The live rows are distinct: one addition each, as ``[active] +=`` does, without its two
                # temporaries (about half the time for a million rows).
                np.add.at(self.statements.cycle_interest, active, interest)
            added = float(interest.sum())  # over the live rows only (a sum over every row was 5x the work)
            self.interest_and_fees_total += added
            tally.interest_and_fees[day] += added
        # Accounts on a plan that is being kept do not age.
        ageing = kept(active, ~self.in_plan[active])
        dpd = self.dpd[ageing]
        dpd += 1
        self.dpd[ageing] = dpd
        if self.statements is not None:
            self.statements.cycle_evening(day)  # each account on its own statement day
        else:
            new_cycle = kept(ageing, dpd % 30 == 0)
            if new_cycle.size:
                self._new_cycle(new_cycle, day)
        # Nothing above moves the ageing accounts' days past due again (a statement changes what is due).
        crossed_at = np.flatnonzero(np.take(ENTERS_BUCKET, dpd, mode="wrap"))
        crossed = ageing[crossed_at]
        # Reaching 31 days past due: bureau reporting and IFRS 9 stage 2 begin (the provision view).
        past_30 = kept(crossed, dpd[crossed_at] == 31)
        if past_30.size:
            tally.rolled_past_30[day] += past_30.size
            if self.ctx.ledger is not None:
                np.add.at(self.ctx.ledger.rolled_past_30, past_30, 1)
        if self.behavior.model != "cgw" and crossed.size:
            self._move_floors(crossed)
        charged = kept(ageing, dpd >= portfolio.charge_off_dpd)
        self.charged_last = charged  # the standing's placement reads them tomorrow morning
        if charged.size:
            if self.after_charge_off is not None:
                self.after_charge_off.charged_off(charged, self.balance[charged], day)
            self.write_off(charged, day)
            self.status[charged] = CHARGED_OFF

    def _new_cycle(self, accounts: np.ndarray, day: int) -> None:
        """A missed statement cycle: the late fee, and the new minimum due added to what is past due."""
        portfolio = self.ctx.scenario.portfolio
        fee = portfolio.late_fee
        if fee > 0:
            self.balance[accounts] += fee
            self.interest_and_fees_total += fee * accounts.size
            self.ctx.tally.interest_and_fees[day] += fee * accounts.size
        self.past_due[accounts] += portfolio.min_due_rate * self.balance[accounts] + fee
        self.past_due[accounts] = np.minimum(self.past_due[accounts], self.balance[accounts])

    def _move_floors(self, crossed: np.ndarray) -> None:
        """Accounts that entered a new bucket: keep the excitation, move the floor."""
        new_floor = floor_intensity(self.behavior, bucket_of(self.dpd[crossed]), self.segment[crossed],
                                    self.portfolio.segment_names)
        self.intensity[crossed] += new_floor - self.floor[crossed]
        self.intensity[crossed] = np.maximum(self.intensity[crossed], new_floor)
        self.floor[crossed] = new_floor

    # ------------------------------------------------------------------------- states

    def roll_state(self) -> np.ndarray:
        """Each account's state for roll rates (:class:`~sim.domain.RollState`): its bucket, charged off or in legal."""
        state = bucket_of(self.dpd)
        state[self.status != ACTIVE] = RollState.CURRENT
        state[self.status == CHARGED_OFF] = RollState.CHARGED_OFF
        state[self.status >= IN_LEGAL] = RollState.LEGAL
        return state

    def _record_day(self, day: int) -> None:
        tally = self.ctx.tally
        tally.outstanding_by_bucket[day] = self._outstanding_by_state()
        since = day + 1 - self.roll_from
        if since >= 0 and since % 30 == 0:
            states = len(ROLL_STATES)
            state = self.roll_state()
            if since > 0:
                k = self.roll_rows
                pairs = self.month_start_state[:k].astype(np.int64) * states + state[:k]
                tally.roll_counts += np.bincount(pairs, minlength=states**2).reshape(states, states)
            self.month_start_state = state
            self.roll_rows = self.entered

    def _outstanding_by_state(self) -> np.ndarray:
        """Outstanding balance by roll state, from a histogram over days past due.

        Only active, cured and in-legal accounts still owe anything (charged-off,
        paid-off and settled accounts are at zero), so: active balances by their
        bucket, legal from the legal queue, and the rest is current.
        """
        out = np.zeros(len(ROLL_STATES))
        active = self.active_rows()
        owed = self.balance[active]
        # A histogram adds in row order, so leaving out the rows owing nothing adds the same numbers.
        by_dpd = np.bincount(self.dpd[active], weights=owed)
        np.add.at(out, bucket_of(np.arange(by_dpd.size)), by_dpd)
        filed = self.filed
        in_legal = np.fromiter(filed, dtype=np.int64, count=len(filed)) if filed else np.zeros(0, np.int64)
        out[RollState.LEGAL] = float(self.balance[in_legal].sum()) if in_legal.size else 0.0
        out[RollState.CURRENT] += (float(self.balance.sum()) - float(owed.sum()) - out[RollState.LEGAL])
        return out
