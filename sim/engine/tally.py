"""What a run counts, by day, and the outcome the metrics read at the end.

:class:`Tally` holds the daily series every part adds to (money, contacts by
channel, call outcomes, refusals, the inbound queue, agent minutes, promises,
plans, disputes, complaints, roll counts). :class:`RunOutcome` is everything
:func:`sim.metrics.build_result` needs once the run is over, as one explicit
object instead of the engine's attributes. Imports only :mod:`sim.domain`
(and the types it names).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, fields, replace
from typing import TYPE_CHECKING

import numpy as np

from ..contact_log import ContactLogBuilder
from ..domain import ALL_CHANNELS, CALL_OUTCOMES, ROLL_STATES
from ..history import PaymentLogBuilder
from ..ledger import AccountLedger
from ..portfolio import Portfolio
from ..scenario import Scenario

if TYPE_CHECKING:
    from .arrivals import MeasuredStart


@dataclass
class Tally:
    """Everything a run counts; turned into KPIs and series by ``metrics``."""

    days: int
    collected: np.ndarray = field(init=False)
    interest_and_fees: np.ndarray = field(init=False)
    written_off: np.ndarray = field(init=False)
    cost: np.ndarray = field(init=False)
    outstanding_by_bucket: np.ndarray = field(init=False)
    contacts: np.ndarray = field(init=False)  # (days, channels): columns are sim.domain.Channel values
    call_outcomes: np.ndarray = field(init=False)  # (days, 3): columns are sim.domain.CallOutcome values
    refusals: np.ndarray = field(init=False)
    inbound_arrivals: np.ndarray = field(init=False)
    inbound_answered: np.ndarray = field(init=False)
    inbound_within_target: np.ndarray = field(init=False)
    inbound_abandoned: np.ndarray = field(init=False)
    inbound_waited: np.ndarray = field(init=False)
    inbound_wait: np.ndarray = field(init=False)
    agent_busy: np.ndarray = field(init=False)
    agent_paid: np.ndarray = field(init=False)
    promises_made: np.ndarray = field(init=False)
    promises_kept: np.ndarray = field(init=False)
    promises_broken: np.ndarray = field(init=False)
    plans_started: np.ndarray = field(init=False)
    disputes: np.ndarray = field(init=False)
    complaints: np.ndarray = field(init=False)
    payments: np.ndarray = field(init=False)
    rolled_past_30: np.ndarray = field(init=False)
    arrivals: np.ndarray = field(init=False)  # accounts entering the book (an open book)
    cost_by_item: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    roll_counts: np.ndarray = field(init=False)  # (states, states): sim.domain.RollState at month start → end
    # Further KPIs of an optional part, read at the end (sim.engine.standing: accounts excluded, opt-outs…).
    extra_kpis: object = None

    def __post_init__(self) -> None:
        d = self.days
        for name in ("collected", "interest_and_fees", "written_off", "cost", "inbound_wait",
                     "agent_busy", "agent_paid"):
            setattr(self, name, np.zeros(d))
        for name in ("refusals", "inbound_arrivals", "inbound_answered", "inbound_within_target",
                     "inbound_abandoned", "inbound_waited", "promises_made", "promises_kept", "promises_broken",
                     "plans_started", "disputes", "complaints", "payments", "rolled_past_30", "arrivals"):
            setattr(self, name, np.zeros(d, dtype=np.int64))
        self.outstanding_by_bucket = np.zeros((d, len(ROLL_STATES)))
        self.contacts = np.zeros((d, len(ALL_CHANNELS)), dtype=np.int64)
        self.call_outcomes = np.zeros((d, len(CALL_OUTCOMES)), dtype=np.int64)
        self.roll_counts = np.zeros((len(ROLL_STATES), len(ROLL_STATES)), dtype=np.int64)

    def add_cost(self, day: int, item: str, amount: float) -> None:
        if amount:
            self.cost[min(day, self.days - 1)] += amount
            self.cost_by_item[item] += amount

    def measured(self, first_day: int, cost_by_item_before: dict[str, float]) -> Tally:
        """The days from ``first_day`` on (after a warm-up), as a tally of their own.

        Daily series are cut; ``cost_by_item`` is what was spent since
        (``cost_by_item_before``: the warm-up's); roll counts are the measured
        days' already (the book counts them from the end of the warm-up).
        """
        out = replace(self, days=self.days - first_day)  # __post_init__ allocates; overwritten below
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, np.ndarray) and f.name != "roll_counts":
                setattr(out, f.name, value[first_day:])
        out.roll_counts = self.roll_counts
        spent = defaultdict(float)
        for item, amount in self.cost_by_item.items():
            left = amount - cost_by_item_before.get(item, 0.0)
            if left or item not in cost_by_item_before:
                spent[item] = left
        out.cost_by_item = spent
        return out


@dataclass(frozen=True)
class RunOutcome:
    """A finished run as the metrics read it: the tally, the money totals and the book at the horizon."""

    scenario: Scenario
    portfolio: Portfolio  # the book at the start
    days: int
    tally: Tally
    initial_balance: float
    collected: float
    written_off: float
    interest_and_fees: float
    balance: np.ndarray  # each account's balance at the horizon
    status: np.ndarray  # each account's sim.domain.Status at the horizon
    log: ContactLogBuilder
    agent_names: tuple[str, ...]
    ledger: AccountLedger | None
    receipts: PaymentLogBuilder | None = None  # the cash receipts, when the run keeps its history
    offers: dict | None = None  # the offers' KPIs (sim/engine/offers.py), when a ladder step makes offers
    after_charge_off: dict | None = None  # agency, attorney, sale (sim/engine/lifecycle.py), when the ladder has them
    # An open book or a warm-up (sim.engine.arrivals); a closed cohort without warm-up leaves these at rest.
    arrived_balance: float = 0.0  # balance of the accounts that entered during the measured days
    measured_start: MeasuredStart | None = None  # the book when the measured days started
    warmup: int = 0  # days simulated before the measured ones
    first_day: dt.date | None = None  # the engine's day 0 (the warm-up's first day)
    entered_day: np.ndarray | None = None  # each row's engine day of entry (arrivals)

    @property
    def accounts(self) -> int:
        return int(self.balance.size)
