"""``python -m sim compare | sweep | sensitivity | history | export``: experiments from the command line.

Parses arguments, builds the scenarios, the executor and the store, calls
:mod:`sim.experiment` / :mod:`sim.sweep`, and prints a table (or JSON only,
with ``--json``). Every input is checked before anything runs or is stored.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import sys
from pathlib import Path

from ..errors import InputError
from ..formats import MONEY, RATES, SIGNIFICANT, TABLE_KPIS, fmt_estimate, fmt_value  # noqa: F401 - shared
from ..io import check_output_path, write_atomic
from ..scenario import load_scenario
from .options import add_size_options, seed_arg

MAX_REPS = 10_000
MAX_WORKERS = 1024



# ----------------------------------------------------------------------------- options


def _whole(text: str, option: str, low: int, high: int) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        raise InputError(option, "", f"must be a whole number, got {text!r}") from None
    if not low <= value <= high:
        raise InputError(option, "", f"must be between {low} and {high}, got {value}")
    return value


def _add_run_options(parser: argparse.ArgumentParser, *, plot_help: str) -> None:
    parser.add_argument("--reps", default="10", help="replications per scenario (default 10)")
    parser.add_argument("--workers", help="worker processes (default: the number of cores)")
    parser.add_argument("--executor", default="local", help="local (default) or dask")
    parser.add_argument("--scheduler", metavar="ADDR",
                        help="Dask scheduler, e.g. tcp://HOST:8786 (default: start a LocalCluster)")
    parser.add_argument("--seed", type=seed_arg, help="root seed (default: the first scenario's simulation.seed)")
    add_size_options(parser)
    parser.add_argument("--json", action="store_true", help="print only JSON on stdout")
    parser.add_argument("--plot", metavar="FILE.png", help=plot_help)
    parser.add_argument("--csv", metavar="FILE", help="write the results as CSV")
    parser.add_argument("--store", metavar="PATH",
                        help="results database (default: $REPAYLAB_STORE or runs.duckdb here)")
    parser.add_argument("--no-store", action="store_true", help="neither reuse nor save runs")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")


def register(subparsers) -> None:
    compare = subparsers.add_parser(
        "compare", help="compare strategies over paired replications with confidence intervals")
    compare.add_argument("scenarios", nargs="+", metavar="SCENARIO", help="scenario TOML files; the first is the champion")
    _add_run_options(compare, plot_help="write recovery curves, KPI bars, cost vs collections, roll rates")
    compare.set_defaults(func=cmd_compare)

    sweep = subparsers.add_parser("sweep", help="compare a grid of variants of one scenario with the base")
    sweep.add_argument("scenario", help="the base scenario TOML file")
    sweep.add_argument("--set", action="append", default=[], metavar="PATH=V1,V2",
                       help="a field and its values (TOML scalars); repeat for a grid")
    sweep.add_argument("--param", action="append", default=[], metavar="PATH:STEP",
                       help="with --sensitivity: a field and its step")
    sweep.add_argument("--sensitivity", action="store_true", help="one-at-a-time sensitivity (like 'sensitivity')")
    sweep.add_argument("--x", default="complaints_per_1000", metavar="KPI",
                       help="the trade-off plot's x axis: complaints_per_1000 (default) or cost, …")
    sweep.add_argument("--kpi", default="net_recovery", help="the KPI of interest (default net_recovery)")
    _add_run_options(sweep, plot_help="write the trade-off plot (or the tornado with --sensitivity)")
    sweep.set_defaults(func=cmd_sweep)

    sens = subparsers.add_parser("sensitivity", help="one-at-a-time sensitivity (± a step) with a tornado plot")
    sens.add_argument("scenario", help="the base scenario TOML file")
    sens.add_argument("--param", action="append", default=[], metavar="PATH:STEP",
                      help="a numeric field and its step, e.g. behavior.promise_keep_rate:0.1; repeat")
    sens.add_argument("--kpi", default="net_recovery", help="the KPI to explain (default net_recovery)")
    _add_run_options(sens, plot_help="write the tornado plot")
    sens.set_defaults(func=cmd_sensitivity)

    history = subparsers.add_parser("history", help="list, rename or delete the experiments in the results store")
    change = history.add_mutually_exclusive_group()
    change.add_argument("--rename", nargs=2, metavar=("ID", "LABEL"),
                        help="give an experiment (id or unique prefix) a label; \"\" takes it away")
    change.add_argument("--delete", metavar="ID",
                        help="delete an experiment and the runs no other experiment uses")
    history.add_argument("--json", action="store_true", help="print only JSON on stdout")
    history.add_argument("--store", metavar="PATH", help="results database (default: $REPAYLAB_STORE or runs.duckdb)")
    history.set_defaults(func=cmd_history)

    export = subparsers.add_parser("export", help="write a stored experiment's replications as CSV or Parquet")
    export.add_argument("experiment", metavar="ID", help="experiment id (or a unique prefix) from 'history'")
    target = export.add_mutually_exclusive_group(required=True)
    target.add_argument("--csv", metavar="FILE")
    target.add_argument("--parquet", metavar="FILE")
    rows = export.add_mutually_exclusive_group()
    rows.add_argument("--series", action="store_true",
                      help="export the daily series (long format) instead of one row of KPIs per replication")
    rows.add_argument("--strategies", action="store_true",
                      help="a champion/challenger experiment: one row of KPIs per replication and strategy")
    export.add_argument("--store", metavar="PATH", help="results database (default: $REPAYLAB_STORE or runs.duckdb)")
    export.set_defaults(func=cmd_export)


# ----------------------------------------------------------------------------- shared steps


class _Setup:
    """Checked settings of an experiment command: everything is validated before any run."""

    def __init__(self, args: argparse.Namespace, outputs: tuple[str, ...] = ("plot", "csv")):
        self.reps = _whole(args.reps, "--reps", 1, MAX_REPS)
        self.workers = None if args.workers is None else _whole(args.workers, "--workers", 1, MAX_WORKERS)
        for name in outputs:
            check_output_path(getattr(args, name), f"--{name}")
        overrides = {}
        if args.accounts is not None:
            overrides["simulation.accounts"] = args.accounts
        if args.days is not None:
            overrides["simulation.days"] = args.days
        self.overrides = overrides
        self.args = args
        self._executor = self._make_executor()  # a bad --executor or --scheduler fails before any work
        if args.no_store and args.store:
            raise InputError("--store", "", "cannot be combined with --no-store")
        if not args.no_store:
            from ..store import ResultStore

            ResultStore(args.store).check_path()  # only looks: the store is created once the scheduler answers

    def note_csv_sizes(self, scenarios) -> None:
        """Say on stderr where ``--accounts`` cannot apply (a portfolio read from CSV), as ``run`` does."""
        from .options import csv_size_note

        for scenario in scenarios:
            note = csv_size_note(scenario, self.args.accounts)
            if note:
                print(note, file=sys.stderr)

    def _make_executor(self):
        from ..executors import make_executor

        return make_executor(self.args.executor, workers=self.workers, scheduler=self.args.scheduler)

    def store(self):
        if self.args.no_store:
            return None
        from ..store import ResultStore

        return ResultStore(self.args.store).ensure()

    def run(self, call, **kwargs):
        """Make the executor and store (after all checks), run ``call`` with a progress bar."""
        from tqdm import tqdm

        executor = self._executor
        # Reach the scheduler before the store records the experiment: an address that does not
        # answer must leave nothing behind (no "interrupted" experiment, no new store file).
        try:
            executor.start()
            store = self.store()
        except BaseException:
            executor.close()
            raise
        bar = tqdm(total=None, desc="replications", unit="run", file=sys.stderr, leave=False,
                   disable=self.args.quiet or not sys.stderr.isatty())

        def progress(done: int, total: int) -> None:
            bar.total = total
            bar.n = done
            bar.refresh()

        try:
            with executor, bar:
                result = call(reps=self.reps, rng=self.args.seed, executor=executor, store=store,
                              progress=progress, **kwargs)
        except KeyboardInterrupt:
            if store is not None:
                print(f"stopped; finished runs are in {store.path}: run the same command to resume",
                      file=sys.stderr)
            raise
        return result, store


def _warn_unpaired(scenarios, labels) -> None:
    """Common random numbers pair accounts only if the books are generated alike."""
    def book(s):
        c = s.content()
        return c.get("portfolio"), {k: v for k, v in c.get("simulation", {}).items() if k != "seed"}

    for s, label in zip(scenarios[1:], labels[1:], strict=True):
        if book(s) != book(scenarios[0]):
            print(f"warning: {label} has a different [portfolio] or [simulation] from {labels[0]}: its "
                  "replications do not share the same accounts, so differences include portfolio noise",
                  file=sys.stderr)


def _write_atomic(path: str, write, option: str = "--csv") -> None:
    """Write via ``write(tmp_path)`` whole or not at all (:func:`sim.io.write_atomic`)."""
    write_atomic(path, write, option=option)


def _write_rows(path: str, rows: list[dict]) -> None:
    """Rows as CSV, atomically: every column any row has (blank where a row has none), text made
    spreadsheet-safe (:mod:`sim.export_safety`)."""
    from ..export_safety import csv_text, fieldnames_of

    text = csv_text(rows, fieldnames_of(rows) or ["kind"])
    _write_atomic(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def _print_json(payload: dict) -> None:
    """The whole document is built before anything is printed: an error never leaves half of it."""
    from ..export_safety import json_data

    text = json.dumps(json_data(payload), indent=2, allow_nan=False)
    sys.stdout.write(text + "\n")


# ----------------------------------------------------------------------------- formatting


def _grid(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[c]) for r in [header, *rows]) for c in range(len(header))]
    line = lambda r: "  ".join(  # noqa: E731
        (cell.ljust(w) if c == 0 else cell.rjust(w)) for c, (cell, w) in enumerate(zip(r, widths, strict=True)))
    return [line(header), "  ".join("-" * w for w in widths), *[line(r) for r in rows]]


def _ci_line(comparison) -> str:
    if comparison.reps < 2:
        return ("1 replication per scenario: no confidence intervals (use --reps 2 or more); "
                "means only")
    return (f"{comparison.reps} replications per scenario, common random numbers; "
            f"[low, high] is the {comparison.confidence:.0%} confidence interval (Student t)")


def _footer(comparison, store) -> str:
    where = f"stored as experiment {comparison.experiment_id} in {store.path}" if store is not None else "not stored"
    return (f"{where}; {comparison.computed} runs simulated, {comparison.reused} reused; "
            f"seed {comparison.seed['entropy']}, code {comparison.code_version}")


def format_comparison(comparison, store=None, kpis=TABLE_KPIS) -> str:
    from ..plots import KPI_TITLES

    labels = comparison.labels
    lines = [_ci_line(comparison), ""]
    rows = [[KPI_TITLES[k]] + [fmt_estimate(k, s.kpis[k]) for s in comparison.scenarios] for k in kpis]
    lines += _grid(["KPI", *labels], rows)
    if len(labels) > 1:
        lines += ["", f"Paired differences, challenger − champion ({labels[0]}); "
                      f"{SIGNIFICANT} = the interval excludes zero", ""]
        rows = [[KPI_TITLES[k]] + [fmt_estimate(k, comparison.difference(c, k).estimate, signed=True, mark=True)
                                   for c in labels[1:]] for k in kpis]
        lines += _grid(["KPI", *[f"{c} − {labels[0]}" for c in labels[1:]]], rows)
    lines += ["", _footer(comparison, store)]
    return "\n".join(lines)


def format_sweep(sweep, kpi: str, x: str, store=None) -> str:
    from ..plots import KPI_TITLES

    comparison = sweep.comparison
    base = comparison.labels[0]
    columns = [kpi, x] + [k for k in ("cost", "recovery_rate") if k not in (kpi, x)]
    header = ["variant", *[KPI_TITLES.get(k, k) for k in columns], f"Δ {KPI_TITLES.get(kpi, kpi)} vs {base}"]
    rows = []
    for index, summary in enumerate(comparison.scenarios):
        delta = "" if index == 0 else fmt_estimate(kpi, comparison.difference(summary.label, kpi).estimate,
                                                   signed=True, mark=True)
        rows.append([summary.label, *[fmt_estimate(k, summary.kpis[k]) for k in columns], delta])
    lines = [_ci_line(comparison), f"{SIGNIFICANT} = the interval of the difference excludes zero", ""]
    lines += _grid(header, rows)
    lines += ["", _footer(comparison, store)]
    return "\n".join(lines)


def format_sensitivity(result, store=None) -> str:
    from ..plots import KPI_TITLES

    kpi = result.kpi
    comparison = result.comparison
    base = comparison.scenarios[0].kpis[kpi]
    header = ["parameter", "base value", "− step", f"Δ {KPI_TITLES.get(kpi, kpi)}", "+ step",
              f"Δ {KPI_TITLES.get(kpi, kpi)}", "swing"]
    rows = [[s.path, f"{s.base_value:g}", f"{s.low_value:g}", fmt_estimate(kpi, s.low, signed=True, mark=True),
             f"{s.high_value:g}", fmt_estimate(kpi, s.high, signed=True, mark=True), fmt_value(kpi, s.width)]
            for s in result.swings]
    lines = [_ci_line(comparison), f"base {KPI_TITLES.get(kpi, kpi)}: {fmt_estimate(kpi, base)}; "
             f"widest swing first; {SIGNIFICANT} = the interval excludes zero", ""]
    lines += _grid(header, rows)
    lines += ["", _footer(comparison, store)]
    return "\n".join(lines)


# ----------------------------------------------------------------------------- commands


def _emit(args: argparse.Namespace, payload, table: str, *, rows=None, plot=None) -> None:
    """Show the results, then write the files.

    The runs are already in the store; the table (or the JSON) is printed
    next, so that a file that cannot be written loses nothing of what was
    computed. Each file is written atomically: whole or not at all.
    """
    if args.json:
        _print_json(payload() if callable(payload) else payload)
    else:
        print(table)
    sys.stdout.flush()
    if args.csv:
        _write_rows(args.csv, rows())
    if args.plot:
        try:
            plot(args.plot)
        except OSError as err:
            raise InputError(args.plot, "--plot", f"cannot be written ({err.strerror or err})") from None


def cmd_compare(args: argparse.Namespace) -> int:
    from ..experiment import distinct_labels, run_experiment

    setup = _Setup(args)
    scenarios = [load_scenario(path, setup.overrides) for path in args.scenarios]
    if len(scenarios) == 1 and scenarios[0].strategies is not None:
        return _compare_arms(args, setup, scenarios[0])
    labels = distinct_labels(scenarios)
    _warn_unpaired(scenarios, labels)
    comparison, store = setup.run(lambda **kw: run_experiment(scenarios, labels=labels, **kw))
    setup.note_csv_sizes(scenarios)  # after the runs: the CSV has loaded, so it is not a bad file

    def plot(path: str) -> None:
        from ..plots import comparison_report

        comparison_report(comparison, path=path)

    _emit(args, comparison.to_json, "" if args.json else format_comparison(comparison, store),
          rows=comparison.to_rows, plot=plot)
    return 0


def _compare_arms(args: argparse.Namespace, setup: _Setup, scenario) -> int:
    """One champion/challenger file: each challenger against the champion over paired replications."""
    from ..arms_compare import compare_arms, format_arms_comparison

    for option in ("plot", "csv"):
        if getattr(args, option):
            raise InputError(f"--{option}", "", "not available for a champion/challenger file yet")
    comparison, _ = setup.run(lambda **kw: compare_arms(scenario, **kw))
    _emit(args, comparison.to_json, "" if args.json else format_arms_comparison(comparison))
    return 0


def _check_kpi(kpi: str, option: str) -> None:
    from ..metrics import SCALAR_KPIS

    if kpi not in SCALAR_KPIS:
        raise InputError(option, "", f"unknown KPI {kpi!r}; allowed: {', '.join(SCALAR_KPIS)}")


def sweep_rows(sweep, kpi: str) -> list[dict]:
    """One CSV row per variant: its settings, every KPI with its interval, the difference in ``kpi``
    from the base (blank on the base's own row)."""
    comparison = sweep.comparison
    rows = []
    for label, values, summary in zip(sweep.labels, sweep.values, comparison.scenarios, strict=True):
        row = {"variant": label, **{p: values.get(p, "") for p in sweep.paths}}
        for k, est in summary.kpis.items():
            row.update({f"{k}_mean": est.mean, f"{k}_ci_low": est.ci_low, f"{k}_ci_high": est.ci_high})
        delta = {f"delta_{kpi}_mean": "", f"delta_{kpi}_ci_low": "", f"delta_{kpi}_ci_high": ""}
        if label != sweep.labels[0]:
            d = comparison.difference(label, kpi).estimate
            delta = {f"delta_{kpi}_mean": d.mean, f"delta_{kpi}_ci_low": d.ci_low, f"delta_{kpi}_ci_high": d.ci_high}
        row.update(delta)
        rows.append(row)
    return rows


def cmd_sweep(args: argparse.Namespace) -> int:
    if args.sensitivity:
        if args.set:
            raise InputError("--set", "", "not used with --sensitivity; give --param PATH:STEP")
        return cmd_sensitivity(args)
    from ..sweep import build_grid, parse_set, run_sweep

    if args.param:
        raise InputError("--param", "", "only used with --sensitivity; a sweep takes --set PATH=V1,V2")
    if not args.set:
        raise InputError("--set", "", "give at least one --set PATH=V1,V2")
    _check_kpi(args.kpi, "--kpi")
    _check_kpi(args.x, "--x")
    setup = _Setup(args)
    settings = [parse_set(text) for text in args.set]
    base = load_scenario(args.scenario, setup.overrides)
    build_grid(base, settings)  # every variant validated before anything runs
    sweep, store = setup.run(lambda **kw: run_sweep(base, settings, **kw))
    setup.note_csv_sizes([base])  # after the runs: the CSV has loaded, so it is not a bad file

    def payload() -> dict:
        out = sweep.comparison.to_json()
        out["grid"] = [{"name": label, "values": values}
                       for label, values in zip(sweep.labels, sweep.values, strict=True)]
        return out

    def plot(path: str) -> None:
        from ..plots import sweep_tradeoff

        sweep_tradeoff(sweep, x=args.x, y=args.kpi, path=path)

    _emit(args, payload, "" if args.json else format_sweep(sweep, args.kpi, args.x, store),
          rows=lambda: sweep_rows(sweep, args.kpi), plot=plot)
    return 0


def cmd_sensitivity(args: argparse.Namespace) -> int:
    from ..sweep import parse_param, run_sensitivity, sensitivity_variants

    if not args.param:
        raise InputError("--param", "", "give at least one --param PATH:STEP")
    _check_kpi(args.kpi, "--kpi")
    setup = _Setup(args)
    params = [parse_param(text) for text in args.param]
    base = load_scenario(args.scenario, setup.overrides)
    sensitivity_variants(base, params)  # every variant validated before anything runs
    result, store = setup.run(lambda **kw: run_sensitivity(base, params, kpi=args.kpi, **kw))
    setup.note_csv_sizes([base])  # after the runs: the CSV has loaded, so it is not a bad file

    def rows() -> list[dict]:
        return [{"param": s.path, "base_value": s.base_value, "low_value": s.low_value, "high_value": s.high_value,
                 "kpi": result.kpi, "low_mean": s.low.mean, "low_ci_low": s.low.ci_low,
                 "low_ci_high": s.low.ci_high, "high_mean": s.high.mean, "high_ci_low": s.high.ci_low,
                 "high_ci_high": s.high.ci_high, "swing": s.width} for s in result.swings]

    def plot(path: str) -> None:
        from ..plots import tornado

        tornado(result, path=path)

    _emit(args, result.to_json, "" if args.json else format_sensitivity(result, store), rows=rows, plot=plot)
    return 0


def _change_history(args: argparse.Namespace, store) -> int:
    """``history --rename ID LABEL`` or ``--delete ID``: one line saying what changed (or JSON)."""
    if not store.path.is_file():
        raise InputError(store.path, "--store", "no results store here (run an experiment first)")
    key = args.rename[0] if args.rename else args.delete
    experiment_id = store.check_path().find_experiment(key)["id"]
    if args.rename:
        label = store.rename_experiment(experiment_id, args.rename[1])
        payload = {"store": str(store.path), "renamed": experiment_id, "label": label or None}
        line = f"experiment {experiment_id} is now {label!r}" if label else f"experiment {experiment_id} has no label"
    else:
        gone = store.delete_experiment(experiment_id)
        payload = {"store": str(store.path), "deleted": experiment_id, **gone}
        line = (f"deleted experiment {experiment_id}: {gone['runs']} runs no other experiment used, "
                f"{gone['scenarios']} scenarios")
    if args.json:
        _print_json(payload)
    else:
        print(line)
    return 0


def cmd_history(args: argparse.Namespace) -> int:
    from ..store import ResultStore

    store = ResultStore(args.store).check_path(writing=False)
    if args.rename or args.delete:
        return _change_history(args, store)
    experiments = store.experiments()
    if args.json:
        _print_json({"store": str(store.path), "experiments": experiments})
        return 0
    if not experiments:
        print(f"no experiments in {store.path}")
        return 0
    rows = []
    for e in experiments:
        names = ", ".join(e["scenarios"])
        if len(names) > 60:
            names = names[:57] + "..."
        rows.append([e["id"], e["label"] or "", e["kind"], e["status"], f"{e['runs']}/{e['runs_expected']}",
                     str(e["reps"]), e["updated_at"], names])
    out = io.StringIO()
    print(f"{len(experiments)} experiments in {store.path}", file=out)
    print("\n".join(_grid(["id", "label", "kind", "status", "runs", "reps", "updated", "scenarios"], rows)),
          file=out)
    sys.stdout.write(out.getvalue())
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from ..store import ResultStore

    target = args.csv or args.parquet
    option = "--csv" if args.csv else "--parquet"
    check_output_path(target, option)
    store = ResultStore(args.store).check_path(writing=False)
    if not store.path.is_file():
        raise InputError(store.path, "--store", "no results store here (run an experiment first)")
    experiment = store.find_experiment(args.experiment)
    if args.strategies:
        frame = store.experiment_strategy_kpis(experiment["id"])
        if frame.empty:
            raise InputError(store.path, "--strategies", f"experiment {experiment['id']} has no KPIs by strategy "
                                                         "(it is not a champion/challenger run)")
    else:
        frame = store.experiment_series(experiment["id"]) if args.series else store.experiment_kpis(experiment["id"])
    if args.csv:
        from ..export_safety import safe_frame

        safe = safe_frame(frame)  # labels are the user's text; a spreadsheet must not run them
        _write_atomic(target, lambda tmp: safe.to_csv(tmp, index=False))
    else:
        _write_atomic(target, lambda tmp: frame.to_parquet(tmp, index=False), "--parquet")
    with contextlib.suppress(BrokenPipeError):
        print(f"wrote {len(frame):,} rows of experiment {experiment['id']} to {target}", file=sys.stderr)
    return 0
