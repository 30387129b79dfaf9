"""The account ledger: what each account brought in, cost, and left owing in one run.

The run's tally counts the whole book by day; the ledger keeps the same
money per account, which is what a valuation of treatments by simulation
needs (the optimizer weighs sample accounts up to their segments). It is
kept only when asked for (``simulate(..., ledger=True)``): collections and
variable spend by item as they happen, complaints, balances written off,
roll past 30 days past due, and at the end of the horizon each account's
balance and roll state. Agent work per account and
week (call and visit minutes by team, visits, legal filings) is read from the
contact log once the run is over, so the agents' hot loop pays nothing for it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

DAY = 1440
# Every variable cost item of the engine (all but agent pay, which the teams fix).
OFFER_TOTALS = ("made", "accepted", "kept", "forgiven", "cash_after_accepting")
SPEND_ITEMS = ("sms", "email", "letter", "field_visit", "legal_filing", "agency_commission", "complaint",
               "settlement_offer", "hardship_plan",  # the offers last: a run without them sums as before
               "agency_fee", "attorney_fee", "court_cost")  # after charge-off (sim/engine/lifecycle.py)


@dataclass
class AccountLedger:
    """Per-account totals of one run (arrays indexed by account position).

    ``minutes[team]`` and ``work[team]`` are (weeks, accounts): agent minutes
    on calls, callbacks and visits, and units of work (dial attempts and
    answered callbacks for call teams, visits for field teams, filings for
    legal teams).
    """

    accounts: int
    days: int
    collected: np.ndarray = field(init=False)
    spend: dict[str, np.ndarray] = field(init=False)
    complaints: np.ndarray = field(init=False)
    written_off: np.ndarray = field(init=False)  # balance charged off (or closed after legal) in the horizon
    rolled_past_30: np.ndarray = field(init=False)  # times the account reached 31 days past due
    minutes: dict[str, np.ndarray] = field(default_factory=dict)
    work: dict[str, np.ndarray] = field(default_factory=dict)
    balance_end: np.ndarray | None = None
    state_end: np.ndarray | None = None
    day_offset: int = 0  # engine days before the first counted one (a warm-up): weeks count from there
    # Per kind of offer (sim/engine/offers.py), per account: offers made, accepted, kept, the amount forgiven and
    # the cash paid after accepting; None unless a ladder step makes offers.
    offers: dict[str, dict[str, np.ndarray]] | None = None

    def track_offers(self, kinds) -> None:
        self.offers = {kind: {what: np.zeros(self.accounts) for what in OFFER_TOTALS} for kind in kinds}

    def offer(self, kind: str, what: str, accounts, amount=1.0) -> None:
        np.add.at(self.offers[kind][what], accounts, amount)

    def __post_init__(self) -> None:
        n = self.accounts
        self.collected = np.zeros(n)
        self.spend = {item: np.zeros(n) for item in SPEND_ITEMS}
        self.complaints = np.zeros(n, dtype=np.int64)
        self.written_off = np.zeros(n)
        self.rolled_past_30 = np.zeros(n, dtype=np.int64)

    @property
    def weeks(self) -> int:
        return math.ceil(self.days / 7)

    def collect(self, accounts, amount) -> None:
        np.add.at(self.collected, accounts, amount)

    def charge(self, item: str, accounts, amount) -> None:
        np.add.at(self.spend[item], accounts, amount)

    def complaint(self, account: int) -> None:
        self.complaints[account] += 1

    def write_off(self, accounts, amount) -> None:
        np.add.at(self.written_off, accounts, amount)

    def file(self, team: str, account: int, day: int) -> None:
        self._cube(self.work, team)[min(day - self.day_offset, self.days - 1) // 7, account] += 1.0

    def _cube(self, table: dict[str, np.ndarray], team: str) -> np.ndarray:
        if team not in table:
            table[team] = np.zeros((self.weeks, self.accounts))
        return table[team]

    def add_agent_work(self, team_of_agent: list[str], rows: np.ndarray) -> None:
        """Agent contacts from the contact log: columns account, minute, agent, duration."""
        if rows.size == 0:
            return
        account = rows[:, 0].astype(np.int64)
        week = np.minimum(rows[:, 1] // DAY, self.days - 1).astype(np.int64) // 7
        agent = rows[:, 2].astype(np.int64)
        duration = rows[:, 3]
        # Each team's rows in their order (a stable sort by the team's number), the teams in the order their first
        # rows come: one pass over the rows, not one a team (a valuation's runs made together have dozens).
        number = {team: k for k, team in enumerate(dict.fromkeys(team_of_agent))}
        names = list(number)
        code = np.array([number[team] for team in team_of_agent], dtype=np.int64)[agent]
        order = np.argsort(code, kind="stable")
        code = code[order]
        starts = np.flatnonzero(np.r_[True, code[1:] != code[:-1]])
        ends = np.r_[starts[1:], code.size]
        for a, b in sorted(zip(starts.tolist(), ends.tolist(), strict=True), key=lambda span: order[span[0]]):
            mine = order[a:b]
            team = names[code[a]]
            np.add.at(self._cube(self.minutes, team), (week[mine], account[mine]), duration[mine])
            np.add.at(self._cube(self.work, team), (week[mine], account[mine]), 1.0)

    @property
    def total_spend(self) -> np.ndarray:
        return sum(self.spend.values(), np.zeros(self.accounts))
