"""Blame in the right place: a later exercise that calls an earlier one is judged with a right
version of the earlier one put in, so that it keeps its points when only the earlier one is wrong.

    check_blaming_earlier(run_checks, rnn_backward, rnn_step_backward=trusted_step_backward)

runs `run_checks()`; if it fails, it runs it again with `rnn_step_backward` replaced, in
`rnn_backward`'s globals (the notebook), by the trusted version. Passing then means the later
function is right and the earlier one is not: a note says so and the check passes.
"""

from __future__ import annotations

import contextlib
from typing import Callable, Iterator

_MISSING = object()


@contextlib.contextmanager
def substituted(namespace: dict, **replacements: Callable) -> Iterator[None]:
    """Inside the block, each name in `namespace` is bound to its replacement; restored after,
    whatever happens inside (a notebook's globals must not keep a grader's function)."""
    saved = {name: namespace.get(name, _MISSING) for name in replacements}
    try:
        namespace.update(replacements)
        yield
    finally:
        for name, old in saved.items():
            if old is _MISSING:
                namespace.pop(name, None)
            else:
                namespace[name] = old


def calls(function: Callable, name: str) -> bool:
    """Whether `function`'s code (or a function or class body defined inside it) refers to the
    global `name`."""
    stack = [getattr(function, "__code__", None)]
    while stack:
        code = stack.pop()
        if code is None:
            continue
        if name in code.co_names:
            return True
        stack.extend(c for c in code.co_consts if hasattr(c, "co_names"))
    return False


def check_blaming_earlier(run_checks: Callable[[], None], later: Callable,
                          **trusted_earlier: Callable) -> None:
    """Runs `run_checks()`; when it fails, judges `later` again with the earlier functions it
    calls replaced by `trusted_earlier` (by name, in `later`'s globals).

    Passes with a printed note when `later` is right with the trusted earlier functions, and
    raises the failure of that second run otherwise (the later function's own mistake).
    """
    try:
        run_checks()
        return
    except AssertionError:
        if not trusted_earlier:
            raise
    namespace = getattr(later, "__globals__", {})
    called = {name for name in trusted_earlier if calls(later, name)}
    if not called:
        run_checks()  # raises the same failure again: no earlier function is involved
        return
    with substituted(namespace, **{name: trusted_earlier[name] for name in called}):
        run_checks()  # a failure here is the later function's own
    later_name = getattr(later, "__name__", "this function")
    for name in sorted(called):
        print(f"{later_name} is right, but it calls your {name}, which fails its own check: "
              "fix that first.")
