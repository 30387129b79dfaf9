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

from types import SimpleNamespace

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
    automated = [step for step in data["strategy"]["steps"] if step["channel"] in ("sms", "email", "letter")]
    # A segment's messages together (an SMS, an e-mail, a letter, then the next segment's), so that the batches
    # by channel change the order in which the steps' parts go out.
    steps = [{**step, "segments": [segment]} for segment in scenario.portfolio.segments for step in automated]
    data["strategy"]["steps"] = steps + [step for step in data["strategy"]["steps"] if step not in automated]
    if not data.get("contact"):  # hawkes_baseline: baseline's rules by account and its consumers' time zones
        data["contact"] = load_scenario(SCENARIOS / "baseline.toml").content()["contact"]
    data["contact"]["cease_after_message"] = 0.02
    data["contact"]["opt_out"] = {"sms": 0.05, "email": 0.05}
    # Prices whose sums depend on the order they are added in: the day's costs must be added as the steps sent.
    data["costs"].update(sms=0.0731137, email=0.0123457, letter=1.3377191)
    return type(scenario).from_dict(data, source=scenario.source, base_dir=scenario.base_dir)


@pytest.mark.parametrize("name", ["baseline", "sms_gentle", "hawkes_baseline"])
@pytest.mark.parametrize("paired", [False, True])
def test_steps_delivering_at_one_minute_go_out_as_one_batch_with_the_numbers_of_one_after_another(
        name, paired, monkeypatch):
    scenario = by_segment(name)
    batches = []
    deliver = ladder.Ladder._deliver

    def counted(self, step, s, idx, minutes, day, on_floor=None, parts=None):
        batches.append(len(parts))
        return deliver(self, step, s, idx, minutes, day, on_floor, parts)

    monkeypatch.setattr(ladder.Ladder, "_deliver", counted)
    together = simulate(scenario, paired_draws=paired, ledger=True)
    several = sum(n > 1 for n in batches)
    # Paired draws: most deliveries carry several steps' messages; shared streams: only a channel's steps in a row.
    assert several > (0.5 * len(batches) if paired else 0)
    assert together.kpis["cease_requests"] + together.kpis["opt_outs"] > 0  # the re-checks were exercised
    batched = len(batches)
    # Never batched: every step's part is delivered on its own, one after another, as the steps sent them.
    monkeypatch.setattr(ladder, "_delivery_batches", lambda parts, paired: [[k] for k in range(len(parts))])
    batches.clear()
    apart = simulate(scenario, paired_draws=paired, ledger=True)
    assert len(batches) > batched
    assert run_digest(together) == run_digest(apart)
    assert_same_run(together, apart)
    for item, spend in apart.ledger.spend.items():
        assert (together.ledger.spend[item] == spend).all(), item
    assert (together.ledger.collected == apart.ledger.collected).all()


@pytest.mark.parametrize("paired", [False, True])
def test_parts_sharing_an_account_go_out_one_after_another(paired, monkeypatch):
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
    result = simulate(twice, paired_draws=paired)
    assert len(parts) > 0 and all(len(p) == 1 for p in parts)
    assert result.kpis["opt_outs"] > 0


def test_batches_keep_every_accounts_messages_in_the_order_the_steps_sent_them():
    def parts(*spec):
        return [(SimpleNamespace(channel=channel), k, np.array(accounts)) for k, (channel, accounts) in enumerate(spec)]

    # Paired draws: by channel, an account's SMS (part 0) still before its e-mail (part 1).
    assert ladder._delivery_batches(parts(("sms", [1, 2]), ("email", [1]), ("sms", [3])), True) == [[0, 2], [1]]
    # By channel account 2's e-mail (part 1) would follow its SMS of part 2: one after another, as sent.
    assert ladder._delivery_batches(parts(("sms", [1]), ("email", [2]), ("sms", [2])), True) == [[0], [1], [2]]
    # Shared streams: the draws go to the batches in turn, so only consecutive parts of a channel are batched.
    assert ladder._delivery_batches(parts(("sms", [1]), ("email", [2]), ("sms", [3])), False) == [[0], [1], [2]]
    assert ladder._delivery_batches(parts(("sms", [1]), ("sms", [2]), ("email", [1])), False) == [[0, 1], [2]]
    # Two parts to one account are never one batch.
    assert ladder._delivery_batches(parts(("sms", [1, 2]), ("sms", [2])), True) == [[0], [1]]
