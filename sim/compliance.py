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
* ``none`` — no limits (for validation against theory).

Rules are separate from the strategy and always win: the engine asks
:meth:`ContactRules` before every contact and counts a refusal. :func:`audit`
replays a finished contact log against the rules independently of how the
engine scheduled it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np

from .presets import PRESET_RULES
from .scenario import ComplianceSection, parse_clock

MINUTES_PER_DAY = 1440

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

    @classmethod
    def from_section(cls, section: ComplianceSection) -> ContactRules:
        values = dict(PRESET_RULES[section.preset])
        for name in RULE_FIELDS:
            override = getattr(section, name)
            if override is not None:
                values[name] = override
        start = parse_clock(str(values.pop("window_start")))
        end = parse_clock(str(values.pop("window_end")))
        return cls(
            preset=section.preset,
            window_start=start,
            window_end=end,
            quiet_days_after_conversation=int(values.pop("quiet_days_after_conversation", 0) or 0),
            no_contact_on_weekend="weekend" in section.no_contact_on,
            no_contact_on_holiday="holiday" in section.no_contact_on,
            holiday_country=section.holiday_country,
            **values,  # type: ignore[arg-type]
        )

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


def audit(log, rules: ContactRules, calendar: ContactCalendar) -> list[Violation]:
    """Replay a contact log against the rules; every collector-initiated contact is checked.

    Written independently of the engine's bookkeeping (rolling rings of counters):
    here every check is recomputed from the full per-account history.
    """
    violations: list[Violation] = []
    if len(log) == 0:
        return violations
    account = log.account
    minute = log.minute
    channel = log.channel_names()
    reached = log.right_party()  # right_party, or a conversation's result
    day = (minute // MINUTES_PER_DAY).astype(np.int64)
    violations += _clock_violations(account, minute, channel, day, rules, calendar)

    order = np.lexsort((minute, account))
    calls = channel == "call"
    conversation = (calls & reached) | (channel == "inbound_call")
    visits = channel == "field_visit"
    boundaries = np.flatnonzero(np.diff(account[order])) + 1
    for group in np.split(order, boundaries):
        acc = int(account[group[0]])
        conv_minutes = minute[group[conversation[group]]]
        violations += _call_violations(acc, group[calls[group]], minute, day, reached, conv_minutes, rules)
        if rules.max_field_visits_30d is not None:
            g_visits = group[visits[group]]
            visit_days = day[g_visits]
            for k, d in enumerate(visit_days):
                if np.count_nonzero(visit_days[: k + 1] > d - 30) > rules.max_field_visits_30d:
                    violations.append(Violation(acc, float(minute[g_visits[k]]), "field_visit", "more than the allowed field visits in 30 days"))
    return violations


def _clock_violations(account, minute, channel, day, rules: ContactRules,
                      calendar: ContactCalendar) -> list[Violation]:
    """Contacts outside the contact window, then collector-initiated contacts on no-contact days."""
    violations = []
    minute_of_day = minute - day * MINUTES_PER_DAY
    initiated = np.isin(channel, ["sms", "email", "call", "field_visit", "letter"])
    timed = np.isin(channel, ["sms", "email", "call", "field_visit"])
    for i in np.flatnonzero(timed & ~((minute_of_day >= rules.window_start) & (minute_of_day < rules.window_end))):
        violations.append(Violation(int(account[i]), float(minute[i]), str(channel[i]), "outside the contact window"))
    quiet_hit = initiated & calendar.quiet[np.minimum(day, len(calendar.quiet) - 1)]
    for i in np.flatnonzero(quiet_hit):
        violations.append(Violation(int(account[i]), float(minute[i]), str(channel[i]), "on a no-contact day"))
    return violations


def _call_violations(acc: int, g_calls, minute, day, reached, conv_minutes,
                     rules: ContactRules) -> list[Violation]:
    """One account's calls (in time order) against the attempt, quiet-period and conversation caps."""
    violations = []
    call_days = day[g_calls]
    rpc = g_calls[reached[g_calls]]
    rpc_minutes, rpc_days = minute[rpc], day[rpc]
    for k, i in enumerate(g_calls):
        d, m = day[i], minute[i]
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
