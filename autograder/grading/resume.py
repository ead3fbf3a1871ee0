"""Resuming a batch: the submissions already graded are read back, not graded again.

A notebook counts as done when ``record`` finished it: its autograded copy exists, carries the
verdict (status graded or flagged) and the digest of the very file it graded, and the gradebook
has its scores. Anything else (never reached, failed to grade, a different file handed in since)
is graded again. Reading back gives the same Result ``record`` returned (timings aside), so
resuming a finished batch changes nothing.
"""

import hashlib
import os

import nbformat
from nbgrader.api import Gradebook, MissingEntry

from ..course.folder import Course
from ..results import DIGEST_KEY, SCORED, VERDICT_KEY, Result
from .task import GradingTask


def graded_before(course: Course, task: GradingTask) -> Result | None:
    """The Result recorded for this very submission, or None if it must be graded."""
    path = course.autograded_path(task.student, task.assignment)
    if not os.path.exists(path):
        return None
    try:
        verdict = nbformat.read(path, as_version=4).metadata.get(VERDICT_KEY) or {}
    except Exception:  # noqa: BLE001 - a half-written or damaged copy: grade it again
        return None
    if verdict.get("status") not in SCORED or verdict.get(DIGEST_KEY) != hashlib.sha256(
            task.submission).hexdigest():
        return None
    with Gradebook(course.db_url) as gb:
        try:
            sub = gb.find_submission_notebook(task.assignment, task.assignment, task.student)
        except MissingEntry:
            return None
        cells = {grade.name: grade.score for grade in sorted(sub.grades, key=lambda g: g.name)}
        return Result(task.student, task.assignment, verdict["status"],
                      reasons=list(verdict.get("reasons", [])), score=sub.score,
                      max_score=sub.max_score, cells=cells, autograded=path)
