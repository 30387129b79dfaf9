"""Run every benchmark one after another and collect their headline lines.

Each script runs in its own process (so one's memory does not weigh on the
next) with its default sizes, or small sizes with ``--quick``. Scripts that
do not exist yet (``bench_allocation.py`` is written with the optimizer) are
skipped.

Run: ``python benchmarks/run_all.py [--quick]``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from common import print_machine

HERE = Path(__file__).resolve().parent

# (script, quick arguments)
SCRIPTS = (
    ("naive_sim.py", ["--accounts", "2000", "--days", "60", "--seeds", "3", "--stock-accounts", "1000"]),
    ("limits.py", ["--accounts", "20000", "--days", "60", "--agents", "40"]),
    ("scaling.py", ["--sizes", "10000", "100000", "--days", "60"]),
    ("bench_allocation.py", []),
    ("experiments.py", ["--reps", "2", "--accounts", "5000", "--days", "60"]),
    ("power_check.py", ["--trials", "5000", "--engine", "--engine-trials", "50"]),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes (a minute or two in all)")
    args = parser.parse_args(argv)
    print_machine()
    headlines, failed, ran = [], [], 0
    for script, quick in SCRIPTS:
        path = HERE / script
        if not path.exists():
            headlines.append(f"{script}: not present, skipped")
            continue
        print(f"\n=== {script} {' '.join(quick) if args.quick else '(default sizes)'}", flush=True)
        out = subprocess.run([sys.executable, str(path), *(quick if args.quick else [])], capture_output=True,
                             text=True)
        sys.stdout.write(out.stdout)
        if out.returncode != 0:
            sys.stdout.write(out.stderr)
            failed.append(script)
            headlines.append(f"{script}: FAILED (exit {out.returncode})")
            continue
        ran += 1
        lines = out.stdout.strip().splitlines()
        headlines.append(f"{script}: {lines[-1] if lines else '(no output)'}")
    print("\n=== headlines")
    for line in headlines:
        print(line)
    print(f"headline: {ran} of {len(SCRIPTS)} benchmarks ran"
          + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
