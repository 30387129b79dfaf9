"""The app's safety: it serves this machine only, uploads are small data files, and no input is run as code.

- ``.streamlit/config.toml`` binds the server to 127.0.0.1 (Streamlit itself
  is asked what it read), keeps uploads small and leaves the cross-site
  protections on.
- The upload helpers reject oversized, binary and wrongly named files, and
  read what passes only as TOML or CSV data: text that looks like code stays
  a string, with ``eval``, ``exec``, ``pickle`` and the shell booby-trapped
  while it is read. A debt table with personal columns is refused whole.
- A static scan of ``sim/``, ``optimizer/``, ``app.py``, ``app_pages/`` and
  ``app_support/`` finds no ``eval``/``exec``/``compile``, no unpickling,
  no shell, no ``yaml.load``; the few dynamic imports are allow-listed (they
  take module names from constant tables in the code, never from input).
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import gzip
import os
import pickle
import subprocess
import tomllib

import pytest

from app_support.common import MAX_CSV_ROWS, MAX_UPLOAD_BYTES, upload_text, uploaded_scenario  # noqa: E402
from app_support.debts import debts_from_upload  # noqa: E402
from sim.errors import ScenarioError

from simhelpers import ROOT, SCENARIOS

HOUSEHOLD = (SCENARIOS / "household.toml").read_bytes()
BASELINE = (SCENARIOS / "baseline.toml").read_bytes()


# ----------------------------------------------------------------------------- the server


def test_the_server_listens_on_this_machine_only_with_small_uploads(monkeypatch):
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    server = settings["server"]
    assert server["address"] == "127.0.0.1"
    # Megabytes: the Calibrate page's history files need 200 (Streamlit has one ceiling for all uploads);
    # the scenario uploaders keep 1 MB in the browser and the app's own byte check.
    assert 0 < server["maxUploadSize"] <= 200
    assert server.get("enableXsrfProtection", True) is True and server.get("enableCORS", True) is True
    assert settings["browser"]["gatherUsageStats"] is False

    # What Streamlit itself reads when started from the repository (``streamlit run app.py``).
    from streamlit import config

    monkeypatch.chdir(ROOT)
    try:
        config.get_config_options(force_reparse=True)
        assert config.get_option("server.address") == "127.0.0.1"
        assert config.get_option("server.maxUploadSize") == server["maxUploadSize"]
        assert config.get_option("server.enableXsrfProtection") is True
    finally:
        monkeypatch.undo()
        config.get_config_options(force_reparse=True)


def test_the_app_checks_uploads_below_what_the_server_accepts():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert MAX_UPLOAD_BYTES <= settings["server"]["maxUploadSize"] * 1_000_000


def _uploaders() -> list[tuple[str, ast.Call]]:
    found = []
    for path in sorted((ROOT / "app_pages").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "file_uploader":
                found.append((path.name, node))
    return found


def test_every_file_uploader_accepts_only_toml_or_csv():
    uploaders = _uploaders()
    assert len(uploaders) >= 3  # compare, lab, payoff
    for page, call in uploaders:
        kinds = [k.value for k in call.keywords if k.arg == "type"]
        assert kinds, f"{page}: file_uploader without type="
        assert set(ast.literal_eval(kinds[0])) <= {"toml", "csv"}, page


# ----------------------------------------------------------------------------- uploads


@contextlib.contextmanager
def no_code_execution():
    """Every way of running input as code fails loudly inside the block."""
    def trap(name):
        def refuse(*args, **kwargs):
            raise AssertionError(f"{name} called while reading an upload")
        return refuse

    with pytest.MonkeyPatch.context() as patch:
        for name in ("eval", "exec", "compile"):
            patch.setattr(builtins, name, trap(name))
        patch.setattr(pickle, "loads", trap("pickle.loads"))
        patch.setattr(pickle, "load", trap("pickle.load"))
        patch.setattr(os, "system", trap("os.system"))
        patch.setattr(os, "popen", trap("os.popen"))
        patch.setattr(subprocess, "Popen", trap("subprocess.Popen"))
        yield


@pytest.fixture(scope="module", autouse=True)
def warm_up():
    # Import everything the readers use before the traps go up.
    uploaded_scenario("warm.toml", BASELINE)
    debts_from_upload("warm.toml", HOUSEHOLD, None)
    debts_from_upload("warm.csv", b"name,balance,apr\nCard,100,0.2\n", 500.0)


def read_safely(read, *args):
    """``read(*args)`` with code execution trapped: its result or the ScenarioError it raised."""
    with no_code_execution():
        try:
            return read(*args)
        except ScenarioError as err:
            return err


def one_line_error(outcome, name: str) -> str:
    assert isinstance(outcome, ScenarioError), f"accepted: {outcome!r}"
    text = str(outcome)
    assert text.startswith(f"{name}: ") and "\n" not in text, text
    return text


# Would create ./pwned if it were ever run (the tests run in a temporary directory).
CODE = "__import__('os').system('touch pwned')"


def test_code_in_a_scenario_upload_is_only_ever_a_string(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker, payload = tmp_path / "pwned", CODE
    scenario, text = read_safely(uploaded_scenario, "evil.toml", f'name = "{payload}"\n'.encode())
    assert scenario.name == payload  # kept as data, verbatim
    assert payload in text
    for body, field in ((f'[simulation]\naccounts = "{payload}"\n', "simulation.accounts"),
                        (f'[behavior]\npromise_keep_rate = "{payload}"\n', "behavior.promise_keep_rate"),
                        ('__class__ = "x"\n', "__class__"),
                        ('[__builtins__]\neval = "1"\n', "__builtins__"),
                        ('[portfolio]\ncsv = "/etc/passwd"\n', "portfolio.csv"),
                        ('extends = "../pyproject.toml"\n', "extends"),
                        ("name = !!python/object/apply:os.system ['id']\n", "")):
        message = one_line_error(read_safely(uploaded_scenario, "evil.toml", body.encode()), "evil.toml")
        assert field in message
        assert "root:" not in message and "[project]" not in message  # nothing of a server file is echoed
    assert not marker.exists()


def test_code_in_a_debt_file_or_table_is_only_ever_a_string(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    marker, payload = tmp_path / "pwned", CODE
    toml = f'budget = 400\n[[debts]]\nname = "{payload}"\nbalance = 100\napr = 0.2\n'.encode()
    loaded = read_safely(debts_from_upload, "evil.toml", toml, None)
    assert [d.name for d in loaded.debts] == [payload], loaded
    table = f'name,balance,apr\n"{payload}",100,0.2\n=cmd|\' /C calc\'!A0,50,0.1\n'.encode()
    names = [d.name for d in read_safely(debts_from_upload, "evil.csv", table, None).debts]
    assert names == [payload, "=cmd|' /C calc'!A0"]
    bad_cell = f'name,balance\nCard,"{payload}"\n'.encode()
    assert "debts.0.balance: must be a number" in one_line_error(
        read_safely(debts_from_upload, "evil.csv", bad_cell, None), "evil.csv")
    assert not marker.exists()


@pytest.mark.parametrize("name, data, message", [
    ("big.toml", b"# padding\n" * (MAX_UPLOAD_BYTES // 10 + 1), "larger than"),
    ("gz.toml", gzip.compress(BASELINE), "not a text file"),
    ("utf16.toml", BASELINE.decode().encode("utf-16"), "not a text file"),
    ("nul.toml", b'name = "a\x00b"\n', "not a text file"),
    ("pickle.toml", pickle.dumps({"name": "x"}), "not a text file"),
    ("empty.toml", b" \n\t\n", "empty"),
    ("scenario.exe", BASELINE, "must be a TOML file"),
    ("scenario.toml.py", BASELINE, "must be a TOML file"),
    ("scenario.pkl", pickle.dumps({"name": "x"}), "must be a TOML file"),
    ("scenario", BASELINE, "must be a TOML file"),
    ("scenario.csv", BASELINE, "must be a TOML file"),
    ("deep.toml", b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", ""),
])
def test_bad_scenario_uploads_are_one_line_errors(name, data, message):
    assert message in one_line_error(read_safely(uploaded_scenario, name, data), name)


@pytest.mark.parametrize("name, data, message", [
    ("big.csv", b"name,balance\n" + b"Card,1\n" * (MAX_UPLOAD_BYTES // 7 + 1), "larger than"),
    ("long.csv", b"name,balance,apr\n" + b"Card,1,0.1\n" * (MAX_CSV_ROWS + 1), f"at most {MAX_CSV_ROWS}"),
    ("gz.csv", gzip.compress(b"name,balance\nCard,1\n"), "not a text file"),
    ("debts.xlsx", b"PK\x03\x04" + b"\x00" * 64, "must be a TOML or CSV file"),
    ("debts.exe", HOUSEHOLD, "must be a TOML or CSV file"),
    ("debts.pickle", pickle.dumps([{"name": "x"}]), "must be a TOML or CSV file"),
    ("debts.toml", b"[[debts]\n", "TOML syntax error"),
    ("deep.toml", b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
])
def test_bad_debt_uploads_are_one_line_errors(name, data, message):
    assert message in one_line_error(read_safely(debts_from_upload, name, data, None), name)


@pytest.mark.parametrize("column, value", [("ssn", "123-45-6789"), ("email", "ann@example.com"),
                                           ("phone", "+44 20 7946 0000"), ("date_of_birth", "1970-01-01")])
def test_a_debt_table_with_personal_columns_is_refused_without_echoing_them(column, value):
    table = f"name,balance,apr,{column}\nCard,100,0.2,{value}\n".encode()
    text = one_line_error(read_safely(debts_from_upload, "debts.csv", table, None), "debts.csv")
    assert text.startswith(f"debts.csv: {column}: unknown column") and value not in text


def test_good_uploads_still_load():
    scenario, _ = read_safely(uploaded_scenario, "Mine.TOML", BASELINE)
    assert scenario.display_name == "baseline"
    assert len(read_safely(debts_from_upload, "household.toml", HOUSEHOLD, None).debts) == 4
    assert upload_text("x.csv", b"a,b\n", "table", (".csv",)) == "a,b\n"


def test_the_compare_page_refuses_a_wrongly_named_upload(tmp_path, monkeypatch):
    # A browser only offers .toml files; a crafted request is refused by Streamlit's own check
    # of the extension, before the page's (tested above) ever sees the bytes.
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REPAYLAB_STORE", str(tmp_path / "runs.duckdb"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.file_uploader(key="compare_upload").set_value(("strategy.exe", BASELINE, "application/octet-stream")).run()
    refusals = [e.message for e in at.exception] + [e.value for e in at.error]
    assert refusals and all(".exe" in r for r in refusals), refusals
    assert not at.dataframe  # nothing was compared


# ----------------------------------------------------------------------------- no input reaches code


SCANNED = ("sim", "optimizer", "app_support", "app_pages", "app.py")

# Calls that run text as code, unpickle, or reach a shell, by their fully qualified name.
FORBIDDEN = {
    "eval", "exec", "compile", "__import__", "breakpoint",
    "pickle.load", "pickle.loads", "pickle.Unpickler", "marshal.load", "marshal.loads", "shelve.open",
    "dill.load", "dill.loads", "cloudpickle.load", "cloudpickle.loads", "joblib.load",
    "pandas.read_pickle", "yaml.load", "yaml.unsafe_load", "yaml.full_load",
    "os.system", "os.popen", "os.execv", "os.execvp", "os.execl", "os.spawnv", "os.spawnl", "os.startfile",
    "subprocess.getoutput", "subprocess.getstatusoutput", "asyncio.create_subprocess_shell",
    "importlib.import_module", "runpy.run_path", "runpy.run_module", "code.interact",
}
FORBIDDEN_MODULES = {"pickle", "marshal", "shelve", "dill", "cloudpickle", "subprocess", "yaml", "runpy", "code"}

# (file, call): why it is safe.
ALLOWED = {
    ("sim/cli/__init__.py", "importlib.import_module"): "subcommand modules from the constant COMMAND_MODULES lists",
    ("sim/__init__.py", "importlib.import_module"): "lazy public names from the constant _PUBLIC table",
}


def _qualified(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """``pickle.loads`` for ``p.loads`` after ``import pickle as p``; None for calls on values."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))


def scan(source: str, filename: str) -> list[tuple[str, int, str]]:
    """Dangerous calls, imports and keywords in ``source``: ``(what, line, detail)``."""
    tree = ast.parse(source, filename)
    aliases = {"np": "numpy", "pd": "pandas"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                aliases[(alias.asname or alias.name).split(".")[0]] = alias.name if alias.asname else \
                    alias.name.split(".")[0]
                if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                    found.append(("import " + alias.name, node.lineno, ""))
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            if node.module.split(".")[0] in FORBIDDEN_MODULES:
                found.append(("from " + node.module + " import", node.lineno, ""))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _qualified(node.func, aliases)
        keywords = {k.arg: k.value for k in node.keywords if k.arg}
        if name in FORBIDDEN:
            found.append((name, node.lineno, ""))
        if isinstance(keywords.get("shell"), ast.Constant) and keywords["shell"].value is not False or (
                "shell" in keywords and not isinstance(keywords["shell"], ast.Constant)):
            found.append(("shell=", node.lineno, name or "?"))
        if name == "numpy.load" and not (isinstance(keywords.get("allow_pickle"), ast.Constant)
                                         and keywords["allow_pickle"].value is False) and "allow_pickle" in keywords:
            found.append(("numpy.load(allow_pickle=...)", node.lineno, ""))
        if name in {"getattr", "setattr"} and len(node.args) >= 2 and isinstance(node.args[0], ast.Name) \
                and aliases.get(node.args[0].id, node.args[0].id) in {"builtins", "__builtins__"}:
            found.append(("builtins lookup", node.lineno, ""))
    return found


def _project_files() -> list[str]:
    files = []
    for entry in SCANNED:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return [str(p.relative_to(ROOT)) for p in files]


def test_the_scanner_finds_what_it_looks_for():
    snippet = """
import pickle as p
import subprocess
from yaml import load
from os import system as run
eval(text)
exec(text)
compile(text, "f", "exec")
p.loads(blob)
load(text)
run("ls")
subprocess.run("ls", shell=True)
subprocess.call(args, shell=flag)
__import__(name)
import numpy as np
np.load(path, allow_pickle=True)
getattr(__builtins__, "ev" + "al")
"""
    whats = [what for what, _, _ in scan(snippet, "<snippet>")]
    for expected in ("import pickle", "import subprocess", "from yaml import", "eval", "exec", "compile",
                     "pickle.loads", "yaml.load", "os.system", "__import__", "numpy.load(allow_pickle=...)",
                     "builtins lookup"):
        assert expected in whats, expected
    assert whats.count("shell=") == 2
    harmless = "import re\nre.compile('x')\nvalues.compile()\nnp.load(path)\nsubprocess_free = 1\n"
    assert scan(harmless, "<harmless>") == []


def test_no_input_reaches_eval_exec_pickle_or_a_shell():
    files = _project_files()
    assert "sim/store.py" in files and "app.py" in files and any(f.startswith("app_pages/") for f in files)
    problems, used_allowances = [], set()
    for relative in files:
        source = (ROOT / relative).read_text(encoding="utf-8")
        for what, line, detail in scan(source, relative):
            if (relative, what) in ALLOWED:
                used_allowances.add((relative, what))
                continue
            problems.append(f"{relative}:{line}: {what} {detail}".rstrip())
    assert problems == [], "\n".join(problems)
    assert used_allowances == set(ALLOWED), f"stale allow-list entries: {set(ALLOWED) - used_allowances}"


# ----------------------------------------------------------------------------- the user's text is shown as text


from app_support.text import plain  # noqa: E402

# Markdown that would make every viewer's browser fetch an address, or show a link.
TRACKER = "![x](http://host/track.png) [click](http://host/)"
# Calls whose text Streamlit renders as Markdown (the first argument: a body or a label).
MARKDOWN_CALLS = {"error", "warning", "info", "success", "markdown", "caption", "metric", "download_button",
                  "toast", "expander", "subheader", "header"}
SAFE_WRAPPERS = {"plain", "error_text"}
# (page, source line) shown raw on purpose, with the reason: none today; a new entry needs a reason.
NOT_YET_PLAIN: dict[tuple[str, str], str] = {}


def _escaped(node: ast.AST) -> bool:
    """Text that cannot carry active Markdown: a literal, plain(...), or an f-string/concatenation of those
    (an interpolated value with a format spec, ``{n:d}``, is a number)."""
    if isinstance(node, ast.Constant):
        return True
    if isinstance(node, ast.Call) and getattr(node.func, "id", None) in SAFE_WRAPPERS:
        return True
    if isinstance(node, ast.JoinedStr):
        return all(isinstance(v, ast.Constant) or (isinstance(v, ast.FormattedValue)
                                                    and (v.format_spec is not None or _escaped(v.value)))
                   for v in node.values)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        return _escaped(node.left) and _escaped(node.right)
    return False


def markdown_calls_with_raw_text(source: str) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in MARKDOWN_CALLS:
            text = node.args[0] if node.args else next((k.value for k in node.keywords if k.arg in ("body", "label")),
                                                      None)
            if text is not None and not _escaped(text):
                found.append((node.lineno, ast.get_source_segment(source, node).split("\n")[0].strip()))
    return found


def test_the_markdown_scan_finds_raw_text():
    snippet = ('st.error(str(err))\nst.caption(f"Using {source}")\ncol.metric(f"x · {label}", 1)\n'
               'st.warning("a" + name)\nst.error(plain(str(err)))\nst.caption(f"{n:d} runs of {plain(s)}")\n'
               'st.info("constant")\nst.markdown(body=text)\n')
    assert [line for line, _ in markdown_calls_with_raw_text(snippet)] == [1, 2, 3, 4, 8]


def test_every_page_shows_the_users_text_through_plain():
    problems, allowed = [], set()
    for path in sorted((ROOT / "app_pages").glob("*.py")) + sorted((ROOT / "app_support").glob("*.py")) + [
            ROOT / "app.py"]:
        for line, call in markdown_calls_with_raw_text(path.read_text(encoding="utf-8")):
            if (path.name, call) in NOT_YET_PLAIN:
                allowed.add((path.name, call))
            else:
                problems.append(f"{path.relative_to(ROOT)}:{line}: {call}")
    assert problems == [], "\n".join(problems)
    assert allowed <= set(NOT_YET_PLAIN)


def test_plain_shows_markdown_and_html_as_the_characters_typed():
    import re

    escaped = plain(TRACKER + " <img src=x onerror=alert(1)> **b** `c` $x$ :red[d]")
    # Every character that Markdown or HTML could act on has a backslash before it ...
    assert re.search(r"(?<!\\)[][()!<>*`$:_#|~=]", escaped) is None, escaped
    # ... which is CommonMark's escape: the text reads exactly as typed.
    assert re.sub(r"\\(.)", r"\1", escaped) == TRACKER + " <img src=x onerror=alert(1)> **b** `c` $x$ :red[d]"


def _shown_text(at) -> list[str]:
    """Every text the page rendered as Markdown: bodies of alerts, captions, markdown, metric labels."""
    texts = [e.value for kind in ("error", "warning", "info", "success", "caption", "markdown")
             for e in getattr(at, kind)]
    return texts + [m.label for m in at.metric]


def _assert_plain(at, payload: str) -> None:
    texts = _shown_text(at)
    assert any(plain(payload) in t for t in texts), texts
    assert not any(payload in t for t in texts), [t for t in texts if payload in t]


UPLOAD_NAME = "![x](http:host.png).toml"  # a file name cannot hold "/"


def _app(tmp_path, monkeypatch, store=None):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("REPAYLAB_STORE", str(store or tmp_path / "runs.duckdb"))
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.run()
    return at


def test_compare_shows_an_uploads_name_as_text(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    bad = b'[strategy]\nname = "x"\n[[strategy.steps]]\nchannel = "whatsapp"\nfrom_dpd = 1\nto_dpd = 5\n'
    at.file_uploader(key="compare_upload").set_value((UPLOAD_NAME, bad, "application/toml")).run()
    assert not at.exception
    _assert_plain(at, UPLOAD_NAME.removesuffix(".toml"))


def test_lab_shows_a_scenario_name_and_an_uploads_name_as_text(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    at.switch_page("app_pages/lab.py").run()
    named = BASELINE.replace(b'name = "baseline"', f'name = "{TRACKER}"'.encode(), 1)
    assert named != BASELINE
    at.file_uploader(key="lab_upload").set_value(("mine.toml", named, "application/toml")).run()
    assert not at.exception, at.exception
    _assert_plain(at, TRACKER)  # "Valid scenario …"
    at.file_uploader(key="lab_upload").set_value((UPLOAD_NAME, b"[strategy\n", "application/toml")).run()
    _assert_plain(at, UPLOAD_NAME.removesuffix(".toml"))  # the error and "Editing … until the upload is fixed"


def test_payoff_shows_an_uploads_name_as_text(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    at.switch_page("app_pages/payoff.py").run()
    name = "![x](http:host.png).csv"
    at.file_uploader(key="payoff_upload").set_value((name, b"name,balance,apr\nCard,100,0.2\n", "text/csv")).run()
    assert not at.exception, at.exception
    _assert_plain(at, name)  # "**Debts** (name; …"


def test_history_shows_the_store_path_as_text(tmp_path, monkeypatch):
    folder = tmp_path / "![x](http:host.png)"
    folder.mkdir()
    at = _app(tmp_path, monkeypatch, store=folder / "runs.duckdb")
    at.switch_page("app_pages/history.py").run()
    assert not at.exception, at.exception
    _assert_plain(at, folder.name)


def test_compare_champion_challenger_shows_an_uploads_name_as_text(tmp_path, monkeypatch):
    at = _app(tmp_path, monkeypatch)
    at.radio(key="compare_mode").set_value("One book, champion/challenger").run()
    bad = b'[strategy]\nname = "x"\n[[strategy.steps]]\nchannel = "whatsapp"\nfrom_dpd = 1\nto_dpd = 5\n'
    at.file_uploader(key="cc_upload").set_value((UPLOAD_NAME, bad, "application/toml")).run()
    assert not at.exception
    _assert_plain(at, UPLOAD_NAME.removesuffix(".toml"))
