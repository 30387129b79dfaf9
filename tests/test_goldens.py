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
import os
import platform
import subprocess
import sys
from pathlib import Path

import pytest

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


_DIGESTS_UNDER_KERNEL = """
import importlib.util, json, sys
spec = importlib.util.spec_from_file_location("goldens", sys.argv[1])
goldens = importlib.util.module_from_spec(spec)
spec.loader.exec_module(goldens)
print(json.dumps({name: goldens.simulation_digests(goldens.SCENARIOS / f"{name}.toml")["kpis"]
                  for name in ("card_lifecycle", "hawkes_baseline", "card_baseline", "sms_gentle")}))
"""


def _avx2() -> bool:
    try:
        return " avx2" in Path("/proc/cpuinfo").read_text(encoding="utf-8")
    except OSError:
        return False


def _numpy_simd_here() -> list[str]:
    """The SIMD targets numpy dispatches to on this CPU (beyond its baseline), to turn off in the first variant."""
    try:
        from numpy._core._multiarray_umath import __cpu_dispatch__, __cpu_features__
    except ImportError:
        return []
    return [name for name in __cpu_dispatch__ if __cpu_features__.get(name)]


@pytest.mark.skipif(platform.machine() != "x86_64" or not _avx2(),
                    reason="OpenBLAS's Prescott and Haswell kernels are x86-64's (Haswell's needs AVX2)")
def test_the_numbers_do_not_depend_on_the_cpus_blas_kernel_or_simd():
    """The same KPIs whatever the CPU: OpenBLAS picks its kernel at start-up (np.dot adds in a kernel's own
    order: the goldens, written on a Haswell-class machine, failed on a Sapphire Rapids one for five scenarios'
    npv_collected), and numpy its SIMD loops (an array raised to a power gave card_lifecycle's npv_collected
    another last bit with SSE alone). Run side by side: OpenBLAS's oldest kernel with numpy's baseline loops
    only, and its Haswell kernel with every loop this CPU has."""
    variants = [{"OPENBLAS_CORETYPE": "Prescott", "NPY_DISABLE_CPU_FEATURES": " ".join(_numpy_simd_here())},
                {"OPENBLAS_CORETYPE": "Haswell"}]
    digests = []
    for variant in variants:
        env = {**os.environ, **variant}
        run = subprocess.run([sys.executable, "-c", _DIGESTS_UNDER_KERNEL, str(ROOT / "benchmarks" / "goldens.py")],
                             capture_output=True, text=True, env=env, cwd=ROOT, check=True)
        digests.append(json.loads(run.stdout))
    assert digests[0] == digests[1]
