"""Legal: accounts referred by the ladder queue in priority order; legal teams file and cases resolve later.

A legal team files up to its filings a day on its working days; a filed case
resolves after the team's delay, recovering a share of the balance with the
team's success rate (net of the agency's commission), and the rest is
written off. Imports :mod:`sim.domain`, the book and the teams.
"""

from __future__ import annotations

from collections import defaultdict, deque

import numpy as np

from ..domain import (
    ACTIVE,
    IN_LEGAL,
    LEGAL_CLOSED,
    MINUTES_PER_DAY,
    NO_AGENT,
    NO_OUTCOME,
    Channel,
    PaymentKind,
)
from ..scenario import TeamSection
from .book import Book
from .context import Context
from .teams import Teams

DAY = MINUTES_PER_DAY
LEGAL_CODE = int(Channel.LEGAL)
FILING_MINUTE = 9 * 60  # a filing is logged at 09:00 of its day


class Legal:
    """The legal queue, filings and resolutions."""

    def __init__(self, ctx: Context, book: Book, teams: Teams, rng: np.random.Generator):
        self.ctx = ctx
        self.book = book
        self.teams = teams
        self.rng = rng
        self.queue: deque[int] = deque()
        self.resolutions: dict[int, list[tuple[int, TeamSection]]] = defaultdict(list)

    def refer(self, idx: np.ndarray) -> None:
        """Accounts the ladder refers to legal join the queue in priority order."""
        order = self.book.call_order(idx)
        for i in idx[order].tolist():
            self.book.legal_queued[i] = True
            self.queue.append(i)

    def day(self, day: int) -> None:
        """File today's cases, then resolve the cases whose delay ends today."""
        for team in self.teams.legal:
            if self.teams.works_today(team, day):
                self._file(team.name, team.spec, day)
        for i, spec in self.resolutions.pop(day, []):
            self._resolve(i, spec, day)

    def _file(self, name: str, spec: TeamSection, day: int) -> None:
        ctx, book = self.ctx, self.book
        filed = 0
        while self.queue and filed < spec.filings_per_day:
            i = self.queue.popleft()
            if book.status[i] != ACTIVE:
                continue
            book.status[i] = IN_LEGAL
            book.filed.add(i)
            book.in_plan[i] = False
            filed += 1
            ctx.tally.contacts[day, LEGAL_CODE] += 1  # the series' column is the channel's code
            ctx.charge(day, "legal_filing", i, ctx.costs.legal_filing)
            if ctx.ledger is not None:
                ctx.ledger.file(name, i, day)
            ctx.log.add(i, day * DAY + FILING_MINUTE, LEGAL_CODE, NO_OUTCOME, NO_AGENT, 0.0)
            self.resolutions[day + spec.filing_delay_days].append((i, spec))

    def _resolve(self, i: int, spec: TeamSection, day: int) -> None:
        ctx, book = self.ctx, self.book
        recovered = 0.0
        u = self.rng.random() if ctx.draws is None else ctx.draws.legal.draw(i)[0]
        if u < spec.legal_success:
            recovered = round(book.balance[i] * spec.recovery_share, 2)
        book.collect(i, recovered, day, PaymentKind.LEGAL, minute=ctx.env.now)
        ctx.charge(day, "agency_commission", i, recovered * ctx.costs.agency_commission)
        book.write_off(i, day)
        book.status[i] = LEGAL_CLOSED
        book.filed.discard(i)
