"""Contact rules: the legal and house limits on when and how often a debtor is contacted.

Presets follow DOMAIN.md:

* ``us_reg_f`` — CFPB Regulation F: at most 7 call attempts per account in any
  rolling 7 days, no call within 7 days after a telephone conversation (the
  conversation day counts as day 1), no contact before 08:00 or after 21:00
  local time (12 CFR 1006.14(b)(2), 1006.6(b)(1)(i)).
* ``us_massachusetts`` — Reg F plus at most 2 telephone communications per 7
  days and at most 1 field visit per 30 days (940 CMR 7.04(1)(f); 209 CMR 18.16,
  18.17(6)).
* ``cn_2025`` — no collection 22:00-08:00; at most 3 connected calls and 6 dial
  attempts per debtor per day (2025 national standard on post-loan collection).
* ``us_first_party`` — a lender collecting its own debt: Regulation F binds
  third-party collectors only; the TCPA's calling hours 08:00-21:00 and a
  house cap of 3 dial attempts a day (``sim/presets.py`` says what it allows).
* ``none`` — no limits (for validation against theory).

Rules follow the consumer, not only the book:

* **At placement** (``[compliance] lender_preset`` and ``placement_dpd``)
  the rules switch: before it the lender's preset, from the day an account
  reaches ``placement_dpd`` days past due the agency's (``preset``).
* **Massachusetts residents** (``state = MA``) get at most 2 telephone
  communications in 7 days and 1 field visit in 30 whatever the preset
  (940 CMR 7.04(1)(f) binds creditors, 209 CMR 18 collectors).
* **The window is the consumer's local time** (their time zone's offset).
* **Requests to stop** end contact: after an opt-out no message of that
  channel (12 CFR 1006.6(e)); after a cease-communication request nothing
  the collector starts but a legal filing (FDCPA §805(c), 12 CFR 1006.6(c):
  what remains allowed is notice of a remedy the collector invokes).
* **Excluded accounts** (bankruptcy, deceased, SCRA, attorney, a dispute
  pending validation; :mod:`sim.consumers`) are never contacted.

Rules are separate from the strategy and always win: the engine asks
:meth:`ContactRules` before every contact and counts a refusal. :func:`audit`
replays a finished contact log against the rules independently of how the
engine scheduled it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np

from .presets import PRESET_RULES
from .scenario import ComplianceSection, parse_clock

MINUTES_PER_DAY = 1440
MA_CONVERSATIONS_7D = 2  # 940 CMR 7.04(1)(f)
MA_FIELD_VISITS_30D = 1  # 209 CMR 18.17(6)


def rule_set_of(massachusetts, with_lender, placed) -> np.ndarray:
    """Which of :meth:`ContactRules.rule_sets` each account is under (arrays or scalars alike)."""
    lender = np.logical_and(with_lender, np.logical_not(placed))
    return 2 * lender.astype(np.int8) + np.asarray(massachusetts, dtype=np.int8)

RULE_FIELDS = (
    "window_start",
    "window_end",
    "max_call_attempts_7d",
    "quiet_days_after_conversation",
    "max_conversations_7d",
    "max_connected_calls_per_day",
    "max_attempts_per_day",
    "max_field_visits_30d",
)


@dataclass(frozen=True)
class ContactRules:
    """The resolved rule set: a preset with the scenario's overrides applied."""

    preset: str
    window_start: int  # minutes after midnight, first minute a contact may start
    window_end: int  # minutes after midnight, no contact may start at or after it
    max_call_attempts_7d: int | None = None
    quiet_days_after_conversation: int = 0
    max_conversations_7d: int | None = None
    max_connected_calls_per_day: int | None = None
    max_attempts_per_day: int | None = None
    max_field_visits_30d: int | None = None
    no_contact_on_weekend: bool = False
    no_contact_on_holiday: bool = False
    holiday_country: str = "US"
    # Rules that switch at placement: the lender's before ``placement_dpd`` days past due (these are the agency's).
    lender: ContactRules | None = None
    placement_dpd: int | None = None

    @classmethod
    def from_section(cls, section: ComplianceSection) -> ContactRules:
        values = dict(PRESET_RULES[section.preset])
        for name in RULE_FIELDS:
            override = getattr(section, name)
            if override is not None:
                values[name] = override
        rules = cls._resolved(section.preset, values, section)
        if section.lender_preset is not None:
            lender = cls._resolved(section.lender_preset, dict(PRESET_RULES[section.lender_preset]), section)
            rules = replace(rules, lender=lender, placement_dpd=section.placement_dpd)
        return rules

    @classmethod
    def _resolved(cls, preset: str, values: dict, section: ComplianceSection) -> ContactRules:
        start = parse_clock(str(values.pop("window_start")))
        end = parse_clock(str(values.pop("window_end")))
        return cls(
            preset=preset,
            window_start=start,
            window_end=end,
            quiet_days_after_conversation=int(values.pop("quiet_days_after_conversation", 0) or 0),
            no_contact_on_weekend="weekend" in section.no_contact_on,
            no_contact_on_holiday="holiday" in section.no_contact_on,
            holiday_country=section.holiday_country,
            **values,  # type: ignore[arg-type]
        )

    def for_massachusetts(self) -> ContactRules:
        """These rules for a Massachusetts resident: at most 2 telephone communications in 7 days and
        1 field visit in 30 on top (940 CMR 7.04(1)(f); 209 CMR 18.16, 18.17(6))."""
        return replace(self, lender=None, placement_dpd=None,
                       max_conversations_7d=min(self.max_conversations_7d or MA_CONVERSATIONS_7D, MA_CONVERSATIONS_7D),
                       max_field_visits_30d=min(self.max_field_visits_30d or MA_FIELD_VISITS_30D, MA_FIELD_VISITS_30D))

    def rule_sets(self) -> tuple[ContactRules, ...]:
        """The rule sets an account can be under, numbered as :func:`rule_set_of` numbers them:
        the agency's (or the only) rules, the same for a Massachusetts resident, then the lender's two."""
        agency = replace(self, lender=None, placement_dpd=None)
        sets = [agency, agency.for_massachusetts()]
        if self.lender is not None:
            sets += [self.lender, self.lender.for_massachusetts()]
        return tuple(sets)

    def in_window(self, minute_of_day: float) -> bool:
        return self.window_start <= minute_of_day < self.window_end


class ContactCalendar:
    """Which simulation days are closed to contact (weekends, public holidays)."""

    def __init__(self, rules: ContactRules, start_date: dt.date, days: int):
        self.start_date = start_date
        dates = [start_date + dt.timedelta(days=d) for d in range(days + 1)]
        self.weekend = np.array([date.weekday() >= 5 for date in dates], dtype=bool)
        if rules.no_contact_on_holiday:
            import holidays

            years = sorted({date.year for date in dates})
            calendar = holidays.country_holidays(rules.holiday_country, years=years)
            self.holiday = np.array([date in calendar for date in dates], dtype=bool)
        else:
            self.holiday = np.zeros(len(dates), dtype=bool)
        quiet = np.zeros(len(dates), dtype=bool)
        if rules.no_contact_on_weekend:
            quiet |= self.weekend
        if rules.no_contact_on_holiday:
            quiet |= self.holiday
        self.quiet = quiet

    def is_quiet(self, day: int) -> bool:
        return bool(self.quiet[day])

    def date(self, day: int) -> dt.date:
        return self.start_date + dt.timedelta(days=day)


# ----------------------------------------------------------------------------- audit


@dataclass(frozen=True)
class Violation:
    account_id: int
    minute: float
    channel: str
    rule: str

    def __str__(self) -> str:
        return f"account {self.account_id} at minute {self.minute:.1f} ({self.channel}): {self.rule}"


INITIATED = ("sms", "email", "call", "field_visit", "letter")  # contacts the collector starts
TIMED = ("sms", "email", "call", "field_visit")  # contacts the window applies to (a letter is posted)


def audit(log, rules: ContactRules, calendar: ContactCalendar) -> list[Violation]:
    """Replay a contact log against the rules; every collector-initiated contact is checked.

    Written independently of the engine's bookkeeping (rolling rings of counters):
    here every check is recomputed from the full per-account history. When the
    log carries the consumers' facts (``log.facts``, :class:`~sim.consumers.ConsumerFacts`),
    each contact is checked against the rules of the consumer it reached: the
    window in their local time, Massachusetts' caps for a resident, the lender's
    or the agency's rules by the day of placement; and no contact may reach an
    excluded account, no message a channel the consumer opted out of, nothing
    the collector starts a consumer who asked it to cease.
    """
    violations: list[Violation] = []
    if len(log) == 0:
        return violations
    account = log.account
    minute = log.minute
    channel = log.channel_names()
    reached = log.right_party()  # right_party, or a conversation's result
    day = (minute // MINUTES_PER_DAY).astype(np.int64)
    sets = rules.rule_sets()
    rule_set, offset = _consumer_rules(log, rules, day)
    violations += _clock_violations(account, minute, channel, day, sets, rule_set, offset, calendar)

    order = np.lexsort((minute, account))
    calls = channel == "call"
    conversation = (calls & reached) | (channel == "inbound_call")
    visits = channel == "field_visit"
    boundaries = np.flatnonzero(np.diff(account[order])) + 1
    for group in np.split(order, boundaries):
        acc = int(account[group[0]])
        conv_minutes = minute[group[conversation[group]]]
        violations += _call_violations(acc, group[calls[group]], minute, day, reached, conv_minutes, sets, rule_set)
        violations += _visit_violations(acc, group[visits[group]], minute, day, sets, rule_set)
    violations += stop_violations(log)
    return violations


def _consumer_rules(log, rules: ContactRules, day: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each row's rule set (:meth:`ContactRules.rule_sets`) and its consumer's offset from the book's time."""
    facts = getattr(log, "facts", None)
    if facts is None:
        return np.zeros(len(log), dtype=np.int8), np.zeros(len(log), dtype=np.int64)
    pos = facts.positions(log.account)
    placed = day >= facts.placed_on[pos]
    return rule_set_of(facts.massachusetts[pos], rules.lender is not None, placed), facts.offset[pos].astype(np.int64)


def stop_violations(log) -> list[Violation]:
    """Contacts the consumer's standing or their own requests forbid: an excluded account contacted,
    a message after an opt-out of its channel, anything the collector starts after a cease request."""
    violations: list[Violation] = []
    channel = log.channel_names()
    names = log.outcome_names()
    initiated = np.isin(channel, INITIATED)
    facts = getattr(log, "facts", None)
    if facts is not None:
        excluded = facts.excluded[facts.positions(log.account)]
        for i in np.flatnonzero(excluded & (initiated | (channel == "legal"))):
            violations.append(Violation(int(log.account[i]), float(log.minute[i]), str(channel[i]),
                                        "contact with an account excluded from collection"))
    if not np.isin(names, ["opt_out", "cease_request"]).any():
        return violations
    # Each account's first request of each kind, then every row after it that the request forbids. A request
    # made in a conversation is made by its end (a message's row lasts no time).
    _, who = np.unique(log.account, return_inverse=True)
    made = log.minute + log.duration
    for request, rows_barred, rule in (
        (names == "cease_request", initiated, "contact after a cease-communication request"),
        ((names == "opt_out") & (channel == "sms"), channel == "sms", "sms after an opt-out of sms"),
        ((names == "opt_out") & (channel == "email"), channel == "email", "email after an opt-out of email"),
    ):
        first = np.full(who.max() + 1, np.inf)
        np.minimum.at(first, who[request], made[request])
        for i in np.flatnonzero(rows_barred & (log.minute > first[who])):
            violations.append(Violation(int(log.account[i]), float(log.minute[i]), str(channel[i]), rule))
    return violations


def _clock_violations(account, minute, channel, day, sets, rule_set, offset,
                      calendar: ContactCalendar) -> list[Violation]:
    """Contacts outside the contact window (the consumer's local time), then collector-initiated contacts
    on no-contact days."""
    violations = []
    local = np.mod(minute - day * MINUTES_PER_DAY + offset, MINUTES_PER_DAY)
    start = np.array([r.window_start for r in sets])[rule_set]
    end = np.array([r.window_end for r in sets])[rule_set]
    initiated = np.isin(channel, INITIATED)
    timed = np.isin(channel, TIMED)
    for i in np.flatnonzero(timed & ~((local >= start) & (local < end))):
        violations.append(Violation(int(account[i]), float(minute[i]), str(channel[i]), "outside the contact window"))
    quiet_hit = initiated & calendar.quiet[np.minimum(day, len(calendar.quiet) - 1)]
    for i in np.flatnonzero(quiet_hit):
        violations.append(Violation(int(account[i]), float(minute[i]), str(channel[i]), "on a no-contact day"))
    return violations


def _visit_violations(acc: int, g_visits, minute, day, sets, rule_set) -> list[Violation]:
    """One account's field visits (in time order) against the 30-day visit cap of the rules at each visit."""
    violations = []
    visit_days = day[g_visits]
    for k, d in enumerate(visit_days):
        cap = sets[rule_set[g_visits[k]]].max_field_visits_30d
        if cap is not None and np.count_nonzero(visit_days[: k + 1] > d - 30) > cap:
            violations.append(Violation(acc, float(minute[g_visits[k]]), "field_visit",
                                        "more than the allowed field visits in 30 days"))
    return violations


def _call_violations(acc: int, g_calls, minute, day, reached, conv_minutes, sets, rule_set) -> list[Violation]:
    """One account's calls (in time order) against the attempt, quiet-period and conversation caps
    of the rules the account was under at each call."""
    violations = []
    call_days = day[g_calls]
    rpc = g_calls[reached[g_calls]]
    rpc_minutes, rpc_days = minute[rpc], day[rpc]
    for k, i in enumerate(g_calls):
        d, m = day[i], minute[i]
        rules = sets[rule_set[i]]
        if rules.max_call_attempts_7d is not None:
            if np.count_nonzero(call_days[: k + 1] > d - 7) > rules.max_call_attempts_7d:
                violations.append(Violation(acc, float(m), "call", "more than the allowed call attempts in 7 days"))
        if rules.quiet_days_after_conversation:
            before = conv_minutes[conv_minutes < m]
            if np.any(before // MINUTES_PER_DAY > d - rules.quiet_days_after_conversation):
                violations.append(Violation(acc, float(m), "call", "call within the quiet period after a conversation"))
        if rules.max_attempts_per_day is not None:
            if np.count_nonzero(call_days[: k + 1] == d) > rules.max_attempts_per_day:
                violations.append(Violation(acc, float(m), "call", "more than the allowed dial attempts in a day"))
        if reached[i]:
            upto = rpc_minutes <= m
            if rules.max_connected_calls_per_day is not None:
                if np.count_nonzero(upto & (rpc_days == d)) > rules.max_connected_calls_per_day:
                    violations.append(Violation(acc, float(m), "call", "more than the allowed connected calls in a day"))
            if rules.max_conversations_7d is not None:
                if np.count_nonzero(upto & (rpc_days > d - 7)) > rules.max_conversations_7d:
                    violations.append(Violation(acc, float(m), "call", "more than the allowed telephone communications in 7 days"))
    return violations
