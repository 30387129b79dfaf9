"""Numbers the docs state about the defaults and the shipped files are the code's (issue 15 found them drifted)."""

from __future__ import annotations

import re

from sim.scenario import BehaviorSection, load_scenario, parse_clock

from simhelpers import SCENARIOS

README = (SCENARIOS / "README.md").read_text(encoding="utf-8")


def test_the_base_intensity_the_readme_states_is_the_default():
    text = README[README.index("* `base_intensity`"):README.index("`segment_multiplier` scales")]
    stated = dict((bucket.replace("–", "-"), float(rate))
                  for rate, bucket in re.findall(r"([0-9.]+) in\s+([0-9]+–[0-9]+)", text))
    assert stated == BehaviorSection().base_intensity


def test_the_baseline_row_states_its_staff():
    row = next(line for line in README.splitlines() if line.startswith("| `baseline.toml`"))
    baseline = load_scenario(SCENARIOS / "baseline.toml")
    callers = int(re.search(r"([0-9]+) callers", row)[1])
    per_1000 = float(re.search(r"for [0-9,]+ accounts \(([0-9.]+) per 1,000\)", row)[1])
    opens, closes, inbound = re.search(r"([0-9:]+)–([0-9:]+) every day, [^(]*\(([0-9.]+) per 1,000", row).groups()
    line = baseline.teams["inbound"]
    assert (parse_clock(opens), parse_clock(closes)) == (line.shift_minutes[0][0], line.shift_minutes[-1][1])
    inbound = float(inbound)
    accounts = int(re.search(r"for ([0-9,]+) accounts", row)[1].replace(",", ""))
    assert (callers, per_1000, inbound, accounts) == (
        baseline.teams["callers"].agents, baseline.teams["callers"].agents_per_1000,
        baseline.teams["inbound"].agents_per_1000, baseline.simulation.accounts)
    # Issue 15: no field visits and no legal before charge-off in a US card book, and the row says so.
    assert not {"field", "legal"} & {t.kind for t in baseline.teams.values()}
    assert "no field visits and no legal before charge-off" in row
