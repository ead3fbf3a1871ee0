"""Where grading tasks run: the one place that hands ``grade_notebook`` calls to workers.

``dispatch(fn, tasks, engine)`` runs ``fn(task)`` for every task on an engine
(autograder/engines: the local process pool, or Dask) and yields ``(task, outcome)`` as each
finishes, in completion order; ``outcome`` is ``fn``'s return value, or a ``WorkerLost`` saying
why the task produced nothing (its worker died too often), so one lost worker never stops the
batch. A plain ``concurrent.futures.Executor`` works too. Each task is yielded at most once;
``engines.EngineLost`` (the scheduler went away) ends the run, the tasks not yielded undone.
"""

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, as_completed

from .engines import Engine, start


class WorkerLost(RuntimeError):
    """The task never came back from its workers; the message says why."""


def local_pool(jobs: int) -> Engine:
    """``jobs`` worker processes on this machine, one kernel each at a time."""
    return start(None, jobs)


def dispatch(fn: Callable, tasks: Iterable, engine: Engine | Executor) -> Iterator[tuple]:
    """Yields ``(task, fn(task) or the WorkerLost that says why not)`` as the tasks finish."""
    if isinstance(engine, Executor):
        futures = {engine.submit(fn, task): task for task in tasks}
        for future in as_completed(futures):
            try:
                yield futures[future], future.result()
            except Exception as e:  # a worker process died: the batch goes on
                yield futures[future], WorkerLost(f"its worker process died ({e})")
        return
    keyed = dict(enumerate(tasks))
    for key, outcome in engine.run(fn, keyed):
        yield keyed[key], outcome.value if outcome.ok else WorkerLost(outcome.error)
