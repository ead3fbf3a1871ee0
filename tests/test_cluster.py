"""The engines run tasks on a real Dask cluster (separate processes over TCP) or a local pool.

Faults are real too: a worker process SIGKILLed in the middle of a task, a task that kills
every worker it runs on, a scheduler that goes away. Every task must end exactly once, done or
failed with a reason; nothing is lost, nothing is reported twice.
"""

import os
import time
from collections import Counter

import pytest

import dask_processes
from autograder.engines import EngineLost, open_engine, parse_scheduler
from autograder.engines.dask_cluster import DaskEngine
from autograder.engines.local import LocalPool
from dask_processes import kill_own_worker_if_negative, square_slowly


@pytest.fixture
def cluster(tmp_path):
    procs = dask_processes.start(tmp_path / "dask", workers=2)
    try:
        yield procs
    finally:
        procs.stop()


def _connect(procs) -> DaskEngine:
    engine = DaskEngine.connect(procs.address)
    procs.wait_for_workers(engine.client, 2)
    return engine


def test_two_worker_processes_return_what_the_local_pool_returns(cluster):
    payloads = {f"n{x}": (x, 0.2) for x in range(8)}
    engine = _connect(cluster)
    try:
        worker_pids = set(cluster.worker_pids(engine.client).values())
        on_cluster = list(engine.run(square_slowly, payloads))
    finally:
        engine.close()
    with open_engine(None, jobs=2) as pool:
        locally = list(pool.run(square_slowly, payloads))

    assert Counter(k for k, _ in on_cluster) == Counter(list(payloads))  # each exactly once
    assert {k: o.value[0] for k, o in on_cluster} == {k: o.value[0] for k, o in locally}
    assert {k: x * x for k, (x, _) in payloads.items()} == {k: o.value[0] for k, o in locally}
    ran_on = {o.value[1] for _, o in on_cluster}
    assert ran_on <= worker_pids and len(ran_on) == 2, "both worker processes should take tasks"
    assert os.getpid() not in ran_on


def test_a_worker_killed_mid_batch_loses_no_task_and_reports_none_twice(cluster):
    payloads = {f"n{x}": (x, 1.0) for x in range(6)}
    engine = _connect(cluster)
    try:
        pids = cluster.worker_pids(engine.client)
        outcomes, killed, in_flight = [], None, ()
        for key, outcome in engine.run(square_slowly, payloads):
            outcomes.append((key, outcome))
            if killed is None:  # both workers are busy with the next tasks: kill one
                busy = {a: ks for a, ks in engine.client.processing().items() if ks}
                address = sorted(busy)[0]
                killed, in_flight = pids[address], busy[address]
                cluster.kill(killed)
    finally:
        engine.close()

    assert in_flight, "the killed worker had a task in hand"
    assert Counter(k for k, _ in outcomes) == Counter(list(payloads))
    assert all(o.ok for _, o in outcomes), [o.error for _, o in outcomes if not o.ok]
    assert {k: o.value[0] for k, o in outcomes} == {k: x * x for k, (x, _) in payloads.items()}
    after = [o.value[1] for _, o in outcomes[1:]]
    assert killed not in after, "tasks after the kill ran on the worker still alive"


def test_a_task_that_kills_every_worker_fails_with_the_reason_and_the_rest_finish():
    payloads = {"killer": (-1, 0), **{f"n{x}": (x, 0.3) for x in range(4)}}
    with open_engine("local:2", worker_losses=1) as engine:
        outcomes = list(engine.run(kill_own_worker_if_negative, payloads))

    assert Counter(k for k, _ in outcomes) == Counter(list(payloads))
    results = dict(outcomes)
    assert not results["killer"].ok
    assert "worker lost 2 times" in results["killer"].error
    assert all(results[f"n{x}"].value[0] == x * x for x in range(4))


def test_the_local_pool_tells_a_worker_killer_from_the_tasks_beside_it():
    payloads = {"killer": (-1, 0), **{f"n{x}": (x, 0.3) for x in range(5)}}
    outcomes = list(LocalPool(jobs=2, worker_losses=1).run(kill_own_worker_if_negative, payloads))

    assert Counter(k for k, _ in outcomes) == Counter(list(payloads))
    results = dict(outcomes)
    assert results["killer"].error.startswith("worker lost 2 times")
    assert all(results[f"n{x}"].value[0] == x * x for x in range(5)), results


def test_a_scheduler_that_goes_away_ends_the_run_clearly_keeping_what_arrived(cluster):
    payloads = {f"n{x}": (x, 1.0) for x in range(8)}
    engine = _connect(cluster)
    arrived = []
    started = time.monotonic()
    try:
        with pytest.raises(EngineLost, match="scheduler went away") as lost:
            for key, outcome in engine.run(square_slowly, payloads):
                arrived.append((key, outcome))
                if len(arrived) == 2:
                    cluster.kill(cluster.scheduler.pid)
    finally:
        engine.close()

    assert time.monotonic() - started < 60
    assert f"lost the Dask scheduler at {cluster.address}" in str(lost.value)
    assert 2 <= len(arrived) < len(payloads)
    assert len({k for k, _ in arrived}) == len(arrived)
    assert all(o.ok and o.value[0] == payloads[k][0] ** 2 for k, o in arrived)


def test_an_unreachable_scheduler_is_a_clear_error():
    address = f"tcp://127.0.0.1:{dask_processes.free_port()}"
    with pytest.raises(EngineLost, match=f"cannot reach the Dask scheduler at {address}"):
        DaskEngine.connect(address, timeout=2)


@pytest.mark.parametrize("bad", ["local:four", "127.0.0.1:8786"])
def test_a_malformed_scheduler_names_what_is_expected(bad):
    with pytest.raises(ValueError, match="tcp://host:8786|local:N"):
        parse_scheduler(bad)


def test_a_cluster_without_the_task_code_is_named_before_any_task_runs(cluster):
    engine = _connect(cluster)
    try:
        workers = sorted(cluster.worker_pids(engine.client))
        with pytest.raises(EngineLost, match="cannot import no_such_grading_module") as lost:
            list(engine.run(_task_of_a_module_the_cluster_lacks, {"a": 1}))
    finally:
        engine.close()
    for where in ["the scheduler", *workers]:
        assert f"{where}: ModuleNotFoundError" in str(lost.value)


def _task_of_a_module_the_cluster_lacks(x):
    return x


_task_of_a_module_the_cluster_lacks.__module__ = "no_such_grading_module"


def test_a_scheduler_without_workers_ends_the_run_after_the_wait_allowed(tmp_path):
    procs = dask_processes.start(tmp_path / "dask", workers=0)
    try:
        engine = DaskEngine.connect(procs.address)
        engine.no_workers_timeout = 1.0
        try:
            with pytest.raises(EngineLost, match="has had no workers for 1 s with 2 of 2 tasks"):
                list(engine.run(square_slowly, {"a": (1, 0), "b": (2, 0)}))
        finally:
            engine.close()
    finally:
        procs.stop()
