"""``python -m sim run`` and ``validate`` as a user runs them."""

from __future__ import annotations

import csv
import json
import subprocess
import sys

import pytest

from simhelpers import ROOT, SCENARIOS

# Runs are saved to the results store: a test's own, never the user's runs.duckdb.
pytestmark = pytest.mark.usefixtures("private_store")


def run_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "sim", *args], capture_output=True, text=True, cwd=cwd or ROOT,
                          timeout=300)


def test_run_json_has_the_documented_shape():
    proc = run_cli("run", str(SCENARIOS / "baseline.toml"), "--accounts", "800", "--days", "30", "--seed", "3", "--json")
    assert proc.returncode == 0, proc.stderr
    payload = json.loads(proc.stdout)
    assert {"scenario", "seed", "accounts", "days", "kpis"} <= payload.keys()
    assert payload["scenario"] == "baseline" and payload["seed"] == 3
    assert payload["days"] == 30
    # baseline is an open book: "accounts" counts every row the run held (the book at the start of the
    # warm-up and every arrival), the KPIs' measured book the accounts in collection in the measured days.
    assert payload["accounts"] >= payload["kpis"]["measured_book"] > payload["kpis"]["book_at_start"] > 0
    kpis = payload["kpis"]
    for name in ("initial_balance", "collected", "outstanding", "written_off", "interest_and_fees", "recovery_rate",
                 "cure_rate", "charge_off_rate", "cost", "net_recovery", "npv_collected", "right_party_contact_rate",
                 "promise_kept_rate", "complaints_per_1000", "agent_utilization", "inbound_service_level",
                 "contacts", "compliance_refusals", "conservation_error", "roll_rates"):
        assert name in kpis, name
    assert kpis["net_recovery"] == pytest.approx(kpis["collected"] - kpis["cost"])
    assert abs(kpis["conservation_error"]) < 1e-6 * kpis["initial_balance"]


def test_run_table_is_readable():
    proc = run_cli("run", str(SCENARIOS / "sms_gentle.toml"), "--accounts", "500", "--days", "20")
    assert proc.returncode == 0, proc.stderr
    assert "recovery rate" in proc.stdout and "net recovery" in proc.stdout and "sms_gentle" in proc.stdout


def test_contacts_out_csv(tmp_path):
    out = tmp_path / "contacts.csv"
    proc = run_cli("run", str(SCENARIOS / "baseline.toml"), "--accounts", "300", "--days", "10", "--contacts-out", str(out))
    assert proc.returncode == 0, proc.stderr
    with out.open() as handle:
        rows = list(csv.DictReader(handle))
    assert rows and list(rows[0]) == ["account_id", "timestamp", "channel", "outcome", "agent"]
    channels = {r["channel"] for r in rows}
    assert channels <= {"sms", "email", "call", "inbound_call", "letter", "field_visit", "legal"}
    assert "call" in channels
    for r in rows:
        if r["channel"] == "call":
            # The dial's outcome, or for a conversation its result (README: the contact log's outcomes).
            assert r["outcome"] in {"no_answer", "wrong_party", "right_party", "promise", "plan", "dispute",
                                    "refusal", "complaint", "opt_out", "cease_request"} and r["agent"]
    assert rows[0]["timestamp"].startswith("2026-01-05T")


def test_same_seed_same_json():
    args = ("run", str(SCENARIOS / "call_heavy.toml"), "--accounts", "400", "--days", "15", "--json")
    assert run_cli(*args).stdout == run_cli(*args).stdout


def test_validate_ok_and_bad(tmp_path):
    ok = run_cli("validate", str(SCENARIOS / "cn_2025.toml"))
    assert ok.returncode == 0 and "ok" in ok.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text('[teams.callers]\nagents = -3\n')
    proc = run_cli("validate", str(bad))
    assert proc.returncode == 2
    assert proc.stderr.strip() == f"error: {bad}: teams.callers.agents: Input should be greater than or equal to 0"
    assert "Traceback" not in proc.stderr


def test_bad_output_directory_writes_nothing(tmp_path):
    proc = run_cli("run", str(SCENARIOS / "baseline.toml"), "--days", "2", "--contacts-out", str(tmp_path / "no" / "x.csv"))
    assert proc.returncode == 2 and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "no").exists()


def test_bad_size_option():
    proc = run_cli("run", str(SCENARIOS / "baseline.toml"), "--accounts", "0")
    assert proc.returncode == 2 and "--accounts" in proc.stderr


def test_a_run_is_saved_to_the_store_once(private_store):
    args = ("run", str(SCENARIOS / "baseline.toml"), "--accounts", "200", "--days", "10", "--json")
    first = json.loads(run_cli(*args).stdout)
    run_cli(*args)
    from sim.store import ResultStore

    store = ResultStore(private_store)
    experiments = store.experiments()
    assert [(e["kind"], e["runs"], e["status"]) for e in experiments] == [("run", 1, "complete")]
    assert store.counts()["runs"] == 1  # the second identical run is the same stored run
    stored = store.experiment_kpis(experiments[0]["id"])
    assert float(stored["collected"].iloc[0]) == first["kpis"]["collected"]


def test_no_store_writes_nothing(tmp_path, private_store):
    proc = run_cli("run", str(SCENARIOS / "baseline.toml"), "--accounts", "100", "--days", "5", "--no-store",
                   cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert not private_store.exists() and not (tmp_path / "runs.duckdb").exists()
