"""Every shipped example produces the same numbers, to the bit, as when the goldens were written.

``benchmarks/goldens.py`` digests the full results of every simulation
scenario (KPIs, daily series, roll rates, contact log at 1,500 accounts × 60
days), the allocation plans of baseline and cn_2025, every debt file's payoff
schedules under every strategy and the README's staffing example, and
``tests/goldens.json`` holds the digests.

A restructuring leaves them alone. A change meant to move numbers regenerates
them with ``python benchmarks/goldens.py --write``, in its own commit whose
message says which goldens moved and why.
"""

from __future__ import annotations

import importlib.util
import json

from simhelpers import ROOT


def _goldens_module():
    spec = importlib.util.spec_from_file_location("goldens", ROOT / "benchmarks" / "goldens.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_shipped_example_gives_the_golden_numbers():
    goldens = _goldens_module()
    expected = json.loads(goldens.GOLDENS.read_text(encoding="utf-8"))
    moved = goldens.differences(expected, goldens.compute())
    assert not moved, "goldens moved (regenerate only for an intended change):\n" + "\n".join(moved)
