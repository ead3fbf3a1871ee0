"""The embedded default engine: a process pool on this machine (concurrent.futures).

At most ``jobs`` tasks are in flight, so when a worker process dies (killed, out of memory) and
takes the pool down with it, the tasks that were running are known: each loses one attempt and
is run again in a fresh pool, alone, so a task that kills its worker is told apart from the
ones that merely ran beside it.
"""

import multiprocessing
import os
import sys
from collections.abc import Callable, Hashable, Iterator, Mapping
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from .base import WORKER_LOSSES, Outcome


def _main_module_readable_by_spawn() -> None:
    """multiprocessing's spawn reads ``__main__.__spec__``, which a host that runs Python from a
    string (``python -c``, pytest-xdist's workers) may not define: None is what Python sets
    there."""
    main = sys.modules.get("__main__")
    if main is not None and not hasattr(main, "__spec__"):
        main.__spec__ = None


class LocalPool:
    def __init__(self, jobs: int | None = None, worker_losses: int = WORKER_LOSSES):
        self.jobs = max(1, jobs or os.cpu_count() or 1)
        self.worker_losses = worker_losses
        self.description = f"a local pool of {self.jobs} worker processes"

    def run(self, task: Callable[[Any], Any],
            payloads: Mapping[Hashable, Any]) -> Iterator[tuple[Hashable, Outcome]]:
        queue = list(payloads)
        losses = dict.fromkeys(queue, 0)
        alone: set[Hashable] = set()  # lost a worker once: rerun with nothing beside them
        while queue:
            lost: list[Hashable] = []
            # Spawned, not forked: the judge runs TensorFlow in the worker, and TensorFlow aborts
            # in a child forked from a process that had already started its runtime (a caller
            # that used TensorFlow before grading, such as a test session).
            _main_module_readable_by_spawn()
            pool = ProcessPoolExecutor(max_workers=self.jobs,
                                       mp_context=multiprocessing.get_context("spawn"))
            try:
                running: dict[Future, Hashable] = {}
                while queue or running:
                    while queue and len(running) < self.jobs and not lost:
                        if alone & set(running.values()) or (queue[0] in alone and running):
                            break
                        key = queue.pop(0)
                        running[pool.submit(task, payloads[key])] = key
                    if not running:
                        break
                    done, _ = wait(running, return_when=FIRST_COMPLETED)
                    for future in done:
                        key = running.pop(future)
                        try:
                            value = future.result()
                        except BrokenProcessPool:
                            lost.append(key)
                            continue
                        except Exception as e:  # noqa: BLE001 - the task's own failure
                            yield key, Outcome(error=f"the task raised {type(e).__name__}: {e}")
                            continue
                        yield key, Outcome(value)
            finally:
                pool.shutdown(wait=True, cancel_futures=True)
            alone.update(lost)
            for key in reversed(lost):
                losses[key] += 1
                if losses[key] > self.worker_losses:
                    yield key, Outcome(error=f"worker lost {losses[key]} times while running it "
                                             f"(its process died: killed or out of memory)")
                else:
                    queue.insert(0, key)

    def close(self) -> None:
        pass
