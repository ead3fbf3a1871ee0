"""What every engine shares: its shape (``Engine``), what comes back for a task (``Outcome``), and
how it says it cannot go on (``EngineLost``)."""

from collections.abc import Callable, Hashable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

# How many times a task may lose its worker (killed, out of memory, machine gone) and still be
# run again elsewhere; one more loss and it is reported as failed, so a task that kills every
# worker it touches cannot take the whole class down with it.
WORKER_LOSSES = 2


@dataclass
class Outcome:
    """What came back for one payload: the task's return value, or why there is none."""

    value: Any = None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class EngineLost(RuntimeError):
    """The engine cannot go on (its scheduler went away); the message says what to do."""


class Engine(Protocol):
    description: str  # in words, for the end of a run ("a local pool of 4 worker processes")
    jobs: int | None  # tasks it runs at once on one machine (None: unknown, a remote cluster)

    def run(self, task: Callable[[Any], Any],
            payloads: Mapping[Hashable, Any]) -> Iterator[tuple[Hashable, Outcome]]: ...

    def close(self) -> None: ...
