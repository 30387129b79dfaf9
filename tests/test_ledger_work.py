"""The account ledger's agent work: each team's minutes and units by week and account, from the agents' rows."""

from __future__ import annotations

import numpy as np

from sim.ledger import AccountLedger


def test_agent_work_is_each_teams_rows_added_in_their_order():
    """Rows of many teams interleaved (a valuation's runs made together: a team a copy) give each team the sums
    of its own rows, added in the rows' order, and the teams appear in the order of their first rows."""
    rng = np.random.default_rng(5)
    team_of_agent = [f"team{k % 7}" for k in range(30)]
    rows = np.column_stack([rng.integers(0, 50, 4000), rng.uniform(0, 60 * 1440, 4000),
                            rng.integers(0, 30, 4000), rng.exponential(3.0, 4000)])
    ledger = AccountLedger(accounts=50, days=60)
    ledger.add_agent_work(team_of_agent, rows)
    first_rows = dict.fromkeys(team_of_agent[int(agent)] for agent in rows[:, 2])
    assert list(ledger.minutes) == list(first_rows) == list(ledger.work)
    for team in ledger.minutes:
        minutes, work = np.zeros((9, 50)), np.zeros((9, 50))
        for account, minute, agent, duration in rows:  # one row at a time, in order
            if team_of_agent[int(agent)] == team:
                week = int(min(minute // 1440, 59)) // 7
                minutes[week, int(account)] += duration
                work[week, int(account)] += 1.0
        assert np.array_equal(ledger.minutes[team], minutes), team
        assert np.array_equal(ledger.work[team], work), team
