"""Deliveries at one minute: several steps' messages of one channel go out as one batch, to the bit.

With rules by account a step's messages go out at the send time in each
consumer's local time (sim.engine.ladder). A plan's ladder sends each cell's
SMS as a step of its own, so at 10:00 in Chicago several steps deliver to
different accounts; they go out as one batch (Ladder._deliver_at). These
tests hold that batch to the deliveries one after another — every KPI,
series and the contact log, under the shared streams of an ordinary run
and the paired draws of a valuation — and show that batching happens.
"""

from __future__ import annotations

import numpy as np
import pytest
from test_determinism import assert_same_run, run_digest

from sim.engine import ladder
from sim.scenario import load_scenario
from sim.simulation import simulate

from simhelpers import SCENARIOS


def by_segment(name: str):
    """A shipped world whose SMS, e-mail and letter steps are split by risk segment (one step a segment, as a
    plan's ladder writes its cells), with rules by account (baseline's, where the world has none) and opt-outs
    and cease requests frequent enough to happen in a month."""
    scenario = load_scenario(SCENARIOS / f"{name}.toml", {"simulation.accounts": 400, "simulation.days": 35,
                                                          "simulation.warmup_days": 0})
    data = scenario.content()
    steps = []
    for step in data["strategy"]["steps"]:
        if step["channel"] in ("sms", "email", "letter"):
            steps += [{**step, "segments": [segment]} for segment in scenario.portfolio.segments]
        else:
            steps.append(step)
    data["strategy"]["steps"] = steps
    if not data.get("contact"):  # hawkes_baseline: baseline's rules by account and its consumers' time zones
        data["contact"] = load_scenario(SCENARIOS / "baseline.toml").content()["contact"]
    data["contact"]["cease_after_message"] = 0.02
    data["contact"]["opt_out"] = {"sms": 0.05, "email": 0.05}
    return type(scenario).from_dict(data, source=scenario.source, base_dir=scenario.base_dir)


@pytest.mark.parametrize("name", ["baseline", "sms_gentle", "hawkes_baseline"])
@pytest.mark.parametrize("paired", [False, True])
def test_steps_delivering_at_one_minute_go_out_as_one_batch_with_the_numbers_of_one_after_another(
        name, paired, monkeypatch):
    scenario = by_segment(name)
    batches = []
    deliver = ladder.Ladder._deliver

    def counted(self, step, s, idx, minutes, day, on_floor=None, parts=None):
        batches.append(0 if parts is None else len(parts))
        return deliver(self, step, s, idx, minutes, day, on_floor, parts)

    monkeypatch.setattr(ladder.Ladder, "_deliver", counted)
    together = simulate(scenario, paired_draws=paired, ledger=True)
    assert sum(n > 1 for n in batches) > 0.5 * len(batches)  # most deliveries carry several steps' messages
    assert together.kpis["cease_requests"] + together.kpis["opt_outs"] > 0  # the re-checks were exercised
    batched = len(batches)
    # Never batched: every step's part is delivered on its own, one after another, as before.
    monkeypatch.setattr(ladder, "_disjoint", lambda parts: False)
    batches.clear()
    apart = simulate(scenario, paired_draws=paired, ledger=True)
    assert len(batches) > 1.5 * batched
    assert run_digest(together) == run_digest(apart)
    assert_same_run(together, apart)
    for item, spend in apart.ledger.spend.items():
        assert (together.ledger.spend[item] == spend).all(), item
    assert (together.ledger.collected == apart.ledger.collected).all()


def test_parts_sharing_an_account_go_out_one_after_another(monkeypatch):
    """Two SMS steps due the same accounts at the same minute: an account's second message must see its first
    (the 7-day count, an opt-out or a cease request it brought), so those parts are never one batch."""
    assert ladder._disjoint([np.array([1, 4, 9]), np.array([2, 3]), np.array([5])])
    assert not ladder._disjoint([np.array([1, 4, 9]), np.array([2, 9])])
    scenario = by_segment("baseline")
    data = scenario.content()
    data["strategy"]["steps"] = [{"channel": "sms", "from_dpd": 1, "to_dpd": 179, "every_days": 1},
                                 {"channel": "sms", "from_dpd": 1, "to_dpd": 179, "every_days": 2}]
    twice = type(scenario).from_dict(data, source=scenario.source, base_dir=scenario.base_dir)
    parts = []
    deliver = ladder.Ladder._deliver

    def counted(self, step, s, idx, minutes, day, on_floor=None, parts_=None):
        parts.append(parts_)
        return deliver(self, step, s, idx, minutes, day, on_floor, parts_)

    monkeypatch.setattr(ladder.Ladder, "_deliver", counted)
    result = simulate(twice)
    assert len(parts) > 0 and all(p is None for p in parts)
    assert result.kpis["opt_outs"] > 0
