"""The management report's offers part: what settlement and hardship offers cost and return.

A run whose ladder makes offers (:mod:`sim.engine.offers`) keeps their KPIs
under ``kpis["offers"]`` in the store. This module averages them over the
stored replications of each scenario and shows, per kind of offer: offers
made, accepted, kept and broken, the amount forgiven, what sending them cost,
the cash the accepted accounts paid after accepting and its NPV, and that NPV
against the loss given charge-off — what the same balances would still bring
once charged off and sold (``objective.written_off_value``). A positive
difference says the offer beat letting the accounts charge off; whether it
beat the ladder without the offer is the champion/challenger question.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .domain import OFFER_CHANNELS

ROWS = (("offers made", "made", "count"), ("accepted", "accepted", "count"), ("kept", "kept", "count"),
        ("broken", "broken", "count"), ("acceptance rate", "acceptance_rate", "pct"),
        ("balance when accepted", "balance_accepted", "money"), ("amount forgiven", "forgiven", "money"),
        ("cost of the offers", "cost", "money"), ("cash after accepting", "cash", "money"),
        ("NPV of that cash", "cash_npv", "money"),
        ("the same balances charged off (debt sale)", "value_if_charged_off", "money"),
        ("NPV against charge-off", "npv_vs_charge_off", "money"))
TITLES = {"settlement_offer": "settlement offer", "hardship_plan": "hardship plan"}
ASSUMPTION = ("Offers", "acceptance by days-past-due bucket times a factor by risk segment, the settlement's "
              "discount, pay window and keep rate, and the hardship plan's rate are assumptions (no public figure "
              "was found); a hardship plan of at most 60 months (FFIEC account-management guidance 2003) re-ages "
              "after three consecutive payments (FFIEC Uniform Retail Credit Classification 2000); a charged-off "
              "balance is valued at objective.written_off_value (debt-sale price, CFPB/FTC via NCLC)",
              "scenarios/README.md, section Offers")


def offer_means(data) -> list[tuple[str, dict[str, dict[str, float]]]]:
    """Per scenario with offers: its label and, per kind, each offer KPI's mean over the replications."""
    out = []
    for summary, runs in zip(data.comparison.scenarios, data.nested, strict=True):
        if not runs or any("offers" not in run for run in runs):
            continue
        kinds = {}
        for kind in OFFER_CHANNELS:
            if kind not in runs[0]["offers"]:
                continue
            rows = [{**run["offers"][kind], "cost": run.get("cost_by_item", {}).get(kind, 0.0)} for run in runs]
            kinds[kind] = {key: float(np.mean([_number(r.get(key)) for r in rows])) for _, key, _ in ROWS}
        out.append((summary.label, kinds))
    return out


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


def _show(value: float, how: str) -> str:
    if not math.isfinite(value):
        return "n/a"
    if how == "pct":
        return f"{100 * value:.1f} %"
    if how == "count":
        return f"{value:,.1f}" if value != int(value) else f"{value:,.0f}"
    return f"{value:,.0f}"


def format_offers(offers: dict[str, dict[str, float]], cost_by_item: dict[str, float]) -> str:
    """One run's offers as a text table (``python -m sim run``)."""
    kinds = list(offers)
    rows = [(title, [_show(_number({**offers[k], "cost": cost_by_item.get(k, 0.0)}.get(key)), how) for k in kinds])
            for title, key, how in ROWS]
    width = max(len(title) for title, _ in rows)
    cols = [max(14, len(TITLES[k])) for k in kinds]
    lines = ["offers (NPV against charge-off: the accepted accounts' cash after accepting, discounted, minus what "
             "their balances would bring charged off)",
             " " * width + "".join(f"  {TITLES[k]:>{c}}" for k, c in zip(kinds, cols, strict=True))]
    lines += [f"{title:<{width}}" + "".join(f"  {v:>{c}}" for v, c in zip(cells, cols, strict=True))
              for title, cells in rows]
    if "hardship_plan" in offers:
        lines.append(f"{'hardship plans re-aged':<{width}}  {offers['hardship_plan'].get('reaged', 0):>{cols[-1]},}")
    return "\n".join(lines)


def payload(means) -> list[dict[str, Any]]:
    return [{"scenario": label, "offers": {kind: {k: (v if math.isfinite(v) else None) for k, v in kpis.items()}
                                           for kind, kpis in kinds.items()}} for label, kinds in means]


def headline(means) -> list[str]:
    lines = []
    for label, kinds in means:
        for kind, k in kinds.items():
            verdict = "more" if k["npv_vs_charge_off"] > 0 else "less"
            lines.append(f"{label}: its {TITLES[kind]}s were accepted by {k['acceptance_rate']:.1%} of those offered; "
                         f"the accepted accounts paid {k['cash_npv']:,.0f} (NPV) after accepting, "
                         f"{abs(k['npv_vs_charge_off']):,.0f} {verdict} than their balances would bring charged off"
                         + (f", with {k['forgiven']:,.0f} forgiven." if kind == "settlement_offer" else "."))
    return lines


def section(means, esc, table) -> str:
    """The report's section ``offers``; ``esc`` and ``table`` are the report's HTML helpers."""
    header = ["", *[esc(f"{label}: {TITLES[kind]}") for label, kinds in means for kind in kinds]]
    rows = [[esc(title)] + [_show(kinds[kind][key], how) for _, kinds in means for kind in kinds]
            for title, key, how in ROWS]
    return ("<section id=\"offers\"><h2>Settlement and hardship offers</h2>" + table(header, rows)
            + "<p class=\"note\">Means over the replications. Cash after accepting: everything the accepted accounts "
              "paid from the day they accepted (a kept settlement's payment, a plan's instalments, other "
              "repayments); NPV at simulation.discount_rate. Charged off: the balances when accepted times "
              "objective.written_off_value (what a written-off unit still brings, a debt-sale price). A forgiven "
              "amount leaves the book as written off. Acceptance and keeping defaults are assumptions "
              "(scenarios/README.md, section Offers).</p></section>")
