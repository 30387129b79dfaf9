"""Staffing the inbound line: Erlang C/A against exact values and a birth-death chain,
agents needed, the shift-cover integer program against enumeration, and the CLI."""

from __future__ import annotations

import itertools
import json
import math
import re
import shlex
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.linalg import expm

from optimizer import cli
from optimizer.staffing.queueing import erlang_b, erlang_c_from_load
from optimizer.staffing.requirements import (
    agents_needed,
    erlang_a,
    erlang_c,
    erlang_c_metrics,
    erlang_c_service_level,
    erlang_c_wait,
    offered_load,
    requirements_by_hour,
    schedule_shifts,
    standard_shifts,
)
from optimizer.staffing.shifts import ShiftPattern, build_shift_model

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- Erlang C


def exact_erlang_c(load: int, agents: int) -> Fraction:
    """Erlang C from its definition, in exact rational arithmetic."""
    a = Fraction(load)
    terms = [a**k / math.factorial(k) for k in range(agents)]
    top = a**agents / math.factorial(agents) * Fraction(agents) / (agents - a)
    return top / (sum(terms) + top)


@pytest.mark.parametrize(
    "load, agents, table",
    [(2, 3, 0.4444), (10, 12, 0.4494), (10, 11, 0.6821), (10, 14, 0.1741), (1, 2, 0.3333)],
)
def test_erlang_c_matches_exact_fractions_and_tables(load, agents, table):
    value = erlang_c_from_load(load, agents)
    assert value == pytest.approx(float(exact_erlang_c(load, agents)), rel=1e-12)
    assert round(value, 4) == table


def test_erlang_c_2_erlangs_3_agents_is_four_ninths():
    assert exact_erlang_c(2, 3) == Fraction(4, 9)
    # 240 calls/hour × 30 s = 2 Erlangs
    assert erlang_c(240, 30, 3) == pytest.approx(4 / 9, rel=1e-13)


def test_erlang_c_stable_for_many_agents():
    value = erlang_c_from_load(950, 1000)
    assert value == pytest.approx(float(exact_erlang_c(950, 1000)), rel=1e-10)
    assert 0 < erlang_c_from_load(45_000, 45_500) < 1


def test_callcentre_textbook_example():
    # 100 calls per 30 minutes, 3-minute handle time: 10 Erlangs.
    assert offered_load(200, 180) == pytest.approx(10)
    assert erlang_c(200, 180, 11) == pytest.approx(0.6821, abs=5e-5)
    assert erlang_c_wait(200, 180, 11) == pytest.approx(122.8, abs=0.05)
    need = agents_needed(200, 180, service_level=0.8, answer_within=20, shrinkage=0.3)
    assert (need.agents, need.rostered) == (14, 20)  # 14 / 0.7 is 20.000000000000004
    assert need.metrics.service_level == pytest.approx(0.8884, abs=5e-5)


def test_erlang_b_recursion_matches_definition():
    a, n = Fraction(7), 9
    exact = (a**n / math.factorial(n)) / sum(a**k / math.factorial(k) for k in range(n + 1))
    assert erlang_b(7, 9) == pytest.approx(float(exact), rel=1e-13)


def test_service_level_formula_and_mean_wait_are_consistent():
    rate, handle, agents = 200, 180, 13
    c = erlang_c(rate, handle, agents)
    mu, lam = 1 / handle, rate / 3600
    for t in (0, 10, 20, 60):
        assert erlang_c_service_level(rate, handle, agents, t) == pytest.approx(
            1 - c * math.exp(-(agents * mu - lam) * t), rel=1e-13
        )
    # E[W] = ∫ P(W > t) dt
    integral, _ = quad(lambda t: 1 - erlang_c_service_level(rate, handle, agents, t), 0, math.inf)
    assert integral == pytest.approx(erlang_c_wait(rate, handle, agents), rel=1e-8)


def test_unstable_queue_is_a_value_not_an_exception():
    assert erlang_c(200, 180, 10) == 1.0
    assert erlang_c(200, 180, 9) == 1.0
    assert erlang_c_wait(200, 180, 10) == math.inf
    assert erlang_c_service_level(200, 180, 10, 20) == 0.0
    assert erlang_c(200, 180, 0) == 1.0
    assert erlang_c(0, 180, 0) == 0.0 and erlang_c_wait(0, 180, 3) == 0.0


def test_bad_arguments_raise_value_error():
    with pytest.raises(ValueError):
        erlang_c(-1, 180, 3)
    with pytest.raises(ValueError):
        erlang_c(10, 0, 3)
    with pytest.raises(ValueError):
        erlang_c(10, 180, 2.5)
    with pytest.raises(ValueError):
        agents_needed(10, 180, service_level=1.0)


# ----------------------------------------------------------------------------- Erlang A


def birth_death(rate, handle, agents, patience, within, states=400):
    """M/M/n+M by a truncated birth-death chain: P(wait), P(abandon), P(answered within t).

    The service level follows a tagged arrival through an absorbing chain on the
    number of callers ahead of it (matrix exponential), independently of the
    closed forms.
    """
    lam, mu, theta = rate / 3600, 1 / handle, 1 / patience
    weights = [1.0]
    for k in range(1, states):
        weights.append(weights[-1] * lam / (min(k, agents) * mu + max(k - agents, 0) * theta))
    p = np.array(weights) / sum(weights)
    p_wait = p[agents:].sum()
    queue = sum(max(k - agents, 0) * p[k] for k in range(states))
    p_abandon = theta * queue / lam
    m = states - agents  # transient states: i callers ahead, then served, abandoned
    q = np.zeros((m + 2, m + 2))
    for i in range(m):
        q[i, i - 1 if i else m] += agents * mu + i * theta
        q[i, m + 1] += theta
        q[i, i] -= agents * mu + (i + 1) * theta
    moved = expm(q * within)
    answered = (1 - p_wait) + sum(p[agents + i] * moved[i, m] for i in range(m))
    return p_wait, p_abandon, answered


@pytest.mark.parametrize(
    "rate, handle, agents, patience, within",
    [
        (100, 300, 8, 120, 20),
        (100, 300, 9, 600, 30),
        (300, 180, 12, 60, 20),
        (50, 600, 5, 30, 60),
        (120, 360, 15, 180, 20),
        (40, 300, 1, 200, 10),
    ],
)
def test_erlang_a_agrees_with_birth_death_chain(rate, handle, agents, patience, within):
    m = erlang_a(rate, handle, agents, patience, within)
    p_wait, p_abandon, answered = birth_death(rate, handle, agents, patience, within)
    assert m.p_wait == pytest.approx(p_wait, abs=1e-9)
    assert m.p_abandon == pytest.approx(p_abandon, abs=1e-9)
    assert m.service_level == pytest.approx(answered, abs=1e-8)
    assert m.mean_wait == pytest.approx(p_abandon * patience, rel=1e-7)


@pytest.mark.parametrize("agents", [11, 13, 20])
def test_erlang_a_tends_to_erlang_c_as_patience_grows(agents):
    c = erlang_c_metrics(200, 180, agents, 20)
    a = erlang_a(200, 180, agents, patience=1e7, answer_within=20)
    assert a.p_wait == pytest.approx(c.p_wait, abs=1e-4)
    assert a.service_level == pytest.approx(c.service_level, abs=1e-4)
    assert a.mean_wait == pytest.approx(c.mean_wait, rel=1e-3)
    assert a.p_abandon < 1e-4
    assert erlang_a(200, 180, agents, patience=math.inf).p_wait == c.p_wait


def test_erlang_a_with_very_short_patience_loses_every_waiting_caller():
    m = erlang_a(200, 180, 11, patience=0.01, answer_within=20)
    # a waiting caller is answered before hanging up with odds nμ : θ
    assert m.p_abandon == pytest.approx(m.p_wait, rel=1e-3)
    assert m.p_abandon / m.p_wait == pytest.approx(1 / (1 + 11 * 0.01 / 180), rel=1e-6)
    # nobody waits long, so the line behaves like a loss system: Erlang B
    assert m.p_wait == pytest.approx(erlang_b(10, 11), rel=1e-3)
    assert m.service_level == pytest.approx(1 - m.p_abandon, abs=1e-4)


def test_erlang_a_is_stable_even_when_overloaded():
    m = erlang_a(200, 180, 8, patience=120)
    assert 0 < m.p_abandon < m.p_wait < 1
    assert erlang_a(200, 180, 0, patience=120).p_abandon == 1.0


# ----------------------------------------------------------------------------- agents needed


def test_agents_needed_is_the_smallest_count_meeting_the_target():
    for model, patience in (("erlang_c", None), ("erlang_a", 120.0)):
        need = agents_needed(350, 240, 0.85, 15, model=model, patience=patience)
        assert need.metrics.service_level >= 0.85
        fewer = agents_needed(350, 240, 0.85, 15, model=model, patience=patience).agents - 1
        if model == "erlang_c":
            assert erlang_c_service_level(350, 240, fewer, 15) < 0.85
        else:
            assert erlang_a(350, 240, fewer, 120, 15).service_level < 0.85


def test_agents_needed_is_monotone():
    rates = [agents_needed(r, 300).agents for r in range(0, 1001, 50)]
    assert rates == sorted(rates) and rates[0] == 0
    levels = [agents_needed(500, 300, sl).agents for sl in (0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99)]
    assert levels == sorted(levels)
    abandon = [
        agents_needed(500, 300, model="erlang_a", patience=90, max_abandon=cap).agents
        for cap in (0.1, 0.05, 0.02, 0.01)
    ]
    assert abandon == sorted(abandon)


def test_agents_needed_handles_a_large_centre_and_shrinkage():
    need = agents_needed(60_000, 300, shrinkage=0.35)
    assert 5_000 < need.agents < 5_100
    assert need.rostered == math.ceil(need.agents / 0.65)
    assert agents_needed(0, 300).rostered == 0


def test_requirements_by_hour():
    hours = requirements_by_hour({9: 120, 8: 40, 10: 0}, 360)
    assert list(hours) == [8, 9, 10]
    assert hours[9].agents == agents_needed(120, 360).agents
    assert hours[10].agents == 0
    assert list(requirements_by_hour([10, 20], 300)) == [0, 1]


# ----------------------------------------------------------------------------- shift MIP


def brute_force(required: dict[int, int], patterns: list[ShiftPattern]) -> float:
    best = math.inf
    top = max(required.values())
    for counts in itertools.product(range(top + 1), repeat=len(patterns)):
        covered = all(
            sum(n for n, p in zip(counts, patterns, strict=True) if h in p.hours) >= need
            for h, need in required.items()
        )
        if covered:
            best = min(best, sum(n * p.cost for n, p in zip(counts, patterns, strict=True)))
    return best


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_shift_mip_matches_enumeration(solver):
    required = {8: 2, 9: 3, 10: 4, 11: 2, 12: 1, 13: 3, 14: 3, 15: 1}
    patterns = [
        ShiftPattern.parse("08:00-12:00", cost=4),
        ShiftPattern.parse("10:00-14:00", cost=4),
        ShiftPattern.parse("12:00-16:00", cost=4),
        ShiftPattern.parse("08:00-11:00+13:00-16:00", cost=6),
        ShiftPattern.parse("09:00-15:00", cost=5),
    ]
    roster = schedule_shifts(required, patterns, solver=solver, time_limit=10)
    assert roster.status == "optimal" and roster.solver == solver
    assert roster.objective == pytest.approx(brute_force(required, patterns))
    for hour, need in required.items():
        assert roster.coverage[hour] >= need
        assert roster.slack[hour] == roster.coverage[hour] - need
    assert sum(roster.agents.values()) == roster.total_agents


def test_shift_model_names_its_constraints():
    model = build_shift_model({8: 1, 9: 2, 10: 0}, ["08:00-16:00"])
    assert {c.name for c in model.problem.constraints()} == {"cover_8", "cover_9"}


def test_uncovered_hour_is_an_infeasible_status():
    roster = schedule_shifts({8: 2, 20: 1}, ["08:00-16:00"])
    assert roster.status == "infeasible" and not roster.success
    assert roster.uncovered == (20,)
    capped = schedule_shifts({8: 5}, ["08:00-16:00"], max_per_pattern=3)
    assert capped.status == "infeasible"


def test_standard_shifts_and_several_days():
    shifts = standard_shifts(8, break_after=4)
    assert shifts[0].hours == (0, 1, 2, 3, 5, 6, 7, 8) and len(shifts) == 24 - 9 + 1
    assert [p.cost for p in standard_shifts(4, cost="hours")][:1] == [4.0]
    week = [0] * 48
    week[10], week[24 + 10] = 3, 5
    roster = schedule_shifts(week, ["08:00-16:00"])
    assert roster.agents == {"day 0 08:00-16:00": 3, "day 1 08:00-16:00": 5}


@pytest.mark.parametrize(
    "text",
    [
        "16:00-08:00",
        "09:00-09:00",
        "08:15-12:00",
        "25:00-26:00",
        "08:00",
        "09:00-13:00+12:00-14:00",
    ],
)
def test_bad_shift_patterns(text):
    with pytest.raises(ValueError):
        ShiftPattern.parse(text)


# ----------------------------------------------------------------------------- command line


def staff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "optimizer", "staff", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_cli_json_run(tmp_path):
    hours = tmp_path / "hours.toml"
    hours.write_text('[calls_per_hour]\n"08:00" = 40\n"09:00" = 120\n"10:00" = 150\n')
    done = staff(
        "--hours",
        str(hours),
        "--handle-minutes",
        "6",
        "--patience-minutes",
        "3",
        "--shifts",
        "08:00-12:00,09:00-13:00",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["settings"]["model"] == "erlang_a"
    assert [row["start"] for row in data["intervals"]] == ["08:00", "09:00", "10:00"]
    assert data["roster"]["status"] == "optimal"
    need = {row["start"]: row["rostered"] for row in data["intervals"]}
    assert all(data["roster"]["coverage"][h] >= n for h, n in need.items())


def test_cli_table_run(capsys):
    assert cli.main(["staff", "--calls-per-hour", "200", "--handle-minutes", "3"]) == 0
    row = capsys.readouterr().out.splitlines()[-1].split()
    assert row[3:5] == ["14", "20"]  # agents on the phones, rostered


def test_cli_infeasible_roster_is_exit_1(capsys):
    argv = ["staff", "--profile", "8:40,20:3", "--handle-minutes", "6", "--shifts", "08:00-16:00"]
    assert cli.main(argv) == 1
    assert "Roster: infeasible" in capsys.readouterr().out


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--calls-per-hour", "-5", "--handle-minutes", "6"], "--calls-per-hour"),
        (["--calls-per-hour", "abc", "--handle-minutes", "6"], "--calls-per-hour"),
        (["--profile", "8:40,9", "--handle-minutes", "6"], "--profile"),
        (["--profile", "8:40,30:5", "--handle-minutes", "6"], "--profile"),
        (["--calls-per-hour", "5", "--handle-minutes", "6", "--shifts", "16:00-08:00"], "--shifts"),
        (["--hours", "/no/such/file.toml", "--handle-minutes", "6"], "file not found"),
        (["--calls-per-hour", "5", "--handle-minutes", "0"], "--handle-minutes"),
        (
            ["--calls-per-hour", "5", "--handle-minutes", "6", "--model", "erlang_a"],
            "--patience-minutes",
        ),
        (["--calls-per-hour", "5", "--profile", "8:5", "--handle-minutes", "6"], "exactly one"),
    ],
)
def test_cli_bad_input_is_one_line_exit_2(args, fragment, capsys):
    assert cli.main(["staff", *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err


def test_cli_bad_input_in_a_real_process():
    done = staff("--calls-per-hour", "-5", "--handle-minutes", "6")
    assert done.returncode == 2
    assert done.stderr == "error: command line: --calls-per-hour: must be a number ≥ 0, got '-5'\n"


def test_cli_bad_hours_file(tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text('[calls_per_hour]\n"08:00" = -3\n')
    assert cli.main(["staff", "--hours", str(bad), "--handle-minutes", "6"]) == 2
    assert "calls_per_hour.08:00" in capsys.readouterr().err
    bad.write_text("[calls_per_hour\n")
    assert cli.main(["staff", "--hours", str(bad), "--handle-minutes", "6"]) == 2
    assert "line 1: TOML syntax error" in capsys.readouterr().err


def test_readme_example_is_what_the_command_prints():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Staffing the inbound line", 1)[1]
    block = section.split("```console\n", 1)[1].split("```", 1)[0]
    command, printed = block.split("\n", 3)[:3], block.split("\n")[3:]
    args = shlex.split(" ".join(line.rstrip("\\") for line in command).removeprefix("$ "))
    assert args[:3] == ["python", "-m", "optimizer"]
    done = subprocess.run(
        [sys.executable, *args[1:]], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout.rstrip("\n").split("\n")
    cut = out.index(next(line for line in out if line.startswith("Roster:")))
    # The hourly table is exact; the roster's total is unique, its mix of shifts may not be.
    assert out[:cut] == printed[:cut]
    # paid hours are unique, and so is the fewest head count for them
    total = next(line for line in printed if " paid hours for " in line)
    assert total in out


# ----------------------------------------------------------------------------- paid hours, part time,
# half hours, occupancy, no hangs


def test_roster_minimises_paid_hours_not_head_count():
    # 09:00-13:00 needs 2 agents and 13:00-17:00 needs 1. Fewest agents: two full
    # shifts (2 agents, 16 paid hours). Fewest paid hours: one full shift and one
    # 4-hour morning shift (2 agents, 12 h) — and not three 4-hour shifts (3 agents,
    # 12 h), which the head-count tie-break rules out.
    required = {h: 2 for h in range(9, 13)} | {h: 1 for h in range(13, 17)}
    patterns = ["09:00-17:00", "09:00-13:00", "13:00-17:00"]
    by_agents = schedule_shifts(
        required, [ShiftPattern.parse(p, cost=1) for p in patterns], time_limit=10
    )
    assert (by_agents.total_agents, by_agents.paid_hours) == (2, 16)
    roster = schedule_shifts(required, patterns, time_limit=10)
    assert roster.status == "optimal"
    assert (roster.total_agents, roster.paid_hours, roster.objective) == (2, 12, 12)
    assert roster.agents == {"09:00-17:00": 1, "09:00-13:00": 1, "13:00-17:00": 0}
    assert roster.needed_hours == 12 and roster.efficiency == 1.0


def test_part_time_shift_lengths_cut_paid_hours():
    profile = "8:150,9:240,10:280,11:260,12:200,13:180,14:190,15:180,16:150,17:120,18:100,19:90,20:70,21:45"
    full = staff("--profile", profile, "--handle-minutes", "6", "--shift-length", "8", "--json")
    mixed = staff("--profile", profile, "--handle-minutes", "6", "--shift-length", "8,6,4", "--json")
    full, mixed = json.loads(full.stdout)["roster"], json.loads(mixed.stdout)["roster"]
    assert full["needed_hours"] == mixed["needed_hours"] == 416
    assert full["paid_hours"] == 8 * full["total_agents"]
    assert mixed["paid_hours"] < 0.8 * full["paid_hours"] and mixed["efficiency"] > 0.95
    lengths = {name: ShiftPattern.parse(name).paid_hours for name, n in mixed["agents"].items() if n}
    assert {4.0, 8.0} <= set(lengths.values())
    # only shifts inside the hours with calls are offered: nobody starts before 08:00
    assert min(name for name in lengths) >= "08:00" and max(name[-5:] for name in lengths) <= "22:00"


def test_half_hour_profile_and_toml_keys(tmp_path):
    done = staff("--profile", "08:00=40,08:30=80,09:00=120,09:30=150", "--handle-minutes", "6",
                 "--shift-length", "1.5,1", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["settings"]["interval_minutes"] == 30
    rows = {row["start"]: row for row in data["intervals"]}
    assert list(rows) == ["08:00", "08:30", "09:00", "09:30"]
    # figures are calls per hour: 08:30=80 is 40 calls in that half hour, the same
    # load and agents as an hour of 80 calls
    assert rows["08:30"]["calls_per_hour"] == 80 and rows["08:30"]["calls_in_interval"] == 40
    assert rows["08:30"]["agents"] == agents_needed(80, 360).agents
    roster = data["roster"]
    assert roster["interval_minutes"] == 30 and roster["needed_hours"] == sum(
        row["rostered"] for row in rows.values()
    ) / 2
    assert all(roster["coverage"][h] >= row["rostered"] for h, row in rows.items())
    hours = tmp_path / "hours.toml"
    hours.write_text('[calls_per_hour]\n"08:00" = 40\n"08:30" = 80\n9 = 120\n"09:30" = 150\n')
    again = staff("--hours", str(hours), "--handle-minutes", "6", "--shift-length", "1.5,1", "--json")
    assert json.loads(again.stdout)["intervals"] == data["intervals"]


def test_old_profile_syntax_still_means_hour_and_calls():
    old = staff("--profile", "8:30,9:120", "--handle-minutes", "6", "--json")
    new = staff("--profile", "08:00=30,09:00=120", "--handle-minutes", "6", "--json")
    assert json.loads(old.stdout) == json.loads(new.stdout)
    assert json.loads(old.stdout)["settings"]["interval_minutes"] == 60


def test_occupancy_cap_holds_and_shows_in_the_table(capsys):
    argv = ["staff", "--profile", "08:00=600,08:30=900,09:00=300", "--handle-minutes", "5"]
    assert cli.main(argv) == 0
    uncapped = capsys.readouterr().out
    assert cli.main([*argv, "--max-occupancy", "0.85"]) == 0
    out = capsys.readouterr().out
    assert "occupancy at most 85%" in out
    header, *rows = out.split("\n\n")[1].splitlines()
    assert header.split()[-1] == "occupancy"
    shown = [float(row.split()[-1].rstrip("%")) for row in rows]
    assert all(value <= 85.0 for value in shown)
    assert any(float(row.split()[-1].rstrip("%")) > 85.0 for row in uncapped.split("\n\n")[1].splitlines()[1:])
    need = agents_needed(900, 300, max_occupancy=0.85)
    assert need.agents == math.ceil(75 / 0.85) and need.metrics.occupancy <= 0.85


def test_table_shows_occupancy_per_interval(capsys):
    assert cli.main(["staff", "--profile", "8:40,9:120", "--handle-minutes", "6"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[2].split() == [
        "start", "calls/h", "load", "agents", "rostered", "answered", "wait", "s", "abandon", "occupancy"
    ]
    nine = lines[4].split()
    assert nine[0] == "09:00" and nine[-1] == f"{12 / agents_needed(120, 360).agents:.1%}"


def test_erlang_b_closed_form_matches_the_recursion_for_large_lines():
    def recursion(load, agents):
        blocking = 1.0
        for k in range(1, agents + 1):
            blocking = load * blocking / (k + load * blocking)
        return blocking

    for load, agents in [(450, 501), (950, 1000), (2000, 1000), (5000, 600), (1e5, 100_500)]:
        assert erlang_b(load, agents) == pytest.approx(recursion(load, agents), rel=1e-8)


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--calls-per-hour", "100", "--handle-minutes", "1e9"], "--handle-minutes: must be a number > 0 and ≤ 1440"),
        (["--profile", "8:1e9", "--handle-minutes", "6"], "--profile: 08:00: 1e+09 calls per hour"),
        (["--calls-per-hour", "1e7", "--handle-minutes", "60"], "at most 100,000"),
        (["--calls-per-hour", "5", "--handle-minutes", "6", "--max-occupancy", "1.5"], "--max-occupancy"),
        (["--calls-per-hour", "5", "--handle-minutes", "6", "--shift-length", "8,4.2"], "--shift-length"),
        (["--calls-per-hour", "5", "--handle-minutes", "6", "--shift-length", "4", "--break-after", "4"],
         "--break-after"),
        (["--profile", "08:15=40", "--handle-minutes", "6"], "--profile"),
        (["--profile", "08:00=40,8:5", "--handle-minutes", "6"], "given twice"),
    ],
)
def test_huge_or_bad_input_answers_at_once_in_one_line(args, fragment):
    # the timeout is a guard against a hang, not a performance assertion
    done = subprocess.run([sys.executable, "-m", "optimizer", "staff", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: ")
    assert fragment in done.stderr


def test_largest_load_allowed_is_sized_at_once():
    done = subprocess.run([sys.executable, "-m", "optimizer", "staff", "--calls-per-hour", "1e6",
                           "--handle-minutes", "6", "--patience-minutes", "3", "--json"], cwd=ROOT,
                          capture_output=True, text=True, timeout=20)
    assert done.returncode == 0, done.stderr
    row = json.loads(done.stdout)["intervals"][0]
    assert row["load"] == 100_000 and row["met"]
    with pytest.raises(ValueError, match="at most 100,000"):
        agents_needed(1e9, 360)


@pytest.mark.parametrize(
    "option, value, fragment",
    [
        ("--service-level", "1.5", "--service-level: must be a fraction strictly between 0 and 1"),
        ("--shrinkage", "1", "--shrinkage: must be a fraction in [0, 1)"),
        ("--max-abandon", "0.1", "--max-abandon: needs model 'erlang_a'"),
        ("--model", "erlang_x", "--model: must be one of erlang_c, erlang_a"),
    ],
)
def test_the_settings_are_checked_once_by_the_library_and_named_by_option(option, value, fragment, capsys):
    # agents_needed's check is the only one: the command line names the option it came from.
    with pytest.raises(ValueError, match=re.escape(fragment.split(": ", 1)[1])):
        agents_needed(100, 180, **{option.removeprefix("--").replace("-", "_"): value if option == "--model"
                                   else float(value)})
    assert cli.main(["staff", "--calls-per-hour", "5", "--handle-minutes", "6", option, value]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and fragment in err
