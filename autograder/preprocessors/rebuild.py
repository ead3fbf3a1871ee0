"""Rebuild the submission on the release: every cell from the release, the answers from the student.

The notebook handed to this step is the submission as read (any JSON with a list of cells); what
comes out is the released notebook with the student's answer cells (and the cells they added)
put back, so edited, deleted, duplicated or reordered test cells, edited read-only cells and
altered nbgrader metadata are undone. Each undo is recorded in ``findings.repairs``; the rules are
in autograder/rebuild_rules.py.
"""

import nbformat
from nbgrader.preprocessors import NbGraderPreprocessor

from ..grading import rebuild_rules


class RebuildOnRelease(NbGraderPreprocessor):
    """The release skeleton with the submission's answers (needs ``resources["task"]``)."""

    def preprocess(self, nb, resources):
        task, findings = resources["task"], resources["findings"]
        release = nbformat.reads(task.release, as_version=4)
        cells = [c for c in nb.get("cells", []) if isinstance(c, dict)]
        prepared = rebuild_rules.rebuild(cells, release)
        findings.repairs.extend(prepared.notes)
        findings.exercise_of = prepared.exercise_of
        findings.answer_sources = prepared.answer_sources
        return prepared.nb, resources


def read_submission(data: bytes):
    """The submission as a notebook node, without validation (rebuilding repairs it).

    Raises:
        rebuild_rules.Unreadable: the file is empty, not JSON, or has no list of cells.
    """
    cells = rebuild_rules.parse_cells(data)
    return nbformat.from_dict({"cells": cells, "metadata": {}, "nbformat": 4,
                               "nbformat_minor": 5})

