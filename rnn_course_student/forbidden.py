"""The forbidden-call guard: inside `forbid(...)`, calling what an exercise asks the student to
write (`tensorflow.GradientTape` for BPTT, `keras.layers.SimpleRNN` for the forward pass)
raises `ForbiddenCallError` naming the exercise.

It lives in the kit because it must run where the student's code runs, the graded kernel, which
holds only the kit. The judge (autograder/judge/) runs hidden checks in its own process: there a
`forbid` block patches nothing (`remote_only()`), it only records its targets, and every call
the judge makes to the student's code inside the block carries them to the kernel, which runs
that call inside the same guard.

    with forbid("tensorflow.GradientTape", task="rnn_backward"):
        grads = rnn_backward(dh, x, h0, h, W_x, W_h)
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import sys
import threading
from typing import Any, Iterable, Iterator


class ForbiddenCallError(AssertionError):
    """An exercise called the library function it was asked to write (an AssertionError, so
    nbgrader scores the test cell 0 like any other failed check)."""


_state = threading.local()  # the guards open now, and whether to patch this process


def active_guards() -> list[dict]:
    """The `forbid` blocks open now in this thread, innermost last: {"targets", "task"}."""
    return list(getattr(_state, "open", []))


@contextlib.contextmanager
def remote_only() -> Iterator[None]:
    """Inside the block, `forbid` only records its targets (for the judge, whose calls reach
    the student's code in another process) instead of patching this process."""
    before = getattr(_state, "remote", False)
    _state.remote = True
    try:
        yield
    finally:
        _state.remote = before


def _resolve(target: str) -> tuple[Any, str, Any] | None:
    """`"keras.layers.SimpleRNN"` -> (owner module, attribute name, object); None if absent."""
    parts = target.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            owner: Any = importlib.import_module(".".join(parts[:split]))
        except ImportError:
            continue
        try:
            for attribute in parts[split:-1]:
                owner = getattr(owner, attribute)
            return owner, parts[-1], getattr(owner, parts[-1])
        except AttributeError:
            return None
    return None


def _namespaces(roots: set[str], extra: Iterable[dict]) -> list[dict]:
    """The dicts through which a forbidden object could be reached: every loaded module of the
    target's packages, the notebook's own namespace and the functions under test's globals."""
    spaces = [vars(m) for name, m in list(sys.modules.items())
              if m is not None and name.split(".")[0] in roots]
    main = sys.modules.get("__main__")
    if main is not None:
        spaces.append(vars(main))
    spaces.extend(extra)
    return spaces


@contextlib.contextmanager
def trusted_calls() -> Iterator[None]:
    """Inside the block, forbidden targets run as usual: for the kit's trusted stand-ins (e.g.
    `checks.trusted_step_forward`, computed with Keras), which a check puts in place of a wrong
    earlier answer while the later answer runs under the guard. Like the guard itself, this is
    no security boundary: the student's process could switch it too, and the static scan of
    answers is the other layer."""
    _state.trusted = getattr(_state, "trusted", 0) + 1
    try:
        yield
    finally:
        _state.trusted -= 1


def _trusted_now() -> bool:
    return getattr(_state, "trusted", 0) > 0


@contextlib.contextmanager
def forbid(*targets: str, task: str, namespaces: Iterable[dict] = ()) -> Iterator[list[str]]:
    """Inside the block, calling any of `targets` raises ForbiddenCallError naming `task`.

    Classes are blocked at `__init__` (so subclasses and every alias are caught); functions are
    replaced wherever a loaded module, the notebook or `namespaces` binds them. A call that the
    student's code catches and hides is still reported when the block ends.

    Args:
        *targets: dotted names, e.g. `"tensorflow.GradientTape"`; names whose module is not
            installed are skipped (nobody can call what is not there).
        task: what the student was asked to write, for the message.
        namespaces: further dicts to patch, e.g. `student_function.__globals__`.

    Yields:
        The list of forbidden names called so far.
    """
    attempts: list[str] = []
    opened = getattr(_state, "open", [])
    _state.open = opened
    opened.append({"targets": list(targets), "task": task})
    if getattr(_state, "remote", False):
        try:
            yield attempts
        finally:
            opened.pop()
        return

    def make_raiser(label: str, original):
        def raiser(*args, **kwargs):
            if _trusted_now():
                return original(*args, **kwargs)
            attempts.append(label)
            raise ForbiddenCallError(
                f"{task}: you were asked to implement this yourself, not call {label}."
            )
        return raiser

    undo: list[tuple[Any, str, Any, bool]] = []  # (owner, attribute, old value, was own attribute)
    try:
        resolved = [(t, _resolve(t)) for t in targets]
        resolved = [(t, r) for t, r in resolved if r is not None]
        roots = {t.split(".")[0] for t, _ in resolved}
        roots |= {getattr(obj, "__module__", "").split(".")[0] for _, (_, _, obj) in resolved}
        roots.discard("")
        spaces = _namespaces(roots, namespaces)
        for label, (_owner, _attribute, obj) in resolved:
            if inspect.isclass(obj):
                own = "__init__" in obj.__dict__
                undo.append((obj, "__init__", obj.__dict__.get("__init__"), own))
                raiser = make_raiser(label, obj.__init__)
                # `self` named first: Keras reads the argument names of a layer's __init__.
                obj.__init__ = lambda self, *a, _r=raiser, **k: _r(self, *a, **k)
                continue
            raiser = make_raiser(label, obj)
            for space in spaces:
                for key, value in list(space.items()):
                    if value is obj:
                        undo.append((space, key, value, True))
                        space[key] = raiser
        yield attempts
    finally:
        opened.pop()
        for owner, attribute, old, was_own in reversed(undo):
            if isinstance(owner, dict):
                owner[attribute] = old
            elif was_own:
                setattr(owner, attribute, old)
            else:
                delattr(owner, attribute)
    if attempts:
        raise ForbiddenCallError(
            f"{task}: you were asked to implement this yourself, not call {attempts[0]} "
            "(the call was caught inside your code, but it was made)."
        )
