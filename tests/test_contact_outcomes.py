"""The contact log's ``outcome``: the dial's outcome, or the conversation's result.

A right-party conversation's row carries what the engine decided (promise,
plan, dispute, refusal, complaint), so that an audit or a calibration can
read the results from the log; counted against the run's own tallies.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest

from sim.compliance import ContactCalendar, ContactRules, audit
from sim.domain import LOG_OUTCOMES
from sim.scenario import load_scenario
from sim.simulation import simulate

from simhelpers import SCENARIOS

# card_baseline: card borrowers under Reg F alone, without [contact] (whose opt-outs and cease requests
# put outcomes on messages' rows too, and whose lender rules before placement have no quiet week).
# (On baseline, with a warm-up, a conversation started before midnight book time on the warm-up's last
# day, a consumer three zones west called at 21:00 local, counts in the KPIs but its row is the
# warm-up's: at 800 accounts, 175 complaints and 174 rows.)
SIZE = {"simulation.accounts": 800, "simulation.days": 40}
CONVERSATIONS = {"right_party", "promise", "plan", "dispute", "refusal", "complaint"}


def _run(**behavior):
    overrides = {**SIZE, **{f"behavior.{k}": v for k, v in behavior.items()}}
    scenario = load_scenario(SCENARIOS / "card_baseline.toml", overrides)
    return scenario, simulate(scenario)


def test_each_conversation_row_carries_what_the_engine_decided():
    # No complaints: every result is on its row, and the rows add up to the run's counts.
    _, result = _run(complaint_probability=0.0)
    log, kpis = result.contact_log, result.kpis
    counts = Counter(log.outcome_names().tolist())
    assert counts["promise"] == kpis["promises_made"] > 0
    assert counts["plan"] == kpis["plans_started"] > 0
    assert counts["dispute"] == kpis["disputes"]
    assert counts["refusal"] > 0 and counts["complaint"] == 0
    # Every right-party contact is still one: the call outcomes' series counts them at the dial.
    calls = log.channel_names() == "call"
    assert int(log.right_party()[calls].sum()) == int(result.series["call_outcomes"][:, 2].sum())


def test_a_complaint_is_on_its_row_and_the_rest_keep_their_dial_outcome():
    _, result = _run(complaint_probability=0.05)
    log = result.contact_log
    names = log.outcome_names()
    assert Counter(names.tolist())["complaint"] == result.kpis["complaints"] > 0
    assert set(names.tolist()) <= {"", *LOG_OUTCOMES}
    # Automated channels and legal filings have no outcome; only agents' contacts have results.
    automated = np.isin(log.channel_names(), ["sms", "email", "letter", "legal"])
    assert (names[automated] == "").all()
    assert set(names[~automated].tolist()) <= {"no_answer", "wrong_party", *CONVERSATIONS}
    assert set(names[log.channel_names() == "inbound_call"].tolist()) <= CONVERSATIONS


def test_the_audit_still_sees_every_conversation():
    scenario, result = _run()
    rules = ContactRules.from_section(scenario.compliance)
    calendar = ContactCalendar(rules, scenario.simulation.start_date, scenario.simulation.days)
    assert audit(result.contact_log, rules, calendar) == []
    # A call the day after a promise breaks Reg F's quiet week: the audit must count the promise as a conversation.
    log = result.contact_log
    promise = int(np.flatnonzero((log.outcome_names() == "promise") & (log.channel_names() == "call"))[0])
    log.account = np.append(log.account, log.account[promise])
    log.minute = np.append(log.minute, log.minute[promise] + 1440.0)
    log.channel = np.append(log.channel, log.channel[promise])
    log.outcome = np.append(log.outcome, np.int8(0))
    log.agent = np.append(log.agent, log.agent[promise])
    log.duration = np.append(log.duration, 1.0)
    assert any("quiet period" in v.rule for v in audit(log, rules, calendar))


@pytest.mark.parametrize("name", LOG_OUTCOMES)
def test_every_outcome_is_documented(name):
    from simhelpers import ROOT

    assert f"`{name}`" in (ROOT / "README.md").read_text(encoding="utf-8")
