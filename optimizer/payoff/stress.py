"""A budget that drops (a job lost, hours cut): what it does to each plan and what would keep it on track.

``--stress "from=2027-03,drop=0.4"``: from that month on (a ``YYYY-MM`` or a
plan month), the budget is 40 % lower than planned (every later budget
change too; one-off extras still arrive). Each plan is booked again on the
same engine, and the advisor sees the months with a minimum unpaid, the late
fees and the interest that follow, the new debt-free date, and two budgets
from that month on (constant, found to the cent): the least that meets every
minimum, and the least that keeps the plan's original debt-free date.
"""

from __future__ import annotations

from dataclasses import dataclass

from sim.card_terms import to_cents
from sim.errors import InputError

from .amortisation import PayoffResult, simulate
from .model import MAX_MONTHS, DebtFile
from .target import least_cents

STRESSABLE = ("avalanche", "snowball", "custom", "minimum", "snowball_rerank")


@dataclass(frozen=True)
class Stress:
    """From plan month ``month`` the budget is ``1 - drop`` of what was planned."""

    month: int
    drop: float

    def label(self, debts: DebtFile) -> str:
        when = debts.calendar_month(self.month) or f"month {self.month}"
        return f"the budget falls by {self.drop:.0%} from {when}"


def parse_stress(text: str, debts: DebtFile) -> Stress:
    """``"from=2027-03,drop=0.4"`` (``from`` a month YYYY-MM or a plan month number; ``drop`` a share)."""
    fields: dict[str, str] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in ("from", "drop"):
            raise InputError("--stress", "", f"write it as from=YYYY-MM,drop=0.4 (from may be a plan month); got {text!r}")
        fields[key.strip()] = value.strip()
    if set(fields) != {"from", "drop"}:
        raise InputError("--stress", "", f"needs both from= and drop=, e.g. from=2027-03,drop=0.4; got {text!r}")
    try:
        drop = float(fields["drop"])
    except ValueError:
        drop = float("nan")
    if not 0 < drop <= 1:
        raise InputError("--stress", "drop", f"is the share the budget falls by, above 0 and at most 1 (0.4 for 40 %), "
                                             f"got {fields['drop']!r}")
    return Stress(_month(fields["from"], debts), drop)


def _month(text: str, debts: DebtFile) -> int:
    if text.isdigit():
        month = int(text)
    else:
        from .target import target_month

        month = target_month(debts, text, "--stress from")
    if not 1 <= month <= MAX_MONTHS:
        raise InputError("--stress", "from", f"must be a plan month from 1 to {MAX_MONTHS}, got {text!r}")
    return month


def stressed(debts: DebtFile, stress: Stress) -> DebtFile:
    """The debt file with the budget cut by ``stress.drop`` from ``stress.month`` on."""
    return _with_budget_from(debts, stress.month, lambda m: debts.budget_in_month(m) * (1 - stress.drop))


def _with_budget_from(debts: DebtFile, month: int, amount) -> DebtFile:
    """``debts`` with the budget from ``month`` on given by ``amount(m)`` at ``month`` and each later change."""
    changes = [c.model_dump() for c in debts.budget_changes if c.month < month]
    later = sorted({month, *(c.month for c in debts.budget_changes if c.month > month)})
    changes += [{"month": m, "amount": round(amount(m), 2)} for m in later]
    data = debts.model_dump(mode="json", exclude={"source"}, exclude_unset=True)
    data["budget_changes"] = changes
    return DebtFile.from_dict(data, source=debts.source)


@dataclass(frozen=True)
class StressOutcome:
    """One strategy planned as expected and again with the budget cut."""

    strategy: str
    planned: PayoffResult
    stressed: PayoffResult
    to_meet_minimums: float | None  # least constant budget from the stress month on (None: none up to the cap)
    to_stay_on_track: float | None  # ... that keeps the planned debt-free month (None: the plan never ends)

    @property
    def shortfall_months(self) -> list[int]:
        """Months with a minimum unpaid (the plan's own misses before the drop included)."""
        return sorted({m.month for m in self.stressed.missed})

    @property
    def late_fees(self) -> float:
        return sum(m.late_fee for m in self.stressed.missed) / 100

    def as_dict(self, debts: DebtFile) -> dict[str, object]:
        s = self.stressed
        return {
            "strategy": self.strategy,
            "status": s.status,
            "months": s.months,
            "debt_free": debts.calendar_month(s.months) if s.months else None,
            "planned_months": self.planned.months,
            "shortfall_months": self.shortfall_months,
            "late_fees": round(self.late_fees, 2),
            "total_interest": round(s.total_interest, 2),
            "total_fees": round(s.total_fees, 2),
            "extra_cost": round(s.total_interest + s.total_fees - self.planned.total_interest
                                - self.planned.total_fees, 2),
            "budget_to_meet_minimums": self.to_meet_minimums,
            "budget_to_stay_on_track": self.to_stay_on_track,
        }


def stress_plans(debts: DebtFile, stress: Stress, strategies: list[str] | tuple[str, ...]) -> list[StressOutcome]:
    """Each strategy (the LP's plan is stressed as avalanche: it has no rule for a shortfall) under ``stress``."""
    chosen = [s for s in strategies if s in STRESSABLE] or ["avalanche"]
    return [_stress_one(debts, stress, s) for s in chosen]


def _stress_one(debts: DebtFile, stress: Stress, strategy: str) -> StressOutcome:
    planned = simulate(debts, strategy)
    cut = simulate(stressed(debts, stress), strategy)
    cap = to_cents(max(debts.budget_in_month(m) for m in range(1, stress.month + 1))) * 4 + 100_000

    # Minimums missed before the drop are the plan's own, whatever the budget after it.
    def missed_after(plan: PayoffResult) -> bool:
        return any(m.month >= stress.month for m in plan.missed)

    def meets(cents: int) -> bool:
        return not missed_after(simulate(_with_budget_from(debts, stress.month, lambda m: cents / 100), strategy))

    def on_track(cents: int) -> bool:
        plan = simulate(_with_budget_from(debts, stress.month, lambda m: cents / 100), strategy)
        return plan.pays_off and not missed_after(plan) and plan.months <= planned.months

    minimums = least_cents(meets, cap)
    track = least_cents(on_track, cap) if planned.pays_off and planned.months >= stress.month else None
    return StressOutcome(strategy, planned, cut, None if minimums is None else minimums / 100,
                         None if track is None else track / 100)
