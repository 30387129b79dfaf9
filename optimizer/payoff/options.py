"""What each way out of debt would do, next to carrying on as today, booked to the cent.

Every option of a debt file (:mod:`optimizer.payoff.option_terms`) becomes a
changed debt file — the debts it takes over replaced by what the client then
owes — and is repaid on the same engine (:func:`~optimizer.payoff.amortisation.simulate`)
with the same budget and strategy as today's plan. So the comparison is like
for like: months, interest, fees and money paid in all, with the same money
each month. What the booking assumes, per kind:

* a **consolidation loan** pays the debts off at once; the loan is the amount
  paid out plus the origination fee (deducted from what is paid out), repaid
  by its level payment (``pmt``, rounded up to the cent); money left in the
  budget goes by the strategy (prepaying the loan, without penalty, last);
* a **balance transfer** moves the named debts, in order, up to the card's
  limit (amount moved plus fee); the fee is charged in month 1, then the
  promotional rate, then the card's APR; the card's minimum is the US norm;
* a **debt management plan** re-prices the enrolled debts at the reduced APR,
  waives annual and penalty charges, asks a fixed payment of the payment
  share of each enrolled balance, and takes the program fee out of the
  budget every month until the enrolled debts are repaid;
* a **settlement** replaces the enrolled debts by the settled share (plus the
  settlement company's fee), without interest, saved up in equal parts and
  paid by the agreed month; the tax and credit-report effects are stated,
  not computed;
* an **instalment conversion** (账单分期) moves the amount converted off the
  card into equal monthly instalments of principal plus the monthly fee; the
  fees are due in full even if the instalments are repaid early.

A loan, a transfer and a conversion have a cost of credit: the internal rate
of return of the payments against the money paid out
(:mod:`optimizer.payoff.cost_of_credit`) — for a loan and a conversion their
payments as agreed (so fees count, prepayment does not), for a transfer the
payments the plan books on the card.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from sim.card_terms import CN_DAILY_RATE, DAYS_PER_YEAR, round_half_up, to_cents
from sim.errors import InputError

from .amortisation import PayoffResult, amortising_payment_cents, simulate
from .cost_of_credit import AnnualRates, credit_rates, fee_each_month, level_instalment
from .model import MAX_MONTHS, DebtFile
from .option_terms import Option

TODAY = "as_today"
SETTLEMENT_NOTES = (
    "In the US, forgiven debt of $600 or more is usually reported to the tax authority as income "
    "(Form 1099-C) and may be taxed; that is not computed here.",
    "A settled account is reported as settled for less than the full balance and hurts the credit "
    "report for years; creditors may charge late fees or sue while a settlement is negotiated.",
)


@dataclass(frozen=True)
class OptionOutcome:
    """One option booked month by month, with its cost of credit and the assumptions stated."""

    name: str
    kind: str
    plan: PayoffResult
    monthly_payment: int  # cents: what the client must pay in the first month (every minimum)
    rates: AnnualRates | None = None
    booked_fees: int = 0  # cents of fees carried in a balance (origination, conversion, settlement fees)
    outside_fees: int = 0  # cents paid beside the debts (a plan's program fee)
    notes: tuple[str, ...] = ()
    can_only_cost_more: bool = False

    @property
    def cost(self) -> int:
        """Interest and fees in cents: what the option costs beyond the money owed."""
        return round(self.plan.total_interest * 100) + self.fees_cents

    @property
    def fees_cents(self) -> int:
        return round(self.plan.total_fees * 100) + self.booked_fees + self.outside_fees

    @property
    def paid_cents(self) -> int:
        return round(self.plan.total_paid * 100) + self.outside_fees

    def as_dict(self) -> dict[str, Any]:
        """The issue's fields, in its order."""
        return {
            "name": self.name,
            "kind": self.kind,
            "months": self.plan.months,
            "total_interest": round(self.plan.total_interest, 2),
            "total_fees": self.fees_cents / 100,
            "total_paid": self.paid_cents / 100,
            "monthly_payment": self.monthly_payment / 100,
            "apr_nominal": None if self.rates is None else round(self.rates.nominal, 6),
            "apr_effective": None if self.rates is None else round(self.rates.effective, 6),
        }


@dataclass(frozen=True)
class OptionsComparison:
    """Carrying on as today, then every option, under one strategy and budget."""

    strategy: str
    today: OptionOutcome
    options: tuple[OptionOutcome, ...] = field(default_factory=tuple)

    def rows(self) -> list[OptionOutcome]:
        return [self.today, *self.options]

    def saving(self, outcome: OptionOutcome) -> int | None:
        """Cents of interest and fees saved against today (negative: it costs more); None if either never ends."""
        if not (outcome.plan.pays_off and self.today.plan.pays_off):
            return None
        saved = self.today.cost - outcome.cost
        return min(saved, 0) if outcome.can_only_cost_more else saved


# ----------------------------------------------------------------------------- changed debt files


def _data(debts: DebtFile) -> dict[str, Any]:
    data = debts.model_dump(mode="json", exclude={"source"}, exclude_unset=True)
    data.pop("options", None)
    return data


def _rebuilt(debts: DebtFile, data: dict[str, Any]) -> DebtFile:
    names = {d["name"] for d in data["debts"]}
    if data.get("custom_order"):
        data["custom_order"] = [n for n in data["custom_order"] if n in names] or None
        if data["custom_order"] is None:
            data.pop("custom_order")
    return DebtFile.from_dict(data, source=debts.source)


def _new_name(data: dict[str, Any], label: str) -> str:
    taken = {d["name"] for d in data["debts"]}
    name, n = label, 2
    while name in taken:
        name, n = f"{label} ({n})", n + 1
    return name


def _first_month_minimum(plan: PayoffResult) -> int:
    return sum(row.minimum for row in plan.schedule if row.month == 1)


def _payments_on(plan: PayoffResult, debt: str) -> list[int]:
    by_month = {row.month: row.payment for row in plan.schedule if row.debt == debt}
    return [by_month.get(m, 0) for m in range(1, max(by_month, default=0) + 1)]


def _credit(plan: PayoffResult, debt: str, received: int) -> AnnualRates | None:
    return credit_rates(received, _payments_on(plan, debt)) if received > 0 else None


def _something_owed(debts: DebtFile, option: Option, cents: int, what: str) -> None:
    if cents <= 0:
        index = list(debts.options).index(option)
        raise InputError(debts.source, f"options.{index}", f"{option.label}: the debts it takes over owe nothing {what}")


# ----------------------------------------------------------------------------- the kinds


def consolidation_loan(debts: DebtFile, option: Option, strategy: str) -> OptionOutcome:
    data = _data(debts)
    enrolled = option.enrolled([d.name for d in debts.debts])
    paid_out = sum(to_cents(d.balance) for d in debts.debts if d.name in enrolled)
    _something_owed(debts, option, paid_out, "to consolidate")
    # The origination fee is deducted from what the lender pays out: borrow enough to clear the debts.
    loan = math.ceil(paid_out / (1 - option.origination_fee))
    payment = amortising_payment_cents(loan, float(option.apr), int(option.months))
    name = _new_name(data, option.label)
    data["debts"] = [d for d in data["debts"] if d["name"] not in enrolled] + [
        {"name": name, "balance": loan / 100, "apr": option.apr, "minimum": {"fixed": payment / 100}}]
    plan = simulate(_rebuilt(debts, data), strategy)
    notes = (f"borrows {loan / 100:,.2f} to pay out {paid_out / 100:,.2f} "
             f"({', '.join(enrolled)}); {option.months} payments of {payment / 100:,.2f} at {option.apr:.2%}",)
    rates = credit_rates(paid_out, _loan_payments(loan, float(option.apr), payment))
    return OptionOutcome(option.label, option.kind, plan, _first_month_minimum(plan), rates,
                         booked_fees=loan - paid_out, notes=notes)


def _loan_payments(loan: int, apr: float, payment: int) -> list[int]:
    """The loan's payments as agreed (the level payment, the last one smaller): its APR with the fee."""
    payments, balance = [], loan
    rate = Fraction(str(apr)) / 12
    while balance > 0 and len(payments) < MAX_MONTHS:
        owed = balance + round_half_up(rate * balance)
        payments.append(min(payment, owed))
        balance = owed - payments[-1]
    return payments


def balance_transfer(debts: DebtFile, option: Option, strategy: str) -> OptionOutcome:
    data = _data(debts)
    enrolled = option.enrolled([d.name for d in debts.debts])
    room = math.floor(to_cents(option.limit) / (1 + option.fee)) if option.limit is not None else None
    # Debts move in the order the option lists them, until the limit is reached; the rest stay.
    taken: dict[str, int] = {}
    for debt_name in enrolled:
        cents = to_cents(next(d.balance for d in debts.debts if d.name == debt_name))
        taken[debt_name] = cents if room is None else max(0, min(cents, room - sum(taken.values())))
    moved = sum(taken.values())
    kept = []
    for debt in data["debts"]:
        left = to_cents(debt["balance"]) - taken.get(debt["name"], 0)
        if debt["name"] not in taken:
            kept.append(debt)
        elif left > 0:
            kept.append({**debt, "balance": left / 100})
    name = _new_name(data, option.label)
    card: dict[str, Any] = {"name": name, "balance": moved / 100, "apr": option.apr,
                            "balance_transfer_fee": option.fee}
    if option.promo_months > 0:
        card["promo"] = [{"months": option.promo_months, "apr": option.promo_apr}]
    data["debts"] = kept + ([card] if moved > 0 else [])
    plan = simulate(_rebuilt(debts, data), strategy)
    notes = [f"moves {moved / 100:,.2f} with a fee of {option.fee:.1%}; "
             + (f"{option.promo_apr:.2%} for {option.promo_months} months, then " if option.promo_months else "")
             + f"{option.apr:.2%}"]
    if room is not None and moved < sum(to_cents(d.balance) for d in debts.debts if d.name in enrolled):
        notes.append(f"the limit of {option.limit:,.2f} leaves part of the balance where it is")
    return OptionOutcome(option.label, option.kind, plan, _first_month_minimum(plan),
                         _credit(plan, name, moved), notes=tuple(notes),
                         can_only_cost_more=_transfer_only_costs_more(debts, option, enrolled))


def _transfer_only_costs_more(debts: DebtFile, option: Option, enrolled: list[str]) -> bool:
    """A fee, and in no month a lower rate than any debt it moves: it cannot save anything."""
    if option.fee <= 0:
        return False
    months = max([option.promo_months, *(d.promo_months for d in debts.debts)]) + 1
    for debt in debts.debts:
        if debt.name not in enrolled:
            continue
        for month in range(1, months + 1):
            rate = option.promo_apr if month <= option.promo_months else float(option.apr)
            if rate < debt.apr_in_month(month):
                return False
    return True


def debt_management_plan(debts: DebtFile, option: Option, strategy: str) -> OptionOutcome:
    data = _data(debts)
    enrolled = option.enrolled([d.name for d in debts.debts])
    for i, debt in enumerate(data["debts"]):
        if debt["name"] not in enrolled:
            continue
        own = debts.debts[i]
        rate = option.reduced_apr(debt["name"])
        payment = max(1, round(option.payment_share * to_cents(own.balance)))
        data["debts"][i] = {"name": own.name, "balance": own.balance,
                            "apr": own.base_apr if rate is None else rate,
                            "minimum": {"fixed": payment / 100}, "late_fee": own.late_fee}
    fee = to_cents(option.monthly_fee)
    plan = simulate(_rebuilt(debts, _less_budget(debts, data, fee, None)), strategy)
    ends = max((plan.payoff_months.get(n, plan.months_simulated) for n in enrolled), default=0)
    if fee > 0 and plan.pays_off:
        # The fee stops with the plan: book again with the budget whole after it.
        plan = simulate(_rebuilt(debts, _less_budget(debts, data, fee, ends)), strategy)
    payment = sum(max(1, round(option.payment_share * to_cents(d.balance))) for d in debts.debts
                  if d.name in enrolled)
    notes = (f"enrolls {', '.join(enrolled)}: a payment of {payment / 100:,.2f} a month "
             f"({option.payment_share:.2%} of the balance), a program fee of {fee / 100:,.2f} a month "
             f"for {ends} months; annual and penalty charges waived",)
    return OptionOutcome(option.label, option.kind, plan, _first_month_minimum(plan) + fee,
                         outside_fees=fee * ends, notes=notes)


def _less_budget(debts: DebtFile, data: dict[str, Any], fee: int, until: int | None) -> dict[str, Any]:
    """The budget less ``fee`` cents a month (up to month ``until``, else throughout)."""
    if fee == 0:
        return data

    def less(month: int) -> float:
        return max(0.0, (to_cents(debts.budget_in_month(month)) - fee) / 100)

    changes = {c.month: less(c.month) for c in debts.budget_changes if until is None or c.month <= until}
    if until is not None and until < MAX_MONTHS:
        changes[until + 1] = debts.budget_in_month(until + 1)
        changes.update({c.month: c.amount for c in debts.budget_changes if c.month > until})
    return {**data, "budget": less(1),
            "budget_changes": [{"month": m, "amount": a} for m, a in sorted(changes.items()) if m > 1]}


def settlement(debts: DebtFile, option: Option, strategy: str) -> OptionOutcome:
    data = _data(debts)
    enrolled = option.enrolled([d.name for d in debts.debts])
    month = int(option.month)
    forgiven = settled = fee = 0
    for i, debt in enumerate(data["debts"]):
        if debt["name"] not in enrolled:
            continue
        balance = to_cents(debts.debts[i].balance)
        pays = balance - round(float(option.forgiven) * balance)
        charge = round(option.fee * balance)
        forgiven, settled, fee = forgiven + balance - pays, settled + pays, fee + charge
        data["debts"][i] = {"name": debt["name"], "balance": (pays + charge) / 100, "apr": 0.0,
                            "minimum": {"fixed": max(1, math.ceil((pays + charge) / month)) / 100}}
    plan = simulate(_rebuilt(debts, data), strategy)
    notes = (f"{forgiven / 100:,.2f} forgiven; {settled / 100:,.2f} paid by month {month}, saved up in equal "
             f"parts" + (f", plus a fee of {fee / 100:,.2f}" if fee else ""), *SETTLEMENT_NOTES)
    return OptionOutcome(option.label, option.kind, plan, _first_month_minimum(plan), booked_fees=fee,
                         notes=notes)


def installment_conversion(debts: DebtFile, option: Option, strategy: str) -> OptionOutcome:
    data = _data(debts)
    index = next(i for i, d in enumerate(debts.debts) if d.name == option.debt)
    card = debts.debts[index]
    balance = to_cents(card.balance)
    principal = min(balance, to_cents(option.amount)) if option.amount is not None else balance
    _something_owed(debts, option, principal, "to convert")
    months = int(option.months)
    fee = fee_each_month(principal, option.monthly_fee)
    owed = principal + fee * months
    name = _new_name(data, option.label)
    rest = [] if principal == balance else [{**data["debts"][index], "balance": (balance - principal) / 100}]
    data["debts"] = data["debts"][:index] + rest + data["debts"][index + 1:] + [
        {"name": name, "balance": owed / 100, "apr": 0.0, "minimum": {"fixed": math.ceil(owed / months) / 100}}]
    plan = simulate(_rebuilt(debts, data), strategy)
    notes = [f"converts {principal / 100:,.2f} of {card.name} into {months} instalments of "
             f"{math.ceil(owed / months) / 100:,.2f} (a fee of {fee / 100:,.2f} a month, "
             f"{option.monthly_fee:.2%} of the principal)"]
    if card.convention == "cn":
        daily = card.daily_rate or CN_DAILY_RATE
        monthly = daily * DAYS_PER_YEAR / 12
        notes.append(f"the card's revolving interest (全额计息): {daily:.3%} a day, {daily * DAYS_PER_YEAR:.2%} "
                     f"nominal, {(1 + monthly) ** 12 - 1:.2%} effective a year")
    # The rate is the conversion's as agreed: equal parts of principal plus the fee, month by month.
    rates = credit_rates(principal, [part + fee for part in level_instalment(principal, months)])
    return OptionOutcome(option.label, option.kind, plan, _first_month_minimum(plan), rates,
                         booked_fees=fee * months, notes=tuple(notes))


KINDS = {
    "consolidation_loan": consolidation_loan,
    "balance_transfer": balance_transfer,
    "debt_management_plan": debt_management_plan,
    "settlement": settlement,
    "installment_conversion": installment_conversion,
}


def compare_options(debts: DebtFile, strategy: str = "avalanche") -> OptionsComparison:
    """Today's plan and every option of the file, booked with the same budget and ``strategy``.

    ``strategy`` is a heuristic (avalanche, snowball, snowball_rerank, custom,
    minimum): each option changes the debts, and the same rule repays them.
    """
    plan = simulate(debts, strategy)
    today = OptionOutcome("As today", TODAY, plan, _first_month_minimum(plan))
    return OptionsComparison(strategy, today, tuple(KINDS[o.kind](debts, o, strategy) for o in debts.options))
