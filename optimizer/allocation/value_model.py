"""The value of a treatment: expected net collections from the simulator's own behaviour model.

How it is computed (analytic, no pilot simulations): a deterministic
mean-field recursion of the engine's daily process, run for every account of
the book (or a stratified sample of each segment) and every treatment at once
as NumPy arrays. Day by day it follows, for each account,

* the probability ``A`` that the account is still open and workable (not paid
  off, cured, charged off, in a plan or with legal);
* its repayment intensity while it has not yet paid: the floor λ∞ of its
  days-past-due bucket and risk segment plus the excitation that every
  treatment adds (lift × contact fatigue) and that decays at rate κ — before
  the first repayment the self-exciting intensity of
  :mod:`sim.behavior` is deterministic, so the probability of a repayment
  that day is exactly ``1 − exp(−Λ)``, Λ the compensator over the day;
* the expected repayment ``E[r]·balance`` and the probability that it cures
  the account (``r·balance ≥ past due``), after which the engine stops
  collecting — but not before the end of the day: the repayment's jump may
  bring a second one that day, which the model adds;
* calls (right-party probability by the hour of the dial: with the day's
  capacity, the rate of the first minutes of the shifts that the day's list
  keeps the agents busy, as the engine's agents work the list from the start
  of the first shift; without, averaged over the team's shift hours — the
  allocation model's capacity rows count the whole shift; dial
  attempts with redials on no answer, the Reg F quiet days after a
  telephone conversation — a call or a callback, not a field visit — and the
  7-day attempt cap), callbacks after reminders,
  conversation outcomes (promise to pay kept or broken, instalment plan),
  field visits, legal referrals with their delay, success and commission;
* instalment plans as the engine runs them (:func:`plan_outcomes_with_cure`:
  an instalment a month, each kept with ``plan_keep_rate``; two missed in a
  row break the plan and the account comes back to collection with what it
  still owes; meanwhile the account keeps paying on its own at its frozen
  bucket's floor plus its excitation, and such a repayment that clears what
  is past due — after the first instalment usually any — cures it, which
  ends the plan with the rest of the balance uncollected);
* interest, late fees, ageing across buckets (the floor moves, the excitation
  stays) and charge-off.

What it leaves out, and which way that biases it: an account's own repayments
on a plan that do not cure it (they only bring money forward), the days past
due a plan freezes (a broken plan comes back at the open accounts' days past
due; slightly pessimistic), the late last instalment that also pays the
interest, and — in :func:`value_treatments` — the capacity limits
of the day (the allocation model adds those as weekly constraints; a field
visit's minutes are then booked over the team's working days in the weeks of
its cadence, as the engine's field team works off a list it cannot finish in a
day). Expected values are averaged
over the randomness, so the model is optimistic for segments whose value is
dominated by rare events (field visits, legal). It also follows one mean
excitation per account, while in the engine a right-party contact lifts
only the accounts it reached, which pay and leave, so those still open are
the ones not reached: where contacts are rare and their lifts large the
model is high (with every call reaching the borrower it is exact; with the
same mean lift on one call in five, 1.8 % high and up to 22 % in the late
buckets — docs/optimizer_validation.md).

Agent pay is a fixed cost of a team, so the *net* value of a treatment is its
expected collections minus its variable spend (messages, letters, visits,
filings, agency commission, complaint handling); agent time is a capacity, priced by the
allocation model's shadow prices. The simulator's ``net_recovery`` subtracts
agent pay as well, which is the same for two strategies run with the same
teams, so differences compare like with like.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from sim.behavior import complaint_probability
from sim.compliance import ContactCalendar, ContactRules
from sim.domain import (
    DELINQUENT_BUCKETS,
    ROLL_STATES,
    WEEKDAYS,
    bucket_of,
    fatigue,
    hour_of,
    priority_key,
)
from sim.errors import ScenarioError
from sim.scenario import Scenario, Step, TeamSection, parse_clock

from .objective import HorizonBook, horizon_value
from .segments import Segments
from .treatments import CHANNEL_ORDER, Treatment, minutes_per_attempt, team_for, visit_minutes
from .valuation import MeanFieldResult, Valuation, sample_accounts

# Channel rows of the value model's arrays, in CHANNEL_ORDER.
SMS, EMAIL, CALL, LETTER, FIELD, LEGAL = (CHANNEL_ORDER.index(c) for c in ("sms", "email", "call", "letter", "field_visit", "legal"))
CURRENT_STATE, LEGAL_STATE = ROLL_STATES.index("current"), ROLL_STATES.index("legal")
NEVER = -(10**6)
# Failed-attempt counts are tracked as a distribution over 0 … MAX_FAILED (the
# last bin is "at least"): an ``after_failed`` gate asks for the share of the
# account's probability with at least that many, not for the mean count.
MAX_FAILED = 24

# A schedule says, for one day, the cadence of each channel for each account:
# every[channel, account] (0 = not scheduled), attempts[account] for calls, a
# key per channel that changes when the ladder step behind it changes (the
# engine's cadence clock is per step, so a new step contacts at once) and the
# after_failed gate of the step (0 = none).
Schedule = Callable[[int, "BookState"], tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]


@dataclass
class BookState:
    """What a schedule may look at on a day (all arrays per account, conditional on being open)."""

    days_past_due: np.ndarray
    balance: np.ndarray
    start_bucket: np.ndarray
    risk: np.ndarray
    band: np.ndarray


def _check_model(scenario: Scenario) -> None:
    if scenario.behavior.model != "hawkes":
        raise ScenarioError(scenario.source, "behavior.model",
                            "the allocation value model needs model = 'hawkes' (the full borrower model)")


def _priority(scenario: Scenario, balance: np.ndarray, dpd: np.ndarray, intensity: np.ndarray) -> np.ndarray:
    """The engine's call-list order (:func:`sim.domain.priority_key`); the sample's positions stand for account ids."""
    return priority_key(scenario.strategy.priority, balance=balance, days_past_due=dpd, intensity=intensity,
                        account_id=np.arange(balance.size))


def _served(demand: np.ndarray, limit: float, key: np.ndarray) -> np.ndarray:
    """Share of each account's demand met when ``limit`` is handed out in priority order."""
    total = float(demand.sum())
    if total <= limit:
        return np.ones(demand.size)
    order = np.argsort(key, kind="stable")
    before = np.empty(demand.size)
    before[order] = np.cumsum(demand[order]) - demand[order]
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(demand > 0, (limit - before) / demand, 1.0)
    return np.clip(share, 0.0, 1.0)


def _call_day_failures(p_right: float, p_wrong: float, attempts: int) -> tuple[float, np.ndarray]:
    """One call day with up to ``attempts`` dials (redials on no answer only).

    Returns the probability that the day ends in a conversation (failed count
    reset to 0) and the probability of adding j failed attempts, j = 0 … attempts.
    """
    p_no = max(0.0, 1.0 - p_right - p_wrong)
    add = np.zeros(attempts + 1)
    reset = 0.0
    for j in range(1, attempts + 1):
        reach = p_no ** (j - 1)
        reset += reach * p_right
        add[j] += reach * p_wrong
    add[attempts] += p_no**attempts
    return reset, add


def _shift(F: np.ndarray, add: np.ndarray) -> np.ndarray:
    """The failed-count distribution after adding j failures with probability add[j] (top bin absorbs)."""
    out = np.zeros_like(F)
    top = F.shape[0] - 1
    for j, p in enumerate(add):
        if p == 0:
            continue
        if j == 0:
            out += p * F
            continue
        out[j:] += p * F[:top + 1 - j]
        out[top] += p * F[top + 1 - j:].sum(axis=0)
    return out


@dataclass
class _Setup:
    """What the recursion reads and never changes: the scenario's rates, rules, calendar and teams."""

    scenario: Scenario
    days: int
    n: int
    weeks: int
    weight: np.ndarray
    capacity: bool
    rules: ContactRules
    calendar: ContactCalendar
    base: np.ndarray  # repayment floor by bucket (index 0: current)
    seg_mult: np.ndarray  # the floor's multiplier by risk segment
    teams: dict[str, str | None]  # channel -> team name
    call_team: TeamSection | None
    inbound_team: str | None
    field_team: TeamSection | None
    legal_team: TeamSection | None
    known: dict[int, np.ndarray]  # channel -> accounts with a known address
    send_ok: bool
    decay: float
    ramp: float
    mean_r: float
    quiet_days: int
    hold_span: int
    # The call team's figures (None without a call team): mean minutes and
    # right-party, wrong-party and no-answer rates of an attempt over its shifts,
    # its shift minutes a day and the running mean right-party rate of its day.
    call_mean: float | None = None
    p_right: float | None = None
    p_wrong: float | None = None
    p_no: float | None = None
    call_shift: int = 0
    mean_rate_first: np.ndarray | None = None
    field_days: np.ndarray | None = None  # the field team's working days in each week
    call_day: dict = field(default_factory=dict)  # (attempts, right-party rate) -> _call_day_failures

    @property
    def b(self):
        return self.scenario.behavior

    @classmethod
    def build(cls, scenario: Scenario, days: int, n: int, weight: np.ndarray | None, capacity: bool) -> _Setup:
        b = scenario.behavior
        spec = scenario.portfolio
        rules = ContactRules.from_section(scenario.compliance)
        teams = {ch: team_for(scenario, ch) for ch in ("call", "field_visit", "legal")}
        quiet_days = rules.quiet_days_after_conversation or 0
        decay = math.exp(-b.kappa)
        setup = cls(
            scenario=scenario, days=days, n=n, weeks=math.ceil(days / 7),
            weight=np.ones(n) if weight is None else np.asarray(weight, dtype=float), capacity=capacity,
            rules=rules, calendar=ContactCalendar(rules, scenario.simulation.start_date, days),
            base=np.array([0.0] + [b.base_intensity[k] for k in DELINQUENT_BUCKETS]),
            seg_mult=np.array([b.segment_multiplier.get(s, 1.0) for s in spec.segments]), teams=teams,
            call_team=scenario.teams[teams["call"]] if teams["call"] else None,
            inbound_team=next((name for name, t in scenario.teams.items()
                               if t.kind == "call" and t.inbound and t.agents > 0), None),
            field_team=scenario.teams[teams["field_visit"]] if teams["field_visit"] else None,
            legal_team=scenario.teams[teams["legal"]] if teams["legal"] else None,
            known={}, send_ok=rules.in_window(parse_clock("10:00")), decay=decay,
            ramp=(1 - decay) / b.kappa if b.kappa > 0 else 1.0, mean_r=(1 + b.r_min) / 2,
            quiet_days=quiet_days, hold_span=2 * quiet_days + 1)
        if setup.call_team is not None:
            setup._call_rates()
        setup.field_days = np.array([sum(setup.works(setup.field_team, d) for d in range(7 * w, min(days, 7 * w + 7)))
                                     for w in range(setup.weeks)], dtype=float)
        return setup

    def _call_rates(self) -> None:
        b, call_team, rules = self.b, self.call_team, self.rules
        self.call_mean, self.p_right = minutes_per_attempt(self.scenario, call_team)
        self.p_wrong = min(b.wrong_party_rate, 1.0 - self.p_right)
        self.p_no = max(0.0, 1.0 - self.p_right - self.p_wrong)
        self.call_shift = sum(end - start for start, end in call_team.shift_minutes)
        # The right-party rate of each minute of an agent's working day (shifts
        # one after the other, inside the contact window) and its running mean:
        # the engine's agents work the call list from the start of the first
        # shift, so a list that takes them m minutes is dialled at the rate of
        # the first m minutes, not at the average of the shifts.
        rate_by_minute = [b.right_party_by_hour[hour_of(minute)] for start, end in call_team.shift_minutes
                          for minute in range(max(start, rules.window_start), min(end, rules.window_end))]
        self.mean_rate_first = np.cumsum(rate_by_minute) / np.arange(1, len(rate_by_minute) + 1) \
            if rate_by_minute else np.zeros(1)

    def works(self, team, day: int) -> bool:
        return (team is not None and WEEKDAYS[self.calendar.date(day).weekday()] in team.work_days
                and not self.calendar.is_quiet(day))

    def answered(self, day: int, ch: int) -> float:
        """Share of callbacks that reach an agent: they arrive uniformly from the send time
        (window start for letters) to the end of the window and wait only briefly, so only
        those arriving while the inbound team is on shift are answered."""
        if self.inbound_team is None:
            return 0.0
        team = self.scenario.teams[self.inbound_team]
        if not self.works(team, day):
            return 0.0
        start = self.rules.window_start if ch == LETTER else max(parse_clock("10:00"), self.rules.window_start)
        end = self.rules.window_end
        if end <= start:
            return 0.0
        covered = sum(max(0, min(e, end) - max(s_, start)) for s_, e in team.shift_minutes)
        return covered / (end - start)


@dataclass
class _Book:
    """The book in expectation: per account, conditional on being open unless said otherwise."""

    A: np.ndarray  # probability that the account is open and workable
    B: np.ndarray  # balance
    pd_: np.ndarray  # past due
    dpd: np.ndarray  # days past due
    risk: np.ndarray
    band: np.ndarray
    start_bucket: np.ndarray
    floor: np.ndarray  # repayment intensity floor λ∞ of the bucket and risk segment
    exc: np.ndarray  # excitation above the floor
    F: np.ndarray  # failed-count distribution, conditional on open
    collected: np.ndarray
    cost: np.ndarray
    # The book at the horizon: balance by roll state (open accounts are added at
    # the end), written off, reaching 31 days past due.
    book_end: np.ndarray
    written_off: np.ndarray
    rolled_past_30: np.ndarray
    last: np.ndarray  # (channel, account) last contact day
    last_key: np.ndarray  # (channel, account) the ladder step behind the cadence
    recent: dict[int, list[tuple[int, np.ndarray]]]  # gated contacts given
    contact_ring: np.ndarray  # contacts of the last 7 days
    attempt_ring: np.ndarray  # call attempts of the last 7 days
    # Reg F's quiet days, as the engine keeps them: a telephone conversation on
    # day d refuses calls until day d + quiet_days, and an account refused while
    # its step's cadence was due is not dialled, so its clock does not restart:
    # it is called on the first day the quiet days are over, not a cadence later.
    # held[X % hold_span]: the share of an account's open mass not callable before
    # day X; waiting[X % hold_span]: the part of it that was due meanwhile and is
    # dialled on day X (then held a cadence, the rest of the account keeping
    # its own clock).
    held: np.ndarray | None
    waiting: np.ndarray | None
    promises_due: dict[int, np.ndarray]
    promise_amount_due: dict[int, np.ndarray]
    # A dispute pauses collection for 30 days (the account still pays on its
    # own): the share of open accounts paused, by the day the pause started.
    pause_ring: np.ndarray
    minutes: dict[str, np.ndarray]  # team -> (weeks, accounts)
    returning: dict[int, tuple[np.ndarray, np.ndarray]]  # day -> (mass back from broken plans, its balance)

    @classmethod
    def start(cls, setup: _Setup, balance: np.ndarray, past_due: np.ndarray, days_past_due: np.ndarray,
              risk: np.ndarray, band: np.ndarray) -> _Book:
        n = setup.n
        B = balance.astype(float).copy()
        dpd = days_past_due.astype(np.int64).copy()
        start_bucket = bucket_of(dpd).astype(np.int64)
        F = np.zeros((MAX_FAILED + 1, n))
        F[0] = 1.0
        hold = np.zeros((setup.hold_span, n)) if setup.quiet_days else None
        return cls(
            A=(B > 0).astype(float) * (dpd > 0), B=B, pd_=past_due.astype(float).copy(), dpd=dpd, risk=risk,
            band=band, start_bucket=start_bucket, floor=setup.base[start_bucket] * setup.seg_mult[risk],
            exc=np.zeros(n), F=F, collected=np.zeros(n), cost=np.zeros(n),
            book_end=np.zeros((n, len(ROLL_STATES))), written_off=np.zeros(n), rolled_past_30=np.zeros(n),
            last=np.full((6, n), NEVER, dtype=np.int64), last_key=np.full((6, n), -1, dtype=np.int64),
            recent={ch: [] for ch in range(6)}, contact_ring=np.zeros((7, n)), attempt_ring=np.zeros((7, n)),
            held=hold, waiting=None if hold is None else np.zeros((setup.hold_span, n)),
            promises_due={}, promise_amount_due={}, pause_ring=np.zeros((30, n)),
            minutes={name: np.zeros((setup.weeks, n)) for name in setup.scenario.teams}, returning={})

    def listens(self, setup: _Setup, extra: np.ndarray | float = 0.0) -> np.ndarray:
        """Contact fatigue (:func:`sim.domain.fatigue`) of every account at its 7-day contacts (+ ``extra``)."""
        return fatigue(setup.b.fatigue, self.contact_ring.sum(axis=0) + extra)

    def at_least(self, g: np.ndarray) -> np.ndarray:
        """P(failed ≥ g) per account (g = 0: 1)."""
        # The tail P(failed ≥ j) accumulated from the top row down, each
        # account's taken as it passes its own g: the same additions in the same
        # order as a reversed cumsum, without building the whole table (this
        # runs every day for every gated channel).
        F = self.F
        g = np.minimum(g, MAX_FAILED)
        tail = F[MAX_FAILED].copy()
        out = np.where(g == MAX_FAILED, tail, 0.0)
        highest = int(g.max(initial=0))
        for j in range(MAX_FAILED - 1, int(g.min(initial=0)) - 1, -1):
            tail += F[j]
            if j <= highest:
                picked = g == j
                out[picked] = tail[picked]
        return out

    def priority(self, setup: _Setup) -> np.ndarray:
        return _priority(setup.scenario, self.B, self.dpd, self.floor + self.exc)


@dataclass
class _Today:
    """One day's schedule and what its contacts have done so far (per account, conditional on open)."""

    day: int
    week: int
    slot: int  # the day's row of the 7-day rings
    every: np.ndarray
    attempts: np.ndarray
    gate: np.ndarray
    scheduled: np.ndarray
    gated: np.ndarray
    due: np.ndarray
    workable: np.ndarray
    released: np.ndarray  # the share whose quiet days end today, dialled today if due meanwhile
    quiet: bool
    lift: np.ndarray
    conversation: np.ndarray  # probability of a right-party conversation today (conditional)
    # Of which on the telephone (outbound or a callback): only those start the
    # quiet days after a conversation; a field visit does not (as in the engine).
    telephone: np.ndarray
    inbound_today: np.ndarray


def _rejoin_broken_plans(s: _Setup, k: _Book, day: int) -> None:
    """Broken plans rejoin the open accounts: balance and failed-count
    distribution become the mixture of both (back with none failed)."""
    if day not in k.returning:
        return
    mass, owed = k.returning.pop(day)
    alive = k.dpd < s.scenario.portfolio.charge_off_dpd
    mass, owed = np.where(alive, mass, 0.0), np.where(alive, owed, 0.0)
    total = k.A + mass
    has = total > 1e-15
    k.B = np.where(has, (k.A * k.B + owed) / np.where(has, total, 1.0), k.B)
    k.F = np.where(has[None, :], k.F * (k.A / np.where(has, total, 1.0))[None, :], k.F)
    k.F[0] += np.where(has, mass / np.where(has, total, 1.0), 0.0)
    k.A = total


def _morning(s: _Setup, k: _Book, day: int, schedule: Schedule) -> _Today:
    """The morning: the rings move on, holds end, and the schedule says who is due on which channel."""
    n = s.n
    slot = day % 7
    k.contact_ring[slot] = 0.0
    k.attempt_ring[slot] = 0.0
    released = np.zeros(n)
    if s.quiet_days:
        # Holds that end today: callable again, and dialled today if due meanwhile.
        released = k.waiting[day % s.hold_span].copy()
        k.held[day % s.hold_span] = 0.0
        k.waiting[day % s.hold_span] = 0.0
    state = BookState(k.dpd, k.B, k.start_bucket, k.risk, k.band)
    every, attempts, key, gate = schedule(day, state)
    changed = key != k.last_key
    k.last[changed] = NEVER
    k.last_key = key
    scheduled = (every > 0) & (k.A[None, :] > 0)
    for ch, mask in s.known.items():
        scheduled[ch] &= mask
    due = (scheduled & (day - k.last >= every)).astype(float)
    k.pause_ring[day % 30] = 0.0
    workable = np.clip(1.0 - k.pause_ring.sum(axis=0), 0.0, 1.0)
    gated = scheduled & (gate > 0)
    if gated.any():
        # A gated step reaches the accounts with enough failed attempts that
        # it has not reached within its cadence (the engine's per-step clock).
        for ch in np.flatnonzero(gated.any(axis=1)):
            rows = gated[ch]
            k.recent[ch] = [(d, w) for d, w in k.recent[ch] if day - d < int(every[ch][rows].max())]
            given = sum((w for _, w in k.recent[ch]), np.zeros(n))
            share = np.maximum(k.at_least(gate[ch]) - given, 0.0)
            due[ch] = np.where(rows, share, due[ch])
    due *= workable[None, :]
    return _Today(day=day, week=day // 7, slot=slot, every=every, attempts=attempts, gate=gate, scheduled=scheduled,
                  gated=gated, due=due, workable=workable, released=released, quiet=s.calendar.is_quiet(day),
                  lift=np.zeros(n), conversation=np.zeros(n), telephone=np.zeros(n), inbound_today=np.zeros(n))


def _automated_contacts(s: _Setup, k: _Book, t: _Today) -> None:
    """Automated channels: no agent, a unit cost, a lift and some callbacks."""
    b, day = s.b, t.day
    for ch, name in ((SMS, "sms"), (EMAIL, "email"), (LETTER, "letter")):
        if t.quiet or (ch != LETTER and not s.send_ok) or not t.due[ch].any():
            continue
        who = t.due[ch]
        if t.gated[ch].any():
            k.recent[ch].append((day, np.where(t.gated[ch], who, 0.0)))
        k.last[ch][(who > 0) & ~t.gated[ch]] = day
        k.cost += k.A * who * getattr(s.scenario.costs, name)
        t.lift += who * b.lift[name] * k.listens(s)
        k.contact_ring[t.slot] += who
        p_cb = b.callback_probability.get(name, 0.0) * s.answered(day, ch)
        if p_cb > 0 and s.inbound_team is not None:
            t.conversation += who * p_cb
            t.telephone += who * p_cb
            t.lift += who * p_cb * b.lift["inbound_call"] * k.listens(s)
            t.inbound_today += k.A * who * p_cb * s.scenario.teams[s.inbound_team].handle_minutes.inbound
    if s.inbound_team is not None:
        k.minutes[s.inbound_team][t.week] += t.inbound_today


def _calls(s: _Setup, k: _Book, t: _Today, trace: dict[str, np.ndarray] | None) -> None:
    """Calls: dial attempts with redials on no answer, within the rules and the agents' day."""
    day = t.day
    if s.quiet_days:
        # Released shares of accounts no longer on a call step lapse.
        t.released = t.released * (t.scheduled[CALL] & (t.gate[CALL] == 0)) * t.workable
        if s.call_team is None or not s.works(s.call_team, day):
            k.waiting[(day + 1) % s.hold_span] += t.released  # dialled on the next working day
            t.released = np.zeros(s.n)
    if not (s.call_team is not None and s.works(s.call_team, day) and (t.due[CALL].any() or t.released.any())):
        return
    clock = t.due[CALL]
    if s.quiet_days:
        blocked = np.minimum(k.held.sum(axis=0), 1.0)
        # The cadence falls due for the held share too: it waits for its hold to end.
        np.maximum(k.waiting, k.held * clock[None, :], out=k.waiting)
        who = np.where(clock > 0, clock * (1.0 - blocked), np.minimum(t.released, 1.0))
    else:
        who = clock
    allowed = t.attempts.astype(float)
    if s.rules.max_call_attempts_7d is not None:
        allowed = np.minimum(allowed, np.maximum(s.rules.max_call_attempts_7d - k.attempt_ring.sum(axis=0), 0.0))
    if s.rules.max_attempts_per_day is not None:
        allowed = np.minimum(allowed, s.rules.max_attempts_per_day)
    whole = np.floor(allowed)
    tries = _dials_per_account(s.p_no, allowed, whole) * who
    if s.capacity:
        tries, served, day_right, day_wrong, day_mean = _calls_within_capacity(s, k, t, who, allowed, whole, tries)
        tries = tries * served
        if s.quiet_days:
            # A released share the agents did not reach stays on tomorrow's list.
            k.waiting[(day + 1) % s.hold_span] += np.where(clock > 0, 0.0, who * (1.0 - served))
        who = who * served
        # Accounts the agents did not reach stay on tomorrow's list (their clock did not start).
        k.last[CALL][(clock > 0) & (served >= 0.5) & ~t.gated[CALL]] = day
    else:
        day_right, day_wrong, day_mean = s.p_right, s.p_wrong, s.call_mean
        k.last[CALL][(clock > 0) & ~t.gated[CALL]] = day
    if t.gated[CALL].any():
        k.recent[CALL].append((day, np.where(t.gated[CALL], who, 0.0)))
    reached = _record_calls(s, k, t, tries, day_right, day_mean, trace)
    if s.quiet_days:
        # A released share dialled today keeps a clock of its own: held for a
        # cadence (what it reached is held for the quiet days, below).
        own = np.where(clock > 0, 0.0, np.maximum(who - reached, 0.0))
        for gap in np.unique(t.every[CALL][own > 0]).tolist():
            k.held[(day + min(int(gap), s.hold_span - 1)) % s.hold_span] += np.where(t.every[CALL] == gap, own, 0.0)
    _failed_after_calls(s, k, who, whole, day_right, day_wrong)


def _calls_within_capacity(s: _Setup, k: _Book, t: _Today, who: np.ndarray, allowed: np.ndarray,
                           whole: np.ndarray, tries: np.ndarray):
    """The day's dials cut to the call team's minutes in priority order, at the rate of the minutes they fill.

    Returns the dials per account (before the cut), the share served and the
    day's right-party rate, wrong-party rate and mean minutes of an attempt.
    """
    b, weight, handle = s.b, s.weight, s.call_team.handle_minutes
    limit = s.call_team.agents * s.call_shift - float((t.inbound_today * weight).sum())
    served = _served(k.A * tries * s.call_mean * weight, max(limit, 0.0), k.priority(s))
    # The day's list (and the callbacks answered first) keeps the agents
    # busy for its minutes over their number: the dials fall in those
    # first minutes of the shifts, at their right-party rate (twice, as
    # the list's minutes depend on the rate: right-party calls are longer).
    day_mean = s.call_mean
    for _ in range(2):
        busy = (float((k.A * tries * served * day_mean * weight).sum())
                + float((t.inbound_today * weight).sum())) / max(s.call_team.agents, 1)
        day_right = float(s.mean_rate_first[min(max(int(busy), 1), s.mean_rate_first.size) - 1])
        day_wrong = min(b.wrong_party_rate, 1.0 - day_right)
        day_no = max(0.0, 1.0 - day_right - day_wrong)
        day_mean = (day_right * handle.right_party + day_wrong * handle.wrong_party
                    + day_no * handle.no_answer)
        tries = _dials_per_account(day_no, allowed, whole) * who
        served = _served(k.A * tries * day_mean * weight, max(limit, 0.0), k.priority(s))
    return tries, served, day_right, day_wrong, day_mean


def _record_calls(s: _Setup, k: _Book, t: _Today, tries: np.ndarray, day_right: float, day_mean: float,
                  trace: dict[str, np.ndarray] | None) -> np.ndarray:
    """The day's dials: minutes, the 7-day rings, lifts and conversations; returns the right-party share."""
    b = s.b
    reached = np.minimum(tries * day_right, 1.0)
    if trace is not None:
        trace["calls"][t.day] += float((k.A * tries * s.weight).sum())
        trace["right_party"][t.day] += float((k.A * reached * s.weight).sum())
    k.minutes[s.teams["call"]][t.week] += k.A * tries * day_mean
    k.attempt_ring[t.slot] += tries
    k.contact_ring[t.slot] += tries
    t.lift += tries * b.lift["call_attempt"] * k.listens(s)
    t.lift += reached * b.lift["right_party_contact"] * k.listens(s)
    t.conversation += reached
    t.telephone += reached
    return reached


def _failed_after_calls(s: _Setup, k: _Book, who: np.ndarray, whole: np.ndarray, day_right: float,
                        day_wrong: float) -> None:
    """The failed-count distribution: a day of k dials ends in a conversation
    (reset) or adds its failures; accounts not called keep theirs."""
    F = k.F
    called = np.minimum(who, 1.0)
    mixed = np.zeros_like(F)
    for dials in np.unique(whole[called > 0]).astype(int):
        if dials < 1:
            continue
        if (dials, day_right) not in s.call_day:
            s.call_day[(dials, day_right)] = _call_day_failures(day_right, day_wrong, dials)
        reset, add = s.call_day[(dials, day_right)]
        rows = (whole == dials) & (called > 0)
        moved = _shift(F[:, rows], add)
        moved[0] += reset * F[:, rows].sum(axis=0)
        mixed[:, rows] = moved
    k.F = np.where(called[None, :] > 0, (1 - called) * F + called * mixed, F)


def _field_visits(s: _Setup, k: _Book, t: _Today) -> None:
    """Field visits: an agent's share of the day, a fee, a conversation if found."""
    team, day = s.field_team, t.day
    if not (team is not None and s.works(team, day) and t.due[FIELD].any()):
        return
    who = t.due[FIELD]
    if s.capacity:
        who = who * _served(k.A * who * s.weight, float(team.visits_per_day * team.agents), k.priority(s))
    k.last[FIELD][(who > 0) & ~t.gated[FIELD]] = day
    if t.gated[FIELD].any():
        k.recent[FIELD].append((day, np.where(t.gated[FIELD], who, 0.0)))
    visit_time = k.A * who * visit_minutes(team)
    if s.capacity:
        k.minutes[s.teams["field_visit"]][t.week] += visit_time
    else:
        _book_field_minutes(s, k, t, visit_time)
    k.cost += k.A * who * s.scenario.costs.field_visit
    k.contact_ring[t.slot] += who
    found = who * team.visit_success
    t.lift += found * s.b.lift["field_visit"] * k.listens(s)
    t.conversation += found
    # Visited mass comes from the gated tail (or the whole distribution):
    # found → 0 failed, not found → one more.
    F = k.F
    g = np.where(t.gated[FIELD], t.gate[FIELD], 0)
    tail = np.arange(MAX_FAILED + 1)[:, None] >= g[None, :]
    pool = F * tail
    pool_mass = pool.sum(axis=0)
    phi = np.where(pool_mass > 0, np.minimum(who / np.maximum(pool_mass, 1e-12), 1.0), 0.0)
    taken = pool * phi
    k.F = F - taken + _shift(taken, np.array([0.0, 1 - team.visit_success]))
    k.F[0] += taken.sum(axis=0) * team.visit_success


def _book_field_minutes(s: _Setup, k: _Book, t: _Today, visit_time: np.ndarray) -> None:
    """Field minutes without the day's cut.

    Every account a treatment starts on is due for a visit at once; the
    engine's field team works a list it cannot finish on the following days,
    so a visit's minutes are booked evenly over the weeks of its cadence (what
    is left at the horizon in the last week), not all in the week it falls
    due. Weeks weigh by the team's working days (none on a holiday week).
    """
    week = t.week
    span = np.maximum(-(-t.every[FIELD] // 7), 1)
    for width in np.unique(span[visit_time > 0]).tolist():
        ahead = s.field_days[week:week + width]
        share = np.where(span == width, visit_time, 0.0) / max(float(ahead.sum()), 1.0)
        for j, worked in enumerate(ahead.tolist()):
            if worked:
                k.minutes[s.teams["field_visit"]][week + j] += share * worked


def _legal(s: _Setup, k: _Book, t: _Today) -> None:
    """Legal: the account leaves collection; recovery after the filing delay."""
    team, day, days, costs = s.legal_team, t.day, s.days, s.scenario.costs
    if team is None or not t.due[LEGAL].any():
        return
    filed_day = day
    while filed_day < days and not s.works(team, filed_day):
        filed_day += 1
    share = np.minimum(t.due[LEGAL], 1.0)
    mass = k.A * share
    k.last[LEGAL][(share > 0) & ~t.gated[LEGAL]] = day
    if t.gated[LEGAL].any():
        k.recent[LEGAL].append((day, np.where(t.gated[LEGAL], share, 0.0)))
        # The referred accounts are the ones with enough failures: the
        # rest keep their distribution, renormalised.
        g = np.where(t.gated[LEGAL], t.gate[LEGAL], 0)
        tail = np.arange(MAX_FAILED + 1)[:, None] >= g[None, :]
        pool_mass = (k.F * tail).sum(axis=0)
        phi = np.where(pool_mass > 0, np.minimum(share / np.maximum(pool_mass, 1e-12), 1.0), 0.0)
        k.F = k.F - k.F * tail * phi
        k.F = k.F / np.maximum(k.F.sum(axis=0), 1e-12)
    k.A = k.A - mass
    if filed_day < days:
        k.minutes[s.teams["legal"]][filed_day // 7] += mass
        k.cost += mass * costs.legal_filing
        resolve = filed_day + team.filing_delay_days
        if resolve < days:
            recovered = mass * team.legal_success * team.recovery_share * k.B
            k.collected += recovered
            k.cost += recovered * costs.agency_commission
            k.written_off += mass * k.B - recovered  # what the case did not recover is written off
        else:
            k.book_end[:, LEGAL_STATE] += mass * k.B


def _conversations(s: _Setup, k: _Book, t: _Today, trace: dict[str, np.ndarray] | None) -> None:
    """How conversations end: complaints, promises (kept ones cure), instalment plans, disputes."""
    b = s.b
    conversation = np.minimum(t.conversation, 1.0)
    if conversation.any():
        # Each conversation may bring a complaint, likelier under contact pressure
        # (:func:`sim.behavior.complaint_probability`), handled at a cost.
        k.cost += k.A * conversation * complaint_probability(b, k.contact_ring.sum(axis=0)) * s.scenario.costs.complaint
        _promises(s, k, t, conversation, trace)
        _plans(s, k, t, conversation)
        k.pause_ring[t.day % 30] = conversation * b.dispute_probability
    if s.quiet_days:
        k.held[(t.day + s.quiet_days) % s.hold_span] += np.minimum(t.telephone, 1.0)


def _promises(s: _Setup, k: _Book, t: _Today, conversation: np.ndarray,
              trace: dict[str, np.ndarray] | None) -> None:
    """Promises to pay made today, due a few days on."""
    b, B, day = s.b, k.B, t.day
    promise = conversation * b.promise_probability
    # A newer promise replaces an older one (the engine keeps only the
    # latest due day), so pending promises lapse with today's new ones.
    for due_day in k.promises_due:
        k.promises_due[due_day] = k.promises_due[due_day] * (1.0 - promise)
    promised = k.A * promise
    if trace is not None:
        trace["promises"][day] += float((promised * s.weight).sum())
    due_day = day + 1 + (b.promise_days - 1) / 2
    due_day = int(round(due_day))
    # The promised amount is drawn like a repayment, a share r of the
    # balance, and is never less than what is past due: E[max(past due, r·B)].
    x = np.clip(k.pd_ / np.maximum(B, 1e-9), b.r_min, 1.0)
    span = max(1.0 - b.r_min, 1e-9)
    amount = np.minimum(B, B * (x * (x - b.r_min) + (1.0 - x * x) / 2) / span)
    k.promises_due[due_day] = k.promises_due.get(due_day, 0.0) + promised
    k.promise_amount_due[due_day] = amount


def _plans(s: _Setup, k: _Book, t: _Today, conversation: np.ndarray) -> None:
    """Instalment plans taken up today: what they collect, what they leave at the horizon, who comes back.

    Instalments fall due 7 days after the plan and every 30 days after
    that; two missed in a row break the plan and the account comes back
    to collection with what it still owes.
    """
    b, B, day, days = s.b, k.B, t.day, s.days
    planned = k.A * conversation * b.plan_uptake
    slots = 0
    while day + 7 + 30 * slots < days:
        slots += 1
    stay = _plan_stays(s, k, t, slots)
    instalment = B / b.plan_instalments
    x_first = np.clip(k.pd_ / np.maximum(B, 1e-9), b.r_min, 1.0)
    x_later = np.clip(np.maximum(k.pd_ - instalment, 0.0) / np.maximum(B, 1e-9), b.r_min, 1.0)
    span = max(1.0 - b.r_min, 1e-9)
    cure_first, cure_later = (1 - x_first) / span, (1 - x_later) / span
    paid, self_paid, breaks = plan_outcomes_with_cure(
        b.plan_instalments, b.plan_keep_rate, stay,
        (cure_first, (1 + x_first) / 2), (cure_later, (1 + x_later) / 2))
    k.collected += planned * B * (paid / b.plan_instalments + self_paid)
    k.A = k.A - planned
    # A plan freezes the days past due: what it still owes at the horizon
    # (less what broken plans take back to collection) stays in this bucket.
    in_plan = planned * B * (1 - paid / b.plan_instalments - self_paid)
    for p_break, paid_before in breaks:
        in_plan = in_plan - planned * p_break * B * (1 - paid_before / b.plan_instalments)
    np.add.at(k.book_end, (np.arange(s.n), bucket_of(k.dpd)), np.maximum(in_plan, 0.0))
    for j, (p_break, paid_before) in enumerate(breaks):
        if np.any(p_break > 0):
            back = day + 7 + 30 * j + 1
            mass, owed = k.returning.get(back, (0.0, 0.0))
            left = planned * p_break
            growth = (1 + s.scenario.portfolio.apr / 365.0) ** (back - day)  # interest accrues on a plan
            k.returning[back] = (mass + left, owed + left * B * (1 - paid_before / b.plan_instalments) * growth)


def _plan_stays(s: _Setup, k: _Book, t: _Today, slots: int) -> list[np.ndarray]:
    """The probability of no repayment of the account's own before each due date and after the last.

    The engine lets an account on a plan keep paying on its own (its
    intensity decays to the floor of its frozen bucket), and a repayment
    that clears what is past due cures it: the plan ends and the rest of
    the balance is no longer collected. Each interval before a due date
    (and the tail to the horizon) has the compensator of that stretch.
    """
    b = s.b
    exc_now = k.exc + t.lift
    edges = [0] + [7 + 30 * j for j in range(slots)] + [s.days - t.day]
    stay = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        span_exc = exc_now * (math.exp(-b.kappa * lo) - math.exp(-b.kappa * hi)) / b.kappa if b.kappa > 0 \
            else exc_now * (hi - lo)
        stay.append(np.exp(-(k.floor * (hi - lo) + span_exc)))
    return stay


def _repayments(s: _Setup, k: _Book) -> None:
    """End of day: repayments from the self-exciting intensity."""
    b = s.b
    compensator = k.floor + k.exc * s.ramp
    p_pay = -np.expm1(-compensator)
    pay = k.A * p_pay
    k.collected += pay * s.mean_r * k.B
    x = np.clip(k.pd_ / np.maximum(k.B, 1e-9), b.r_min, 1.0)
    cure_share = np.clip((1 - x) / max(1 - b.r_min, 1e-9), 0, 1)
    # The day goes on after a repayment that cures: its jump δ10 + δ11·r
    # raises the intensity and the engine lets the borrower pay again the
    # same day (the cure is recorded at the end of the day). With the first
    # repayment at a uniform time of the day, another follows with
    # probability 1 − (1 − e^{−c})/c, c the intensity after the jump, and
    # pays a share r of what is left, (1 − x)/2 of the balance on average.
    r_cure = (1 + x) / 2
    jumped = k.floor + k.exc * s.ramp + b.delta10 + b.delta11 * r_cure
    again = 1.0 + np.expm1(-jumped) / np.maximum(jumped, 1e-12)
    k.collected += pay * cure_share * again * s.mean_r * (1 - r_cure) * k.B
    k.book_end[:, CURRENT_STATE] += pay * cure_share * (1 - r_cure) * (1 - again * s.mean_r) * k.B  # cured
    # A repayment that does not cure (r below the past-due share) lowers
    # the balance and the past due by r·B and excites the intensity.
    partial = p_pay * (1 - cure_share)
    stay = (1 - p_pay) + partial
    r_low = (b.r_min + x) / 2
    k.B = k.B * ((1 - p_pay) + partial * (1 - r_low)) / np.maximum(stay, 1e-12)
    k.pd_ = np.maximum(k.pd_ - k.B * partial * r_low / np.maximum(stay, 1e-12), 0.0)
    k.exc = k.exc + partial * (b.delta10 + b.delta11 * r_low) / np.maximum(stay, 1e-12) / max(s.decay, 1e-12)
    k.A = k.A - pay * cure_share


def _promises_kept(s: _Setup, k: _Book, day: int) -> None:
    """Promises due today: the kept ones pay the promised amount, which cures the account."""
    if day not in k.promises_due:
        return
    kept = np.minimum(k.promises_due.pop(day) * s.b.promise_keep_rate, k.A)
    promised_amount = k.promise_amount_due.pop(day)
    k.collected += kept * promised_amount
    k.book_end[:, CURRENT_STATE] += kept * np.maximum(k.B - promised_amount, 0.0)  # a kept promise cures
    k.A = k.A - kept


def _age(s: _Setup, k: _Book, t: _Today) -> None:
    """The night: the excitation decays and takes the day's lift; interest, fees, ageing and charge-off."""
    spec = s.scenario.portfolio
    k.exc = k.exc * s.decay + t.lift
    k.B = k.B * (1 + spec.apr / 365.0)
    k.dpd = k.dpd + 1
    new_cycle = k.dpd % 30 == 0
    if new_cycle.any():
        k.B = k.B + spec.late_fee * new_cycle
        k.pd_ = np.where(new_cycle, np.minimum(k.pd_ + spec.min_due_rate * k.B + spec.late_fee, k.B), k.pd_)
    crossed = (k.dpd - 1) % 30 == 0
    if crossed.any():
        k.floor = np.where(crossed, s.base[bucket_of(k.dpd)] * s.seg_mult[k.risk], k.floor)
    k.rolled_past_30 += k.A * (k.dpd == 31)
    charged = k.dpd >= spec.charge_off_dpd
    k.written_off += np.where(charged, k.A * k.B, 0.0)
    k.A = np.where(charged, 0.0, k.A)


def _horizon(k: _Book) -> MeanFieldResult:
    """The book at the horizon: accounts still open are added in their bucket."""
    np.add.at(k.book_end, (np.arange(k.A.size), bucket_of(k.dpd)), k.A * k.B)  # still open, in its bucket
    return MeanFieldResult(collected=k.collected, cost=k.cost, minutes=k.minutes, open_at_end=k.A,
                           balance_end=k.book_end, written_off=k.written_off, rolled_past_30=k.rolled_past_30)


def mean_field(scenario: Scenario, *, balance: np.ndarray, past_due: np.ndarray, days_past_due: np.ndarray,
               risk: np.ndarray, band: np.ndarray, phone: np.ndarray, email: np.ndarray,
               schedule: Schedule, days: int, weight: np.ndarray | None = None,
               capacity: bool = False, trace: dict[str, np.ndarray] | None = None) -> MeanFieldResult:
    """Run the deterministic mean-field recursion of the engine for ``days`` days.

    The accounts are given as arrays (any number, e.g. the sample of every
    segment repeated once per treatment); ``schedule`` says what each gets.
    With ``capacity`` the accounts are one book (each standing for ``weight``
    accounts) and the day's calls and field visits are cut to what the teams
    can do, in the strategy's priority order, as the engine's call list is;
    without, capacity is left to the allocation model's constraints.
    ``trace``, if given, is filled with the book's expected daily series
    (weighted): ``calls`` (dial attempts), ``right_party``, ``promises`` and
    ``collected`` — the simulator's ``call_outcomes``, ``promises_made`` and
    ``collected`` to compare against.

    Each day runs the engine's phases in its order: broken plans rejoin the
    book, the morning's schedule, automated contacts, calls within the rules
    (and the day's capacity), field visits, legal referrals, how the
    conversations end, then the evening's repayments, kept promises, interest,
    ageing and charge-off.
    """
    _check_model(scenario)
    s = _Setup.build(scenario, days, balance.size, weight, capacity)
    s.known = {SMS: phone, EMAIL: email, CALL: phone}
    k = _Book.start(s, balance, past_due, days_past_due, risk, band)
    if trace is not None:
        for name in ("calls", "right_party", "promises", "collected"):
            trace[name] = np.zeros(days)
    for day in range(days):
        if trace is not None:
            collected_before = float((k.collected * s.weight).sum())
        _rejoin_broken_plans(s, k, day)
        t = _morning(s, k, day, schedule)
        _automated_contacts(s, k, t)
        _calls(s, k, t, trace)
        _field_visits(s, k, t)
        _legal(s, k, t)
        _conversations(s, k, t, trace)
        _repayments(s, k)
        _promises_kept(s, k, day)
        _age(s, k, t)
        if trace is not None:
            trace["collected"][day] = float((k.collected * s.weight).sum()) - collected_before
    return _horizon(k)


def plan_outcomes(instalments: int, keep_rate: float, slots: int) -> tuple[float, list[tuple[float, float]]]:
    """An instalment plan over ``slots`` due dates, as the engine runs it.

    Each due date the instalment is paid with probability ``keep_rate``
    (one fewer left, the miss count resets) or missed (the plan runs a month
    longer); the second miss in a row breaks the plan. Returns the expected
    number of instalments paid within the slots and, per slot, the probability
    that the plan breaks there and the expected instalments paid before it
    (given that it breaks there). The account's own repayments are left out
    (:func:`plan_outcomes_with_cure` has them).
    """
    paid, _, breaks = plan_outcomes_with_cure(instalments, keep_rate, [np.ones(1)] * (slots + 1),
                                              (np.zeros(1), np.zeros(1)), (np.zeros(1), np.zeros(1)))
    return float(paid[0]), [(float(p[0]), float(q[0])) for p, q in breaks]


def plan_outcomes_with_cure(instalments: int, keep_rate: float, stay: list[np.ndarray],
                            first: tuple[np.ndarray, np.ndarray], later: tuple[np.ndarray, np.ndarray]
                            ) -> tuple[np.ndarray, np.ndarray, list[tuple[np.ndarray, np.ndarray]]]:
    """:func:`plan_outcomes` per account, with the account's own repayments ending the plan.

    ``stay[k]`` is the probability of no repayment of its own in the stretch
    before due date k (the last entry: after the last due date, to the
    horizon); ``first`` and ``later`` are, before and after the first paid
    instalment, the probability that such a repayment cures the account and
    the expected share r of the balance it pays given that it does. A cure
    ends the plan (the engine stops collecting); a repayment that does not
    cure only brings money forward within the plan and is left out.

    Returns the expected instalments paid, the expected share of the starting
    balance paid by curing repayments and, per due date, the probability that
    the plan breaks there with the instalments paid before (given that it does).
    """
    n = stay[0].size
    states = {(instalments, 0): np.ones(n)}
    paid = np.zeros(n)
    self_paid = np.zeros(n)
    breaks: list[tuple[np.ndarray, np.ndarray]] = []

    def own_repayments(k: int) -> None:
        nonlocal self_paid
        for (left, missed), p in states.items():
            cure, share = first if left == instalments else later
            leave = p * (1 - stay[k]) * cure
            self_paid = self_paid + leave * share * left / instalments
            states[(left, missed)] = p - leave

    for k in range(len(stay) - 1):
        own_repayments(k)
        nxt: dict[tuple[int, int], np.ndarray] = {}
        broke = np.zeros(n)
        broke_paid = np.zeros(n)
        for (left, missed), p in states.items():
            pay = p * keep_rate
            paid = paid + pay
            if left > 1:
                nxt[(left - 1, 0)] = nxt.get((left - 1, 0), 0.0) + pay
            miss = p * (1 - keep_rate)
            if missed + 1 >= 2:
                broke = broke + miss
                broke_paid = broke_paid + miss * (instalments - left)
            else:
                nxt[(left, missed + 1)] = nxt.get((left, missed + 1), 0.0) + miss
        breaks.append((broke, np.where(broke > 0, broke_paid / np.maximum(broke, 1e-300), 0.0)))
        states = nxt
    own_repayments(len(stay) - 1)
    return paid, self_paid, breaks


def _apply_steps(steps: Sequence[Step], tag: int, idx: np.ndarray, state: BookState, risk_names: Sequence[str],
                 every: np.ndarray, attempts: np.ndarray, key: np.ndarray, gate: np.ndarray) -> None:
    """Write the cadence of ``steps`` for accounts ``idx`` (the most frequent matching step of a channel wins)."""
    if idx.size == 0:
        return
    dpd, bal, risk = state.days_past_due[idx], state.balance[idx], state.risk[idx]
    for s, step in enumerate(steps):
        if step.after_charge_off:
            continue  # the value model ends at charge-off: what comes after is the engine's (sim/engine/lifecycle.py)
        ch = CHANNEL_ORDER.index(step.channel)
        m = (dpd >= step.from_dpd) & (dpd <= step.to_dpd)
        if step.segments is not None:
            m &= np.isin(risk, [risk_names.index(x) for x in step.segments if x in risk_names])
        if step.min_balance > 0:
            m &= bal >= step.min_balance
        if step.max_balance is not None:
            m &= bal < step.max_balance
        current = every[ch, idx]
        m &= (current == 0) | (step.every_days < current)
        if not m.any():
            continue
        who = idx[m]
        every[ch, who] = step.every_days
        key[ch, who] = tag * 64 + s
        gate[ch, who] = step.after_failed
        if step.channel == "call":
            attempts[who] = step.attempts_per_day


def treatment_schedule(scenario: Scenario, treatments: Sequence[Treatment], first: np.ndarray,
                       continuation: np.ndarray | None) -> Schedule:
    """Treatment ``first[i]`` while account i stays in its starting bucket, then the continuation.

    ``continuation[bucket, risk, band]`` is the treatment of the segment an
    account ages into (what a dpd-keyed ladder does); None keeps ``first``.
    Each treatment is evaluated as ladder steps on the account's current state.
    """
    names = tuple(scenario.portfolio.segments)
    steps = [t.steps for t in treatments]

    def schedule(day: int, state: BookState):
        n = state.balance.size
        every, attempts, key, gate = _empty_schedule(n)
        if continuation is None:
            current = first
        else:
            bucket = bucket_of(state.days_past_due).astype(np.int64)
            later = bucket != state.start_bucket
            current = np.where(later, continuation[np.minimum(bucket, 6), state.risk, state.band], first)
        order = np.argsort(current, kind="stable")
        bounds = np.searchsorted(current[order], np.arange(len(treatments) + 1))
        for t in range(len(treatments)):
            _apply_steps(steps[t], t, order[bounds[t]:bounds[t + 1]], state, names, every, attempts, key, gate)
        return every, attempts, key, gate

    return schedule


def _dials_per_account(p_no: float, allowed: np.ndarray, whole: np.ndarray) -> np.ndarray:
    """Expected dials of a called account: redials after each no-answer, up to ``allowed`` (fractional) a day."""
    geometric = (1 - p_no**whole) / (1 - p_no) if p_no < 1 else whole
    return geometric + (allowed - whole) * p_no**whole


def _empty_schedule(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """No channel scheduled for ``n`` accounts: cadence, attempts a day, step key and failed-attempt gate."""
    return (np.zeros((6, n), dtype=np.int64), np.ones(n, dtype=np.int64),
            np.full((6, n), -1, dtype=np.int64), np.zeros((6, n), dtype=np.int64))


def ladder_schedule(scenario: Scenario, steps: Sequence[Step]) -> Schedule:
    """A ladder of steps as a schedule (the most frequent matching step of each channel wins)."""
    names = tuple(scenario.portfolio.segments)

    def schedule(day: int, state: BookState):
        n = state.balance.size
        every, attempts, key, gate = _empty_schedule(n)
        _apply_steps(steps, 0, np.arange(n), state, names, every, attempts, key, gate)
        return every, attempts, key, gate

    return schedule


def value_treatments(scenario: Scenario, segments: Segments, treatments: Sequence[Treatment], days: int, *,
                     continuation: np.ndarray | None = None, per_segment: int = 200) -> Valuation:
    """Value every treatment for every segment with one stacked mean-field run."""
    idx, weight = sample_accounts(segments, per_segment)
    p = segments.portfolio
    T, m = len(treatments), idx.size
    band = segments.band[segments.member[idx]]
    rep = lambda a: np.tile(a, T)  # noqa: E731 - accounts repeated once per treatment
    first = np.repeat(np.arange(T), m)
    result = mean_field(
        scenario, balance=rep(p.balance[idx]), past_due=rep(p.past_due[idx]), days_past_due=rep(p.days_past_due[idx]),
        risk=rep(p.segment[idx].astype(np.int64)), band=rep(band), phone=rep(p.phone_known[idx]),
        email=rep(p.email_known[idx]), schedule=treatment_schedule(scenario, treatments, first, continuation),
        days=days)
    seg = segments.member[idx]
    S = len(segments)

    def per_segment_total(values: np.ndarray) -> np.ndarray:
        out = np.zeros((S, T))
        v = values.reshape(T, m) * weight[None, :]
        for t in range(T):
            out[:, t] = np.bincount(seg, weights=v[t], minlength=S)
        return out

    minutes = {}
    for team, per_week in result.minutes.items():
        weeks = per_week.shape[0]
        cube = np.zeros((S, T, weeks))
        for w in range(weeks):
            cube[:, :, w] = per_segment_total(per_week[w])
        minutes[team] = cube
    collected = per_segment_total(result.collected)
    spend = per_segment_total(result.cost)
    balance_end = np.stack([per_segment_total(result.balance_end[:, k]) for k in range(len(ROLL_STATES))], axis=2)
    book = HorizonBook(balance_end, per_segment_total(result.written_off), per_segment_total(result.rolled_past_30))
    return Valuation(segments=segments, treatments=tuple(treatments), days=days, value=collected - spend,
                     collected=collected, spend=spend, minutes=minutes, horizon=horizon_value(scenario, book),
                     balance_end=book.balance, written_off=book.written_off, rolled_past_30=book.rolled_past_30)


def value_ladder(scenario: Scenario, segments: Segments, steps: Sequence[Step], days: int, *,
                 per_segment: int = 200, capacity: bool = True) -> MeanFieldResult:
    """Expected outcome of a whole ladder (a hand-written strategy or a plan's), weighted to the book.

    With ``capacity`` (the default) the day's calls and visits are cut to what
    the scenario's teams can do, in its priority order, so ladders that ask
    for more than the agents can give are valued at what they get done.
    The returned arrays are already multiplied by each sampled account's weight,
    so their sums are book totals.
    """
    idx, weight = sample_accounts(segments, per_segment)
    p = segments.portfolio
    band = segments.band[segments.member[idx]]
    result = mean_field(
        scenario, balance=p.balance[idx], past_due=p.past_due[idx], days_past_due=p.days_past_due[idx],
        risk=p.segment[idx].astype(np.int64), band=band, phone=p.phone_known[idx], email=p.email_known[idx],
        schedule=ladder_schedule(scenario, steps), days=days, weight=weight, capacity=capacity)
    return MeanFieldResult(collected=result.collected * weight, cost=result.cost * weight,
                           minutes={k: v * weight for k, v in result.minutes.items()},
                           open_at_end=result.open_at_end * weight, balance_end=result.balance_end * weight[:, None],
                           written_off=result.written_off * weight, rolled_past_30=result.rolled_past_30 * weight)
