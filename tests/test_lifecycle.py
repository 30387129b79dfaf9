"""The account's life after charge-off: agency placement, suits on contingency, debt sale (sim/engine/lifecycle.py).

A book where nobody pays before charge-off and everyone charges off within a
month, so every account reaches the steps after charge-off: its money stays
conserved, the agency and the attorney keep exactly their contingency share,
a sale pays price × what is owed and the account leaves, the rules switch at
the agency's placement and the audit sees it, runs repeat, and a history
written out reads back as the same run.
"""

from __future__ import annotations

import csv

import numpy as np
import pytest

from sim.compliance import ContactCalendar, ContactRules, audit
from sim.consumers import NOT_PLACED
from sim.domain import Channel
from sim.errors import InputError
from sim.scenario import load_scenario
from sim.simulation import simulate

from simhelpers import QUIET_BOOK, SCENARIOS, scenario

AGENCY = {"channel": "agency", "after_charge_off_days": 0, "contingency_fee": 0.25,
          "recovery_curve": [0.2, 0.2]}
ATTORNEY = {"channel": "attorney", "after_charge_off_days": 60, "segments": ["high"], "contingency_fee": 0.3,
            "court_cost": 100.0, "recovery_curve": [0.1, 0.1]}
SALE = {"channel": "debt_sale", "after_charge_off_days": 60, "price": 0.1}
# Every account owes 1,000, is 151-180 days past due and never pays on its own: all charge off in 30 days.
LATE_BOOK = {**QUIET_BOOK, "portfolio": {**QUIET_BOOK["portfolio"], "charge_off_dpd": 180,
                                         "buckets": {"151-180": 1.0}}}


def _world(days: int = 150, accounts: int = 1500, steps=(AGENCY, ATTORNEY, SALE), **more):
    data = {"simulation": {"days": days, "accounts": accounts}, "strategy": {"steps": list(steps)}, **more}
    return scenario(data, base=LATE_BOOK)


@pytest.fixture(scope="module")
def run():
    return simulate(_world(), 7, ledger=True, history=True)


def test_money_is_conserved_with_recoveries_fees_and_sales(run):
    k = run.kpis
    after = k["after_charge_off"]
    assert k["charge_off_rate"] == 1.0
    assert min(after["placed_with_agency"], after["sued"], after["sold"]) > 0
    assert after["agency_collected"] > 0 and after["attorney_collected"] > 0 and after["sale_proceeds"] > 0
    # Nobody paid before charge-off: every unit collected is a recovery, and the loss is what it did not recover.
    assert k["collected"] == pytest.approx(after["recovered"], rel=1e-12)
    assert k["written_off"] == pytest.approx(k["initial_balance"] - after["recovered"], rel=1e-12)
    assert k["conservation_error"] < 1e-6
    # Per account too: what each owed is what it paid plus what stayed lost.
    assert np.allclose(run.ledger.collected + run.ledger.written_off, 1000.0)


def test_the_agency_and_the_attorney_keep_exactly_their_contingency_share(run):
    k = run.kpis
    after = k["after_charge_off"]
    assert after["agency_fees"] == pytest.approx(0.25 * after["agency_collected"], rel=1e-12)
    assert after["attorney_fees"] == pytest.approx(0.30 * after["attorney_collected"], rel=1e-12)
    assert after["court_costs"] == 100.0 * after["sued"]
    items = k["cost_by_item"]
    assert items["agency_fee"] == pytest.approx(after["agency_fees"])
    assert items["attorney_fee"] == pytest.approx(after["attorney_fees"])
    assert items["court_cost"] == pytest.approx(after["court_costs"])
    assert k["net_recovery"] == pytest.approx(k["collected"] - k["cost"])
    assert after["net"] == pytest.approx(after["recovered"] - after["agency_fees"] - after["attorney_fees"]
                                         - after["court_costs"])


def test_the_agency_collects_along_its_recovery_curve(run):
    # Every account was placed for two months that end inside the run: 20 % + 20 % of the placed balance.
    after = run.kpis["after_charge_off"]
    assert after["placed_with_agency"] == 1500
    assert after["agency_collected"] / (1500 * 1000.0) == pytest.approx(0.4, abs=0.04)


def test_a_sale_pays_price_times_balance_and_the_account_leaves_the_book(run):
    payments = run.history.payments
    kinds = payments.kind_names()
    assert {"agency", "legal", "sale"} <= set(kinds.tolist())
    sold = payments.account[kinds == "sale"]
    assert sold.size == run.kpis["after_charge_off"]["sold"]
    # What the agency did not collect comes back owing the whole 1,000: sold at 10 cents, to the cent.
    assert set(payments.amount[kinds == "sale"].tolist()) == {100.0}
    sale_second = dict(zip(sold.tolist(), payments.second[kinds == "sale"].tolist(), strict=True))
    later = [(a, s) for a, s in zip(payments.account.tolist(), payments.second.tolist(), strict=True)
             if a in sale_second and s > sale_second[a]]
    assert later == []  # nothing after the sale: the account has left
    assert run.kpis["after_charge_off"]["sale_proceeds"] == pytest.approx(100.0 * sold.size)
    # The attorney took the high segment, the sale the rest: no account went to both.
    sued = set(payments.account[kinds == "legal"].tolist())
    assert not sued & set(sold.tolist())


def test_a_sale_at_par_never_collects_more_than_is_owed():
    # Interest leaves fractions of a cent on every balance; a sale at 100 cents on the dollar rounded up to the
    # cent would collect more than the account owed and write off a negative loss (found by test_properties).
    interest = {"portfolio": {**LATE_BOOK["portfolio"], "apr": 0.24}}
    at_par = _world(days=60, accounts=300, steps=({"channel": "debt_sale", "after_charge_off_days": 0,
                                                    "price": 1.0},), **interest)
    run = simulate(at_par, 3, ledger=True, history=True)
    sold = run.kpis["after_charge_off"]["sold"]
    assert sold > 0
    assert run.kpis["written_off"] >= 0.0
    assert run.kpis["conservation_error"] < 1e-6
    # Each account's loss is what it owed less what the sale paid: never below zero.
    assert np.all(run.ledger.written_off >= 0.0)


def test_steps_after_charge_off_act_only_within_the_simulated_days():
    short = simulate(_world(days=40, accounts=300), 7).kpis["after_charge_off"]
    assert short["placed_with_agency"] > 0
    assert short["sued"] == short["sold"] == 0  # 60 days after charge-off is past the horizon


def test_same_seed_same_life_after_charge_off(run):
    again = simulate(_world(), 7, ledger=True, history=True)
    assert again.kpis == run.kpis
    assert np.array_equal(again.history.payments.cents, run.history.payments.cents)
    assert np.array_equal(again.history.payments.kind, run.history.payments.kind)
    other = simulate(_world(), 8).kpis["after_charge_off"]
    assert other["agency_collected"] != run.kpis["after_charge_off"]["agency_collected"]


def test_without_steps_after_charge_off_the_run_has_none_of_their_kpis():
    plain = simulate(_world(days=40, accounts=200, steps=()), 7).kpis
    assert "after_charge_off" not in plain
    assert plain["written_off"] == pytest.approx(plain["initial_balance"])


# ----------------------------------------------------------------------------- whose rules


def _placed_world():
    return _world(days=60, accounts=300, steps=(AGENCY,),
                  compliance={"lender_preset": "us_first_party"})


def _audit(s, log):
    rules = ContactRules.from_section(s.compliance)
    return audit(log, rules, ContactCalendar(rules, s.simulation.start_date, s.simulation.days))


def _eight_calls_in_seven_days(log, account: int, first_day: int) -> None:
    """Doctored: two calls on the first day, one on each of the next six (within the lender's 3 a day,
    over Reg F's 7 attempts in 7 days)."""
    days = [first_day, *range(first_day, first_day + 7)]
    for k, d in enumerate(days):
        log.account = np.append(log.account, np.int64(account))
        log.minute = np.append(log.minute, d * 1440.0 + 600.0 + 60.0 * (k == 1))
        log.channel = np.append(log.channel, np.int8(Channel.CALL))
        log.outcome = np.append(log.outcome, np.int8(0))
        log.agent = np.append(log.agent, np.int32(0))
        log.duration = np.append(log.duration, 1.0)


def test_the_agency_step_switches_the_rules_at_placement_and_the_audit_checks_it():
    s = _placed_world()
    result = simulate(s, 3)
    log = result.contact_log
    facts = log.facts
    charged = result.kpis["after_charge_off"]["placed_with_agency"]
    placed = facts.placed_on < NOT_PLACED
    assert placed.sum() == charged > 0
    # Placed the morning after charge-off (the step's 0 days): days 1-30 for a book charging off over days 0-29.
    assert facts.placed_on[placed].min() >= 1 and facts.placed_on[placed].max() <= 30
    assert _audit(s, log) == []
    late = int(np.flatnonzero(facts.placed_on >= 12)[0])
    account = int(facts.account_id[late])
    day = int(facts.placed_on[late])
    _eight_calls_in_seven_days(log, account, day - 10)  # before placement: the lender's rules allow them
    assert _audit(s, log) == []
    _eight_calls_in_seven_days(log, account, day)  # after placement: Regulation F's cap is seven
    rules = {v.rule for v in _audit(s, log)}
    assert rules == {"more than the allowed call attempts in 7 days"}


def test_the_placement_day_keeps_working():
    # placement_dpd as before: the accounts pass to the agency's rules at 160 days past due, before any step.
    s = _world(days=40, accounts=200, steps=(AGENCY,),
               compliance={"lender_preset": "us_first_party", "placement_dpd": 160})
    result = simulate(s, 3)
    facts = result.contact_log.facts
    # Every account passes 160 days past due within the first 10 days, long before its agency step.
    assert facts.placed_on.min() == 0 and facts.placed_on.max() <= 10
    assert result.kpis["after_charge_off"]["placed_with_agency"] > 0


# ----------------------------------------------------------------------------- the steps as written


@pytest.mark.parametrize(("step", "says"), [
    ({**AGENCY, "from_dpd": 180}, "from_dpd is for steps before charge-off"),
    ({k: v for k, v in AGENCY.items() if k != "recovery_curve"}, "an agency step needs recovery_curve"),
    ({**ATTORNEY, "recovery_curve": [0.7, 0.4]}, "together at most 1"),
    ({**ATTORNEY, "recovery_curve": []}, "1 to 120 months"),
    ({k: v for k, v in ATTORNEY.items() if k != "court_cost"}, "needs court_cost"),
    ({**SALE, "contingency_fee": 0.2}, "contingency_fee is for channel agency or attorney"),
    ({**SALE, "every_days": 7}, "every_days is for steps before charge-off"),
    ({"channel": "call", "from_dpd": 1, "to_dpd": 179, "price": 0.1}, "price is for channel debt_sale"),
    ({"channel": "call", "to_dpd": 179}, "from_dpd is required on a call step"),
])
def test_a_step_after_charge_off_is_checked_with_a_one_line_error(step, says):
    with pytest.raises(InputError) as err:
        _world(steps=(step,))
    message = str(err.value)
    assert "strategy.steps.0" in message and says in message and "\n" not in message


# ----------------------------------------------------------------------------- the shipped example and the files


def test_card_lifecycle_recovers_after_charge_off_conserves_money_and_breaks_no_rule():
    s = load_scenario(SCENARIOS / "card_lifecycle.toml", {"simulation.accounts": 1500})
    result = simulate(s, 1)
    k = result.kpis
    after = k["after_charge_off"]
    assert after["placed_with_agency"] > 0 and after["sued"] > 0 and after["sold"] > 0
    assert after["agency_fees"] == pytest.approx(0.139 * after["agency_collected"], rel=1e-12)
    assert k["conservation_error"] < 1e-6 * k["initial_balance"]
    assert not any(step.channel in ("field_visit", "legal") for step in s.strategy.steps)
    assert _audit(s, result.contact_log) == []


def test_a_written_book_with_statement_days_and_standing_reads_back_into_the_same_run(tmp_path):
    book = tmp_path / "book.toml"
    book.write_text(f'extends = "{SCENARIOS / "card_baseline.toml"}"\n[contact]\n'
                    'time_zones = { "America/Chicago" = 0.3, "America/Los_Angeles" = 0.2 }\n'
                    'states = { MA = 0.05, NY = 0.1 }\nexclusions = { bankruptcy = 0.05, scra = 0.05 }\n')
    size = {"simulation.accounts": 400, "simulation.days": 20}
    original = simulate(load_scenario(book, size), history=True)
    original.history.write_portfolio_csv(tmp_path / "accounts.csv")
    with (tmp_path / "accounts.csv").open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[-4:] == ["statement_day", "exclusion", "time_zone", "state"]
    assert {r["time_zone"] for r in rows} == {"", "America/Chicago", "America/Los_Angeles"}
    assert {r["state"] for r in rows} == {"", "MA", "NY"}
    assert {r["exclusion"] for r in rows} == {"", "bankruptcy", "scra"}
    again_toml = tmp_path / "again.toml"
    again_toml.write_text('extends = "book.toml"\n[portfolio]\ncsv = "accounts.csv"\n')
    again = simulate(load_scenario(again_toml, {"simulation.days": 20}))
    assert again.kpis == original.kpis
    assert np.array_equal(again.contact_log.minute, original.contact_log.minute)
    assert np.array_equal(again.contact_log.facts.offset, original.contact_log.facts.offset)



def test_a_scenario_with_steps_after_charge_off_reads_back_from_its_own_content():
    # What `show`, the optimizer's written plans and champion/challenger write back spells out every default.
    s = load_scenario(SCENARIOS / "card_lifecycle.toml")
    again = type(s).from_dict(s.content(), source="<content>")
    assert again.content_hash == s.content_hash
    assert [step.channel for step in again.strategy.steps][-3:] == ["agency", "attorney", "debt_sale"]


def test_the_labs_step_table_carries_the_steps_after_charge_off():
    from app_support.lab import apply_tables, step_rows, team_rows

    s = load_scenario(SCENARIOS / "card_lifecycle.toml")
    content = s.content()
    edited = apply_tables(content, step_rows(content), team_rows(content))
    again = type(s).from_dict(edited, source="<lab>")
    assert again.strategy.steps == s.strategy.steps


def test_the_command_line_reports_the_life_after_charge_off_and_writes_its_receipts(tmp_path, capsys):
    from sim.cli import main

    payments = tmp_path / "payments.csv"
    code = main(["run", str(SCENARIOS / "card_lifecycle.toml"), "--accounts", "800", "--quiet", "--no-store",
                 "--payments-out", str(payments)])
    out = capsys.readouterr().out
    assert code == 0
    assert "placed / sued / sold" in out and "after charge-off, net" in out
    with payments.open(newline="") as handle:
        kinds = {row["kind"] for row in csv.DictReader(handle)}
    assert kinds == {"payment", "instalment", "agency", "legal", "sale"}
