"""The one place that hands ``grade_notebook`` calls to an engine's workers.

``dispatch(fn, tasks, engine)`` runs ``fn(task)`` for every task on ``engine`` (the local process
pool or Dask, see this package) and yields ``(task, outcome)`` as each finishes, in completion
order; ``outcome`` is ``fn``'s return value, or a ``WorkerLost`` saying why the task produced
nothing (its worker died too often), so one lost worker never stops the batch. Each task is
yielded at most once; ``EngineLost`` (the scheduler went away) ends the run, the tasks not
yielded undone.
"""

from collections.abc import Callable, Iterable, Iterator

from .base import Engine


class WorkerLost(RuntimeError):
    """The task never came back from its workers; the message says why."""


def dispatch(fn: Callable, tasks: Iterable, engine: Engine) -> Iterator[tuple]:
    """Yields ``(task, fn(task) or the WorkerLost that says why not)`` as the tasks finish."""
    keyed = dict(enumerate(tasks))
    for key, outcome in engine.run(fn, keyed):
        yield keyed[key], outcome.value if outcome.ok else WorkerLost(outcome.error)
