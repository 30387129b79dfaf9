"""The plan as a collections manager reads it: who gets what, how often, what it does to the book, at what cost.

Everything here is read off the valuation the LP solved with (the same
segments, treatments and expected outcomes), for the returned plan and, side
by side, for the scenario's own ladder given to every segment — so the two
are compared on the same footing:

* treatments by days-past-due bucket (accounts per treatment);
* contacts per account per month by channel the treatments' cadences imply
  in each bucket (what the plan asks for; the engine then skips what the
  contact rules refuse and accounts that pay leave, so fewer are made);
* the roll it predicts: the share of the 1–30 accounts that reach 31 days
  past due within the horizon (bureau reporting, IFRS 9 stage 2), the
  balance left by state at the horizon and the balance written off;
* the cost to collect a dollar: variable spend plus the teams' pay over the
  horizon (fixed, the same for both) over the collections.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from sim.domain import ROLL_STATES
from sim.scenario import Scenario

from .lp import team_capacity
from .plan import Plan
from .segments import BUCKET_DPD
from .valuation import Valuation

BUCKET_NAMES = ("current", "1-30", "31-60", "61-90", "91-120", "121-150", "151-180")


def contacts_per_month(treatment, bucket: int) -> dict[str, float]:
    """Contacts a month by channel a treatment's steps ask for in a bucket (the most frequent step wins)."""
    lo, hi = BUCKET_DPD[bucket]
    out: dict[str, float] = {}
    for step in treatment.steps:
        if step.after_charge_off or step.to_dpd < lo or step.from_dpd > hi or step.channel == "legal":
            continue
        per_month = 30.0 / step.every_days * (step.attempts_per_day if step.channel == "call" else 1)
        out[step.channel] = max(out.get(step.channel, 0.0), per_month)
    return out


def _book(valuation: Valuation, shares: np.ndarray, accounts: np.ndarray, scenario: Scenario,
          pay: float) -> dict[str, Any]:
    """What an allocation (shares per segment and treatment) does to the book, by the valuation."""
    segments = valuation.segments
    early = segments.bucket == 1
    collected = float((valuation.collected * shares).sum())
    spend = float((valuation.spend * shares).sum())
    out: dict[str, Any] = {"collected": collected, "variable_spend": spend,
                           "cost_to_collect_a_dollar": (spend + pay) / collected if collected > 0 else None}
    if valuation.rolled_past_30 is not None:
        early_accounts = float(accounts[early].sum())
        rolled = float((valuation.rolled_past_30 * shares)[early].sum())
        out["rolled_past_30"] = float((valuation.rolled_past_30 * shares).sum())
        out["roll_1_30_past_30"] = rolled / early_accounts if early_accounts > 0 else None
        balance = (valuation.balance_end * shares[:, :, None]).sum(axis=(0, 1))
        out["balance_at_horizon"] = {state: float(balance[k]) for k, state in enumerate(ROLL_STATES)
                                     if state != "charged_off"}
        out["written_off"] = float((valuation.written_off * shares).sum())
    if valuation.horizon is not None:
        out["horizon_value"] = float((valuation.horizon * shares).sum())
    return out


def team_pay(scenario: Scenario, days: int) -> float:
    """What the call and field teams are paid over the horizon (paid minutes × ``[costs] agent_minute``)."""
    minutes = sum(c for (team, _), c in team_capacity(scenario, days).items()
                  if scenario.teams[team].kind != "legal")
    return minutes * scenario.costs.agent_minute


def plan_summary(plan: Plan, valuation: Valuation, scenario: Scenario, own: int) -> dict[str, Any]:
    """The ``"summary"`` of the plan's JSON: by bucket, contacts, roll, cost to collect — plan and own ladder."""
    if plan.shares is None:
        return {}
    segments = valuation.segments
    accounts = segments.accounts.astype(float)
    counts = plan.counts
    by_bucket = {}
    for bucket in range(1, 7):
        rows = np.flatnonzero(segments.bucket == bucket)
        if rows.size == 0:
            continue
        total = float(accounts[rows].sum())
        treatments = {}
        contacts: dict[str, float] = {}
        for t in np.flatnonzero(counts[rows].sum(axis=0)):
            n = int(counts[rows, t].sum())
            treatments[plan.treatments[t].name] = n
            for channel, per_month in contacts_per_month(plan.treatments[t], bucket).items():
                contacts[channel] = contacts.get(channel, 0.0) + per_month * n / total
        by_bucket[BUCKET_NAMES[bucket]] = {
            "accounts": int(total),
            "treatments": dict(sorted(treatments.items(), key=lambda kv: -kv[1])),
            "uncontacted": int(sum(n for name, n in treatments.items() if name == "none")),
            "contacts_per_account_per_month": {ch: round(v, 2) for ch, v in contacts.items()}}
    pay = team_pay(scenario, valuation.days)
    ladder = np.zeros_like(plan.shares)
    ladder[:, own] = 1.0
    return {"by_bucket": by_bucket, "team_pay": pay,
            "plan": _book(valuation, plan.shares, accounts, scenario, pay),
            "own_ladder": {"name": scenario.strategy.name, **_book(valuation, ladder, accounts, scenario, pay)}}


def format_summary(summary: dict[str, Any]) -> list[str]:
    """The summary as the lines of the text report."""
    if not summary:
        return []
    lines = ["\nthe plan by days-past-due bucket (accounts by treatment; contacts per account a month asked for):"]
    for bucket, row in summary["by_bucket"].items():
        given = ", ".join(f"{name} {n:,}" for name, n in row["treatments"].items())
        asked = ", ".join(f"{ch} {v:g}" for ch, v in row["contacts_per_account_per_month"].items()) or "none"
        lines.append(f"  {bucket:<8} {row['accounts']:>6,} accounts: {given}")
        lines.append(f"  {'':<8} {'':>6}  contacts a month: {asked}; uncontacted {row['uncontacted']:,}")
    plan, ladder = summary["plan"], summary["own_ladder"]
    lines.append(f"\n{'predicted over the horizon':<44} {'plan':>14} {'ladder ' + ladder['name']:>20}")

    def row(label: str, key: str, fmt: str) -> None:
        a, b = plan.get(key), ladder.get(key)
        if a is None or b is None:
            return
        lines.append(f"  {label:<42} {format(a, fmt):>14} {format(b, fmt):>20}")

    row("collections", "collected", ",.0f")
    row("variable spend", "variable_spend", ",.0f")
    row("cost to collect a dollar (with team pay)", "cost_to_collect_a_dollar", ".3f")
    row("1-30 accounts reaching 31 days past due", "roll_1_30_past_30", ".1%")
    row("accounts reaching 31 days past due", "rolled_past_30", ",.0f")
    row("written off", "written_off", ",.0f")
    row("value of the book at the horizon", "horizon_value", ",.0f")
    for state in plan.get("balance_at_horizon", {}):
        lines.append(f"  {'balance at the horizon, ' + state:<42} {plan['balance_at_horizon'][state]:>14,.0f} "
                     f"{ladder['balance_at_horizon'][state]:>20,.0f}")
    return lines
