"""The ``python -m sim`` command line: parses arguments, calls the library.

Each subcommand lives in its own module exposing ``register(subparsers)``,
which adds a parser whose ``func`` default takes the parsed arguments and
returns an exit code. A user's mistake is one line on stderr and exit code 2.
:func:`build_parser` and :func:`run_command` are shared with ``python -m optimizer``.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Sequence
from typing import NoReturn

from ..errors import InputError, error_line

# One module per subcommand group, in the order shown by --help.
COMMAND_MODULES: list[str] = ["sim.cli.run", "sim.cli.experiment", "sim.cli.power", "sim.cli.report",
                              "sim.cli.fidelity", "sim.cli.show", "sim.cli.calibrate"]


# The command line is not a file; its mistakes name it like staffing's options do.
CMDLINE = "command line"


class OneLineParser(argparse.ArgumentParser):
    """An argument parser whose mistakes are one ``error: command line: OPTION: …`` line.

    argparse prints a usage block and ``prog: error: …``; every other bad
    input here is one line, so a wrong ``--seed -1``, an unknown option or a
    missing argument is too. Subparsers inherit this class (argparse makes
    them with the parent's class), so every subcommand answers the same way.
    """

    def error(self, message: str) -> NoReturn:
        print(error_line(f"{CMDLINE}: {_one_line_message(message, self.prog)}"), file=sys.stderr)
        sys.exit(2)


def _one_line_message(message: str, prog: str) -> str:
    """argparse's message as ``OPTION: what is wrong``, with where to find the usage."""
    see = f"see '{prog} --help'"
    argument = re.match(r"argument (\S+?)(?:/\S+)?: (.*)", message, re.S)
    if argument:
        name, what = argument.groups()
        if what.startswith("expected one argument"):
            what = "needs a value"
        return f"{name}: {what}"
    required = re.match(r"the following arguments are required: (.*)", message)
    if required:
        return f"{required[1]}: missing; {see}"
    one_of = re.match(r"one of the arguments (.*) is required", message)
    if one_of:
        return f"{' or '.join(one_of[1].split())}: give one of them; {see}"
    unknown = re.match(r"unrecognized arguments: (.*)", message)
    if unknown:
        return f"{unknown[1]}: unknown option or extra argument; {see}"
    return f"{message}; {see}"


def build_parser(prog: str = "python -m sim",
                 description: str = "Simulate collection strategies on portfolios of overdue accounts.",
                 modules: Sequence[str] | None = None) -> argparse.ArgumentParser:
    parser = OneLineParser(prog=prog, description=description)
    subparsers = parser.add_subparsers(dest="command", required=True)
    for name in COMMAND_MODULES if modules is None else modules:
        importlib.import_module(name).register(subparsers)
    return parser


def run_command(parser: argparse.ArgumentParser, argv: list[str] | None = None) -> int:
    """Parse, run the chosen subcommand, and turn a user's mistake into one line and exit code 2."""
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except InputError as err:
        print(error_line(str(err)), file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


def main(argv: list[str] | None = None) -> int:
    return run_command(build_parser(), argv)
