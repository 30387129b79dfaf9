"""Charts of experiments: what a manager looks at to decide between strategies.

Recovery curves with confidence bands, KPI bars with error bars, cost against
recovery, the roll-rate heatmap between buckets, a sweep's trade-off and a
sensitivity tornado. Every function returns a ``matplotlib.figure.Figure``
(built without pyplot, so no global figure state: safe in the app's threads)
and, given ``path``, also saves it as PNG (written to a temporary file and
renamed, so a failed save leaves no half image).
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from .io import write_atomic  # noqa: E402

KPI_TITLES = {
    "initial_balance": "initial balance",
    "collected": "collected",
    "outstanding": "outstanding",
    "written_off": "written off",
    "interest_and_fees": "interest and fees",
    "recovery_rate": "recovery rate",
    "cure_rate": "cure rate",
    "charge_off_rate": "charge-off rate",
    "cost": "cost",
    "net_recovery": "net recovery",
    "npv_collected": "NPV of collections",
    "right_party_contact_rate": "right-party contact rate",
    "promise_kept_rate": "promise kept rate",
    "complaints_per_1000": "complaints per 1000 accounts",
    "agent_utilization": "agent utilization",
    "inbound_service_level": "inbound service level",
    "compliance_refusals": "compliance refusals",
    "conservation_error": "conservation error",
}
DEFAULT_BAR_KPIS = ("net_recovery", "recovery_rate", "cost", "complaints_per_1000")


def save(fig: Figure, path: str | os.PathLike | None, dpi: int = 120) -> Figure:
    """Write ``fig`` as PNG at ``path`` (atomically) and return it."""
    if path is None:
        return fig
    write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format="png"), option="--plot")
    return fig


def _errors(estimates) -> np.ndarray:
    """Error-bar lengths below and above each mean (zero where there is no interval)."""
    lower = [e.mean - e.ci_low for e in estimates]
    upper = [e.ci_high - e.mean for e in estimates]
    return np.nan_to_num(np.array([lower, upper], dtype=float), nan=0.0)


def _colors(n: int) -> list:
    cmap = matplotlib.colormaps["tab10"]
    return [cmap(i % 10) for i in range(n)]


def _ci_note(comparison) -> str:
    if comparison.reps < 2:
        return "1 replication: no confidence interval"
    return f"{comparison.reps} replications, {comparison.confidence:.0%} CI"


def recovery_curves(comparison, *, ax=None, path=None) -> Figure:
    """Cumulative share of the initial balance collected by day, mean and band per scenario."""
    fig, ax = _figure_axes(ax, (7, 4.2))
    for summary, color in zip(comparison.scenarios, _colors(len(comparison.scenarios)), strict=True):
        mean, low, high = summary.recovery_curve
        days = np.arange(1, len(mean) + 1)
        ax.plot(days, 100 * mean, color=color, label=summary.label, lw=1.6)
        if np.isfinite(low).all():
            ax.fill_between(days, 100 * low, 100 * high, color=color, alpha=0.2, lw=0)
    ax.set_xlabel("day")
    ax.set_ylabel("collected, % of initial balance")
    ax.set_title(f"Recovery curves ({_ci_note(comparison)})")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def _bars(axes, comparison, kpis: Sequence[str], *, fontsize: int) -> None:
    """A bar per scenario with its confidence interval, one KPI per axis."""
    labels = comparison.labels
    colors = _colors(len(labels))
    for ax, kpi in zip(axes, kpis, strict=True):
        estimates = [s.kpis[kpi] for s in comparison.scenarios]
        x = np.arange(len(labels))
        ax.bar(x, [e.mean for e in estimates], yerr=_errors(estimates), color=colors, capsize=4)
        ax.set_xticks(x, labels, rotation=30, ha="right", fontsize=fontsize)
        ax.set_title(KPI_TITLES.get(kpi, kpi), fontsize=fontsize + 2)
        ax.grid(axis="y", alpha=0.3)


def kpi_bars(comparison, kpis: Sequence[str] = DEFAULT_BAR_KPIS, *, path=None) -> Figure:
    """One panel per KPI: a bar per scenario with its confidence interval."""
    fig = Figure(figsize=(3.2 * len(kpis), 3.8), layout="constrained")
    axes = fig.subplots(1, len(kpis), squeeze=False)[0]
    _bars(axes, comparison, kpis, fontsize=8)
    fig.suptitle(_ci_note(comparison), fontsize=9)
    return save(fig, path)


def cost_vs_recovery(comparison, *, ax=None, path=None) -> Figure:
    """Each replication's cost against its collections, with each scenario's mean and interval."""
    fig, ax = _figure_axes(ax, (6, 4.5))
    for summary, reps, color in zip(comparison.scenarios, comparison.replications,
                                    _colors(len(comparison.scenarios)), strict=True):
        cost = [r.kpis["cost"] for r in reps]
        collected = [r.kpis["collected"] for r in reps]
        ax.scatter(cost, collected, color=color, alpha=0.35, s=14)
        c, k = summary.kpis["cost"], summary.kpis["collected"]
        ax.errorbar([c.mean], [k.mean], xerr=_errors([c]), yerr=_errors([k]), fmt="o", color=color,
                    capsize=4, label=summary.label, ms=7)
    ax.set_xlabel("cost")
    ax.set_ylabel("collected")
    ax.set_title("Cost against collections (dots: replications)")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    return save(fig, path)


def roll_rate_heatmap(matrix, states: Sequence[str] | None = None, *, title: str = "Monthly roll rates",
                      ax=None, path=None) -> Figure:
    """Share of accounts moving from each state (row) to each state (column) in a month."""
    from .domain import ROLL_STATES

    states = list(states or ROLL_STATES)
    matrix = np.asarray(matrix, dtype=float)
    fig, ax = _figure_axes(ax, (6.2, 5.2))
    image = ax.imshow(100 * matrix, cmap="viridis", vmin=0, vmax=100)
    ax.set_xticks(range(len(states)), states, rotation=45, ha="right", fontsize=8)
    ax.set_yticks(range(len(states)), states, fontsize=8)
    ax.set_xlabel("to")
    ax.set_ylabel("from")
    ax.set_title(title, fontsize=10)
    for (i, j), value in np.ndenumerate(matrix):
        if value >= 0.005:
            ax.text(j, i, f"{100 * value:.0f}", ha="center", va="center", fontsize=6,
                    color="white" if value < 0.6 else "black")
    fig.colorbar(image, ax=ax, label="%", shrink=0.8)
    return save(fig, path)


def comparison_report(comparison, *, path=None) -> Figure:
    """The four charts of a comparison on one page: curves, bars, cost vs collections, roll rates."""
    fig = Figure(figsize=(14, 10), layout="constrained")
    top, bottom = fig.subfigures(2, 1)
    left, right = top.subplots(1, 2)
    recovery_curves(comparison, ax=left)
    cost_vs_recovery(comparison, ax=right)
    kpis = DEFAULT_BAR_KPIS
    bars = bottom.subfigures(1, 2, width_ratios=[2.2, 1])
    axes = bars[0].subplots(1, len(kpis))
    _bars(axes, comparison, kpis, fontsize=7)
    champion = comparison.scenarios[0]
    roll_rate_heatmap(champion.roll_rates, title=f"Monthly roll rates, {champion.label}",
                      ax=bars[1].subplots())
    return save(fig, path)


def sweep_tradeoff(sweep, *, x: str = "complaints_per_1000", y: str = "net_recovery", path=None) -> Figure:
    """Each variant's ``y`` against its ``x`` with intervals; the base is the black square."""
    comparison = sweep.comparison
    fig, ax = _figure_axes(None, (7.5, 5))
    for index, summary in enumerate(comparison.scenarios):
        ex, ey = summary.kpis[x], summary.kpis[y]
        base = index == 0
        ax.errorbar([ex.mean], [ey.mean], xerr=_errors([ex]), yerr=_errors([ey]),
                    fmt="s" if base else "o", color="black" if base else "tab:blue", capsize=3, ms=7 if base else 5)
        ax.annotate(summary.label, (ex.mean, ey.mean), fontsize=7, xytext=(4, 4), textcoords="offset points")
    ax.set_xlabel(KPI_TITLES.get(x, x))
    ax.set_ylabel(KPI_TITLES.get(y, y))
    ax.set_title(f"Sweep: {KPI_TITLES.get(y, y)} against {KPI_TITLES.get(x, x)} ({_ci_note(comparison)})")
    ax.grid(alpha=0.3)
    return save(fig, path)


def tornado(sensitivity, *, path=None) -> Figure:
    """Change of the KPI at base − step and base + step, one bar pair per parameter, widest on top."""
    swings = list(sensitivity.swings)
    fig, ax = _figure_axes(None, (8, 1.2 + 0.6 * max(1, len(swings))))
    y = np.arange(len(swings))[::-1]
    for row, swing in zip(y, swings, strict=True):
        # Side by side, not stacked: both moves may push the KPI the same way.
        for estimate, moved, color, offset in ((swing.low, swing.low_value, "tab:red", 0.18),
                                               (swing.high, swing.high_value, "tab:green", -0.18)):
            ax.barh(row + offset, estimate.mean, color=color, alpha=0.85, height=0.34,
                    xerr=_errors([estimate]), capsize=3)
            ax.annotate(f"{moved:g}", (estimate.mean, row + offset), fontsize=7, va="center",
                        ha="left" if estimate.mean >= 0 else "right", xytext=(3 if estimate.mean >= 0 else -3, 0),
                        textcoords="offset points")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [f"{s.path} = {s.base_value:g}" for s in swings], fontsize=8)
    title = KPI_TITLES.get(sensitivity.kpi, sensitivity.kpi)
    ax.set_xlabel(f"change in {title} vs base (red: − step, green: + step)")
    ax.set_title(f"Sensitivity of {title} ({_ci_note(sensitivity.comparison)})")
    ax.grid(axis="x", alpha=0.3)
    return save(fig, path)


def _figure_axes(ax, size):
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=size, layout="constrained")
    return fig, fig.subplots()
