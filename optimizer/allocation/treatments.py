"""Treatments: the channel-and-cadence options a segment can be given.

A treatment is what the collector does to an account for the planning
period: nothing, SMS every k days, e-mail, calls every k days with a number
of dial attempts, a demand letter, field visits, or a referral to legal —
alone or combined. The options are derived from the scenario: its channels
(a call needs a call team with agents, a visit a field team, legal a legal
team), the cadences of its own ladder plus a standard set, and its contact
rules, which always win (no more daily attempts than ``max_attempts_per_day``,
no more attempts in 7 days than ``max_call_attempts_7d``, no more field visits
in 30 days than ``max_field_visits_30d``).

Each treatment also carries its nominal cost per account and week — agent
minutes by team and money — for an account that stays open all week; the
allocation model uses the figures measured by :mod:`optimizer.allocation.sim_valuation`,
which account for accounts that pay, cure or charge off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from sim.compliance import ContactRules
from sim.domain import (
    AUTOMATED_CHANNELS,
    OFFER_CHANNELS,
    STRATEGY_CHANNELS,
    TEAM_KIND_OF_CHANNEL,
    hour_of,
)
from sim.scenario import MAX_DAYS, Scenario, Step, TeamSection, parse_clock, parse_shift

CHANNEL_ORDER = STRATEGY_CHANNELS  # the one channel order of sim.domain


@dataclass(frozen=True)
class Contact:
    """One channel at one cadence: ``every_days`` apart, ``attempts_per_day`` dials for calls."""

    channel: str
    every_days: int = 1
    attempts_per_day: int = 1

    @property
    def label(self) -> str:
        if self.channel == "legal":
            return "legal"
        text = f"{self.channel}/{self.every_days}d"
        return text + (f"x{self.attempts_per_day}" if self.attempts_per_day > 1 else "")


# A step that covers every days-past-due: how a plain contact is written as a ladder step.
ANY_DPD = (0, MAX_DAYS + 400)


def contact_step(contact: Contact) -> Step:
    """A contact as a ladder step over every days past due."""
    data = {"channel": contact.channel, "from_dpd": ANY_DPD[0], "to_dpd": ANY_DPD[1],
            "every_days": contact.every_days}
    if contact.channel == "call" and contact.attempts_per_day > 1:
        data["attempts_per_day"] = contact.attempts_per_day
    return Step.model_validate(data)


@dataclass(frozen=True)
class Treatment:
    """What a segment gets while it stays in its bucket: contacts at fixed cadences, or a small ladder.

    A plain treatment is a set of contacts, each applied for the whole stay.
    A ladder treatment (``ladder`` given) is a list of ladder steps — with
    days-past-due ranges, balance bounds and ``after_failed`` escalation —
    evaluated on the account's current state, as the engine evaluates a
    strategy; restricted to one segment it reproduces a hand-written ladder
    there (``label`` names it, e.g. ``ladder:baseline``).
    """

    contacts: tuple[Contact, ...]
    minutes_per_week: dict[str, float] = field(default_factory=dict, compare=False)
    money_per_week: float = field(default=0.0, compare=False)
    ladder: tuple[Step, ...] = ()
    label: str = field(default="", compare=False)

    @property
    def name(self) -> str:
        if self.ladder:
            return self.label or "ladder"
        return "+".join(c.label for c in self.contacts) or "none"

    @property
    def steps(self) -> tuple[Step, ...]:
        """The treatment as ladder steps (a plain contact covers every days past due)."""
        if self.ladder:
            return self.ladder
        return tuple(contact_step(c) for c in self.contacts)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(s.channel for s in self.steps)

    @property
    def is_reminder(self) -> bool:
        """At least one contact: what 'minimum service' requires."""
        return bool(self.contacts or self.ladder)


def needs_agents(t: Treatment) -> bool:
    """Whether a treatment's own steps ask a team for work (calls, field visits, filings)."""
    return any(step.channel in TEAM_KIND_OF_CHANNEL for step in t.steps)


def team_for(scenario: Scenario, channel: str) -> str | None:
    """The team that does a channel (the first team of its kind with capacity), or None."""
    kind = TEAM_KIND_OF_CHANNEL.get(channel)
    if kind is None:
        return None
    for name, team in scenario.teams.items():
        if team.kind != kind:
            continue
        if kind == "legal" and team.filings_per_day > 0:
            return name
        if kind != "legal" and team.agents > 0:
            return name
    return None


def right_party_rate(scenario: Scenario, team: TeamSection) -> float:
    """Right-party probability of a dial, averaged over the team's shift hours inside the contact window."""
    rules = ContactRules.from_section(scenario.compliance)
    weights = [0.0] * 24
    for start, end in team.shift_minutes:
        lo, hi = max(start, rules.window_start), min(end, rules.window_end)
        for minute in range(lo, hi):
            weights[hour_of(minute)] += 1.0
    total = sum(weights)
    hourly = scenario.behavior.right_party_by_hour
    if total == 0:
        return 0.0
    return sum(w * p for w, p in zip(weights, hourly, strict=True)) / total


def minutes_per_attempt(scenario: Scenario, team: TeamSection) -> tuple[float, float]:
    """(mean handle minutes of a dial, right-party probability of a dial)."""
    p_right = right_party_rate(scenario, team)
    p_wrong = min(scenario.behavior.wrong_party_rate, 1.0 - p_right)
    h = team.handle_minutes
    return p_right * h.right_party + p_wrong * h.wrong_party + (1 - p_right - p_wrong) * h.no_answer, p_right


def visit_minutes(team: TeamSection) -> float:
    """Agent minutes one field visit takes out of a day: the shift shared by the day's visits."""
    span = team.shift_minutes[-1][1] - team.shift_minutes[0][0]
    return span / max(team.visits_per_day, 1)


def compliant_call(rules: ContactRules, every_days: int, attempts: int) -> Contact | None:
    """The call cadence with attempts cut to what the rules allow, or None if none is allowed."""
    if rules.max_attempts_per_day is not None:
        attempts = min(attempts, rules.max_attempts_per_day)
    if rules.max_call_attempts_7d is not None:
        calls_in_7d = math.ceil(7 / every_days)
        attempts = min(attempts, rules.max_call_attempts_7d // calls_in_7d)
    if rules.max_conversations_7d is not None and rules.max_conversations_7d == 0:
        return None
    return Contact("call", every_days, attempts) if attempts >= 1 else None


def _nominal(scenario: Scenario, contacts: tuple[Contact, ...]) -> tuple[dict[str, float], float]:
    minutes: dict[str, float] = {}
    money = 0.0
    costs = scenario.costs
    for c in contacts:
        per_week = 7.0 / c.every_days
        team_name = team_for(scenario, c.channel)
        if c.channel in AUTOMATED_CHANNELS:
            money += getattr(costs, c.channel) * per_week
        elif c.channel == "call" and team_name:
            mean, p_right = minutes_per_attempt(scenario, scenario.teams[team_name])
            p_no = max(0.0, 1 - p_right - scenario.behavior.wrong_party_rate)
            attempts = sum(p_no**j for j in range(c.attempts_per_day))
            minutes[team_name] = minutes.get(team_name, 0.0) + per_week * attempts * mean
        elif c.channel == "field_visit" and team_name:
            minutes[team_name] = minutes.get(team_name, 0.0) + per_week * visit_minutes(scenario.teams[team_name])
            money += costs.field_visit * per_week
        elif c.channel == "legal" and team_name:
            minutes[team_name] = minutes.get(team_name, 0.0) + 1.0  # one filing, counted in filings
            money += costs.legal_filing
    return minutes, money


def treatment(scenario: Scenario, *contacts: Contact) -> Treatment:
    ordered = tuple(sorted(contacts, key=lambda c: (CHANNEL_ORDER.index(c.channel), c.every_days)))
    minutes, money = _nominal(scenario, ordered)
    return Treatment(ordered, minutes, money)


def field_cadence(scenario: Scenario) -> int | None:
    """Days between field visits to one account (monthly, or less often if the rules say so); None if none."""
    if team_for(scenario, "field_visit") is None:
        return None
    rules = ContactRules.from_section(scenario.compliance)
    if rules.max_field_visits_30d is None:
        return 30
    if rules.max_field_visits_30d <= 0:
        return None
    return max(30, math.ceil(30 / rules.max_field_visits_30d))


def with_field_visits(scenario: Scenario, treatments: list[Treatment]) -> list[Treatment]:
    """The treatments plus, for each one that calls but never visits, the same with monthly field visits.

    Field visits add to calls rather than replace them: a ladder that calls
    every day and visits large balances each month is not the sum of two
    segment treatments, so without these variants the allocation could only
    have visits by giving up the calls it wants (``call/7d+field_visit/30d``)
    or by taking a whole hand-written ladder.
    """
    every = field_cadence(scenario)
    out = list(treatments)
    if every is None:
        return out
    visit = Contact("field_visit", every)
    for t in treatments:
        if "call" not in t.channels or "field_visit" in t.channels:
            continue
        if t.ladder:
            added = Treatment((), ladder=t.ladder + (contact_step(visit),), label=f"{t.label}+{visit.label}")
        else:
            added = treatment(scenario, *t.contacts, visit)
        if added not in out:
            out.append(added)
    return out


def scenario_treatments(scenario: Scenario, *, combos: bool = True) -> list[Treatment]:
    """The treatment options of a scenario, ``none`` first, without duplicates.

    Single channels at the scenario's own cadences and a standard set
    (SMS every 3 and 7 days, e-mail weekly, a monthly letter, calls every 7, 3
    and 2 days, monthly field visits, legal), plus, with ``combos``, the usual
    pairings (SMS + e-mail, SMS + calls, calls + letter, field visit + calls)
    and the message cadences of :func:`cadence_options` (SMS and e-mail every
    k days, alone, with follow-up calls and with letters).
    """
    rules = ContactRules.from_section(scenario.compliance)
    has = {ch: (ch in AUTOMATED_CHANNELS) or team_for(scenario, ch) is not None for ch in CHANNEL_ORDER}
    if not (rules.window_start <= parse_clock("10:00") < rules.window_end):
        has["sms"] = has["email"] = False  # reminders are sent at 10:00; refused outside the window
    field_every = field_cadence(scenario) or 30
    has["field_visit"] &= field_cadence(scenario) is not None

    singles: list[Contact] = []
    # Offer steps are treatments of their own (offer_treatments), with the terms the scenario gives them.
    own = [(s.channel, s.every_days, s.attempts_per_day) for s in scenario.strategy.steps
           if s.channel not in OFFER_CHANNELS and not s.after_charge_off]
    standard = [("sms", 3, 1), ("sms", 7, 1), ("email", 7, 1), ("letter", 30, 1), ("call", 7, 1),
                ("call", 3, 1), ("call", 2, 2), ("field_visit", field_every, 1), ("legal", 1, 1)]
    for channel, every, attempts in standard + own:
        if not has[channel]:
            continue
        if channel == "call":
            contact = compliant_call(rules, every, attempts)
        elif channel == "field_visit":
            contact = Contact(channel, max(every, field_every))
        elif channel == "legal":
            contact = Contact("legal", 1)
        else:
            contact = Contact(channel, every)
        if contact is not None and contact not in singles:
            singles.append(contact)

    options: list[tuple[Contact, ...]] = [()] + [(c,) for c in singles]
    if combos:
        def pick(channel: str, every: int) -> Contact | None:
            found = [c for c in singles if c.channel == channel]
            exact = [c for c in found if c.every_days == every]
            return (exact or found or [None])[0]

        pairs = [(pick("sms", 3), pick("email", 7)), (pick("sms", 3), pick("call", 3)),
                 (pick("sms", 7), pick("call", 7)), (pick("call", 3), pick("letter", 30)),
                 (pick("call", 7), pick("field_visit", field_every))]
        for a, b in pairs:
            if a is not None and b is not None:
                options.append((a, b))
        options += cadence_options(singles, rules, has)
    out: list[Treatment] = []
    for contacts in options:
        t = treatment(scenario, *contacts)
        if t not in out:
            out.append(t)
    return out


# Message cadences: (SMS every k days, e-mail every k days), the automated parts of the shipped US
# ladders — sms_gentle's frequent reminders (2, 3) and baseline's, call_heavy's and early_field's (5, 7).
# Each is a treatment alone and with calls every 4 or 2 days as follow-up (sms_gentle calls every 4 days
# from 31 days past due, baseline every 2 from 15), so a segment can have a ladder's reminders with the
# calls that go with them without taking the whole hand-written ladder. Kept short: every treatment is
# one more engine run per pass under the simulated valuation.
MESSAGE_CADENCES = ((2, 3), (5, 7))
FOLLOW_UP_CALLS = (4, 2)
GENTLE = (2, 3)  # the cadence whose calls also come with monthly letters (sms_gentle's 61-90 days)


def cadence_options(singles: list[Contact], rules: ContactRules, has: dict[str, bool]) -> list[tuple[Contact, ...]]:
    """The message-cadence treatments as contact tuples: each cadence alone and with follow-up calls;
    sms_gentle's reminders with calls and letters; calls every 4 days alone and with letters.

    Without them the catalogue's message treatments were SMS every 3 or 7
    days and weekly e-mail, one channel or paired with calls, so the LP could
    give a segment what sms_gentle's ladder gives it (SMS every 2 days, e-mail
    every 3, calls every 4 days, monthly letters) only by taking that whole
    hand-written ladder there.
    """
    options: list[tuple[Contact, ...]] = []
    letter = next((c for c in singles if c.channel == "letter"), None)
    calls = {every: compliant_call(rules, every, 1) if has["call"] else None for every in FOLLOW_UP_CALLS}
    for cadence in MESSAGE_CADENCES:
        messages = tuple(Contact(channel, every) for channel, every in zip(("sms", "email"), cadence, strict=True)
                         if has[channel])
        if not messages:
            continue
        options.append(messages)
        for call in filter(None, calls.values()):
            options.append((*messages, call))
        if cadence == GENTLE and calls[4] is not None and letter is not None:
            options.append((*messages, calls[4], letter))
    if calls[4] is not None:  # what a gentle ladder does once its reminders stop
        options += [(calls[4],)] + ([(calls[4], letter)] if letter is not None else [])
    return options


def offer_treatments(scenario: Scenario) -> list[Treatment]:
    """Each offer step of the scenario's ladder (settlement, hardship plan) as a treatment of its own, and with
    the scenario's ladder around it (``offer:settlement_offer``, ``ladder:NAME+settlement_offer``).

    The offer keeps the terms and days-past-due range the scenario gives it;
    the engine values it (``valuation = "simulate"``): the value model has no
    expectation of offers.
    """
    steps = scenario.strategy.steps
    contacts = [s for s in steps if s.channel not in OFFER_CHANNELS and not s.after_charge_off]
    out: list[Treatment] = []
    for step in steps:
        if step.channel not in OFFER_CHANNELS:
            continue
        alone = Treatment((), ladder=(step,), label=f"offer:{step.channel}")
        around = ladder_treatment(scenario, [*contacts, step], f"ladder:{scenario.strategy.name}+{step.channel}")
        out += [t for t in (alone, around) if t not in out]
    return out


def makes_offers(steps) -> bool:
    return any(step.channel in OFFER_CHANNELS for step in steps)


def shift_minutes_per_day(team: TeamSection) -> int:
    return sum(end - start for start, end in (parse_shift(s) for s in team.shifts))


def ladder_treatment(world: Scenario, steps, label: str) -> Treatment:
    """A hand-written ladder as a treatment of ``world`` (steps of channels it cannot do are dropped)."""
    kept = []
    for step in steps:
        if step.channel in TEAM_KIND_OF_CHANNEL and team_for(world, step.channel) is None:
            continue
        kept.append(step.model_copy(update={"team": None}))
    return Treatment((), ladder=tuple(kept), label=label)


def ladder_treatments(world: Scenario, strategies: list[tuple[str, list[Step]]]) -> list[Treatment]:
    """Each ladder as a treatment, and its automated part alone (what it does where agents are short)."""
    out: list[Treatment] = []
    for name, steps in strategies:
        whole = ladder_treatment(world, steps, f"ladder:{name}")
        automated = ladder_treatment(world, [s for s in steps if s.channel in AUTOMATED_CHANNELS],
                                     f"ladder:{name}/automated")
        for t in (whole, automated):
            if t.ladder and t not in out:
                out.append(t)
    return out
