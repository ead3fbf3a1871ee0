"""Mistaken submissions graded by rnn-grade into nbgrader's gradebook: the first failing message
names the mistake, a later exercise keeps its points when only an earlier one is wrong, and a
right but differently written answer gets full marks (rnn1, the cheapest notebook to grade)."""

import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.course.folder import COURSE_DIR, Course
from autograder.grading.batch import autograde
from course_checks.mistakes import rnn1
from nbgrader_notebooks import with_answers

ASSIGNMENT = "rnn1_forward"

RIGHT_STEP = '''def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    return np.tanh(x_t @ W_x + h_prev @ W_h + b)
'''
SIGMOID_STEP = '''def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    return 1 / (1 + np.exp(-(x_t @ W_x + h_prev @ W_h + b)))
'''
EINSUM_STEP = '''def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    return np.tanh(np.einsum("bd,dh->bh", x_t, W_x) + np.einsum("bi,ij->bj", h_prev, W_h) + b)
'''
FORWARD = '''def rnn_forward(x, h0, W_x, W_h, b):
    h, h_prev = [], h0
    for t in range(x.shape[1]):
        h_prev = rnn_step_forward(x[:, t], {start}, W_x, W_h, b)
        h.append(h_prev)
    return np.stack(h, axis=1), {{"inputs": x}}
'''

SUBMISSIONS = {
    "sigmoid_step": {"rnn_step_forward_answer": SIGMOID_STEP,
                     "rnn_forward_answer": FORWARD.format(start="h_prev")},
    "state_not_carried": {"rnn_step_forward_answer": RIGHT_STEP,
                          "rnn_forward_answer": FORWARD.format(start="h0")},
    "right_but_different": {"rnn_step_forward_answer": EINSUM_STEP,
                            "rnn_forward_answer": FORWARD.format(start="h_prev")},
}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{student: {grade_id: (score, max score, error message or '', printed text)}}."""
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(COURSE_DIR / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    shutil.copy(COURSE_DIR / "nbgrader_config.py", course)
    Course(course).build_release([ASSIGNMENT])
    name = f"{ASSIGNMENT}.ipynb"
    source = nbformat.read(course / "source" / ASSIGNMENT / name, as_version=4)
    for student, answers in SUBMISSIONS.items():
        release = nbformat.read(course / "release" / ASSIGNMENT / name, as_version=4)
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(with_answers(release, source, answers), folder / name)
    # rnn-grade: the kernel runs the visible parts, its judge the hidden checks, nbgrader scores
    for result in autograde(Course(str(course)), str(course / "submitted"), jobs=2,
                            progress=False):
        assert result.status == "graded", (result.student, result.reasons)
    results = {}
    for student in SUBMISSIONS:
        notebook = nbformat.read(course / "autograded" / student / ASSIGNMENT / name, as_version=4)
        outputs = {c.metadata["nbgrader"]["grade_id"]: c.outputs for c in notebook.cells
                   if c.metadata.get("nbgrader", {}).get("grade_id")}
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
            submission = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            results[student] = {
                g.name: (g.auto_score, g.max_score,
                         next((o.evalue for o in outputs[g.name] if o.output_type == "error"), ""),
                         "".join(o.get("text", "") for o in outputs[g.name]
                                 if o.output_type == "stream"))
                for g in submission.grades if g.cell.cell_type == "code"}
    return results


pytestmark = [pytest.mark.slow,
              # nbgrader 0.9.6 trips SQLAlchemy 2's autoflush warning when it creates a submission.
              pytest.mark.filterwarnings(
                  "ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")]


def test_a_wrong_step_is_named_and_the_right_loop_keeps_its_points(graded):
    grades = graded["sigmoid_step"]
    score, _, message, _ = grades["rnn_step_forward_matches_keras"]
    sigmoid = rnn1.RNN_STEP_FORWARD.mistake("sigmoid")
    assert score == 0 and message == f"rnn_step_forward: {sigmoid.message}."
    for grade_id in ("rnn_forward_matches_keras", "rnn_forward_other_shapes"):
        score, max_score, message, printed = grades[grade_id]
        assert score == max_score, (grade_id, message)
        assert "rnn_forward is right, but it calls your rnn_step_forward" in printed


def test_a_wrong_loop_is_named_and_the_right_step_keeps_its_points(graded):
    grades = graded["state_not_carried"]
    score, _, message, _ = grades["rnn_forward_matches_keras"]
    assert score == 0
    assert message == f"rnn_forward: {rnn1.RNN_FORWARD.mistake('state_not_carried').message}."
    assert all(grades[g][0] == grades[g][1] for g in grades
               if not g.startswith("rnn_forward")), grades


def test_a_right_but_differently_written_submission_gets_full_marks(graded):
    grades = graded["right_but_different"]
    assert all(score == max_score for score, max_score, _, _ in grades.values()), grades
