"""The Calibrate page, driven headless with AppTest: the fit shown is python -m sim calibrate's."""

from __future__ import annotations

import datetime as dt
import importlib
import sys

import pytest
from streamlit.testing.v1 import AppTest

from app_support.calibrate import HISTORY_UPLOAD_MB
from sim import simulate
from sim.calibration import calibrate
from sim.scenario import load_scenario

from simhelpers import ROOT, SCENARIOS

APP = str(ROOT / "app.py")
PAGE = "app_pages/calibrate.py"
START = dt.date(2026, 1, 5)

pytestmark = pytest.mark.usefixtures("private_store")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def history(folder, scenario_path, overrides: dict, seed: int = 5) -> dict:
    """A small simulated history, written as python -m sim run --portfolio-out --payments-out --contacts-out does."""
    result = simulate(load_scenario(scenario_path, overrides), seed, contact_log=True, history=True)
    files = {role: folder / f"{role}.csv" for role in ("portfolio", "payments", "contacts")}
    result.history.write_portfolio_csv(files["portfolio"])
    result.history.payments.write_csv(files["payments"])
    result.contact_log.write_csv(files["contacts"])
    return files


def test_uploaded_card_history_is_fitted_as_the_command_line_fits_it(tmp_path):
    base = SCENARIOS / "card_baseline.toml"
    files = history(tmp_path, base, {"simulation.accounts": 400, "simulation.days": 60})
    at = open_page()
    assert at.title[0].value == "Calibrate"
    at.selectbox(key="cal_base").set_value("card_baseline")
    at.selectbox(key="cal_model").set_value("card")
    at.number_input(key="cal_days").set_value(60)
    for role, path in files.items():
        uploader = at.get("file_uploader")
        found = [u for u in uploader if u.proto.id.endswith(f"cal_{role}") or u.key == f"cal_{role}"]
        assert found, role
        # The history uploaders state 200 MB (the scenario uploaders 1 MB).
        assert found[0].proto.max_upload_size_mb == HISTORY_UPLOAD_MB
        found[0].upload(path.name, path.read_bytes(), "text/csv")
    at.run()
    at.button(key="cal_fit").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    expected = calibrate(base, files["portfolio"], files["payments"], files["contacts"], start=START, days=60,
                         model="card")
    table = at.dataframe[0].value
    shown = dict(zip(table["parameter"], table["estimate"], strict=True))
    assert shown["base_intensity.1-30"] == pytest.approx(expected.parameters["base_intensity.1-30"].estimate)
    assert set(shown) == set(expected.parameters)
    assert any("Time rescaling" in m.value for m in at.markdown)  # escaped by plain(): words intact
    assert at.get("download_button")
    # A card fit is backtested as a cgw fit is (sim.calibration.card_backtest): the button is offered.
    assert not any("only so far" in i.value for i in at.info)
    assert any(b.key == "cal_backtest" for b in at.button)


def test_a_cgw_history_on_server_paths_is_fitted_and_backtested(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        recovery = importlib.import_module("calibration_recovery")
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    base = recovery.write_scenario(tmp_path, 600, 90)
    files = history(tmp_path, base, {})
    at = open_page()
    at.radio(key="cal_source").set_value("Paths on this machine").run()
    at.text_input(key="cal_base_path").input(str(base))
    at.selectbox(key="cal_model").set_value("cgw")
    at.number_input(key="cal_days").set_value(90)
    for role, path in files.items():
        at.text_input(key=f"cal_{role}_path").input(str(path))
    at.button(key="cal_fit").click().run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    table = at.dataframe[0].value
    assert "lambda_inf" in set(table["parameter"])
    at.number_input(key="cal_fit_days").set_value(60)
    at.number_input(key="cal_reps").set_value(5)
    at.button(key="cal_backtest").click().run()
    assert not at.exception, at.exception
    assert at.metric[0].label == "Days inside the band"


def test_a_missing_file_is_one_line_not_a_traceback(tmp_path):
    at = open_page()
    at.radio(key="cal_source").set_value("Paths on this machine").run()
    at.text_input(key="cal_portfolio_path").input(str(tmp_path / "nowhere.csv"))
    at.button(key="cal_fit").click().run()
    assert not at.exception, at.exception
    assert at.error and "no such file on this machine" in at.error[0].value
