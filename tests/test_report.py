"""``python -m sim report``: one self-contained HTML file whose embedded numbers are the store's."""

from __future__ import annotations

import html
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from sim.executors import LocalExecutor
from sim.experiment import record_run, run_experiment
from sim.report import report_html
from sim.scenario import load_scenario
from sim.simulation import simulate
from sim.store import ResultStore

from simhelpers import ROOT, SCENARIOS

TINY = {"simulation.accounts": 200, "simulation.days": 20}
HOSTILE = "<script>alert(1)</script>"
SECTIONS = ("question", "headline", "setup", "kpis", "differences", "waterfall", "recovery", "cost", "complaints",
            "capacity", "assumptions")
CHARTS = ("waterfall", "recovery", "cost", "complaints", "capacity", "utilisation")


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A store holding a compare (baseline and a challenger named like a script, 2 reps) and a single run."""
    path = tmp_path_factory.mktemp("report") / "runs.duckdb"
    store = ResultStore(path).ensure()
    champion = load_scenario(SCENARIOS / "baseline.toml", TINY)
    challenger = load_scenario(SCENARIOS / "sms_gentle.toml", {**TINY, "name": HOSTILE})
    comparison = run_experiment([champion, challenger], 2, rng=3, executor=LocalExecutor(1), store=store)
    run_id = record_run(store, champion, simulate(champion, 5, contact_log=False))
    return store, comparison.experiment_id, run_id


def embedded(page: str) -> dict:
    found = re.search(r'<script type="application/json" id="repaylab-data">(.*?)</script>', page, re.S)
    assert found, "no embedded data"
    return json.loads(found.group(1))


def report(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "sim", "report", *args], cwd=cwd, capture_output=True, text=True)


def assert_self_contained(page: str) -> None:
    assert page.startswith("<!DOCTYPE html>")
    assert "<link" not in page
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "@import" not in page
    assert not re.search(r"""url\(\s*['"]?(?!#)""", page)  # only references inside the page: url(#clip)
    # The only script is the data.
    assert re.findall(r"<script\b[^>]*>", page) == ['<script type="application/json" id="repaylab-data">']


@pytest.mark.parametrize("which", ["compare", "run"])
def test_every_section_and_chart_is_there_and_nothing_is_loaded(stored, which):
    store, compare_id, run_id = stored
    page = report_html(store, compare_id if which == "compare" else run_id)
    assert_self_contained(page)
    for section in SECTIONS:
        assert f'id="{section}"' in page, section
    for chart in CHARTS:
        assert re.search(rf'<figure class="chart" id="chart-{chart}"><svg', page), chart
    assert page.count("<svg") == len(CHARTS)


@pytest.mark.parametrize("which", ["compare", "run"])
def test_the_embedded_kpi_means_are_the_store_s_to_the_cent(stored, which):
    store, compare_id, run_id = stored
    eid = compare_id if which == "compare" else run_id
    data = embedded(report_html(store, eid))
    frame = store.experiment_kpis(eid)
    assert data["experiment"]["id"] == eid
    assert [s["label"] for s in data["scenarios"]] == list(dict.fromkeys(frame["label"]))
    for scenario in data["scenarios"]:
        rows = frame[frame["label"] == scenario["label"]]
        assert scenario["hash"] == rows["scenario_hash"].iloc[0]
        for kpi, est in scenario["kpis"].items():
            assert est["mean"] == pytest.approx(float(rows[kpi].mean()), abs=0.005), kpi
            if which == "run":
                assert est["ci_low"] is None  # one replication: no interval


def test_the_differences_are_paired_by_replication(stored):
    store, compare_id, _ = stored
    data = embedded(report_html(store, compare_id))
    frame = store.experiment_kpis(compare_id)
    champion, challenger = (frame[frame["scenario_index"] == i].set_index("rep") for i in (0, 1))
    found = {d["kpi"]: d for d in data["differences"]}
    for kpi in ("net_recovery", "complaints_per_1000", "cure_rate"):
        assert found[kpi]["mean"] == pytest.approx(float((challenger[kpi] - champion[kpi]).mean()), abs=0.005)
        assert found[kpi]["champion"] == "baseline" and found[kpi]["challenger"] == HOSTILE


def test_user_text_is_escaped_everywhere(stored):
    store, compare_id, _ = stored
    page = report_html(store, compare_id, title=f"Q3 {HOSTILE} & <b>")
    assert HOSTILE not in page
    assert html.escape(HOSTILE) in page
    assert "<title>Q3 &lt;script&gt;alert(1)&lt;/script&gt; &amp; &lt;b&gt;</title>" in page
    data = embedded(page)  # the JSON keeps the text as it is, escaped for the script element
    assert data["title"] == f"Q3 {HOSTILE} & <b>"
    assert data["scenarios"][1]["label"] == HOSTILE


def test_the_headline_says_who_wins_and_how_sure(stored):
    store, compare_id, run_id = stored
    lines = embedded(report_html(store, compare_id))["headline"]
    assert any("net recovery" in line for line in lines) and any("complaints" in line for line in lines)
    assert all(("significant at 95%" in line) or ("not distinguishable" in line) for line in lines)
    single = embedded(report_html(store, run_id))["headline"]
    assert len(single) == 1 and "nothing to compare" in single[0]


def test_the_command_writes_the_file_and_refuses_bad_input(stored, tmp_path):
    store, compare_id, _ = stored
    done = report([compare_id[:6], "--store", str(store.path), "--title", "Q3 test", "--out", "r.html"], tmp_path)
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert embedded(page)["title"] == "Q3 test"
    unknown = report(["nope", "--store", str(store.path), "--out", "x.html"], tmp_path)
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1 and "no stored experiment" in unknown.stderr
    assert not (tmp_path / "x.html").exists()
    # The output path is checked before any work: a missing directory fails even with no store.
    bad = report([compare_id, "--store", str(tmp_path / "none.duckdb"), "--out", "missing/r.html"], tmp_path)
    assert bad.returncode == 2 and "--out" in bad.stderr and "does not exist" in bad.stderr


def test_a_sweep_report_has_its_trade_off(tmp_path):
    from sim.sweep import run_sweep

    store = ResultStore(tmp_path / "runs.duckdb").ensure()
    base = load_scenario(SCENARIOS / "baseline.toml", {"simulation.accounts": 150, "simulation.days": 10})
    sweep = run_sweep(base, [("teams.callers.agents", [10])], 2, rng=1, executor=LocalExecutor(1), store=store)
    page = report_html(store, sweep.comparison.experiment_id)
    assert 'id="chart-tradeoff"' in page and "teams.callers.agents" in page
    assert embedded(page)["experiment"]["kind"] == "sweep"


CHROMIUM = "/usr/bin/chromium"


def render_in_chromium(out: Path, charts) -> dict:
    """Open a report file in headless Chromium: every chart drawn, no console error, no other request; the
    embedded data as the browser reads it."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            problems, requests = [], []
            page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: problems.append(str(e)))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(out.as_uri())
            page.wait_for_load_state("load")
            assert page.title() == html.unescape(re.search(r"<title>(.*?)</title>",
                                                           out.read_text(encoding="utf-8")).group(1))
            for chart in charts:
                figure = page.locator(f"#chart-{chart} svg")
                assert figure.count() == 1, chart
                box = figure.bounding_box()
                assert box and box["width"] > 100 and box["height"] > 100, chart
                assert page.locator(f"#chart-{chart} svg path").count() > 0, chart
            assert page.locator("svg").count() == len(charts)
            data = json.loads(page.locator("#repaylab-data").text_content())
            assert not problems, problems
            assert requests == [out.as_uri()]  # nothing but the file itself
            return data
        finally:
            browser.close()


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing")
def test_the_report_renders_every_chart_in_chromium(stored, tmp_path):
    store, compare_id, _ = stored
    out = tmp_path / "report.html"
    out.write_text(report_html(store, compare_id), encoding="utf-8")
    data = render_in_chromium(out, CHARTS)
    assert data["experiment"]["id"] == compare_id


def test_the_report_module_is_not_part_of_the_code_version():
    from sim.experiment import simulation_sources

    names = {p.name for p in simulation_sources()}
    assert not names & {"report.py", "power.py", "formats.py"}
    assert (ROOT / "sim" / "report.py").exists()


def test_without_a_title_the_report_asks_the_experiments_own_name(tmp_path):
    store = ResultStore(tmp_path / "runs.duckdb").ensure()
    scenario = load_scenario(SCENARIOS / "baseline.toml", TINY)
    experiment_id = run_experiment([scenario], 2, rng=3, executor=LocalExecutor(1), store=store).experiment_id
    assert "<title>Compare of baseline</title>" in report_html(store, experiment_id)
    store.rename_experiment(experiment_id, "Q3 & the SMS test")
    page = report_html(store, experiment_id)
    assert "<title>Q3 &amp; the SMS test</title>" in page and embedded(page)["title"] == "Q3 & the SMS test"
