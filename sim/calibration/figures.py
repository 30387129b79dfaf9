"""The calibration's figures: the goodness-of-fit QQ plots and the backtest's band (matplotlib, Agg).

Each figure is written atomically (:func:`sim.io.write_atomic`), so a failed
write leaves no half-written PNG behind.
"""

from __future__ import annotations

import numpy as np

from ..io import write_atomic


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path) -> None:
    plt = _pyplot()
    try:
        write_atomic(path, lambda tmp: fig.savefig(tmp, format="png", dpi=110), option="--plot")
    finally:
        plt.close(fig)


def qq_plot(increments: np.ndarray, shares: np.ndarray, r_min: float | None, path, *, model: str) -> None:
    """Two QQ panels (rescaled times against Exp(1), shares against Uniform[r_min, 1]) written atomically."""
    fig, (left, right) = _pyplot().subplots(1, 2, figsize=(9, 4.2))
    _qq_panel(left, np.sort(increments), lambda p: -np.log1p(-p), "Exp(1) quantile",
              f"{model}: time-rescaled gaps between repayments")
    if r_min is not None:
        _qq_panel(right, np.sort(shares), lambda p: r_min + (1.0 - r_min) * p,
                  f"Uniform[{r_min:.3f}, 1] quantile", "share of the balance repaid")
    fig.tight_layout()
    _save(fig, path)


def _qq_panel(ax, observed: np.ndarray, quantile, xlabel: str, title: str) -> None:
    n = observed.size
    if n == 0:
        ax.set_title(f"{title}\n(no data)")
        return
    theoretical = quantile((np.arange(1, n + 1) - 0.5) / n)
    ax.plot(theoretical, observed, ".", markersize=2, alpha=0.5)
    top = float(max(theoretical.max(), observed.max()))
    low = float(min(theoretical.min(), observed.min()))
    ax.plot([low, top], [low, top], "k--", linewidth=1)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("observed")
    ax.set_title(title, fontsize=10)


def band_plot(days: np.ndarray, actual: np.ndarray, low: np.ndarray, high: np.ndarray, fit_days: int, path) -> None:
    """The backtest: the actual cumulative recovery against the simulated 90 % band, from day K."""
    fig, ax = _pyplot().subplots(figsize=(7, 4.2))
    ax.fill_between(days, low, high, alpha=0.3, label="simulated 90 % band")
    ax.plot(days, actual, "k-", linewidth=1.5, label="actual")
    ax.set_xlabel(f"day of the window (fitted on days 0–{fit_days - 1})")
    ax.set_ylabel("recovered since day K / balance at day K")
    ax.legend(loc="upper left")
    fig.tight_layout()
    _save(fig, path)
