"""Engines that run one picklable task over many payloads: the local process pool or Dask.

Every engine has the same shape, so the grader's dispatch loop (``dispatch.py``) does not care
which one runs:

    with open_engine(scheduler=None, jobs=4) as engine:       # None: the local pool
        for key, outcome in engine.run(task, {key: payload, ...}):
            ...  # outcome.value, or outcome.error saying why the task produced nothing

Results arrive in the order tasks finish, in the process that called ``run``; that process alone
records them, so a run that stops early keeps everything recorded so far. Each key is yielded
exactly once, unless the engine raises ``EngineLost`` (its workers or scheduler went away), which
ends the run; the keys not yet yielded are then the ones still to do.
"""

import argparse
from collections.abc import Iterator
from contextlib import contextmanager

from .base import WORKER_LOSSES, Engine, EngineLost, Outcome

__all__ = ["WORKER_LOSSES", "Engine", "EngineLost", "Outcome", "add_arguments", "from_arguments",
           "open_engine", "parse_scheduler", "start"]


def parse_scheduler(scheduler: str | None) -> tuple[str, str | int | None]:
    """``None`` -> ("pool", None); ``local:N`` -> ("local", N); ``tcp://h:p`` -> ("dask", addr)."""
    if scheduler is None or scheduler == "":
        return "pool", None
    if scheduler.startswith("local:") or scheduler == "local":
        count = scheduler.partition(":")[2] or "0"
        if not count.isdigit():
            raise ValueError(f"--scheduler {scheduler!r}: expected local:N with N a number of "
                             f"worker processes, e.g. local:4")
        return "local", int(count)
    if "://" not in scheduler:
        raise ValueError(f"--scheduler {scheduler!r}: expected a Dask scheduler address such "
                         f"as tcp://host:8786, or local:N for N worker processes here")
    return "dask", scheduler


def add_arguments(p: argparse.ArgumentParser) -> None:
    """``--scheduler`` and ``--resume`` of ``rnn-grade autograde``; ``from_arguments`` builds the
    engine from ``--scheduler`` and ``--jobs`` (commands/options.add_workers)."""
    p.add_argument("--scheduler", metavar="ADDRESS", type=_scheduler_argument,
                   help="grade on a Dask cluster: its scheduler's address (tcp://host:8786), "
                        "or local:N for a Dask LocalCluster of N worker processes here "
                        "(default: a local process pool of --jobs workers)")
    p.add_argument("--resume", action="store_true",
                   help="keep the notebooks an earlier run graded from the same files (their "
                        "autograded copy and gradebook scores); grade only the others")


def _scheduler_argument(value: str) -> str:
    try:
        parse_scheduler(value)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    return value


def start(scheduler: str | None = None, jobs: int | None = None,
          worker_losses: int = WORKER_LOSSES) -> Engine:
    """The engine ``scheduler`` names (see ``parse_scheduler``); the caller closes it."""
    kind, where = parse_scheduler(scheduler)
    if kind == "pool":
        from .local import LocalPool

        engine: Engine = LocalPool(jobs=jobs, worker_losses=worker_losses)
    else:
        from .dask_cluster import DaskEngine

        if kind == "local":
            engine = DaskEngine.local(where or jobs, worker_losses=worker_losses)
        else:
            engine = DaskEngine.connect(where)  # the scheduler's own allowed-failures
    return engine


def from_arguments(args: argparse.Namespace) -> Engine:
    """The engine ``--scheduler`` and ``--jobs`` name; the caller closes it."""
    return start(getattr(args, "scheduler", None), getattr(args, "jobs", None))


@contextmanager
def open_engine(scheduler: str | None = None, jobs: int | None = None,
                worker_losses: int = WORKER_LOSSES) -> Iterator[Engine]:
    """``start``, closed on exit."""
    engine = start(scheduler, jobs, worker_losses)
    try:
        yield engine
    finally:
        engine.close()
