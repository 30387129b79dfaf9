"""``python -m sim fidelity``: the simulated book against a real card book's ranges (:mod:`sim.fidelity`)."""

from __future__ import annotations

import argparse
import json
import sys

from ..scenario import load_scenario
from .options import add_size_options, csv_size_note, positive_int, seed_arg, size_overrides

MAX_REPS = 100


def register(subparsers) -> None:
    fidelity = subparsers.add_parser(
        "fidelity", help="flow rates, cure, holdout effect, payment mix, contact and complaints against "
                         "a real card book's ranges")
    fidelity.add_argument("scenario", help="scenario TOML file")
    add_size_options(fidelity)
    fidelity.add_argument("--reps", type=positive_int(MAX_REPS), default=3,
                          help="replications of the scenario and of its holdout (default 3)")
    fidelity.add_argument("--seed", type=seed_arg, help="root seed (default: the scenario's simulation.seed)")
    fidelity.add_argument("--json", action="store_true", help="print only JSON on stdout")
    fidelity.add_argument("--strict", action="store_true", help="exit 1 when a check is out of range")
    fidelity.set_defaults(func=cmd_fidelity)


def cmd_fidelity(args: argparse.Namespace) -> int:
    from ..fidelity import fidelity, format_report

    scenario = load_scenario(args.scenario, size_overrides(args))
    if scenario.portfolio.csv:
        from ..portfolio import read_portfolio_csv

        read_portfolio_csv(scenario.csv_path, scenario)  # a bad CSV is one line before any run
    note = csv_size_note(scenario, args.accounts)
    if note:
        print(note, file=sys.stderr)
    report = fidelity(scenario, args.reps, args.seed)
    if args.json:
        sys.stdout.write(json.dumps(report.to_json(), indent=2, allow_nan=False) + "\n")
    else:
        print(format_report(report))
    return 1 if args.strict and not report.all_in_range else 0
