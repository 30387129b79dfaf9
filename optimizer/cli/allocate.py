"""``python -m optimizer allocate``: the capacity allocation plan of a scenario, and its check by simulation."""

from __future__ import annotations

import argparse
import math
from collections import Counter

import numpy as np

from sim.cli.options import positive_int, seed_arg
from sim.errors import InputError
from sim.io import check_output_path, write_atomic
from sim.scenario import MAX_ACCOUNTS, load_scenario

from ..allocation.plan_summary import format_summary
from ..allocation.segments import DEFAULT_BALANCE_BANDS, check_bands


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not (value >= 0 and value != float("inf")):
        raise argparse.ArgumentTypeError(f"must be a finite number ≥ 0, got {text!r}")
    return value


def _bands(text: str) -> tuple[float, ...]:
    try:
        return check_bands([float(p) for p in text.split(",")], "--bands")
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be comma-separated numbers such as 0,1000,5000, got {text!r}") from None
    except InputError as err:
        raise argparse.ArgumentTypeError(err.message) from None


def register(subparsers) -> None:
    p = subparsers.add_parser("allocate", help="allocate agent hours and budget across segments and treatments (LP)",
                              description="Maximise expected net recovery: which segments get which treatment, "
                                          "within team capacity per week and the budget; price an agent hour.")
    p.add_argument("scenario", help="scenario TOML file")
    p.add_argument("--json", action="store_true", help="print the plan as JSON")
    p.add_argument("--mps", metavar="FILE", help="write the exact model solved as MPS")
    p.add_argument("--strategy-out", metavar="FILE.toml", help="write the plan as a scenario the simulator runs")
    p.add_argument("--solver", choices=("highs", "cbc"), default="highs", help="LP solver (default highs)")
    p.add_argument("--time-limit", type=_non_negative, metavar="S", help="solver time limit in seconds")
    p.add_argument("--budget", type=_non_negative, metavar="X", help="budget for variable spend over the horizon")
    p.add_argument("--weeks", type=positive_int(520), metavar="N", help="planning horizon (default: the simulation days)")
    p.add_argument("--min-service", action="store_true", help="every account gets at least a reminder")
    p.add_argument("--bands", type=_bands, default=DEFAULT_BALANCE_BANDS, metavar="E0,E1,…",
                   help="balance band lower edges (default 0,1000,5000)")
    p.add_argument("--sample", type=positive_int(100_000), default=40, metavar="N",
                   help="accounts per segment the valuation follows (default 40)")
    # Not argparse choices: a removed value ('analytic') gets the one-line error that says it is gone.
    p.add_argument("--valuation", default=None, metavar="simulate",
                   help="where the values come from: simulate, the simulator run on the sample (the only one)")
    p.add_argument("--replications", type=positive_int(100), default=1, metavar="N",
                   help="engine runs per treatment, averaged account by account "
                        "(default 1; the time grows with N)")
    p.add_argument("--guard-runs", type=positive_int(100), default=3, metavar="N",
                   help="paired whole-book runs of the LP's plan and each reference "
                        "ladder; a reference is returned only if it beats the plan beyond the noise (its paired "
                        "difference's 95%% interval above 0; default 3)")
    p.add_argument("--workers", type=positive_int(64), default=None, metavar="N",
                   help="local processes for the simulated valuation's and --verify's runs (default: one per "
                        "core; the results do not depend on it)")
    p.add_argument("--passes", type=positive_int(10), default=2, metavar="N",
                   help="value-and-solve passes, each with the last plan as what aged accounts get (default 2)")
    p.add_argument("--accounts", type=positive_int(MAX_ACCOUNTS), help="override simulation.accounts")
    p.add_argument("--seed", type=seed_arg, help="override simulation.seed")
    p.add_argument("--verify", action="store_true", help="simulate the plan against the scenario's own strategy")
    p.add_argument("--reps", type=positive_int(1000), default=5, help="replications for --verify (default 5)")
    p.add_argument("--prediction-runs", type=positive_int(1000), default=1, metavar="P",
                   help="with --verify: books the valuation predicts each ladder on, the prediction their mean "
                        "with its standard error (default 1: allocate's own book, no standard error)")
    p.add_argument("--against", action="append", default=[], metavar="SCENARIO",
                   help="also verify against this scenario's strategy (repeatable)")
    p.set_defaults(func=cmd_allocate)


def cmd_allocate(args: argparse.Namespace) -> int:
    from ..allocation import allocate, verify
    from ..allocation.plan import written_strategy
    from ..allocation.search import champion_note

    for path, option in ((args.mps, "--mps"), (args.strategy_out, "--strategy-out")):
        check_output_path(path, option)
    overrides = {}
    if args.accounts is not None:
        overrides["simulation.accounts"] = args.accounts
    if args.seed is not None:
        overrides["simulation.seed"] = args.seed
    loaded = load_scenario(args.scenario, overrides)
    champion = champion_note(loaded)  # allocate puts it in the plan's note too
    scenario = loaded.champion_world()  # the plan's ladder and --verify compare against the champion's
    others = [load_scenario(path, overrides).champion_world() for path in args.against]
    result = allocate(loaded, weeks=args.weeks, budget=args.budget, min_service=args.min_service,
                      solver=args.solver, time_limit=args.time_limit, band_edges=args.bands, ladders=others,
                      per_segment=args.sample, passes=args.passes, valuation=args.valuation,
                      replications=args.replications, guard_runs=args.guard_runs, workers=args.workers)
    plan = result.plan
    if args.mps:
        # With its objective sense, so that any solver reading the file maximises.
        write_atomic(args.mps, lambda tmp: result.model.problem.writeMPS(tmp, with_objsense=True), option="--mps")
    # One scenario for both: --verify runs the ladder read back from the very text --strategy-out writes.
    text, strategy = written_strategy(plan, scenario, args.strategy_out) if plan.ok else (None, None)
    if args.strategy_out:
        if strategy is None:
            raise InputError(args.scenario, "--strategy-out", f"no plan to write (status {plan.status})")
        write_atomic(args.strategy_out, text, option="--strategy-out")
    verification = None
    if args.verify and strategy is not None:
        from sim.executors import LocalExecutor

        with LocalExecutor(args.workers) as executor:  # --workers holds for the verification's runs too
            verification = verify(scenario, strategy, [scenario, *others], args.reps, segments=plan.segments,
                                  days=plan.days, per_segment=args.sample,
                                  valuation=plan.valued_by or args.valuation, objective=result.world,
                                  executor=executor, prediction_runs=args.prediction_runs)
    if args.json:
        import json

        out = plan.to_dict()
        if verification is not None:
            out["verification"] = verification.to_dict(strategy.display_name)
        print(json.dumps(out, indent=2))
    else:
        if champion:
            print(champion)
        print(format_plan(plan, result))
        if verification is not None:
            print(format_verification(verification, strategy.display_name))
    return 0 if plan.ok else 1


def ladder_fit_line(fit: dict) -> str:
    """What writing the LP's plan as a ladder of at most 64 steps did and cost (``Plan.ladder_fit``)."""
    from ..allocation.ladder_fit import fit_loss_note

    how = (f"cells keyed more coarsely ({fit['keyed']})" if fit["keyed"]
           else f"{len(fit['dropped'])} treatments dropped (those fewest accounts got)")
    return f"ladder fit: the LP's plan {fit['reason'].replace('the plan ', '')}; {how}; {fit_loss_note(fit)}"


def format_plan(plan, result) -> str:
    lines = [f"status: {plan.status}   solver: {plan.solver}   horizon: {plan.days} days"]
    if not plan.ok:
        return "\n".join(lines + ["no allocation (the constraints cannot all be met)"])
    lines += agent_value_lines(plan)  # the report's lead figure
    if plan.valuation_note:
        lines.append(plan.valuation_note)
    lines += format_summary(plan.summary)
    if plan.reference is not None:
        lines.append(f"plan: {plan.note}")
    lines += guard_lines(plan)
    if plan.ladder_fit:
        lines.append(ladder_fit_line(plan.ladder_fit))
    lines.append(objective_line(plan))
    if plan.reference_values:
        lines.append(f"{valuation_name(plan)}, whole ladders on the book with the teams' daily capacity:")
        lp = "LP plan" + (" (not used)" if plan.reference is not None else "  ← plan")
        for name, value in [(lp, plan.lp_value), *plan.reference_values.items()]:
            mark = "  ← plan" if name == plan.reference else ""
            lines.append(f"  {name:<28} {value:>14,.0f}{mark}")
    lines.append(f"segments: {len(plan.segments)}   treatments: {len(plan.treatments)}   "
                 f"{valuation_name(plan)} {result.value_seconds:.1f} s, build {result.build_seconds:.2f} s, "
                 f"solve {plan.solve_seconds:.2f} s")
    totals = Counter()
    for row in plan.allocation():
        totals[row["treatment"]] += row["accounts"]
    lines.append("\naccounts by treatment:")
    for name, count in totals.most_common():
        lines.append(f"  {name:<28} {count:>8,}")
    lines.append("\nallocation (segment → treatment: accounts, value" +
                 (" ± standard error):" if plan.value_std_error is not None else "):"))
    for row in plan.allocation():
        value = f"{row['value']:>13,.0f}" if "value" in row else ""
        if row["value_std_error"] is not None:
            value += f" ± {row['value_std_error']:,.0f}"
        lines.append(f"  {row['segment']:<28} {row['treatment']:<28} {row['accounts']:>7,} {value}".rstrip())
    lines.append("\ncapacity (whole horizon):")
    teams = sorted({t for t, _ in plan.capacity})
    for team in teams:
        cap = sum(c for (t, _), c in plan.capacity.items() if t == team)
        used = sum(u for (t, _), u in plan.capacity_used.items() if t == team)
        unit = plan.units.get(team, "minutes")
        lines.append(f"  {team:<12} used {used:,.0f} of {cap:,.0f} {unit} ({used / cap:.0%})" if cap else
                     f"  {team:<12} no capacity")
    lines.append("weekly shadow prices (per agent hour, per filing for legal; all weeks in --json):")
    for team in teams:
        what = "one more filing" if plan.units.get(team) == "filings" else "one more agent hour"
        lines.append(f"  {what} on team {team} is worth {plan.hour_value(team):,.2f} in the week it is worth most")
    if plan.budget is not None:
        lines.append(f"budget: used {plan.budget_used:,.0f} of {plan.budget:,.0f}; "
                     f"one more unit of budget is worth {plan.budget_price:,.3f}")
    return "\n".join(lines)


def guard_lines(plan) -> list[str]:
    """Which plan the guard returned, and each reference's paired difference over the LP's plan with its interval."""
    guard = plan.guard
    if not guard:
        return []
    lines = [f"returned: {guard['returned']} (a reference only if it beats the LP's plan beyond the noise of "
             f"{guard['runs']} paired whole-book runs)"]
    for name, d in guard["references"].items():
        spread = (f"95% interval {d['ci95'][0]:+,.0f} … {d['ci95'][1]:+,.0f}" if d["ci95"] else "no interval")
        lines.append(f"  {name} − LP plan: {d['reference_minus_plan']:+,.0f} ({spread})")
    return lines


def valuation_name(plan) -> str:
    """What the report calls the valuation behind the plan's values."""
    return "simulated valuation" if plan.valued_by == "simulate" else "value model"


def objective_line(plan) -> str:
    """The objective and its two parts: net collections within the horizon, the book left at it."""
    book = plan.summary.get("plan", {})
    if "horizon_value" not in book:
        return f"objective (collections − variable spend within the horizon): {plan.objective:,.0f}"
    net = book["collected"] - book["variable_spend"]
    return (f"objective: {plan.objective:,.0f} = net collections within the horizon {net:,.0f} "
            f"+ value of the book left at it {book['horizon_value']:,.0f}")


def agent_value_lines(plan) -> list[str]:
    """The main capacity figure: what one more agent on each team is worth over the horizon, against its cost."""
    weeks = -(-plan.days // 7)  # the LP's weeks (the last may be short)
    lines = []
    for team, v in plan.agent_value.items():
        verdict = "worth hiring" if v.per_agent_hour > v.cost_per_agent_hour else "not worth its pay"
        lines.append(f"one more agent on team {team} is worth {v.per_agent:,.0f} over {weeks} weeks "
                     f"({v.per_agent_hour:,.2f} per hour; an agent costs {v.cost_per_agent_hour:,.2f} per hour: "
                     f"{verdict})")
    return lines


def format_verification(v, optimised: str) -> str:
    """Both measures side by side: the objective the LP maximises (the verdict) and net recovery (the KPI)."""
    predicted = "valuation"
    lines = [f"\nverification by simulation ({v.reps} replications, common random numbers, equal capacity):",
             f"  {'strategy':<28} {'objective':>14} {predicted:>14} {'of it: book':>14} {'net collections':>15} "
             f"{predicted:>14} {'net recovery':>14}"]
    for label in v.labels:
        lines.append(f"  {label:<28} {np.mean(v.objective[label]):>14,.0f} {v.predicted_objective[label]:>14,.0f} "
                     f"{np.mean(v.book_value[label]):>14,.0f} {np.mean(v.net_collections[label]):>15,.0f} "
                     f"{v.predicted[label]:>14,.0f} {np.mean(v.net_recovery[label]):>14,.0f}")
    lines.append("  objective: net collections within the horizon + the value of the book left at it ([objective]; "
                 "'of it: book'), what the LP maximises;\n  net collections: collections − variable spend; both "
                 "count the accounts the plan is made for (on an open book every ladder starts from the book the "
                 "scenario's own warm-up leaves on the replication's seed, and the arrivals), as the valuation "
                 "does;\n  net recovery: the run's KPI (every cost, agents' time included). "
                 "The verdict is on the objective.")
    runs = len(next(iter(v.predicted_runs.values()), []))
    if runs > 1:
        lines.append(f"  valuation: the mean of {runs} books' runs; standard error of its net collections: " +
                     ", ".join(f"{label} {v.predicted_std_error(label):,.0f}" for label in v.labels))
    for label in v.labels:
        if label == optimised:
            continue
        lines.append(f"  {optimised} − {label}: {v.verdict(optimised, label)} it on the objective")
        for measure, name in (("objective", "objective"), ("net_collections", "net collect."),
                              ("net_recovery", "net recovery")):
            d = v.difference(optimised, label, measure)
            se = "" if math.isnan(d["predicted_std_error"]) else f" ± {d['predicted_std_error']:,.0f} (SE)"
            lines.append(f"    {name:<13} simulated {d['mean']:+,.0f} (95 % CI {d['low']:+,.0f} … {d['high']:+,.0f}); "
                         f"predicted {d['predicted']:+,.0f}{se}")
    return "\n".join(lines)
