"""A time limit on each call of a student's function, for the checks that call an earlier
function only to decide whom to blame: a hang there costs the limit once, never the cell's time.

`within(function, seconds)` limits the student's function itself (here, in a kernel: SIGALRM,
main thread only) or a judge's proxy of it (one with `__judge_within__`: the limit is set on
the call into the student's kernel). Once a call ran past the limit, later calls of the limited
function fail at once: it hangs, and waiting again would tell nothing new. A call past the
limit raises `CallTookTooLong`, an AssertionError: a check that fails, not a grader's error.
"""

from __future__ import annotations

import functools
from typing import Any, Callable

# The limit of the visible blamed checks (the kit's), so that both sides wait as long.
from rnn_course_student.checks import (  # noqa: F401  (EARLIER_TIME_LIMIT_S re-exported)
    EARLIER_TIME_LIMIT_S,
    EarlierTookTooLong,
    stopped_after,
)


class CallTookTooLong(AssertionError):
    """A limited call did not return within its limit (it was stopped)."""


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
            with stopped_after(seconds):
                return function(*args, **kwargs)
        except EarlierTookTooLong:
            hung.append(f"{getattr(function, '__name__', 'the function')} did not return "
                        f"within {seconds:g} s (stopped).")
            raise CallTookTooLong(hung[0]) from None

    return limited
