"""The grading pipeline, declared as lists of nbgrader preprocessors, and the pure worker task.

As in nbgrader's ``Autograde`` converter (``sanitize_preprocessors``, ``autograde_preprocessors``),
each step is a preprocessor and the lists below fix their order. ``grade_notebook`` runs the
first two lists; it is a pure function of a ``GradingTask`` (plain data: the submission's bytes,
the release, the gradebook's cells, the limits) and returns a ``Graded`` (the executed notebook
and the ``Findings``), so it can run in any worker process, local or on a cluster. The third list
writes the gradebook and runs only in the parent, one notebook at a time
(autograder/grading/batch.py).
The feedback steps, run later on the autograded notebook by nbgrader's GenerateFeedback, are
declared beside that converter: ``FEEDBACK_PREPROCESSORS`` in autograder/feedback/pages.py.
"""

import logging
import os
import shutil
import tempfile

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    IgnorePattern,
    LimitOutput,
    SaveAutoGrades,
)
from traitlets.config import Config

from ..preprocessors import (
    LimitedExecute,
    OverwriteCellsFromTask,
    RebuildOnRelease,
    ScanAnswers,
    ZeroCheatedExercises,
)
from ..preprocessors.clean_html import CleanUntrustedHTML
from ..preprocessors.rebuild import read_submission
from . import rebuild_rules
from .task import Findings, Graded, GradingTask

# Worker: from what the student handed in to the notebook that will run.
SANITIZE_PREPROCESSORS = [
    RebuildOnRelease,  # first: the steps after it find every released cell, in order, by grade id
    OverwriteCellsFromTask,  # after the rebuild (cells matched by grade id): hidden tests go in
    ScanAnswers,  # before anything runs; after the overwrite, so it sees the final set-up cells
]
# Worker: run it, then take the points of what cheated.
EXECUTE_PREPROCESSORS = [
    LimitedExecute,  # one fresh sandboxed kernel per notebook
    ZeroCheatedExercises,  # after execution: it reads what the runtime guard and sandbox saw
    # Last: after the kernel produced every output, before the notebook leaves the worker (and
    # is stored in autograded/, which feedback and nbgrader's formgrader render as HTML).
    CleanUntrustedHTML,
]
# Parent only (they write the gradebook): nbgrader's own post-execution steps, in its order.
RECORD_PREPROCESSORS = [
    IgnorePattern,  # before LimitOutput and SaveAutoGrades: drops warnings that are not errors
    ClearMetadataPreprocessor,  # keeps only the nbgrader metadata SaveAutoGrades reads
    LimitOutput,  # before saving: huge outputs would be stored in the autograded notebook
    SaveAutoGrades,  # auto scores only, so manual grades survive regrading
    AssignLatePenalties,  # after the scores exist
]


def config() -> Config:
    """Settings of the steps that differ from their defaults."""
    c = Config()
    c.ClearMetadataPreprocessor.preserve_cell_metadata_mask = {"nbgrader"}
    return c


def quiet(step):
    """nbgrader warns about checksums on every hidden-test cell (nbgrader issue 1961); the
    rebuild reports the real changes, so those warnings are silenced rather than shown."""
    step.log = logging.getLogger("rnn-grade.nbgrader")
    step.log.setLevel(logging.CRITICAL)
    return step


def run_steps(steps, nb, resources, course_config: Config | None = None):
    """Runs each step in order; stops when a step found that the notebook cannot be graded.

    ``course_config`` (the course's nbgrader_config.py) goes to the steps too, so what the course
    asks of nbgrader's own steps (a late-penalty plugin, output limits) applies as in nbgrader.
    """
    c = Config(course_config or {})
    c.merge(config())
    for step in steps:
        if resources["findings"].stopped:
            break
        nb, resources = quiet(step(config=c)).preprocess(nb, resources)
    return nb, resources


def grade_notebook(task: GradingTask) -> Graded:
    """Sanitises and executes one submission in a private folder (pure: no course, no gradebook).

    Never raises for a broken or hostile submission: what went wrong is in the findings.
    """
    findings = Findings()
    try:
        nb = read_submission(task.submission)
    except rebuild_rules.Unreadable as e:
        findings.unreadable = str(e)
        return Graded(None, findings)
    work = tempfile.mkdtemp(prefix=f"rnn-grade-{task.student}-{task.assignment}-")
    sandbox = os.path.join(work, "sandbox")
    resources = {"task": task, "findings": findings, "metadata": {"path": sandbox}}
    try:
        os.makedirs(sandbox)
        for name, data in task.files.items():  # data files the notebook opens
            path = os.path.join(sandbox, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)
        nb, resources = run_steps(SANITIZE_PREPROCESSORS + EXECUTE_PREPROCESSORS, nb, resources)
        return Graded(nbformat.writes(nb), findings)
    except Exception as e:  # the grader failed, not the student: say so
        findings.execution.error = f"{type(e).__name__}: {e}"
        return Graded(None, findings)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def release_files(release_dir: str) -> dict[str, bytes]:
    """The files of a release folder a notebook may open (every file but the notebooks)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(release_dir):
        dirnames[:] = [d for d in dirnames if d != ".ipynb_checkpoints"]
        for name in filenames:
            if not name.endswith(".ipynb"):
                path = os.path.join(dirpath, name)
                with open(path, "rb") as f:
                    out[os.path.relpath(path, release_dir)] = f.read()
    return out
