"""Hostile input never gets a traceback (issue 12), class by class.

What ``tests/bad_inputs/`` cannot hold (a FIFO, a read-only directory, a
1,200-file ``extends`` chain) and what is best shown as a matrix: every
reader of a user's file against every kind of special file, every output
option against every kind of bad path, every subcommand against argparse's
mistakes. Each must be exit code 2, one ``error:`` line, nothing on stdout,
nothing written. The commands run in-process (fast), under an alarm so that a
reader that blocks on a FIFO fails the test instead of hanging it.
"""

from __future__ import annotations

import argparse
import errno
import json
import math
import os
import re
import shlex
import signal
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from sim.errors import ScenarioError, printable
from sim.io import check_output_path, check_store_path, read_bounded
from sim.portfolio import parse_portfolio_csv, read_portfolio_csv
from sim.scenario import (
    MAX_ACCOUNTS,
    MAX_BALANCE,
    MAX_DAYS,
    MAX_EXTENDS_DEPTH,
    Scenario,
    decode_small_file,
    load_scenario,
)

from simhelpers import ROOT, SCENARIOS

CSV_HEADER = "account_id,balance,days_past_due\n"


@dataclass(frozen=True)
class Outcome:
    code: int
    stdout: str
    stderr: str


@pytest.fixture(autouse=True)
def sandbox(tmp_path, monkeypatch):
    """An empty working directory and a private results store; an alarm instead of a hang."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("REPAYLAB_STORE", str(tmp_path / "store" / "runs.duckdb"))
    (tmp_path / "store").mkdir()

    def hang(signum, frame):
        raise TimeoutError("a reader blocked (FIFO?) instead of refusing the file")

    previous = signal.signal(signal.SIGALRM, hang)
    signal.alarm(60)
    yield work
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def _main(program: str, argv: list[str], capsys) -> Outcome:
    if program == "sim":
        from sim.cli import main
    else:
        from optimizer.cli import main
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    out = capsys.readouterr()
    return Outcome(int(code or 0), out.out, out.err)


def _assert_one_error_line(outcome: Outcome, *words: str) -> str:
    assert outcome.code == 2, outcome.stderr
    assert outcome.stdout == ""
    assert "Traceback" not in outcome.stderr and "usage:" not in outcome.stderr
    lines = outcome.stderr.splitlines()
    assert len(lines) == 1, outcome.stderr
    assert lines[0].startswith("error: ") and lines[0].isprintable(), lines[0]
    for word in words:
        assert word.lower() in lines[0].lower(), lines[0]
    return lines[0]


def _written(work: Path, tmp_path: Path) -> list[str]:
    """What a command left: files in its working directory, and the results store."""
    left = [str(p.relative_to(work)) for p in work.rglob("*") if not p.name.startswith("hostile_")]
    return left + [str(p) for p in (tmp_path / "store").iterdir()]


# ----------------------------------------------------------------------------- special files

def _make_special(kind: str, where: Path) -> str:
    """A path naming one kind of file that must never be read as input."""
    if kind in ("/dev/zero", "/dev/urandom"):
        return kind
    path = where / f"hostile_{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "symlink_loop":
        os.symlink(path.name, path)
    elif kind == "directory":
        path.mkdir()
    elif kind == "symlink_to_dev_zero":
        os.symlink("/dev/zero", path)
    return str(path)


SPECIAL = {  # kind -> a word the error line must contain
    "/dev/zero": "not a regular file",
    "/dev/urandom": "not a regular file",
    "fifo": "not a regular file",
    "symlink_loop": "symlink loop",
    "symlink_to_dev_zero": "not a regular file",
    "directory": "directory",
}


def _scenario_pointing_at(where: Path, key: str, target: str) -> str:
    path = where / "hostile_scenario.toml"
    if key == "extends":
        path.write_text(f"extends = {json.dumps(target)}\n")
    else:
        path.write_text(f"[portfolio]\ncsv = {json.dumps(target)}\n")
    return str(path)


READERS = {
    # reader -> (program, argv for a path, the path the error names)
    "scenario (validate)": lambda p, w: ("sim", ["validate", p], p),
    "scenario (run)": lambda p, w: ("sim", ["run", p, "--accounts", "20", "--days", "2", "--quiet",
                                            "--contacts-out", "out.csv"], p),
    "extends target": lambda p, w: ("sim", ["validate", _scenario_pointing_at(w, "extends", p)], "extends"),
    "portfolio CSV (run)": lambda p, w: ("sim", ["run", _scenario_pointing_at(w, "csv", p), "--days", "2",
                                                 "--quiet", "--contacts-out", "out.csv"], p),
    "debt file": lambda p, w: ("optimizer", ["payoff", p, "--csv", "plan.csv"], p),
    "staffing --hours file": lambda p, w: ("optimizer", ["staff", "--hours", p, "--handle-minutes", "6"], p),
}


@pytest.mark.parametrize("kind", SPECIAL)
@pytest.mark.parametrize("reader", READERS)
def test_a_special_file_as_input_is_one_line_and_writes_nothing(reader, kind, sandbox, tmp_path, capsys):
    target = _make_special(kind, sandbox)
    program, argv, named = READERS[reader](target, sandbox)
    line = _assert_one_error_line(_main(program, argv, capsys), SPECIAL[kind])
    assert named in line
    assert _written(sandbox, tmp_path) == []


@pytest.mark.parametrize("kind", SPECIAL)
def test_read_bounded_refuses_special_files(kind, sandbox):
    path = _make_special(kind, sandbox)
    with pytest.raises(ScenarioError, match=SPECIAL[kind]) as err:
        read_bounded(path, limit=1000, kind="scenario")
    assert str(err.value).startswith(path)


@pytest.mark.parametrize(("name", "word"), [
    ("missing.toml", "file not found"),
    ("dangling_link", "file not found"),
    ("a_file.txt/inside.toml", "a part of the path is a file"),
    ("nul\x00byte.toml", "not a valid file name"),
    ("n" * 300 + ".toml", "too long"),
])
def test_read_bounded_names_what_is_wrong_with_the_path(name, word, sandbox):
    (sandbox / "a_file.txt").write_text("x")
    os.symlink("nowhere", sandbox / "dangling_link")
    with pytest.raises(ScenarioError, match=word):
        read_bounded(name, limit=1000, kind="scenario")


def test_read_bounded_reads_at_most_limit_plus_one_bytes(sandbox, monkeypatch):
    path = sandbox / "big.toml"
    path.write_bytes(b"#" * 10_000_000)
    asked = []
    real_read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: asked.append(n) or real_read(fd, n))
    with pytest.raises(ScenarioError, match="larger than 1 kB"):
        read_bounded(path, limit=1000, kind="scenario")
    assert sum(asked) <= 1001  # never the whole file, whatever st_size says


def test_read_bounded_takes_a_file_of_exactly_the_limit(sandbox):
    path = sandbox / "edge.toml"
    path.write_bytes(b"x" * 1000)
    assert read_bounded(path, limit=1000, kind="scenario") == b"x" * 1000
    path.write_bytes(b"x" * 1001)
    with pytest.raises(ScenarioError, match="larger than"):
        read_bounded(path, limit=1000, kind="scenario")


def test_a_fifo_is_refused_in_a_real_process(tmp_path):
    # The same check as above, without the in-process alarm: the process must
    # end by itself, well before the timeout.
    fifo = tmp_path / "scenario.toml"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-m", "sim", "validate", str(fifo)], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "not a regular file" in done.stderr


# ----------------------------------------------------------------------------- output paths

BAD_OUTPUTS = {  # kind -> a word the error line must contain
    "directory": "is a directory",
    "under_a_file": "is a file, not a directory",
    "missing_directory": "does not exist",
    "/dev/null": "not a regular file",
    "fifo": "not a regular file",
    "symlink_loop": "symlink loop",
    "dangling_symlink": "symlink to a missing file",
    "empty_name": "not a valid file name",
    "name_too_long": "too long",
    "read_only_directory": "not writable",
}


def _bad_output(kind: str, where: Path, monkeypatch) -> str:
    """A path no output may be written to. As root chmod 000 does not stop a
    write, so a read-only directory is what ``access`` answers for one (EROFS)."""
    if kind == "directory":
        return str(where)
    if kind == "under_a_file":
        (where / "hostile_file.txt").write_text("x")
        return str(where / "hostile_file.txt" / "out.csv")
    if kind == "missing_directory":
        return str(where / "hostile_nowhere" / "out.csv")
    if kind in ("/dev/null",):
        return kind
    if kind in ("fifo", "symlink_loop"):
        return _make_special(kind, where)
    if kind == "dangling_symlink":
        os.symlink("hostile_nowhere/out.csv", where / "hostile_dangling")
        return str(where / "hostile_dangling")
    if kind == "empty_name":
        return ""
    if kind == "name_too_long":
        return str(where / ("n" * 300))
    read_only = where / "hostile_read_only"
    read_only.mkdir()
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda p, mode: False if Path(p) == read_only else real_access(p, mode))
    return str(read_only / "out.csv")


@pytest.mark.parametrize("kind", BAD_OUTPUTS)
def test_check_output_path_refuses(kind, sandbox, monkeypatch):
    path = _bad_output(kind, sandbox, monkeypatch)
    with pytest.raises(ScenarioError, match=BAD_OUTPUTS[kind]) as err:
        check_output_path(path, "--csv")
    assert ": --csv: " in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize("kind", BAD_OUTPUTS)
def test_run_with_a_bad_contacts_out_writes_and_stores_nothing(kind, sandbox, tmp_path, monkeypatch, capsys):
    path = _bad_output(kind, sandbox, monkeypatch)
    outcome = _main("sim", ["run", str(SCENARIOS / "baseline.toml"), "--accounts", "20", "--days", "2", "--quiet",
                            "--contacts-out", path], capsys)
    _assert_one_error_line(outcome, "--contacts-out", BAD_OUTPUTS[kind])
    assert _written(sandbox, tmp_path) == []


@pytest.mark.parametrize("kind", [k for k in BAD_OUTPUTS if k != "empty_name"])  # --store "" means the default
def test_run_with_a_bad_store_writes_nothing(kind, sandbox, tmp_path, monkeypatch, capsys):
    path = _bad_output(kind, sandbox, monkeypatch)
    outcome = _main("sim", ["run", str(SCENARIOS / "baseline.toml"), "--accounts", "20", "--days", "2", "--quiet",
                            "--store", path, "--contacts-out", "contacts.csv"], capsys)
    _assert_one_error_line(outcome, "--store")
    assert _written(sandbox, tmp_path) == []


@pytest.mark.parametrize("kind", ["directory", "symlink_loop", "under_a_file", "/dev/null"])
def test_check_store_path_refuses(kind, sandbox, monkeypatch):
    with pytest.raises(ScenarioError, match="--store"):
        check_store_path(_bad_output(kind, sandbox, monkeypatch))


def test_good_output_paths_pass(sandbox):
    check_output_path("new.csv", "--csv")
    (sandbox / "old.csv").write_text("x")
    check_output_path("old.csv", "--csv")
    os.symlink("old.csv", sandbox / "link.csv")
    check_output_path("link.csv", "--csv")
    check_output_path(None, "--csv")
    check_store_path("runs.duckdb")


@pytest.mark.parametrize("store_exists", [False, True])
def test_contact_log_that_cannot_be_written_stores_no_run(store_exists, sandbox, tmp_path, monkeypatch, capsys):
    # The path passes the checks, then the disk fills during the write.
    from sim.contact_log import ContactLog
    from sim.store import ResultStore

    store = tmp_path / "store" / "runs.duckdb"
    if store_exists:
        ResultStore(store).ensure()

    def full_disk(self, path):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(ContactLog, "write_csv", full_disk)
    outcome = _main("sim", ["run", str(SCENARIOS / "baseline.toml"), "--accounts", "20", "--days", "2", "--quiet",
                            "--contacts-out", "contacts.csv"], capsys)
    _assert_one_error_line(outcome, "--contacts-out", "No space left")
    assert store.exists() == store_exists
    if store_exists:
        assert ResultStore(store).counts()["runs"] == 0
    assert not (sandbox / "contacts.csv").exists()


# ----------------------------------------------------------------------------- argparse

def _subcommands(program: str) -> dict[str, argparse.ArgumentParser]:
    if program == "sim":
        from sim.cli import build_parser
    else:
        from optimizer.cli import build_parser
    parser = build_parser()
    sub = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(sub.choices)


def _required_args(parser: argparse.ArgumentParser) -> list[str]:
    """Placeholder values for a subcommand's required arguments, so that a test reaches the next check."""
    args: list[str] = []
    for action in parser._actions:
        if action.option_strings and action.required:
            args += [action.option_strings[0], "6"]
        elif not action.option_strings and action.nargs != "?" and action.nargs != "*":
            args.append("placeholder.toml")
    for group in parser._mutually_exclusive_groups:
        if group.required:
            args += [group._group_actions[0].option_strings[0], "placeholder.csv"]
    return args


def _argparse_cases() -> list[tuple[str, list[str], str]]:
    cases: list[tuple[str, list[str], str]] = []
    for program in ("sim", "optimizer"):
        cases += [(program, [], "command: missing"), (program, ["no-such-command"], "invalid choice"),
                  (program, ["--no-such-option"], "command: missing")]
        for name, parser in _subcommands(program).items():
            required = _required_args(parser)
            cases.append((program, [name, *required, "--no-such-option"], "--no-such-option: unknown option"))
            if required:
                cases.append((program, [name], "missing"))
    baseline = str(SCENARIOS / "baseline.toml")
    cases += [
        ("sim", ["run", baseline, "--seed", "-1"], "--seed: must be ≥ 0, got -1"),
        ("sim", ["run", baseline, "--seed", "abc"], "--seed: must be a whole number"),
        ("sim", ["run", baseline, "--seed"], "--seed: needs a value"),
        ("sim", ["run", baseline, "--accounts", "0"], f"--accounts: must be between 1 and {MAX_ACCOUNTS}"),
        ("sim", ["run", baseline, "--days", "-5"], f"--days: must be between 1 and {MAX_DAYS}"),
        ("sim", ["run", baseline, "extra.toml"], "extra.toml: unknown option or extra argument"),
        ("optimizer", ["allocate", baseline, "--weeks", "0"], "--weeks: must be between"),
        ("optimizer", ["allocate", baseline, "--solver", "glpk"], "--solver: invalid choice"),
        ("optimizer", ["payoff", "debts.toml", "--strategy", "fastest"], "--strategy: invalid choice"),
        ("optimizer", ["staff", "--handle-minutes"], "--handle-minutes: needs a value"),
    ]
    return cases


ARGPARSE_CASES = _argparse_cases()


@pytest.mark.parametrize(("program", "argv", "words"), ARGPARSE_CASES,
                         ids=[f"{p}:{' '.join(a) or '(nothing)'}" for p, a, _ in ARGPARSE_CASES])
def test_every_argparse_mistake_is_one_line(program, argv, words, capsys):
    line = _assert_one_error_line(_main(program, argv, capsys), words)
    assert line.startswith("error: command line: ")


def test_help_is_still_help(capsys):
    assert _main("sim", ["run", "--help"], capsys).code == 0


# ----------------------------------------------------------------------------- escapes in error lines

UNPRINTABLE = ["\x1b[31m", "\x1b[2J", "\r", "\n", "\x07", "\x00", "\x9b", "\u202e", "\t", "\x7f"]


@pytest.mark.parametrize("bad", UNPRINTABLE, ids=[repr(c) for c in UNPRINTABLE])
def test_error_lines_escape_control_characters(bad):
    err = ScenarioError(f"file{bad}.toml", f"teams.x{bad}", f"unknown team {bad}")
    line = str(err)
    assert line.isprintable()  # no raw ESC, CR, LF, BEL, NUL, CSI or bidi override
    assert printable(f"a{bad}b").isprintable()


@pytest.mark.parametrize("argv", [
    ["validate", "x\x1b[2Jy.toml"],
    ["run", str(SCENARIOS / "baseline.toml"), "--seed", "\x1b[31m"],
    ["\x1b]0;owned\x07"],
    ["run", str(SCENARIOS / "baseline.toml"), "--contacts-out", "\x1b[31m/out.csv"],
], ids=["file name", "option value", "command", "output path"])
def test_escapes_never_reach_the_terminal(argv, capsys):
    line = _assert_one_error_line(_main("sim", argv, capsys))
    assert "\x1b" not in line and "\\x1b" in line


# ----------------------------------------------------------------------------- money and numbers

@pytest.mark.parametrize("field", ["median", "min", "max"])
def test_scenario_balances_have_an_upper_limit(field):
    with pytest.raises(ScenarioError, match=f"portfolio.balance.{field}: .*less than or equal to 1000000000"):
        Scenario.from_dict({"portfolio": {"balance": {field: 1e308}}}, source="s.toml")


def test_book_totals_stay_finite_at_the_limits():
    scenario = Scenario.from_dict({})
    book = parse_portfolio_csv(CSV_HEADER + f"1,{MAX_BALANCE:.0f},10\n2,{MAX_BALANCE:.0f},20\n", scenario)
    assert book.initial_balance == 2 * MAX_BALANCE
    # The whole largest book, grown at an APR of 100 % compounded daily for the
    # longest run, is still a finite number.
    assert math.isfinite(MAX_ACCOUNTS * MAX_BALANCE * math.exp(1.0 * (MAX_DAYS + 400) / 365))


def test_a_csv_over_the_account_limit_is_refused(monkeypatch):
    monkeypatch.setattr("sim.portfolio.MAX_ACCOUNTS", 3)
    rows = "".join(f"{i},100,10\n" for i in range(4))
    with pytest.raises(ScenarioError, match="line 5: more than 3 accounts"):
        parse_portfolio_csv(CSV_HEADER + rows, Scenario.from_dict({}), source="big.csv")


REJECTED_NUMBERS = ["1_000", "١٢٠٠", "۱۲", "１２", "1 000", "1,000", "½", "0x10", "1e", ".", "+-1", "infinity",
                    "nan", "1e400", "१२"]
ACCEPTED_NUMBERS = {"12": 12.0, "+12": 12.0, "12.5": 12.5, ".5": 0.5, "5.": 5.0, "1e3": 1000.0, "1E-2": 0.01,
                    " 12 ": 12.0, "0": 0.0}


@pytest.mark.parametrize("cell", REJECTED_NUMBERS)
def test_csv_balance_is_ascii(cell):
    text = CSV_HEADER + f'1,"{cell}",10\n'
    with pytest.raises(ScenarioError, match=r"line 2: balance: must be a (finite )?number"):
        parse_portfolio_csv(text, Scenario.from_dict({}), source="a.csv")


@pytest.mark.parametrize(("cell", "value"), ACCEPTED_NUMBERS.items())
def test_csv_balance_accepts_plain_numbers(cell, value):
    book = parse_portfolio_csv(CSV_HEADER + f"1,{cell},10\n", Scenario.from_dict({}))
    assert book.balance[0] == value


@pytest.mark.parametrize("cell", ["1_0", "١", "１", "1.0", "1e1", "0x1", "+", ""])
@pytest.mark.parametrize("column", ["account_id", "days_past_due"])
def test_csv_whole_numbers_are_ascii_digits(column, cell):
    row = {"account_id": "1", "balance": "100", "days_past_due": "10", column: cell}
    text = CSV_HEADER + ",".join(row.values()) + "\n"
    with pytest.raises(ScenarioError, match=f"line 2: {column}: must be an integer written as ASCII digits"):
        parse_portfolio_csv(text, Scenario.from_dict({}), source="a.csv")


# ----------------------------------------------------------------------------- BOM and --accounts with a CSV

def test_a_byte_order_mark_is_accepted_in_toml_and_csv(sandbox):
    (sandbox / "plain.toml").write_text("[simulation]\ndays = 3\n")
    (sandbox / "bom.toml").write_bytes(b"\xef\xbb\xbf[simulation]\ndays = 3\n")
    assert load_scenario("bom.toml").content() == load_scenario("plain.toml").content()
    (sandbox / "bom.csv").write_bytes(b"\xef\xbb\xbf" + CSV_HEADER.encode() + b"7,100,10\n")
    assert read_portfolio_csv(sandbox / "bom.csv", Scenario.from_dict({})).account_id.tolist() == [7]
    # Uploads in the app go through the same decoder.
    assert decode_small_file(b"\xef\xbb\xbfdays = 3\n", "up.toml", kind="scenario", needs="x",
                             max_bytes=100) == "days = 3\n"


@pytest.mark.parametrize("accounts", [None, "5"])
def test_accounts_with_a_csv_portfolio_is_a_one_line_note(accounts, sandbox, capsys):
    (sandbox / "book.csv").write_text(CSV_HEADER + "1,100,10\n2,200,20\n3,300,30\n")
    (sandbox / "book.toml").write_text('[portfolio]\ncsv = "book.csv"\n')
    argv = ["run", "book.toml", "--days", "2", "--quiet", "--json", "--no-store"]
    outcome = _main("sim", argv + (["--accounts", accounts] if accounts else []), capsys)
    assert outcome.code == 0, outcome.stderr
    assert json.loads(outcome.stdout)["accounts"] == 3
    if accounts:
        assert outcome.stderr == "note: --accounts 5 is ignored: the accounts are read from book.csv\n"
    else:
        assert outcome.stderr == ""


# ----------------------------------------------------------------------------- extends chains

def _chain(where: Path, length: int) -> list[Path]:
    files = [where / f"chain_{i:04d}.toml" for i in range(length)]
    for i, path in enumerate(files):
        parent = f'extends = "{files[i + 1].name}"\n' if i + 1 < length else ""
        path.write_text(f"{parent}[simulation]\ndays = {i + 1}\n")
    return files


def test_a_1200_deep_extends_chain_names_the_file_where_it_is_too_deep(sandbox):
    files = _chain(sandbox, 1200)
    with pytest.raises(ScenarioError) as err:
        load_scenario(files[0])
    too_deep = files[MAX_EXTENDS_DEPTH - 1]
    assert str(err.value).startswith(f"{too_deep}: extends: ")
    assert f"more than {MAX_EXTENDS_DEPTH} files" in str(err.value) and files[0].name in str(err.value)


def test_an_extends_chain_at_the_limit_loads(sandbox):
    files = _chain(sandbox, MAX_EXTENDS_DEPTH)
    assert load_scenario(files[0]).simulation.days == 1  # the nearest file wins


@pytest.mark.parametrize(("fault", "field", "word"), [
    ("[simulation\n", "line 1", "TOML syntax"),
    ('extends = "/dev/zero"\n', "extends", "not a regular file"),
    ('extends = "chain_0002.toml"\n', "extends", "cycle"),
])
def test_a_fault_inside_a_chain_names_its_own_file(fault, field, word, sandbox):
    files = _chain(sandbox, 10)
    files[6].write_text(fault)
    with pytest.raises(ScenarioError) as err:
        load_scenario(files[0])
    assert str(err.value).startswith(f"{files[6]}: {field}: ") and word in str(err.value)


# ----------------------------------------------------------------------------- README

def _readme_examples() -> list[tuple[str, str]]:
    """``$ command`` and the error line printed under it, in the README's "Bad input" paragraph."""
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("**Bad input**"):]
    block = section[section.index("```\n") + 4:]
    block = block[:block.index("```")]
    return re.findall(r"^\$ (.+)\n(error: .+)$", block, re.M)


@pytest.mark.parametrize(("command", "printed"), _readme_examples())
def test_readme_bad_input_examples_are_true(command, printed):
    argv = shlex.split(command)
    assert argv[0] == "python"
    done = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == printed + "\n"


def test_the_readme_has_bad_input_examples():
    assert len(_readme_examples()) >= 4


def test_compare_says_accounts_is_ignored_with_a_csv_portfolio_too(sandbox, capsys):
    (sandbox / "book.csv").write_text(CSV_HEADER + "1,100,10\n2,200,20\n3,300,30\n")
    (sandbox / "book.toml").write_text('[portfolio]\ncsv = "book.csv"\n')
    argv = ["compare", "book.toml", "--days", "2", "--reps", "2", "--workers", "1", "--accounts", "5",
            "--quiet", "--json", "--no-store"]
    outcome = _main("sim", argv, capsys)
    assert outcome.code == 0, outcome.stderr
    assert outcome.stderr == "note: --accounts 5 is ignored: the accounts are read from book.csv\n"
