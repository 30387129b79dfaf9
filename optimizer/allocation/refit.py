"""A pass's allocation LP kept in HiGHS while the ladder fit drops treatments from it.

A plan the simulated valuation scatters over many treatments may need more
ladder steps than a strategy allows; :meth:`optimizer.allocation.search._Search.fit_ladder`
then solves the LP again without the treatment the fewest accounts get, one
at a time, until the plan fits (70 solves on hawkes_baseline at 5,000
accounts). Each was a fresh PuLP model built and solved from scratch, all of
it serial time between the passes' batches of engine runs. Here the pass's
LP is handed to HiGHS once and each drop fixes the dropped treatment's
columns at 0 and re-solves from the last basis (dual simplex, a few
iterations). A column fixed at 0 is a column removed: the LP is the same, and
so is its optimum; the search still builds and solves the model that fits the
usual way (:func:`optimizer.allocation.lp.solve`), so the plan it returns,
its duals and its report are what they were.
"""

from __future__ import annotations

import numpy as np

from ..solvers import native_stdout_silenced
from .lp import AllocationModel


class Refit:
    """The model's LP in one ``highspy.Highs``; :meth:`without` drops a treatment and gives the shares."""

    def __init__(self, model: AllocationModel, time_limit: float | None = None):
        import highspy

        A = model.matrix.tocsc()
        n = A.shape[1]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, A.shape[0]
        lp.col_cost_ = -model.cost  # HiGHS minimises
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
        lp.row_lower_ = np.where(np.isfinite(model.row_lower), model.row_lower, -highspy.kHighsInf)
        lp.row_upper_ = model.row_upper
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
        with native_stdout_silenced():
            self.highs = h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            if time_limit is not None:
                h.setOptionValue("time_limit", float(time_limit))
            h.passModel(lp)
        self._optimal = highspy.HighsModelStatus.kOptimal
        self.column_of = model.column_of
        self.solved = False

    def without(self, treatment: int) -> np.ndarray | None:
        """The LP's shares (S, T) with ``treatment`` (and every treatment dropped before) fixed at 0; None if
        the LP so cut has no optimal solution."""
        h = self.highs
        if not self.solved:
            h.run()  # the pass's own LP first: the basis every drop starts from
            self.solved = True
        cols = self.column_of[:, treatment]
        cols = cols[cols >= 0].astype(np.int32)
        if cols.size:
            zeros = np.zeros(cols.size)
            h.changeColsBounds(cols.size, cols, zeros, zeros)
        h.run()
        if h.getModelStatus() != self._optimal:
            return None
        x = np.asarray(h.getSolution().col_value, dtype=float)
        shares = np.zeros(self.column_of.shape)
        mask = self.column_of >= 0
        shares[mask] = np.clip(x[self.column_of[mask]], 0.0, 1.0)
        return shares
