"""One notebook's judge: its hidden blocks run in this process, against proxies of the answers.

Made by the executor once the notebook's set-up cells ran in the kernel; `run(grade_id, hidden)`
is called after the kernel ran the visible part of each test cell that has a hidden block, and
returns the `Verdict` the executor writes into that cell's outputs.
"""

from __future__ import annotations

import ast
import builtins
import contextlib
import io
import time
from dataclasses import dataclass
from typing import Callable

from rnn_course_student.forbidden import remote_only

from . import hidden as cells
from .channel import Channel
from .proxies import ClassProxy, FunctionProxy

ANSWERS = "__judge_answers__"  # the namespace's {answer name: proxy}, for stand-in detection
KEEP_SETUP_QUIET = "quiet_notebook"  # set-up calls this; in the worker it would rewire logging


class JudgeSetupError(RuntimeError):
    """The set-up cells' trusted code failed in the judge: the grader's fault, not the student's."""


@dataclass
class Verdict:
    """What the judge found for one test cell."""

    error: tuple[str, str] | None = None  # (exception type name, message): the cell fails
    score: float | None = None  # a number the hidden block ended with: partial credit
    printed: str = ""  # what the hidden block printed (blame notes, a quiz's wrong items)


def _without_quieting(source: str) -> str:
    """The set-up source without its `quiet_notebook()` call (process-wide logging changes)."""
    tree = ast.parse(source)
    tree.body = [node for node in tree.body if not (
        isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Name) and node.value.func.id == KEEP_SETUP_QUIET)]
    return ast.unparse(tree)


def _run_block(source: str, namespace: dict, filename: str):
    """Runs `source` like a notebook cell: the value of a final expression is returned."""
    tree = ast.parse(source, filename)
    last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
    exec(compile(tree, filename, "exec"), namespace)
    if last is None:
        return None
    return eval(compile(ast.Expression(last.value), filename, "eval"), namespace)


class Judge:
    """The hidden checks of one notebook.

    Args:
        channel: the way to the notebook's kernel.
        setup: the trusted source of the set-up cells (from the gradebook).
        answers: {name: "function" | "class" | "value"} the answer cells define.
        answer_sources: {name: source of the submitted cell that defines it}.
        key_for: grade id -> the key of that check (course secret); None draws a fixed key.
    """

    def __init__(self, channel: Channel, setup: list[str], answers: dict[str, str],
                 answer_sources: dict[str, str] | None = None,
                 key_for: Callable[[str], bytes] | None = None):
        self.channel = channel
        self.setup = setup
        self.answers = answers
        self.answer_sources = answer_sources or {}
        self.key_for = key_for
        self.seconds = 0.0
        self.namespace: dict | None = None

    def _prepare(self) -> dict:
        namespace: dict = {"__name__": "__judge__", "__builtins__": builtins}
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                for i, source in enumerate(self.setup):
                    exec(compile(_without_quieting(source), f"<set-up {i}>", "exec"), namespace)
        except Exception as error:
            raise JudgeSetupError(f"the set-up cells failed in the judge: "
                                  f"{type(error).__name__}: {error}") from error
        proxies = {}
        for name, kind in self.answers.items():
            if kind in ("function", "class"):
                proxy_class = FunctionProxy if kind == "function" else ClassProxy
                proxies[name] = proxy_class(self.channel, name, namespace,
                                            self.answer_sources.get(name, ""))
        namespace.update(proxies)
        namespace[ANSWERS] = proxies
        return namespace

    def run(self, grade_id: str, source: str) -> Verdict:
        """Runs a test cell's hidden block (`source`) and says how the cell fares."""
        started = time.perf_counter()
        try:
            return self._run(grade_id, source)
        finally:
            self.seconds += time.perf_counter() - started

    def _run(self, grade_id: str, source: str) -> Verdict:
        if self.namespace is None:
            self.namespace = self._prepare()
        namespace = self.namespace
        for name in sorted(cells.names_read(source)):
            if self.answers.get(name) == "value":
                try:
                    namespace[name] = self.channel.value(name)
                except Exception as error:  # no value to judge: the check fails, saying why
                    return Verdict(error=(type(error).__name__, str(error) or
                                          f"{name} could not be read from the notebook."))
        printed = io.StringIO()
        key = self.key_for(grade_id) if self.key_for else None
        from course_checks.draws import drawing_from  # the course's checks: grader side only

        try:
            with contextlib.redirect_stdout(printed), remote_only(), \
                    (drawing_from(key) if key else contextlib.nullcontext()):
                value = _run_block(source, namespace, f"<hidden tests of {grade_id}>")
        except Exception as error:  # any failure of a check fails the cell, with its message
            message = str(error) if str(error) or isinstance(error, NotImplementedError) else \
                "a hidden check of this cell failed."
            return Verdict(error=(type(error).__name__, message), printed=printed.getvalue())
        score = float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) \
            else None
        return Verdict(score=score, printed=printed.getvalue())
