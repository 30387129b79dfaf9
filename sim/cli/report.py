"""``python -m sim report``: a stored experiment as one self-contained HTML file (:mod:`sim.report`)."""

from __future__ import annotations

import argparse
import contextlib
import sys

from ..errors import InputError, printable
from ..io import check_output_path, write_atomic


def register(subparsers) -> None:
    report = subparsers.add_parser(
        "report", help="write a stored experiment as one self-contained HTML report for management")
    report.add_argument("experiment", metavar="EXPERIMENT_ID", help="experiment id (or a unique prefix) from 'history'")
    report.add_argument("--out", required=True, metavar="FILE.html", help="the HTML file to write")
    report.add_argument("--title", help="the question the report answers (default: from the experiment)")
    report.add_argument("--store", metavar="PATH", help="results database (default: $REPAYLAB_STORE or runs.duckdb)")
    report.set_defaults(func=cmd_report)


def cmd_report(args: argparse.Namespace) -> int:
    from ..report import report_html
    from ..store import ResultStore

    check_output_path(args.out, "--out")  # before any work
    store = ResultStore(args.store).check_path(writing=False)
    if not store.path.is_file():
        raise InputError(store.path, "--store", "no results store here (run an experiment first)")
    page = report_html(store, args.experiment, title=args.title)
    write_atomic(args.out, page, option="--out")
    with contextlib.suppress(BrokenPipeError):
        print(f"wrote the report of experiment {printable(args.experiment)} to {printable(args.out)}",
              file=sys.stderr)
    return 0
