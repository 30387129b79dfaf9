"""The ``python -m optimizer`` command line: parses arguments, calls the library.

Each subcommand lives in its own module exposing ``register(subparsers)``,
which adds a parser whose ``func`` default takes the parsed arguments and
returns an exit code.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from sim.errors import ScenarioError

# One module per subcommand, in the order shown by --help.
COMMAND_MODULES: list[str] = ["optimizer.staffing_cli", "optimizer.payoff_cli", "optimizer.allocation_cli"]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m optimizer",
        description="Allocate collection capacity, plan staffing, plan a borrower's debt payoff.",
    )
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ScenarioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
