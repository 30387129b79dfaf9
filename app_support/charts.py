"""Charts the app draws that :mod:`sim.plots` does not: payoff balances, capacity, staffing.

Every function returns a ``matplotlib.figure.Figure`` built without pyplot (no
global figure state, so safe in the server's threads).
"""

from __future__ import annotations

import matplotlib
import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sim.domain import MINUTES_PER_HOUR
from sim.plots import KPI_TITLES

from .kpis import MONEY, RATES

# Figures are built without pyplot; no import above picks a backend, so this still comes first.
matplotlib.use("Agg")

_KPI_BY_TITLE = {words: kpi for kpi, words in KPI_TITLES.items()}
_MONEY_WORDS = {KPI_TITLES[k] for k in MONEY} | {"cost", "collected", "expected net recovery"}


def compact(value: float, _position=None) -> str:
    """An axis number without an offset or an exponent: 1,250 · 350k · 1.2M · 3B."""
    size = abs(value)
    for limit, scale, suffix in ((1e9, 1e9, "B"), (1e6, 1e6, "M"), (1e4, 1e3, "k")):
        if size >= limit:
            return f"{value / scale:,.{0 if size >= 10 * scale else 1}f}{suffix}".replace(".0" + suffix, suffix)
    return f"{value:,.0f}" if size >= 10 or value == int(value) else f"{value:,.2g}"


def _percent(value: float, _position=None) -> str:
    return f"{100 * value:,.0f} %"


def _words_of(label: str) -> str:
    """An axis label or a panel title without its note: "collected" of "collected (USD)"."""
    return label.split(" (")[0].strip().lower()


def _named(axis) -> bool:
    """Whether an axis's ticks are names (set with labels), not numbers a formatter writes."""
    texts = [label.get_text() for label in axis.get_ticklabels()]
    for text in texts:
        try:
            float(text.replace("−", "-").replace(",", ""))
        except ValueError:
            if text:
                return True
    return False


def _relabel(ax, words) -> None:
    """Categorical y labels (a tornado's fields) rewritten by ``words``."""
    ticks = ax.get_yticks()
    labels = [words(label.get_text()) for label in ax.get_yticklabels()]
    ax.set_yticks(ticks, labels, fontsize=8)


def readable(fig: Figure, currency: str, words=None) -> Figure:
    """A library figure as the app shows it: money with its currency and no "1e6", rates in %.

    The figures of :mod:`sim.plots` are shared with the command line, which
    writes raw numbers; here every axis gets a compact formatter, a panel or
    axis that is a rate (agent utilisation, …) reads in %, and a money axis
    names the currency. An axis of named categories (a tornado's fields) keeps
    its names, rewritten by ``words`` when given.
    """
    for ax in fig.axes:
        if _named(ax.yaxis) and words is not None:
            _relabel(ax, words)
        panel = _KPI_BY_TITLE.get(_words_of(ax.get_title()))
        for axis, label in ((ax.yaxis, ax.get_ylabel()), (ax.xaxis, ax.get_xlabel())):
            kpi = _KPI_BY_TITLE.get(_words_of(label)) if label else panel
            if (axis is ax.xaxis and not label) or _named(axis):
                continue  # named categories: a bar chart's strategies, a tornado's fields
            if kpi in RATES:
                axis.set_major_formatter(FuncFormatter(_percent))
                continue
            axis.set_major_formatter(FuncFormatter(compact))
            if label and _words_of(label) in _MONEY_WORDS and currency not in label:
                axis.set_label_text(f"{label} ({currency})")
        if panel in MONEY and currency not in ax.get_title():
            ax.set_title(f"{ax.get_title()} ({currency})", fontsize=ax.title.get_fontsize())
        elif panel in RATES and "%" not in ax.get_title():
            ax.set_title(f"{ax.get_title()} (%)", fontsize=ax.title.get_fontsize())
    return fig


def debt_balances(result, currency: str = "") -> Figure:
    """Each debt's balance after each month's payment under one plan, and the total."""
    fig = Figure(figsize=(8, 4.2), layout="constrained")
    ax = fig.subplots()
    by_debt: dict[str, dict[int, float]] = {}
    for row in result.schedule:
        by_debt.setdefault(row.debt, {})[row.month] = row.balance / 100
    months = sorted({row.month for row in result.schedule})
    total = np.zeros(len(months))
    for name, balances in by_debt.items():
        series = np.array([balances.get(m, 0.0) for m in months])
        total += series
        ax.plot(months, series, label=name, lw=1.5)
    ax.plot(months, total, color="black", ls="--", lw=1.2, label="total")
    ax.set_xlabel("month")
    ax.set_ylabel(f"balance after payment ({currency})" if currency else "balance after payment")
    ax.set_title(f"Balances under the {result.strategy} plan")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def capacity_use(plan) -> Figure:
    """Each team's capacity used against available, week by week."""
    teams = sorted({team for team, _ in plan.capacity})
    fig = Figure(figsize=(4.2 * max(1, len(teams)), 3.6), layout="constrained")
    axes = fig.subplots(1, max(1, len(teams)), squeeze=False)[0]
    for ax, team in zip(axes, teams, strict=False):
        weeks = sorted(w for t, w in plan.capacity if t == team)
        available = [plan.capacity[(team, w)] for w in weeks]
        used = [plan.capacity_used.get((team, w), 0.0) for w in weeks]
        unit = plan.units.get(team, "minutes")
        scale, label = (1.0, "filings") if unit == "filings" else (1 / MINUTES_PER_HOUR, "agent hours")
        ax.bar(weeks, [scale * a for a in available], color="lightgray", label="available")
        ax.bar(weeks, [scale * u for u in used], color="tab:blue", width=0.55, label="used")
        ax.set_title(team, fontsize=10)
        ax.set_xlabel("week")
        ax.set_ylabel(label)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=7)
    return fig


def objective_by_agents(points: list[tuple[float, float | None]], team: str, current: float, currency: str = ""
                        ) -> Figure:
    """Expected net recovery of the optimal allocation against the number of agents of one team.

    A head count whose LP is infeasible (objective ``None``) is a red cross marked "infeasible".
    """
    fig = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax = fig.subplots()
    xs = [a for a, v in points if v is not None]
    ys = [v for _, v in points if v is not None]
    ax.plot(xs, ys, marker="o", label="optimal objective")
    # Head counts where the LP has no plan are drawn on the lowest objective shown, not left out.
    infeasible = [a for a, v in points if v is None]
    if infeasible:
        floor = min(ys, default=0.0)
        ax.scatter(infeasible, [floor] * len(infeasible), marker="x", s=70, color="tab:red", zorder=3,
                   label="infeasible: no plan")
        for agents in infeasible:
            ax.annotate("infeasible", (agents, floor), textcoords="offset points", xytext=(0, 8), ha="center",
                        fontsize=8, color="tab:red")
    ax.axvline(current, color="gray", ls=":", label=f"now: {current:g}")
    ax.set_xlabel(f"full-time agents on team {team}")
    ax.set_ylabel(f"expected net recovery ({currency})" if currency else "expected net recovery")
    ax.yaxis.set_major_formatter(FuncFormatter(compact))
    ax.set_title("Optimal objective against agents")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def staffing_cover(required: dict[int, int], coverage: dict[int, int], on_phones: dict[int, int]) -> Figure:
    """Agents rostered by the shift plan against those needed, hour by hour."""
    fig = Figure(figsize=(8, 3.8), layout="constrained")
    ax = fig.subplots()
    hours = sorted(required)
    ax.bar(hours, [coverage.get(h, 0) for h in hours], color="lightsteelblue", label="rostered (shifts)")
    ax.step(hours, [required[h] for h in hours], where="mid", color="tab:red", label="needed incl. shrinkage")
    ax.step(hours, [on_phones[h] for h in hours], where="mid", color="tab:green", ls="--",
            label="needed on the phones")
    ax.set_xlabel("hour of day")
    ax.set_ylabel("agents")
    ax.set_xticks(hours)
    ax.set_title("Inbound line: agents needed and rostered")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    return fig
