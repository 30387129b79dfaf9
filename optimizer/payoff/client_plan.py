"""The client's printable plan: one self-contained HTML page to hand over or print.

What a borrower takes home from an advisor: the plan chosen, when they are
debt-free, what it costs, every month's payment on every debt and the
balance left, and — when asked — the options compared, the budget needed
for a target date and what a drop in the budget would do.

Like the management report (:mod:`sim.report`) the page loads nothing: the
style sheet is inline (with a print style), and the only script is data —
the plan's numbers as JSON in ``<script type="application/json"
id="repaylab-plan">`` so a tool (or a test) can check them. Every text from
the file (names, the currency) is HTML-escaped. The same inputs give the
same bytes (no date is written).
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

from .amortisation import PayoffResult
from .answers import verdict
from .model import DebtFile
from .options import OptionsComparison
from .report import DESCRIPTIONS
from .stress import Stress, StressOutcome
from .target import TargetAnswer

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: #1b1b1b;
       max-width: 1000px; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { border-bottom: 2px solid #2b5c8a; padding-bottom: 0.15em;
     margin-top: 1.6em; font-size: 1.25em; }
.meta, .note { color: #555; } .headline { font-size: 1.1em; }
table { border-collapse: collapse; margin: 0.6em 0; font-size: 0.88em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.5em; text-align: right; vertical-align: top; }
th:first-child, td:first-child, td.text { text-align: left; } th { background: #eef3f8; }
td.done { color: #2b7a2b; }
@media print {
  body { max-width: none; margin: 0; font-size: 10pt; }
  h2 { break-after: avoid; page-break-after: avoid; }
  tr { break-inside: avoid; page-break-inside: avoid; }
  thead { display: table-header-group; }
  @page { size: A4; margin: 14mm; }
}
"""


def esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _money(debts: DebtFile, cents: int | float, *, dollars: bool = False) -> str:
    amount = cents if dollars else cents / 100
    sign = "-" if amount < 0 else ""
    return f"{sign}{debts.currency}{abs(amount):,.2f}"


def _table(header: list[str], rows: list[list[str]], text_columns: int = 1) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(
        f"<td class=\"text\">{cell}</td>" if i < text_columns else f"<td>{cell}</td>" for i, cell in enumerate(row))
        + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def month_rows(plan: PayoffResult, debts: DebtFile) -> list[dict[str, Any]]:
    """Per month: the date, each debt's payment (cents), the total paid and the balance left after it."""
    names = [d.name for d in debts.debts]
    months: dict[int, dict[str, Any]] = {}
    for row in plan.schedule:
        entry = months.setdefault(row.month, {"month": row.month, "date": debts.calendar_month(row.month),
                                              "payments": dict.fromkeys(names, 0), "balance": 0})
        entry["payments"][row.debt] = row.payment
        entry["balance"] += row.balance
    return [months[m] for m in sorted(months)]


def _schedule_section(plan: PayoffResult, debts: DebtFile) -> str:
    names = [d.name for d in debts.debts]
    rows = []
    for entry in month_rows(plan, debts):
        cells = [esc(entry["date"] or entry["month"])]
        for name in names:
            paid_off = plan.payoff_months.get(name) == entry["month"]
            cells.append(_money(debts, entry["payments"][name]) + (" ✓" if paid_off else "")
                         if entry["payments"][name] or paid_off else "")
        cells += [_money(debts, sum(entry["payments"].values())), _money(debts, entry["balance"])]
        rows.append(cells)
    header = ["month", *names, "paid this month", "still owed"]
    return ("<section id=\"schedule\"><h2>Month by month</h2><p class=\"note\">Payments at the end of each "
            "month; ✓ marks the payment that clears a debt.</p>" + _table(header, rows) + "</section>")


def _summary(plan: PayoffResult, debts: DebtFile) -> str:
    if plan.pays_off:
        when = debts.calendar_month(plan.months) or f"month {plan.months}"
        head = f"Debt-free in {esc(when)}, after {plan.months} months."
    else:
        head = "This plan does not pay the debts off: " + esc(plan.status) + "."
    owed = sum(d.balance for d in debts.debts)
    lines = [f"<p class=\"headline\"><strong>{head}</strong></p>",
             f"<p>Plan: <strong>{esc(plan.strategy)}</strong> ({esc(DESCRIPTIONS.get(plan.strategy, ''))}). "
             f"Owed today {esc(_money(debts, owed, dollars=True))}; budget "
             f"{esc(_money(debts, debts.budget, dollars=True))} a month.</p>",
             f"<p>Interest {esc(_money(debts, plan.total_interest, dollars=True))}, fees "
             f"{esc(_money(debts, plan.total_fees, dollars=True))}, paid in all "
             f"{esc(_money(debts, plan.total_paid, dollars=True))}.</p>"]
    if plan.missed:
        lines.append(f"<p><strong>The budget misses a minimum in {len({m.month for m in plan.missed})} months"
                     "</strong>: late fees and penalty rates follow.</p>")
    debts_rows = [[esc(d.name), esc(_money(debts, d.balance, dollars=True)), f"{d.base_apr:.2%}",
                   esc(debts.calendar_month(plan.payoff_months[d.name]) or plan.payoff_months[d.name])
                   if d.name in plan.payoff_months else "not paid off"] for d in debts.debts]
    return ("<section id=\"summary\"><h2>Your plan</h2>" + "".join(lines)
            + _table(["debt", "balance", "APR", "paid off"], debts_rows) + "</section>")


def _options_section(comparison: OptionsComparison, debts: DebtFile) -> str:
    rows = []
    for o in comparison.rows():
        d = o.as_dict()
        rows.append([esc(o.name), esc(d["months"] if d["months"] is not None else o.plan.status),
                     esc(_money(debts, d["total_interest"], dollars=True)),
                     esc(_money(debts, d["total_fees"], dollars=True)), esc(_money(debts, d["total_paid"], dollars=True)),
                     esc(_money(debts, d["monthly_payment"], dollars=True)),
                     "-" if d["apr_nominal"] is None else f"{d['apr_nominal']:.2%}",
                     "-" if d["apr_effective"] is None else f"{d['apr_effective']:.2%}",
                     esc(verdict(comparison, o, debts))])
    notes = "".join(f"<li>{esc(o.name)}: {esc(n)}</li>" for o in comparison.options for n in o.notes)
    return ("<section id=\"options\"><h2>Options compared</h2><p class=\"note\">Each option is booked month by "
            f"month with the same budget and the {esc(comparison.strategy)} order as today's plan.</p>"
            + _table(["option", "months", "interest", "fees", "paid in all", "first month", "APR", "effective",
                      "against today"], rows) + (f"<ul class=\"note\">{notes}</ul>" if notes else "") + "</section>")


def _target_section(answer: TargetAnswer, debts: DebtFile) -> str:
    rows = [[esc(b.strategy), esc(_money(debts, b.budget, dollars=True)) if b.budget is not None else "none",
             esc(_money(debts, b.plan.total_interest, dollars=True)) if b.plan else "-"] for b in answer.budgets]
    return (f"<section id=\"target\"><h2>Debt-free by {esc(answer.target_date)}</h2>"
            + _table(["plan", "least monthly budget", "interest"], rows) + "</section>")


def _stress_section(stress: Stress, outcomes: list[StressOutcome], debts: DebtFile) -> str:
    rows = []
    for o in outcomes:
        d = o.as_dict(debts)
        rows.append([esc(o.strategy), esc(d["debt_free"] or "never"), str(len(d["shortfall_months"])),
                     esc(_money(debts, d["late_fees"], dollars=True)), esc(_money(debts, d["extra_cost"], dollars=True)),
                     esc(_money(debts, d["budget_to_meet_minimums"], dollars=True))
                     if d["budget_to_meet_minimums"] is not None else "-",
                     esc(_money(debts, d["budget_to_stay_on_track"], dollars=True))
                     if d["budget_to_stay_on_track"] is not None else "-"])
    return (f"<section id=\"stress\"><h2>If {esc(stress.label(debts))}</h2>"
            + _table(["plan", "debt-free", "months short", "late fees", "extra cost", "meets every minimum",
                      "keeps the date"], rows) + "</section>")


def plan_data(plan: PayoffResult, debts: DebtFile, options: OptionsComparison | None) -> dict[str, Any]:
    """The page's numbers as plain data (money in the file's unit, two decimals)."""
    return {
        "strategy": plan.strategy, "status": plan.status, "months": plan.months,
        "debt_free": debts.calendar_month(plan.months) if plan.months else None,
        "total_interest": round(plan.total_interest, 2), "total_fees": round(plan.total_fees, 2),
        "total_paid": round(plan.total_paid, 2),
        "schedule": [{"month": e["month"], "date": e["date"],
                      "payments": {k: v / 100 for k, v in e["payments"].items()}, "balance": e["balance"] / 100}
                     for e in month_rows(plan, debts)],
        "options": None if options is None else [o.as_dict() for o in options.rows()],
    }


def _json_script(data: dict) -> str:
    text = json.dumps(data, indent=1, allow_nan=False, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def plan_html(debts: DebtFile, plan: PayoffResult, *, options: OptionsComparison | None = None,
              target: TargetAnswer | None = None,
              stress: tuple[Stress, list[StressOutcome]] | None = None) -> str:
    """The whole page for ``plan``, with the options, the target and the stress when given."""
    title = f"Debt payoff plan: {debts.name or Path(debts.source).name}"
    sections = [f"<header><h1>{esc(title)}</h1><p class=\"meta\">{len(debts.debts)} debts"
                + (f", from {esc(debts.calendar_month(1))}" if debts.start else "")
                + ". Interest and fees are booked to the cent as the lenders do; written by repaylab.</p></header>",
                _summary(plan, debts)]
    if target is not None:
        sections.append(_target_section(target, debts))
    if options is not None and options.options:
        sections.append(_options_section(options, debts))
    if stress is not None:
        sections.append(_stress_section(*stress, debts))
    if plan.schedule:
        sections.append(_schedule_section(plan, debts))
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            f"<title>{esc(title)}</title><style>{STYLE}</style></head><body>" + "\n".join(sections)
            + f"\n<script type=\"application/json\" id=\"repaylab-plan\">"
              f"{_json_script(plan_data(plan, debts, options))}</script></body></html>\n")
