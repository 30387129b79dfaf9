"""The Calibrate page's work: a lender's three files in, the fit, its plots, the backtest and the fitted scenario out.

Everything is :mod:`sim.calibration`'s (the same functions as ``python -m sim
calibrate`` and ``backtest``); this module only stages the files and turns the
results into tables and pictures. A lender's history is large, so its
uploaders take up to :data:`HISTORY_UPLOAD_MB` (the scenario uploaders keep
their 1 MB): the uploaded bytes are written to a private temporary folder and
read from there by the same readers, with the same one-line errors.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sim.calibration import calibrate, read_history
from sim.calibration.backtest import backtest
from sim.calibration.figures import band_plot, qq_plot
from sim.errors import InputError
from sim.scenario import load_scenario

HISTORY_UPLOAD_MB = 200  # what the history uploaders state and the server accepts (.streamlit/config.toml)
HISTORY_UPLOAD_BYTES = HISTORY_UPLOAD_MB * 1_000_000  # what the page checks itself
HISTORY_FILES = ("portfolio", "payments", "contacts")  # the three files, in the command line's order
MODELS = ("card", "cgw")
BACKTEST_MODELS = ("card", "cgw")  # the models backtest() starts from (sim.calibration.backtest)


@dataclass(frozen=True)
class Request:
    """What the page asks for: the base scenario, the files (paths on this machine), the window, the model."""

    scenario: Path
    portfolio: Path
    payments: Path
    contacts: Path | None
    start: dt.date
    days: int
    model: str


def stage_upload(folder: Path, role: str, name: str, data: bytes) -> Path:
    """An uploaded history file written to ``folder`` (checked: a CSV, not over the limit)."""
    if not name.lower().endswith(".csv"):
        raise InputError(name, role, "must be a CSV file (.csv), as python -m sim run --payments-out writes")
    if len(data) > HISTORY_UPLOAD_BYTES:
        raise InputError(name, role, f"{len(data):,} bytes; at most {HISTORY_UPLOAD_BYTES:,}")
    path = folder / f"{role}.csv"  # our own name: an upload's name never chooses a path on the server
    path.write_bytes(data)
    return path


def server_path(text: str, role: str, required: bool = True) -> Path | None:
    """A path on this machine typed into the page: must be an existing file."""
    text = text.strip()
    if not text:
        if required:
            raise InputError("page", role, "give the path of the file on this machine")
        return None
    path = Path(text).expanduser()
    if not path.is_file():
        raise InputError(text, role, "no such file on this machine")
    return path


def fit(request: Request):
    """The fit, exactly as ``python -m sim calibrate`` makes it."""
    return calibrate(request.scenario, request.portfolio, request.payments, request.contacts,
                     start=request.start, days=request.days, model=request.model)


def parameter_rows(calibration) -> list[dict]:
    """One row a parameter: its ``[behavior]`` name, estimate, standard error, 95 % interval, identified."""
    rows = []
    for name, p in calibration.parameters.items():
        rows.append({"parameter": name, "estimate": p.estimate, "std error": p.std_error,
                     "95 % low": p.ci_low, "95 % high": p.ci_high,
                     "identified": "yes" if p.identified else "no (left as the base has it)"})
    return rows


def goodness_lines(calibration) -> list[str]:
    g = calibration.goodness_of_fit

    def num(value, digits=4):
        return "—" if value is None else f"{value:.{digits}g}"

    return [f"Time rescaling: KS {num(g.ks_statistic)} (p = {num(g.ks_pvalue, 3)}) against Exp(1)",
            f"Amounts: KS {num(g.share_ks_statistic)} (p = {num(g.share_ks_pvalue, 3)}) against the fitted uniform",
            f"AIC {num(g.aic, 8)} against {num(g.aic_constant_hazard, 8)} for a constant hazard (lower is better)"]


def qq_png(calibration) -> bytes:
    """The goodness-of-fit QQ plots, as ``--plot`` draws them."""
    low = calibration.parameters["r_min"].estimate if "r_min" in calibration.parameters else calibration.share_low
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "fit.png"
        qq_plot(calibration.increments, calibration.shares, low, path, model=calibration.model)
        return path.read_bytes()


def fitted_scenario_toml(calibration, base: Path) -> str:
    """The base scenario with the fitted ``[behavior]``, whole (a download cannot ``extends`` a file here)."""
    overrides = {f"behavior.{name}": value for name, value in calibration.fitted_values().items()}
    overrides["behavior.model"] = calibration.model
    head = (f"# Fitted by repaylab's Calibrate page to {calibration.accounts} accounts and {calibration.payments} "
            f"receipts,\n# {calibration.window.days} days from {calibration.window.start}; base: {base.name}. "
            "Parameters the data could not identify are the base's.\n")
    # Over the merged base with its defaults (a list such as payment_choice is then there to index).
    return head + load_scenario(base).with_overrides(overrides).to_toml()


def run_backtest(request: Request, fit_days: int, reps: int, seed: int = 0):
    """``python -m sim backtest``: the result and its band plot (PNG bytes)."""
    if request.model not in BACKTEST_MODELS:
        raise InputError("page", "model", f"the backtest replays {', '.join(BACKTEST_MODELS)} fits only so far")
    history = read_history(request.scenario, request.portfolio, request.payments, request.contacts,
                           start=request.start, days=request.days, model=request.model)
    result = backtest(history, str(request.scenario), fit_days=fit_days, reps=reps, seed=seed)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "band.png"
        band_plot(result.days, result.actual, result.low, result.high, result.fit_days, path)
        return result, path.read_bytes()
