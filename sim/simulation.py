"""``simulate``: one scenario, one seed, one run — a pure function of its inputs."""

from __future__ import annotations

from .engine import Engine
from .metrics import RunResult, build_result
from .portfolio import Portfolio, build_portfolio
from .scenario import Scenario
from .streams import RandomStreams, describe_seed


def simulate(scenario: Scenario, rng=None, *, portfolio: Portfolio | None = None,
             contact_log: bool = True, progress=None, step_accounts=None, ledger: bool = False,
             paired_draws: bool = False, history: bool = False) -> RunResult:
    """Run the scenario once.

    Parameters
    ----------
    scenario
        A validated scenario.
    rng
        An int seed, a ``numpy.random.SeedSequence`` or a ``Generator``; by default
        the scenario's ``simulation.seed``. Every stochastic input gets its own
        stream spawned from it, so the same seed gives the same numbers.
    portfolio
        The accounts to use; by default built from the scenario (generated from
        the ``portfolio`` stream, or imported from its CSV).
    contact_log
        Keep every contact in ``RunResult.contact_log`` (memory grows with contacts).
    progress
        Called as ``progress(day, days)`` after every simulated day.
    step_accounts
        Per ladder step, a boolean mask of the accounts it may act on (None: all):
        one strategy giving different accounts different steps. Without it, every
        step acts on every account its own conditions select.
    ledger
        Keep per-account totals in ``RunResult.ledger`` (:class:`sim.ledger.AccountLedger`).
    paired_draws
        Draw every account's call, conversation, promise, visit and legal
        outcomes from its own numbered sequence (:class:`sim.streams.AccountDraws`)
        rather than from streams shared in the order of events: two runs of the
        same seed and book then pair account by account. Another set of
        numbers than the default mode's, as deterministic.
    history
        Keep the run's history as a lender exports it in ``RunResult.history``
        (:class:`sim.history.RunHistory`): every cash receipt and every account
        the run saw, what ``--payments-out`` and ``--portfolio-out`` write.

    A champion/challenger scenario (``[[strategies]]``) runs as one book with
    its accounts assigned to the strategies (:func:`sim.arms.simulate_arms`);
    its result carries ``arms``, ``kpis_by_strategy`` and ``strategy_tests``.
    """
    streams = RandomStreams(scenario.simulation.seed if rng is None else rng)
    if portfolio is None:
        portfolio = build_portfolio(scenario, streams["portfolio"])
    if scenario.strategies is not None:
        from .arms import simulate_arms

        return simulate_arms(scenario, portfolio, streams, contact_log=contact_log, progress=progress,
                             step_accounts=step_accounts, ledger=ledger, paired_draws=paired_draws, history=history)
    engine = Engine(scenario, portfolio, streams, record_contacts=contact_log, progress=progress,
                    step_accounts=step_accounts, ledger=ledger, paired_draws=paired_draws,
                    record_payments=history)
    engine.run()
    return build_result(engine.outcome(), scenario_name=scenario.display_name, scenario_hash=scenario.content_hash,
                        seed=describe_seed(streams.seed_sequence))
