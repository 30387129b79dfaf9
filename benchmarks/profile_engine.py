"""Where a run's time goes: a profile of one engine run, to guide optimisation.

Uses pyinstrument (a sampling profiler, call tree with little overhead) when
it is installed, else cProfile sorted by own time. Not a benchmark: it prints
the profile, then the array/event split measured by ``limits.py``'s hooks.

Run: ``python benchmarks/profile_engine.py [--accounts 1000000 --days 30 --agents 100] [--cprofile]``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import pstats
import sys

from common import add_engine_run_options, load_engine_run, positive_int
from limits import timed_engine_run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_engine_run_options(parser)
    parser.add_argument("--cprofile", action="store_true", help="use cProfile even if pyinstrument is installed")
    parser.add_argument("--top", type=positive_int, default=30, help="cProfile rows to print")
    args = parser.parse_args(argv)
    scenario = load_engine_run(args)
    try:
        if args.cprofile:
            raise ImportError
        from pyinstrument import Profiler
    except ImportError:
        profile = cProfile.Profile()
        run = profile.runcall(timed_engine_run, scenario, args.seed)
        text = io.StringIO()
        pstats.Stats(profile, stream=text).sort_stats("tottime").print_stats(args.top)
        print(text.getvalue())
    else:
        profiler = Profiler(interval=0.002)
        profiler.start()
        run = timed_engine_run(scenario, args.seed)
        profiler.stop()
        print(profiler.output_text(unicode=False, color=False, show_all=False))
    print(f"headline: run {run['total_cpu']:.1f} s CPU (under the profiler): array part {run['array_cpu']:.1f} s, "
          f"event part {run['event_cpu']:.1f} s for {run['events']:,} contact events")
    return 0


if __name__ == "__main__":
    sys.exit(main())
