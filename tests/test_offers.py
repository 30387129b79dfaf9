"""Settlement and hardship offers as ladder steps: the schema, acceptance by bucket and segment, money conserved."""

from __future__ import annotations

import numpy as np
import pytest

from sim.domain import CURED, PAID_OFF, bucket_of
from sim.engine import Engine
from sim.errors import ScenarioError
from sim.portfolio import build_portfolio
from sim.scenario import load_scenario
from sim.simulation import simulate
from sim.streams import RandomStreams

from simhelpers import QUIET_BOOK, SCENARIOS, scenario

SETTLE = {"channel": "settlement_offer", "from_dpd": 1, "to_dpd": 400, "every_days": 30, "discount": 0.4,
          "pay_within_days": 10, "acceptance": 0.5, "keep_rate": 1.0}
HARDSHIP = {"channel": "hardship_plan", "from_dpd": 1, "to_dpd": 400, "every_days": 30, "apr": 0.0, "months": 12,
            "reage_after": 2, "acceptance": 1.0}


def offer_book(*steps: dict, days: int = 60, accounts: int = 800, **extra) -> dict:
    data = {**QUIET_BOOK, "simulation": {"days": days, "accounts": accounts},
            "strategy": {"name": "offers", "steps": list(steps)}}
    for key, value in extra.items():
        data[key] = {**data.get(key, {}), **value}
    return data


def engine_run(data: dict, seed: int = 3) -> Engine:
    s = scenario(data)
    streams = RandomStreams(seed)
    engine = Engine(s, build_portfolio(s, streams["portfolio"]), streams)
    engine.run()
    return engine


def test_an_accepted_settlements_cash_and_forgiven_amount_are_its_balance():
    # A quiet book: nobody pays but through the offer, so each settlement is exactly (1 - discount) of the balance.
    engine = engine_run(offer_book(SETTLE))
    settlements = np.array(engine.offers.settlements)
    assert len(settlements) > 100
    account, balance, cash, forgiven = settlements.T
    assert cash + forgiven == pytest.approx(balance, abs=1e-9)
    assert cash == pytest.approx(0.6 * balance, rel=1e-12)  # nothing else was paid: the agreed share
    book = engine.book
    closed = account.astype(int)
    assert np.all(book.status[closed] == PAID_OFF) and np.all(book.balance[closed] == 0)
    kpis = engine.outcome().offers["settlement_offer"]
    assert kpis["kept"] == len(settlements) and kpis["broken"] == 0  # keep_rate 1
    assert kpis["forgiven"] == pytest.approx(forgiven.sum()) and kpis["cash"] == pytest.approx(cash.sum())
    assert kpis["accepted"] == pytest.approx(0.5 * kpis["made"], rel=0.15)


def test_the_whole_book_stays_conserved_and_forgiveness_is_written_off():
    result = simulate(scenario(offer_book(SETTLE, days=45)), 5, contact_log=False)
    offers = result.kpis["offers"]["settlement_offer"]
    assert result.kpis["conservation_error"] < 1e-6 * result.kpis["initial_balance"]
    assert result.kpis["written_off"] == pytest.approx(offers["forgiven"])  # no charge-off in a quiet book
    assert result.kpis["collected"] == pytest.approx(offers["cash"])
    assert result.kpis["cost_by_item"]["settlement_offer"] == pytest.approx(3.0 * offers["made"])  # a letter each


def test_acceptance_is_by_bucket_times_segment():
    step = {**SETTLE, "acceptance": None, "acceptance_by_bucket": {"1-30": 0.0, "31-60": 1.0, "61-90": 0.0,
                                                                  "91-120": 0.0, "121-150": 0.0, "151-180": 0.0},
            "acceptance_by_segment": {"high": 0.0}, "every_days": 365, "pay_within_days": 365}
    del step["acceptance"]
    engine = engine_run(offer_book(step, days=1))
    book = engine.book
    start = engine.portfolio
    accepted = book.in_plan
    names = list(start.segment_names)
    assert accepted.any()
    assert np.all(bucket_of(start.days_past_due[accepted]) == 2)  # 31-60 only
    assert not np.any(start.segment[accepted] == names.index("high"))  # factor 0
    eligible = (bucket_of(start.days_past_due) == 2) & (start.segment != names.index("high"))
    assert np.array_equal(accepted, eligible)  # probability 1 × factor 1 elsewhere


def test_a_hardship_plan_pays_at_its_rate_and_re_ages_after_the_instalments():
    data = offer_book(HARDSHIP, days=75, behavior={**QUIET_BOOK["behavior"], "plan_keep_rate": 1.0},
                      portfolio={**QUIET_BOOK["portfolio"], "apr": 0.24})
    engine = engine_run(data)
    kpis = engine.outcome().offers["hardship_plan"]
    book = engine.book
    start = engine.portfolio
    delinquent = start.days_past_due > 0
    # Everyone accepted on day 0; paid on days 30 and 60 at 0 % (no interest), re-aged after the second.
    assert kpis["accepted"] == int(delinquent.sum()) and kpis["reaged"] == kpis["accepted"] == kpis["kept"]
    assert np.all(book.status[delinquent] == CURED) and np.all(book.dpd[delinquent] == 0)
    # Two equal instalments of balance / 12 each, no interest at the plan's rate of 0.
    expected = start.balance[delinquent] * (1 - 2 / 12)
    assert book.balance[delinquent] == pytest.approx(expected, rel=1e-9)
    assert kpis["cash"] == pytest.approx(float(start.balance[delinquent].sum()) * 2 / 12, rel=1e-9)
    assert kpis["npv_vs_charge_off"] == pytest.approx(kpis["cash_npv"] - 0.11 * kpis["balance_accepted"])


def test_a_broken_settlement_returns_the_account_to_the_ladder():
    engine = engine_run(offer_book({**SETTLE, "keep_rate": 0.0, "acceptance": 1.0}, days=40))
    kpis = engine.outcome().offers["settlement_offer"]
    assert kpis["kept"] == 0 and kpis["broken"] > 0 and kpis["forgiven"] == 0
    # Broken ones are offered again a cycle later; those whose pay day is past the horizon are still pending.
    pending = engine.offers.settle_day > 39
    assert kpis["accepted"] == kpis["broken"] + int(pending.sum())
    assert np.array_equal(engine.book.in_plan, pending)


def test_same_seed_same_offers_and_a_ladder_without_offers_has_no_offer_kpis():
    s = scenario(offer_book(SETTLE, HARDSHIP, days=40, accounts=300))
    assert simulate(s, 9, contact_log=False).kpis["offers"] == simulate(s, 9, contact_log=False).kpis["offers"]
    base = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 200, "simulation.days": 10})
    assert "offers" not in simulate(base, 1, contact_log=False).kpis


@pytest.mark.parametrize(("step", "expected"), [
    ({"channel": "call", "discount": 0.3}, "discount is for channel settlement_offer, not call"),
    ({"channel": "hardship_plan", "discount": 0.3}, "discount is for channel settlement_offer, not hardship_plan"),
    ({"channel": "settlement_offer", "months": 12}, "months is for channel hardship_plan, not settlement_offer"),
    ({"channel": "settlement_offer", "discount": 1.0}, "discount"),
    ({"channel": "settlement_offer", "acceptance_by_bucket": {"1-31": 0.1}}, "unknown bucket '1-31'"),
    ({"channel": "settlement_offer", "acceptance": 0.1, "acceptance_by_bucket": {"1-30": 0.1}},
     "give acceptance (every bucket) or acceptance_by_bucket, not both"),
    ({"channel": "settlement_offer", "acceptance_by_segment": {"nobody": 1.0}},
     "strategy.steps.0.acceptance_by_segment: unknown segment 'nobody'"),
    ({"channel": "hardship_plan", "months": 6, "reage_after": 7}, "reage_after (7) is more instalments"),
])
def test_bad_offer_steps_are_one_line(step, expected):
    with pytest.raises(ScenarioError, match=expected.replace("(", r"\(").replace(")", r"\)")) as err:
        scenario({"strategy": {"steps": [{"from_dpd": 1, "to_dpd": 90, **step}]}})
    assert "\n" not in str(err.value)


def test_offer_fields_left_unset_keep_the_scenario_hash():
    plain = scenario({"strategy": {"steps": [{"channel": "sms", "from_dpd": 1, "to_dpd": 90}]}})
    assert "discount" not in plain.content()["strategy"]["steps"][0]


def with_offers(base, *steps: dict):
    from sim.scenario import Scenario

    data = base.content()
    data["strategy"]["steps"] = [*data["strategy"]["steps"], *steps]
    data["name"] = "with offers"
    return Scenario.from_dict(data, source=base.source, base_dir=base.base_dir)


def test_the_report_shows_what_offers_cost_and_return_with_the_stores_numbers(tmp_path):
    import json

    from test_report import assert_self_contained, embedded

    from sim.executors import LocalExecutor
    from sim.experiment import run_experiment
    from sim.report import report_html
    from sim.store import ResultStore

    store = ResultStore(tmp_path / "runs.duckdb").ensure()
    base = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 400, "simulation.days": 60})
    offering = with_offers(base, {"channel": "settlement_offer", "from_dpd": 61, "to_dpd": 179, "every_days": 30},
                           {"channel": "hardship_plan", "from_dpd": 31, "to_dpd": 90, "every_days": 30})
    comparison = run_experiment([base, offering], 2, rng=4, executor=LocalExecutor(1), store=store)
    page = report_html(store, comparison.experiment_id)
    assert_self_contained(page)
    assert 'id="offers"' in page and "NPV against charge-off" in page
    data = embedded(page)
    (shown,) = data["offers"]
    assert shown["scenario"] == "with offers" and set(shown["offers"]) == {"settlement_offer", "hardship_plan"}
    frame = store.experiment_kpis(comparison.experiment_id)
    runs = store.load_runs(frame[frame["scenario_index"] == 1]["run_id"])
    stored = [run["kpis_all"]["offers"] for run in runs.values()]
    for kind, kpis in shown["offers"].items():
        for key in ("made", "accepted", "kept", "forgiven", "cash_npv", "npv_vs_charge_off"):
            assert kpis[key] == pytest.approx(np.mean([s[kind][key] for s in stored]), rel=1e-12), (kind, key)
    assert any("hardship plans were accepted by" in line for line in data["headline"])
    assert json.dumps(shown)  # plain JSON


def test_allocate_takes_offers_as_treatments_valued_by_the_engine():
    from optimizer.allocation import allocate

    base = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 600, "simulation.days": 28})
    s = with_offers(base, {"channel": "settlement_offer", "from_dpd": 61, "to_dpd": 179, "every_days": 30,
                           "discount": 0.4})
    allocation = allocate(s, weeks=2, per_segment=5, passes=1, band_edges=[0.0])
    names = [t.name for t in allocation.valuation.treatments]
    assert "offer:settlement_offer" in names and "ladder:baseline+settlement_offer" in names
    plan = allocation.plan
    assert plan.ok
    strategy = plan.to_strategy(s)  # whatever it chose, the plan is a ladder the engine runs
    assert simulate(strategy, 1, contact_log=False).kpis["conservation_error"] < 1e-3


def test_the_readmes_offers_example_is_what_run_prints(capsys):
    from sim.cli import main

    from simhelpers import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    command = "$ python -m sim run scenarios/offers.toml --no-store --accounts 3000 --days 120\n"
    start = readme.index(command) + len(command)
    shown = readme[start:readme.index("\n```", start)]
    head, tail = shown.split("\n...\n")
    assert main(["run", str(SCENARIOS / "offers.toml"), "--no-store", "--quiet", "--accounts", "3000",
                 "--days", "120"]) == 0
    out = capsys.readouterr().out.rstrip("\n")
    assert out.startswith(head + "\n") and out.endswith("\n" + tail)


def test_a_champion_challenger_book_reads_out_each_strategys_offers():
    champion = {"name": "plain", "share": 0.5, "champion": True,
                "steps": [{"channel": "letter", "from_dpd": 1, "to_dpd": 400, "every_days": 30}]}
    challenger = {"name": "offering", "share": 0.5, "steps": [SETTLE, HARDSHIP]}
    data = {**QUIET_BOOK, "simulation": {"days": 45, "accounts": 600}, "strategies": [champion, challenger]}
    result = simulate(scenario(data), 2, contact_log=False)
    by = result.kpis_by_strategy
    assert by["plain"]["offers"] == {}  # the champion made none
    mine = by["offering"]["offers"]
    book = result.kpis["offers"]
    for kind in ("settlement_offer", "hardship_plan"):
        for what in ("made", "accepted", "forgiven"):
            assert mine[kind][what] == pytest.approx(book[kind][what], rel=1e-12), (kind, what)
    assert mine["settlement_offer"]["kept"] == book["settlement_offer"]["kept"]
    assert mine["settlement_offer"]["cash_after_accepting"] == pytest.approx(book["settlement_offer"]["cash"])


def test_the_champion_challenger_report_shows_each_strategys_offers(tmp_path):
    from test_report import embedded

    from sim.experiment import record_run
    from sim.report import report_html
    from sim.store import ResultStore

    champion = {"name": "plain", "share": 0.5, "champion": True,
                "steps": [{"channel": "letter", "from_dpd": 1, "to_dpd": 400, "every_days": 30}]}
    challenger = {"name": "offering", "share": 0.5, "steps": [SETTLE]}
    s = scenario({**QUIET_BOOK, "simulation": {"days": 30, "accounts": 400}, "strategies": [champion, challenger]})
    store = ResultStore(tmp_path / "runs.duckdb").ensure()
    result = simulate(s, 3, contact_log=False)
    page = report_html(store, record_run(store, s, result))
    assert "settlement offers: accepted" in page and "<strong>Offers</strong>" in page
    counts = embedded(page)["champion_challenger"][0]["counts_by_strategy"]
    mine = result.kpis_by_strategy["offering"]["offers"]["settlement_offer"]
    assert counts["offering"]["offers.settlement_offer.accepted"]["mean"] == mine["accepted"] > 0
    assert "offers.settlement_offer.accepted" not in counts["plain"]
    assert embedded(page)["offers"][0]["offers"]["settlement_offer"]["accepted"] == mine["accepted"]
