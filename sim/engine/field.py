"""Field visits: each field team's visits for the day, within the 30-day visit cap, and the agents making them.

Every morning the accounts the ladder sends to a field team are put in the
strategy's priority order, those at the 30-day visit cap are refused, and
the rest (up to the team's visits a day) are shared among its agents, who
visit them one after the other inside their shift and the contact window.
A visit that finds the borrower is a conversation. Imports
:mod:`sim.domain`, the book, the contact counters, the teams and the
conversation.
"""

from __future__ import annotations

from collections import defaultdict, deque

import numpy as np

from ..domain import ACTIVE, MINUTES_PER_DAY, NO_ANSWER, RIGHT_PARTY, Channel
from ..scenario import TeamSection
from ..streams import AccountDraws, UniformPool
from .book import Book
from .contacts import ContactCounters
from .context import Context
from .conversation import Conversation
from .rows import distinct_first
from .teams import Team, Teams

DAY = MINUTES_PER_DAY
VISIT_CODE = int(Channel.FIELD_VISIT)
VISIT_CAP_DAYS = 30


class FieldTeams:
    """The field teams' days and each account's recent visits."""

    def __init__(self, ctx: Context, book: Book, counters: ContactCounters, teams: Teams,
                 conversation: Conversation, pool: UniformPool):
        self.ctx = ctx
        self.book = book
        self.counters = counters
        self.teams = teams
        self.conversation = conversation
        self.pool = pool
        self.visit_days: dict[int, deque[int]] = defaultdict(deque)
        self.standing = None  # sim.engine.standing.Standing, set by the engine when the run has one

    def plan_day(self, team: Team, lists: list[tuple[np.ndarray, int]], day: int) -> None:
        """Choose the team's visits for today and start one process per agent with visits."""
        if not lists or not team.agent_ids or not self.teams.works_today(team, day):
            return
        idx = np.concatenate([a for a, _ in lists])
        steps = np.concatenate([np.full(a.size, s) for a, s in lists])
        idx, first = distinct_first(idx)
        steps = steps[first]
        order = self.book.call_order(idx)
        idx, steps = idx[order], steps[order]
        cap = self.ctx.rules.max_field_visits_30d
        st = self.standing
        if cap is not None or (st is not None and any(c is not None for c in st.cap_visits_30d)):
            caps = [cap] * idx.size if st is None else [st.cap_visits_30d[r] for r in st.rule_set[idx].tolist()]
            ok = np.array([c is None or self._visits_in_30d(int(i), day) < c
                           for i, c in zip(idx.tolist(), caps, strict=True)], dtype=bool)
            self.ctx.tally.refusals[day] += int((~ok).sum())
            idx, steps = idx[ok], steps[ok]
        per_agent = team.spec.visits_per_day
        capacity = per_agent * len(team.agent_ids)
        if team.part_time_shifts is not None and per_agent:
            # The part-timer (the last agent) makes its shifts' share of a day's visits, at least one.
            full = sum(end - start for start, end in team.shifts)
            part = sum(end - start for start, end in team.part_time_shifts)
            capacity -= per_agent - max(1, round(per_agent * part / full))
        idx, steps = idx[:capacity], steps[:capacity]
        for k, agent in enumerate(team.agent_ids):
            mine = idx[k * per_agent:(k + 1) * per_agent]
            if mine.size:
                self.ctx.env.process(self._agent(team, agent, mine, steps[k * per_agent:(k + 1) * per_agent], day))

    def _refused_now(self, i: int, minute_of_day: float, day: int) -> bool:
        """A visit the consumer's standing forbids now: a cease request since the morning, or outside their
        local window (counted as a refusal)."""
        st = self.standing
        if st.ceased[i] or st.excluded[i]:
            return True
        low, high = st.local_window(np.array([i]))
        if low[0] <= minute_of_day < high[0]:
            return False
        self.ctx.tally.refusals[day] += 1
        return True

    def _visits_in_30d(self, i: int, day: int) -> int:
        visits = self.visit_days.get(i)
        if not visits:
            return 0
        while visits and visits[0] <= day - VISIT_CAP_DAYS:
            visits.popleft()
        return len(visits)

    def _visit_draws(self, spec: TeamSection, i: int) -> tuple[float, bool]:
        """A visit's length and whether the borrower is found (from the account's own draws when paired)."""
        mean = spec.handle_minutes.field_visit
        exponential = spec.handle_distribution == "exponential"
        pool = self.pool
        if self.ctx.draws is None:
            duration = pool.exponential(mean) if exponential else mean
            return duration, pool.next() < spec.visit_success
        length, found = self.ctx.draws.visit.draw(i)
        return (AccountDraws.exponential(mean, length) if exponential else mean), found < spec.visit_success

    def _agent(self, team: Team, agent: int, accounts: np.ndarray, steps: np.ndarray, day: int):
        ctx = self.ctx
        env = ctx.env
        shifts = team.shifts_of(agent)
        shift_start, shift_end = shifts[0][0], shifts[-1][1]
        start = day * DAY + max(shift_start, ctx.rules.window_start)
        end = day * DAY + min(shift_end, ctx.rules.window_end)
        if start > env.now:
            yield env.timeout(start - env.now)
        counters = self.counters
        for i, s in zip(accounts.tolist(), steps.tolist(), strict=True):
            if env.now >= end:
                break
            if self.book.status[i] != ACTIVE:
                continue
            if self.standing is not None and self._refused_now(i, env.now - day * DAY, day):
                continue
            duration, found = self._visit_draws(team.spec, i)
            counters.last_step_day[s, i] = day
            self.visit_days[i].append(day)
            ctx.tally.contacts[day, VISIT_CODE] += 1  # the series' column is the channel's code
            ctx.charge(day, "field_visit", i, ctx.costs.field_visit)
            row = ctx.log.add(i, env.now, VISIT_CODE, RIGHT_PARTY if found else NO_ANSWER, agent, duration)
            counters.count_agent_contact(i)
            yield env.timeout(duration)
            if found:
                counters.today_failed[i] = 0
                counters.failed_reset_today.add(i)
                ctx.log.conclude(row, self.conversation(i, day, "field_visit"))
            else:
                counters.today_failed[i] = counters.today_failed.get(i, 0) + 1
