"""The one atomic writer every output goes through: whole or not at all, a failure is one line."""

from __future__ import annotations

import os

import pytest

from sim.errors import ScenarioError
from sim.io import write_atomic


@pytest.mark.parametrize("content", [b"bytes\n", "text ✓\n", lambda tmp: open(tmp, "w").write("callable\n")])
def test_writes_bytes_text_or_through_a_writer(tmp_path, content):
    target = tmp_path / "out.txt"
    target.write_text("old\n")
    write_atomic(target, content)
    assert target.read_text(encoding="utf-8") in ("bytes\n", "text ✓\n", "callable\n")
    assert os.listdir(tmp_path) == ["out.txt"]


def test_a_failing_writer_leaves_the_old_file_and_no_temporary_file(tmp_path):
    target = tmp_path / "out.csv"
    target.write_text("old\n")

    def fail(tmp):
        open(tmp, "w").write("half")
        raise OSError(28, "No space left on device")

    with pytest.raises(ScenarioError) as err:
        write_atomic(target, fail, option="--csv")
    assert str(err.value).count("\n") == 0 and "--csv" in str(err.value) and "No space left" in str(err.value)
    assert target.read_text() == "old\n"
    assert os.listdir(tmp_path) == ["out.csv"]


def test_a_missing_directory_is_one_line(tmp_path):
    with pytest.raises(ScenarioError) as err:
        write_atomic(tmp_path / "nope" / "out.csv", b"x", option="--csv")
    assert "cannot be written" in str(err.value)
    assert os.listdir(tmp_path) == []


def test_an_output_gets_the_permissions_the_umask_gives_not_owner_only(tmp_path):
    old = os.umask(0o022)
    os.umask(old)
    target = tmp_path / "report.html"
    write_atomic(target, "<!DOCTYPE html>")
    assert target.stat().st_mode & 0o777 == 0o666 & ~old
