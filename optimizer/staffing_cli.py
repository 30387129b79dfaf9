"""``python -m optimizer staff``: agents per hour for the inbound line, and the roster.

Only parses arguments and calls :mod:`optimizer.staffing`; every bad input is
a one-line :class:`sim.errors.ScenarioError` (exit code 2).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from sim.errors import ScenarioError
from sim.scenario import read_toml_file

from . import staffing
from .shifts import ShiftPattern, parse_clock_hour, standard_shifts

CMDLINE = "command line"

EPILOG = """\
units: calls per hour; handle time and patience in minutes; the service-level
threshold in seconds. A profile is "HOUR:CALLS,..." with clock hours 0-23,
e.g. "8:40,9:120,10:150". A --hours TOML file has a table
[calls_per_hour] with keys "08:00" (or "8") and calls as values. Shift
patterns are separated by commas; a split shift joins its pieces with "+",
e.g. "08:00-16:00,12:00-20:00,09:00-13:00+14:00-18:00".
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "staff",
        help="agents needed per hour on the inbound line (Erlang C/A) and the fewest-agent roster",
        description="Agents needed per hour for a service level (Erlang C, or Erlang A with "
        "hang-ups), rostered counts after shrinkage, and optionally the roster over shift "
        "patterns that covers every hour with the fewest agents (integer program).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Numbers are parsed by this module (not argparse) so that errors are one line.
    calls = parser.add_argument_group("calls (give one)")
    calls.add_argument("--calls-per-hour", metavar="N", help="calls in a single hour")
    calls.add_argument(
        "--profile", metavar="H:N,...", help='calls per clock hour, e.g. "8:40,9:120"'
    )
    calls.add_argument(
        "--hours", metavar="FILE.toml", help="TOML file with a [calls_per_hour] table"
    )
    line = parser.add_argument_group("the line")
    line.add_argument(
        "--handle-minutes", metavar="MIN", required=True, help="mean handle time (talk + wrap-up)"
    )
    line.add_argument(
        "--service-level",
        metavar="FRAC",
        default="0.8",
        help="share answered in time (default 0.8)",
    )
    line.add_argument(
        "--answer-seconds", metavar="SEC", default="20", help="answer within (default 20)"
    )
    line.add_argument(
        "--shrinkage",
        metavar="FRAC",
        default="0.3",
        help="share of paid time off the phones (default 0.3)",
    )
    line.add_argument(
        "--model",
        metavar="erlang_c|erlang_a",
        help="queueing model (default erlang_a with --patience-minutes, else erlang_c)",
    )
    line.add_argument(
        "--patience-minutes",
        metavar="MIN",
        help="mean patience before hanging up (implies erlang_a unless --model given)",
    )
    line.add_argument(
        "--max-abandon", metavar="FRAC", help="cap on the share of callers hanging up (erlang_a)"
    )
    roster = parser.add_argument_group("roster (optional)")
    roster.add_argument(
        "--shifts", metavar="PATTERNS", help='shift patterns, e.g. "08:00-16:00,12:00-20:00"'
    )
    roster.add_argument(
        "--shift-length", metavar="H", help="instead of --shifts: every H-hour shift in the day"
    )
    roster.add_argument(
        "--break-after",
        metavar="H",
        help="with --shift-length: one unpaid break hour after H hours",
    )
    roster.add_argument(
        "--solver",
        default="highs",
        metavar="highs|cbc",
        help="MIP solver (default highs, CBC as fallback)",
    )
    roster.add_argument(
        "--time-limit", metavar="SEC", default="30", help="solver time limit (default 30)"
    )
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(func=run)


# ----------------------------------------------------------------------------- parsing


def _number(
    text: str | None,
    field: str,
    *,
    low: float = 0.0,
    low_open: bool = False,
    high: float | None = None,
    high_open: bool = False,
) -> float:
    try:
        value = float(text)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ScenarioError(CMDLINE, field, f"expected a number, got {text!r}") from None
    bad = (
        not math.isfinite(value)
        or value < low
        or (low_open and value == low)
        or (high is not None and (value > high or (high_open and value == high)))
    )
    if bad:
        lo = f"{'>' if low_open else '≥'} {low:g}"
        hi = "" if high is None else f" and {'<' if high_open else '≤'} {high:g}"
        raise ScenarioError(CMDLINE, field, f"must be a number {lo}{hi}, got {text!r}")
    return value


def _whole(text: str, field: str, *, low: int = 1) -> int:
    value = _number(text, field, low=low)
    if value != int(value):
        raise ScenarioError(CMDLINE, field, f"must be a whole number, got {text!r}")
    return int(value)


def parse_profile(text: str, source: str = CMDLINE, field: str = "--profile") -> dict[int, float]:
    """``"8:40,9:120"`` → {8: 40.0, 9: 120.0} (clock hour: calls in that hour)."""
    profile: dict[int, float] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        hour_text, sep, calls_text = item.partition(":")
        if not sep or not hour_text.strip().isdigit():
            raise ScenarioError(source, field, f"expected HOUR:CALLS like '9:120', got {item!r}")
        hour = int(hour_text)
        if hour > 23:
            raise ScenarioError(source, field, f"hour {hour} is outside 0-23 in {item!r}")
        if hour in profile:
            raise ScenarioError(source, field, f"hour {hour} is given twice")
        profile[hour] = _calls(calls_text.strip(), source, field)
    if not profile:
        raise ScenarioError(source, field, "names no hour")
    return dict(sorted(profile.items()))


def _calls(value: object, source: str, field: str) -> float:
    try:
        calls = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ScenarioError(source, field, f"calls must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(calls) or calls < 0:
        raise ScenarioError(source, field, f"calls must be a number ≥ 0, got {value!r}")
    return calls


def read_hours_file(path: str) -> dict[int, float]:
    """Calls per clock hour from a TOML file's ``[calls_per_hour]`` table."""
    # The shared bounded reader: a device, FIFO or symlink loop is one line, not a hang.
    data = read_toml_file(Path(path), path, kind="staffing hours file", needs="a [calls_per_hour] table",
                          max_bytes=1_000_000)
    table = data.get("calls_per_hour")
    if not isinstance(table, dict) or not table:
        raise ScenarioError(
            path, "calls_per_hour", 'missing: add a table like [calls_per_hour] "09:00" = 120'
        )
    unknown = sorted(set(data) - {"calls_per_hour"})
    if unknown:
        raise ScenarioError(path, unknown[0], "unknown key; the file holds only [calls_per_hour]")
    profile: dict[int, float] = {}
    for key, value in table.items():
        field = f"calls_per_hour.{key}"
        try:
            hour = int(key) if key.strip().isdigit() else parse_clock_hour(key)
        except ValueError as err:
            raise ScenarioError(path, field, f'{err}; keys are clock hours like "09:00"') from None
        if not 0 <= hour <= 23:
            raise ScenarioError(path, field, "hour must be 0-23")
        if hour in profile:
            raise ScenarioError(path, field, f"hour {hour} is given twice")
        profile[hour] = _calls(value, path, field)
    return dict(sorted(profile.items()))


def _patterns(args: argparse.Namespace) -> list[ShiftPattern] | None:
    if args.shifts is not None and args.shift_length is not None:
        raise ScenarioError(CMDLINE, "--shifts", "give either --shifts or --shift-length, not both")
    if args.break_after is not None and args.shift_length is None:
        raise ScenarioError(CMDLINE, "--break-after", "needs --shift-length")
    if args.shift_length is not None:
        length = _whole(args.shift_length, "--shift-length")
        if length > 24:
            raise ScenarioError(CMDLINE, "--shift-length", f"must be 1-24 hours, got {length}")
        breaks = None if args.break_after is None else _whole(args.break_after, "--break-after")
        if breaks is not None and breaks >= length:
            raise ScenarioError(
                CMDLINE, "--break-after", f"must be shorter than the shift ({length} h)"
            )
        return standard_shifts(length, break_after=breaks)
    if args.shifts is None:
        return None
    patterns = []
    for text in args.shifts.split(","):
        if not text.strip():
            continue
        try:
            pattern = ShiftPattern.parse(text.strip())
        except ValueError as err:
            raise ScenarioError(CMDLINE, "--shifts", str(err)) from None
        if pattern.name in {p.name for p in patterns}:
            raise ScenarioError(CMDLINE, "--shifts", f"{pattern.name!r} is given twice")
        patterns.append(pattern)
    if not patterns:
        raise ScenarioError(CMDLINE, "--shifts", "names no shift")
    return patterns


# ----------------------------------------------------------------------------- run


def run(args: argparse.Namespace) -> int:
    sources = [f for f in ("calls_per_hour", "profile", "hours") if getattr(args, f) is not None]
    if len(sources) != 1:
        raise ScenarioError(
            CMDLINE, "calls", "give exactly one of --calls-per-hour, --profile, --hours"
        )
    if args.calls_per_hour is not None:
        profile = {0: _number(args.calls_per_hour, "--calls-per-hour")}
    elif args.profile is not None:
        profile = parse_profile(args.profile)
    else:
        profile = read_hours_file(args.hours)

    handle = _number(args.handle_minutes, "--handle-minutes", low_open=True) * 60.0
    level = _number(args.service_level, "--service-level", low_open=True, high=1.0, high_open=True)
    within = _number(args.answer_seconds, "--answer-seconds")
    shrinkage = _number(args.shrinkage, "--shrinkage", high=1.0, high_open=True)
    model = args.model or ("erlang_c" if args.patience_minutes is None else "erlang_a")
    if model not in staffing.MODELS:
        raise ScenarioError(CMDLINE, "--model", f"must be erlang_c or erlang_a, got {model!r}")
    patience = None
    if args.patience_minutes is not None:
        patience = _number(args.patience_minutes, "--patience-minutes", low_open=True) * 60.0
    if model == "erlang_a" and patience is None:
        raise ScenarioError(
            CMDLINE, "--patience-minutes", "erlang_a needs the callers' mean patience"
        )
    max_abandon = None
    if args.max_abandon is not None:
        max_abandon = _number(args.max_abandon, "--max-abandon", high=1.0)
        if model != "erlang_a":
            raise ScenarioError(
                CMDLINE, "--max-abandon", "needs erlang_a (give --patience-minutes)"
            )
    if args.solver not in ("highs", "cbc"):
        raise ScenarioError(CMDLINE, "--solver", f"must be highs or cbc, got {args.solver!r}")
    time_limit = _number(args.time_limit, "--time-limit", low_open=True)
    patterns = _patterns(args)

    hours = staffing.requirements_by_hour(
        profile,
        handle,
        service_level=level,
        answer_within=within,
        shrinkage=shrinkage,
        model=model,
        patience=patience,
        max_abandon=max_abandon,
    )
    roster = None
    if patterns is not None:
        roster = staffing.schedule_shifts(
            {h: r.rostered for h, r in hours.items()},
            patterns,
            solver=args.solver,
            time_limit=time_limit,
        )

    settings = {
        "model": model,
        "handle_minutes": handle / 60.0,
        "service_level": level,
        "answer_seconds": within,
        "shrinkage": shrinkage,
        "patience_minutes": None if patience is None else patience / 60.0,
        "max_abandon": max_abandon,
    }
    if args.json:
        print(json.dumps(_as_json(settings, profile, hours, roster), indent=2))
    else:
        single = args.calls_per_hour is not None
        print(_as_text(settings, profile, hours, roster, single=single))
    return 0 if roster is None or roster.success else 1


def _as_json(settings: dict, profile: dict, hours: dict, roster) -> dict:
    rows = []
    for hour, req in hours.items():
        m = req.metrics
        rows.append(
            {
                "hour": hour,
                "calls": profile[hour],
                "load": m.load,
                "agents": req.agents,
                "rostered": req.rostered,
                "met": req.met,
                "service_level": m.service_level,
                "p_wait": m.p_wait,
                "mean_wait_seconds": m.mean_wait,
                "p_abandon": m.p_abandon,
                "occupancy": m.occupancy,
            }
        )
    return {
        "settings": settings,
        "hours": rows,
        "roster": None if roster is None else roster.to_dict(),
    }


def _as_text(settings: dict, profile: dict, hours: dict, roster, *, single: bool) -> str:
    model = (
        "Erlang C"
        if settings["model"] == "erlang_c"
        else (f"Erlang A (patience {settings['patience_minutes']:g} min)")
    )
    lines = [
        f"{model}: handle {settings['handle_minutes']:g} min, target {settings['service_level']:.0%} "
        f"answered within {settings['answer_seconds']:g} s, shrinkage {settings['shrinkage']:.0%}",
        "",
        f"{'hour':>5}  {'calls':>7}  {'load':>6}  {'agents':>6}  {'rostered':>8}  "
        f"{'answered':>8}  {'wait s':>6}  {'abandon':>7}",
    ]
    for hour, req in hours.items():
        m = req.metrics
        label = "-" if single else f"{hour:02d}:00"
        flag = "" if req.met else "  (target not met)"
        lines.append(
            f"{label:>5}  {profile[hour]:>7g}  {m.load:>6.1f}  {req.agents:>6}  {req.rostered:>8}  "
            f"{m.service_level:>8.1%}  {m.mean_wait:>6.1f}  {m.p_abandon:>7.1%}{flag}"
        )
    if roster is not None:
        lines += ["", f"Roster: {roster.status} ({roster.solver}) — {roster.message}"]
        if roster.success:
            lines.append(f"{roster.total_agents} agents")
            for name, count in roster.agents.items():
                if count:
                    lines.append(f"  {count:>4} × {name}")
            lines.append("")
            lines.append(f"{'hour':>5}  {'need':>4}  {'on':>4}  {'slack':>5}")
            for hour, on in roster.coverage.items():
                need = roster.required.get(hour, 0)
                if on or need:
                    lines.append(f"{hour % 24:02d}:00  {need:>4}  {on:>4}  {roster.slack[hour]:>5}")
    return "\n".join(lines)
