"""End to end on the real course (TensorFlow kernels): the first assignment graded by rnn-grade.

A correct submission gets full marks, the handed-out release gets 0, a submission that swaps
numpy's comparisons for no-ops or calls keras.layers.SimpleRNNCell in its forward step gets no
points for that exercise, and the feedback quotes none of the hidden tests. Slow (one TensorFlow
import per notebook): kept to four notebooks.
"""

import html
import re
import shutil
from pathlib import Path

import nbformat
import pytest

import sample_class as samples
from autograder.course.folder import Course
from autograder.feedback.pages import write_feedback
from autograder.grading.batch import autograde
from autograder.grading.limits import Limits
from autograder.preprocessors.scrub import hidden_lines
from autograder.results import FLAGGED, GRADED

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "rnn1_forward"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    if not (REPO / "course" / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists():
        pytest.fail(f"course/source/{ASSIGNMENT} is missing")
    where = tmp_path_factory.mktemp("real-course")
    shutil.copytree(REPO / "course" / "source" / ASSIGNMENT,
                    where / "course" / "source" / ASSIGNMENT)
    shutil.copy(REPO / "course" / "nbgrader_config.py", where / "course")
    course = Course(str(where / "course"))
    course.build_release([ASSIGNMENT])
    samples.make_class(course, str(where / "class"), [ASSIGNMENT],
                       ["correct", "empty", "monkeypatch_numpy", "calls_what_it_implements"])
    results = autograde(course, str(where / "class"), jobs=2, progress=False,
                        limits=Limits(cell_timeout=120, setup_timeout=300))
    return course, {r.student: r for r in results}, where


def test_correct_submission_gets_full_marks(graded):
    _, results, _ = graded
    r = results["correct"]
    assert (r.status, r.score) == (GRADED, r.max_score), r
    assert r.max_score > 0


def test_release_as_handed_out_scores_zero(graded):
    _, results, _ = graded
    assert (results["empty"].status, results["empty"].score) == (GRADED, 0.0)


def test_monkeypatching_numpy_earns_nothing_for_that_exercise(graded):
    _, results, _ = graded
    r = results["monkeypatch_numpy"]
    assert r.status == FLAGGED and r.score < results["correct"].score
    assert any("no points for" in x for x in r.reasons)


def test_feedback_quotes_no_hidden_test(graded):
    course, results, where = graded
    released = "\n".join(cell.source for cell in course.release_notebook(ASSIGNMENT).cells)
    # Lines only the hidden tests have (a hidden test may repeat visible code verbatim).
    secret = {line for line in hidden_lines(nbformat.read(course.source_path(ASSIGNMENT), 4))
              if line not in released}
    assert secret, "the assignment should have hidden tests"
    for r in results.values():
        page = Path(write_feedback(course, [r])[0]).read_text()
        text = html.unescape(re.sub(r"<[^>]+>", "", page))
        own = "\n".join(c.source for c in nbformat.read(
            str(where / "class" / f"{r.student}_{ASSIGNMENT}.ipynb"), 4).cells)  # their code
        leaked = [line for line in secret if line in text and line not in own]
        assert not leaked, (r.student, leaked[:3])


def test_calling_keras_simple_rnn_in_the_forward_step_is_flagged_with_no_points(graded):
    _, results, _ = graded
    r = results["calls_what_it_implements"]
    assert r.status == FLAGGED
    assert any("rnn_step_forward uses keras.layers.SimpleRNNCell" in x for x in r.reasons)
    # the exercise's tests get nothing, though the numbers it returns are right
    assert r.cells["rnn_step_forward_matches_keras"] == 0.0
    assert r.score < results["correct"].score
