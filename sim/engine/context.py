"""What every part of one run shares: the scenario's sections, the clock, the tally, the logs, the ledger.

Built once by :class:`~sim.engine.Engine` and handed to each part, so that a
part's constructor says what else it needs (the book, the contact counters,
the teams) and nothing reaches back into the engine.
"""

from __future__ import annotations

from dataclasses import dataclass

import simpy

from ..compliance import ContactCalendar, ContactRules
from ..contact_log import ContactLogBuilder
from ..history import PaymentLogBuilder
from ..ledger import AccountLedger
from ..scenario import BehaviorSection, CostsSection, Scenario
from ..streams import AccountDraws
from .tally import Tally


@dataclass
class Context:
    """One run's shared state; ``draws`` is set when accounts draw from their own sequences (paired mode),
    ``receipts`` when the run keeps its cash receipts (``--payments-out``)."""

    scenario: Scenario
    env: simpy.Environment
    days: int
    behavior: BehaviorSection
    costs: CostsSection
    rules: ContactRules
    calendar: ContactCalendar
    tally: Tally
    log: ContactLogBuilder
    ledger: AccountLedger | None
    draws: AccountDraws | None
    receipts: PaymentLogBuilder | None = None

    def charge(self, day: int, item: str, accounts, unit_cost: float, count: int = 1) -> None:
        """A cost item of the run (in the tally by day) and, with a ledger, per account."""
        self.tally.add_cost(day, item, unit_cost * count)
        if self.ledger is not None:
            self.ledger.charge(item, accounts, unit_cost)
