"""The hybrid engine: arrays for the book, SimPy events where capacity is.

* The **book** (every account's balance, days past due, intensity, promises,
  plans, contact counters) lives in NumPy arrays. One daily SimPy process
  advances all of it at once: automated channels in the morning, then at the
  end of the day repayments, promises and instalments due, interest and fees,
  ageing and charge-off.
* The **capacity** is SimPy processes: call agents work through the day's
  prioritised call list inside their shifts and the contact window, answering
  inbound callbacks first (callers abandon when their patience runs out);
  field agents make visits; the legal team files cases that resolve after a
  delay. Every call or visit is an event with its own duration and outcome.

A run costs accounts × days of vector work plus the contacts actually made,
never accounts × days × events. Compliance rules are checked before every
contact; a contact that would break one is refused and counted.
"""

from __future__ import annotations

import heapq
import math
from collections import defaultdict, deque
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import simpy

from .behavior import (
    complaint_probability,
    conversation_outcome,
    fatigue_factor,
    floor_intensity,
    repayment_day,
)
from .compliance import ContactCalendar, ContactRules
from .contact_log import ContactLogBuilder
from .domain import (
    ACTIVE,
    ALL_CHANNELS,
    CHARGED_OFF,
    CURED,
    DISPUTE,
    IN_LEGAL,
    LEGAL_CLOSED,
    MINUTES_PER_DAY,
    NO_AGENT,
    NO_ANSWER,
    NO_OUTCOME,
    PAID_OFF,
    PLAN,
    PROMISE,
    RIGHT_PARTY,
    ROLL_STATES,
    TEAM_KIND_OF_CHANNEL,
    WEEKDAYS,
    WRONG_PARTY,
    Channel,
    RollState,
    bucket_of,
    fatigue,
    hour_of,
    priority_key,
)
from .ledger import AccountLedger
from .portfolio import Portfolio
from .scenario import Scenario, Step, TeamSection, parse_clock
from .streams import AccountDraws, RandomStreams, UniformPool

DAY = MINUTES_PER_DAY
NEVER = -(10**6)
SERVICE_LEVEL_SECONDS = 20.0
CALL_CODE = int(Channel.CALL)
INBOUND_CODE = int(Channel.INBOUND_CALL)
VISIT_CODE = int(Channel.FIELD_VISIT)
LEGAL_CODE = int(Channel.LEGAL)
LEGAL_FILING_MINUTE = 9 * 60  # a filing is logged at 09:00 of its day
SERIES_CHANNELS = ALL_CHANNELS  # the columns of the daily contacts series
__all__ = ["DAY", "ROLL_STATES", "SERIES_CHANNELS", "WEEKDAYS", "Engine", "Tally"]


@dataclass
class Tally:
    """Everything a run counts; turned into KPIs and series by ``metrics``."""

    days: int
    collected: np.ndarray = field(init=False)
    interest_and_fees: np.ndarray = field(init=False)
    written_off: np.ndarray = field(init=False)
    cost: np.ndarray = field(init=False)
    outstanding_by_bucket: np.ndarray = field(init=False)
    contacts: np.ndarray = field(init=False)
    call_outcomes: np.ndarray = field(init=False)
    refusals: np.ndarray = field(init=False)
    inbound_arrivals: np.ndarray = field(init=False)
    inbound_answered: np.ndarray = field(init=False)
    inbound_within_target: np.ndarray = field(init=False)
    inbound_abandoned: np.ndarray = field(init=False)
    inbound_waited: np.ndarray = field(init=False)
    inbound_wait: np.ndarray = field(init=False)
    agent_busy: np.ndarray = field(init=False)
    agent_paid: np.ndarray = field(init=False)
    promises_made: np.ndarray = field(init=False)
    promises_kept: np.ndarray = field(init=False)
    promises_broken: np.ndarray = field(init=False)
    plans_started: np.ndarray = field(init=False)
    disputes: np.ndarray = field(init=False)
    complaints: np.ndarray = field(init=False)
    payments: np.ndarray = field(init=False)
    rolled_past_30: np.ndarray = field(init=False)
    cost_by_item: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    roll_counts: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        d = self.days
        for name in ("collected", "interest_and_fees", "written_off", "cost", "inbound_wait",
                     "agent_busy", "agent_paid"):
            setattr(self, name, np.zeros(d))
        for name in ("refusals", "inbound_arrivals", "inbound_answered", "inbound_within_target",
                     "inbound_abandoned", "inbound_waited", "promises_made", "promises_kept", "promises_broken",
                     "plans_started", "disputes", "complaints", "payments", "rolled_past_30"):
            setattr(self, name, np.zeros(d, dtype=np.int64))
        self.outstanding_by_bucket = np.zeros((d, len(ROLL_STATES)))
        self.contacts = np.zeros((d, len(SERIES_CHANNELS)), dtype=np.int64)
        self.call_outcomes = np.zeros((d, 3), dtype=np.int64)
        self.roll_counts = np.zeros((len(ROLL_STATES), len(ROLL_STATES)), dtype=np.int64)

    def add_cost(self, day: int, item: str, amount: float) -> None:
        if amount:
            self.cost[min(day, self.days - 1)] += amount
            self.cost_by_item[item] += amount


@dataclass
class _Team:
    name: str
    spec: TeamSection
    agent_ids: list[int]
    shifts: list[tuple[int, int]]
    cursor: int = 0
    redial: list[tuple[float, int, int, int]] = field(default_factory=list)
    queue_list: list = field(default_factory=list)
    queue_step_list: list = field(default_factory=list)
    queue_size: int = 0
    means: tuple = (1.0, 1.0, 1.0)
    idle: deque = field(default_factory=deque)
    watching: bool = False


class Engine:
    """One simulation run of one scenario with one set of random streams."""

    def __init__(self, scenario: Scenario, portfolio: Portfolio, streams: RandomStreams,
                 *, record_contacts: bool = True, progress=None,
                 step_accounts: Sequence[np.ndarray | None] | None = None, ledger: bool = False,
                 paired_draws: bool = False):
        """``step_accounts``: per ladder step, the accounts it may act on (a boolean mask, or None for all),
        so that one strategy can give different accounts different steps; ``ledger``: keep an
        :class:`~sim.ledger.AccountLedger` (needs ``record_contacts`` for the agents' work);
        ``paired_draws``: draw each account's outcomes from its own numbered sequence
        (:class:`~sim.streams.AccountDraws`) instead of the shared streams."""
        if ledger and not record_contacts:
            raise ValueError("the account ledger reads agent work from the contact log: record_contacts=True")
        self.scenario = scenario
        self.portfolio = portfolio
        self.streams = streams
        self.progress = progress
        self.days = scenario.simulation.days
        self.behavior = scenario.behavior
        self.costs = scenario.costs
        self.rules = ContactRules.from_section(scenario.compliance)
        self.calendar = ContactCalendar(self.rules, scenario.simulation.start_date, self.days)
        self.env = simpy.Environment()
        self.tally = Tally(self.days)
        self.log = ContactLogBuilder(record_contacts)
        self.call_pool = UniformPool(streams["calls"])
        self.inbound_pool = UniformPool(streams["inbound"])
        self.field_pool = UniformPool(streams["field"])
        self.legal_rng = streams["legal"]
        self.automated_rng = streams["automated"]
        self.payment_rng = streams["payments"]
        self.followup_rng = streams["payment_followups"]
        self.promise_rng = streams["promises"]
        self._init_book()
        # Repayment draws stay on the shared stream in both modes: every account
        # draws one per day, so they are already numbered by account and day.
        self.draws = AccountDraws(streams.seed_sequence, self.n) if paired_draws else None
        self._step_accounts = self._check_step_accounts(step_accounts)
        self.ledger = AccountLedger(self.n, self.days) if ledger else None
        self._init_teams()
        self._init_fast_paths()

    # ------------------------------------------------------------------------- set-up

    def _init_book(self) -> None:
        p = self.portfolio
        n = len(p)
        self.n = n
        self.balance = p.balance.astype(np.float64, copy=True)
        self.past_due = p.past_due.astype(np.float64, copy=True)
        self.dpd = p.days_past_due.astype(np.int32, copy=True)
        self.segment = p.segment
        self.phone = p.phone_known
        self.email = p.email_known
        self.status = np.where(self.balance > 0, ACTIVE, PAID_OFF).astype(np.int8)
        self.status[(self.dpd == 0) & (self.status == ACTIVE)] = CURED
        self.floor = floor_intensity(self.behavior, bucket_of(self.dpd), self.segment, p.segment_names)
        if self.behavior.model == "cgw":
            self.intensity = np.full(n, self.behavior.lambda0)
        else:
            self.intensity = self.floor.copy()
        self.pending_lift = np.zeros(n)
        self.in_plan = np.zeros(n, dtype=bool)
        self.plan_amount = np.zeros(n)
        self.plan_left = np.zeros(n, dtype=np.int32)
        self.plan_missed = np.zeros(n, dtype=np.int8)
        self.promise_amount = np.zeros(n)
        self.promise_day = np.full(n, NEVER, dtype=np.int32)
        self.plan_next_day = np.full(n, NEVER, dtype=np.int32)
        self.failed = np.zeros(n, dtype=np.int32)
        self.last_conversation = np.full(n, NEVER, dtype=np.int32)
        self.paused_until = np.zeros(n, dtype=np.int32)
        self.legal_queued = np.zeros(n, dtype=bool)
        steps = self.scenario.strategy.steps
        self.last_step_day = np.full((max(len(steps), 1), n), NEVER, dtype=np.int32)
        # Rolling 7-day counters: a ring of per-day counts and their running sum.
        self.attempt_ring = np.zeros((7, n), dtype=np.int8)
        self.attempts_7d = np.zeros(n, dtype=np.int16)
        self.connect_ring = np.zeros((7, n), dtype=np.int8)
        self.connects_7d = np.zeros(n, dtype=np.int16)
        self.contact_ring = np.zeros((7, n), dtype=np.int8)
        self.contacts_7d = np.zeros(n, dtype=np.int16)
        self.visit_days: dict[int, deque[int]] = defaultdict(deque)
        self.promises_due: dict[int, list[int]] = defaultdict(list)
        self.plans_due: dict[int, list[int]] = defaultdict(list)
        self.legal_queue: deque[int] = deque()
        self._filed: set[int] = set()  # accounts in legal, filed and awaiting their outcome
        self._paid_today: list[np.ndarray] = []  # accounts that paid something today
        self.legal_resolutions: dict[int, list[tuple[int, TeamSection]]] = defaultdict(list)
        self.initial_balance = float(self.balance.sum())
        self.interest_and_fees_total = 0.0
        self.collected_total = 0.0
        self.written_off_total = 0.0
        self.cured_ever = np.zeros(n, dtype=bool)

    def _check_step_accounts(self, step_accounts) -> list[np.ndarray | None] | None:
        if step_accounts is None:
            return None
        steps = self.scenario.strategy.steps
        if len(step_accounts) != len(steps):
            raise ValueError(f"step_accounts has {len(step_accounts)} entries for {len(steps)} ladder steps")
        out = []
        for mask in step_accounts:
            if mask is not None:
                mask = np.asarray(mask, dtype=bool)
                if mask.shape != (self.n,):
                    raise ValueError(f"a step's account mask must have shape ({self.n},), not {mask.shape}")
            out.append(mask)
        return out

    def _init_teams(self) -> None:
        self.call_teams: list[_Team] = []
        self.field_teams: list[_Team] = []
        self.legal_teams: list[_Team] = []
        self._teams_of_kind = {"call": self.call_teams, "field": self.field_teams, "legal": self.legal_teams}
        self.agent_names: list[str] = []
        for name, spec in self.scenario.teams.items():
            ids = []
            count = spec.agents if spec.kind != "legal" else 0
            for k in range(count):
                ids.append(len(self.agent_names))
                self.agent_names.append(f"{name}-{k + 1}")
            team = _Team(name=name, spec=spec, agent_ids=ids, shifts=spec.shift_minutes)
            self._teams_of_kind[spec.kind].append(team)
        self.agent_free_at = [0.0] * len(self.agent_names)
        self.inbound_queue: deque[tuple[float, int, float]] = deque()
        self.idle_agents: deque[simpy.Event] = deque()
        self.inbound_enabled = any(t.spec.inbound and t.agent_ids for t in self.call_teams)
        self.team_by_name = {t.name: t for t in (*self.call_teams, *self.field_teams, *self.legal_teams)}

    def _init_fast_paths(self) -> None:
        """Plain-Python copies of what every call reads, and today's counters.

        A call is the engine's innermost loop: rules, probabilities and handle
        times are resolved once here, and the day's attempts, connections and
        contacts are counted in dicts that are folded into the 7-day arrays at
        the end of the day (one vector update instead of one per call).
        """
        rules = self.rules
        big = 10**9
        self._window = (rules.window_start, rules.window_end)
        self._cap_attempts_7d = rules.max_call_attempts_7d if rules.max_call_attempts_7d is not None else big
        self._quiet_days = rules.quiet_days_after_conversation
        self._cap_attempts_day = rules.max_attempts_per_day if rules.max_attempts_per_day is not None else big
        self._cap_connects_day = (rules.max_connected_calls_per_day
                                  if rules.max_connected_calls_per_day is not None else big)
        self._cap_conversations_7d = rules.max_conversations_7d if rules.max_conversations_7d is not None else big
        self._step_masks = self._static_step_masks()
        self._any_paused = False
        self._rpc_by_hour = list(self.behavior.right_party_by_hour)
        self._wrong_party_rate = self.behavior.wrong_party_rate
        self._lift_attempt = self.behavior.lift["call_attempt"]
        self._step_attempts = [step.attempts_per_day for step in self.scenario.strategy.steps]
        self._redial_minutes = self.scenario.strategy.redial_minutes
        for team in self.call_teams:
            handle = team.spec.handle_minutes
            team.means = (handle.no_answer, handle.wrong_party, handle.right_party)
        self._today_attempts: dict[int, int] = {}
        self._today_connects: dict[int, int] = {}
        self._today_contacts: dict[int, int] = {}
        self._today_steps: list[int] = []  # step index, account: two entries per dialled account
        self._today_failed: dict[int, int] = {}
        self._failed_reset_today: set[int] = set()
        self._conversed_today: set[int] = set()
        self._blocked_today: set[int] = set()
        self._outcomes_today = [0, 0, 0]
        self._reset_today()

    def _reset_today(self) -> None:
        # Cleared in place, never replaced: agent processes hold these containers
        # in locals (a call that ends after midnight counts on the new day).
        for container in (self._today_attempts, self._today_connects, self._today_contacts, self._today_steps,
                          self._today_failed, self._failed_reset_today, self._conversed_today,
                          self._blocked_today):
            container.clear()
        self._outcomes_today[:] = (0, 0, 0)
        self._refusals_today = 0
        self._busy_today = 0.0

    def _fold_today(self, day: int) -> None:
        """Fold the day's call counters into the rolling 7-day arrays and the tally."""
        slot = day % 7
        for counts, ring, total in ((self._today_attempts, self.attempt_ring, self.attempts_7d),
                                    (self._today_connects, self.connect_ring, self.connects_7d),
                                    (self._today_contacts, self.contact_ring, self.contacts_7d)):
            if counts:
                idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
                add = np.fromiter(counts.values(), dtype=np.int64, count=len(counts))
                ring[slot, idx] += add.astype(ring.dtype)
                total[idx] += add.astype(total.dtype)
        if self._today_steps:
            pairs = np.fromiter(self._today_steps, dtype=np.int64, count=len(self._today_steps))
            self.last_step_day[pairs[0::2], pairs[1::2]] = day
        if self._failed_reset_today:
            self.failed[np.fromiter(self._failed_reset_today, dtype=np.int64)] = 0
        if self._today_failed:
            idx = np.fromiter(self._today_failed.keys(), dtype=np.int64, count=len(self._today_failed))
            self.failed[idx] += np.fromiter(self._today_failed.values(), dtype=np.int32, count=len(idx))
        self.tally.contacts[day, Channel.CALL] += sum(self._outcomes_today)
        self.tally.call_outcomes[day] += self._outcomes_today
        self.tally.refusals[day] += self._refusals_today
        self.tally.agent_busy[day] += self._busy_today
        self._reset_today()

    def _recent_contacts(self, i: int) -> int:
        return int(self.contacts_7d[i]) + self._today_contacts.get(i, 0)

    def _team_for(self, step: Step) -> _Team | None:
        if step.team is not None:
            return self.team_by_name[step.team]
        pool = self._teams_of_kind[TEAM_KIND_OF_CHANNEL[step.channel]]
        return pool[0] if pool else None

    def _works_today(self, team: _Team, day: int) -> bool:
        weekday = WEEKDAYS[self.calendar.date(day).weekday()]
        return weekday in team.spec.work_days and not self.calendar.is_quiet(day)

    # ------------------------------------------------------------------------- run

    def run(self):
        self.env.process(self._daily())
        self.env.run(until=self.days * DAY + 1)
        return self.tally

    def _daily(self):
        for day in range(self.days):
            self._start_of_day(day)
            yield self.env.timeout(DAY)
            self._end_of_day(day)
            if self.progress is not None:
                self.progress(day + 1, self.days)

    # ------------------------------------------------------------------------- morning

    def _start_of_day(self, day: int) -> None:
        slot = day % 7
        for ring, total in ((self.attempt_ring, self.attempts_7d), (self.connect_ring, self.connects_7d),
                            (self.contact_ring, self.contacts_7d)):
            np.subtract(total, ring[slot], out=total, casting="unsafe")
            ring[slot] = 0
        workable = self.status == ACTIVE
        workable &= ~self.in_plan
        workable &= ~self.legal_queued
        if self._any_paused:
            workable &= self.paused_until <= day
        call_lists: dict[str, list[tuple[np.ndarray, int]]] = defaultdict(list)
        field_lists: dict[str, list[tuple[np.ndarray, int]]] = defaultdict(list)
        for s, step in enumerate(self.scenario.strategy.steps):
            idx = self._eligible(step, s, workable, day)
            if idx.size == 0:
                continue
            if step.channel in ("sms", "email", "letter"):
                self._send_automated(step, s, idx, day)
            elif step.channel == "call":
                team = self._team_for(step)
                if team is not None:
                    call_lists[team.name].append((idx, s))
            elif step.channel == "field_visit":
                team = self._team_for(step)
                if team is not None:
                    field_lists[team.name].append((idx, s))
            elif step.channel == "legal":
                self._refer_to_legal(idx)
        for team in self.call_teams:
            self._plan_calls(team, call_lists.get(team.name, []), day)
        for team in self.field_teams:
            self._plan_visits(team, field_lists.get(team.name, []), day)
        self._legal_day(day)

    def _static_step_masks(self) -> list[np.ndarray | None]:
        """What never changes about a step's reach: segments, known contact points, the accounts given it."""
        masks: list[np.ndarray | None] = []
        for s, step in enumerate(self.scenario.strategy.steps):
            mask = None
            if step.segments is not None:
                codes = [self.portfolio.segment_names.index(name) for name in step.segments]
                mask = np.isin(self.segment, codes)
            contact = {"sms": self.phone, "call": self.phone, "email": self.email}.get(step.channel)
            if contact is not None:
                mask = contact.copy() if mask is None else mask & contact
            chosen = self._step_accounts[s] if self._step_accounts is not None else None
            if chosen is not None:
                mask = chosen.copy() if mask is None else mask & chosen
            masks.append(mask)
        return masks

    def _eligible(self, step: Step, s: int, workable: np.ndarray, day: int) -> np.ndarray:
        """Accounts this ladder step acts on today (whole-array masks: no gathers)."""
        mask = self.dpd >= step.from_dpd
        mask &= workable
        mask &= self.dpd <= step.to_dpd
        mask &= self.last_step_day[s] <= day - step.every_days
        static = self._step_masks[s]
        if static is not None:
            mask &= static
        if step.min_balance > 0:
            mask &= self.balance >= step.min_balance
        if step.max_balance is not None:
            mask &= self.balance < step.max_balance
        if step.after_failed > 0:
            mask &= self.failed >= step.after_failed
        return np.flatnonzero(mask)

    def _count_contacts(self, idx: np.ndarray, day: int) -> None:
        slot = day % 7
        self.contact_ring[slot, idx] += 1
        self.contacts_7d[idx] += 1

    def _send_automated(self, step: Step, s: int, idx: np.ndarray, day: int) -> None:
        send_minute = parse_clock(step.send_time)
        if self.calendar.is_quiet(day) or (step.channel != "letter" and not self.rules.in_window(send_minute)):
            self.tally.refusals[day] += idx.size
            return
        channel = step.channel
        self.last_step_day[s, idx] = day
        self.tally.contacts[day, Channel[channel.upper()]] += idx.size
        self.tally.add_cost(day, channel, getattr(self.costs, channel) * idx.size)
        if self.ledger is not None:
            self.ledger.charge(channel, idx, getattr(self.costs, channel))
        self.log.add_batch(idx, day * DAY + send_minute, channel)
        lift = self.behavior.lift[channel]
        if lift:
            self.pending_lift[idx] += lift * fatigue_factor(self.behavior, self.contacts_7d[idx])
        self._count_contacts(idx, day)
        p_callback = self.behavior.callback_probability.get(channel, 0.0)
        if p_callback > 0 and self.inbound_enabled:
            start = max(send_minute, self.rules.window_start) if channel != "letter" else self.rules.window_start
            end = self.rules.window_end
            if self.draws is None:
                callers = idx[self.automated_rng.random(idx.size) < p_callback]
                when = None
            else:
                u = self.draws.callback.draw(idx)
                calls_back = u[:, 0] < p_callback
                callers, when = idx[calls_back], u[calls_back, 1]
            if callers.size and end > start:
                if when is None:
                    times = day * DAY + self.automated_rng.uniform(start, end, callers.size)
                else:
                    times = day * DAY + start + (end - start) * when
                order = np.argsort(times, kind="stable")
                self.env.process(self._callers(callers[order], times[order], day))

    # ------------------------------------------------------------------------- calls

    def _plan_calls(self, team: _Team, lists: list[tuple[np.ndarray, int]], day: int) -> None:
        team.redial = []
        team.idle = deque()
        team.watching = False
        team.cursor = 0
        team.queue_list, team.queue_step_list, team.queue_size = [], [], 0
        if not self._works_today(team, day) or not team.agent_ids:
            return
        if lists:
            if len(lists) == 1:
                idx, steps = lists[0][0], None
            else:
                idx = np.concatenate([a for a, _ in lists])
                steps = np.concatenate([np.full(a.size, s) for a, s in lists])
                idx, first = np.unique(idx, return_index=True)
                steps = steps[first]
            # Rules that already forbid a call today (as of this morning) refuse it now.
            refused = np.zeros(idx.size, dtype=bool)
            if self._quiet_days:
                refused |= (day - self.last_conversation[idx]) < self._quiet_days
            if self._cap_attempts_7d < 10**9:
                refused |= self.attempts_7d[idx] >= self._cap_attempts_7d
            if self._cap_conversations_7d < 10**9:
                refused |= self.connects_7d[idx] >= self._cap_conversations_7d
            if self._cap_attempts_day <= 0 or self._cap_connects_day <= 0:
                refused[:] = True
            if refused.any():
                self.tally.refusals[day] += int(refused.sum())
                keep = ~refused
                idx = idx[keep]
                steps = steps[keep] if steps is not None else None
            minutes = sum(end - start for start, end in team.shifts) * len(team.agent_ids)
            shortest = min(team.spec.handle_minutes.no_answer, team.spec.handle_minutes.wrong_party,
                           team.spec.handle_minutes.right_party)
            # More than agents could ever dial today is never reached: keep the best.
            reach = int(2 * minutes / shortest) + 100
            if idx.size > reach:
                key = self._priority_key(idx)
                keep = np.sort(np.argpartition(key, reach)[:reach])
                idx = idx[keep]
                steps = steps[keep] if steps is not None else None
            order = self._order_positions(idx)
            team.queue_list = idx[order].tolist()
            team.queue_step_list = steps[order].tolist() if steps is not None else [lists[0][1]] * idx.size
        team.queue_size = len(team.queue_list)
        for agent in team.agent_ids:
            for start, end in team.shifts:
                self.env.process(self._agent_shift(team, agent, day * DAY + start, day * DAY + end, day))

    def _priority_key(self, idx: np.ndarray) -> np.ndarray:
        return priority_key(self.scenario.strategy.priority, balance=self.balance[idx], days_past_due=self.dpd[idx],
                            intensity=self.intensity[idx], account_id=self.portfolio.account_id[idx])

    def _order_positions(self, idx: np.ndarray) -> np.ndarray:
        # ``idx`` is ascending, so a stable sort breaks ties by account position.
        return np.argsort(self._priority_key(idx), kind="stable")

    def _agent_shift(self, team: _Team, agent: int, start: float, end: float, day: int):
        """An agent works one shift: inbound callers first, then the call list, until the shift ends.

        An outbound call is the engine's innermost loop, so it is written out
        here with everything it reads bound to locals: the rules that can change
        during the day (the clock, today's own attempts and conversations) are
        checked at the dial — the 7-day caps and the quiet period as of this
        morning were applied when the list was built (``_plan_calls``) — then
        one uniform picks the outcome by the hour, one exponential the length,
        and the call is one SimPy timeout.
        """
        env = self.env
        # An agent still on a call from the previous shift starts when it ends.
        start = max(start, self.agent_free_at[agent])
        if start >= end:
            return
        if start > env.now:
            yield env.timeout(start - env.now)
        self.tally.agent_paid[day] += end - start
        self.tally.add_cost(day, "agent_time", (end - start) * self.costs.agent_minute)
        handle = team.spec.handle_minutes
        exponential = team.spec.handle_distribution == "exponential"
        pool = self.call_pool
        draw_call = pool.uniform_and_exponential
        dial_draws = self.draws.dial.draw if self.draws is not None else None
        answers_inbound = team.spec.inbound
        inbound_queue = self.inbound_queue
        free_at = self.agent_free_at
        timeout = env.timeout
        means = team.means
        day_start = day * DAY
        window_start, window_end = self._window
        rpc_by_hour = self._rpc_by_hour
        wrong_party_rate = self._wrong_party_rate
        blocked, conversed = self._blocked_today, self._conversed_today
        attempts, contacts, connects = self._today_attempts, self._today_contacts, self._today_connects
        failed, steps_today, outcomes = self._today_failed, self._today_steps, self._outcomes_today
        log = self.log if self.log.enabled else None
        lift_attempt, fatigue_rate = self._lift_attempt, self.behavior.fatigue
        pending_lift, contacts_7d = self.pending_lift, self.contacts_7d
        step_attempts, redial_minutes = self._step_attempts, self._redial_minutes
        refused_later_today, record_conversation = self._refused_later_today, self._record_conversation
        heappush = heapq.heappush
        shift_over = None
        while env.now < end:
            now = env.now
            if answers_inbound and inbound_queue:
                arrival, account, patience = inbound_queue.popleft()
                if now - arrival > patience:
                    self.tally.inbound_abandoned[int(arrival // DAY)] += 1
                    continue
                if not exponential:
                    duration = handle.inbound
                elif self.draws is None:
                    duration = pool.exponential(handle.inbound)
                else:
                    duration = AccountDraws.exponential(handle.inbound, self.draws.inbound_length.draw(account)[0])
                self._answer_inbound(account, arrival, now, agent, duration)
                self._busy_today += duration
                free_at[agent] = now + duration
                yield timeout(duration)
                self._conversation(account, int(env.now // DAY), "inbound_call")
                continue
            redial = team.redial
            if redial and redial[0][0] <= now:
                _, _, i, s = heapq.heappop(redial)
                if redial and redial[0][0] <= now:
                    self._wake_one(team.idle)  # more redials are due: let a colleague help
            elif team.cursor < team.queue_size:
                k = team.cursor
                team.cursor = k + 1
                i, s = team.queue_list[k], team.queue_step_list[k]
            else:
                i = -1
            if i >= 0:
                # ---- the dial: may the call be made now?
                if i in blocked:
                    continue  # took a plan or disputed earlier today
                minute_of_day = now - day_start
                tried = attempts.get(i, 0)
                if not (window_start <= minute_of_day < window_end) or (
                    (tried or i in conversed) and refused_later_today(i, tried, day)
                ):
                    self._refusals_today += 1
                    continue
                # The outcome's uniform and a unit exponential for the length, in one draw.
                if dial_draws is None:
                    u, unit_length = draw_call(1.0)
                else:
                    u, v = dial_draws(i)  # the account's own next dial
                    unit_length = -math.log(1.0 - v)
                p_right = rpc_by_hour[hour_of(minute_of_day)]
                if u < p_right:
                    outcome = RIGHT_PARTY
                elif u < p_right + wrong_party_rate:
                    outcome = WRONG_PARTY
                else:
                    outcome = NO_ANSWER
                mean = means[outcome]
                duration = mean * unit_length if exponential else mean
                attempts[i] = tried + 1
                contacts[i] = contacts.get(i, 0) + 1
                if not tried:
                    steps_today += (s, i)
                outcomes[outcome] += 1
                if log is not None:
                    log.add(i, now, CALL_CODE, outcome, agent, duration)
                if outcome == RIGHT_PARTY:
                    record_conversation(i, day)
                    connects[i] = connects.get(i, 0) + 1
                else:
                    failed[i] = failed.get(i, 0) + 1
                self._busy_today += duration
                free_at[agent] = now + duration
                # ---- the call
                yield timeout(duration)
                # ---- after the call: the attempt's lift, the conversation or a redial
                if lift_attempt:
                    recent = int(contacts_7d[i]) + contacts.get(i, 0)
                    pending_lift[i] += lift_attempt * fatigue(fatigue_rate, recent)
                if outcome == RIGHT_PARTY:
                    self._conversation(i, day, "right_party_contact")
                elif outcome == NO_ANSWER and attempts.get(i, 0) < step_attempts[s]:
                    heappush(team.redial, (env.now + redial_minutes, i, i, s))
                continue
            # Nothing to do now. One agent of the team watches the redial timer;
            # the others sleep until a caller or a colleague wakes them.
            watch = bool(team.redial) and not team.watching and team.redial[0][0] < end
            if not answers_inbound and not watch and not team.redial:
                return
            if shift_over is None:
                shift_over = timeout(end - now)
            wake = env.event()
            if answers_inbound:
                self.idle_agents.append(wake)
            if watch:
                team.watching = True
                yield wake | shift_over | timeout(team.redial[0][0] - now)
                team.watching = False
            else:
                team.idle.append(wake)
                yield wake | shift_over
            if not wake.triggered:
                wake.succeed()  # retire it so that nobody else tries to wake it

    @staticmethod
    def _wake_one(idle: deque) -> None:
        while idle:
            event = idle.popleft()
            if not event.triggered:
                event.succeed()
                return

    def _refused_later_today(self, i: int, tried: int, day: int) -> bool:
        """Rules that today's earlier attempts or conversations may now break."""
        connected = self._today_connects.get(i, 0)
        return (
            tried >= self._cap_attempts_day
            or connected >= self._cap_connects_day
            or (self._quiet_days > 0 and i in self._conversed_today)
            or int(self.attempts_7d[i]) + tried >= self._cap_attempts_7d
            or int(self.connects_7d[i]) + connected >= self._cap_conversations_7d
        )

    def _record_conversation(self, i: int, day: int) -> None:
        """A telephone conversation: starts the quiet period, resets failed attempts."""
        self.last_conversation[i] = day
        self._conversed_today.add(i)
        self._today_failed[i] = 0
        self._failed_reset_today.add(i)

    def _conversation(self, i: int, day: int, lift_key: str) -> None:
        """A right-party conversation (outbound, inbound or on a visit) and how it ends."""
        if self.status[i] != ACTIVE:
            return
        behavior = self.behavior
        if self.draws is None:
            pool = self.call_pool
            complaint_u, outcome_u, due_u, share_u = pool.next, pool.next, pool.next, pool.next
        else:
            # All four of the conversation's uniforms, used or not: the account's
            # next conversation then always gets the same ones.
            complaint_u, outcome_u, due_u, share_u = (lambda u=u: u for u in self.draws.conversation.draw(i))
        recent = self._recent_contacts(i)
        self.pending_lift[i] += behavior.lift[lift_key] * fatigue_factor(behavior, recent)
        day = min(day, self.days - 1)
        if complaint_u() < complaint_probability(behavior, recent):
            self.tally.complaints[day] += 1
            # A complaint is handled at a cost: one of the run's cost items, so in net recovery.
            self.tally.add_cost(day, "complaint", self.costs.complaint)
            if self.ledger is not None:
                self.ledger.complaint(i)
                self.ledger.charge("complaint", i, self.costs.complaint)
        if self.in_plan[i]:
            return
        outcome = conversation_outcome(behavior, outcome_u())
        if outcome == PROMISE:
            due = day + 1 + int(due_u() * behavior.promise_days)
            # What is promised is drawn like a repayment (a share r of the balance),
            # and never less than what is past due: a promise brings a payment forward.
            share = behavior.r_min + (1.0 - behavior.r_min) * share_u()
            self.promise_amount[i] = min(self.balance[i], max(self.past_due[i], share * self.balance[i]))
            self.promise_day[i] = due
            self.promises_due[due].append(i)
            self.tally.promises_made[day] += 1
        elif outcome == PLAN:
            self.in_plan[i] = True
            self._blocked_today.add(i)
            self.plan_left[i] = behavior.plan_instalments
            self.plan_amount[i] = round(self.balance[i] / behavior.plan_instalments, 2)
            self.plan_missed[i] = 0
            self.plan_next_day[i] = day + 7
            self.plans_due[day + 7].append(i)
            self.tally.plans_started[day] += 1
        elif outcome == DISPUTE:
            # Collection pauses while the debt is verified (FDCPA §809(b)).
            self.paused_until[i] = day + 30
            self._any_paused = True
            self._blocked_today.add(i)
            self.tally.disputes[day] += 1

    # ------------------------------------------------------------------------- inbound

    def _callers(self, accounts: np.ndarray, times: np.ndarray, day: int):
        env = self.env
        pool = self.inbound_pool
        patience_mean = self.behavior.patience_minutes
        for account, at in zip(accounts.tolist(), times.tolist(), strict=True):
            if at > env.now:
                yield env.timeout(at - env.now)
            self.tally.inbound_arrivals[min(int(at // DAY), self.days - 1)] += 1
            if self.draws is None:
                patience = pool.exponential(patience_mean)
            else:
                patience = AccountDraws.exponential(patience_mean, self.draws.patience.draw(account)[0])
            self.inbound_queue.append((at, account, patience))
            self._wake_one(self.idle_agents)

    def _answer_inbound(self, i: int, arrival: float, now: float, agent: int, duration: float) -> None:
        arrival_day = min(int(arrival // DAY), self.days - 1)
        wait = now - arrival
        self.tally.inbound_answered[arrival_day] += 1
        self.tally.inbound_wait[arrival_day] += wait
        if wait > 1e-9:
            self.tally.inbound_waited[arrival_day] += 1
        if wait <= SERVICE_LEVEL_SECONDS / 60.0:
            self.tally.inbound_within_target[arrival_day] += 1
        day = min(int(now // DAY), self.days - 1)
        self.tally.contacts[day, Channel.INBOUND_CALL] += 1
        self.log.add(i, now, INBOUND_CODE, RIGHT_PARTY, agent, duration)
        # A borrower-initiated call is still a telephone conversation for Reg F.
        self._record_conversation(i, day)

    # ------------------------------------------------------------------------- field

    def _plan_visits(self, team: _Team, lists: list[tuple[np.ndarray, int]], day: int) -> None:
        if not lists or not team.agent_ids or not self._works_today(team, day):
            return
        idx = np.concatenate([a for a, _ in lists])
        steps = np.concatenate([np.full(a.size, s) for a, s in lists])
        idx, first = np.unique(idx, return_index=True)
        steps = steps[first]
        order = self._order_positions(idx)
        idx, steps = idx[order], steps[order]
        cap = self.rules.max_field_visits_30d
        if cap is not None:
            ok = np.array([self._visits_in_30d(int(i), day) < cap for i in idx], dtype=bool)
            self.tally.refusals[day] += int((~ok).sum())
            idx, steps = idx[ok], steps[ok]
        capacity = team.spec.visits_per_day * len(team.agent_ids)
        idx, steps = idx[:capacity], steps[:capacity]
        per_agent = team.spec.visits_per_day
        for k, agent in enumerate(team.agent_ids):
            mine = idx[k * per_agent:(k + 1) * per_agent]
            if mine.size:
                self.env.process(self._field_agent(team, agent, mine, steps[k * per_agent:(k + 1) * per_agent], day))

    def _visit_draws(self, pool: UniformPool, spec: TeamSection, i: int) -> tuple[float, bool]:
        """A visit's length and whether the borrower is found (from the account's own draws when paired)."""
        mean = spec.handle_minutes.field_visit
        exponential = spec.handle_distribution == "exponential"
        if self.draws is None:
            duration = pool.exponential(mean) if exponential else mean
            return duration, pool.next() < spec.visit_success
        length, found = self.draws.visit.draw(i)
        return (AccountDraws.exponential(mean, length) if exponential else mean), found < spec.visit_success

    def _visits_in_30d(self, i: int, day: int) -> int:
        visits = self.visit_days.get(i)
        if not visits:
            return 0
        while visits and visits[0] <= day - 30:
            visits.popleft()
        return len(visits)

    def _field_agent(self, team: _Team, agent: int, accounts: np.ndarray, steps: np.ndarray, day: int):
        env = self.env
        shift_start, shift_end = team.shifts[0][0], team.shifts[-1][1]
        start = day * DAY + max(shift_start, self.rules.window_start)
        end = day * DAY + min(shift_end, self.rules.window_end)
        if start > env.now:
            yield env.timeout(start - env.now)
        spec = team.spec
        pool = self.field_pool
        for i, s in zip(accounts.tolist(), steps.tolist(), strict=True):
            if env.now >= end:
                break
            if self.status[i] != ACTIVE:
                continue
            duration, found = self._visit_draws(pool, spec, i)
            self.last_step_day[s, i] = day
            self.visit_days[i].append(day)
            self.tally.contacts[day, Channel.FIELD_VISIT] += 1
            self.tally.add_cost(day, "field_visit", self.costs.field_visit)
            if self.ledger is not None:
                self.ledger.charge("field_visit", i, self.costs.field_visit)
            self.log.add(i, env.now, VISIT_CODE, RIGHT_PARTY if found else NO_ANSWER, agent, duration)
            self._today_contacts[i] = self._today_contacts.get(i, 0) + 1
            yield env.timeout(duration)
            if found:
                self._today_failed[i] = 0
                self._failed_reset_today.add(i)
                self._conversation(i, day, "field_visit")
            else:
                self._today_failed[i] = self._today_failed.get(i, 0) + 1

    # ------------------------------------------------------------------------- legal

    def _refer_to_legal(self, idx: np.ndarray) -> None:
        order = self._order_positions(idx)
        for i in idx[order].tolist():
            self.legal_queued[i] = True
            self.legal_queue.append(i)

    def _legal_day(self, day: int) -> None:
        for team in self.legal_teams:
            if not self._works_today(team, day):
                continue
            filed = 0
            while self.legal_queue and filed < team.spec.filings_per_day:
                i = self.legal_queue.popleft()
                if self.status[i] != ACTIVE:
                    continue
                self.status[i] = IN_LEGAL
                self._filed.add(i)
                self.in_plan[i] = False
                filed += 1
                self.tally.contacts[day, Channel.LEGAL] += 1
                self.tally.add_cost(day, "legal_filing", self.costs.legal_filing)
                if self.ledger is not None:
                    self.ledger.charge("legal_filing", i, self.costs.legal_filing)
                    self.ledger.file(team.name, i, day)
                self.log.add(i, day * DAY + LEGAL_FILING_MINUTE, LEGAL_CODE, NO_OUTCOME, NO_AGENT, 0.0)
                self.legal_resolutions[day + team.spec.filing_delay_days].append((i, team.spec))
        for i, spec in self.legal_resolutions.pop(day, []):
            recovered = 0.0
            u = self.legal_rng.random() if self.draws is None else self.draws.legal.draw(i)[0]
            if u < spec.legal_success:
                recovered = round(self.balance[i] * spec.recovery_share, 2)
            self._collect(i, recovered, day)
            self.tally.add_cost(day, "agency_commission", recovered * self.costs.agency_commission)
            if self.ledger is not None:
                self.ledger.charge("agency_commission", i, recovered * self.costs.agency_commission)
            self._write_off(i, day)
            self.status[i] = LEGAL_CLOSED
            self._filed.discard(i)

    # ------------------------------------------------------------------------- evening

    def _collect(self, i, amount, day: int) -> None:
        self.balance[i] -= amount
        self._paid_today.append(np.atleast_1d(i))
        total = float(np.sum(amount))
        self.collected_total += total
        self.tally.collected[day] += total
        if self.ledger is not None:
            self.ledger.collect(i, amount)

    def _write_off(self, i, day: int) -> None:
        amount = float(np.sum(self.balance[i]))
        self.written_off_total += amount
        self.tally.written_off[day] += amount
        if self.ledger is not None:
            self.ledger.write_off(i, self.balance[i])
        self.balance[i] = 0.0

    def _end_of_day(self, day: int) -> None:
        behavior = self.behavior
        tally = self.tally
        self._fold_today(day)
        # Borrowers on an instalment plan may still pay more than the instalment.
        payable = self.status == ACTIVE
        result = repayment_day(self.intensity, self.floor, self.balance, behavior, self.payment_rng, payable,
                               followup_rng=self.followup_rng,
                               followup_draws=self.draws.followup.draw if self.draws is not None else None)
        self.intensity = result.intensity_end
        payers = result.payers
        if payers.size:
            self._collect(payers, result.paid, day)
            tally.payments[day] += int(result.payments.sum())
            self._apply_payment(payers, result.paid)
        self._promises_due(day)
        self._plans_due(day)
        # Treatments of the day raise the intensity from the end of the day on.
        lifted = np.flatnonzero(self.pending_lift)
        if lifted.size:
            self.intensity[lifted] += self.pending_lift[lifted]
            self.pending_lift[lifted] = 0.0
        # Paid-off accounts leave the book; sub-cent residue counts as collected.
        # Only an account that paid today can have reached zero.
        paid_today = np.unique(np.concatenate(self._paid_today)) if self._paid_today else np.zeros(0, np.int64)
        self._paid_today = []
        done = paid_today[(self.status[paid_today] == ACTIVE) & (self.balance[paid_today] < 0.005)]
        if done.size:
            self._collect(done, self.balance[done].copy(), day)
            self.status[done] = PAID_OFF
            self.in_plan[done] = False
        self._interest_and_ageing(day)
        self._record_day(day)

    def _apply_payment(self, who: np.ndarray, paid: np.ndarray) -> None:
        if self.behavior.model == "cgw":
            return  # the pure process has no notion of curing
        self.past_due[who] = np.maximum(self.past_due[who] - paid, 0.0)
        cured = who[(self.past_due[who] <= 0.005) & (self.status[who] == ACTIVE)]
        if cured.size:
            self.status[cured] = CURED
            self.dpd[cured] = 0
            self.in_plan[cured] = False
            self.cured_ever[cured] = True

    def _promises_due(self, day: int) -> None:
        due = self.promises_due.pop(day, [])
        if not due:
            return
        idx = np.unique(np.array(due, dtype=np.int64))
        # A newer promise replaces an older one.
        idx = idx[(self.status[idx] == ACTIVE) & ~self.in_plan[idx] & (self.promise_day[idx] == day)]
        if idx.size == 0:
            return
        kept = self._keep_draws(idx, "promise_keep") < self.behavior.promise_keep_rate
        self.tally.promises_kept[day] += int(kept.sum())
        self.tally.promises_broken[day] += int((~kept).sum())
        who = idx[kept]
        if who.size:
            amount = np.minimum(self.promise_amount[who], self.balance[who])
            share = np.divide(amount, self.balance[who], out=np.ones_like(amount), where=self.balance[who] > 0)
            self._collect(who, amount, day)
            self.tally.payments[day] += who.size
            # A kept promise is a repayment: it excites the intensity like one.
            self.intensity[who] += self.behavior.delta10 + self.behavior.delta11 * share
            self._apply_payment(who, amount)

    def _keep_draws(self, idx: np.ndarray, purpose: str) -> np.ndarray:
        """One uniform per promise or instalment due (accounts ``idx``, ascending) that decides if it is kept."""
        if self.draws is None:
            return self.promise_rng.random(idx.size)
        return getattr(self.draws, purpose).draw(idx)[:, 0]

    def _plans_due(self, day: int) -> None:
        due = self.plans_due.pop(day, [])
        if not due:
            return
        idx = np.unique(np.array(due, dtype=np.int64))
        idx = idx[(self.status[idx] == ACTIVE) & self.in_plan[idx] & (self.plan_next_day[idx] == day)]
        if idx.size == 0:
            return
        kept = self._keep_draws(idx, "instalment_keep") < self.behavior.plan_keep_rate
        payers = idx[kept]
        if payers.size:
            last = self.plan_left[payers] <= 1
            amount = np.where(last, self.balance[payers], np.minimum(self.plan_amount[payers], self.balance[payers]))
            self._collect(payers, amount, day)
            self.tally.payments[day] += payers.size
            self.plan_left[payers] -= 1
            self.plan_missed[payers] = 0
            self.past_due[payers] = np.maximum(self.past_due[payers] - amount, 0.0)
        missed = idx[~kept]
        if missed.size:
            self.plan_missed[missed] += 1
        # Two missed instalments in a row break the plan; collection resumes.
        broken = missed[self.plan_missed[missed] >= 2]
        self.in_plan[broken] = False
        continuing = idx[self.in_plan[idx] & (self.plan_left[idx] > 0) & (self.balance[idx] >= 0.005)]
        self.plan_next_day[continuing] = day + 30
        self.plans_due[day + 30].extend(continuing.tolist())

    def _interest_and_ageing(self, day: int) -> None:
        portfolio = self.scenario.portfolio
        active = self.status == ACTIVE
        if portfolio.apr > 0:
            interest = self.balance * (portfolio.apr / 365.0)
            interest *= active
            self.balance += interest
            added = float(interest.sum())
            self.interest_and_fees_total += added
            self.tally.interest_and_fees[day] += added
        # Accounts on a plan that is being kept do not age.
        ageing_mask = active
        ageing_mask &= ~self.in_plan
        np.add(self.dpd, ageing_mask, out=self.dpd, casting="unsafe")
        phase = self.dpd % 30
        # Select on the (small) candidate sets first, then keep the ageing ones.
        new_cycle = np.flatnonzero(phase == 0)
        new_cycle = new_cycle[ageing_mask[new_cycle]]
        if new_cycle.size:
            fee = portfolio.late_fee
            if fee > 0:
                self.balance[new_cycle] += fee
                self.interest_and_fees_total += fee * new_cycle.size
                self.tally.interest_and_fees[day] += fee * new_cycle.size
            self.past_due[new_cycle] += portfolio.min_due_rate * self.balance[new_cycle] + fee
            self.past_due[new_cycle] = np.minimum(self.past_due[new_cycle], self.balance[new_cycle])
        crossed = np.flatnonzero(phase == 1)
        crossed = crossed[ageing_mask[crossed]]
        # Reaching 31 days past due: bureau reporting and IFRS 9 stage 2 begin (the provision view).
        past_30 = crossed[self.dpd[crossed] == 31]
        if past_30.size:
            self.tally.rolled_past_30[day] += past_30.size
            if self.ledger is not None:
                np.add.at(self.ledger.rolled_past_30, past_30, 1)
        if self.behavior.model == "hawkes":
            if crossed.size:
                new_floor = floor_intensity(self.behavior, bucket_of(self.dpd[crossed]), self.segment[crossed],
                                            self.portfolio.segment_names)
                # Keep the excitation, move the floor.
                self.intensity[crossed] += new_floor - self.floor[crossed]
                self.intensity[crossed] = np.maximum(self.intensity[crossed], new_floor)
                self.floor[crossed] = new_floor
        charged = np.flatnonzero(self.dpd >= portfolio.charge_off_dpd)
        charged = charged[ageing_mask[charged]]
        if charged.size:
            self._write_off(charged, day)
            self.status[charged] = CHARGED_OFF

    def roll_state(self) -> np.ndarray:
        """Each account's state for roll rates (:class:`~sim.domain.RollState`): its bucket, charged off or in legal."""
        state = bucket_of(self.dpd)
        state[self.status != ACTIVE] = RollState.CURRENT
        state[self.status == CHARGED_OFF] = RollState.CHARGED_OFF
        state[self.status >= IN_LEGAL] = RollState.LEGAL
        return state

    def _record_day(self, day: int) -> None:
        self.tally.outstanding_by_bucket[day] = self._outstanding_by_state()
        if (day + 1) % 30 == 0:
            state = self.roll_state()
            pairs = self._month_start_state.astype(np.int64) * len(ROLL_STATES) + state
            self.tally.roll_counts += np.bincount(pairs, minlength=len(ROLL_STATES) ** 2).reshape(
                len(ROLL_STATES), len(ROLL_STATES))
            self._month_start_state = state

    def _outstanding_by_state(self) -> np.ndarray:
        """Outstanding balance by roll state, from a histogram over days past due.

        Only active, cured and in-legal accounts still owe anything (charged-off,
        paid-off and settled accounts are at zero), so: active balances by their
        bucket, legal from the legal queue, and the rest is current.
        """
        out = np.zeros(len(ROLL_STATES))
        owed = self.balance * (self.status == ACTIVE)
        by_dpd = np.bincount(self.dpd, weights=owed)
        np.add.at(out, bucket_of(np.arange(by_dpd.size)), by_dpd)
        in_legal = self._in_legal_accounts()
        out[RollState.LEGAL] = float(self.balance[in_legal].sum()) if in_legal.size else 0.0
        out[RollState.CURRENT] += float(self.balance.sum()) - float(owed.sum()) - out[RollState.LEGAL]
        return out

    def _in_legal_accounts(self) -> np.ndarray:
        return np.fromiter(self._filed, dtype=np.int64, count=len(self._filed)) if self._filed else np.zeros(0, np.int64)

    def close_ledger(self) -> AccountLedger | None:
        """The ledger at the horizon: each account's balance and roll state, the agents' work from the log."""
        ledger = self.ledger
        if ledger is None:
            return None
        ledger.balance_end = self.balance.copy()
        ledger.state_end = self.roll_state()
        team_of_agent = [""] * len(self.agent_names)
        for team in (*self.call_teams, *self.field_teams):
            for agent in team.agent_ids:
                team_of_agent[agent] = team.name
        ledger.add_agent_work(team_of_agent, self.log.agent_rows())
        return ledger

    def prepare(self) -> None:
        self._initial_state = self.roll_state()
        self._month_start_state = self._initial_state
