"""A time limit on each call of a student's function, for the checks that call an earlier
function only to decide whom to blame: a hang there costs the limit once, never the cell's time.

`within(function, seconds)` limits the student's function itself (here, in a kernel: SIGALRM,
main thread only) or a judge's proxy of it (one with `__judge_within__`: the limit is set on
the call into the student's kernel). Once a call ran past the limit, later calls of the limited
function fail at once: it hangs, and waiting again would tell nothing new. A call past the
limit raises `CallTookTooLong`, an AssertionError: a check that fails, not a grader's error.
"""

from __future__ import annotations

import contextlib
import functools
import signal
import threading
from typing import Any, Callable, Iterator

# The limit of the visible blamed checks (the kit's), so that both sides wait as long.
from rnn_course_student.checks import EARLIER_TIME_LIMIT_S  # noqa: F401  (re-exported)


class CallTookTooLong(AssertionError):
    """A limited call did not return within its limit (it was stopped)."""


class _Alarm(BaseException):
    """Raised into the student's code at the limit: a BaseException, so that an `except
    Exception` in that code lets it by."""


@contextlib.contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # no signals here: the cell's own limit applies
        return

    def stop(signum, frame):
        raise _Alarm()

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def within(function: Callable, seconds: float) -> Callable:
    """`function` with each call limited to `seconds` (see the module docstring)."""
    remote = getattr(function, "__judge_within__", None)
    if remote is not None:
        return remote(seconds)
    hung: list[str] = []

    @functools.wraps(function)
    def limited(*args: Any, **kwargs: Any) -> Any:
        if hung:
            raise CallTookTooLong(hung[0])
        try:
            with _alarm(seconds):
                return function(*args, **kwargs)
        except _Alarm:
            hung.append(f"{getattr(function, '__name__', 'the function')} did not return "
                        f"within {seconds:g} s (stopped).")
            raise CallTookTooLong(hung[0]) from None

    return limited
