"""The ``python -m optimizer`` command line: parses arguments, calls the library.

Each subcommand lives in its own module exposing ``register(subparsers)``
(see :mod:`sim.cli`, whose parser building and error handling this shares).
"""

from __future__ import annotations

import argparse

from sim.cli import build_parser as _build_parser
from sim.cli import run_command

# One module per subcommand, in the order shown by --help.
COMMAND_MODULES: list[str] = ["optimizer.cli.staff", "optimizer.cli.payoff", "optimizer.cli.allocate"]


def build_parser() -> argparse.ArgumentParser:
    return _build_parser(
        "python -m optimizer",
        "Allocate collection capacity, plan staffing, plan a borrower's debt payoff.",
        COMMAND_MODULES,
    )


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)
