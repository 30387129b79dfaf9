"""``python -m sim show``: a scenario as the simulator sees it, merged and validated, every default filled in.

A scenario file may ``extends`` others and leave most fields to their
defaults; ``show`` prints the one TOML document that says everything, so a
variant can be read whole, uploaded to the app, or diffed against another.
Loading the printed text gives the same content hash.
"""

from __future__ import annotations

import argparse

import tomli_w

from ..errors import printable
from ..scenario import load_scenario
from .options import add_size_options, seed_arg, size_overrides


def register(subparsers) -> None:
    show = subparsers.add_parser("show", help="print a scenario merged (extends) and validated, as TOML with "
                                              "every default filled in")
    show.add_argument("scenario", help="scenario TOML file")
    show.add_argument("--seed", type=seed_arg, help="override simulation.seed")
    add_size_options(show)
    show.set_defaults(func=cmd_show)


def shown_toml(scenario) -> str:
    """The scenario's full TOML: its content with the currency spelled out, and where it came from."""
    data = scenario.content()
    # The currency defaults by compliance preset; spelled out, it reads the same (and hashes the same).
    data["simulation"]["currency"] = scenario.currency
    if scenario.csv_path is not None:
        data["portfolio"]["csv"] = str(scenario.csv_path.resolve())
    head = (f"# {printable(scenario.display_name)}: merged from {printable(scenario.source)} and validated; "
            f"every default filled in.\n# content hash {scenario.content_hash}\n")
    return head + tomli_w.dumps(data)


def cmd_show(args: argparse.Namespace) -> int:
    print(shown_toml(load_scenario(args.scenario, size_overrides(args))), end="")
    return 0
