"""What a plan is worth to a collections manager: cash within the horizon and the book left at it.

Counting only the cash collected within the horizon makes a plan let early
accounts roll: what has not paid by the last day is worth nothing to it. The
objective here adds the value of the balance still outstanding at the
horizon, by days-past-due state (``[objective] balance_value``: expected
future collections per unit of balance), and counts a balance written off
within the horizon (charged off, or closed after legal action) at what it may
still bring (``written_off_value``), once: an account charged off contributes
its loss — the gap between its balance and that value — and its later
recoveries, nothing more. ``roll_past_30`` prices each account that reaches
31 days past due (bureau reporting and IFRS 9 stage 2 begin there); by default
it is 0, and the count is reported as the provision view.

One definition serves the valuation and the simulator: the valuation's runs
give the balance at the horizon by roll state (:data:`sim.domain.ROLL_STATES`),
the balance written off and the accounts rolled past 30 from the account
ledger; a simulator run gives the same from its KPIs and series.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.domain import ROLL_STATES
from sim.scenario import Scenario

CURRENT, LEGAL = ROLL_STATES.index("current"), ROLL_STATES.index("legal")


@dataclass(frozen=True)
class HorizonBook:
    """The book at the horizon (any leading shape: accounts, or segments × treatments).

    ``balance`` has a last axis over :data:`ROLL_STATES`; ``written_off`` is
    the balance written off within the horizon; ``rolled_past_30`` the
    accounts that reached 31 days past due.
    """

    balance: np.ndarray
    written_off: np.ndarray
    rolled_past_30: np.ndarray


def state_weights(scenario: Scenario) -> np.ndarray:
    """The value of a unit of balance in each roll state at the horizon (charged off: nothing left)."""
    spec = scenario.objective
    weights = np.zeros(len(ROLL_STATES))
    for k, state in enumerate(ROLL_STATES):
        weights[k] = spec.balance_value.get(state, 0.0)
    return weights


def horizon_value(scenario: Scenario, book: HorizonBook) -> np.ndarray:
    """Σ weight × balance by state + what written-off balances still bring − the price of rolling past 30."""
    spec = scenario.objective
    if not spec.horizon_value:
        return np.zeros(np.shape(book.written_off))
    # numpy's own sum, not a matrix product: BLAS picks its kernel by CPU, and a plan must be the same on every
    # machine (tests/test_goldens.py holds the plans' digests).
    return ((book.balance * state_weights(scenario)).sum(axis=-1) + spec.written_off_value * book.written_off
            - spec.roll_past_30 * book.rolled_past_30)


def run_book(kpis: dict, series: dict) -> HorizonBook:
    """A simulator run's book at the horizon, from its KPIs and daily series."""
    return HorizonBook(balance=np.asarray(series["outstanding_by_bucket"][-1], dtype=float),
                       written_off=np.asarray(float(kpis["written_off"])),
                       rolled_past_30=np.asarray(float(kpis.get("rolled_past_30", 0))))


# The borrower model [objective] balance_value's defaults were measured under (sim.scenario.DEFAULT_BALANCE_VALUE).
DEFAULTS_MEASURED_UNDER = "hawkes"
# The runs that measure another model's balance values: a child of the scenario's seed that neither
# --verify's replications (children 0 … reps − 1) nor the simulated valuation (1,000,003) use.
BALANCE_VALUE_STREAM = 1_000_033


def engine_balance_values(scenario: Scenario, *, days: int = 180) -> tuple[Scenario, str]:
    """The scenario with balance values measured by the engine where the defaults do not describe its borrowers.

    The defaults of ``[objective] balance_value`` were measured on baseline's
    book under ``model = "hawkes"``; another model's balance is worth what
    that model collects of it. When the scenario keeps the defaults (and
    counts the book at the horizon) under another model, the delinquent
    buckets' values are measured on its own book and ladder by
    :func:`measure_balance_values` (one run of ``days`` days, seeds of their
    own) against the scenario's ``current`` and ``legal`` values, which stay
    as stated (the defaults, or the scenario's own). Returns the
    scenario (unchanged otherwise) and a note saying what was measured ('' if nothing).
    """
    from sim.scenario import DEFAULT_BALANCE_VALUE

    spec = scenario.objective
    # Only the delinquent buckets are measured here: a scenario may state its own `current` (baseline's is
    # measured by benchmarks/current_value.py) and still have its buckets measured against it.
    buckets = [state for state in DEFAULT_BALANCE_VALUE if state not in ("current", "legal")]
    if (scenario.behavior.model == DEFAULTS_MEASURED_UNDER or not spec.horizon_value
            or any(spec.balance_value[k] != DEFAULT_BALANCE_VALUE[k] for k in buckets)):
        return scenario, ""
    seed = np.random.SeedSequence(scenario.simulation.seed, spawn_key=(BALANCE_VALUE_STREAM,))
    measured = measure_balance_values(scenario, [seed], days=days)
    # A value per unit of balance is between 0 and 1 (the section's own rule); the fixed point can step out
    # of it only by sampling noise in a sparse bucket.
    values = {**spec.balance_value, **{k: min(max(v, 0.0), 1.0) for k, v in measured.items()}}
    objective = spec.model_copy(update={"balance_value": values})
    shown = ", ".join(f"{k} {values[k]:.2f}" for k in measured)
    note = (f"balance values at the horizon measured by the engine under model = {scenario.behavior.model!r} "
            f"(the defaults are hawkes'): {shown}")
    return scenario.model_copy(update={"objective": objective}), note


def measure_balance_values(scenario: Scenario, seeds, *, days: int = 180) -> dict[str, float]:
    """Expected future collections per unit of balance, by days-past-due bucket, measured by the engine.

    Each run is the scenario's book under its own ladder for ``days`` days
    (with the account ledger). A bucket's unit of balance is worth what its
    accounts paid, plus what their balance at the end is worth by the state
    it ended in — ``current`` and ``legal`` at the scenario's weights,
    written off at ``written_off_value``, still delinquent at the bucket
    values themselves — over their starting balance. The last part makes
    the values a fixed point, w = c + M·w (M: balance ending in each
    delinquent bucket per unit started in each), solved exactly. Pooled over
    the runs of ``seeds``. How the defaults of ``[objective] balance_value``
    were measured (docs/optimizer_validation.md).
    """
    flows = [_run_flows(scenario, seed, days, current=False) for seed in seeds]
    return _fixed_point(_sum_flows(flows), discount=1.0)


@dataclass(frozen=True)
class CurrentValue:
    """The value of a unit of current (cured) balance at the horizon, measured by the engine (:func:`measure_current_value`)."""

    value: float  # pooled over the runs, discounted
    std_error: float  # over the runs (their spread / √runs)
    undiscounted: float  # the same fixed point with no discounting beyond the window (nan if nothing leaves current)
    per_run: tuple[float, ...]
    discount: float  # the factor applied to each window's carried balance
    accounts_current: int  # rows current at the start of the measured days, over the runs
    balance_current: float
    buckets: dict[str, float]  # the delinquent buckets' values solved in the same system


def measure_current_value(scenario: Scenario, seeds, *, days: int = 180) -> CurrentValue:
    """Expected discounted future collections of a unit of balance current at the horizon, by the engine.

    The delinquent buckets' method (:func:`measure_balance_values`) with the
    current state added to the fixed point: an open book's accounts that
    cured in the warm-up and still owe their balance start the measured days
    current; over ``days`` days they may re-default, roll, pay, cure again
    and charge off (then ``written_off_value``), and what each row still
    owes at the end is worth the value of the state it ends in — current
    and the delinquent buckets solved together, w = c + β·M·w. Cash within
    the window is nominal (as for the delinquent buckets); the balance
    carried past it is discounted by β = (1 + simulation.discount_rate)^(−days/365)
    per window, because a current balance is collected over years, not
    months, and a dollar then is worth less than a dollar collected now.
    Collections only: the simulator follows a cured account's balance (no
    interest, no payments until it re-defaults), so interest a revolving
    cardholder pays is not counted — it is the lender's income for lending,
    not a collection of the balance at the horizon.

    Needs an open book with a warm-up (``[arrivals]``, ``warmup_days`` > 0):
    only then does the run hold accounts current when the measured days start.
    """
    if scenario.simulation.warmup_days <= 0 or scenario.strategies is not None:
        raise ValueError("measuring the current balance's value needs an open book with a warm-up "
                         "([arrivals], simulation.warmup_days > 0) and one strategy")
    beta = (1.0 + scenario.simulation.discount_rate) ** (-days / 365.0)
    flows = [_run_flows(scenario, seed, days, current=True) for seed in seeds]
    per_run = tuple(_fixed_point(f, discount=beta)["current"] for f in flows)
    pooled = _sum_flows(flows)
    values = _fixed_point(pooled, discount=beta)
    spread = float(np.std(per_run, ddof=1) / np.sqrt(len(per_run))) if len(per_run) > 1 else float("nan")
    try:
        undiscounted = _fixed_point(pooled, discount=1.0)["current"]
    except np.linalg.LinAlgError:
        # Nothing ever leaves current (no re-default): undiscounted, a balance that is never collected
        # has no finite-horizon value to solve for.
        undiscounted = float("nan")
    return CurrentValue(value=values.pop("current"), std_error=spread, undiscounted=undiscounted, per_run=per_run,
                        discount=beta, accounts_current=int(pooled.accounts[CURRENT]),
                        balance_current=float(pooled.owed[CURRENT]), buckets=values)


@dataclass
class _Flows:
    """One or more runs' money by the state rows started the measured days in (:data:`ROLL_STATES` order)."""

    paid: np.ndarray  # cash, written-off value and settled end balances per start state
    owed: np.ndarray  # the balance rows started with
    ending: np.ndarray  # balance started in state a, ending in state b of the system (still to be valued)
    accounts: np.ndarray
    system: tuple[int, ...]  # the states valued by the fixed point


def _sum_flows(flows: list[_Flows]) -> _Flows:
    """Runs pooled: their money added state by state."""
    return _Flows(paid=sum(f.paid for f in flows), owed=sum(f.owed for f in flows),
                  ending=sum(f.ending for f in flows), accounts=sum(f.accounts for f in flows),
                  system=flows[0].system)


def _run_flows(scenario: Scenario, seed, days: int, *, current: bool) -> _Flows:
    """One run of ``days`` measured days with the ledger: where each counted row started, what it brought, where it ended.

    ``current``: rows current at the start (cured in the warm-up, still owing) are counted too, and the
    current state joins the delinquent buckets in the fixed point instead of keeping its stated weight.
    """
    from sim.engine import run_and_read
    from sim.portfolio import bucket_of, build_portfolio
    from sim.simulation import simulate
    from sim.streams import RandomStreams

    world = scenario.with_overrides({"simulation.days": days})
    spec = scenario.objective
    weights = state_weights(scenario)
    n_states = len(ROLL_STATES)
    system = tuple(range(0 if current else 1, 7))
    book = build_portfolio(world, RandomStreams(seed)["portfolio"])  # the book simulate would draw
    if world.strategies is None:
        # The engine's outcome, not the run's KPIs: it says where the measured days start (an open book).
        def read(outcome):
            return *starting_states(outcome, current=current), outcome.ledger

        start, opening, counted, ledger = run_and_read(world, book, RandomStreams(seed), read, ledger=True)
    else:
        ledger = simulate(world, seed, portfolio=book, ledger=True).ledger
        start, opening, counted = bucket_of(book.days_past_due), book.balance, np.ones(len(book), dtype=bool)
    end = ledger.state_end
    settled = np.where(np.isin(end, system), 0.0, weights[end]) * ledger.balance_end
    worth = ledger.collected + spec.written_off_value * ledger.written_off + settled
    paid = np.bincount(start[counted], weights=worth[counted], minlength=n_states)
    owed = np.bincount(start[counted], weights=opening[counted], minlength=n_states)
    accounts = np.bincount(start[counted], minlength=n_states)
    ending = np.zeros((n_states, n_states))
    still = counted & np.isin(end, system)
    np.add.at(ending, (start[still], end[still]), ledger.balance_end[still])
    return _Flows(paid=paid, owed=owed, ending=ending, accounts=accounts, system=system)


def _fixed_point(flows: _Flows, *, discount: float) -> dict[str, float]:
    """Solve w = c + β·M·w over the system's states that some row started in."""
    rows = [k for k in flows.system if flows.owed[k] > 0]
    c = flows.paid[rows] / flows.owed[rows]
    M = flows.ending[np.ix_(rows, rows)] / flows.owed[rows][:, None]
    w = np.linalg.solve(np.eye(len(rows)) - discount * M, c)
    return {ROLL_STATES[k]: float(x) for k, x in zip(rows, w, strict=True)}


def starting_states(result, *, current: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each row of a run (:meth:`sim.engine.Engine.outcome`): the roll state it starts the measured days in, its balance then, and whether it counts.

    A closed book without warm-up: every account of the book, as generated.
    An open book: the accounts in collection when the measured days start (at
    their state and balance then), and the accounts arriving during them (at
    entry); rows out of collection then (cured or written off in the warm-up)
    start nowhere and are not counted — unless ``current``: then the rows
    cured in the warm-up that still owe start current, at their balance then.
    """
    from sim.portfolio import bucket_of

    p = result.portfolio
    start = result.measured_start
    if start is None:
        return bucket_of(p.days_past_due), p.balance, np.ones(len(p), dtype=bool)
    state = bucket_of(start.days_past_due).copy()
    opening = start.balance.copy()
    counted = start.in_book.copy()
    if result.entered_day is not None:
        arrived = (result.entered_day >= start.day) & ~start.in_book
        state[arrived] = bucket_of(p.days_past_due[arrived])
        opening[arrived] = p.balance[arrived]
        counted |= arrived
    # An account in legal when the measured days start is not in a delinquent bucket's flow.
    counted &= (state >= 1) & (state <= 6)
    if current:
        # Out of collection at the start, in the book before it, still owing: cured in the warm-up (written-off
        # and paid-off rows owe nothing, arrivals not yet admitted are held at zero).
        before = np.ones(len(p), dtype=bool) if result.entered_day is None else result.entered_day < start.day
        cured = before & ~start.in_book & (start.balance >= 0.005)
        state[cured] = CURRENT
        counted |= cured
    return state, opening, counted
