"""``python -m optimizer staff``: agents per interval for the inbound line, and the roster.

Only parses arguments and calls :mod:`optimizer.staffing.requirements`; every bad input is
a one-line :class:`sim.errors.InputError` (exit code 2).
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

from sim.errors import InputError
from sim.scenario import read_toml_file

from ..staffing import requirements as staffing
from ..staffing.shifts import (
    MINUTES_PER_DAY,
    ShiftPattern,
    clock,
    parse_clock_minute,
    standard_shifts,
)

CMDLINE = "command line"
# A call (or a caller's patience) longer than a day is a typo, not a line to staff.
MAX_MINUTES = 24 * 60.0

EPILOG = """\
units: every call figure is calls PER HOUR, also for half-hour intervals
("08:30=80" is 40 calls between 08:30 and 09:00); handle time and patience in
minutes; the service-level threshold in seconds.

A profile is "HH:MM=CALLS,..." with times on the hour or half hour, e.g.
"08:00=40,08:30=80,09:00=120". If any time is on the half hour the day is cut
in half hours, and each time names one interval; times not named have no
calls. The older "HOUR:CALLS" form ("8:40,9:120": hour 8 has 40 calls) still
works. A --hours TOML file has a table [calls_per_hour] with keys "08:00",
"08:30" (or "8") and calls per hour as values.

The roster minimises paid hours (ties: fewest agents). Shift patterns are
separated by commas; a split shift joins its pieces with "+", e.g.
"08:00-16:00,12:00-16:00,09:00-13:00+14:00-18:00". --shift-length 8,6,4
offers every 8-, 6- and 4-hour shift within the hours that have calls.
Offered load is capped at 100,000 Erlangs (calls per hour x handle minutes / 60).
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "staff",
        help="agents needed per interval on the inbound line (Erlang C/A) and the "
        "fewest-paid-hours roster",
        description="Agents needed per hour or half hour for a service level (Erlang C, or "
        "Erlang A with hang-ups) and an optional cap on occupancy, rostered counts after "
        "shrinkage, and optionally the roster over shift patterns that covers every interval "
        "with the fewest paid hours (integer program).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    # Numbers are parsed by this module (not argparse) so that errors are one line.
    _add_calls_options(parser)
    _add_line_options(parser)
    _add_roster_options(parser)
    parser.add_argument("--json", action="store_true", help="print JSON instead of tables")
    parser.set_defaults(func=run)


def _add_calls_options(parser: argparse.ArgumentParser) -> None:
    """The calls to staff for: one interval's, a profile or a file."""
    calls = parser.add_argument_group("calls, per hour (give one)")
    calls.add_argument("--calls-per-hour", metavar="N", help="calls per hour in a single interval")
    calls.add_argument(
        "--profile",
        metavar="HH:MM=N,...",
        help='calls per hour by interval, e.g. "08:00=40,08:30=80" (or "8:40,9:120")',
    )
    calls.add_argument(
        "--hours", metavar="FILE.toml", help="TOML file with a [calls_per_hour] table"
    )


def _add_line_options(parser: argparse.ArgumentParser) -> None:
    """The line: handle time, service level, shrinkage, occupancy and the queueing model."""
    line = parser.add_argument_group("the line")
    line.add_argument(
        "--handle-minutes",
        metavar="MIN",
        required=True,
        help="mean handle time (talk + wrap-up), at most 1440",
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
        "--max-occupancy",
        metavar="FRAC",
        help="cap on the share of time agents on the phones are busy, e.g. 0.85 (default: none)",
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


def _add_roster_options(parser: argparse.ArgumentParser) -> None:
    """The optional roster: shift patterns or lengths, breaks and the MIP solver."""
    roster = parser.add_argument_group("roster (optional)")
    roster.add_argument(
        "--shifts", metavar="PATTERNS", help='shift patterns, e.g. "08:00-16:00,12:00-16:00"'
    )
    roster.add_argument(
        "--shift-length",
        metavar="H[,H...]",
        help="instead of --shifts: every shift of these paid hours (e.g. 8,6,4; half hours "
        "allowed) within the hours that have calls",
    )
    roster.add_argument(
        "--break-after",
        metavar="H",
        help="with --shift-length: one unpaid break hour after H hours, in shifts longer than H",
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
        raise InputError(CMDLINE, field, f"expected a number, got {text!r}") from None
    bad = (
        not math.isfinite(value)
        or value < low
        or (low_open and value == low)
        or (high is not None and (value > high or (high_open and value == high)))
    )
    if bad:
        lo = f"{'>' if low_open else '≥'} {low:g}"
        hi = "" if high is None else f" and {'<' if high_open else '≤'} {high:g}"
        raise InputError(CMDLINE, field, f"must be a number {lo}{hi}, got {text!r}")
    return value


def parse_profile(text: str, source: str = CMDLINE, field: str = "--profile") -> dict[int, float]:
    """``"08:30=80,09:00=120"`` → {510: 80.0, 540: 120.0}: start minute → calls per hour.

    An item without ``=`` is the older ``HOUR:CALLS`` (``"8:40"`` is hour 8, 40 calls).
    """
    profile: dict[int, float] = {}
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        if "=" in item:
            time_text, _, calls_text = item.partition("=")
            start = _clock_key(time_text.strip(), source, field, item)
        else:
            hour_text, sep, calls_text = item.partition(":")
            if not sep or not hour_text.strip().isdigit():
                raise InputError(
                    source,
                    field,
                    f"expected HH:MM=CALLS like '09:30=120' (or HOUR:CALLS), got {item!r}",
                )
            start = _clock_key(hour_text.strip(), source, field, item)
        if start in profile:
            raise InputError(source, field, f"{clock(start)} is given twice")
        profile[start] = _calls(calls_text.strip(), source, field)
    if not profile:
        raise InputError(source, field, "names no interval")
    return dict(sorted(profile.items()))


def _clock_key(text: str, source: str, field: str, item: str) -> int:
    """A profile time, ``"8"``, ``"08:00"`` or ``"08:30"``, as minutes after midnight."""
    if text.isdigit():
        if int(text) > 23:
            raise InputError(source, field, f"hour {int(text)} is outside 0-23 in {item!r}")
        return 60 * int(text)
    try:
        start = parse_clock_minute(text)
    except ValueError as err:
        raise InputError(source, field, f"{err} in {item!r}") from None
    if start >= MINUTES_PER_DAY:
        raise InputError(source, field, f"an interval starts before 24:00, got {item!r}")
    return start


def _calls(value: object, source: str, field: str) -> float:
    try:
        calls = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InputError(source, field, f"calls must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(calls) or calls < 0:
        raise InputError(source, field, f"calls must be a number ≥ 0, got {value!r}")
    return calls


def read_hours_file(path: str) -> dict[int, float]:
    """Calls per hour by interval start (minutes) from a TOML file's ``[calls_per_hour]`` table."""
    # The shared bounded reader: a device, FIFO or symlink loop is one line, not a hang.
    data = read_toml_file(Path(path), path, kind="staffing hours file", needs="a [calls_per_hour] table",
                          max_bytes=1_000_000)
    table = data.get("calls_per_hour")
    if not isinstance(table, dict) or not table:
        raise InputError(
            path, "calls_per_hour", 'missing: add a table like [calls_per_hour] "09:00" = 120'
        )
    unknown = sorted(set(data) - {"calls_per_hour"})
    if unknown:
        raise InputError(path, unknown[0], "unknown key; the file holds only [calls_per_hour]")
    profile: dict[int, float] = {}
    for key, value in table.items():
        field = f"calls_per_hour.{key}"
        try:
            start = 60 * int(key) if key.strip().isdigit() else parse_clock_minute(key)
        except ValueError as err:
            raise InputError(
                path, field, f'{err}; keys are times like "09:00" or "09:30"'
            ) from None
        if not 0 <= start < MINUTES_PER_DAY:
            raise InputError(path, field, "an interval starts at 00:00-23:30")
        if start in profile:
            raise InputError(path, field, f"{clock(start)} is given twice")
        profile[start] = _calls(value, path, field)
    return dict(sorted(profile.items()))


def _lengths(text: str) -> list[float]:
    lengths = []
    for item in text.split(","):
        if not item.strip():
            continue
        length = _number(item.strip(), "--shift-length", low=0.5, high=24.0)
        if length * 2 != int(length * 2):
            raise InputError(
                CMDLINE,
                "--shift-length",
                f"hours come in whole or half hours, got {item.strip()!r}",
            )
        if length in lengths:
            raise InputError(CMDLINE, "--shift-length", f"{length:g} is given twice")
        lengths.append(length)
    if not lengths:
        raise InputError(CMDLINE, "--shift-length", "names no length")
    return lengths


def _break_after(args: argparse.Namespace, lengths: list[float]) -> float | None:
    if args.break_after is None:
        return None
    breaks = _number(args.break_after, "--break-after", low=0.5)
    if breaks * 2 != int(breaks * 2):
        raise InputError(
            CMDLINE, "--break-after", f"whole or half hours, got {args.break_after!r}"
        )
    if breaks >= max(lengths):
        raise InputError(
            CMDLINE, "--break-after", f"must be shorter than the longest shift ({max(lengths):g} h)"
        )
    return breaks


def _explicit_patterns(text: str) -> list[ShiftPattern]:
    patterns: list[ShiftPattern] = []
    for item in text.split(","):
        if not item.strip():
            continue
        try:
            pattern = ShiftPattern.parse(item.strip())
        except ValueError as err:
            raise InputError(CMDLINE, "--shifts", str(err)) from None
        if pattern.name in {p.name for p in patterns}:
            raise InputError(CMDLINE, "--shifts", f"{pattern.name!r} is given twice")
        patterns.append(pattern)
    if not patterns:
        raise InputError(CMDLINE, "--shifts", "names no shift")
    return patterns


def _check_roster_options(args: argparse.Namespace) -> None:
    if args.shifts is not None and args.shift_length is not None:
        raise InputError(CMDLINE, "--shifts", "give either --shifts or --shift-length, not both")
    if args.break_after is not None and args.shift_length is None:
        raise InputError(CMDLINE, "--break-after", "needs --shift-length")


def _opening_starts(needed: dict[int, int], span: int, step: int) -> list[float]:
    """Start hours of a ``span``-minute shift that lies within the hours with calls.

    A shift starting before the first call (or ending after the last) covers
    less of the day that needs agents than the same shift moved inside, so
    only starts inside are offered; a day shorter than the shift gets the
    shifts that contain it.
    """
    busy = [i * step for i, need in needed.items() if need > 0]
    if not busy:
        return []
    opens, closes = min(busy), max(busy) + step
    if closes - opens >= span:
        starts = range(opens, closes - span + 1, step)
    else:
        starts = range(max(0, closes - span), min(opens, MINUTES_PER_DAY - span) + 1, step)
    return [start / 60.0 for start in starts]


def _standard_patterns(
    lengths: list[float], breaks: float | None, needed: dict[int, int], step: int
) -> list[ShiftPattern]:
    patterns = []
    for length in lengths:
        span = round(60 * length) + (60 if breaks is not None and breaks < length else 0)
        starts = _opening_starts(needed, span, step)
        patterns += standard_shifts(
            length, starts=starts, break_after=breaks, interval_minutes=step
        )
    return patterns


# ----------------------------------------------------------------------------- run


def _profile(args: argparse.Namespace) -> tuple[dict[int, float], str]:
    """Calls per hour by interval start (minutes), and the option they came from."""
    sources = [f for f in ("calls_per_hour", "profile", "hours") if getattr(args, f) is not None]
    if len(sources) != 1:
        raise InputError(
            CMDLINE, "calls", "give exactly one of --calls-per-hour, --profile, --hours"
        )
    if args.calls_per_hour is not None:
        return {0: _number(args.calls_per_hour, "--calls-per-hour")}, "--calls-per-hour"
    if args.profile is not None:
        return parse_profile(args.profile), "--profile"
    return read_hours_file(args.hours), "calls_per_hour"


# The staffing library's settings by the options that give them: the library checks
# their ranges (one check, :class:`~optimizer.staffing.requirements.TargetError`), and
# this module names the option in the one-line error.
OPTION_OF = {
    "service_level": "--service-level",
    "shrinkage": "--shrinkage",
    "max_occupancy": "--max-occupancy",
    "max_abandon": "--max-abandon",
    "model": "--model",
    "patience": "--patience-minutes",
}


def _fraction(text: str | None, field: str) -> float | None:
    """A setting the library checks the range of: here only read as a finite number."""
    return None if text is None else _number(text, field, low=-math.inf)


def _line_settings(args: argparse.Namespace) -> dict:
    """The line's settings as numbers; durations in seconds (the library checks the targets)."""
    handle = _number(args.handle_minutes, "--handle-minutes", low_open=True, high=MAX_MINUTES)
    patience = None
    if args.patience_minutes is not None:
        patience = 60.0 * _number(
            args.patience_minutes, "--patience-minutes", low_open=True, high=MAX_MINUTES
        )
    return {
        "handle": handle * 60.0,
        "service_level": _fraction(args.service_level, "--service-level"),
        "answer_within": _number(args.answer_seconds, "--answer-seconds", high=86_400.0),
        "shrinkage": _fraction(args.shrinkage, "--shrinkage"),
        "max_occupancy": _fraction(args.max_occupancy, "--max-occupancy"),
        "model": args.model or ("erlang_c" if args.patience_minutes is None else "erlang_a"),
        "patience": patience,
        "max_abandon": _fraction(args.max_abandon, "--max-abandon"),
    }


def _needs(profile: dict[int, float], line: dict, args: argparse.Namespace, field: str) -> dict:
    """Agents per interval by the library, whose check of the settings is the only one."""
    try:
        return staffing.requirements_by_interval(
            profile,
            line["handle"],
            service_level=line["service_level"],
            answer_within=line["answer_within"],
            shrinkage=line["shrinkage"],
            model=line["model"],
            patience=line["patience"],
            max_abandon=line["max_abandon"],
            max_occupancy=line["max_occupancy"],
        )
    except staffing.TargetError as err:
        if err.parameter in OPTION_OF:
            raise InputError(CMDLINE, OPTION_OF[err.parameter], err.reason) from None
        # A load beyond what is sized, in one interval: name it where it was given.
        start = err.index or 0
        if field == "calls_per_hour":
            raise InputError(args.hours, f"{field}.{clock(start)}", f"{clock(start)}: {err.reason}") from None
        at = "" if args.calls_per_hour is not None else f"{clock(start)}: "
        raise InputError(CMDLINE, field, f"{at}{err.reason}") from None


def run(args: argparse.Namespace) -> int:
    profile, field = _profile(args)
    line = _line_settings(args)
    _check_roster_options(args)
    if args.solver not in ("highs", "cbc"):
        raise InputError(CMDLINE, "--solver", f"must be highs or cbc, got {args.solver!r}")
    time_limit = _number(args.time_limit, "--time-limit", low_open=True, high=86_400.0)
    explicit = None if args.shifts is None else _explicit_patterns(args.shifts)
    lengths = None if args.shift_length is None else _lengths(args.shift_length)
    breaks = None if lengths is None else _break_after(args, lengths)

    step = 30 if any(start % 60 for start in profile) else 60
    needs = _needs(profile, line, args, field)
    roster = _roster(needs, step, explicit, lengths, breaks, args.solver, time_limit)
    settings = {
        "model": line["model"],
        "handle_minutes": line["handle"] / 60.0,
        "service_level": line["service_level"],
        "answer_seconds": line["answer_within"],
        "shrinkage": line["shrinkage"],
        "max_occupancy": line["max_occupancy"],
        "patience_minutes": None if line["patience"] is None else line["patience"] / 60.0,
        "max_abandon": line["max_abandon"],
        "interval_minutes": step,
        "calls": "per hour",
        "shift_lengths": lengths,
    }
    if args.json:
        print(json.dumps(_as_json(settings, needs, roster), indent=2))
    else:
        single = args.calls_per_hour is not None
        print(_as_text(settings, needs, roster, single=single))
    return 0 if roster is None or roster.success else 1


def _roster(needs, step, explicit, lengths, breaks, solver, time_limit):
    """The roster over the given or generated shifts, on the finest grid either needs."""
    if explicit is None and lengths is None:
        return None
    fine = (explicit and not all(p.on_grid(60) for p in explicit)) or (
        lengths and any(length != int(length) or (breaks or 0) % 1 for length in lengths)
    )
    grid = 30 if fine else step
    needed = {
        start // grid + k: req.rostered for start, req in needs.items() for k in range(step // grid)
    }
    patterns = (
        explicit if explicit is not None else _standard_patterns(lengths, breaks, needed, grid)
    )
    return staffing.schedule_shifts(
        needed, patterns, interval_minutes=grid, solver=solver, time_limit=time_limit
    )


def _as_json(settings: dict, needs: dict, roster) -> dict:
    step = settings["interval_minutes"]
    rows = []
    for start, req in needs.items():
        m = req.metrics
        rows.append(
            {
                "start": clock(start),
                "minutes": step,
                "calls_per_hour": m.arrival_rate,
                "calls_in_interval": m.arrival_rate * step / 60.0,
                "load": m.load,
                "agents": req.agents,
                "rostered": req.rostered,
                "met": req.met,
                "service_level": m.service_level,
                "p_wait": m.p_wait,
                "mean_wait_seconds": m.mean_wait if math.isfinite(m.mean_wait) else None,
                "p_abandon": m.p_abandon,
                "occupancy": m.occupancy,
            }
        )
    return {
        "settings": settings,
        "intervals": rows,
        "roster": None if roster is None else roster.to_dict(),
    }


def _as_text(settings: dict, needs: dict, roster, *, single: bool) -> str:
    model = (
        "Erlang C"
        if settings["model"] == "erlang_c"
        else (f"Erlang A (patience {settings['patience_minutes']:g} min)")
    )
    cap = settings["max_occupancy"]
    lines = [
        f"{model}: handle {settings['handle_minutes']:g} min, target {settings['service_level']:.0%} "
        f"answered within {settings['answer_seconds']:g} s, shrinkage {settings['shrinkage']:.0%}"
        + ("" if cap is None else f", occupancy at most {cap:.0%}"),
        "",
        f"{'start':>5}  {'calls/h':>7}  {'load':>6}  {'agents':>6}  {'rostered':>8}  "
        f"{'answered':>8}  {'wait s':>6}  {'abandon':>7}  {'occupancy':>9}",
    ]
    for start, req in needs.items():
        m = req.metrics
        label = "-" if single else clock(start)
        flag = "" if req.met else "  (target not met)"
        lines.append(
            f"{label:>5}  {m.arrival_rate:>7g}  {m.load:>6.1f}  {req.agents:>6}  {req.rostered:>8}  "
            f"{m.service_level:>8.1%}  {m.mean_wait:>6.1f}  {m.p_abandon:>7.1%}  "
            f"{m.occupancy:>9.1%}{flag}"
        )
    if roster is not None:
        lines += ["", *_roster_text(roster)]
    return "\n".join(lines)


def _roster_text(roster) -> list[str]:
    lines = [f"Roster: {roster.status} ({roster.solver}) — {roster.message}"]
    if not roster.success:
        return lines
    lines.append(
        f"{roster.total_agents} agents, {roster.paid_hours:g} paid hours for "
        f"{roster.needed_hours:g} agent-hours needed (efficiency {roster.efficiency or 0:.0%})"
    )
    for name, count in roster.agents.items():
        if count:
            lines.append(f"  {count:>4} × {name}")
    lines += ["", f"{'start':>5}  {'need':>4}  {'on':>4}  {'slack':>5}"]
    for interval, on in roster.coverage.items():
        need = roster.required.get(interval, 0)
        if on or need:
            lines.append(
                f"{roster.label(interval):>5}  {need:>4}  {on:>4}  {roster.slack[interval]:>5}"
            )
    return lines
