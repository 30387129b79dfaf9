"""The morning's ladder: which accounts each step acts on today, and the automated channels sent in batches.

Each step's reach is the workable accounts (the book's live rows) narrowed
by days past due, cadence, balance, failed attempts, plus what never
changes: segments, known contact points and the accounts given the step.
SMS, e-mail and letters go out as one batch per step, unless the day is
quiet or the send time is outside the contact window (then every message is
a refusal), and the callbacks they cause are
handed to the call centre. With rules by account (:mod:`.standing`) a step
leaves out the accounts excluded, ceased or opted out of its channel, a
message goes out at its send time in each consumer's local time, and each
message may bring an opt-out or a cease request (the log's outcomes); the
steps of a morning that send at the same book minute share one delivery,
whose parts of one channel to different accounts go out as one batch, with
the numbers of the parts one after another.
Imports :mod:`sim.domain`, the book, the contact counters and the scenario.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ..domain import MINUTES_PER_DAY, Channel, contact_pressure, fatigue
from ..scenario import Step, parse_clock
from .book import Book
from .contacts import ContactCounters
from .context import Context
from .floor import Floor, FloorProcess
from .rows import kept, minutes_order

DAY = MINUTES_PER_DAY
# A step given to fewer than one row in SPARSE is narrowed from its own rows (Ladder.static_rows).
SPARSE = 4


class Ladder:
    """The strategy's steps evaluated on the book; ``start_callers(accounts, times, day)`` queues callbacks."""

    def __init__(self, ctx: Context, book: Book, counters: ContactCounters,
                 step_accounts: Sequence[np.ndarray | None] | None,
                 start_callers: Callable[..., None], callbacks_answered: bool,
                 automated_rng: np.random.Generator, floor: Floor):
        self.ctx = ctx
        self.book = book
        self.counters = counters
        self.steps = ctx.scenario.strategy.steps
        self.step_accounts = _check_step_accounts(step_accounts, len(self.steps), book.n)
        self.static_masks = self._static_step_masks()
        # A step given to few of the rows (a copy's steps in a valuation's runs made together, a cell's segment
        # of a plan's ladder) is narrowed from its own rows, not from every workable row in its window: a run
        # of several copies would otherwise scan every copy's rows for each copy's steps.
        self.static_rows = [None if mask is None or SPARSE * int(mask.sum()) > book.n else np.flatnonzero(mask)
                            for mask in self.static_masks]
        self._is_workable: np.ndarray | None = None  # this morning's workable rows as a mask (steps from own rows)
        self.start_callers = start_callers
        self.callbacks_answered = callbacks_answered
        self.automated_rng = automated_rng
        self.floor = floor  # the call floor's heap, where the day's deliveries wait for their minute
        self.standing = None  # sim.engine.standing.Standing, set by the engine when the run has one
        contact = ctx.scenario.contact
        self.hardening = contact.hardening if contact is not None else 0.0
        self._workable: np.ndarray | None = None  # this morning's workable accounts, and their days past due
        self._workable_dpd: np.ndarray | None = None
        # This morning's workable accounts in a step's days past due, by (from, to): a valuation's treatments cut
        # to the buckets give most steps of a morning the window of another (80 % of the steps of a sample's
        # roll-in run and of a whole-book run of the plan's ladder).
        self._in_window: dict[tuple[int, int], np.ndarray] = {}
        # By channel: its column of the daily contacts, cost and callback chance (read by every delivery).
        self._delivery_terms: dict[str, tuple[int, float, float]] = {}
        # The day's deliveries not yet gone out, by book minute: their parts, one a step (send_automated).
        self._sending_day = -1
        self._sending_at: dict[int, list[tuple]] = {}

    def _static_step_masks(self) -> list[np.ndarray | None]:
        """What never changes about a step's reach: segments, known contact points, the accounts given it."""
        portfolio = self.book.portfolio
        masks: list[np.ndarray | None] = []
        for s, step in enumerate(self.steps):
            mask = None
            if step.segments is not None:
                codes = [portfolio.segment_names.index(name) for name in step.segments]
                mask = np.isin(portfolio.segment, codes)
            contact = {"sms": portfolio.phone_known, "call": portfolio.phone_known,
                       "email": portfolio.email_known}.get(step.channel)
            if contact is not None:
                mask = contact.copy() if mask is None else mask & contact
            chosen = self.step_accounts[s] if self.step_accounts is not None else None
            if chosen is not None:
                mask = chosen.copy() if mask is None else mask & chosen
            masks.append(mask)
        return masks

    def eligible(self, step: Step, s: int, workable: np.ndarray, day: int) -> np.ndarray:
        """Accounts this ladder step acts on today, out of ``workable`` (positions, ascending: the live rows,
        :meth:`Book.workable`), each condition narrowing the candidates before the next is read."""
        book = self.book
        if workable is not self._workable:
            # Every step of a morning reads the same workable accounts' days past due (nothing a step does
            # moves them before the evening): gathered once a morning.
            self._workable, self._workable_dpd = workable, book.dpd[workable]
            self._in_window.clear()
            self._is_workable = None
        rows = self.static_rows[s]
        if rows is not None:
            # The same accounts in the same order as the narrowings below, from the step's own rows.
            is_workable = self._is_workable
            if is_workable is None:
                is_workable = self._is_workable = np.zeros(book.n, dtype=bool)
                is_workable[workable] = True
            dpd = book.dpd[rows]
            idx = kept(rows, is_workable[rows] & (dpd >= step.from_dpd) & (dpd <= step.to_dpd))
            if idx.size == 0:
                return idx
            idx = kept(idx, self.counters.last_step_day[s][idx] <= day - step.every_days)
            return self._narrowed(step, idx) if idx.size else idx
        window = (step.from_dpd, step.to_dpd)
        idx = self._in_window.get(window)
        if idx is None:
            dpd = self._workable_dpd
            # Each narrowing is a boolean mask with no pattern: kept() (np.compress), not rows[mask], is the cheap
            # way. Every narrowing below makes a new array, so the one kept here is never handed out.
            idx = self._in_window[window] = kept(workable, (dpd >= step.from_dpd) & (dpd <= step.to_dpd))
        if idx.size == 0:
            # No account in the step's days past due today: most steps of a valuation's run, each treatment cut
            # to each bucket, most days (the narrowings below would each cost a call for nothing).
            return idx
        idx = kept(idx, self.counters.last_step_day[s][idx] <= day - step.every_days)  # one row: a 1-D gather
        if idx.size == 0:
            return idx
        static = self.static_masks[s]
        if static is not None:
            idx = kept(idx, static[idx])
        return self._narrowed(step, idx)

    def _narrowed(self, step: Step, idx: np.ndarray) -> np.ndarray:
        """:meth:`eligible`'s candidates narrowed by balance, failed attempts and the rules by account."""
        book = self.book
        if step.min_balance > 0:
            idx = kept(idx, book.balance[idx] >= step.min_balance)
        if step.max_balance is not None:
            idx = kept(idx, book.balance[idx] < step.max_balance)
        if step.after_failed > 0:
            idx = kept(idx, self.counters.failed[idx] >= step.after_failed)
        if self.standing is not None:
            idx = kept(idx, self.standing.allowed_at(step.channel, idx))
        return idx

    def send_automated(self, step: Step, s: int, idx: np.ndarray, day: int) -> None:
        """One batch of SMS, e-mail or letters to accounts ``idx``, or as many refusals.

        With rules by account the batch goes out at the send time in each
        consumer's local time, one delivery per book minute, each checked again
        when it goes (a request to stop made since the morning is honoured).
        """
        ctx = self.ctx
        send_minute = parse_clock(step.send_time)
        channel = step.channel
        standing = self.standing
        if ctx.calendar.is_quiet(day) or (standing is None and channel != "letter"
                                          and not ctx.rules.in_window(send_minute)):
            ctx.tally.refusals[day] += idx.size
            return
        if standing is None:
            self._deliver(step, s, idx, day * DAY + send_minute, day)
            return
        idx, minutes = standing.local_send(idx, channel, send_minute, day)
        # One delivery per book minute, in the order of the minutes (each one's accounts ascending, as the
        # batch: a stable sort), each waiting on the call floor (its heap and SimPy's order: sim.engine.floor)
        # as its own SimPy process and timeout would have. A minute another step of this morning already sends
        # at is that step's delivery: this step's part joins it, after the parts before it (_deliver_at).
        order = minutes_order(minutes)  # a stable argsort, by radix (the minutes are within one book day)
        idx, minutes = idx[order], minutes[order]
        cuts = ((minutes[1:] != minutes[:-1]).nonzero()[0] + 1).tolist()  # np.flatnonzero of a 1-D mask, unwrapped
        now = ctx.env.now
        checked = standing.changes  # the batch passed the standing's check just now (eligible)
        if self._sending_day != day:
            self._sending_day, self._sending_at = day, {}
        sending = self._sending_at
        started = []
        for a, b in zip([0, *cuts], [*cuts, idx.size], strict=True):
            if b == a:
                continue  # nobody left to send to (every consumer's local time refused)
            minute = minutes.item(a)
            part = (step, s, idx[a:b], minutes[a:b], checked)
            parts = sending.get(minute)
            if parts is None:
                parts = sending[minute] = [part]
                started.append(FloorProcess(self._deliver_at(parts, minute, day, now)))
            else:
                parts.append(part)
        if started:
            self.floor.start_all(started)

    def _deliver_at(self, parts: list[tuple], minute: int, day: int, now: float):
        """Wait for the send time ``minute`` (from ``now``), then deliver each step's part (step, its number,
        accounts, their minutes, ``checked``) to whoever may still be contacted on its channel: a generator on
        the call floor (or delivered as it starts, when the time has come). ``checked``: the standing's count
        of changes when the part was checked against it (:meth:`eligible`).

        Parts go out in batches (:func:`_delivery_batches`): several steps' parts of one channel to different
        accounts (a plan's ladder sends each cell's SMS as a step of its own) are one batch, every account's
        draws, lift, counts and callbacks its own, and each part's charge is added to the day's costs in the
        order the steps sent them once all have gone, so the numbers are those of the parts one after another
        (a whole-book run of baseline's plan at 5,000 accounts: 14,299 deliveries before, 4,137 batches at 2,109
        minutes and channels).
        """
        on_floor = None
        if minute > now:
            on_floor = yield minute - now
        if self._sending_at.get(minute) is parts:
            del self._sending_at[minute]  # a part sent for this minute from now on starts a delivery of its own
        sent = []
        for batch in _delivery_batches(parts, self.ctx.draws is not None):
            # Checked again before the batch goes out (after the batches before it): a part's requests to stop
            # concern its own accounts only, and a batch's parts have none in common.
            left = []
            for k in batch:
                step, s, idx, mins, checked = parts[k]
                idx, mins = self._still_allowed(step, idx, mins, checked, day)
                if idx.size:
                    left.append((k, s, idx, mins))
            if not left:
                continue
            first = left[0]
            idx = first[2] if len(left) == 1 else np.concatenate([part[2] for part in left])
            mins = first[3] if len(left) == 1 else np.concatenate([part[3] for part in left])
            self._deliver(parts[first[0]][0], first[1], idx, mins, day, on_floor, [(s, i) for _, s, i, _ in left])
            sent += [(k, i.size) for k, _, i, _ in left]
        # The day's costs: each part's in the order the steps sent them, the sum they made one after another
        # (nothing else is charged while the minute's batches go out).
        tally, costs = self.ctx.tally, self.ctx.costs
        for k, count in sorted(sent):
            channel = parts[k][0].channel
            tally.add_cost(day, channel, getattr(costs, channel) * count)

    def _still_allowed(self, step: Step, idx: np.ndarray, minutes: np.ndarray, checked: int, day: int):
        """The part's accounts (and minutes) that may still be contacted on the step's channel; the rest refused."""
        standing = self.standing
        if standing.changes != checked:  # a cease request or an opt-out since: check again (else all still pass)
            still = standing.allowed_at(step.channel, idx)
            if not still.all():
                self.ctx.tally.refusals[day] += int((~still).sum())
                idx, minutes = idx[still], minutes[still]
        return idx, minutes

    def _deliver(self, step: Step, s: int, idx: np.ndarray, minutes, day: int, on_floor: float | None = None,
                 parts: list[tuple[int, np.ndarray]] | None = None) -> None:
        """The batch goes out: counted, charged, logged (with the requests to stop it brings), its lift and
        its callbacks (``on_floor``: the minute of the call floor it goes out at, None from a SimPy process).
        ``parts``: (step number, accounts) of the steps of ``step``'s channel whose messages go out in this
        batch (``idx`` their accounts, distinct, one step's after another's), charged to the accounts here and
        to the day's costs by the caller (:meth:`_deliver_at`)."""
        ctx = self.ctx
        channel = step.channel
        standing = self.standing
        counters = self.counters
        terms = self._delivery_terms.get(channel)
        if terms is None:
            terms = self._delivery_terms[channel] = (Channel[channel.upper()], getattr(ctx.costs, channel),
                                                     ctx.behavior.callback_probability.get(channel, 0.0))
        column, unit_cost, p_callback = terms
        ctx.tally.contacts[day, column] += idx.size
        if parts is None:
            counters.last_step_day[s][idx] = day  # the step's row, then a 1-D scatter (much cheaper than [s, idx])
            ctx.charge(day, channel, idx, unit_cost, idx.size)
        else:
            for part_step, part in parts:
                counters.last_step_day[part_step][part] = day
            if ctx.ledger is not None:
                ctx.ledger.charge(channel, idx, unit_cost)
        recent = counters.contacts_7d[idx]  # the 7 days before today: read once for the reactions and the lift
        # The reactions' pressure and the lift's fatigue are one formula of ``recent`` (fatigue = 1 / pressure):
        # worked out once per delivery when both are read (a valuation's run makes about a thousand).
        pressure = (contact_pressure(ctx.behavior.fatigue, recent, self.hardening)
                    if standing is not None and standing.contact is not None and idx.size else None)
        outcomes = standing.react_to_messages(channel, idx, recent, pressure) if standing is not None else None
        ctx.log.add_batch(idx, minutes, channel, outcomes)
        self.reach(channel, idx, day, recent, pressure)
        if p_callback > 0 and self.callbacks_answered:
            if standing is None:
                self._callbacks(channel, idx, p_callback, parse_clock(step.send_time), day)
            else:
                self._local_callbacks(idx, p_callback, minutes, day, on_floor)

    def reach(self, channel: str, idx: np.ndarray, day: int, recent: np.ndarray | None = None,
              pressure: np.ndarray | None = None) -> None:
        """A batch of messages on ``channel`` reached accounts ``idx`` (distinct): each one's lift, damped by
        the borrower's contacts of the 7 days before today (:func:`sim.domain.fatigue`), then the batch counts
        among those contacts (the 7-day ring, cleared as the week rolls on).

        The one definition of a message's lift and its place in the fatigue window: the ladder's batches and
        a replayed log's (:mod:`.replay`) both go through here. ``recent``: those contacts at ``idx``, when the
        caller has read them already; ``pressure``: their :func:`sim.domain.contact_pressure`, when worked out
        already (its reciprocal is the fatigue, as :func:`sim.domain.fatigue` computes it).
        """
        lift = self.ctx.behavior.lift[channel]
        if lift:
            if pressure is not None:
                listens = 1.0 / pressure
            else:
                if recent is None:
                    recent = self.counters.contacts_7d[idx]
                listens = fatigue(self.ctx.behavior.fatigue, recent, self.hardening)
            self.book.lift(idx, lift * listens)
        self.counters.count_contacts(idx, day, recent)

    def _callbacks(self, channel: str, idx: np.ndarray, p_callback: float, send_minute: int, day: int) -> None:
        """Who calls back after a batch, and when: uniformly from the send time to the end of the window."""
        rules = self.ctx.rules
        start = max(send_minute, rules.window_start) if channel != "letter" else rules.window_start
        end = rules.window_end
        draws = self.ctx.draws
        if draws is None:
            callers = idx[self.automated_rng.random(idx.size) < p_callback]
            when = None
        else:
            u = draws.callback.draw(idx)
            calls_back = u[:, 0] < p_callback
            callers, when = idx[calls_back], u[calls_back, 1]
        if callers.size and end > start:
            if when is None:
                times = day * DAY + self.automated_rng.uniform(start, end, callers.size)
            else:
                times = day * DAY + start + (end - start) * when
            order = np.argsort(times, kind="stable")
            self.start_callers(callers[order], times[order], day)

    def _local_callbacks(self, idx: np.ndarray, p_callback: float, minutes: np.ndarray, day: int,
                         on_floor: float | None) -> None:
        """Callbacks when consumers live in their own time zones: from each one's send time (a letter: the
        opening of their window) to the close of their local window, in the book's minutes. Every account draws
        (the streams stay as they are); the windows and times are worked out only for those whose draw calls
        back (element by element, the same numbers)."""
        if self.ctx.draws is None:
            u = self.automated_rng.random((idx.size, 2))
        else:
            u = self.ctx.draws.callback.draw(idx)
        drawn = (u[:, 0] < p_callback).nonzero()[0]  # np.flatnonzero of a 1-D mask, without its Python wrappers
        if drawn.size == 0:
            return  # nobody calls back (a small batch, most of them): no window to work out
        idx, minutes, u = idx[drawn], minutes[drawn], u[drawn, 1]
        low, high = self.standing.local_window(idx)
        start = np.maximum(minutes - day * DAY, low)
        end = np.minimum(high, DAY).astype(np.float64)
        calls_back = end > start
        times = day * DAY + start + (end - start) * u
        callers, times = idx[calls_back], times[calls_back]
        if callers.size:
            order = np.argsort(times, kind="stable")
            self.start_callers(callers[order], times[order], day, on_floor)


def _delivery_batches(parts: list[tuple], paired: bool) -> list[list[int]]:
    """The parts sent for one minute (step, its number, accounts, …; in the order the steps sent them) as
    batches of one channel each, in the order they go out: positions in ``parts``.

    A batch's parts have no account in common, and every account's messages go out in the order the steps
    sent them (its second sees the first: the 7-day count, an opt-out or a cease request it brought). With
    paired draws (each account's its own) the parts are batched by channel, if that keeps both; under the
    shared streams of an ordinary run, whose draws go to the batches in turn, only consecutive parts of a
    channel are. Parts that share an account go one after another, as they were sent.
    """
    if paired:
        rank: dict[str, int] = {}
        for part in parts:
            rank.setdefault(part[0].channel, len(rank))
        batches: list[list[int]] = [[] for _ in rank]
        for k, part in enumerate(parts):
            batches[rank[part[0].channel]].append(k)
        if len(batches) == len(parts):
            return batches  # one part a channel: the batches are the parts, in their order
        sizes = [part[2].size for part in parts]
        accounts = np.concatenate([part[2] for part in parts])
        part_of = np.repeat(np.arange(len(parts)), sizes)
        batch_of = np.repeat([rank[part[0].channel] for part in parts], sizes)
        order = np.lexsort((part_of, batch_of, accounts))  # by account, then batch, then part
        accounts, part_of, batch_of = accounts[order], part_of[order], batch_of[order]
        again = accounts[1:] == accounts[:-1]
        if not (again & ((batch_of[1:] == batch_of[:-1]) | (part_of[1:] < part_of[:-1]))).any():
            return batches
    batches = []
    k = 0
    while k < len(parts):
        channel = parts[k][0].channel
        j = k + 1
        while j < len(parts) and parts[j][0].channel == channel:
            j += 1
        if j - k > 1 and _disjoint([part[2] for part in parts[k:j]]):
            batches.append(list(range(k, j)))
        else:
            batches += [[i] for i in range(k, j)]
        k = j
    return batches


def _disjoint(parts: list[np.ndarray]) -> bool:
    """Whether no account is in two of the parts (each one's accounts distinct)."""
    joined = np.sort(np.concatenate(parts))
    return not (joined[1:] == joined[:-1]).any()


def _check_step_accounts(step_accounts, steps: int, accounts: int) -> list[np.ndarray | None] | None:
    if step_accounts is None:
        return None
    if len(step_accounts) != steps:
        raise ValueError(f"step_accounts has {len(step_accounts)} entries for {steps} ladder steps")
    out = []
    for mask in step_accounts:
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            if mask.shape != (accounts,):
                raise ValueError(f"a step's account mask must have shape ({accounts},), not {mask.shape}")
        out.append(mask)
    return out
