"""The contact log's agent rows (sim/contact_log.py): kept flat during a run, built into the same columns."""

from __future__ import annotations

import datetime as dt

import numpy as np

from sim.contact_log import ContactLogBuilder
from sim.domain import CHANNEL_CODE, NO_AGENT, NO_OUTCOME


def test_agent_rows_and_concluded_conversations_come_out_in_the_built_log_as_added():
    log = ContactLogBuilder()
    call, inbound = CHANNEL_CODE["call"], CHANNEL_CODE["inbound_call"]
    first = log.add(2, 600.5, call, 0, 1, 8.25)
    second = log.add(0, 601.0, inbound, 0, 0, 6.0)
    third = log.add(1, 30.0, call, 2, 1, 1.0)
    assert (first, second, third) == (0, 1, 2)
    log.conclude(second, 7)  # the conversation's result replaces right_party on its row
    log.conclude(first, None)  # no result: the row stays as it was
    log.add_batch(np.array([1, 2]), 600.0, "sms")
    assert log.agent_rows().tolist() == [[2, 600.5, 1, 8.25], [0, 601.0, 0, 6.0], [1, 30.0, 1, 1.0]]
    built = log.build(np.array([100, 101, 102]), ["a", "b"], dt.date(2026, 1, 5))
    # Sorted by minute, then account: the call at 30, the two messages at 600, the calls at 600.5 and 601.
    assert built.account.tolist() == [101, 101, 102, 102, 100]
    assert built.minute.tolist() == [30.0, 600.0, 600.0, 600.5, 601.0]
    assert built.channel.tolist() == [call, CHANNEL_CODE["sms"], CHANNEL_CODE["sms"], call, inbound]
    assert built.outcome.tolist() == [2, NO_OUTCOME, NO_OUTCOME, 0, 7]
    assert built.agent.tolist() == [1, NO_AGENT, NO_AGENT, 1, 0]
    assert built.duration.tolist() == [1.0, 0.0, 0.0, 8.25, 6.0]
    assert built.account.dtype == np.int64 and built.agent.dtype == np.int32 and built.outcome.dtype == np.int8


def test_a_log_that_is_off_keeps_no_rows():
    log = ContactLogBuilder(enabled=False)
    assert log.add(0, 1.0, CHANNEL_CODE["call"], 0, 0, 1.0) == -1
    assert log.agent_rows().shape == (0, 4)
