"""The call centre: each call team's list for the day, the agents working it, and the inbound line.

Every morning each call team's list is built in the strategy's priority order
(cut to what its agents could possibly dial, and without the accounts this
morning's 7-day caps or quiet period already forbid), and each agent's shift
starts on the call floor (:mod:`.floor`; :meth:`CallCentre.agent_shift`, the
engine's hot loop, acts in SimPy's order without a SimPy event per call). Callers (callbacks to automated channels) arrive at their drawn
times and queue FIFO for the same agents; an agent taking a caller whose
patience has run out counts an abandonment. Imports :mod:`sim.domain`, the
book, the contact counters, the teams, the floor and the conversation.
"""

from __future__ import annotations

import heapq
import math
from collections import deque

import numpy as np

from ..contact_log import ROW as LOG_ROW
from ..domain import (
    BUCKETS,
    DELINQUENT_BUCKETS,
    MINUTES_PER_DAY,
    MINUTES_PER_HOUR,
    NO_ANSWER,
    RIGHT_PARTY,
    WRONG_PARTY,
    Channel,
    bucket_of,
    fatigue,
)
from ..streams import AccountDraws, UniformPool
from .book import Book
from .contacts import ContactCounters
from .context import Context
from .conversation import Conversation
from .floor import AgentShift, Floor, FloorProcess
from .rows import distinct_first, kept
from .teams import Team, Teams

DAY = MINUTES_PER_DAY
SERVICE_LEVEL_SECONDS = 20.0
CALL_CODE = int(Channel.CALL)
INBOUND_CODE = int(Channel.INBOUND_CALL)
FATIGUE_TABLE = 256  # recent-contact counts with a precomputed fatigue (more: computed at the dial)
LIST_CHUNK = 4096  # the call list's first positions made Python lists in the morning (CallCentre.list_more)


class CallCentre:
    """The call teams' days: lists, agents, redials and the inbound queue."""

    def __init__(self, ctx: Context, book: Book, counters: ContactCounters, teams: Teams,
                 conversation: Conversation, call_pool: UniformPool, inbound_pool: UniformPool):
        self.ctx = ctx
        self.book = book
        self.counters = counters
        self.teams = teams
        self.conversation = conversation
        self.call_pool = call_pool
        self.inbound_pool = inbound_pool
        self.agent_free_at = [0.0] * len(teams.agent_names)
        self.inbound_queue: deque[tuple[float, int, float]] = deque()
        # The call floor runs every call agent's shift (sim.engine.floor); idle agents wait on it as
        # (shift, token) entries, woken by callers from this queue or by colleagues from the team's own.
        self.floor = Floor(ctx.env)
        self.idle_agents: deque[tuple[AgentShift, int]] = deque()
        # Inbound lines (route_inbound): each account's callers queue for its line's teams only.
        self.line_of_row: list[int] | None = None
        self.inbound_queues: list[deque] = []
        self.idle_by_line: list[deque] = []
        self.inbound_enabled = any(t.spec.inbound and t.agent_ids for t in teams.call)
        behavior, strategy = ctx.behavior, ctx.scenario.strategy
        # Plain-Python copies of what every call reads.
        self.rpc_by_hour = list(behavior.right_party_by_hour)
        # The same rates by whole local minute (two days of them): a dial inside its consumer's window reads
        # int(local minute) instead of working out the hour (int(m) // 60 is m // 60 for m >= 0).
        self.rpc_by_local_minute = [self.rpc_by_hour[(m // MINUTES_PER_HOUR) % 24] for m in range(2 * DAY)]
        self.wrong_party_rate = behavior.wrong_party_rate
        self.lift_attempt = behavior.lift["call_attempt"]
        self.step_attempts = [step.attempts_per_day for step in strategy.steps]
        self.redial_minutes = strategy.redial_minutes
        # Rules by account and contact that reacts (sim.engine.standing; set by the engine when the run has them).
        self.standing = None
        contact = ctx.scenario.contact
        self.pressure = contact.pressure if contact is not None else 0.0
        self.hardening = contact.hardening if contact is not None else 0.0
        self.rpc_by_bucket = np.array([1.0] + [contact.right_party_by_bucket[b] for b in DELINQUENT_BUCKETS]
                                      if contact is not None else [1.0] * len(BUCKETS))
        segments = book.portfolio.segment_names
        self.rpc_by_segment = np.array([contact.right_party_by_segment.get(g, 1.0) if contact is not None else 1.0
                                        for g in segments])
        # Fatigue by the count of recent contacts, computed once (the same function, so the same numbers):
        # the attempt's lift and the right-party chance under contact pressure, read by every dial.
        self.lift_by_recent = [self.lift_attempt * fatigue(behavior.fatigue, n, self.hardening)
                               for n in range(FATIGUE_TABLE)]
        self.listens = [fatigue(self.pressure, n, self.hardening) for n in range(FATIGUE_TABLE)]
        # The columns a dial reads or writes one element of, as memoryviews: a read gives the Python number
        # .item() gives and a write stores the same value, each about half the cost of NumPy's scalar
        # indexing. The book's and the counters' columns are allocated once for the run and changed in place.
        self.pending_lift = memoryview(book.pending_lift)
        self.contacts_7d = memoryview(counters.contacts_7d)
        self.last_conversation = memoryview(counters.last_conversation)
        # Likewise the tally's daily counts an answered caller adds to (the tally's arrays are made once a run).
        tally = ctx.tally
        self.inbound_tally = tuple(memoryview(counts) for counts in (
            tally.inbound_answered, tally.inbound_wait, tally.inbound_waited, tally.inbound_within_target,
            tally.contacts))
        for team in teams.call:
            handle = team.spec.handle_minutes
            team.means = (handle.no_answer, handle.wrong_party, handle.right_party)

    def attempt_lift(self, i: int) -> None:
        """After a dial to account ``i`` (counted among today's contacts when it was made): the attempt's lift,
        damped by the borrower's contacts of the last 7 days, today's included (this one too).

        The one definition of a dial's lift: the agents' loop (:meth:`agent_shift`) has it written out (a method
        call at every dial is the engine's innermost cost) and a test holds the two to the same numbers;
        a replayed log's dials (:mod:`.replay`) call it.
        """
        if not self.lift_attempt:
            return
        recent = self.counters.recent_contacts(i)
        pending_lift = self.pending_lift
        pending_lift[i] = pending_lift[i] + (
            self.lift_by_recent[recent] if recent < FATIGUE_TABLE
            else self.lift_attempt * fatigue(self.ctx.behavior.fatigue, recent, self.hardening))
        self.book.lifted.append(i)

    # ------------------------------------------------------------------------- the morning

    def plan_day(self, team: Team, lists: list[tuple[np.ndarray, int]], day: int) -> None:
        """Build the team's call list (accounts and their ladder steps) and start its agents' shifts."""
        team.redial = deque()
        team.opening = []
        team.idle = deque()
        team.watching = False
        team.cursor = 0
        team.queue_list, team.queue_step_list, team.queue_size, team.queue_ready = [], [], 0, 0
        team.queue_reach = team.queue_pending = None
        if not self.teams.works_today(team, day) or not team.agent_ids:
            return
        if lists:
            idx, steps = self._call_list(team, lists, day)
            team.queue_size = idx.size
            team.queue_pending = (idx, steps, lists[0][1])
            if self.standing is not None:
                team.queue_reach = ([], [], [], [], [], [], [], [])
            self.list_more(team, 0)
        shifts = []
        for agent in team.agent_ids:
            for start, end in team.shifts_of(agent):
                shift = AgentShift()
                shift.gen = self.agent_shift(team, agent, day * DAY + start, day * DAY + end, day, shift)
                shifts.append(shift)
        self.floor.start_all(shifts)  # in this order, as one SimPy process per shift would start

    def _call_list(self, team: Team, lists: list[tuple[np.ndarray, int]], day: int):
        """Today's accounts for the team in call order, and each one's ladder step (None: all the one step)."""
        if len(lists) == 1:
            idx, steps = lists[0][0], None
        else:
            idx = np.concatenate([a for a, _ in lists])
            steps = np.concatenate([np.full(a.size, s) for a, s in lists])
            idx, first = distinct_first(idx)
            steps = steps[first]
        # Rules that already forbid a call today (as of this morning) refuse it now.
        refused = self.counters.refused_this_morning(idx, day)
        if refused.any():
            self.ctx.tally.refusals[day] += int(refused.sum())
            keep = ~refused
            idx = kept(idx, keep)
            steps = kept(steps, keep) if steps is not None else None
        minutes = team.staffed_minutes()
        handle = team.spec.handle_minutes
        shortest = min(handle.no_answer, handle.wrong_party, handle.right_party)
        # More than agents could ever dial today is never reached: keep the best.
        reach = int(2 * minutes / shortest) + 100
        if idx.size > reach:
            key = self.book.priority_key(idx)
            keep = np.sort(np.argpartition(key, reach)[:reach])
            idx = idx[keep]
            steps = steps[keep] if steps is not None else None
        order = self.book.call_order(idx)
        return idx[order], (steps[order] if steps is not None else None)

    def list_more(self, team: Team, k: int) -> None:
        """The team's list as Python lists (what the agents' loop reads), up to position ``k`` at least.

        The list is cut to what the agents could dial if every call were the
        shortest (``_call_list``), several times what they do dial, so it is
        turned into Python lists (and each position's ``_reach`` computed) a
        chunk of ``LIST_CHUNK`` positions at a time, as the agents get to it
        (not doubling: at a million accounts the agents read about 10,000 of
        the 96,000 positions, and a doubled chunk computed 16,384). Everything ``_reach`` reads stays as it
        was this morning until 24:00 (days past due, the 7-day counts, rule
        sets and windows change in the morning or the evening only), and every
        shift ends by 24:00, so a chunk read later in the day holds the numbers
        the whole list would have held.
        """
        idx, steps, step = team.queue_pending
        ready = team.queue_ready
        stop = min(idx.size, max(k + 1, ready + LIST_CHUNK))
        part = idx[ready:stop]
        team.queue_list.extend(part.tolist())
        team.queue_step_list.extend(steps[ready:stop].tolist() if steps is not None else [step] * part.size)
        if team.queue_reach is not None:
            for column, values in zip(team.queue_reach, self._reach(part), strict=True):
                column.extend(values)
        team.queue_ready = stop

    def _reach(self, idx: np.ndarray) -> tuple[list, ...]:
        """What each listed account's dial reads, computed in arrays a chunk of the list at a time
        (:meth:`list_more`): its contact window in
        the book's minutes, its offset from the book's time (for its local hour), its right-party
        multiplier by bucket and segment, its dial attempts of the last 7 days (contact pressure), and
        what its rule set leaves it today: dial attempts and conversations (the daily caps and what the
        7-day caps leave; the 7-day counts change only at 24:00), and whether a conversation today
        starts a quiet period (ContactCounters.refused_later_today, by list position)."""
        book, counters, standing = self.book, self.counters, self.standing
        lo, hi = standing.local_window(idx)
        factor = self.rpc_by_bucket[bucket_of(book.dpd[idx])] * self.rpc_by_segment[book.segment[idx]]
        attempts_7d = counters.attempts_7d[idx]
        sets = standing.rule_set[idx]
        tries_left = np.minimum(standing.cap_attempts_day[sets], standing.cap_attempts_7d[sets] - attempts_7d)
        connects_left = np.minimum(standing.cap_connects_day[sets],
                                   standing.cap_conversations_7d[sets] - counters.connects_7d[idx])
        # The window and the offset as floats: the agents compare and add them to the floor's (float) clock.
        return (lo.astype(np.float64).tolist(), hi.astype(np.float64).tolist(),
                standing.offset[idx].astype(np.float64).tolist(), factor.tolist(), attempts_7d.tolist(),
                tries_left.tolist(), connects_left.tolist(), (standing.quiet_days[sets] > 0).tolist())

    # ------------------------------------------------------------------------- the agents

    # The hot path: one pass of this loop per call. It is kept whole, with
    # everything it reads bound to locals once per shift, because splitting it
    # into methods costs an attribute lookup and a call per dial (measured by
    # benchmarks/limits.py); hence the complexity exemption.
    def agent_shift(self, team: Team, agent: int, start: float, end: float, day: int,  # noqa: C901, PLR0912, PLR0915
                    shift: AgentShift):
        """An agent works one shift: inbound callers first, then the call list, until the shift ends.

        A generator on the call floor (:mod:`.floor`): it yields the minutes it
        is busy and is sent the time it resumes at. An outbound call is the
        engine's innermost loop, so it is written out here with everything it
        reads bound to locals: the rules that can change during the day (the
        clock, today's own attempts and conversations) are checked at the dial
        — the 7-day caps and the quiet period as of this morning were applied
        when the list was built (``_call_list``) — then one uniform picks the
        outcome by the hour, one exponential the length.
        """
        ctx = self.ctx
        # The floor's clock is a float: the shift's bounds, the day's start and the windows are floats too (the
        # same values, whole minutes), so that comparing and subtracting them with the clock takes the
        # interpreter's float-only fast path (an int beside a float takes the generic one, several times slower).
        start, end = float(start), float(end)
        # An agent still on a call from the previous shift starts when it ends.
        start = max(start, self.agent_free_at[agent])
        if start >= end:
            return
        now = ctx.env.now
        now = yield (start - now if start > now else 0.0)
        tally = ctx.tally
        tally.agent_paid[day] += end - start
        tally.add_cost(day, "agent_time", (end - start) * ctx.costs.agent_minute)
        handle = team.spec.handle_minutes
        exponential = team.spec.handle_distribution == "exponential"
        pool = self.call_pool
        uniforms = pool.uniforms  # shared with the conversations, which draw from it between dials
        draws = ctx.draws
        dial_draws = draws.dial.draw if draws is not None else None
        answers_inbound = team.spec.inbound
        inbound_queue = self.inbound_queue if team.line is None else self.inbound_queues[team.line]
        free_at = self.agent_free_at
        floor = self.floor
        idle_agents = self.idle_agents if team.line is None else self.idle_by_line[team.line]
        means = team.means
        day_start = float(day * DAY)
        counters = self.counters
        window_start, window_end = (float(minute) for minute in counters.window)
        rpc_by_hour = self.rpc_by_hour
        wrong_party_rate = self.wrong_party_rate
        blocked, conversed = counters.blocked_today, counters.conversed_today
        attempts, contacts, connects = counters.today_attempts, counters.today_contacts, counters.today_connects
        failed, steps_today, outcomes = counters.today_failed, counters.today_steps, counters.outcomes_today
        log = ctx.log if ctx.log.enabled else None
        # ContactLogBuilder.add and .conclude, written out: the agents' rows, six numbers a row.
        log_rows = log.agent_rows_list() if log is not None else None
        lift_attempt, fatigue_rate = self.lift_attempt, ctx.behavior.fatigue
        lift_by_recent = self.lift_by_recent  # lift_attempt * fatigue(fatigue_rate, n, hardening) by n
        lift_known = len(lift_by_recent)
        pending_lift, contacts_7d = self.pending_lift, self.contacts_7d  # memoryviews (see __init__)
        lifted = self.book.lifted  # cleared in place each evening
        step_attempts, redial_minutes = self.step_attempts, float(self.redial_minutes)  # a float, as the clock
        refused_later_today = counters.refused_later_today
        # ContactCounters.record_conversation, written out: what a conversation starts and resets.
        last_conversation, failed_reset = self.last_conversation, counters.failed_reset_today
        # Its bound method: calling the instance goes through type slots, three times the cost of the call.
        conversation = self.conversation.__call__
        heappush, heappop = heapq.heappush, heapq.heappop
        ln = math.log
        per_hour = MINUTES_PER_HOUR  # sim.domain.hour_of, written out: one call fewer per dial
        rpc_by_local_minute = self.rpc_by_local_minute
        # Rules by account and contact that reacts: each listed account's window, offset, right-party
        # multiplier, 7-day attempts and what its rules leave of today's attempts and conversations
        # (CallCentre._reach), read by the list position k.
        reach = team.queue_reach
        if reach is not None:
            lows, highs, shifts, factors, attempts_before, tries_left, connects_left, quiet = reach
        pressure, hardening = self.pressure, self.hardening
        listens = self.listens  # fatigue(pressure, n, hardening) by n
        listens_known = len(listens)
        queue_list, queue_step_list = team.queue_list, team.queue_step_list
        # Today's redials, accounts waiting for their window and idle agents, and the list's length: made by
        # this morning's plan_day and read at every pass of the loop, which runs before midnight (shifts end
        # by 24:00). A redial pushed after a call that ends past midnight goes to team.redial, tomorrow's.
        redial, opening, idle, queue_size = team.redial, team.opening, team.idle, team.queue_size
        shift_over = None
        while now < end:
            if answers_inbound and inbound_queue:
                arrival, account, patience = inbound_queue.popleft()
                if now - arrival > patience:
                    tally.inbound_abandoned[int(arrival // DAY)] += 1
                    continue
                if not exponential:
                    duration = handle.inbound
                elif draws is None:
                    duration = pool.exponential(handle.inbound)
                else:
                    duration = AccountDraws.exponential(handle.inbound, draws.inbound_length.draw(account)[0])
                row = self._answer_inbound(account, arrival, now, agent, duration)
                counters.busy_today += duration
                free_at[agent] = now + duration
                now = yield duration
                ctx.log.conclude(row, conversation(account, int(now // DAY), "inbound_call"))
                continue
            # The redials: no-answers in the order they fell due (a queue: they are pushed as the floor's
            # clock runs, at a fixed delay), and accounts waiting for their local window to open (a heap).
            if redial and redial[0][0] <= now:
                due = heappop(opening) if opening and opening[0] < redial[0] else redial.popleft()
            elif opening and opening[0][0] <= now:
                due = heappop(opening)
            else:
                due = None
            if due is not None:
                _, i, k, s = due
                if idle and ((redial and redial[0][0] <= now) or (opening and opening[0][0] <= now)):
                    floor.wake(idle, now)  # more redials are due: let a colleague help (none idle: no call)
                if reach is not None:
                    if team.queue_ready <= k < queue_size:
                        self.list_more(team, k)
                    if k >= queue_size or queue_list[k] != i:
                        continue  # pushed by a call that ended after midnight: yesterday's list, not today's
            else:
                k = team.cursor  # the list's next position (shared with the team's other agents)
                if k < queue_size:
                    team.cursor = k + 1
                    if k >= team.queue_ready:  # the next chunk of the list (list_more)
                        self.list_more(team, k)
                    i, s = queue_list[k], queue_step_list[k]
                else:
                    i = -1
            if i >= 0:
                # ---- the dial: may the call be made now?
                if i in blocked:
                    continue  # took a plan or disputed earlier today
                minute_of_day = now - day_start
                tried = attempts.get(i, 0)
                if reach is not None:
                    window_start, window_end = lows[k], highs[k]  # the consumer's local window
                    if minute_of_day < window_start:  # not yet open where they live: back when it opens
                        heappush(opening, (day_start + window_start, i, k, s))
                        continue
                    # ContactCounters.refused_later_today, with this morning's caps and counts per position.
                    if not minute_of_day < window_end or ((tried or i in conversed) and (
                        tried >= tries_left[k] or connects.get(i, 0) >= connects_left[k]
                        or (quiet[k] and i in conversed)
                    )):
                        counters.refusals_today += 1
                        continue
                elif not (window_start <= minute_of_day < window_end) or (
                    (tried or i in conversed) and refused_later_today(i, tried, day)
                ):
                    counters.refusals_today += 1
                    continue
                # The outcome's uniform and a unit exponential for the length, in one draw.
                if dial_draws is None:
                    # UniformPool.uniform_and_exponential(1.0): two of the pool's draws, without a Python frame.
                    u = next(uniforms)
                    unit_length = -ln(1.0 - next(uniforms))  # -1.0 * log(…), exactly
                else:
                    u, v = dial_draws(i)  # the account's own next dial
                    unit_length = -ln(1.0 - v)
                if reach is None:
                    p_right = rpc_by_hour[int(minute_of_day // per_hour)]
                else:  # by the consumer's local hour, bucket and segment, lower under contact pressure
                    n = attempts_before[k] + tried
                    # The local minute is inside the consumer's window (checked above), so within 0 … 1440.
                    p_right = (rpc_by_local_minute[int(minute_of_day + shifts[k])] * factors[k]
                               * (listens[n] if n < listens_known else fatigue(pressure, n, hardening)))
                if u < p_right:
                    outcome = RIGHT_PARTY
                elif u < p_right + wrong_party_rate:
                    outcome = WRONG_PARTY
                else:
                    outcome = NO_ANSWER
                mean = means[outcome]
                duration = mean * unit_length if exponential else mean
                attempts[i] = tried + 1
                contacts[i] = contacts.get(i, 0) + 1  # counters.count_agent_contact(i), written out
                if not tried:
                    steps_today += (s, i)
                outcomes[outcome] += 1
                if log is not None:  # log.add(…), written out: the row's number, then its numbers
                    row = len(log_rows) // LOG_ROW
                    log_rows += (i, now, CALL_CODE, outcome, agent, duration)
                if outcome == RIGHT_PARTY:
                    last_conversation[i] = day  # the quiet period starts, failed attempts reset
                    conversed.add(i)
                    failed[i] = 0
                    failed_reset.add(i)
                    connects[i] = connects.get(i, 0) + 1
                else:
                    failed[i] = failed.get(i, 0) + 1
                counters.busy_today += duration
                free_at[agent] = now + duration
                # ---- the call
                now = yield duration
                # ---- after the call: the attempt's lift, the conversation or a redial
                if lift_attempt:  # attempt_lift(i), written out
                    # Elements read through memoryviews: Python numbers, the same sum (float64 + float is the
                    # same IEEE addition either way).
                    recent = contacts_7d[i] + contacts.get(i, 0)
                    pending_lift[i] = pending_lift[i] + (
                        lift_by_recent[recent] if recent < lift_known
                        else lift_attempt * fatigue(fatigue_rate, recent, hardening))
                    lifted.append(i)
                if outcome == RIGHT_PARTY:
                    ended = conversation(i, day, "right_party_contact")
                    if log is not None and ended is not None:  # log.conclude(row, ended), written out:
                        log_rows[row * LOG_ROW + 3] = ended  # the row carries the conversation's result
                elif outcome == NO_ANSWER and attempts.get(i, 0) < step_attempts[s]:
                    team.redial.append((now + redial_minutes, i, k, s))
                continue
            # Nothing to do now. One agent of the team watches the redial timer;
            # the others sleep until a caller or a colleague wakes them.
            first_due = (min(redial[0][0], opening[0][0]) if opening else redial[0][0]) if redial else (
                opening[0][0] if opening else None)
            watch = first_due is not None and not team.watching and first_due < end
            if not answers_inbound and not watch and first_due is None:
                return
            if shift_over is None:
                # The time and place in order a SimPy timeout of ``end - now`` made now would have.
                shift_over, shift_over_order = now + (end - now), floor.next_order()
            token = shift.token
            if answers_inbound:
                idle_agents.append((shift, token))
            if watch:
                team.watching = True
                due = now + (first_due - now)
                if due < shift_over:
                    floor.sleep(shift, due, floor.next_order(), now)
                else:
                    floor.sleep(shift, shift_over, shift_over_order, now)
                now = yield None
                team.watching = False
            else:
                idle.append((shift, token))
                floor.sleep(shift, shift_over, shift_over_order, now)
                now = yield None
            # Awake (by a colleague, a caller or the timer): the sleep's other wake-ups are void.
            shift.asleep = False
            shift.token = token + 1

    # ------------------------------------------------------------------------- inbound

    def start_callers(self, accounts: np.ndarray, times: np.ndarray, day: int, on_floor: float | None = None) -> None:
        """Callbacks of one batch: they arrive at ``times`` (ascending) and queue for the agents.

        They arrive on the call floor (:mod:`.floor`), not as SimPy events: from a SimPy process (the morning's
        batches) they start as their own process would (``on_floor`` None); from a delivery the floor is running
        at minute ``on_floor``, right away, as their process would have begun right after the delivery's.
        """
        floor = self.floor
        if on_floor is None:
            floor.start(FloorProcess(self._callers(accounts, times, day, self.ctx.env.now)))
        else:
            floor.begin(FloorProcess(self._callers(accounts, times, day, on_floor)), on_floor)

    def _callers(self, accounts: np.ndarray, times: np.ndarray, day: int, now: float):
        """The batch's callers, one after another from ``now``: a generator on the floor (it yields the minutes
        until the next caller, as a SimPy timeout would wait, and is sent the time it resumes at)."""
        ctx = self.ctx
        pool = self.inbound_pool
        patience_mean = ctx.behavior.patience_minutes
        tally_arrivals, last_day = ctx.tally.inbound_arrivals, ctx.days - 1
        draws = ctx.draws
        queue, wake, idle = self.inbound_queue, self.floor.wake, self.idle_agents
        line_of_row = self.line_of_row
        for account, at in zip(accounts.tolist(), times.tolist(), strict=True):
            if at > now:
                now = yield at - now
            tally_arrivals[min(int(at // DAY), last_day)] += 1
            if draws is None:
                patience = pool.exponential(patience_mean)
            else:
                patience = AccountDraws.exponential(patience_mean, draws.patience.draw(account)[0])
            if line_of_row is not None:
                line = line_of_row[account]
                queue, idle = self.inbound_queues[line], self.idle_by_line[line]
            queue.append((at, account, patience))
            if idle:  # Floor.wake does nothing on an empty queue: not called
                wake(idle, now)

    def route_inbound(self, line_of_row: np.ndarray, line_of_team: dict[str, int]) -> None:
        """Several inbound lines: an account's callers queue for the teams of its line (``line_of_row``), each
        team answering its own (``line_of_team``, by team name)."""
        lines = int(line_of_row.max()) + 1 if line_of_row.size else 0
        self.line_of_row = line_of_row.tolist()
        self.inbound_queues = [deque() for _ in range(lines)]
        self.idle_by_line = [deque() for _ in range(lines)]
        for team in self.teams.call:
            team.line = line_of_team[team.name]

    def _answer_inbound(self, i: int, arrival: float, now: float, agent: int, duration: float) -> int:
        """Count an answered caller and log the call; returns its contact-log row (−1: no log)."""
        ctx = self.ctx
        answered, waits, waited, within_target, contacts = self.inbound_tally  # memoryviews (see __init__)
        last_day = ctx.days - 1
        arrival_day = min(int(arrival // DAY), last_day)
        wait = now - arrival
        answered[arrival_day] += 1
        waits[arrival_day] += wait
        if wait > 1e-9:
            waited[arrival_day] += 1
        if wait <= SERVICE_LEVEL_SECONDS / 60.0:  # seconds → minutes, the clock's unit
            within_target[arrival_day] += 1
        day = min(int(now // DAY), last_day)
        contacts[day, INBOUND_CODE] += 1  # the series' column is the channel's code
        row = ctx.log.add(i, now, INBOUND_CODE, RIGHT_PARTY, agent, duration)
        # A borrower-initiated call is still a telephone conversation for Reg F.
        self.counters.record_conversation(i, day)
        return row

