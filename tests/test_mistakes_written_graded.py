"""Mistaken answers written as students write them (tests/test_mistakes_written.py), graded end
to end in one batch: rnn-grade's autograde under bubblewrap (the kernel runs the visible checks,
the judge the hidden ones), nbgrader's gradebook, and the feedback pages. Each submission holds
the solution's answers except one exercise's: the first failing message of that exercise names
the mistake, its feedback page shows it, and the points lost are exactly those of that
exercise's cells (no right earlier or later exercise loses any); right answers in unusual forms
get full marks."""

import html
import shutil

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.course.folder import COURSE_DIR, Course
from autograder.feedback.pages import generate
from autograder.grading.batch import autograde
from nbgrader_notebooks import with_answers
from tests.test_mistakes_written import EXERCISES, RIGHT_UNUSUAL, WRITTEN

NOTEBOOKS = {"rnn1": "rnn1_forward", "rnn2": "rnn2_bptt"}
# The answer cell and the graded cells of each exercise in the notebook.
CELLS = {
    "rnn_step_forward": ("rnn_step_forward_answer", ("rnn_step_forward_matches_keras",
                                                     "rnn_step_forward_other_shapes")),
    "rnn_forward": ("rnn_forward_answer", ("rnn_forward_matches_keras", "rnn_forward_other_shapes")),
    "rnn_param_count": ("rnn_param_count_answer", ("rnn_param_count_matches_keras",)),
    "to_column_layout": ("to_column_layout_answer", ("to_column_layout_matches_keras",)),
    "rnn_step_backward": ("rnn_step_backward_answer", ("rnn_step_backward_matches_tape",
                                                       "rnn_step_backward_other_shapes")),
    "rnn_backward": ("rnn_backward_answer", ("rnn_backward_matches_finite_differences",
                                             "rnn_backward_matches_tape", "rnn_backward_other_shapes")),
    "jacobian_norms": ("jacobian_norms_answer", ("jacobian_norms_matches_batch_jacobian",
                                                 "jacobian_norms_other_shapes")),
    "tanh_slope": ("tanh_slope_answer", ("tanh_slope_matches_tape",)),
}
# The batch: of each kind, a mistaken step, a loop with the step inline, a loop over a fixed
# number of steps filled two ways, a loop slip, a count, a layout, BPTT slips, a norm, a slope.
PICKED = [("rnn_step_forward", "recurrent_transposed"), ("rnn_forward", "step_sigmoid"),
          ("rnn_forward", "fixed_length"), ("rnn_forward", "state_before_step"),
          ("rnn_param_count", "recurrent_as_input"), ("to_column_layout", "swapped"),
          ("rnn_step_backward", "bias_not_summed"), ("rnn_backward", "step_no_tanh_derivative"),
          ("rnn_backward", "step_bias_not_summed"), ("rnn_backward", "no_carry"),
          ("jacobian_norms", "frobenius"), ("tanh_slope", "tanh_again")]
BATCH = {f"{e.replace('_', '-')}--{k.replace('_', '-')}": next(w for w in WRITTEN if (w.exercise, w.key) == (e, k))
         for e, k in PICKED}
BATCH.update({f"right-{w.exercise.replace('_', '-')}": w for w in RIGHT_UNUSUAL
              if w.exercise in CELLS})


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{student: {grade_id: (score, max score, first error message, printed text)}, "pages":
    {student: the feedback page's text}}: the whole batch in one autograde run."""
    course = tmp_path_factory.mktemp("course")
    for assignment in NOTEBOOKS.values():
        shutil.copytree(COURSE_DIR / "source" / assignment, course / "source" / assignment)
    shutil.copy(COURSE_DIR / "nbgrader_config.py", course)
    Course(course).build_release(list(NOTEBOOKS.values()))
    for student, written in BATCH.items():
        assignment = NOTEBOOKS[written.assignment]
        name = f"{assignment}.ipynb"
        source = nbformat.read(course / "source" / assignment / name, as_version=4)
        release = nbformat.read(course / "release" / assignment / name, as_version=4)
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        answer = {CELLS[written.exercise][0]: written.source.strip() + "\n"}
        nbformat.write(with_answers(release, source, answer), folder / name)
    the_course = Course(str(course))
    for result in autograde(the_course, str(course / "submitted"), jobs=2, progress=False,
                            sandbox="bwrap"):
        assert result.status == "graded", (result.student, result.reasons)
    for assignment in NOTEBOOKS.values():
        generate(the_course, assignment)  # every student's feedback page
    results, pages = {}, {}
    for student, written in BATCH.items():
        assignment = NOTEBOOKS[written.assignment]
        notebook = nbformat.read(course / "autograded" / student / assignment / f"{assignment}.ipynb",
                                 as_version=4)
        outputs = {c.metadata["nbgrader"]["grade_id"]: c.get("outputs", []) for c in notebook.cells
                   if c.metadata.get("nbgrader", {}).get("grade_id")}
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
            submission = gradebook.find_submission_notebook(assignment, assignment, student)
            results[student] = {
                g.name: (g.auto_score, g.max_score,
                         next((o.evalue for o in outputs[g.name] if o.output_type == "error"), ""),
                         "".join(o.get("text", "") for o in outputs[g.name] if o.output_type == "stream"))
                for g in submission.grades if g.cell.cell_type == "code" and g.auto_score is not None}
        with open(the_course.feedback_path(student, assignment)) as page:
            pages[student] = html.unescape(page.read())
    return {"results": results, "pages": pages}


pytestmark = [pytest.mark.slow,
              # nbgrader 0.9.6 trips SQLAlchemy 2's autoflush warning when it creates a submission.
              pytest.mark.filterwarnings("ignore:Object of type <Submitted:sqlalchemy.exc.SAWarning")]
MISTAKEN = [s for s, w in BATCH.items() if w.key]


@pytest.mark.parametrize("student", MISTAKEN)
def test_the_first_failing_message_names_the_mistake_and_only_its_cells_lose_points(graded, student):
    written = BATCH[student]
    grades = graded["results"][student]
    cells = CELLS[written.exercise][1]
    lost = {g for g, (score, max_score, _, _) in grades.items() if score < max_score}
    assert lost == set(cells), (lost, {g: grades[g][2] for g in lost})
    words = f"{written.exercise}: {EXERCISES[written.exercise][1].mistake(written.key).message}."
    first = grades[cells[0]][2]  # the cell whose hidden test runs the catalogue first
    assert first == words or first.startswith(words + " That is not the only"), first
    assert words in graded["pages"][student]


@pytest.mark.parametrize("student", [s for s in BATCH if s not in MISTAKEN])
def test_a_right_answer_in_an_unusual_form_gets_full_marks(graded, student):
    grades = graded["results"][student]
    assert all(score == max_score for score, max_score, _, _ in grades.values()), grades
