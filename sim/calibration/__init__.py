"""Calibration: fitting the borrower behaviour to a lender's own history, and backtesting it (issue 16).

``from sim.calibration import calibrate`` reads a portfolio, its cash receipts
and (optionally) its contacts over a window, rebuilds each account's balance
path with the engine's book, fits the behaviour model by maximum likelihood
and tests the fit (time rescaling, AIC). One module a job: ``history_files``
(the readers), ``balance_paths`` (the replay through the book),
``treatment_lifts`` (the logged contacts' lifts), ``cgw`` (the likelihood of
``model = "cgw"``), ``estimates`` (intervals), ``goodness`` (goodness of
fit), ``figures`` (the plots), ``calibrate`` (the whole, and the fitted
scenario) and ``backtest`` (fit the first days, simulate the rest).
"""

from .calibrate import FITTERS, Calibration, calibrate, read_history
from .estimates import ParameterEstimate

__all__ = ["FITTERS", "Calibration", "ParameterEstimate", "calibrate", "read_history"]
