"""Golden digests: what the shipped scenarios, plans and schedules produce, to the bit.

A restructuring (moving modules, splitting functions) must not change a single
number. This script computes a SHA-256 digest of every full result the project
ships an example of, at a small size so that all of them take well under a
minute:

* every simulation scenario in ``scenarios/*.toml`` at 1,500 accounts × 60 days
  with seed 20260105: the KPIs, the daily series, the roll-rate matrix and the
  contact log (each its own digest, so a failure says which part moved);
* ``python -m optimizer allocate --json`` on hawkes_baseline and cn_2025 at the same size;
* ``python -m optimizer payoff`` on every debt file (``debts_*.toml``,
  ``household.toml``), every strategy: the schedule CSV's bytes and the JSON;
* ``python -m optimizer staff --json`` for the README's example.

Floats never go through text formatting: arrays are hashed as their dtype,
shape and raw bytes; JSON documents are parsed and re-serialised with sorted
keys (Python writes floats with ``repr``, which round-trips exactly), minus
wall-clock timings.

Run from the repository root::

    python benchmarks/goldens.py            # compare with tests/goldens.json
    python benchmarks/goldens.py --write    # regenerate after an intended change

``tests/test_goldens.py`` runs the comparison.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import io
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
GOLDENS = ROOT / "tests" / "goldens.json"

ACCOUNTS = 1_500
DAYS = 60
SEED = 20260105
ALLOCATE = ("hawkes_baseline", "cn_2025")  # closed books, valued by the engine on the sample (issue 13)
STAFF_README = ["--profile", "8:40,9:120,10:150,11:130,12:90,13:100,14:110,15:80,16:50",
                "--handle-minutes", "6", "--patience-minutes", "3", "--max-occupancy", "0.85",
                "--shift-length", "8,6,4"]
# Keys of the optimizers' JSON that hold wall-clock time, not results.
TIMINGS = frozenset({"seconds", "solve_seconds", "elapsed", "elapsed_seconds"})


# ----------------------------------------------------------------------------- digests


def _hasher() -> hashlib._Hash:
    return hashlib.sha256()


def _feed_array(h, array: np.ndarray) -> None:
    array = np.ascontiguousarray(array)
    if array.dtype == object:
        h.update(json.dumps([str(x) for x in array.ravel().tolist()]).encode())
    else:
        h.update(f"{array.dtype.str}{array.shape}".encode())
        h.update(array.tobytes())


def _plain(value: Any) -> Any:
    """JSON-ready with floats kept exact (numpy scalars to Python ones, arrays to lists)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items() if k not in TIMINGS}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def json_digest(value: Any) -> str:
    text = json.dumps(_plain(value), sort_keys=True, allow_nan=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def arrays_digest(arrays: dict[str, np.ndarray]) -> str:
    h = _hasher()
    for name in sorted(arrays):
        h.update(name.encode())
        _feed_array(h, np.asarray(arrays[name]))
    return h.hexdigest()


# ----------------------------------------------------------------------------- the parts


def simulation_scenarios() -> list[Path]:
    """The shipped scenario files that are simulation scenarios (not debt files)."""
    import tomllib

    out = []
    for path in sorted(SCENARIOS.glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if "debts" in data or path.name.startswith("debts_"):
            continue
        out.append(path)
    return out


def debt_files() -> list[Path]:
    return sorted([*SCENARIOS.glob("debts_*.toml"), SCENARIOS / "household.toml"])


def simulation_digests(path: Path) -> dict[str, str]:
    from sim.scenario import load_scenario
    from sim.simulation import simulate

    scenario = load_scenario(path, {"simulation.accounts": ACCOUNTS, "simulation.days": DAYS,
                                    "simulation.seed": SEED})
    result = simulate(scenario, contact_log=True)
    log = result.contact_log
    contacts = {"account": log.account, "minute": log.minute, "duration": log.duration,
                "agent": log.agent, "channel": log.channel_names(), "outcome": log.outcome_names(),
                "agent_names": np.array(list(log.agent_names), dtype=object)}
    return {
        "kpis": json_digest(result.kpis),
        "series": arrays_digest(result.series),
        "roll_rates": arrays_digest({"roll_rates": result.roll_rates}),
        "contact_log": arrays_digest(contacts),
    }


def _optimizer(argv: list[str]) -> tuple[int, str]:
    """``python -m optimizer ARGV`` in this process: exit code and stdout."""
    from optimizer.cli import main

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(argv)
    return code, out.getvalue()


def allocation_digest(name: str) -> str:
    code, text = _optimizer(["allocate", str(SCENARIOS / f"{name}.toml"), "--json",
                             "--accounts", str(ACCOUNTS), "--seed", str(SEED)])
    return json_digest({"exit": code, "plan": json.loads(text)})


def payoff_digests(path: Path) -> dict[str, str]:
    out = {}
    with tempfile.TemporaryDirectory() as tmp:
        for strategy in ("all", "snowball_rerank"):
            csv = Path(tmp) / f"{strategy}.csv"
            code, text = _optimizer(["payoff", str(path), "--strategy", strategy, "--json",
                                     "--csv", str(csv)])
            out[f"{strategy}.csv"] = hashlib.sha256(csv.read_bytes()).hexdigest()
            out[f"{strategy}.json"] = json_digest({"exit": code, "advice": json.loads(text)})
    return out


def staffing_digest() -> str:
    code, text = _optimizer(["staff", *STAFF_README, "--json"])
    return json_digest({"exit": code, "staff": json.loads(text)})


def compute(progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every digest, keyed ``simulate/NAME/part``, ``allocate/NAME``, ``payoff/FILE/…``, ``staff/readme``."""
    say = progress or (lambda _: None)
    out: dict[str, Any] = {}
    for path in simulation_scenarios():
        say(f"simulate {path.name}")
        for part, digest in simulation_digests(path).items():
            out[f"simulate/{path.stem}/{part}"] = digest
    for name in ALLOCATE:
        say(f"allocate {name}")
        out[f"allocate/{name}"] = allocation_digest(name)
    for path in debt_files():
        say(f"payoff {path.name}")
        for part, digest in payoff_digests(path).items():
            out[f"payoff/{path.stem}/{part}"] = digest
    say("staff")
    out["staff/readme"] = staffing_digest()
    return out


def differences(expected: dict[str, str], actual: dict[str, str]) -> list[str]:
    keys = sorted(set(expected) | set(actual))
    return [f"{k}: {expected.get(k, 'missing')[:12]} → {actual.get(k, 'missing')[:12]}"
            for k in keys if expected.get(k) != actual.get(k)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write the digests to {GOLDENS.relative_to(ROOT)}")
    args = parser.parse_args(argv)
    actual = compute(progress=lambda what: print(what, file=sys.stderr))
    if args.write:
        GOLDENS.write_text(json.dumps(actual, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {len(actual)} digests to {GOLDENS.relative_to(ROOT)}")
        return 0
    moved = differences(json.loads(GOLDENS.read_text(encoding="utf-8")), actual)
    print("\n".join(moved) if moved else f"all {len(actual)} digests unchanged")
    return 1 if moved else 0


if __name__ == "__main__":
    raise SystemExit(main())
