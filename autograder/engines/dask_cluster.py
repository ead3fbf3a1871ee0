"""Dask distributed as an engine: a scheduler at tcp://host:port, or a LocalCluster here.

The same code grades on a LocalCluster, an SSHCluster, dask-jobqueue (SLURM, PBS) or
dask-kubernetes: all the client sees is a scheduler address. Workers need the Python
environment only (this package and its dependencies); tasks carry their inputs as data.

Faults, as Dask handles them (seen with SIGKILLed workers):
- a worker that dies while running a task: the scheduler runs the task again on another worker;
  after ``allowed-failures`` + 1 lost workers the task errs with ``KilledWorker``, reported here
  as "worker lost N times". For a LocalCluster we set ``allowed-failures``; a scheduler started
  elsewhere keeps its own setting (``DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES``).
  At Dask's default worker-saturation (1.1) a one-thread worker also holds a queued task, which
  counts a loss too when that worker dies; 1.0 (set for a LocalCluster) hands out only what runs.
- a result announced and then lost with its worker is computed again; it is yielded once.
- ``retries=`` on submit re-runs a task that *raised*; it does not count lost workers. Tasks
  raising is a bug in the task, not bad luck, so none are retried that way.
- a scheduler that goes away: the client's futures are cancelled; ``run`` raises ``EngineLost``
  after what had arrived was yielded.
"""

import importlib
import logging
import time
import uuid
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import CancelledError
from typing import Any

import dask
from distributed import Client, LocalCluster, as_completed
from distributed.scheduler import KilledWorker

from .base import WORKER_LOSSES, EngineLost, Outcome

CONNECT_TIMEOUT_S = 10
POLL_S = 0.1
# Workers of a batch system may start minutes after the scheduler (a SLURM queue), so waiting
# for them is normal; waiting this long with none at all is not.
NO_WORKERS_TIMEOUT_S = 300.0


def _outcome(future) -> Outcome:
    # Waits if the result was lost with its worker after it was announced: Dask computes it again.
    error = future.exception()
    if error is None:
        return Outcome(future.result())
    if isinstance(error, KilledWorker):
        return Outcome(error=(
            f"worker lost {error.allowed_failures + 1} times while running it (the last at "
            f"{error.last_worker.address}; killed, out of memory or its machine gone)"))
    return Outcome(error=f"the task raised {type(error).__name__}: {error}")


class DaskEngine:
    def __init__(self, client: Client, description: str, cluster: LocalCluster | None = None,
                 jobs: int | None = None):
        self.client = client
        self.description = description
        self.jobs = jobs  # worker processes here (a LocalCluster's); None for a remote scheduler
        self.cluster = cluster
        self.no_workers_timeout = NO_WORKERS_TIMEOUT_S
        self.lost = False

    @classmethod
    def connect(cls, address: str, timeout: float = CONNECT_TIMEOUT_S) -> "DaskEngine":
        """A client of the scheduler at ``address``; its workers and its settings (how many
        lost workers a task may cost) are its own."""
        try:
            client = Client(address, timeout=timeout, set_as_default=False)
        except (OSError, TimeoutError) as e:
            raise EngineLost(
                f"cannot reach the Dask scheduler at {address} within {timeout:g} s "
                f"({type(e).__name__}): is `dask scheduler` running there, and is its port "
                f"open to this machine?") from None
        return cls(client, f"the Dask scheduler at {address}")

    @classmethod
    def local(cls, workers: int | None, worker_losses: int = WORKER_LOSSES) -> "DaskEngine":
        """A LocalCluster of ``workers`` processes, one task at a time each, on 127.0.0.1."""
        workers = max(1, workers or 1)
        # Nannies and the scheduler log every lost worker; the outcome says it once.
        logging.getLogger("distributed").setLevel(logging.ERROR)
        logging.getLogger("distributed.scheduler").setLevel(logging.CRITICAL)
        with dask.config.set({"distributed.scheduler.allowed-failures": worker_losses,
                              # A worker takes a new task only when it is free, so a task is
                              # never queued behind a slow one while another worker idles.
                              "distributed.scheduler.worker-saturation": 1.0,
                              # The statistical profiler samples every 10 ms: CPU that the
                              # kernels need, for a dashboard nobody looks at here.
                              "distributed.worker.profile.enabled": False,
                              # The nanny's environment for array work (glibc trimming memory
                              # back eagerly, one math thread) would be the kernels' too: the
                              # trimming slows TensorFlow's import ~3%, threads are set per task.
                              "distributed.nanny.pre-spawn-environ": {}}):
            # The scheduler's HTTP endpoints (health, metrics) on a free port of 127.0.0.1.
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None,
                                   scheduler_kwargs={"dashboard_address": "127.0.0.1:0"})
        client = Client(cluster, set_as_default=False)
        return cls(client, f"a Dask LocalCluster of {workers} worker processes", cluster,
                   jobs=workers)

    def prepare(self, module: str) -> None:
        """Imports ``module`` on the scheduler and every worker now (they unpickle tasks that
        name it): one without it is named here, not in every task's failure, and the first
        tasks do not pay the import."""

        def load(name):
            try:
                importlib.import_module(name)
            except Exception as e:  # noqa: BLE001 - reported to the client below
                return f"{type(e).__name__}: {e}"

        failed = {"the scheduler": self.client.run_on_scheduler(load, module),
                  **self.client.run(load, module)}
        failed = {where: error for where, error in failed.items() if error}
        if failed:
            raise EngineLost(
                f"cannot import {module} on {self.description} (install this project in the "
                f"Python environment of the scheduler and every worker): "
                + "; ".join(f"{where}: {error}" for where, error in sorted(failed.items())))

    def run(self, task: Callable[[Any], Any],
            payloads: Mapping[Hashable, Any]) -> Iterator[tuple[Hashable, Outcome]]:
        self.prepare(task.__module__)
        run = uuid.uuid4().hex[:8]  # keys unique on a scheduler shared with other runs
        futures = {self.client.submit(task, payload, key=f"rnn-grade-{run}-{i}", pure=False): key
                   for i, (key, payload) in enumerate(payloads.items())}
        pending = dict(futures)
        arrivals = as_completed(futures, loop=self.client.loop)
        idle_since = time.monotonic()
        try:
            while pending:
                batch = arrivals.next_batch(block=False)
                if not batch:
                    self._check_alive(idle_since, len(pending), len(futures))
                    time.sleep(POLL_S)
                    continue
                idle_since = time.monotonic()
                for future in batch:
                    if future not in pending:
                        continue  # announced again after its result was recomputed
                    if future.status == "cancelled":
                        # The scheduler went away and took its futures with it.
                        raise EngineLost(self._lost_message(len(pending), len(futures)))
                    key = pending.pop(future)
                    try:
                        outcome = _outcome(future)
                    except CancelledError:  # the scheduler went while the result was fetched
                        pending[future] = key
                        raise EngineLost(self._lost_message(len(pending), len(futures))) from None
                    future.release()  # the worker may forget the result now
                    yield key, outcome
        finally:
            for future in pending:
                future.release()

    def _check_alive(self, idle_since: float, left: int, total: int) -> None:
        if self.client.status not in ("running", "connecting", "newly-created"):
            raise EngineLost(self._lost_message(left, total))
        waited = time.monotonic() - idle_since
        if not self.client.scheduler_info().get("workers") and waited > self.no_workers_timeout:
            raise EngineLost(
                f"{self.description} has had no workers for {waited:.0f} s with {left} of "
                f"{total} tasks not done (start workers: `dask worker ADDRESS`)")

    def _lost_message(self, left: int, total: int) -> str:
        self.lost = True
        return (f"lost {self.description} with {left} of {total} tasks not done (the scheduler "
                f"went away or stopped answering)")

    def close(self) -> None:
        if self.lost:  # the client's own account of its failed reconnection says nothing more
            logging.getLogger("distributed.client").setLevel(logging.CRITICAL)
        try:
            self.client.close(timeout=CONNECT_TIMEOUT_S)
        except Exception:  # noqa: BLE001 - closing a client whose scheduler is gone
            pass
        if self.cluster is not None:
            self.cluster.close(timeout=CONNECT_TIMEOUT_S)
