"""The judge of one graded notebook, as the executor uses it: made from the notebook and its task,
and its verdict written into a test cell's outputs, where nbgrader's scoring reads it."""

from __future__ import annotations

from collections.abc import Callable

from nbformat import reads
from nbformat.v4 import new_output
from nbgrader.utils import is_solution

from ..judge import hidden
from ..judge.channel import Channel
from ..judge.judge import Judge, Verdict
from ..judge.secret import check_key
from .cells import error_output, grade_id, is_setup, is_test


def has_hidden_tests(nb) -> bool:
    return any(is_test(c) and hidden.has_hidden(c.source) for c in nb.cells)


def judge_for(nb, task, send: Callable[[str, float], str], timeout: float) -> Judge | None:
    """The judge of `nb` (a submission rebuilt on its release), calling its kernel through
    `send`; None when the notebook has no hidden checks or its assignment keeps them in the
    kernel (or the task is the instructor's own notebook)."""
    if not task.judge or task.assignment in hidden.HIDDEN_IN_KERNEL or not has_hidden_tests(nb):
        return None
    answers, sources = {}, {}
    release = reads(task.release, as_version=4) if task.release else nb
    for cell in release.cells:  # the names the exercises define, as the instructor wrote them
        if cell.cell_type == "code" and is_solution(cell):
            answers.update(hidden.defined_names(cell.source))
    for cell in nb.cells:  # the student's cell that defines each (for checks of its source)
        if cell.cell_type == "code" and is_solution(cell):
            for name in hidden.defined_names(cell.source):
                sources.setdefault(name, cell.source)
    setup = [_trusted_source(c, task) for c in nb.cells if c.cell_type == "code" and is_setup(c)]
    key_for = None
    if task.secret:
        def key_for(grade: str) -> bytes:
            return check_key(task.secret, task.assignment, grade, task.student)
    return Judge(Channel(send, timeout=timeout), setup, answers, sources, key_for)


def _trusted_source(cell, task) -> str:
    source_cell = task.source_cells.get(grade_id(cell) or "")
    return source_cell.source if source_cell is not None else cell.source


def apply_verdict(cell, verdict: Verdict) -> None:
    """The judge's verdict in a test cell's outputs: a failure as the first output (it is what
    the student reads first), a partial score as the cell's only numeric result, what the checks
    printed as stdout."""
    outputs = cell.setdefault("outputs", [])
    if verdict.printed:
        outputs.append(new_output("stream", name="stdout", text=verdict.printed))
    if verdict.score is not None:
        outputs[:] = [o for o in outputs if o.get("output_type") != "execute_result"]
        outputs.append(new_output("execute_result", data={"text/plain": repr(verdict.score)},
                                  execution_count=cell.get("execution_count")))
    if verdict.error:
        outputs.insert(0, error_output(*verdict.error))
