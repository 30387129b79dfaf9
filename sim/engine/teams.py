"""The scenario's teams as the engine staffs them: agents, shifts, working days, which team does a step.

A :class:`Team` also carries its day's working state (the call list and
where the agents are in it, the redial heap, idle agents), which the call
centre resets every morning. Imports :mod:`sim.domain` and the scenario.

**Part-time agents.** A team scaled to a fractional size (0.32 agents for a
small book) is its agents rounded up, the last of them part-time: each of its
shifts starts with the team's and ends early, after the share of the shift's
minutes (whole minutes, at least one). Everyone else works the team's shifts,
so a team of whole agents is staffed exactly as before; the part-timer is an
ordinary agent on shorter shifts, so the call loop, the inbound queue and
the field rounds need no other rule.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..compliance import ContactCalendar
from ..domain import TEAM_KIND_OF_CHANNEL, WEEKDAYS
from ..scenario import Scenario, Step, TeamSection


# Slots: the agents read the day's state (cursor, list size, redials) at every dial.
@dataclass(slots=True)
class Team:
    name: str
    spec: TeamSection
    agent_ids: list[int]
    shifts: list[tuple[int, int]]
    # The last agent's shifts when it works part-time (None: everyone works ``shifts``).
    part_time_shifts: list[tuple[int, int]] | None = None
    cursor: int = 0
    # No-answers to dial again, in the order they fall due, and accounts waiting for their window to open.
    redial: deque[tuple[float, int, int, int]] = field(default_factory=deque)
    opening: list[tuple[float, int, int, int]] = field(default_factory=list)
    queue_list: list = field(default_factory=list)
    queue_step_list: list = field(default_factory=list)
    queue_size: int = 0
    queue_reach: tuple | None = None  # per listed account, what its dial reads (CallCentre._reach)
    # The list's positions made Python lists so far, and its arrays (accounts, steps or None, the one step)
    # for the rest (CallCentre.list_more).
    queue_ready: int = 0
    queue_pending: tuple | None = None
    means: tuple = (1.0, 1.0, 1.0)
    idle: deque = field(default_factory=deque)
    watching: bool = False
    # Which inbound line the team answers (None: the one line; several when copies of a sample share a run and
    # each copy's callers must reach its own team, sim_valuation.run_units_together).
    line: int | None = None

    def shifts_of(self, agent: int) -> list[tuple[int, int]]:
        """The shifts agent ``agent`` works: the team's, or the part-timer's shortened ones."""
        if self.part_time_shifts is not None and agent == self.agent_ids[-1]:
            return self.part_time_shifts
        return self.shifts

    def staffed_minutes(self) -> int:
        """The minutes the team's agents work in a day, every shift together."""
        full = sum(end - start for start, end in self.shifts)
        if self.part_time_shifts is None or not self.agent_ids:
            return full * len(self.agent_ids)
        return full * (len(self.agent_ids) - 1) + sum(end - start for start, end in self.part_time_shifts)

    def set_part_time(self, share: float) -> None:
        """The last agent works ``share`` of each shift (1.0: full-time, like the others)."""
        self.part_time_shifts = part_time_shifts(self.shifts, share)


def part_time_shifts(shifts: list[tuple[int, int]], share: float) -> list[tuple[int, int]] | None:
    """Each shift cut to ``share`` of its minutes from its start (None: ``share`` 1, the whole shift).

    Whole minutes, at least one, so a part-timer always has a shift to start.
    """
    if share >= 1.0:
        return None
    return [(start, start + max(1, round(share * (end - start)))) for start, end in shifts]


class Teams:
    """Every team by kind, the agents' names (an agent's id is its position) and the calendar of working days."""

    def __init__(self, scenario: Scenario, calendar: ContactCalendar):
        self.calendar = calendar
        self.call: list[Team] = []
        self.field: list[Team] = []
        self.legal: list[Team] = []
        self.of_kind = {"call": self.call, "field": self.field, "legal": self.legal}
        self.agent_names: list[str] = []
        for name, spec in scenario.teams.items():
            ids = []
            count = spec.agents if spec.kind != "legal" else 0
            for k in range(count):
                ids.append(len(self.agent_names))
                self.agent_names.append(f"{name}-{k + 1}")
            team = Team(name=name, spec=spec, agent_ids=ids, shifts=spec.shift_minutes)
            if ids:
                team.set_part_time(spec.part_time_share)
            self.of_kind[spec.kind].append(team)
        self.by_name = {t.name: t for t in (*self.call, *self.field, *self.legal)}

    def resize(self, name: str, agents: int, part_time_share: float = 1.0) -> int:
        """Staff team ``name`` with ``agents`` from now on (an open book's scaled team); returns the ids added.

        Fewer agents keeps the first ones; more adds agents with new ids after
        every existing one, so an agent's id stays its position in ``agent_names``.
        The last of them works ``part_time_share`` of each shift (the others full-time).
        """
        team = self.by_name[name]
        team.set_part_time(part_time_share)
        if agents <= len(team.agent_ids):
            del team.agent_ids[agents:]
            return 0
        added = agents - len(team.agent_ids)
        for k in range(len(team.agent_ids), agents):
            team.agent_ids.append(len(self.agent_names))
            self.agent_names.append(f"{name}-{k + 1}")
        return added

    def team_for(self, step: Step) -> Team | None:
        """The team that does a ladder step: the one it names, else the first of its kind (None: no such team)."""
        if step.team is not None:
            return self.by_name[step.team]
        pool = self.of_kind[TEAM_KIND_OF_CHANNEL[step.channel]]
        return pool[0] if pool else None

    def works_today(self, team: Team, day: int) -> bool:
        weekday = WEEKDAYS[self.calendar.date(day).weekday()]
        return weekday in team.spec.work_days and not self.calendar.is_quiet(day)

    def team_of_agent(self) -> list[str]:
        """Each agent's team name, by agent id (legal teams have no agents)."""
        out = [""] * len(self.agent_names)
        for team in (*self.call, *self.field):
            for agent in team.agent_ids:
                out[agent] = team.name
        return out
