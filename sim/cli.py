"""The ``python -m sim`` command line: parses arguments, calls the library.

Each subcommand lives in its own module exposing ``register(subparsers)``,
which adds a parser whose ``func`` default takes the parsed arguments and
returns an exit code. A user's mistake is one line on stderr and exit code 2.
:func:`build_parser` and :func:`run_command` are shared with ``python -m optimizer``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .errors import ScenarioError

# One module per subcommand group, in the order shown by --help.
COMMAND_MODULES: list[str] = ["sim.cli_run", "sim.cli_experiment"]


def build_parser(prog: str = "python -m sim",
                 description: str = "Simulate collection strategies on portfolios of overdue accounts.",
                 modules: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=description)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES if modules is None else modules:
        importlib.import_module(name).register(subparsers)
    return parser


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse, run the chosen subcommand, and turn a user's mistake into one line and exit code 2."""
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ScenarioError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)
