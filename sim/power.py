"""Test size for champion/challenger: how many accounts a test needs to see a lift, and how long it takes.

A bank tests a challenger strategy on a share of its book, assigned at random,
and reads the result with a two-sample test after some months. Before it
starts, the manager asks: how many accounts must the test hold to detect a
given lift with a given power (or, with the accounts at hand, what lift can it
detect), and how many months of inflow is that?

Rates of accounts (cure, charge-off)
    The two-proportion z-test, two-sided, without continuity correction, in
    Fleiss' form: the pooled rate's variance under H0 and each arm's own
    variance under H1 (Fleiss, Levin & Paik, *Statistical Methods for Rates
    and Proportions*, 3rd ed., 2003, ch. 4; the same as R's
    ``power.prop.test`` for equal arms). With the challenger on a share ``s``
    of ``n`` accounts (``n_c = n·s``, ``n_0 = n·(1 − s)``)::

        √n·|δ| = z_{1−α/2}·√(p̄q̄ / (s(1 − s))) + z_{1−β}·√(p₁q₁ / s + p₀q₀ / (1 − s)),
        p̄ = s·p₁ + (1 − s)·p₀,   p₁ = p₀ + δ,

    and each arm is rounded up, so the test has at least the stated power.
    The detectable lift for given accounts solves the same equation for δ.

Cash per account
    The two-sample z-test with unequal arms (Welch's statistic), the variance
    of an account's collections taken from a pilot simulation of the scenario
    (the engine's account ledger) for both arms::

        n = (z_{1−α/2} + z_{1−β})²·σ² / (s(1 − s)·δ²).

Accounts are taken as independent draws: in a real book (and in the engine)
they share agents and calendars, which the formula does not see; the benchmark
``benchmarks/power_check.py`` runs the test many times to check the figures.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

from .errors import InputError

SOURCE = "command line"

# KPIs of sim.metrics that are shares of accounts, so that one account is one Bernoulli trial.
# (The right-party contact rate is per call attempt, the promise-kept rate per promise, the
# recovery rate a share of money: none of them is a share of accounts.)
RATE_KPIS = {
    "cure_rate": "share of initially delinquent accounts that ended cured or paid off",
    "charge_off_rate": "share of accounts charged off",
}
CASH_KPIS = ("cash_per_account", "collected_per_account")
KPIS = (*RATE_KPIS, *CASH_KPIS)

RATE_METHOD = ("two-proportion z-test, two-sided, no continuity correction (Fleiss: pooled variance "
               "under H0, each arm's own under H1); each arm rounded up")
CASH_METHOD = ("two-sample z-test on cash per account with unequal arms (Welch's statistic), two-sided, "
               "variance per account from a pilot simulation, the same for both arms; each arm rounded up")
ASSUMPTION = ("accounts assigned at random and independent of one another; the formula does not see "
              "that the arms share agents and calendars")


@dataclass(frozen=True)
class TestSize:
    """The answer to a planning question, with the settings that produced it."""

    __test__ = False  # not a pytest test class, despite its name

    kpi: str
    share: float
    alpha: float
    power: float
    method: str
    accounts_champion: int
    accounts_challenger: int
    accounts_total: int
    lift: float | None = None  # asked for (--lift), else the detectable one
    base: float | None = None  # the champion's rate (rates) or mean cash per account (pilot)
    detectable_lift: float | None = None  # with --accounts: the smallest lift found at the power
    detectable_drop: float | None = None  # rates: the smallest fall found at the power
    inflow: float | None = None
    months: int | None = None
    sd_per_account: float | None = None  # cash: the pilot's standard deviation per account
    pilot: dict[str, Any] = field(default_factory=dict)
    assumption: str = ASSUMPTION

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None and v != {}}


# ----------------------------------------------------------------------------- checks


def _finite(value: float, option: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(SOURCE, option, f"must be a number, got {value!r}") from None
    if not math.isfinite(value):
        raise InputError(SOURCE, option, f"must be a finite number, got {value!r}")
    return value


def open_unit(value: float, option: str, what: str = "a probability") -> float:
    """``value`` if it lies strictly between 0 and 1, else the one-line error."""
    value = _finite(value, option)
    if not 0.0 < value < 1.0:
        raise InputError(SOURCE, option, f"must be strictly between 0 and 1 ({what}), got {value:g}")
    return value


def check_kpi(kpi: str) -> str:
    if kpi not in KPIS:
        raise InputError(SOURCE, "--kpi", f"unknown KPI {kpi!r}; rates of accounts: {', '.join(RATE_KPIS)}; "
                                          f"cash: {', '.join(CASH_KPIS)}")
    return kpi


def check_design(share: float, alpha: float, power: float) -> tuple[float, float, float]:
    return (open_unit(share, "--share", "the challenger's share of the book"),
            open_unit(alpha, "--alpha", "the significance level"),
            open_unit(power, "--power", "the chance of detecting the lift"))


def _check_rates(base: float, lift: float) -> tuple[float, float]:
    base = open_unit(base, "--base", "the champion's rate")
    lift = _finite(lift, "--lift")
    if lift == 0:
        raise InputError(SOURCE, "--lift", "must not be 0 (an absolute difference of the rate, e.g. 0.02)")
    if not 0.0 < base + lift < 1.0:
        raise InputError(SOURCE, "--lift", f"moves the rate to {base + lift:g}, outside (0, 1); "
                                           "the lift is an absolute difference (0.02 = 2 points)")
    return base, lift


def _check_accounts(accounts: int) -> int:
    if isinstance(accounts, bool) or not isinstance(accounts, int) or accounts < 2:
        raise InputError(SOURCE, "--accounts", f"must be a whole number ≥ 2, got {accounts!r}")
    return accounts


def _months(total: int, inflow: float | None) -> int | None:
    if inflow is None:
        return None
    inflow = _finite(inflow, "--inflow")
    if inflow <= 0:
        raise InputError(SOURCE, "--inflow", f"must be > 0 (accounts entering the test a month), got {inflow:g}")
    return math.ceil(total / inflow)


# ----------------------------------------------------------------------------- the formulas


def z_values(alpha: float, power: float) -> tuple[float, float]:
    """``z_{1−α/2}`` and ``z_{power}`` of the standard normal."""
    from scipy.special import ndtri

    return float(ndtri(1.0 - alpha / 2.0)), float(ndtri(power))


def arms(total: float, share: float) -> tuple[int, int]:
    """Champion and challenger accounts for an (unrounded) total, each rounded up."""
    return math.ceil(total * (1.0 - share) - 1e-9), math.ceil(total * share - 1e-9)


def rate_total(base: float, lift: float, share: float, alpha: float, power: float) -> float:
    """The unrounded total ``n`` of the two-proportion formula (Fleiss, no continuity correction)."""
    za, zb = z_values(alpha, power)
    p0, p1 = base, base + lift
    pooled = share * p1 + (1.0 - share) * p0
    h0 = math.sqrt(pooled * (1.0 - pooled) / (share * (1.0 - share)))
    h1 = math.sqrt(p1 * (1.0 - p1) / share + p0 * (1.0 - p0) / (1.0 - share))
    return ((za * h0 + zb * h1) / lift) ** 2


def rate_power(base: float, lift: float, champion: float, challenger: float, alpha: float) -> float:
    """The power of the two-sided test with these arms (the far tail left out, as in the formula)."""
    from scipy.special import ndtr, ndtri

    za = float(ndtri(1.0 - alpha / 2.0))
    p0, p1 = base, base + lift
    pooled = (challenger * p1 + champion * p0) / (challenger + champion)
    se0 = math.sqrt(pooled * (1.0 - pooled) * (1.0 / challenger + 1.0 / champion))
    se1 = math.sqrt(p1 * (1.0 - p1) / challenger + p0 * (1.0 - p0) / champion)
    return float(ndtr((abs(lift) - za * se0) / se1))


def _rate_detectable(base: float, champion: int, challenger: int, alpha: float, power: float,
                     sign: int) -> float | None:
    """The smallest lift (sign +1) or fall (−1) of the rate the test finds with ``power``; None if none can."""
    from scipy.optimize import brentq

    edge = (1.0 - base) if sign > 0 else base
    low, high = 1e-12, edge * (1.0 - 1e-9)

    def gap(size: float) -> float:
        return rate_power(base, sign * size, champion, challenger, alpha) - power

    if gap(high) < 0:
        return None
    if gap(low) >= 0:
        return low
    return float(brentq(gap, low, high, xtol=1e-12))


def cash_total(sd: float, lift: float, share: float, alpha: float, power: float) -> float:
    """The unrounded total ``n`` of the two-sample z formula with unequal arms and one variance."""
    za, zb = z_values(alpha, power)
    return ((za + zb) * sd / lift) ** 2 / (share * (1.0 - share))


def cash_detectable(sd: float, champion: int, challenger: int, alpha: float, power: float) -> float:
    """The smallest difference of cash per account these arms find with ``power``."""
    za, zb = z_values(alpha, power)
    return (za + zb) * sd * math.sqrt(1.0 / champion + 1.0 / challenger)


# ----------------------------------------------------------------------------- the answers


def _exclusive(lift, accounts) -> None:
    if (lift is None) == (accounts is None):
        raise InputError(SOURCE, "--lift/--accounts", "give exactly one: --lift (find the accounts) or "
                                                      "--accounts (find the detectable lift)")


def rate_test_size(kpi: str, base: float, *, share: float = 0.5, alpha: float = 0.05, power: float = 0.8,
                   lift: float | None = None, accounts: int | None = None,
                   inflow: float | None = None) -> TestSize:
    """Accounts for a lift of a rate KPI (``lift``), or the lift ``accounts`` can detect."""
    check_kpi(kpi)
    if kpi not in RATE_KPIS:
        raise InputError(SOURCE, "--kpi", f"{kpi} is not a rate of accounts; use rate_test_size for "
                                          f"{', '.join(RATE_KPIS)}")
    _exclusive(lift, accounts)
    share, alpha, power = check_design(share, alpha, power)
    if lift is not None:
        base, lift = _check_rates(base, lift)
        champion, challenger = arms(rate_total(base, lift, share, alpha, power), share)
        return TestSize(kpi, share, alpha, power, RATE_METHOD, champion, challenger, champion + challenger,
                        lift=lift, base=base, inflow=inflow, months=_months(champion + challenger, inflow))
    base = open_unit(base, "--base", "the champion's rate")
    total = _check_accounts(accounts)
    champion, challenger = round(total * (1.0 - share)), total - round(total * (1.0 - share))
    if min(champion, challenger) < 1:
        raise InputError(SOURCE, "--accounts", f"{total} accounts at share {share:g} leave an arm empty")
    up = _rate_detectable(base, champion, challenger, alpha, power, +1)
    down = _rate_detectable(base, champion, challenger, alpha, power, -1)
    if up is None and down is None:
        raise InputError(SOURCE, "--accounts", f"{total} accounts cannot detect any change of the rate with "
                                               f"power {power:g}; give more accounts")
    return TestSize(kpi, share, alpha, power, RATE_METHOD, champion, challenger, total, base=base,
                    detectable_lift=up, detectable_drop=down, inflow=inflow, months=_months(total, inflow))


def cash_test_size(sd: float, *, share: float = 0.5, alpha: float = 0.05, power: float = 0.8,
                   lift: float | None = None, accounts: int | None = None, inflow: float | None = None,
                   kpi: str = "cash_per_account", mean: float | None = None,
                   pilot: dict | None = None) -> TestSize:
    """Accounts for a lift of cash per account (in money), or the lift ``accounts`` can detect.

    ``sd`` is the standard deviation of one account's collections (from a
    pilot: :func:`pilot_cash`); ``mean`` (the pilot's mean) is reported as the base.
    """
    check_kpi(kpi)
    _exclusive(lift, accounts)
    share, alpha, power = check_design(share, alpha, power)
    sd = _finite(sd, "--scenario")
    if sd <= 0:
        raise InputError(SOURCE, "--scenario", "the pilot's cash per account does not vary (nobody paid, or "
                                               "everybody paid the same): give a longer or larger pilot")
    common = {"base": mean, "sd_per_account": sd, "pilot": pilot or {}, "inflow": inflow}
    if lift is not None:
        lift = _finite(lift, "--lift")
        if lift == 0:
            raise InputError(SOURCE, "--lift", "must not be 0 (a difference of cash per account, in money)")
        champion, challenger = arms(cash_total(sd, abs(lift), share, alpha, power), share)
        total = champion + challenger
        return TestSize(kpi, share, alpha, power, CASH_METHOD, champion, challenger, total, lift=lift,
                        months=_months(total, inflow), **common)
    total = _check_accounts(accounts)
    champion = round(total * (1.0 - share))
    if min(champion, total - champion) < 1:
        raise InputError(SOURCE, "--accounts", f"{total} accounts at share {share:g} leave an arm empty")
    return TestSize(kpi, share, alpha, power, CASH_METHOD, champion, total - champion, total,
                    detectable_lift=cash_detectable(sd, champion, total - champion, alpha, power),
                    months=_months(total, inflow), **common)


def pilot_cash(scenario, reps: int, seed: int | None = None) -> dict[str, Any]:
    """Mean and standard deviation of one account's collections over ``reps`` pilot runs of ``scenario``.

    Each replication is a run with its own child seed (``SeedSequence(seed).spawn(reps)``), with
    the account ledger kept; every account a champion/challenger readout would count is one observation
    (:func:`_pilot_accounts`).
    """
    import numpy as np

    if isinstance(reps, bool) or not isinstance(reps, int) or reps < 1:
        raise InputError(SOURCE, "--pilot-reps", f"must be a whole number ≥ 1, got {reps!r}")
    root = np.random.SeedSequence(scenario.simulation.seed if seed is None else seed)
    values = np.concatenate([_pilot_accounts(scenario, child) for child in root.spawn(reps)])
    return {"scenario": scenario.display_name, "scenario_hash": scenario.content_hash, "reps": reps,
            "seed": int(root.entropy), "accounts": int(round(values.size / reps)),
            "days": int(scenario.simulation.days), "observations": int(values.size),
            "mean": float(values.mean()), "sd": float(values.std(ddof=1)) if values.size > 1 else 0.0}


def _pilot_accounts(scenario, seed):
    """One pilot run's cash by account, over the accounts a champion/challenger readout counts (the cash
    test's sample, :class:`sim.arms.Population`): every account of a closed cohort; with an open book the
    measured book and the accounts back in collection in the measured days, not the warm-up's cured,
    paid-off and charged-off accounts, which the ledger holds with nothing collected."""
    import numpy as np

    from .arms import Population
    from .engine import Engine
    from .metrics import measured_book
    from .portfolio import build_portfolio
    from .simulation import simulate
    from .streams import RandomStreams

    if scenario.strategies is not None:  # one book, several ladders: sim.arms runs it
        result = simulate(scenario, seed, contact_log=True, ledger=True)
        return result.ledger.collected[result.arms.population.worked(np.ones(result.accounts, dtype=bool))]
    streams = RandomStreams(seed)
    engine = Engine(scenario, build_portfolio(scenario, streams["portfolio"]), streams, record_contacts=True,
                    ledger=True)
    engine.run()
    outcome = engine.outcome()
    population = Population.of(outcome, *measured_book(outcome))
    return outcome.ledger.collected[population.worked(np.ones(outcome.accounts, dtype=bool))]


__all__ = ["CASH_KPIS", "KPIS", "RATE_KPIS", "TestSize", "arms", "cash_detectable", "cash_test_size",
           "cash_total", "pilot_cash", "rate_power", "rate_test_size", "rate_total", "z_values"]
