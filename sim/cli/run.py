"""``python -m sim run`` and ``python -m sim validate``: one scenario, one run."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from ..errors import InputError, printable
from ..io import check_output_path
from ..scenario import load_scenario
from .options import add_size_options, csv_size_note, seed_arg, size_overrides


def register(subparsers) -> None:
    run = subparsers.add_parser("run", help="simulate one scenario once and print its KPIs")
    run.add_argument("scenario", help="scenario TOML file")
    run.add_argument("--seed", type=seed_arg, help="override simulation.seed")
    add_size_options(run)
    run.add_argument("--json", action="store_true", help="print only JSON on stdout")
    run.add_argument("--contacts-out", metavar="FILE.csv", help="write the contact log as CSV")
    run.add_argument("--payments-out", metavar="FILE.csv",
                     help="write every cash receipt as CSV (account_id,timestamp,amount,kind)")
    run.add_argument("--portfolio-out", metavar="FILE.csv",
                     help="write every account the run saw as a portfolio CSV (with entered_on)")
    run.add_argument("--quiet", action="store_true", help="no progress bar")
    run.add_argument("--store", metavar="PATH",
                     help="results database the run is saved to (default: $REPAYLAB_STORE or runs.duckdb)")
    run.add_argument("--no-store", action="store_true", help="do not save the run")
    run.set_defaults(func=cmd_run)

    validate = subparsers.add_parser("validate", help="check a scenario file; exit 0 or 2")
    validate.add_argument("scenario")
    validate.set_defaults(func=cmd_validate)


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = load_scenario(args.scenario)
    if scenario.portfolio.csv:
        from ..portfolio import read_portfolio_csv

        read_portfolio_csv(scenario.csv_path, scenario)
    # The name is the user's text: shown escaped, like every name in an error line.
    print(f"{printable(args.scenario)}: ok ({printable(scenario.display_name)}, hash {scenario.content_hash})")
    return 0


def _write_contacts(log, path: str) -> None:
    """The contact log, atomically; a full disk or a directory gone read-only is one line."""
    try:
        log.write_csv(path)
    except OSError as err:
        raise InputError(path, "--contacts-out", f"cannot be written ({err.strerror or err})") from None


HISTORY_OUTPUTS = (("contacts_out", "--contacts-out"), ("payments_out", "--payments-out"),
                   ("portfolio_out", "--portfolio-out"))


def _check_history_outputs(args: argparse.Namespace) -> None:
    """The run's history files: each path writable, and no two the same file."""
    seen: dict[str, str] = {}
    for attr, option in HISTORY_OUTPUTS:
        path = getattr(args, attr)
        check_output_path(path, option)
        if path is None:
            continue
        real = os.path.realpath(path)
        if real in seen:
            raise InputError(path, option, f"is also given to {seen[real]}; each output needs its own file")
        seen[real] = option


def _write_history(result, args: argparse.Namespace) -> None:
    """The contact log, the cash receipts and the accounts asked for, each atomically."""
    if args.contacts_out:
        _write_contacts(result.contact_log, args.contacts_out)
    if args.payments_out:
        result.history.payments.write_csv(args.payments_out)
    if args.portfolio_out:
        result.history.write_portfolio_csv(args.portfolio_out)


def _store_path(option: str | None) -> Path:
    from ..store import ResultStore, resolve_store_path

    path = resolve_store_path(option)
    ResultStore(path).check_path()  # the path, and that an existing file is a repaylab store
    return path


def _open_store(path: Path):
    from ..store import ResultStore

    return ResultStore(path).ensure()


def progress_bar(total: int, desc: str, disable: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="day", file=sys.stderr, disable=disable, leave=False)


def cmd_run(args: argparse.Namespace) -> int:
    from ..simulation import simulate

    # Every output is checked before the work; a new store is only created once
    # the history files are written, so a failed run leaves no stored run behind.
    _check_history_outputs(args)
    if args.no_store and args.store:
        raise InputError("--store", "", "cannot be combined with --no-store")
    store_path = None if args.no_store else _store_path(args.store)
    scenario = load_scenario(args.scenario, size_overrides(args))
    if scenario.portfolio.csv:
        from ..portfolio import read_portfolio_csv

        read_portfolio_csv(scenario.csv_path, scenario)  # a bad CSV fails before anything is written
    # An existing store is opened now, so that a file that is not a store fails before the run.
    store = _open_store(store_path) if store_path is not None and store_path.exists() else None
    note = csv_size_note(scenario, args.accounts)
    if note:
        print(note, file=sys.stderr)
    days = scenario.simulation.days
    with progress_bar(days, printable(scenario.display_name), args.quiet or not sys.stderr.isatty()) as bar:
        result = simulate(scenario, contact_log=args.contacts_out is not None,
                          history=args.payments_out is not None or args.portfolio_out is not None,
                          progress=lambda day, total: bar.update(1 if day else 0))  # day 0: a warm-up's end
    _write_history(result, args)
    if store_path is not None:
        from ..experiment import record_run

        record_run(store or _open_store(store_path), scenario, result)
    if args.json:
        payload = {
            "scenario": result.scenario_name,
            "seed": scenario.simulation.seed,
            "accounts": result.accounts,
            "days": result.days,
            "scenario_hash": result.scenario_hash,
            "kpis": result.to_dict()["kpis"],
        }
        if result.kpis_by_strategy is not None:
            from ..arms import readout_json

            payload.update(readout_json(result))
        json.dump(payload, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(format_kpis(result, scenario.simulation.seed))
        if result.kpis_by_strategy is not None:
            from ..arms import format_readout

            print()
            print(format_readout(result))
        if "offers" in result.kpis:
            from ..report_offers import format_offers

            print()
            print(format_offers(result.kpis["offers"], result.kpis["cost_by_item"]))
    return 0


def format_kpis(result, seed: int) -> str:
    k = result.kpis
    money = lambda v: f"{v:,.0f}"  # noqa: E731
    pct = lambda v: f"{100 * v:.1f} %"  # noqa: E731
    rows = [
        ("initial balance", money(k["initial_balance"])),
        ("collected", money(k["collected"])),
        ("recovery rate", pct(k["recovery_rate"])),
        ("cost", money(k["cost"])),
        ("net recovery", money(k["net_recovery"])),
        ("NPV of collections", money(k["npv_collected"])),
        ("interest and fees", money(k["interest_and_fees"])),
        ("written off", money(k["written_off"])),
        ("outstanding", money(k["outstanding"])),
        ("cure rate", pct(k["cure_rate"])),
        ("charge-off rate", pct(k["charge_off_rate"])),
        ("right-party contact rate", pct(k["right_party_contact_rate"])),
        ("promise kept rate", pct(k["promise_kept_rate"])),
        ("complaints per 1000 accounts", f"{k['complaints_per_1000']:.2f}"),
        ("agent utilization", pct(k["agent_utilization"])),
        ("inbound service level (20 s)", pct(k["inbound_service_level"])),
        ("compliance refusals", f"{k['compliance_refusals']:,}"),
        ("conservation error", f"{k['conservation_error']:.2e}"),
    ]
    # Runs with contact that reacts or rules by account ([contact], a switch at placement) count these too.
    rows += [(label, f"{k[key]:,}") for key, label in (("accounts_excluded", "accounts excluded"),
             ("opt_outs", "opt-outs"), ("cease_requests", "cease requests")) if key in k]
    after = k.get("after_charge_off")
    if after is not None:  # a ladder with steps after charge-off (sim/engine/lifecycle.py)
        rows += [("placed / sued / sold", f"{after['placed_with_agency']:,} / {after['sued']:,} / {after['sold']:,}"),
                 ("agency collected (fees)", f"{money(after['agency_collected'])} ({money(after['agency_fees'])})"),
                 ("attorney collected (fees)", f"{money(after['attorney_collected'])} "
                                               f"({money(after['attorney_fees'])})"),
                 ("court costs", money(after["court_costs"])), ("sale proceeds", money(after["sale_proceeds"])),
                 ("after charge-off, net", money(after["net"]))]
    book = f"{result.accounts:,} accounts"
    if "measured_book" in k:  # an open book or a warm-up (sim.metrics' definitions)
        rows[1:1] = [("arrived balance", money(k["arrived_balance"]))]
        book = (f"{k['book_at_start']:,} accounts in the book + {k['arrivals']:,} arrivals, "
                f"after {k['warmup_days']} warm-up days,")
    contacts = ", ".join(f"{ch} {n:,}" for ch, n in k["contacts"].items() if n)
    width = max(len(r[0]) for r in rows)
    head = (f"{printable(result.scenario_name)}: {book} × {result.days} days, seed {seed} "
            f"(scenario {result.scenario_hash})")
    lines = [head, "-" * len(head)]
    lines += [f"{name:<{width}}  {value:>16}" for name, value in rows]
    lines.append(f"{'contacts':<{width}}  {contacts or 'none'}")
    return "\n".join(lines)
