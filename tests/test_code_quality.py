"""The code passes the project's linter, with the rules in pyproject.toml (part of the test command)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from simhelpers import ROOT

PATHS = ["sim", "optimizer", "app.py", "app_pages", "app_support", "benchmarks", "tests"]


def test_ruff_finds_nothing():
    if shutil.which("ruff") is None and subprocess.run([sys.executable, "-m", "ruff", "--version"],
                                                       capture_output=True).returncode != 0:
        pytest.fail("ruff is not installed: pip install -e '.[dev]'")
    done = subprocess.run([sys.executable, "-m", "ruff", "check", *PATHS], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
