"""A Dask LocalCluster gives the same numbers, bit for bit, as the local executors."""

from __future__ import annotations

import json

from sim.executors import DaskExecutor, LocalExecutor
from sim.experiment import run_experiment
from sim.scenario import load_scenario

from simhelpers import SCENARIOS

TINY = {"simulation.accounts": 200, "simulation.days": 20}


def test_dask_local_cluster_agrees_with_local_processes():
    scenarios = [load_scenario(SCENARIOS / f"{n}.toml", TINY) for n in ("baseline", "call_heavy")]
    local = run_experiment(scenarios, 3, rng=21, executor=LocalExecutor(1))
    with DaskExecutor(workers=2) as dask:
        distributed = run_experiment(scenarios, 3, rng=21, executor=dask)
        assert len(dask.client().scheduler_info()["workers"]) == 2
    assert json.dumps(local.to_json()) == json.dumps(distributed.to_json())
