"""The management report's champion/challenger part: strategies in one book, read back from the store.

A stored run or experiment of a ``[[strategies]]`` scenario keeps every
replication's KPIs by strategy and each challenger's within-run tests
(:mod:`sim.store`, table ``strategy_kpis``). This module summarises them with
:func:`sim.arms_compare.summarize_arms` — the same numbers ``python -m sim
compare`` prints for the file — and writes what a manager reads: each
strategy's KPIs with intervals over replications, each challenger's
difference from the champion paired by replication, the test a bank would
run on one book's accounts (its result in the first replication, and in how
many replications it found the difference), and how much of the shared
agents' time each strategy's accounts took against their share of the book.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .arms_compare import (
    COMPARED_KPIS,
    PERCENT,
    TESTED_KPIS,
    TITLES,
    ArmsComparison,
    format_cell,
    summarize_arms,
)
from .experiment import Estimate, estimate

# Per strategy, shown as means over replications beside the compared KPIs.
COUNTS = ("share", "accounts", "collected", "cost", "agent_minutes")


def arms_summaries(data) -> list[tuple[str, ArmsComparison, dict[str, dict[str, Estimate]]]]:
    """Per champion/challenger scenario of a report: its label, the strategies' comparison and their counts."""
    c = data.comparison
    out = []
    for summary, runs in zip(c.scenarios, c.replications, strict=True):
        if not runs or any(r.kpis_by_strategy is None for r in runs):
            continue
        per_rep = [r.kpis_by_strategy for r in runs]
        names = list(per_rep[0])
        champion = next(name for name in names if per_rep[0][name].get("champion"))
        arms = summarize_arms(summary.label, names, champion, per_rep, [r.strategy_tests or {} for r in runs],
                              c.seed, c.confidence)
        out.append((summary.label, arms, {name: _counts(per_rep, name, c.confidence) for name in names}))
    return out


def _counts(per_rep: list[dict[str, dict]], name: str, confidence: float) -> dict[str, Estimate]:
    """A strategy's counts (share, accounts, money, agent minutes, its offers) over the replications."""
    runs = [{**run[name], **_flat_offers(run[name])} for run in per_rep]
    return {k: estimate([_number(run.get(k, 0.0)) for run in runs], confidence)
            for k in (*COUNTS, *_offer_keys(per_rep, name))}


def _number(value: Any) -> float:
    return math.nan if value is None else float(value)


OFFER_TOTALS = ("made", "accepted", "kept", "forgiven", "cash_after_accepting")
OFFER_TITLES = {"settlement_offer": "settlement offers", "hardship_plan": "hardship plans"}


def _offer_keys(per_rep: list[dict[str, dict]], name: str) -> list[str]:
    """A strategy's offer totals as flat keys (``offers.settlement_offer.accepted``), when its ladder makes offers."""
    kinds = dict.fromkeys(kind for run in per_rep for kind in run[name].get("offers") or {})
    return [f"offers.{kind}.{what}" for kind in kinds for what in OFFER_TOTALS]


def _flat_offers(run: dict[str, Any]) -> dict[str, float]:
    return {f"offers.{kind}.{what}": value for kind, totals in (run.get("offers") or {}).items()
            for what, value in totals.items()}


def _sure(est: Estimate, confidence: float) -> str:
    if not math.isfinite(est.ci_low):
        return "one replication: how sure cannot be said"
    return f"significant at {confidence:.0%}" if est.significant else f"not distinguishable at {confidence:.0%}"


def headline(summaries) -> list[str]:
    """Each challenger against the champion in plain words: cure, cash, the bank's test, agent time."""
    lines = []
    for _, arms, counts in summaries:
        for name in arms.names:
            if name == arms.champion:
                continue
            d = arms.differences[name]
            share, time = counts[name]["share"].mean, arms.by_strategy[name]["agent_time_share"].mean
            text = (f"{name} against the champion {arms.champion} in one book ({share:.0%} of the accounts): "
                    f"cure rate {format_cell('cure_rate', d['cure_rate'], True, mark=False)} "
                    f"({_sure(d['cure_rate'], arms.confidence)}), cash per account "
                    f"{format_cell('cash_per_account', d['cash_per_account'], True, mark=False)} "
                    f"({_sure(d['cash_per_account'], arms.confidence)}); its accounts took {time:.1%} of the "
                    "agents' time.")
            tests = arms.within_run.get(name, {}).get("cure_rate")
            if tests:
                text += (f" The bank's test on one book's accounts finds the cure-rate difference in "
                         f"{tests['significant_runs']} of {len(tests['runs'])} replications (p < {tests['level']:g}).")
            lines.append(text)
    return lines


def payload(summaries) -> list[dict[str, Any]]:
    """The champion/challenger numbers as plain JSON data, per scenario."""
    out = []
    for label, arms, counts in summaries:
        data = arms.to_json()
        del data["kind"], data["seed"], data["experiment_id"]
        data["scenario"] = label
        data["strategies"] = list(arms.names)
        data["counts_by_strategy"] = {name: {k: e.to_json() for k, e in kpis.items()} for name, kpis in counts.items()}
        out.append(data)
    return out


# ----------------------------------------------------------------------------- chart


def chart(summaries):
    """Per strategy: share of the accounts against share of the agents' time; cash per account with intervals."""
    from matplotlib.figure import Figure

    from .plots import _colors, _errors

    fig = Figure(figsize=(8, 3.4), layout="constrained")
    time_ax, cash_ax = fig.subplots(1, 2)
    names, shares, times, cash = [], [], [], []
    for label, arms, counts in summaries:
        prefix = f"{label}: " if len(summaries) > 1 else ""
        for name in arms.names:
            names.append(prefix + name + (" (champion)" if name == arms.champion else ""))
            shares.append(counts[name]["share"].mean)
            times.append(arms.by_strategy[name]["agent_time_share"].mean)
            cash.append(arms.by_strategy[name]["cash_per_account"])
    x = np.arange(len(names))
    time_ax.bar(x - 0.2, 100 * np.array(shares), 0.4, color="#9bb7d4", label="share of accounts")
    time_ax.bar(x + 0.2, 100 * np.array(times), 0.4, color="#2b5c8a", label="share of agent time")
    time_ax.set_xticks(x, names, rotation=15, ha="right", fontsize=8)
    time_ax.set_ylabel("%")
    time_ax.set_title("Accounts and the shared agents' time", fontsize=10)
    time_ax.legend(fontsize=7)
    time_ax.grid(axis="y", alpha=0.3)
    cash_ax.bar(x, [e.mean for e in cash], yerr=_errors(cash), color=_colors(len(names)), capsize=4)
    cash_ax.set_xticks(x, names, rotation=15, ha="right", fontsize=8)
    cash_ax.set_title("Cash per account, with its interval", fontsize=10)
    cash_ax.grid(axis="y", alpha=0.3)
    return fig


# ----------------------------------------------------------------------------- HTML


def _strategy_table(arms: ArmsComparison, counts, esc, table) -> str:
    heads = [esc(n + (" (champion)" if n == arms.champion else "")) for n in arms.names]
    rows = [["share of accounts"] + [f"{100 * counts[n]['share'].mean:.1f} %" for n in arms.names],
            ["accounts"] + [f"{counts[n]['accounts'].mean:,.0f}" for n in arms.names]]
    rows += [[esc(TITLES[k])] + [esc(format_cell(k, arms.by_strategy[n][k])) for n in arms.names]
             for k in COMPARED_KPIS]
    rows.append(["agent minutes"] + [f"{counts[n]['agent_minutes'].mean:,.0f}" for n in arms.names])
    offer_keys = list(dict.fromkeys(k for n in arms.names for k in counts[n] if k.startswith("offers.")))
    for key in offer_keys:
        _, kind, what = key.split(".")
        cells = [counts[n][key].mean if key in counts[n] else 0.0 for n in arms.names]
        rows.append([esc(f"{OFFER_TITLES[kind]}: {what.replace('_', ' ')}")] + [f"{v:,.0f}" for v in cells])
    return table(["KPI", *heads], rows)


def _difference_table(arms: ArmsComparison, esc, table) -> str:
    challengers = [n for n in arms.names if n != arms.champion]
    kpis = [k for k in COMPARED_KPIS if all(k in arms.differences[n] for n in challengers)]
    rows = [[esc(TITLES[k])] + [esc(format_cell(k, arms.differences[n][k], True, mark=False)) for n in challengers]
            for k in kpis]
    classes = [[""] + ["sig" if arms.differences[n][k].significant else "" for n in challengers] for k in kpis]
    return table(["KPI", *[esc(f"{n} − {arms.champion}") for n in challengers]], rows, classes)


def _test_cell(kpi: str, tests: dict[str, Any]) -> str:
    first = tests["runs"][0]
    if first["difference"] is None:
        return "n/a"
    scale, unit = (100.0, " pp") if kpi in PERCENT else (1.0, "")
    interval = (f" [{scale * first['ci_low']:+.2f}, {scale * first['ci_high']:+.2f}]"
                if first["ci_low"] is not None else "")
    p = "n/a" if first["p_value"] is None else f"{first['p_value']:.3g}"
    return (f"{scale * first['difference']:+.2f}{unit}{interval}, p = {p}; "
            f"found in {tests['significant_runs']} of {len(tests['runs'])}")


def _tests_table(arms: ArmsComparison, esc, table) -> str:
    challengers = [n for n in arms.names if n in arms.within_run]
    rows = [[esc(TITLES[k])] + [esc(_test_cell(k, arms.within_run[n][k])) for n in challengers] for k in TESTED_KPIS]
    return table(["KPI", *[esc(f"{n} − {arms.champion}") for n in challengers]], rows)


def section(summaries, chart_html: str, esc, table) -> str:
    """The report's section ``strategies``: ``esc`` and ``table`` are the report's HTML helpers."""
    parts = ["<section id=\"strategies\"><h2>Champion/challenger in one book</h2>",
             "<p class=\"note\">Every account was assigned once to one strategy (stratified by bucket and "
             "segment); the strategies share the teams and the call list, so a challenger that calls more "
             "takes agent time from the champion.</p>", chart_html]
    for label, arms, counts in summaries:
        if len(summaries) > 1:
            parts.append(f"<h3>{esc(label)}</h3>")
        parts.append(_strategy_table(arms, counts, esc, table))
        parts.append(f"<p class=\"note\">Mean [{arms.confidence:.0%} interval] over {arms.reps} replications.</p>")
        parts.append("<h3>Each challenger against the champion, paired by replication</h3>")
        parts.append(_difference_table(arms, esc, table))
        if arms.within_run:
            parts.append("<h3>The test a bank would run on one book's accounts</h3>")
            parts.append(_tests_table(arms, esc, table))
            parts.append("<p class=\"note\">Challenger − champion on the first replication's accounts with its "
                         "95 % interval and p-value (two-proportion z test for rates, Welch's t for cash), and in "
                         "how many replications the test found a difference at p &lt; 0.05.</p>")
    parts.append("</section>")
    return "".join(parts)
