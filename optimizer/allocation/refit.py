"""A pass's allocation LP re-solved straight from its matrix while the ladder fit drops treatments.

A plan the simulated valuation scatters over many treatments may need more
ladder steps than a strategy allows; :func:`optimizer.allocation.ladder_fit.fit_ladder`
then solves the LP again without the treatment the fewest accounts get, one
at a time, until the plan fits (71 solves on hawkes_baseline at 5,000
accounts, all of it serial time between the passes' batches of engine runs).
Each was a PuLP model built from scratch and read back into a full ``Plan``,
when all the fit reads is the plan's shares. Here each drop's LP is cut from
the pass's own matrix — its columns without the dropped treatments, and
without the rows a fresh build leaves out (a capacity or budget row with no
coefficient left) — and handed to HiGHS as is: the same arrays, in the same
order, that :class:`optimizer.allocation.lp.ArrayHiGHS` would hand it for
the model built without them, so the same solution. The plan that fits is
then built and solved the usual way, duals and report included.

Solved cold on purpose: re-solving one model from the last basis was four
times faster, but where the LP has several optima (small samples, tied
values) it can stop at another one than a fresh solve, which then drops
other treatments (measured on card_baseline at 1,000 accounts with eight
balance bands: the fifth drop differed).
"""

from __future__ import annotations

import numpy as np

from ..solvers import native_stdout_silenced
from .lp import AllocationModel


class Refit:
    """The model's matrix, cut and solved again as treatments are dropped (:meth:`without`)."""

    def __init__(self, model: AllocationModel, time_limit: float | None = None):
        self.matrix = model.matrix.tocsr()
        self.cost = model.cost
        self.row_lower, self.row_upper = model.row_lower, model.row_upper
        self.column_of = model.column_of
        # The assignment rows (one per segment, first) stay whatever is left in them; the others go with their
        # last coefficient, as build_allocation_model leaves out a row with none.
        self.always = np.arange(self.matrix.shape[0]) < self.column_of.shape[0]
        self.kept = np.ones(self.matrix.shape[1], dtype=bool)
        self.time_limit = time_limit

    def without(self, treatment: int) -> np.ndarray | None:
        """The LP's shares (S, T) without ``treatment`` (and every treatment dropped before); None if the LP
        so cut has no optimal solution."""
        import highspy

        cols = self.column_of[:, treatment]
        self.kept[cols[cols >= 0]] = False
        cut = self.matrix[:, self.kept]
        rows = np.flatnonzero(self.always | (np.diff(cut.indptr) > 0))
        A = cut[rows].tocsc()
        n = A.shape[1]
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = n, A.shape[0]
        lp.col_cost_ = -self.cost[self.kept]  # HiGHS minimises
        lp.col_lower_, lp.col_upper_ = np.zeros(n), np.ones(n)
        lower = self.row_lower[rows]
        lp.row_lower_ = np.where(np.isfinite(lower), lower, -highspy.kHighsInf)
        lp.row_upper_ = self.row_upper[rows]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = A.indptr, A.indices, A.data
        with native_stdout_silenced():
            h = highspy.Highs()
            h.setOptionValue("output_flag", False)
            if self.time_limit is not None:
                h.setOptionValue("time_limit", float(self.time_limit))
            h.passModel(lp)
            h.run()
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        # The kept columns in their order, as a fresh model numbers them (row-major over segment × treatment).
        column_of = np.full(self.column_of.shape, -1, dtype=np.int64)
        where = self.column_of >= 0
        renumber = np.cumsum(self.kept) - 1
        keep = where & self.kept[np.where(where, self.column_of, 0)]
        column_of[keep] = renumber[self.column_of[keep]]
        x = np.asarray(h.getSolution().col_value, dtype=float)
        shares = np.zeros(self.column_of.shape)
        shares[keep] = np.clip(x[column_of[keep]], 0.0, 1.0)
        return shares
