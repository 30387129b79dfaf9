"""The call centre and the conversations read and write the book's columns element by element through
memoryviews (sim/engine/calls.py, conversation.py): those views must stay the book's own columns for the
whole run, or a lift, a promise or a quiet period would be written into an array nobody reads."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim.engine import Engine
from sim.portfolio import build_portfolio
from sim.scenario import load_scenario
from sim.streams import RandomStreams

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"


def test_the_dials_and_conversations_write_into_the_books_own_columns_to_the_end_of_a_run():
    scenario = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 3000, "simulation.days": 12,
                                                           "simulation.warmup_days": 3})
    streams = RandomStreams(3)
    engine = Engine(scenario, build_portfolio(scenario, streams["portfolio"]), streams, record_contacts=False)
    engine.run()
    book, counters, calls = engine.book, engine.counters, engine.calls
    conversation = calls.conversation
    views = [
        (calls.pending_lift, book.pending_lift), (calls.contacts_7d, counters.contacts_7d),
        (calls.last_conversation, counters.last_conversation), (conversation.status, book.status),
        (conversation.in_plan, book.in_plan), (conversation.pending_lift, book.pending_lift),
        (conversation.balance, book.balance), (conversation.past_due, book.past_due),
        (conversation.promise_amount, book.promise_amount), (conversation.promise_day, book.promise_day),
        (conversation.promises_made, engine.tally.promises_made),
        *zip(calls.inbound_tally, (engine.tally.inbound_answered, engine.tally.inbound_wait,
                                   engine.tally.inbound_waited, engine.tally.inbound_within_target,
                                   engine.tally.contacts), strict=True),
    ]
    for view, column in views:
        assert view.obj is column
    # The run did write through them: promises were made and conversations started quiet periods.
    assert engine.tally.promises_made.sum() > 0
    assert engine.tally.inbound_answered.sum() > 0
    assert (book.promise_amount > 0).any()
    assert (counters.last_conversation >= 0).any()  # NEVER (no conversation yet) is negative
    # A write through a view is the column's element, the same value as NumPy's scalar assignment stores.
    i = int(np.flatnonzero(book.balance > 0)[0])
    conversation.balance[i] = 0.1 + 0.2
    assert book.balance[i] == 0.1 + 0.2
