"""One solver factory for every LP and MIP: known answers by each solver, and the one fallback rule."""

from __future__ import annotations

import pulp
import pytest

from optimizer import solvers


def _lp() -> pulp.LpProblem:
    """max 3x + 2y s.t. x + y ≤ 4, x + 3y ≤ 6, x ≤ 3: x = 3, y = 1, objective 11."""
    prob = pulp.LpProblem("known_lp", pulp.LpMaximize)
    x, y = prob.add_variable("x", 0), prob.add_variable("y", 0)
    prob += 3 * x + 2 * y
    prob += x + y <= 4, "total"
    prob += x + 3 * y <= 6, "mix"
    prob += x <= 3, "x_cap"
    return prob


def _mip() -> pulp.LpProblem:
    """max x + y s.t. 2x + 2y ≤ 5, x, y integer ≥ 0: objective 2 (the relaxation: 2.5)."""
    prob = pulp.LpProblem("known_mip", pulp.LpMaximize)
    x, y = (prob.add_variable(n, 0, cat="Integer") for n in "xy")
    prob += x + y
    prob += 2 * x + 2 * y <= 5, "cap"
    return prob


@pytest.mark.parametrize("name", solvers.SOLVERS)
def test_each_solver_finds_the_known_lp_optimum(name):
    prob = _lp()
    code = solvers.solve(prob, solvers.get_solver(name, mip=False))
    assert pulp.LpStatus[code] == "Optimal"
    assert pulp.value(prob.objective) == pytest.approx(11.0)
    assert solvers.solver_name(prob.solver) == name


@pytest.mark.parametrize("name", solvers.SOLVERS)
def test_each_solver_finds_the_known_mip_optimum_and_its_relaxation(name):
    prob = _mip()
    assert pulp.LpStatus[solvers.solve(prob, solvers.get_solver(name, mip=True, gap_rel=1e-9))] == "Optimal"
    assert pulp.value(prob.objective) == pytest.approx(2.0)
    relaxed = _mip()
    solvers.solve(relaxed, solvers.get_solver(name, mip=False, time_limit=10))
    assert pulp.value(relaxed.objective) == pytest.approx(2.5)


def test_an_unknown_solver_is_refused():
    with pytest.raises(ValueError, match="use highs or cbc"):
        solvers.get_solver("gurobi", mip=True)


class _BrokenHiGHS(pulp.HiGHS):
    def actualSolve(self, lp, **kwargs):
        raise pulp.PulpSolverError("highspy crashed")


class _MissingHiGHS(pulp.HiGHS):
    def available(self):
        return False


def test_cbc_answers_when_highs_fails():
    prob = _lp()
    solvers.solve(prob, solvers.get_solver("highs", mip=False, highs=_BrokenHiGHS))
    assert solvers.solver_name(prob.solver) == "cbc"
    assert pulp.value(prob.objective) == pytest.approx(11.0)


def test_cbc_is_chosen_when_highspy_is_missing():
    assert solvers.solver_name(solvers.get_solver("highs", mip=True, highs=_MissingHiGHS)) == "cbc"


def test_without_fallback_a_failing_highs_is_the_callers_to_report():
    solver = solvers.get_solver("highs", mip=False, fallback=False, highs=_BrokenHiGHS)
    with pytest.raises(pulp.PulpSolverError, match="highspy crashed"):
        solvers.solve(_lp(), solver)
