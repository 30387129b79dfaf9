"""An open book: new delinquent accounts entering every day, and the warm-up before the measured days.

**Arrivals.** A real card book sees new delinquent accounts every day: each
billing cycle's cardholders who miss their minimum due reach 1 day past due
on the day after their due date, and issuers spread due dates over the whole
month. Each day's number is the sum of many independent, rare misses, so it
is Poisson with mean ``per_month / 30`` (the law of rare events), which is
what :func:`sim.portfolio.generate_arrivals` draws for every day of the run,
weekends and holidays included (due dates fall on any day). Spreading them
evenly by billing cycle would remove that day-to-day noise, which capacity
planning has to live with.

All arrivals of the run are drawn up front on their own stream
(``arrivals``), so the book's other streams do not move when arrivals are
added, and their rows are preallocated after the book's, in order of entry,
held out of the book (owing nothing, worked by nothing) until their day
(:meth:`Book.hold_back`, :meth:`Book.admit`). Entering is one slice a day;
nothing is ever appended or reallocated. Each day's array work runs on the
live rows (:meth:`Book.active_rows`): rows not yet entered, and rows closed,
cost nothing a day but a sum of all balances (the repayment draws are
numbered by row and day, :class:`sim.streams.RowDayUniforms`, and drawn for
the live rows only).

**Warm-up.** ``simulation.warmup_days`` are simulated before ``start_date``
and left out of every KPI, series and cost (:class:`MeasuredStart` is what
the measured days start from). With an open book, teams given
``agents_per_1000`` are staffed on the book at the start of the measured
days (:func:`restaff`), a fractional size by a part-time last agent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..domain import ACTIVE, IN_LEGAL
from ..portfolio import Portfolio, concatenate, generate_arrivals
from ..scenario import Scenario, scaled_agents, team_part_time_share
from ..streams import RandomStreams
from .teams import Teams

ARRIVALS_STREAM = "arrivals"


class Arrivals:
    """The run's arrivals: which rows enter on which day (rows ``first_row`` on, in order of entry)."""

    def __init__(self, first_row: int, entry_day: np.ndarray, total_days: int):
        self.first_row = first_row
        self.entry_day = entry_day
        # bounds[d] .. bounds[d + 1] are the rows entering on day d.
        self.bounds = first_row + np.searchsorted(entry_day, np.arange(total_days + 1), side="left")
        self.count_by_day = np.diff(self.bounds)

    @property
    def rows(self) -> slice:
        return slice(self.first_row, self.first_row + self.entry_day.size)

    def enter(self, book, day: int) -> tuple[int, float]:
        """Admit day ``day``'s arrivals into the book; returns how many entered and their balance."""
        start, stop = int(self.bounds[day]), int(self.bounds[day + 1])
        if stop == start:
            return 0, 0.0
        return stop - start, book.admit(slice(start, stop))

    def entered_on_day(self, rows: int) -> np.ndarray:
        """Each row's engine day of entry (0 for the book at the start)."""
        out = np.zeros(rows, dtype=np.int32)
        out[self.rows] = self.entry_day
        return out


def with_arrivals(scenario: Scenario, portfolio: Portfolio, streams: RandomStreams) -> tuple[Portfolio, Arrivals | None]:
    """The book the engine holds: the portfolio, then every arrival of the run (None without ``[arrivals]``)."""
    if scenario.arrivals is None:
        return portfolio, None
    first_id = int(portfolio.account_id.max()) + 1 if len(portfolio) else 0
    # Per 1,000 accounts of this book (a CSV's own count, like its scaled teams), not simulation.accounts.
    arrived, entry_day = generate_arrivals(scenario, streams[ARRIVALS_STREAM], first_id, portfolio.segment_names,
                                           book_accounts=len(portfolio))
    return concatenate(portfolio, arrived), Arrivals(len(portfolio), entry_day, scenario.simulation.total_days)


@dataclass(frozen=True)
class MeasuredStart:
    """The book when the measured days start (the end of the warm-up, or day 0): what the KPIs count from.

    ``in_book``: rows in collection then, delinquent or in legal (with no
    warm-up: every account of the starting book, as a closed cohort counts
    them); ``delinquent``: rows delinquent then (with no warm-up: days past due
    > 0 at the start). Accounts that cured during the warm-up still owe their
    card balance but are out of collection, so out of the measured book.
    """

    day: int
    in_book: np.ndarray
    delinquent: np.ndarray
    balance: np.ndarray  # each row's balance then
    past_due: np.ndarray
    days_past_due: np.ndarray
    collected: float  # the run's totals so far (the warm-up's)
    written_off: float
    interest_and_fees: float
    arrived_balance: float
    cost_by_item: dict[str, float]

    @classmethod
    def take(cls, book, day: int, arrived_balance: float, cost_by_item: dict[str, float]) -> MeasuredStart:
        rows = book.balance.size
        entered = np.arange(rows) < book.entered
        if day == 0:
            in_book = entered
            delinquent = entered & (book.portfolio.days_past_due > 0)
        else:
            delinquent = entered & (book.status == ACTIVE) & (book.dpd > 0)
            in_book = delinquent | (entered & (book.status == IN_LEGAL))
        return cls(day=day, in_book=in_book, delinquent=delinquent, balance=book.balance.copy(),
                   past_due=book.past_due.copy(), days_past_due=book.dpd.copy(),
                   collected=book.collected_total, written_off=book.written_off_total,
                   interest_and_fees=book.interest_and_fees_total, arrived_balance=arrived_balance,
                   cost_by_item=dict(cost_by_item))

    @property
    def balance_owed(self) -> float:
        """What the measured book owed when the measured days started."""
        return float(self.balance[self.in_book].sum())

    @property
    def owed_by_all(self) -> float:
        """What every account the run had seen owed then (cured accounts too): the money check's opening."""
        return float(self.balance.sum())


def restaff(scenario: Scenario, teams: Teams, accounts_in_book: int) -> dict[str, int]:
    """Teams given ``agents_per_1000`` staffed on ``accounts_in_book``; returns the agents added by team."""
    added = {}
    for name, spec in scenario.teams.items():
        if spec.agents_per_1000 is None or spec.kind == "legal":
            continue
        added[name] = teams.resize(name, scaled_agents(spec.agents_per_1000, accounts_in_book),
                                   team_part_time_share(spec, accounts_in_book))
    return added
