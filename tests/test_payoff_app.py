"""The Debt payoff page, driven headless with AppTest: a bad upload is the command line's one line, as typed."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from streamlit.testing.v1 import AppTest

from app_support.text import plain

from simhelpers import ROOT

APP = str(ROOT / "app.py")
GOOD = b'budget = 400\n[[debts]]\nname = "Card A"\napr = 0.25\n'


def _page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("app_pages/payoff.py").run()
    assert not at.exception, at.exception
    return at


def _unescaped(markdown: str) -> str:
    return re.sub(r"\\(.)", r"\1", markdown)


def _command_line_error(tmp_path, name: str, data: bytes) -> str:
    (tmp_path / name).write_bytes(data)
    proc = subprocess.run([sys.executable, "-m", "optimizer", "payoff", name], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    return proc.stderr.removeprefix("error: ").rstrip("\n")


@pytest.mark.parametrize("data", [
    GOOD.replace(b"apr = 0.25", b"balance = " + b"9" * 5000 + b"\napr = 0.25"),  # ValueError before
    GOOD.replace(b"apr = 0.25", b"balanse = 5000\napr = 0.25"),
    GOOD.replace(b"apr = 0.25", b"balance = 1e308\napr = 0.25"),
], ids=["5000_digits", "typo", "1e308"])
def test_a_bad_debt_file_upload_shows_the_command_lines_line(tmp_path, data):
    at = _page()
    at.file_uploader(key="payoff_upload").set_value(("debts.toml", data, "application/toml")).run()
    assert not at.exception, at.exception
    shown = [e.value for e in at.error]
    assert len(shown) == 1
    assert _unescaped(shown[0]) == _command_line_error(tmp_path, "debts.toml", data)
    # The example debts stay and can still be planned.
    assert not at.button(key="payoff_run").disabled


def test_an_error_is_shown_as_plain_text_not_markdown():
    # A debt named like Markdown (emphasis, LaTeX, a link, a colour directive)
    # is shown as typed in the error about it.
    name = "*Card* $5 [x](http://e.example) :red[A]"
    data = ("budget = 400\n" + "".join(f'[[debts]]\nname = "{name}"\nbalance = 100\napr = 0.2\n'
                                      for _ in range(2))).encode()
    at = _page()
    at.file_uploader(key="payoff_upload").set_value(("debts.toml", data, "application/toml")).run()
    shown = [e.value for e in at.error]
    assert shown == [plain(f"debts.toml: debts.1.name: duplicate debt name {name!r}")]
    assert _unescaped(shown[0]) == f"debts.toml: debts.1.name: duplicate debt name {name!r}"
    for active in ("*", "$", "[", ":r"):
        assert f"\\{active}" in shown[0] and shown[0].count(active) == shown[0].count(f"\\{active}")
