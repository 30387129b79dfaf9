"""The app in a real browser: ``streamlit run app.py`` driven by headless Chromium through Playwright.

One server (127.0.0.1, a free port) and one browser for the module. Each page
is opened; a comparison and a payoff plan are run by clicking, and the test
checks that charts (images) and numbers appear, and that the payoff's total
interest is the advisor's to the cent. Screenshots go to a temporary folder;
``REPAYLAB_SCREENSHOTS=docs/screenshots`` refreshes the ones the README shows.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

from optimizer.payoff.advisor import advise
from optimizer.payoff.model import load_debts

from simhelpers import ROOT, SCENARIOS

CHROMIUM = "/usr/bin/chromium"
# Screenshots go to a temporary folder, so a test run never changes the
# committed ones; REPAYLAB_SCREENSHOTS=docs/screenshots refreshes the README's.
SHOTS = Path(os.environ.get("REPAYLAB_SCREENSHOTS") or tempfile.mkdtemp(prefix="repaylab-shots-"))
TIMEOUT_MS = 90_000

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} is missing (apt-get install chromium; CI installs it)"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = free_port()
    log_path = tmp_path_factory.mktemp("streamlit") / "server.log"
    env = {**os.environ, "REPAYLAB_STORE": str(log_path.parent / "runs.duckdb")}
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
             "--server.address", "127.0.0.1", "--server.headless", "true",
             "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                pytest.fail(f"streamlit exited with {process.returncode}: {log_path.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"streamlit did not answer within 60 s: {log_path.read_text()[-2000:]}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture(scope="module")
def page(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            tab = browser.new_page(viewport={"width": 1400, "height": 1600})
            tab.set_default_timeout(TIMEOUT_MS)
            yield tab
        finally:
            browser.close()


def settle(page) -> None:
    """Wait until the script run that the last action started has finished."""
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=TIMEOUT_MS)


def no_exception(page) -> None:
    shown = page.locator('[data-testid="stException"]')
    assert shown.count() == 0, shown.first.inner_text()


def open_page(page, server, path: str, title: str) -> None:
    page.goto(f"{server}/{path}")
    page.get_by_role("heading", name=title).first.wait_for()
    settle(page)
    no_exception(page)


def set_number(page, label: str, value) -> None:
    box = page.get_by_label(label, exact=True)
    box.fill(str(value))
    box.press("Enter")
    settle(page)


def metric_value(page, label: str) -> str:
    card = page.locator('[data-testid="stMetric"]').filter(has_text=label).first
    return card.locator('[data-testid="stMetricValue"]').inner_text().strip()


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_compare_strategies_in_the_browser(page, server):
    open_page(page, server, "", "Compare strategies")
    set_number(page, "Accounts", 1000)
    set_number(page, "Days", 60)
    set_number(page, "Replications", 3)
    page.get_by_role("button", name="Run comparison").click()
    page.get_by_text("net recovery · sms_gentle").wait_for()
    settle(page)
    no_exception(page)
    amount, currency = metric_value(page, "net recovery · baseline").split(" ")
    assert amount.replace(",", "").isdigit() and currency == "USD"
    assert page.locator('[data-testid="stDataFrame"]').count() >= 1  # the KPI table
    charts = page.locator('[data-testid="stImage"] img, canvas, svg.marks')
    assert charts.count() >= 1
    page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
    assert page.get_by_text("Computed from: 1,000 accounts × 60 days × 3 replications × seed 42").count() == 1
    shot(page, "compare")
    # Change an input: the results stay, under a banner that says they are stale.
    set_number(page, "Days", 30)
    page.get_by_text("Stale: the inputs above have changed").wait_for()
    set_number(page, "Days", 60)
    page.get_by_text("Stale: the inputs above have changed").wait_for(state="detached")


def test_debt_payoff_in_the_browser(page, server):
    open_page(page, server, "payoff", "Debt payoff")
    set_number(page, "Monthly budget ($)", 650)
    page.get_by_role("button", name="Plan the payoff").click()
    page.get_by_text("total interest · optimal").wait_for()
    settle(page)
    advice = advise(load_debts(SCENARIOS / "household.toml"), ["avalanche", "snowball", "minimum", "optimal"], 650)
    for plan in advice.plans:
        assert metric_value(page, f"total interest · {plan.strategy}") == f"${plan.total_interest:,.2f}"
    page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
    shot(page, "payoff")


def test_scenario_lab_in_the_browser(page, server):
    open_page(page, server, "lab", "Scenario lab")
    page.get_by_text("Valid scenario baseline").wait_for()
    set_number(page, "Accounts", 500)
    set_number(page, "Days", 45)
    page.get_by_role("button", name="Run the scenario").click()
    page.get_by_text("recovery rate").first.wait_for()
    settle(page)
    assert metric_value(page, "net recovery").removesuffix(" USD").replace(",", "").lstrip("-").isdigit()
    page.get_by_role("tab", name="Sensitivity (tornado)").click()
    page.get_by_role("button", name="Run the sensitivity").click()
    tornado = page.locator('[data-testid="stImage"] img').first
    tornado.wait_for(state="visible")
    settle(page)
    no_exception(page)
    tornado.scroll_into_view_if_needed()
    shot(page, "lab")


def test_capacity_in_the_browser(page, server):
    open_page(page, server, "capacity", "Capacity")
    set_number(page, "Accounts", 1000)
    set_number(page, "Horizon (days)", 28)
    page.get_by_role("button", name="Solve the allocation").click()
    page.get_by_text("objective: net + book at the horizon").first.wait_for()
    settle(page)
    assert metric_value(page, "status") == "optimal"
    page.locator('[data-testid="stImage"] img').first.wait_for(state="visible")
    shot(page, "capacity")
    page.get_by_role("tab", name="Inbound staffing").click()
    page.get_by_role("button", name="Staff the line").click()
    page.get_by_text("agents to roster (shifts)").wait_for()
    settle(page)
    assert metric_value(page, "roster status") == "optimal"
    shot(page, "staffing")


def test_history_in_the_browser(page, server):
    open_page(page, server, "history", "History")
    # The comparison above did not keep its runs, so the store is empty and the page says how to fill it.
    page.get_by_text("No stored experiments yet").wait_for()


def test_glossary_in_the_browser(page, server):
    open_page(page, server, "glossary", "Glossary")
    page.get_by_text("Shadow price").first.wait_for()
    shot(page, "glossary")
