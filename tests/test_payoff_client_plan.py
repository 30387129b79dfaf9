"""The payoff command's new questions as a user runs them, and the client's printable plan."""

from __future__ import annotations

import json
import subprocess
import sys
from html.parser import HTMLParser

import pytest

from simhelpers import ROOT

OPTIONS = ROOT / "scenarios" / "debts_options.toml"


def payoff(*args, cwd=ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "optimizer", "payoff", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


class _Page(HTMLParser):
    """Tables as lists of rows of cell text, the data script, and every tag's attributes."""

    def __init__(self):
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self.section = ""
        self.cell: list[str] | None = None
        self.row: list[str] | None = None
        self.script = ""
        self.in_script = False
        self.attributes: list[tuple[str, str | None]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes += attrs
        if tag == "section":
            self.section = dict(attrs).get("id", "")
            self.tables.setdefault(self.section, [])
        elif tag == "tr":
            self.row = []
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "script":
            self.in_script = True

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.row is not None:
            self.row.append("".join(self.cell or []).strip())
            self.cell = None
        elif tag == "tr" and self.row is not None:
            self.tables[self.section].append(self.row)
            self.row = None
        elif tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script:
            self.script += data
        elif self.cell is not None:
            self.cell.append(data)


def _page(path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8"))
    page.close()
    return page


def _money(text: str) -> float:
    return float(text.replace("$", "").replace(",", "").replace("✓", "").strip() or 0)


def test_the_client_plan_holds_the_plans_numbers_and_loads_nothing(tmp_path):
    out = tmp_path / "plan.html"
    run = payoff(OPTIONS, "--strategy", "avalanche", "--plan-out", out, "--json")
    assert run.returncode == 0, run.stderr
    plan = json.loads(run.stdout)
    page = _page(out)
    data = json.loads(page.script)
    assert data["debt_free"] == plan["debt_free"] == "2028-05"
    assert data["total_interest"] == plan["total_interest"] and data["total_paid"] == plan["total_paid"]
    # The month-by-month table: one row a month, its payments add up to what the plan pays.
    header, *rows = page.tables["schedule"]
    assert header == ["month", "Visa", "Mastercard", "Store card", "paid this month", "still owed"]
    assert len(rows) == plan["months"] and rows[0][0] == "2026-01" and rows[-1][0] == "2028-05"
    assert round(sum(_money(r[-2]) for r in rows), 2) == plan["total_paid"]
    assert _money(rows[-1][-1]) == 0
    assert sum(cell.endswith("✓") for r in rows for cell in r[1:4]) == 3
    # The file has options: their table is on the page, as the --options JSON gives them.
    options = json.loads(payoff(OPTIONS, "--options", "--json").stdout)["options"]
    table = page.tables["options"]
    assert [r[0] for r in table[1:]] == [o["name"] for o in options]
    assert [_money(r[2]) for r in table[1:]] == [o["total_interest"] for o in options]
    # Self-contained: no scripts but data, no links, no images or frames from anywhere.
    assert set(page.tags) <= {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "p", "strong",
                              "section", "table", "thead", "tbody", "tr", "th", "td", "ul", "li", "script"}
    assert not any(name in ("src", "href") for name, _ in page.attributes)
    assert "@media print" in out.read_text(encoding="utf-8")


def test_the_plan_page_is_the_same_bytes_twice_and_escapes_names(tmp_path):
    debts = tmp_path / "d.toml"
    debts.write_text('budget = 300\nstart = "2026-01"\n[[debts]]\nname = "<b>Card</b> & co"\n'
                     'balance = 2000\napr = 0.2\n', encoding="utf-8")
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    for out in (first, second):
        assert payoff(debts, "--plan-out", out, "--target-date", "2026-12").returncode == 0
    assert first.read_bytes() == second.read_bytes()
    text = first.read_text(encoding="utf-8")
    assert "<b>Card</b>" not in text and "&lt;b&gt;Card&lt;/b&gt; &amp; co" in text
    assert _page(first).tables["target"][1][0] == "avalanche"


def test_target_date_json_is_the_issues_shape():
    run = payoff(OPTIONS, "--target-date", "2028-12", "--json")
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data == {"target_date": "2028-12", "budgets": {
        "avalanche": {"budget": 501.44, "months": 36, "total_interest": 5251.62},
        "snowball": {"budget": 504.47, "months": 36, "total_interest": 5360.75},
        "optimal": {"budget": 501.44, "months": 36, "total_interest": 5251.62}}}


def test_options_and_stress_print_as_text_and_json():
    text = payoff(OPTIONS, "--options", "--stress", "from=2027-03,drop=0.4")
    assert text.returncode == 0, text.stderr
    assert "Transfer without a promotion" in text.stdout and "1099-C" in text.stdout
    assert "Stress: the budget falls by 40% from 2027-03" in text.stdout
    data = json.loads(payoff(OPTIONS, "--options", "--stress", "from=2027-03,drop=0.4", "--json").stdout)
    assert data["options"][0]["kind"] == "as_today" and len(data["options"]) == 6
    assert data["stress"]["from"] == "2027-03" and data["stress"]["plans"][0]["strategy"] == "avalanche"


@pytest.mark.parametrize(("args", "line"), [
    (["--target-date", "2028-13"], "error: --target-date: must be a month written YYYY-MM (e.g. 2028-06), got '2028-13'"),
    (["--stress", "from=2027-03,drop=40"], "error: --stress: drop: is the share the budget falls by"),
    (["--plan-out", "plan.pdf"], "error: plan.pdf: --plan-out writes HTML"),
])
def test_bad_flags_are_one_line_exit_2_and_write_nothing(tmp_path, args, line):
    run = payoff(OPTIONS, *args, "--plan-out" if "--plan-out" not in args else "--json",
                 *([tmp_path / "p.html"] if "--plan-out" not in args else []), cwd=tmp_path)
    assert run.returncode == 2 and run.stdout == ""
    assert run.stderr.startswith(line) and run.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


def test_options_on_a_file_without_options_and_a_typo_in_options_are_one_line(tmp_path):
    run = payoff(ROOT / "scenarios" / "household.toml", "--options")
    assert run.returncode == 2 and "options: the file has no [[options]]" in run.stderr
    bad = tmp_path / "bad.toml"
    bad.write_text(OPTIONS.read_text(encoding="utf-8").replace("payment_share", "payment_shar"), encoding="utf-8")
    run = payoff(bad, "--options")
    assert run.returncode == 2
    assert run.stderr == f"error: {bad}: options.3.payment_shar: unknown key; did you mean 'payment_share'?\n"


def test_with_all_and_no_optimal_plan_the_page_shows_avalanche_and_its_shortfall(tmp_path):
    out = tmp_path / "plan.html"
    run = payoff(ROOT / "scenarios" / "debts_shortfall.toml", "--strategy", "all", "--plan-out", out)
    assert run.returncode == 0, run.stderr
    data = json.loads(_page(out).script)
    assert data["strategy"] == "avalanche" and data["schedule"]
    assert "misses a minimum" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize("args", [["--target-date", "2028-12"], ["--options"], ["--stress", "from=2026-07,drop=0.7"]],
                         ids=["target", "options", "stress"])
def test_the_readmes_worked_examples_are_what_the_command_prints(args):
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    run = payoff(OPTIONS, *args)
    assert run.returncode == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if line.strip()][:9]
    missing = [line for line in lines if line not in readme]
    assert not missing, missing
