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
from dataclasses import dataclass

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
from sim.scenario import Scenario, Step, parse_clock

from .objective import HorizonBook, horizon_value
from .segments import Segments
from .treatments import CHANNEL_ORDER, Treatment, minutes_per_attempt, team_for, visit_minutes

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


@dataclass(frozen=True)
class MeanFieldResult:
    """Expected outcome per account over the horizon."""

    collected: np.ndarray
    cost: np.ndarray
    minutes: dict[str, np.ndarray]  # team -> (weeks, accounts); legal teams count filings
    open_at_end: np.ndarray
    # The book at the horizon (:class:`optimizer.allocation.objective.HorizonBook`): balance by
    # roll state (accounts, states), balance written off, accounts reaching 31 dpd.
    balance_end: np.ndarray | None = None
    written_off: np.ndarray | None = None
    rolled_past_30: np.ndarray | None = None

    def book(self) -> HorizonBook:
        return HorizonBook(self.balance_end, self.written_off, self.rolled_past_30)

    @property
    def net(self) -> np.ndarray:
        return self.collected - self.cost


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
    """
    _check_model(scenario)
    b = scenario.behavior
    costs = scenario.costs
    spec = scenario.portfolio
    rules = ContactRules.from_section(scenario.compliance)
    calendar = ContactCalendar(rules, scenario.simulation.start_date, days)
    n = balance.size
    weeks = math.ceil(days / 7)
    weight = np.ones(n) if weight is None else np.asarray(weight, dtype=float)

    B = balance.astype(float).copy()
    pd_ = past_due.astype(float).copy()
    dpd = days_past_due.astype(np.int64).copy()
    A = (B > 0).astype(float) * (dpd > 0)
    start_bucket = bucket_of(dpd).astype(np.int64)
    seg_mult = np.array([b.segment_multiplier.get(s, 1.0) for s in spec.segments])
    base = np.array([0.0] + [b.base_intensity[k] for k in DELINQUENT_BUCKETS])
    floor = base[start_bucket] * seg_mult[risk]
    exc = np.zeros(n)
    F = np.zeros((MAX_FAILED + 1, n))  # failed-count distribution, conditional on open
    F[0] = 1.0
    collected = np.zeros(n)
    cost = np.zeros(n)
    # The book at the horizon: balance by roll state (open accounts are added at
    # the end), written off, reaching 31 days past due.
    book_end = np.zeros((n, len(ROLL_STATES)))
    written_off = np.zeros(n)
    rolled_past_30 = np.zeros(n)
    last = np.full((6, n), NEVER, dtype=np.int64)
    last_key = np.full((6, n), -1, dtype=np.int64)
    recent: dict[int, list[tuple[int, np.ndarray]]] = {ch: [] for ch in range(6)}  # gated contacts given
    ring = 7
    contact_ring = np.zeros((ring, n))
    attempt_ring = np.zeros((ring, n))
    quiet_days = rules.quiet_days_after_conversation or 0
    # Reg F's quiet days, as the engine keeps them: a telephone conversation on
    # day d refuses calls until day d + quiet_days, and an account refused while
    # its step's cadence was due is not dialled, so its clock does not restart:
    # it is called on the first day the quiet days are over, not a cadence later.
    # held[X % hold_span]: the share of an account's open mass not callable before
    # day X; waiting[X % hold_span]: the part of it that was due meanwhile and is
    # dialled on day X (then held a cadence, the rest of the account keeping
    # its own clock).
    hold_span = 2 * quiet_days + 1
    held = np.zeros((hold_span, n)) if quiet_days else None
    waiting = np.zeros((hold_span, n)) if quiet_days else None
    promises_due: dict[int, np.ndarray] = {}
    promise_amount_due: dict[int, np.ndarray] = {}
    # A dispute pauses collection for 30 days (the account still pays on its
    # own): the share of open accounts paused, by the day the pause started.
    pause_ring = np.zeros((30, n))

    teams = {ch: team_for(scenario, ch) for ch in ("call", "field_visit", "legal")}
    minutes: dict[str, np.ndarray] = {}
    for name in scenario.teams:
        minutes[name] = np.zeros((weeks, n))
    call_team = scenario.teams[teams["call"]] if teams["call"] else None
    if call_team is not None:
        call_mean, p_right = minutes_per_attempt(scenario, call_team)
        p_wrong = min(b.wrong_party_rate, 1.0 - p_right)
        p_no = max(0.0, 1.0 - p_right - p_wrong)
        call_day = {}
        call_shift = sum(end - start for start, end in call_team.shift_minutes)
        # The right-party rate of each minute of an agent's working day (shifts
        # one after the other, inside the contact window) and its running mean:
        # the engine's agents work the call list from the start of the first
        # shift, so a list that takes them m minutes is dialled at the rate of
        # the first m minutes, not at the average of the shifts.
        rate_by_minute = [b.right_party_by_hour[hour_of(minute)] for start, end in call_team.shift_minutes
                          for minute in range(max(start, rules.window_start), min(end, rules.window_end))]
        mean_rate_first = np.cumsum(rate_by_minute) / np.arange(1, len(rate_by_minute) + 1) \
            if rate_by_minute else np.zeros(1)
        handle = call_team.handle_minutes
    inbound_team = next((name for name, t in scenario.teams.items()
                         if t.kind == "call" and t.inbound and t.agents > 0), None)
    field_team = scenario.teams[teams["field_visit"]] if teams["field_visit"] else None
    legal_team = scenario.teams[teams["legal"]] if teams["legal"] else None
    known = {SMS: phone, EMAIL: email, CALL: phone}
    send_ok = rules.in_window(parse_clock("10:00"))
    decay = math.exp(-b.kappa)
    ramp = (1 - decay) / b.kappa if b.kappa > 0 else 1.0
    mean_r = (1 + b.r_min) / 2

    def works(team, day: int) -> bool:
        return (team is not None and WEEKDAYS[calendar.date(day).weekday()] in team.work_days
                and not calendar.is_quiet(day))

    # The field team's working days in each week (field minutes are spread over them).
    field_days = np.array([sum(works(field_team, d) for d in range(7 * w, min(days, 7 * w + 7)))
                           for w in range(weeks)], dtype=float)

    def answered(day: int, ch: int) -> float:
        """Share of callbacks that reach an agent: they arrive uniformly from the send time
        (window start for letters) to the end of the window and wait only briefly, so only
        those arriving while the inbound team is on shift are answered."""
        if inbound_team is None:
            return 0.0
        team = scenario.teams[inbound_team]
        if not works(team, day):
            return 0.0
        start = rules.window_start if ch == LETTER else max(parse_clock("10:00"), rules.window_start)
        end = rules.window_end
        if end <= start:
            return 0.0
        covered = sum(max(0, min(e, end) - max(s_, start)) for s_, e in team.shift_minutes)
        return covered / (end - start)

    def listens(extra: np.ndarray | float = 0.0) -> np.ndarray:
        """Contact fatigue (:func:`sim.domain.fatigue`) of every account at its 7-day contacts (+ ``extra``)."""
        return fatigue(b.fatigue, contact_ring.sum(axis=0) + extra)

    def at_least(g: np.ndarray) -> np.ndarray:
        """P(failed ≥ g) per account (g = 0: 1)."""
        # The tail P(failed ≥ j) accumulated from the top row down, each
        # account's taken as it passes its own g: the same additions in the same
        # order as a reversed cumsum, without building the whole table (this
        # runs every day for every gated channel).
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

    returning: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # day -> (mass back from broken plans, its balance)

    if trace is not None:
        for name in ("calls", "right_party", "promises", "collected"):
            trace[name] = np.zeros(days)
    for day in range(days):
        week = day // 7
        slot = day % ring
        if trace is not None:
            collected_before = float((collected * weight).sum())
        if day in returning:
            # Broken plans rejoin the open accounts: balance and failed-count
            # distribution become the mixture of both (back with none failed).
            mass, owed = returning.pop(day)
            alive = dpd < spec.charge_off_dpd
            mass, owed = np.where(alive, mass, 0.0), np.where(alive, owed, 0.0)
            total = A + mass
            has = total > 1e-15
            B = np.where(has, (A * B + owed) / np.where(has, total, 1.0), B)
            F = np.where(has[None, :], F * (A / np.where(has, total, 1.0))[None, :], F)
            F[0] += np.where(has, mass / np.where(has, total, 1.0), 0.0)
            A = total
        contact_ring[slot] = 0.0
        attempt_ring[slot] = 0.0
        released = np.zeros(n)
        if quiet_days:
            # Holds that end today: callable again, and dialled today if due meanwhile.
            released = waiting[day % hold_span].copy()
            held[day % hold_span] = 0.0
            waiting[day % hold_span] = 0.0
        state = BookState(dpd, B, start_bucket, risk, band)
        every, attempts, key, gate = schedule(day, state)
        changed = key != last_key
        last[changed] = NEVER
        last_key = key
        scheduled = (every > 0) & (A[None, :] > 0)
        for ch, mask in known.items():
            scheduled[ch] &= mask
        due = (scheduled & (day - last >= every)).astype(float)
        pause_ring[day % 30] = 0.0
        workable = np.clip(1.0 - pause_ring.sum(axis=0), 0.0, 1.0)
        gated = scheduled & (gate > 0)
        if gated.any():
            # A gated step reaches the accounts with enough failed attempts that
            # it has not reached within its cadence (the engine's per-step clock).
            for ch in np.flatnonzero(gated.any(axis=1)):
                rows = gated[ch]
                recent[ch] = [(d, w) for d, w in recent[ch] if day - d < int(every[ch][rows].max())]
                given = sum((w for _, w in recent[ch]), np.zeros(n))
                share = np.maximum(at_least(gate[ch]) - given, 0.0)
                due[ch] = np.where(rows, share, due[ch])
        due *= workable[None, :]
        lift = np.zeros(n)
        conversation = np.zeros(n)  # probability of a right-party conversation today (conditional)
        # Of which on the telephone (outbound or a callback): only those start the
        # quiet days after a conversation; a field visit does not (as in the engine).
        telephone = np.zeros(n)
        quiet = calendar.is_quiet(day)
        inbound_today = np.zeros(n)
        # Automated channels: no agent, a unit cost, a lift and some callbacks.
        for ch, name in ((SMS, "sms"), (EMAIL, "email"), (LETTER, "letter")):
            if quiet or (ch != LETTER and not send_ok) or not due[ch].any():
                continue
            who = due[ch]
            if gated[ch].any():
                recent[ch].append((day, np.where(gated[ch], who, 0.0)))
            last[ch][(who > 0) & ~gated[ch]] = day
            cost += A * who * getattr(costs, name)
            lift += who * b.lift[name] * listens()
            contact_ring[slot] += who
            p_cb = b.callback_probability.get(name, 0.0) * answered(day, ch)
            if p_cb > 0 and inbound_team is not None:
                conversation += who * p_cb
                telephone += who * p_cb
                lift += who * p_cb * b.lift["inbound_call"] * listens()
                inbound_today += A * who * p_cb * scenario.teams[inbound_team].handle_minutes.inbound
        if inbound_team is not None:
            minutes[inbound_team][week] += inbound_today
        # Calls: dial attempts with redials on no answer, within the rules and the agents' day.
        if quiet_days:
            # Released shares of accounts no longer on a call step lapse.
            released = released * (scheduled[CALL] & (gate[CALL] == 0)) * workable
            if call_team is None or not works(call_team, day):
                waiting[(day + 1) % hold_span] += released  # dialled on the next working day
                released = np.zeros(n)
        if call_team is not None and works(call_team, day) and (due[CALL].any() or released.any()):
            clock = due[CALL]
            if quiet_days:
                blocked = np.minimum(held.sum(axis=0), 1.0)
                # The cadence falls due for the held share too: it waits for its hold to end.
                np.maximum(waiting, held * clock[None, :], out=waiting)
                who = np.where(clock > 0, clock * (1.0 - blocked), np.minimum(released, 1.0))
            else:
                who = clock
            callable_ = 1.0
            allowed = attempts.astype(float)
            if rules.max_call_attempts_7d is not None:
                allowed = np.minimum(allowed, np.maximum(rules.max_call_attempts_7d - attempt_ring.sum(axis=0), 0.0))
            if rules.max_attempts_per_day is not None:
                allowed = np.minimum(allowed, rules.max_attempts_per_day)
            whole = np.floor(allowed)
            tries = _dials_per_account(p_no, allowed, whole) * who * callable_
            if capacity:
                limit = call_team.agents * call_shift - float((inbound_today * weight).sum())
                served = _served(A * tries * call_mean * weight, max(limit, 0.0),
                                 _priority(scenario, B, dpd, floor + exc))
                # The day's list (and the callbacks answered first) keeps the agents
                # busy for its minutes over their number: the dials fall in those
                # first minutes of the shifts, at their right-party rate (twice, as
                # the list's minutes depend on the rate: right-party calls are longer).
                day_mean = call_mean
                for _ in range(2):
                    busy = (float((A * tries * served * day_mean * weight).sum())
                            + float((inbound_today * weight).sum())) / max(call_team.agents, 1)
                    day_right = float(mean_rate_first[min(max(int(busy), 1), mean_rate_first.size) - 1])
                    day_wrong = min(b.wrong_party_rate, 1.0 - day_right)
                    day_no = max(0.0, 1.0 - day_right - day_wrong)
                    day_mean = (day_right * handle.right_party + day_wrong * handle.wrong_party
                                + day_no * handle.no_answer)
                    tries = _dials_per_account(day_no, allowed, whole) * who * callable_
                    served = _served(A * tries * day_mean * weight, max(limit, 0.0),
                                     _priority(scenario, B, dpd, floor + exc))
                tries = tries * served
                if quiet_days:
                    # A released share the agents did not reach stays on tomorrow's list.
                    waiting[(day + 1) % hold_span] += np.where(clock > 0, 0.0, who * (1.0 - served))
                who = who * served
                # Accounts the agents did not reach stay on tomorrow's list (their clock did not start).
                last[CALL][(clock > 0) & (served >= 0.5) & ~gated[CALL]] = day
            else:
                day_right, day_wrong, day_mean = p_right, p_wrong, call_mean
                last[CALL][(clock > 0) & ~gated[CALL]] = day
            if gated[CALL].any():
                recent[CALL].append((day, np.where(gated[CALL], who, 0.0)))
            reached = np.minimum(tries * day_right, 1.0)
            if trace is not None:
                trace["calls"][day] += float((A * tries * weight).sum())
                trace["right_party"][day] += float((A * reached * weight).sum())
            minutes[teams["call"]][week] += A * tries * day_mean
            attempt_ring[slot] += tries
            contact_ring[slot] += tries
            lift += tries * b.lift["call_attempt"] * listens()
            lift += reached * b.lift["right_party_contact"] * listens()
            conversation += reached
            telephone += reached
            if quiet_days:
                # A released share dialled today keeps a clock of its own: held for a
                # cadence (what it reached is held for the quiet days, below).
                own = np.where(clock > 0, 0.0, np.maximum(who - reached, 0.0))
                for gap in np.unique(every[CALL][own > 0]).tolist():
                    held[(day + min(int(gap), hold_span - 1)) % hold_span] += np.where(every[CALL] == gap, own, 0.0)
            # The failed-count distribution: a day of k dials ends in a conversation
            # (reset) or adds its failures; accounts not called keep theirs.
            called = np.minimum(who * callable_, 1.0)
            mixed = np.zeros_like(F)
            for k in np.unique(whole[called > 0]).astype(int):
                if k < 1:
                    continue
                if (k, day_right) not in call_day:
                    call_day[(k, day_right)] = _call_day_failures(day_right, day_wrong, k)
                reset, add = call_day[(k, day_right)]
                rows = (whole == k) & (called > 0)
                moved = _shift(F[:, rows], add)
                moved[0] += reset * F[:, rows].sum(axis=0)
                mixed[:, rows] = moved
            F = np.where(called[None, :] > 0, (1 - called) * F + called * mixed, F)
        # Field visits: an agent's share of the day, a fee, a conversation if found.
        if field_team is not None and works(field_team, day) and due[FIELD].any():
            who = due[FIELD]
            if capacity:
                who = who * _served(A * who * weight, float(field_team.visits_per_day * field_team.agents),
                                    _priority(scenario, B, dpd, floor + exc))
            last[FIELD][(who > 0) & ~gated[FIELD]] = day
            if gated[FIELD].any():
                recent[FIELD].append((day, np.where(gated[FIELD], who, 0.0)))
            visit_time = A * who * visit_minutes(field_team)
            if capacity:
                minutes[teams["field_visit"]][week] += visit_time
            else:
                # Without the day's cut, every account a treatment starts on is due
                # for a visit at once; the engine's field team works a list it cannot
                # finish on the following days, so a visit's minutes are booked
                # evenly over the weeks of its cadence (what is left at the horizon
                # in the last week), not all in the week it falls due.
                # Weeks weigh by the team's working days (none on a holiday week).
                span = np.maximum(-(-every[FIELD] // 7), 1)
                for width in np.unique(span[visit_time > 0]).tolist():
                    ahead = field_days[week:week + width]
                    share = np.where(span == width, visit_time, 0.0) / max(float(ahead.sum()), 1.0)
                    for k, worked in enumerate(ahead.tolist()):
                        if worked:
                            minutes[teams["field_visit"]][week + k] += share * worked
            cost += A * who * costs.field_visit
            contact_ring[slot] += who
            found = who * field_team.visit_success
            lift += found * b.lift["field_visit"] * listens()
            conversation += found
            # Visited mass comes from the gated tail (or the whole distribution):
            # found → 0 failed, not found → one more.
            g = np.where(gated[FIELD], gate[FIELD], 0)
            tail = np.arange(MAX_FAILED + 1)[:, None] >= g[None, :]
            pool = F * tail
            pool_mass = pool.sum(axis=0)
            phi = np.where(pool_mass > 0, np.minimum(who / np.maximum(pool_mass, 1e-12), 1.0), 0.0)
            taken = pool * phi
            F = F - taken + _shift(taken, np.array([0.0, 1 - field_team.visit_success]))
            F[0] += taken.sum(axis=0) * field_team.visit_success
        # Legal: the account leaves collection; recovery after the filing delay.
        if legal_team is not None and due[LEGAL].any():
            filed_day = day
            while filed_day < days and not works(legal_team, filed_day):
                filed_day += 1
            share = np.minimum(due[LEGAL], 1.0)
            mass = A * share
            last[LEGAL][(share > 0) & ~gated[LEGAL]] = day
            if gated[LEGAL].any():
                recent[LEGAL].append((day, np.where(gated[LEGAL], share, 0.0)))
                # The referred accounts are the ones with enough failures: the
                # rest keep their distribution, renormalised.
                g = np.where(gated[LEGAL], gate[LEGAL], 0)
                tail = np.arange(MAX_FAILED + 1)[:, None] >= g[None, :]
                pool_mass = (F * tail).sum(axis=0)
                phi = np.where(pool_mass > 0, np.minimum(share / np.maximum(pool_mass, 1e-12), 1.0), 0.0)
                F = F - F * tail * phi
                F = F / np.maximum(F.sum(axis=0), 1e-12)
            A = A - mass
            if filed_day < days:
                minutes[teams["legal"]][filed_day // 7] += mass
                cost += mass * costs.legal_filing
                resolve = filed_day + legal_team.filing_delay_days
                if resolve < days:
                    recovered = mass * legal_team.legal_success * legal_team.recovery_share * B
                    collected += recovered
                    cost += recovered * costs.agency_commission
                    written_off += mass * B - recovered  # what the case did not recover is written off
                else:
                    book_end[:, LEGAL_STATE] += mass * B
        # How conversations end: promises (kept ones cure), instalment plans.
        conversation = np.minimum(conversation, 1.0)
        if conversation.any():
            # Each conversation may bring a complaint, likelier under contact pressure
            # (:func:`sim.behavior.complaint_probability`), handled at a cost.
            cost += A * conversation * complaint_probability(b, contact_ring.sum(axis=0)) * costs.complaint
            promise = conversation * b.promise_probability
            # A newer promise replaces an older one (the engine keeps only the
            # latest due day), so pending promises lapse with today's new ones.
            for due_day in promises_due:
                promises_due[due_day] = promises_due[due_day] * (1.0 - promise)
            promised = A * promise
            if trace is not None:
                trace["promises"][day] += float((promised * weight).sum())
            due_day = day + 1 + (b.promise_days - 1) / 2
            due_day = int(round(due_day))
            # The promised amount is drawn like a repayment, a share r of the
            # balance, and is never less than what is past due: E[max(past due, r·B)].
            x = np.clip(pd_ / np.maximum(B, 1e-9), b.r_min, 1.0)
            span = max(1.0 - b.r_min, 1e-9)
            amount = np.minimum(B, B * (x * (x - b.r_min) + (1.0 - x * x) / 2) / span)
            promises_due[due_day] = promises_due.get(due_day, 0.0) + promised
            promise_amount_due[due_day] = amount
            planned = A * conversation * b.plan_uptake
            # Instalments fall due 7 days after the plan and every 30 days after
            # that; two missed in a row break the plan and the account comes back
            # to collection with what it still owes.
            slots = 0
            while day + 7 + 30 * slots < days:
                slots += 1
            # The engine lets an account on a plan keep paying on its own (its
            # intensity decays to the floor of its frozen bucket), and a repayment
            # that clears what is past due cures it: the plan ends and the rest of
            # the balance is no longer collected. Each interval before a due date
            # (and the tail to the horizon) has the compensator of that stretch.
            exc_now = exc + lift
            edges = [0] + [7 + 30 * j for j in range(slots)] + [days - day]
            stay = []
            for lo, hi in zip(edges[:-1], edges[1:], strict=True):
                span_exc = exc_now * (math.exp(-b.kappa * lo) - math.exp(-b.kappa * hi)) / b.kappa if b.kappa > 0 \
                    else exc_now * (hi - lo)
                stay.append(np.exp(-(floor * (hi - lo) + span_exc)))
            instalment = B / b.plan_instalments
            x_first = np.clip(pd_ / np.maximum(B, 1e-9), b.r_min, 1.0)
            x_later = np.clip(np.maximum(pd_ - instalment, 0.0) / np.maximum(B, 1e-9), b.r_min, 1.0)
            span = max(1.0 - b.r_min, 1e-9)
            cure_first, cure_later = (1 - x_first) / span, (1 - x_later) / span
            paid, self_paid, breaks = plan_outcomes_with_cure(
                b.plan_instalments, b.plan_keep_rate, stay,
                (cure_first, (1 + x_first) / 2), (cure_later, (1 + x_later) / 2))
            collected += planned * B * (paid / b.plan_instalments + self_paid)
            A = A - planned
            # A plan freezes the days past due: what it still owes at the horizon
            # (less what broken plans take back to collection) stays in this bucket.
            in_plan = planned * B * (1 - paid / b.plan_instalments - self_paid)
            for p_break, paid_before in breaks:
                in_plan = in_plan - planned * p_break * B * (1 - paid_before / b.plan_instalments)
            np.add.at(book_end, (np.arange(n), bucket_of(dpd)), np.maximum(in_plan, 0.0))
            for j, (p_break, paid_before) in enumerate(breaks):
                if np.any(p_break > 0):
                    back = day + 7 + 30 * j + 1
                    mass, owed = returning.get(back, (0.0, 0.0))
                    left = planned * p_break
                    growth = (1 + spec.apr / 365.0) ** (back - day)  # interest accrues on a plan
                    returning[back] = (mass + left, owed + left * B * (1 - paid_before / b.plan_instalments) * growth)
            pause_ring[day % 30] = conversation * b.dispute_probability
        if quiet_days:
            held[(day + quiet_days) % hold_span] += np.minimum(telephone, 1.0)
        # End of day: repayments from the self-exciting intensity.
        compensator = floor + exc * ramp
        p_pay = -np.expm1(-compensator)
        pay = A * p_pay
        collected += pay * mean_r * B
        x = np.clip(pd_ / np.maximum(B, 1e-9), b.r_min, 1.0)
        cure_share = np.clip((1 - x) / max(1 - b.r_min, 1e-9), 0, 1)
        # The day goes on after a repayment that cures: its jump δ10 + δ11·r
        # raises the intensity and the engine lets the borrower pay again the
        # same day (the cure is recorded at the end of the day). With the first
        # repayment at a uniform time of the day, another follows with
        # probability 1 − (1 − e^{−c})/c, c the intensity after the jump, and
        # pays a share r of what is left, (1 − x)/2 of the balance on average.
        r_cure = (1 + x) / 2
        jumped = floor + exc * ramp + b.delta10 + b.delta11 * r_cure
        again = 1.0 + np.expm1(-jumped) / np.maximum(jumped, 1e-12)
        collected += pay * cure_share * again * mean_r * (1 - r_cure) * B
        book_end[:, CURRENT_STATE] += pay * cure_share * (1 - r_cure) * (1 - again * mean_r) * B  # cured
        # A repayment that does not cure (r below the past-due share) lowers
        # the balance and the past due by r·B and excites the intensity.
        partial = p_pay * (1 - cure_share)
        stay = (1 - p_pay) + partial
        r_low = (b.r_min + x) / 2
        B = B * ((1 - p_pay) + partial * (1 - r_low)) / np.maximum(stay, 1e-12)
        pd_ = np.maximum(pd_ - B * partial * r_low / np.maximum(stay, 1e-12), 0.0)
        exc = exc + partial * (b.delta10 + b.delta11 * r_low) / np.maximum(stay, 1e-12) / max(decay, 1e-12)
        A = A - pay * cure_share
        if day in promises_due:
            kept = np.minimum(promises_due.pop(day) * b.promise_keep_rate, A)
            promised_amount = promise_amount_due.pop(day)
            collected += kept * promised_amount
            book_end[:, CURRENT_STATE] += kept * np.maximum(B - promised_amount, 0.0)  # a kept promise cures
            A = A - kept
        exc = exc * decay + lift
        # Interest, fees, ageing and charge-off.
        B = B * (1 + spec.apr / 365.0)
        dpd = dpd + 1
        new_cycle = dpd % 30 == 0
        if new_cycle.any():
            B = B + spec.late_fee * new_cycle
            pd_ = np.where(new_cycle, np.minimum(pd_ + spec.min_due_rate * B + spec.late_fee, B), pd_)
        crossed = (dpd - 1) % 30 == 0
        if crossed.any():
            floor = np.where(crossed, base[bucket_of(dpd)] * seg_mult[risk], floor)
        rolled_past_30 += A * (dpd == 31)
        charged = dpd >= spec.charge_off_dpd
        written_off += np.where(charged, A * B, 0.0)
        A = np.where(charged, 0.0, A)
        if trace is not None:
            trace["collected"][day] = float((collected * weight).sum()) - collected_before
    np.add.at(book_end, (np.arange(n), bucket_of(dpd)), A * B)  # still open, in its bucket
    return MeanFieldResult(collected=collected, cost=cost, minutes=minutes, open_at_end=A, balance_end=book_end,
                           written_off=written_off, rolled_past_30=rolled_past_30)


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


@dataclass(frozen=True)
class Valuation:
    """Per segment and treatment: expected net value and resource use over the horizon (segment totals)."""

    segments: Segments
    treatments: tuple[Treatment, ...]
    days: int
    value: np.ndarray  # (S, T) expected collections minus variable spend
    collected: np.ndarray  # (S, T)
    spend: np.ndarray  # (S, T) money
    minutes: dict[str, np.ndarray]  # team -> (S, T, weeks)
    # The value of the book left at the horizon (:mod:`optimizer.allocation.objective`), (S, T)
    # money, and the book itself: balance by roll state (S, T, states), written
    # off (S, T), accounts reaching 31 days past due (S, T).
    horizon: np.ndarray | None = None
    balance_end: np.ndarray | None = None
    written_off: np.ndarray | None = None
    rolled_past_30: np.ndarray | None = None

    @property
    def weeks(self) -> int:
        return math.ceil(self.days / 7)

    @property
    def objective(self) -> np.ndarray:
        """What the LP maximises per segment and treatment: net collections plus the horizon's book."""
        return self.value if self.horizon is None else self.value + self.horizon


def sample_accounts(segments: Segments, per_segment: int, rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A sample stratified by balance: up to ``per_segment`` accounts of each segment and the weight of each.

    A segment with more accounts is sorted by balance and cut into
    ``per_segment`` strata of (nearly) equal size; one account is drawn from
    each and stands for its stratum. Collections follow the balance, and a
    segment's balances are skewed (the top band is open-ended): drawn at
    random, 40 accounts put a segment's balance up to 24 % off (cn_2025, 5,000
    accounts) and 200 still put the 1-30 bucket 5 % high, a bias every ladder's
    value shared; stratified, the worst segment is 5 % off with 40 and the
    bucket within 0.5 % with 200.
    """
    rng = rng or np.random.default_rng(0)
    balance = segments.portfolio.balance
    idx_all = np.flatnonzero(segments.member >= 0)
    order = np.lexsort((balance[idx_all], segments.member[idx_all]))  # by segment, then balance
    idx_all = idx_all[order]
    starts = np.searchsorted(segments.member[idx_all], np.arange(len(segments)))
    chosen, weights = [], []
    for k in range(len(segments)):
        members = idx_all[starts[k]:starts[k] + segments.accounts[k]]
        size = np.ones(members.size)
        if members.size > per_segment:
            edges = (np.arange(per_segment + 1) * members.size) // per_segment
            size = np.diff(edges).astype(float)
            members = members[edges[:-1] + (rng.random(per_segment) * size).astype(np.int64)]
        keep = np.argsort(members, kind="stable")
        chosen.append(members[keep])
        weights.append(size[keep])
    return np.concatenate(chosen), np.concatenate(weights)


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
