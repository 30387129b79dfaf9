"""Engine vs naive: the same borrowers and ladder written the way a typical SimPy user would.

The naive model gives every account its own SimPy process that wakes once a
day: it settles yesterday (the self-exciting repayment day, promises and
instalments due, interest, ageing, charge-off) and then walks the ladder
(sends SMS, e-mail and letters, joins the call queue, asks for a field visit,
is referred to legal). Call and field agents are a ``simpy.PriorityResource``
(highest balance first, inbound callers before outbound calls); their breaks
and nights are "break" requests holding the agents; a call is a request plus
a timeout. Compliance caps are checked in scalar form before every dial.

The behaviour is the same model as ``sim.behavior``: the repayment day is
simulated exactly per account (Dassios & Zhao: one Exp(1) draw against the
day's compensator, then event by event), with the same parameters, and the
portfolio is the same (drawn from the same ``portfolio`` stream). Only the
random numbers differ (``random.Random`` instead of the engine's streams), so
the two agree on collected amount within statistical error, which the
script checks over several seeds with paired differences.

Run: ``python benchmarks/naive_sim.py [--accounts 20000 --days 180 --seeds 3]``.
"""

from __future__ import annotations

import argparse
import bisect
import heapq
import math
import random
import sys
from collections import deque
from dataclasses import dataclass

import simpy
from common import BASELINE, Stopwatch, mean_ci, positive_int, print_machine, print_table

from sim.behavior import (
    DISPUTE,
    PLAN,
    PROMISE,
    complaint_probability,
    conversation_outcome,
    fatigue_factor,
    floor_intensity,
)
from sim.compliance import ContactCalendar, ContactRules
from sim.portfolio import (
    ACTIVE,
    CHARGED_OFF,
    CURED,
    IN_LEGAL,
    LEGAL_CLOSED,
    PAID_OFF,
    bucket_of,
    build_portfolio,
)
from sim.scenario import Scenario, load_scenario, parse_clock
from sim.simulation import simulate
from sim.streams import RandomStreams

DAY = 1440
NEVER = -(10**6)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
NO_ANSWER, WRONG_PARTY, RIGHT_PARTY = 0, 1, 2
# Priorities on the agents' queue: breaks, then inbound callers, redials, the call list.
BREAK, INBOUND, REDIAL, LIST = 0, 1, 2, 3


class Account:
    """One borrower's account, as plain Python attributes."""

    __slots__ = ("index", "balance", "past_due", "dpd", "segment", "phone", "email", "status", "floor",
                 "intensity", "pending_lift", "in_plan", "plan_amount", "plan_left", "plan_missed",
                 "plan_next_day", "promise_amount", "promise_day", "failed", "last_conversation",
                 "paused_until", "legal_queued", "last_step_day", "attempt_days", "connect_days",
                 "contact_days", "calling_today")

    def __init__(self, index: int, n_steps: int):
        self.index = index
        self.pending_lift = 0.0
        self.in_plan = False
        self.plan_amount = 0.0
        self.plan_left = 0
        self.plan_missed = 0
        self.plan_next_day = NEVER
        self.promise_amount = 0.0
        self.promise_day = NEVER
        self.failed = 0
        self.last_conversation = NEVER
        self.paused_until = 0
        self.legal_queued = False
        self.last_step_day = [NEVER] * n_steps
        self.attempt_days: deque[int] = deque()
        self.connect_days: deque[int] = deque()
        self.contact_days: deque[int] = deque()
        self.calling_today = -1


def _in_7d(days: deque[int], day: int) -> int:
    """How many of these events fell in the rolling 7 days ending today."""
    while days and days[0] <= day - 7:
        days.popleft()
    return len(days)


@dataclass
class NaiveResult:
    collected: float
    calls: int
    sms: int
    field_visits: int
    legal: int
    wall: float
    cpu: float


class InsortQueue(list):
    """A priority queue for waiting requests that inserts in order (``bisect.insort``).

    SimPy's stock ``PriorityResource`` re-sorts its whole queue on every
    request, which is quadratic when thousands of accounts wait for an agent;
    this is the one-line fix a user who profiled would make.
    """

    maxlen = None

    def append(self, item) -> None:
        bisect.insort(self, item, key=_request_key)


def _request_key(request):
    return request.key


class FastPriorityResource(simpy.PriorityResource):
    PutQueue = InsortQueue


class _Team:
    def __init__(self, env: simpy.Environment, name: str, spec, resource=simpy.PriorityResource):
        self.name = name
        self.spec = spec
        self.agents = resource(env, capacity=max(spec.agents, 1))
        self.shifts = spec.shift_minutes
        self.visits_today = (-1, 0)


class NaiveModel:
    """The whole run: one process per account, agents as resources."""

    def __init__(self, scenario: Scenario, seed: int, *, queue: str = "insort"):
        resource = FastPriorityResource if queue == "insort" else simpy.PriorityResource
        streams = RandomStreams(seed)
        portfolio = build_portfolio(scenario, streams["portfolio"])
        # The behaviour draws come from the standard library, seeded from the run's seed.
        self.rnd = random.Random(int(streams.seed_sequence.generate_state(1)[0]) + 1)
        self.scenario = scenario
        self.b = scenario.behavior
        self.days = scenario.simulation.days
        self.steps = scenario.strategy.steps
        self.rules = ContactRules.from_section(scenario.compliance)
        self.calendar = ContactCalendar(self.rules, scenario.simulation.start_date, self.days)
        self.env = simpy.Environment()
        self.collected = 0.0
        self.calls = self.sms = self.field_visits = self.legal_filings = self.complaints = 0
        self.call_teams: dict[str, _Team] = {}
        self.field_teams: dict[str, _Team] = {}
        self.legal_teams: dict[str, object] = {}
        for name, spec in scenario.teams.items():
            if spec.kind == "call" and spec.agents > 0:
                self.call_teams[name] = _Team(self.env, name, spec, resource)
            elif spec.kind == "field" and spec.agents > 0:
                self.field_teams[name] = _Team(self.env, name, spec, resource)
            elif spec.kind == "legal":
                self.legal_teams[name] = spec
        self.inbound_team = next((t for t in self.call_teams.values() if t.spec.inbound), None)
        self.legal_queue: list[tuple[int, float, int, Account]] = []
        floor = floor_intensity(self.b, bucket_of(portfolio.days_past_due), portfolio.segment,
                                portfolio.segment_names)
        self.by_bucket = [0.0] + [self.b.base_intensity[k] for k in
                                  ("1-30", "31-60", "61-90", "91-120", "121-150", "151-180")]
        self.by_segment = [self.b.segment_multiplier.get(s, 1.0) for s in portfolio.segment_names]
        self.accounts: list[Account] = []
        for i in range(len(portfolio)):
            a = Account(i, len(self.steps))
            a.balance = float(portfolio.balance[i])
            a.past_due = float(portfolio.past_due[i])
            a.dpd = int(portfolio.days_past_due[i])
            a.segment = int(portfolio.segment[i])
            a.phone = bool(portfolio.phone_known[i])
            a.email = bool(portfolio.email_known[i])
            a.status = ACTIVE if a.balance > 0 else PAID_OFF
            if a.status == ACTIVE and a.dpd == 0:
                a.status = CURED
            a.floor = float(floor[i])
            a.intensity = self.b.lambda0 if self.b.model == "cgw" else a.floor
            self.accounts.append(a)

    # ------------------------------------------------------------------ run

    def run(self) -> None:
        env = self.env
        for team in (*self.call_teams.values(), *self.field_teams.values()):
            for start, end in self._off_intervals(team):
                for _ in range(team.spec.agents):
                    env.process(self._break(team, start, end))
        for name, spec in self.legal_teams.items():
            env.process(self._legal_team(name, spec))
        for a in self.accounts:
            if a.status == ACTIVE:
                env.process(self._account(a))
        env.run(until=self.days * DAY + 1)

    def _works(self, spec, day: int) -> bool:
        weekday = WEEKDAYS[self.calendar.date(day).weekday()]
        return weekday in spec.work_days and not self.calendar.is_quiet(day)

    def _off_intervals(self, team: _Team) -> list[tuple[int, int]]:
        """The times agents are not on shift, merged across midnight."""
        on = []
        for day in range(self.days):
            if self._works(team.spec, day):
                on.extend((day * DAY + s, day * DAY + e) for s, e in team.shifts)
        off, cursor = [], 0
        for s, e in on:
            if s > cursor:
                off.append((cursor, s))
            cursor = e
        off.append((cursor, self.days * DAY + 1))
        return off

    def _break(self, team: _Team, start: int, end: int):
        env = self.env
        if start > env.now:  # a break from time 0 must hold the agents before any call asks
            yield env.timeout(start - env.now)
        with team.agents.request(priority=(BREAK,)) as req:
            yield req
            if env.now < end:
                yield env.timeout(end - env.now)

    # ------------------------------------------------------------------ an account's life

    def _account(self, a: Account):
        env = self.env
        for day in range(self.days):
            self._morning(a, day)
            yield env.timeout(DAY)
            self._evening(a, day)
            if a.status != ACTIVE:
                return

    def _morning(self, a: Account, day: int) -> None:
        if a.in_plan or a.paused_until > day or a.legal_queued:
            return
        for s, step in enumerate(self.steps):
            if not self._step_applies(a, s, step, day):
                continue
            channel = step.channel
            if channel in ("sms", "email", "letter"):
                self._send(a, s, step, day)
            elif channel == "call":
                team = self.call_teams.get(step.team) if step.team else next(iter(self.call_teams.values()), None)
                if team is not None and a.calling_today != day and self._works(team.spec, day):
                    a.calling_today = day
                    self.env.process(self._call(a, s, team, day))
            elif channel == "field_visit":
                team = self.field_teams.get(step.team) if step.team else next(iter(self.field_teams.values()), None)
                if team is not None and self._works(team.spec, day):
                    self.env.process(self._visit(a, s, team, day))
            elif channel == "legal" and not a.legal_queued:
                a.legal_queued = True
                heapq.heappush(self.legal_queue, (day, -a.balance, a.index, a))

    def _step_applies(self, a: Account, s: int, step, day: int) -> bool:
        """Whether ladder step ``s`` is due for the account today and can reach it."""
        if not (step.from_dpd <= a.dpd <= step.to_dpd) or day - a.last_step_day[s] < step.every_days:
            return False
        if step.segments is not None and self.scenario_segment(a) not in step.segments:
            return False
        if a.balance < step.min_balance or a.failed < step.after_failed:
            return False
        channel = step.channel
        return not ((channel in ("sms", "call") and not a.phone) or (channel == "email" and not a.email))

    def _send(self, a: Account, s: int, step, day: int) -> None:
        """An automated contact (SMS, e-mail, letter), unless the day or the hour forbids it; maybe a callback."""
        rules = self.rules
        channel = step.channel
        send = parse_clock(step.send_time)
        if self.calendar.is_quiet(day) or (channel != "letter" and not rules.in_window(send)):
            return
        a.last_step_day[s] = day
        if channel == "sms":
            self.sms += 1
        lift = self.b.lift[channel]
        if lift:
            a.pending_lift += lift * fatigue_factor(self.b, _in_7d(a.contact_days, day))
        a.contact_days.append(day)
        p = self.b.callback_probability.get(channel, 0.0)
        if p > 0 and self.inbound_team is not None and self.rnd.random() < p:
            start = max(send, rules.window_start) if channel != "letter" else rules.window_start
            if rules.window_end > start:
                at = day * DAY + self.rnd.uniform(start, rules.window_end)
                self.env.process(self._caller(a, at))

    def scenario_segment(self, a: Account) -> str:
        return tuple(self.scenario.portfolio.segments)[a.segment]

    def _evening(self, a: Account, day: int) -> None:
        b = self.b
        if a.status == ACTIVE:  # borrowers on a plan may still pay more than the instalment
            self._repayment_day(a, day)
        else:
            a.intensity = a.floor + max(a.intensity - a.floor, 0.0) * math.exp(-b.kappa)
        if a.promise_day == day and a.status == ACTIVE and not a.in_plan:
            if self.rnd.random() < b.promise_keep_rate:
                amount = min(a.promise_amount, a.balance)
                share = amount / a.balance if a.balance > 0 else 1.0
                self._collect(a, amount)
                a.intensity += b.delta10 + b.delta11 * share
                self._apply_payment(a, amount)
        if a.in_plan and a.status == ACTIVE and a.plan_next_day == day:
            if self.rnd.random() < b.plan_keep_rate:
                amount = a.balance if a.plan_left <= 1 else min(a.plan_amount, a.balance)
                self._collect(a, amount)
                a.plan_left -= 1
                a.plan_missed = 0
                a.past_due = max(a.past_due - amount, 0.0)
            else:
                a.plan_missed += 1
                if a.plan_missed >= 2:
                    a.in_plan = False  # two missed instalments break the plan
            if a.in_plan and a.plan_left > 0 and a.balance >= 0.005:
                a.plan_next_day = day + 30
        if a.pending_lift:
            a.intensity += a.pending_lift
            a.pending_lift = 0.0
        if a.status == ACTIVE and a.balance < 0.005:
            self._collect(a, a.balance)
            a.status = PAID_OFF
            a.in_plan = False
        if a.status == ACTIVE:
            self._interest_and_ageing(a)

    def _repayment_day(self, a: Account, day: int) -> None:
        """One day of the self-exciting repayment process, exactly, for one account."""
        b = self.b
        kappa = b.kappa
        excess = max(a.intensity - a.floor, 0.0)
        floor = a.floor
        target = self.rnd.expovariate(1.0)
        t = 0.0
        paid = 0.0
        while target < _compensator(excess, floor, kappa, 1.0 - t):
            tau = _first_event_time(excess, floor, kappa, target, 1.0 - t)
            r = b.r_min + (1.0 - b.r_min) * self.rnd.random()
            amount = r * a.balance
            a.balance -= amount
            paid += amount
            excess = excess * math.exp(-kappa * tau) + b.delta10 + b.delta11 * r
            t += tau
            target = self.rnd.expovariate(1.0)
        a.intensity = floor + excess * math.exp(-kappa * (1.0 - t))
        if paid:
            self.collected += paid
            self._apply_payment(a, paid)

    def _collect(self, a: Account, amount: float) -> None:
        a.balance -= amount
        self.collected += amount

    def _apply_payment(self, a: Account, paid: float) -> None:
        if self.b.model == "cgw":
            return
        a.past_due = max(a.past_due - paid, 0.0)
        if a.past_due <= 0.005 and a.status == ACTIVE:
            a.status = CURED
            a.dpd = 0
            a.in_plan = False

    def _interest_and_ageing(self, a: Account) -> None:
        p = self.scenario.portfolio
        a.balance += a.balance * (p.apr / 365.0)
        if a.in_plan:
            return
        a.dpd += 1
        if a.dpd % 30 == 0:
            a.balance += p.late_fee
            a.past_due = min(a.past_due + p.min_due_rate * a.balance + p.late_fee, a.balance)
        if self.b.model == "hawkes" and (a.dpd - 1) % 30 == 0:
            new_floor = self.by_bucket[min((a.dpd + 29) // 30, 6)] * self.by_segment[a.segment]
            a.intensity = max(a.intensity + new_floor - a.floor, new_floor)
            a.floor = new_floor
        if a.dpd >= p.charge_off_dpd:
            a.balance = 0.0
            a.status = CHARGED_OFF

    # ------------------------------------------------------------------ conversations

    def _conversation(self, a: Account, day: int, lift_key: str) -> None:
        if a.status != ACTIVE:
            return
        b = self.b
        rnd = self.rnd
        recent = _in_7d(a.contact_days, day)
        a.pending_lift += b.lift[lift_key] * fatigue_factor(b, recent)
        day = min(day, self.days - 1)
        if rnd.random() < complaint_probability(b, recent):
            self.complaints += 1
        if a.in_plan:
            return
        outcome = conversation_outcome(b, rnd.random())
        if outcome == PROMISE:
            a.promise_day = day + 1 + int(rnd.random() * b.promise_days)
            # A promise brings a repayment forward: a share r of the balance, at least what is past due.
            share = b.r_min + (1.0 - b.r_min) * rnd.random()
            a.promise_amount = min(a.balance, max(a.past_due, share * a.balance))
        elif outcome == PLAN:
            a.in_plan = True
            a.plan_left = b.plan_instalments
            a.plan_amount = round(a.balance / b.plan_instalments, 2)
            a.plan_missed = 0
            a.plan_next_day = day + 7
        elif outcome == DISPUTE:
            a.paused_until = day + 30

    def _may_dial(self, a: Account, day: int, minute_of_day: float) -> bool:
        rules = self.rules
        if a.status != ACTIVE or a.in_plan or a.paused_until > day:
            return False
        if not rules.in_window(minute_of_day):
            return False
        if rules.max_call_attempts_7d is not None and _in_7d(a.attempt_days, day) >= rules.max_call_attempts_7d:
            return False
        if rules.quiet_days_after_conversation and day - a.last_conversation < rules.quiet_days_after_conversation:
            return False
        if rules.max_attempts_per_day is not None and a.attempt_days.count(day) >= rules.max_attempts_per_day:
            return False
        if rules.max_connected_calls_per_day is not None and a.connect_days.count(day) >= rules.max_connected_calls_per_day:
            return False
        if rules.max_conversations_7d is not None and _in_7d(a.connect_days, day) >= rules.max_conversations_7d:
            return False
        return True

    def _call(self, a: Account, s: int, team: _Team, day: int):
        """An account on today's call list: wait for an agent, be dialled, maybe redialled."""
        env = self.env
        b = self.b
        handle = team.spec.handle_minutes
        give_up = day * DAY + team.shifts[-1][1]
        step = self.steps[s]
        tries = 0
        priority = (LIST, -a.balance, a.index)
        while True:
            req = team.agents.request(priority=priority)
            yield req | env.timeout(max(give_up - env.now, 0))
            if not req.triggered:
                req.cancel()
                return
            now = env.now
            if now >= give_up or not self._may_dial(a, day, now - day * DAY):
                team.agents.release(req)
                return
            tries += 1
            u = self.rnd.random()
            p_right = b.right_party_by_hour[int((now - day * DAY) // 60)]
            outcome = RIGHT_PARTY if u < p_right else WRONG_PARTY if u < p_right + b.wrong_party_rate else NO_ANSWER
            mean = (handle.no_answer, handle.wrong_party, handle.right_party)[outcome]
            duration = self.rnd.expovariate(1.0 / mean) if team.spec.handle_distribution == "exponential" else mean
            self.calls += 1
            a.attempt_days.append(day)
            a.contact_days.append(day)
            a.last_step_day[s] = day
            if outcome == RIGHT_PARTY:
                a.last_conversation = day
                a.connect_days.append(day)
                a.failed = 0
            else:
                a.failed += 1
            yield env.timeout(duration)
            team.agents.release(req)
            a.pending_lift += b.lift["call_attempt"] * fatigue_factor(b, _in_7d(a.contact_days, day))
            if outcome == RIGHT_PARTY:
                self._conversation(a, day, "right_party_contact")
                return
            if outcome != NO_ANSWER or tries >= step.attempts_per_day:
                return
            yield env.timeout(self.scenario.strategy.redial_minutes)
            priority = (REDIAL, env.now, a.index)

    def _caller(self, a: Account, at: float):
        """A borrower calling back after a reminder; hangs up when patience runs out."""
        env = self.env
        team = self.inbound_team
        yield env.timeout(at - env.now)
        patience = self.rnd.expovariate(1.0 / self.b.patience_minutes)
        req = team.agents.request(priority=(INBOUND, at, a.index))
        yield req | env.timeout(patience)
        if not req.triggered:
            req.cancel()
            return
        handle = team.spec.handle_minutes.inbound
        duration = self.rnd.expovariate(1.0 / handle) if team.spec.handle_distribution == "exponential" else handle
        day = min(int(env.now // DAY), self.days - 1)
        a.last_conversation = day
        a.failed = 0
        yield env.timeout(duration)
        team.agents.release(req)
        self._conversation(a, int(env.now // DAY), "inbound_call")

    def _visit(self, a: Account, s: int, team: _Team, day: int):
        env = self.env
        spec = team.spec
        end = day * DAY + min(team.shifts[-1][1], self.rules.window_end)
        req = team.agents.request(priority=(LIST, -a.balance, a.index))
        yield req | env.timeout(max(end - env.now, 0))
        if not req.triggered:
            req.cancel()
            return
        seen_day, count = team.visits_today
        count = count if seen_day == day else 0
        team.visits_today = (day, count + 1)
        if count >= spec.visits_per_day * spec.agents or env.now >= end or a.status != ACTIVE:
            team.agents.release(req)
            return
        duration = self.rnd.expovariate(1.0 / spec.handle_minutes.field_visit) if spec.handle_distribution == "exponential" else spec.handle_minutes.field_visit
        found = self.rnd.random() < spec.visit_success
        a.last_step_day[s] = day
        a.contact_days.append(day)
        self.field_visits += 1
        yield env.timeout(duration)
        team.agents.release(req)
        if found:
            a.failed = 0
            self._conversation(a, day, "field_visit")
        else:
            a.failed += 1

    def _legal_team(self, name: str, spec):
        env = self.env
        for day in range(self.days):
            yield env.timeout(day * DAY + 9 * 60 - env.now)
            if not self._works(spec, day):
                continue
            filed = 0
            while self.legal_queue and filed < spec.filings_per_day:
                *_, a = heapq.heappop(self.legal_queue)
                if a.status != ACTIVE:
                    continue
                a.status = IN_LEGAL
                a.in_plan = False
                filed += 1
                self.legal_filings += 1
                env.process(self._lawsuit(a, spec))

    def _lawsuit(self, a: Account, spec):
        yield self.env.timeout(spec.filing_delay_days * DAY)
        if self.rnd.random() < spec.legal_success:
            self._collect(a, round(a.balance * spec.recovery_share, 2))
        a.balance = 0.0
        a.status = LEGAL_CLOSED


def _compensator(excess: float, floor: float, kappa: float, tau: float) -> float:
    if kappa > 0:
        return floor * tau + excess * (-math.expm1(-kappa * tau)) / kappa
    return (floor + excess) * tau


def _first_event_time(excess: float, floor: float, kappa: float, target: float, horizon: float) -> float:
    """Newton's method on the concave compensator, from below (as in ``sim.behavior``)."""
    tau = 0.0
    for _ in range(60):
        step = -(_compensator(excess, floor, kappa, tau) - target) / (floor + excess * math.exp(-kappa * tau))
        tau = min(tau + step, horizon)
        if abs(step) <= 1e-13 * max(1.0, tau):
            break
    return tau


def run_naive(scenario: Scenario, seed: int, queue: str = "insort") -> NaiveResult:
    with Stopwatch() as watch:
        model = NaiveModel(scenario, seed, queue=queue)
        model.run()
    return NaiveResult(collected=model.collected, calls=model.calls, sms=model.sms,
                       field_visits=model.field_visits, legal=model.legal_filings,
                       wall=watch.wall, cpu=watch.cpu)


def run_engine(scenario: Scenario, seed: int) -> NaiveResult:
    with Stopwatch() as watch:
        result = simulate(scenario, seed, contact_log=False)
    contacts = result.kpis["contacts"]
    return NaiveResult(collected=float(result.kpis["collected"]), calls=int(contacts["call"]),
                       sms=int(contacts["sms"]), field_visits=int(contacts["field_visit"]),
                       legal=int(contacts["legal"]), wall=watch.wall, cpu=watch.cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default=str(BASELINE))
    parser.add_argument("--accounts", type=positive_int, default=20_000)
    parser.add_argument("--days", type=positive_int, default=180)
    parser.add_argument("--seeds", type=positive_int, default=3, help="paired runs (seeds 1..N)")
    parser.add_argument("--stock-accounts", type=int, default=5_000,
                        help="also time SimPy's stock PriorityResource (quadratic queue) at this size, one seed; 0 = skip")
    args = parser.parse_args(argv)
    scenario = load_scenario(args.scenario, {"simulation.accounts": args.accounts, "simulation.days": args.days})
    print_machine()
    print(f"scenario {scenario.display_name}: {args.accounts:,} accounts × {args.days} days, seeds 1..{args.seeds}")
    rows, engine_runs, naive_runs = [], [], []
    for seed in range(1, args.seeds + 1):
        e = run_engine(scenario, seed)
        n = run_naive(scenario, seed)
        engine_runs.append(e)
        naive_runs.append(n)
        for label, r in (("engine", e), ("naive", n)):
            rows.append([seed, label, r.wall, r.cpu, r.collected, r.calls, r.sms, r.field_visits, r.legal])
        print(f"  seed {seed}: engine {e.cpu:.2f} s CPU, naive {n.cpu:.1f} s CPU", file=sys.stderr, flush=True)
    print_table(["seed", "model", "wall s", "CPU s", "collected", "calls", "sms", "visits", "legal"], rows)
    account_days = args.accounts * args.days
    rate = {}
    for label, runs in (("engine", engine_runs), ("naive", naive_runs)):
        for clock in ("wall", "cpu"):
            rate[label, clock] = account_days * len(runs) / sum(getattr(r, clock) for r in runs)
    e_mean, e_ci = mean_ci([r.collected for r in engine_runs])
    n_mean, n_ci = mean_ci([r.collected for r in naive_runs])
    d_mean, d_ci = mean_ci([n.collected - e.collected for n, e in zip(naive_runs, engine_runs, strict=True)])
    print()
    print_table(["", "account-days/s (CPU)", "account-days/s (wall)", "collected mean", "± 95% CI"],
                [["engine", rate["engine", "cpu"], rate["engine", "wall"], e_mean, e_ci],
                 ["naive", rate["naive", "cpu"], rate["naive", "wall"], n_mean, n_ci],
                 ["naive − engine (paired)", "", "", d_mean, d_ci]])
    relative = d_mean / e_mean if e_mean else float("nan")
    verdict = "n/a (one seed)" if math.isnan(d_ci) else "yes" if abs(d_mean) <= d_ci else "no"
    print(f"collected agrees within statistical error: {verdict} "
          f"(paired difference {relative:+.2%} ± {d_ci / e_mean if e_mean else float('nan'):.2%} of the engine's mean)")
    if args.stock_accounts > 0:
        small = scenario.with_overrides({"simulation.accounts": args.stock_accounts})
        stock = run_naive(small, 1, queue="stock")
        insort = run_naive(small, 1, queue="insort")
        engine = run_engine(small, 1)
        small_days = args.stock_accounts * args.days
        print()
        print(f"naive model's agent queue at {args.stock_accounts:,} accounts x {args.days} days, seed 1:")
        print_table(["model", "CPU s", "account-days/s (CPU)", "engine speed-up", "collected"],
                    [["naive, SimPy stock PriorityResource", stock.cpu, small_days / stock.cpu, stock.cpu / engine.cpu,
                      stock.collected],
                     ["naive, insort queue (the headline's)", insort.cpu, small_days / insort.cpu,
                      insort.cpu / engine.cpu, insort.collected],
                     ["engine", engine.cpu, small_days / engine.cpu, 1.0, engine.collected]])
    print(f"speed-up per account-day: {rate['engine', 'cpu'] / rate['naive', 'cpu']:.1f}x CPU, "
          f"{rate['engine', 'wall'] / rate['naive', 'wall']:.1f}x wall")
    print(f"headline: engine is {rate['engine', 'cpu'] / rate['naive', 'cpu']:.1f}x faster than the naive SimPy model "
          f"per account-day ({args.accounts:,} accounts x {args.days} days, CPU time; target >= 50x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
