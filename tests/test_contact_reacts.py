"""Contact that reacts and rules that fit who collects (issue 15), opt-in through ``[contact]`` and
``[compliance] lender_preset``/``placement_dpd``.

Who answers (right-party chance by local hour, bucket and segment, lower under
contact pressure), who asks to stop (opt-outs of SMS and e-mail, cease
requests), who may not be contacted at all (exclusions), when (the
consumer's local time) and under whose rules (the lender's before placement,
the agency's after; Massachusetts' for its residents). Each is checked in a
run and, through the independent audit, on doctored logs.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_properties import scenarios as random_scenarios

from sim import load_scenario, simulate
from sim.compliance import ContactCalendar, ContactRules, audit
from sim.domain import contact_pressure, fatigue
from sim.errors import InputError
from sim.portfolio import build_portfolio
from sim.streams import RandomStreams

from simhelpers import QUIET_BOOK, SCENARIOS, scenario

NO_REQUESTS = {"opt_out": {"sms": 0.0, "email": 0.0}, "cease_request": 0.0, "cease_after_message": 0.0}
US_SCENARIOS = ("baseline", "sms_gentle", "call_heavy", "early_field")


def _audit(s, result):
    rules = ContactRules.from_section(s.compliance)
    calendar = ContactCalendar(rules, s.simulation.start_date, s.simulation.days)
    return audit(result.contact_log, rules, calendar)


def _calls(log):
    return np.flatnonzero(log.channel_names() == "call")


def _append(log, account, minute, channel, outcome=-1, duration=0.0):
    """A doctored row at the end of the log (the audit sorts what it needs)."""
    log.account = np.append(log.account, np.int64(account))
    log.minute = np.append(log.minute, float(minute))
    log.channel = np.append(log.channel, np.int8(channel))
    log.outcome = np.append(log.outcome, np.int8(outcome))
    log.agent = np.append(log.agent, np.int32(0 if channel == 2 else -1))
    log.duration = np.append(log.duration, float(duration))


# ----------------------------------------------------------------------------- who answers


def test_right_party_rate_follows_the_curve_by_hour_bucket_and_segment():
    curve = [0.05 + 0.01 * (h % 7) for h in range(24)]
    s = scenario({
        "simulation": {"accounts": 3000, "days": 10},
        "portfolio": {"buckets": {"1-30": 0.5, "91-120": 0.5}, "segments": {"low": 0.5, "high": 0.5}},
        "behavior": {"right_party_by_hour": curve, "wrong_party_rate": 0.05,
                     "segment_multiplier": {"low": 1.0, "high": 1.0}},
        "strategy": {"steps": [{"channel": "call", "from_dpd": 1, "to_dpd": 179, "attempts_per_day": 1}]},
        "teams": {"callers": {"kind": "call", "agents": 6, "shifts": ["00:00-24:00"],
                              "handle_minutes": {"no_answer": 6.0, "wrong_party": 6.0, "right_party": 6.0}}},
        "compliance": {"preset": "none"},
        "contact": {"pressure": 0.0, "right_party_by_bucket": {"1-30": 2.0, "91-120": 1.0},
                    "right_party_by_segment": {"low": 1.0, "high": 0.5}, **NO_REQUESTS},
    }, base=QUIET_BOOK)
    seed = 11
    result = simulate(s, seed)
    portfolio = build_portfolio(s, RandomStreams(seed)["portfolio"])
    log = result.contact_log
    calls = _calls(log)
    minute = log.minute[calls]
    hour = ((minute % 1440) // 60).astype(int)
    day = (minute // 1440).astype(int)
    acc = log.account[calls]
    # Nobody pays in this book: days past due grow by one a day from the start.
    dpd = portfolio.days_past_due[acc] + day
    bucket_mult = np.where(dpd <= 30, 2.0, np.where((dpd >= 91) & (dpd <= 120), 1.0, np.nan))
    segment_mult = np.array([1.0, 0.5])[portfolio.segment[acc]]
    p = np.asarray(curve)[hour] * bucket_mult * segment_mult
    known = ~np.isnan(p)
    reached = log.right_party()[calls]
    assert known.sum() > 2000
    for h in range(24):
        sel = known & (hour == h)
        expected, sd = p[sel].sum(), np.sqrt((p[sel] * (1 - p[sel])).sum())
        assert abs(reached[sel].sum() - expected) <= 4 * sd + 1, f"hour {h}"
    # The early bucket answers about twice as often, hour for hour (the multiplier 2 against 1).
    early, late = known & (dpd <= 30), known & (dpd >= 91)
    ratio = (reached[early].sum() / p[early].sum()) / (reached[late].sum() / p[late].sum())
    assert 0.8 < ratio < 1.25


def test_right_party_rate_falls_under_contact_pressure():
    over = {"simulation.accounts": 1500, "simulation.days": 40}
    rates = []
    for pressure in (0.0, 0.5):
        s = load_scenario(SCENARIOS / "call_heavy.toml", {**over, "contact": {"pressure": pressure}})
        outcomes = simulate(s, 5).series["call_outcomes"].sum(axis=0)
        rates.append(outcomes[2] / outcomes.sum())
    assert rates[1] < 0.8 * rates[0]


def test_without_a_contact_section_the_run_is_the_original_one():
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {"simulation.accounts": 600, "simulation.days": 30})
    assert s.contact is None and "contact" not in s.content()
    kpis = simulate(s, 2).kpis
    assert "opt_outs" not in kpis and "accounts_excluded" not in kpis


# ----------------------------------------------------------------------------- fatigue that hardens


def test_fatigue_hardens_into_less_lift_and_more_pressure():
    counts = np.arange(0, 15)
    assert np.array_equal(fatigue(0.25, counts), 1.0 / (1.0 + 0.25 * counts))  # h = 0: the original formula
    hard = fatigue(0.25, counts, 0.5)
    assert hard[0] == 1.0 and np.all(hard[1:] < fatigue(0.25, counts[1:]))
    pressure = contact_pressure(0.25, counts, 0.5)
    assert np.all(np.diff(pressure, 2) > 0)  # convex: each contact presses more than the last
    assert np.allclose(pressure * hard, 1.0)


def test_daily_messages_bring_more_opt_outs_per_message_than_weekly_ones():
    def opt_out_share(every_days):
        s = scenario({
            "simulation": {"accounts": 3000, "days": 28},
            "strategy": {"steps": [{"channel": "sms", "from_dpd": 1, "to_dpd": 179, "every_days": every_days}]},
            "contact": {"opt_out": {"sms": 0.01}, "cease_after_message": 0.0},
        }, base=QUIET_BOOK)
        result = simulate(s, 9)
        return result.kpis["opt_outs"] / result.kpis["contacts"]["sms"]

    assert opt_out_share(1) > 1.5 * opt_out_share(7)


def test_harassment_stops_paying_when_contact_reacts():
    # Issue 15: daily SMS and five dials a day with the rules off beat the baseline ladder on net recovery
    # when nobody reacts; with fatigue that hardens, opt-outs and cease requests it no longer does.
    harassment = {"compliance.preset": "none", "strategy.steps": [
        {"channel": "sms", "from_dpd": 1, "to_dpd": 179, "every_days": 1},
        {"channel": "call", "from_dpd": 1, "to_dpd": 179, "every_days": 1, "attempts_per_day": 5}]}
    gain = {False: 0.0, True: 0.0}
    for seed in (1, 2, 3):
        for reacts in (False, True):
            size = {"simulation.accounts": 2000, "simulation.days": 60, **({"contact": {}} if reacts else {})}
            base = simulate(load_scenario(SCENARIOS / "hawkes_baseline.toml", size), seed).kpis["net_recovery"]
            harsh = simulate(load_scenario(SCENARIOS / "hawkes_baseline.toml", {**size, **harassment}), seed)
            gain[reacts] += harsh.kpis["net_recovery"] - base
    assert gain[False] > 0 > gain[True]


# ----------------------------------------------------------------------------- requests to stop


def _requests_run(**contact):
    s = scenario({
        "simulation": {"accounts": 1500, "days": 30},
        "strategy": {"steps": [
            {"channel": "sms", "from_dpd": 1, "to_dpd": 179, "every_days": 2},
            {"channel": "email", "from_dpd": 1, "to_dpd": 179, "every_days": 2, "send_time": "11:00"},
            {"channel": "call", "from_dpd": 1, "to_dpd": 179, "every_days": 1},
        ]},
        "teams": {"callers": {"kind": "call", "agents": 10}},
        "contact": {**NO_REQUESTS, **contact},
    }, base=QUIET_BOOK)
    return s, simulate(s, 4)


def test_an_opt_out_stops_that_channel_and_only_that_one():
    s, result = _requests_run(opt_out={"sms": 0.05, "email": 0.0})
    log = result.contact_log
    channel, names = log.channel_names(), log.outcome_names()
    opted = np.flatnonzero(names == "opt_out")
    assert opted.size == result.kpis["opt_outs"] > 20
    assert set(channel[opted]) == {"sms"}
    emails_after = 0
    for k in opted:
        later = (log.account == log.account[k]) & (log.minute > log.minute[k])
        assert not (later & (channel == "sms")).any()
        emails_after += int((later & (channel == "email")).sum())
    assert emails_after > 0  # e-mail goes on
    assert _audit(s, result) == []


def test_a_cease_request_ends_every_contact_the_collector_starts():
    s, result = _requests_run(cease_request=0.2, cease_after_message=0.01)
    log = result.contact_log
    names, channel = log.outcome_names(), log.channel_names()
    ceased = np.flatnonzero(names == "cease_request")
    assert ceased.size == result.kpis["cease_requests"] > 20
    assert {"call", "sms", "email"} <= set(channel[ceased])
    for k in ceased:
        later = (log.account == log.account[k]) & (log.minute > log.minute[k] + log.duration[k])
        assert not (later & np.isin(channel, ["sms", "email", "call", "letter", "field_visit"])).any()
    assert _audit(s, result) == []
    # A cease request on a message is not a right-party contact; on a call it is one.
    on_call = (names == "cease_request") & (channel == "call")
    assert log.right_party()[on_call].all() and not log.right_party()[(names == "cease_request") & (channel == "sms")].any()


def test_the_audit_flags_a_message_after_an_opt_out_and_a_call_after_a_cease_request():
    s, result = _requests_run(opt_out={"sms": 0.05}, cease_request=0.2)
    log = result.contact_log
    names = log.outcome_names()
    opted = int(np.flatnonzero(names == "opt_out")[0])
    ceased = int(np.flatnonzero((names == "cease_request") & (log.channel_names() == "call"))[0])
    _append(log, log.account[opted], log.minute[opted] + 2 * 1440, 0)  # an SMS two days later
    _append(log, log.account[ceased], log.minute[ceased] + 3 * 1440 + 60, 1)  # an e-mail three days later
    rules = {v.rule for v in _audit(s, result)}
    assert rules == {"sms after an opt-out of sms", "contact after a cease-communication request"}


# ----------------------------------------------------------------------------- exclusions


def test_excluded_accounts_are_never_contacted_and_are_counted():
    over = {"simulation.accounts": 2000, "simulation.days": 40,
            "contact": {"exclusions": {"bankruptcy": 0.05, "deceased": 0.02, "scra": 0.02, "attorney": 0.03,
                                       "dispute": 0.03}}}
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", over)
    result = simulate(s, 6)
    log = result.contact_log
    facts = log.facts
    excluded_ids = facts.account_id[facts.excluded]
    assert result.kpis["accounts_excluded"] == excluded_ids.size
    assert 0.1 < excluded_ids.size / 2000 < 0.2
    assert not np.isin(log.account, excluded_ids).any()
    assert _audit(s, result) == []
    # Doctored: a letter to an excluded account.
    _append(log, excluded_ids[0], 600.0, 4)
    assert [v.rule for v in _audit(s, result)] == ["contact with an account excluded from collection"]


def test_the_portfolio_csv_gives_exclusions_time_zones_and_states(tmp_path):
    csv = tmp_path / "book.csv"
    csv.write_text("account_id,balance,days_past_due,exclusion,time_zone,state\n"
                   "1,1000,10,,America/Los_Angeles,CA\n2,1000,10,bankruptcy,,MA\n3,1000,10,,,\n")
    s = scenario({"simulation": {"days": 5}, "portfolio": {"csv": str(csv)},
                  "strategy": {"steps": [{"channel": "call", "from_dpd": 1, "to_dpd": 179}]}})
    result = simulate(s, 1)
    facts = result.contact_log.facts
    assert facts.exclusion.tolist() == [0, 1, 0]
    assert facts.offset.tolist() == [-180, 0, 0]
    assert facts.massachusetts.tolist() == [False, True, False]
    assert 2 not in result.contact_log.account.tolist()
    csv.write_text("account_id,balance,days_past_due,exclusion\n1,1000,10,jail\n")
    with pytest.raises(InputError, match=r"line 2: exclusion: unknown exclusion 'jail'"):
        simulate(s, 1)
    csv.write_text("account_id,balance,days_past_due,time_zone\n1,1000,10,Mars/Olympus\n")
    with pytest.raises(InputError, match=r"line 2: time_zone: unknown time zone"):
        simulate(s, 1)


# ----------------------------------------------------------------------------- local time


def test_an_account_three_zones_west_is_not_called_at_eight_book_time():
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {
        "simulation.accounts": 1500, "simulation.days": 20, "teams.callers.shifts": ["08:00-20:00"],
        "contact": {"time_zones": {"America/Los_Angeles": 1.0}}})
    result = simulate(s, 3)
    log = result.contact_log
    calls = _calls(log)
    book_minute = log.minute[calls] % 1440
    assert calls.size > 500
    assert book_minute.min() >= 11 * 60  # 08:00 in Los Angeles is 11:00 in New York
    sms = log.channel_names() == "sms"
    assert set((log.minute[sms] % 1440).tolist()) == {13 * 60}  # sent 10:00 local
    assert _audit(s, result) == []
    _append(log, log.account[calls[0]], (log.minute[calls[0]] // 1440) * 1440 + 8 * 60, 2)
    assert [v.rule for v in _audit(s, result)] == ["outside the contact window"]


# ----------------------------------------------------------------------------- whose rules


def test_the_rules_switch_from_the_lender_to_the_agency_at_placement():
    s = load_scenario(SCENARIOS / "call_heavy.toml", {
        "simulation.accounts": 1500, "simulation.days": 40,
        "compliance.lender_preset": "us_first_party", "compliance.placement_dpd": 60})
    result = simulate(s, 8)
    log = result.contact_log
    facts = log.facts
    assert _audit(s, result) == []
    calls = _calls(log)
    pos = facts.positions(log.account[calls])
    day = (log.minute[calls] // 1440).astype(int)
    placed = day >= facts.placed_on[pos]
    assert placed.any() and (~placed).any()
    # Before placement the lender calls again the day after a conversation (Reg F does not bind it) ...
    reached = log.right_party()[calls]

    def called_again_next_day(phase):
        for k in np.flatnonzero(reached & phase):
            nxt = (log.account[calls] == log.account[calls][k]) & (day == day[k] + 1) & phase
            if nxt.any():
                return True
        return False

    assert called_again_next_day(~placed)
    assert not called_again_next_day(placed)  # ... the agency keeps Reg F's quiet week
    # Doctored: a call the day after a placed account's conversation breaks the agency's rules.
    k = int(np.flatnonzero(reached & placed)[0])
    _append(log, log.account[calls][k], log.minute[calls][k] + 1440.0, 2)
    assert "call within the quiet period after a conversation" in {v.rule for v in _audit(s, result)}


def test_massachusetts_residents_get_two_conversations_a_week_whatever_the_preset():
    s = load_scenario(SCENARIOS / "call_heavy.toml", {
        "simulation.accounts": 1500, "simulation.days": 30,
        "compliance.lender_preset": "us_first_party", "compliance.placement_dpd": 170,
        "contact": {"states": {"MA": 0.5}}})
    result = simulate(s, 2)
    log = result.contact_log
    assert _audit(s, result) == []
    ma_ids = log.facts.account_id[log.facts.massachusetts]
    calls = _calls(log)
    conv = calls[log.right_party()[calls]]
    mine = conv[np.isin(log.account[conv], ma_ids)]
    assert mine.size > 100
    # Doctored: three conversations in one week with a resident.
    acc, start = log.account[mine[0]], log.minute[mine[0]]
    for extra in (1, 2):
        _append(log, acc, start + extra * 1440.0, 2, outcome=2)
    assert "more than the allowed telephone communications in 7 days" in {v.rule for v in _audit(s, result)}


# ----------------------------------------------------------------------------- shipped scenarios


@pytest.mark.parametrize("name", US_SCENARIOS)
def test_shipped_us_scenarios_with_everything_on_break_no_rule(name):
    s = load_scenario(SCENARIOS / f"{name}.toml", {
        "simulation.accounts": 1200, "simulation.days": 45,
        "compliance.lender_preset": "us_first_party", "compliance.placement_dpd": 90,
        "contact": {"time_zones": {"America/Chicago": 0.3, "America/Denver": 0.1, "America/Los_Angeles": 0.2},
                    "states": {"MA": 0.1}, "exclusions": {"bankruptcy": 0.02, "attorney": 0.01},
                    "cease_request": 0.02, "opt_out": {"sms": 0.02}}})
    result = simulate(s, 4)
    assert _audit(s, result) == []
    assert result.kpis["conservation_error"] < 1e-6 * result.kpis["initial_balance"]


def test_cn_2025_with_contact_that_reacts_breaks_no_rule():
    s = load_scenario(SCENARIOS / "cn_2025.toml", {
        "simulation.accounts": 1200, "simulation.days": 45,
        "contact": {"book_time_zone": "Asia/Shanghai", "cease_request": 0.02, "exclusions": {"deceased": 0.01}}})
    result = simulate(s, 4)
    assert _audit(s, result) == []
    assert result.kpis["cease_requests"] > 0


def test_same_seed_same_run_with_contact_that_reacts():
    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {
        "simulation.accounts": 800, "simulation.days": 30,
        "contact": {"time_zones": {"America/Chicago": 0.5}, "exclusions": {"deceased": 0.05}}})
    a, b = simulate(s, 13), simulate(s, 13)
    assert a.kpis == b.kpis
    assert np.array_equal(a.contact_log.minute, b.contact_log.minute)
    assert np.array_equal(a.contact_log.outcome, b.contact_log.outcome)


# ----------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(("over", "field"), [
    ({"compliance.lender_preset": "us_first_party"}, "compliance.placement_dpd"),
    ({"contact": {"exclusions": {"jail": 0.1}}}, "contact.exclusions"),
    ({"contact": {"time_zones": {"Mars/Olympus": 0.1}}}, "contact.time_zones"),
    ({"contact": {"states": {"Massachusetts": 0.1}}}, "contact.states"),
    ({"contact": {"right_party_by_bucket": {"1-30": 5.0}}}, "contact.right_party_by_bucket"),
    ({"contact": {"right_party_by_segment": {"gold": 1.0}}}, "contact.right_party_by_segment.gold"),
    ({"contact": {"opt_out": {"sms": 2.0}}}, "contact.opt_out"),
])
def test_bad_contact_settings_name_the_field(over, field):
    with pytest.raises(InputError) as err:
        load_scenario(SCENARIOS / "hawkes_baseline.toml", over)
    assert field in str(err.value)


# ----------------------------------------------------------------------------- properties

ZONES = ["America/Chicago", "America/Los_Angeles", "Pacific/Honolulu", "Asia/Shanghai", "Europe/London"]


@st.composite
def reacting_scenarios(draw):
    """The property tests' random scenarios, with contact that reacts and perhaps rules that switch."""
    base = draw(random_scenarios())
    zones = draw(st.lists(st.sampled_from(ZONES), max_size=3, unique=True))
    over = {"contact": {
        "pressure": draw(st.sampled_from([0.0, 0.3])), "hardening": draw(st.sampled_from([0.0, 1.0])),
        "opt_out": {"sms": draw(st.sampled_from([0.0, 0.2])), "email": draw(st.sampled_from([0.0, 0.2]))},
        "cease_request": draw(st.sampled_from([0.0, 0.3])), "cease_after_message": draw(st.sampled_from([0.0, 0.05])),
        "exclusions": {"bankruptcy": draw(st.sampled_from([0.0, 0.2]))},
        "time_zones": {z: 0.2 for z in zones}, "states": {"MA": draw(st.sampled_from([0.0, 0.5]))},
        "right_party_by_bucket": {"1-30": 1.0}, "book_time_zone": draw(st.sampled_from(["America/New_York", "UTC"])),
    }}
    if draw(st.booleans()):
        over["compliance.lender_preset"] = draw(st.sampled_from(["us_first_party", "us_reg_f", "none"]))
        over["compliance.placement_dpd"] = draw(st.integers(1, 150))
    return base.with_overrides(over)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(s=reacting_scenarios(), seed=st.integers(0, 2**32))
def test_contact_that_reacts_never_breaks_a_rule_and_conserves_money(s, seed):
    result = simulate(s, seed)
    assert _audit(s, result) == []
    assert result.kpis["conservation_error"] <= 1e-6 * max(result.kpis["initial_balance"], 1.0)


def test_a_scenario_with_contact_and_placement_round_trips_through_toml():
    from sim.scenario import load_scenario_text

    s = load_scenario(SCENARIOS / "hawkes_baseline.toml", {
        "compliance.lender_preset": "us_first_party", "compliance.placement_dpd": 90,
        "contact": {"time_zones": {"America/Denver": 0.07}, "states": {"MA": 0.021}, "exclusions": {"scra": 0.004}}})
    again = load_scenario_text(s.to_toml())
    assert again.content_hash == s.content_hash and again.contact == s.contact
    assert again.compliance.lender_preset == "us_first_party" and again.compliance.placement_dpd == 90


def test_with_paired_draws_an_account_two_strategies_treat_alike_asks_to_stop_alike():
    from test_paired_draws import roomy_baseline

    contact = scenario({"contact": {"cease_request": 0.05, "opt_out": {"sms": 0.03, "email": 0.03},
                                    "time_zones": {"America/Chicago": 0.5}}}).contact
    plain = roomy_baseline().model_copy(update={"contact": contact})
    sms, call = (next(s for s in plain.strategy.steps if s.channel == c) for c in ("sms", "call"))
    more = roomy_baseline([sms.model_copy(update={"every_days": 2, "segments": ["high"]}),
                           call.model_copy(update={"every_days": 1, "from_dpd": 1, "segments": ["high"]})])
    more = more.model_copy(update={"contact": contact})
    book = build_portfolio(plain, RandomStreams(3)["portfolio"])
    alike = book.segment != book.segment_names.index("high")

    def requests(s):
        log = simulate(s, 3, portfolio=book, paired_draws=True).contact_log
        stops = np.isin(log.outcome_names(), ["opt_out", "cease_request"])
        # Who asked to stop, how, and by which channel (the agents' queue may call them at other minutes).
        return sorted((int(a), int(c), int(o)) for a, c, o in zip(log.account[stops], log.channel[stops],
                                                                    log.outcome[stops], strict=True)
                      if alike[int(a)])

    first = requests(plain)
    assert len(first) > 20 and first == requests(more)
