"""Shared helpers for the tests: small scenarios built in code."""

from __future__ import annotations

import copy
import importlib
import sys
from pathlib import Path

from sim.scenario import Scenario, deep_merge

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"

QUIET_BOOK = {
    # Nobody pays unless a test says so: isolates the mechanism under test.
    "portfolio": {"apr": 0.0, "late_fee": 0.0, "charge_off_dpd": 3000,
                  "balance": {"distribution": "fixed", "median": 1000.0},
                  "phone_known": 1.0, "email_known": 1.0},
    "behavior": {"base_intensity": {b: 0.0 for b in ("1-30", "31-60", "61-90", "91-120", "121-150", "151-180")},
                 "lift": {k: 0.0 for k in ("sms", "email", "letter", "call_attempt", "right_party_contact",
                                            "inbound_call", "field_visit", "legal_filing")},
                 "callback_probability": {"sms": 0.0, "email": 0.0, "letter": 0.0}},
}


def scenario(data: dict | None = None, *, base: dict | None = None) -> Scenario:
    """A scenario from plain data merged over ``base`` (default: the library defaults)."""
    merged = deep_merge(copy.deepcopy(base or {}), data or {})
    return Scenario.from_dict(merged, source="<test>")


def benchmark_module(name: str):
    """A script of benchmarks/ as a module (a study shared by a benchmark and its fast test, not copied)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
