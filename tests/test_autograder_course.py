"""End to end on the real course (TensorFlow kernels): the first assignment graded by rnn-grade.

A correct submission gets full marks, the handed-out release gets 0, a submission that swaps
numpy's comparisons for no-ops gets no points for that exercise, and the feedback quotes none
of the hidden tests. Slow (one TensorFlow import per notebook): kept to three notebooks.
"""

import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder import samples
from autograder.course import Course
from autograder.execute import Limits
from autograder.feedback import hidden_lines, write_feedback
from autograder.grade import FLAGGED, GRADED, autograde

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "rnn1_forward"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not (REPO / "course" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists():
        pytest.fail(f"course/source/{ASSIGNMENT} is missing")
    where = tmp_path_factory.mktemp("real-course")
    shutil.copytree(REPO / "course" / "source" / ASSIGNMENT, where / "course" / "source" / ASSIGNMENT)
    shutil.copy(REPO / "course" / "nbgrader_config.py", where / "course")
    course = Course(str(where / "course"))
    course.release([ASSIGNMENT])
    samples.make_class(course, str(where / "class"), [ASSIGNMENT],
                       ["correct", "empty", "monkeypatch_numpy"])
    results = autograde(course, str(where / "class"), jobs=2, progress=False,
                        limits=Limits(cell_timeout=120, setup_timeout=300))
    return course, {r.student: r for r in results}


def test_correct_submission_gets_full_marks(graded):
    _, results = graded
    r = results["correct"]
    assert (r.status, r.score) == (GRADED, r.max_score), r
    assert r.max_score > 0


def test_release_as_handed_out_scores_zero(graded):
    _, results = graded
    assert (results["empty"].status, results["empty"].score) == (GRADED, 0.0)


def test_monkeypatching_numpy_earns_nothing_for_that_exercise(graded):
    _, results = graded
    r = results["monkeypatch_numpy"]
    assert r.status == FLAGGED and r.score < results["correct"].score
    assert any("no points for" in x for x in r.reasons)


def test_feedback_quotes_no_hidden_test(graded):
    course, results = graded
    released = "\n".join(cell.source for cell in course.release_notebook(ASSIGNMENT).cells)
    # Lines only the hidden tests have (a hidden test may repeat visible code verbatim).
    secret = {line for line in hidden_lines(nbformat.read(course.source_path(ASSIGNMENT), 4))
              if line not in released}
    assert secret, "the assignment should have hidden tests"
    for r in results.values():
        from dataclasses import asdict

        page = Path(write_feedback(course, asdict(r))).read_text()
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        leaked = [line for line in secret if line in text]
        assert not leaked, (r.student, leaked[:3])
