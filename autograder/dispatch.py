"""Where grading tasks run: the one place that hands ``grade_notebook`` calls to workers.

``dispatch(fn, tasks, executor)`` submits ``fn(task)`` for every task and yields
``(task, outcome)`` as each finishes, in completion order; ``outcome`` is ``fn``'s return value,
or the exception when the worker itself died, so one lost worker never stops the batch. Any
``concurrent.futures.Executor`` works; the default is a local process pool. A cluster engine
replaces this function (``autograde(..., dispatch=...)``) with the same signature.
"""

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed


def local_pool(jobs: int) -> ProcessPoolExecutor:
    """``jobs`` worker processes on this machine, one kernel each at a time."""
    return ProcessPoolExecutor(max_workers=jobs)


def dispatch(fn: Callable, tasks: Iterable, executor: Executor) -> Iterator[tuple]:
    """Yields ``(task, fn(task) or the exception that lost it)`` as the tasks finish."""
    futures = {executor.submit(fn, task): task for task in tasks}
    for future in as_completed(futures):
        task = futures[future]
        try:
            yield task, future.result()
        except Exception as e:  # a worker process died: the batch goes on
            yield task, e
