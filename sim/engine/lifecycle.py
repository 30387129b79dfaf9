"""After charge-off: placement with a collection agency, suits through attorneys on contingency, debt sale.

At charge-off the lender writes the balance off, but the consumer still owes
it. The ladder's steps after charge-off (``channel = "agency"``,
``"attorney"``, ``"debt_sale"``, each ``after_charge_off_days`` after the
account's charge-off) decide what happens to that debt:

* **agency**: the account is placed with a collection agency for the months of
  its ``recovery_curve``; the agency collects and keeps ``contingency_fee`` of
  what it collects (a cost of the run); at the end of the term it returns what
  it did not collect. From the placement day the agency's rules apply to the
  account (``[compliance] lender_preset`` switches to ``preset``: :mod:`.standing`).
* **attorney**: the account is sued through an attorney network on contingency;
  the lender pays the ``court_cost`` when the suit is filed, and the judgments
  and garnishments that follow collect by the step's ``recovery_curve``.
* **debt_sale**: the account is sold at ``price`` per unit of what it owes: the
  price is cash on the sale day and the account leaves the book for good.

An account is with one of them at a time, and each step acts on an account at
most once. The curve is a cohort's: ``recovery_curve[m]`` is the share of the
placed balance collected in month m + 1 of the term. Account by account, a
consumer settles what they owe in full in month m + 1 with probability
``recovery_curve[m]`` (so the cohort's dollars follow the curve), on a day
drawn from the ``lifecycle`` stream at a constant daily hazard within the month.

Money: a recovery is cash (``collected``) and reverses that much of the
charge-off loss (``written_off`` is net of recoveries), so the run's money
stays conserved; the fees and court costs are costs, so ``net_recovery``
(collected − cost) counts them once. Imports :mod:`sim.domain`, the book and
the run's :class:`~sim.engine.context.Context`.
"""

from __future__ import annotations

import numpy as np

from ..domain import PaymentKind
from ..scenario import Step
from .book import Book
from .context import Context

NEVER = -(10**6)
DAYS_PER_MONTH = 30  # a month of the recovery curve, as the book's buckets count it
# Where a charged-off account is: with the lender (written off, not placed or returned), with an agency, with an
# attorney, sold, or settled in full after charge-off.
WITH_LENDER, WITH_AGENCY, WITH_ATTORNEY, SOLD, SETTLED = 0, 1, 2, 3, 4
STAGE_OF = {"agency": WITH_AGENCY, "attorney": WITH_ATTORNEY}
KIND_OF = {"agency": int(PaymentKind.AGENCY), "attorney": int(PaymentKind.LEGAL)}
FEE_ITEM = {"agency": "agency_fee", "attorney": "attorney_fee"}


def daily_hazards(curve: list[float]) -> np.ndarray:
    """Each month's daily chance that a consumer not yet settled settles: month m's share of the placed
    accounts over those still owing at its start, spread as a constant hazard over its 30 days."""
    curve = np.asarray(curve, dtype=np.float64)
    left = 1.0 - np.concatenate(([0.0], np.cumsum(curve)[:-1]))
    monthly = np.divide(curve, left, out=np.ones_like(curve), where=left > 1e-12)
    return 1.0 - (1.0 - np.minimum(monthly, 1.0)) ** (1.0 / DAYS_PER_MONTH)


class AfterChargeOff:
    """The charged-off accounts, where each one is, and the steps after charge-off acting on them."""

    def __init__(self, ctx: Context, book: Book, steps: list[tuple[int, Step]],
                 static_masks: list[np.ndarray | None], rng: np.random.Generator, days: int):
        self.ctx = ctx
        self.book = book
        self.steps = steps
        self.static_masks = [static_masks[s] for s, _ in steps]
        self.rng = rng
        n = book.n
        self.charged_off_day = np.full(n, NEVER, dtype=np.int32)
        self.owed = np.zeros(n)  # what a charged-off account still owes: written off, not forgiven
        self.stage = np.zeros(n, dtype=np.int8)
        self.placed_day = np.zeros(n, dtype=np.int32)
        self.placed_with = np.full(n, -1, dtype=np.int16)  # the step (index into ``steps``) holding the account
        self.done = np.zeros((len(steps), n), dtype=bool)
        self.charged: list[np.ndarray] = []  # positions charged off, in order (the only rows these steps read)
        self.hazards = [daily_hazards(step.recovery_curve) if step.recovery_curve else None for _, step in steps]
        self.cash = {name: np.zeros(days) for name in ("agency", "attorney", "debt_sale")}
        self.count = {name: np.zeros(days, dtype=np.int64) for name in ("agency", "attorney", "debt_sale")}
        self.spent = {item: np.zeros(days) for item in ("agency_fee", "attorney_fee", "court_cost")}
        self.standing = None  # sim.engine.standing.Standing, set by the engine when the run has one

    def charged_off(self, idx: np.ndarray, owed: np.ndarray, day: int) -> None:
        """Accounts charged off today (before their write-off): what they still owe, and from when."""
        self.charged_off_day[idx] = day
        self.owed[idx] = owed
        self.charged.append(idx.copy())

    def _rows(self) -> np.ndarray:
        if len(self.charged) > 1:
            self.charged = [np.concatenate(self.charged)]
        return self.charged[0] if self.charged else np.zeros(0, dtype=np.int64)

    # ------------------------------------------------------------------------- the morning: steps act

    def morning(self, day: int) -> None:
        """Each step after charge-off takes the accounts that reached it and are with the lender."""
        rows = self._rows()
        if rows.size == 0:
            return
        for k, (_, step) in enumerate(self.steps):
            idx = self._eligible(k, step, rows, day)
            if idx.size == 0:
                continue
            self.done[k, idx] = True
            self.count[step.channel][day] += idx.size
            if step.channel == "debt_sale":
                self._sell(idx, step, day)
            else:
                self._place(k, idx, step, day)

    def _eligible(self, k: int, step: Step, rows: np.ndarray, day: int) -> np.ndarray:
        ok = self.stage[rows] == WITH_LENDER
        ok &= self.charged_off_day[rows] <= day - step.after_charge_off_days
        ok &= ~self.done[k, rows]
        owed = self.owed[rows]
        ok &= owed > 0
        ok &= owed >= step.min_balance
        if step.max_balance is not None:
            ok &= owed < step.max_balance
        static = self.static_masks[k]
        if static is not None:
            ok &= static[rows]
        return rows[ok]

    def _place(self, k: int, idx: np.ndarray, step: Step, day: int) -> None:
        """With an agency or an attorney for the curve's months; a suit's court costs are paid now."""
        self.stage[idx] = STAGE_OF[step.channel]
        self.placed_day[idx] = day
        self.placed_with[idx] = k
        if step.channel == "attorney" and step.court_cost:
            self.ctx.charge(day, "court_cost", idx, step.court_cost, idx.size)
            self.spent["court_cost"][day] += step.court_cost * idx.size
        if step.channel == "agency" and self.standing is not None:
            self.standing.place(idx, day)  # the agency's rules from today (Regulation F binds collectors)

    def _sell(self, idx: np.ndarray, step: Step, day: int) -> None:
        """Sold at the price per unit owed: cash today, and the account leaves the book for good."""
        owed = self.owed[idx]
        # To the cent, and never more than is owed: at a price near 1 rounding up would collect money that
        # was never lent (and leave a negative loss written off).
        price = np.minimum(np.round(step.price * owed, 2), owed)
        self._recover(idx, price, day, int(PaymentKind.SALE), "debt_sale")
        self.owed[idx] = 0.0  # the buyer owns the rest; the lender's loss on it stays written off
        self.stage[idx] = SOLD

    # ------------------------------------------------------------------------- the evening: recoveries

    def evening(self, day: int) -> None:
        """Placed accounts that settle today pay the agency or the attorney, who keeps the fee; a term that
        ends today returns the rest to the lender."""
        rows = self._rows()
        if rows.size == 0:
            return
        placed = rows[(self.stage[rows] == WITH_AGENCY) | (self.stage[rows] == WITH_ATTORNEY)]
        if placed.size == 0:
            return
        placed.sort()  # the draws follow positions, whatever the order of charge-off
        month = (day - self.placed_day[placed]) // DAYS_PER_MONTH
        step_of = self.placed_with[placed]
        u = self.rng.random(placed.size)
        for k, (_, step) in enumerate(self.steps):
            hazards = self.hazards[k]
            if hazards is None:
                continue
            mine = step_of == k
            if not mine.any():
                continue
            m = month[mine]
            who = placed[mine]
            settles = (m < hazards.size) & (u[mine] < hazards[np.minimum(m, hazards.size - 1)])
            payers = who[settles]
            if payers.size:
                cash = self.owed[payers].copy()
                self._recover(payers, cash, day, KIND_OF[step.channel], step.channel)
                self._fee(payers, cash, step, day)
                self.owed[payers] = 0.0
                self.stage[payers] = SETTLED
            # The term ends after the curve's last month: the account goes back to the lender.
            ended = who[~settles & (day + 1 - self.placed_day[who] >= hazards.size * DAYS_PER_MONTH)]
            self.stage[ended] = WITH_LENDER

    def _fee(self, payers: np.ndarray, cash: np.ndarray, step: Step, day: int) -> None:
        """The agency's or attorney's contingency share of what it collected, account by account."""
        item = FEE_ITEM[step.channel]
        fees = step.contingency_fee * cash
        self.ctx.tally.add_cost(day, item, float(fees.sum()))
        self.spent[item][day] += float(fees.sum())
        if self.ctx.ledger is not None:
            self.ctx.ledger.charge(item, payers, fees)

    def _recover(self, idx: np.ndarray, cash: np.ndarray, day: int, kind: int, channel: str) -> None:
        self.book.recover(idx, cash, day, kind)
        self.cash[channel][day] += float(cash.sum())

    # ------------------------------------------------------------------------- what a manager reads

    def kpis(self, warmup: int) -> dict[str, float | int]:
        """The measured days' life after charge-off: accounts placed, sued and sold, what each brought in,
        and what the agencies and attorneys kept and the courts cost (these are also in ``cost_by_item``)."""
        def total(series: np.ndarray) -> float:
            return float(series[warmup:].sum())

        return {
            "placed_with_agency": int(self.count["agency"][warmup:].sum()),
            "sued": int(self.count["attorney"][warmup:].sum()),
            "sold": int(self.count["debt_sale"][warmup:].sum()),
            "agency_collected": total(self.cash["agency"]),
            "attorney_collected": total(self.cash["attorney"]),
            "sale_proceeds": total(self.cash["debt_sale"]),
            "agency_fees": total(self.spent["agency_fee"]),
            "attorney_fees": total(self.spent["attorney_fee"]),
            "court_costs": total(self.spent["court_cost"]),
        }
