"""Options and checks the command lines share: counts, seeds, the size overrides.

``python -m sim`` and ``python -m optimizer`` parse these the same way; output
paths are checked by :func:`sim.io.check_output_path`.
"""

from __future__ import annotations

import argparse

from ..errors import printable
from ..scenario import MAX_ACCOUNTS, MAX_DAYS

__all__ = ["add_size_options", "csv_size_note", "positive_int", "seed_arg", "size_overrides"]


def positive_int(limit: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"must be a whole number, got {text!r}") from None
        if not 1 <= value <= limit:
            raise argparse.ArgumentTypeError(f"must be between 1 and {limit}, got {value}")
        return value

    return parse


def seed_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number ≥ 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be ≥ 0, got {value}")
    return value


def add_size_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--accounts", type=positive_int(MAX_ACCOUNTS), help="override simulation.accounts")
    parser.add_argument("--days", type=positive_int(MAX_DAYS), help="override simulation.days")


def size_overrides(args: argparse.Namespace) -> dict:
    overrides = {}
    if getattr(args, "accounts", None) is not None:
        overrides["simulation.accounts"] = args.accounts
    if getattr(args, "days", None) is not None:
        overrides["simulation.days"] = args.days
    if getattr(args, "seed", None) is not None:
        overrides["simulation.seed"] = args.seed
    return overrides


def csv_size_note(scenario, accounts: int | None) -> str | None:
    """The note to print when ``--accounts`` meets a portfolio read from CSV, else None.

    The CSV's accounts are the book, so the option cannot apply. A note, not an
    error: the same command line is used for synthetic and imported portfolios
    (scripts, sweeps), and the run itself is right. Print it only once the
    scenario and the CSV have loaded, so that a bad file stays a one-line error.
    """
    if accounts is None or not scenario.portfolio.csv:
        return None
    return (f"note: --accounts {accounts} is ignored: the accounts are read from "
            f"{printable(str(scenario.csv_path))}")
