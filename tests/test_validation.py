"""The simulator against theory: the CGW closed form, Erlang C, a constant hazard."""

from __future__ import annotations

import numpy as np
import pytest

from optimizer.staffing.queueing import erlang_c, erlang_c_wait
from sim import simulate
from sim.theory import cgw_expected_balance_ratio, constant_hazard_payment_probability

from simhelpers import QUIET_BOOK, scenario

CGW = dict(lambda0=0.3, lambda_inf=0.02, kappa=0.2, delta10=0.05, delta11=0.8, r_min=0.1)


def cgw_scenario(accounts, days, **params):
    return scenario({
        "simulation": {"accounts": accounts, "days": days},
        "portfolio": {"charge_off_dpd": 3000, "balance": {"distribution": "fixed", "median": 1000.0}},
        "behavior": {"model": "cgw", **params},
        "strategy": {"steps": []},
        "teams": {},
    }, base=QUIET_BOOK)


@pytest.mark.parametrize("days", [5, 30, 90])
def test_cgw_expected_balance_matches_closed_form(days):
    # High intensities: many accounts repay several times in one day, which the
    # engine must follow event by event within the day.
    result = simulate(cgw_scenario(60_000, days, **CGW), 11, contact_log=False)
    assert result.series["payments"].max() > 0
    remaining = result.kpis["outstanding"] / result.kpis["initial_balance"]
    expected = float(cgw_expected_balance_ratio([days], **CGW)[0])
    # The standard error of the mean ratio over 60k independent accounts is < 0.002.
    assert remaining == pytest.approx(expected, abs=0.006)


def test_cgw_reference_parameters_per_day():
    # Chehrazi, Glynn & Weber's reference parameters are per year; scaled to days.
    yearly = dict(lambda0=0.11, lambda_inf=0.10, kappa=0.7, delta10=0.02, delta11=0.5, r_min=0.1)
    daily = {k: (v / 365 if k != "r_min" else v) for k, v in yearly.items()}
    result = simulate(cgw_scenario(100_000, 365, **daily), 5, contact_log=False)
    remaining = result.kpis["outstanding"] / result.kpis["initial_balance"]
    expected = float(cgw_expected_balance_ratio([1.0], **yearly)[0])
    assert remaining == pytest.approx(expected, abs=0.005)


def test_several_repayments_in_one_day_when_intensity_is_high():
    params = dict(lambda0=5.0, lambda_inf=0.5, kappa=1.0, delta10=1.0, delta11=2.0, r_min=0.2)
    result = simulate(cgw_scenario(20_000, 1, **params), 3, contact_log=False)
    # At λ0 = 5 a day, the mean number of repayments on day one exceeds 4.
    assert result.series["payments"][0] / 20_000 > 4.0
    expected = float(cgw_expected_balance_ratio([1], **params)[0])
    assert result.kpis["outstanding"] / result.kpis["initial_balance"] == pytest.approx(expected, abs=0.01)


def test_constant_hazard_payment_probability():
    hazard, days = 0.01, 60
    s = scenario({
        "simulation": {"accounts": 40_000, "days": days},
        "portfolio": {"buckets": {"1-30": 1.0}, "segments": {"only": 1.0}},
        # r_min = 1: a repayment pays everything, so "paid off" = "paid at least once".
        "behavior": {"base_intensity": {b: hazard for b in ("1-30", "31-60", "61-90", "91-120", "121-150", "151-180")},
                     "segment_multiplier": {"only": 1.0}, "delta10": 0.0, "delta11": 0.0, "r_min": 1.0},
        "strategy": {"steps": []},
        "teams": {},
    }, base=QUIET_BOOK)
    result = simulate(s, 2, contact_log=False)
    expected = constant_hazard_payment_probability(hazard, days)
    se = np.sqrt(expected * (1 - expected) / 40_000)
    assert abs(result.kpis["cure_rate"] - expected) < 4 * se
    assert result.kpis["recovery_rate"] == pytest.approx(expected, abs=4 * se)


def erlang_scenario(agents, per_hour, handle_minutes, days):
    accounts = 20_000
    return scenario({
        "simulation": {"accounts": accounts, "days": days, "start_date": "2026-01-05"},
        # Conversations change nothing, so the book (and the arrival rate) stays constant.
        "behavior": {"callback_probability": {"sms": per_hour * 24 / accounts}, "patience_minutes": 1e7,
                     "promise_probability": 0.0, "plan_uptake": 0.0, "dispute_probability": 0.0},
        "strategy": {"steps": [{"channel": "sms", "from_dpd": 0, "to_dpd": 3000, "every_days": 1, "send_time": "00:00"}]},
        "teams": {"inbound": {"agents": agents, "shifts": ["00:00-24:00"], "inbound": True,
                              "work_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"],
                              "handle_minutes": {"inbound": handle_minutes}}},
        "compliance": {"preset": "none"},
        "costs": {"sms": 0.0},
    }, base=QUIET_BOOK)


@pytest.mark.parametrize(("agents", "per_hour", "handle"), [(3, 20.0, 6.0), (5, 40.0, 6.0)])
def test_inbound_queue_matches_erlang_c(agents, per_hour, handle):
    # Poisson callbacks, exponential handling, no abandonment: an M/M/c queue.
    result = simulate(erlang_scenario(agents, per_hour, handle, days=40), 9, contact_log=False)
    k = result.kpis
    assert k["inbound_abandoned"] == 0
    p_wait = erlang_c(per_hour, handle * 60, agents)
    mean_wait_minutes = erlang_c_wait(per_hour, handle * 60, agents) / 60
    assert k["inbound_waited_share"] == pytest.approx(p_wait, abs=0.03)
    assert k["mean_inbound_wait_minutes"] == pytest.approx(mean_wait_minutes, rel=0.12)
    # Agents are busy for the offered load: λ·E[S]/c.
    assert k["agent_utilization"] == pytest.approx(per_hour * handle / 60 / agents, rel=0.05)
