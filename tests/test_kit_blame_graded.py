"""Blame through grading itself (`rnn-grade autograde`'s `autograde`, the course's own path): a
right rnn_forward keeps the points of every cell that checks it, visible and hidden, when the
student's rnn_step_forward raises an exception or returns the wrong dtype; the step's own cells
lose theirs. rnn1 is the cheapest notebook to grade."""

import shutil

import nbformat
import pytest

from autograder.course.folder import COURSE_DIR, Course
from autograder.grading.batch import autograde
from autograder.grading.limits import Limits
from tests.test_course_mistakes_graded import FORWARD
from tests.test_kit_blame import MARKER, WRONG

ASSIGNMENT = "rnn1_forward"
KINDS = ("exception", "dtype")
LATER_CELLS = ("rnn_forward_matches_keras", "rnn_forward_other_shapes")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{kind: (Result, printed text of each cell of the graded notebook)}."""
    where = tmp_path_factory.mktemp("blame-graded")
    shutil.copytree(COURSE_DIR / "source" / ASSIGNMENT, where / "course" / "source" / ASSIGNMENT)
    shutil.copy(COURSE_DIR / "nbgrader_config.py", where / "course")
    course = Course(str(where / "course"))
    course.build_release([ASSIGNMENT])
    source = nbformat.read(course.source_path(ASSIGNMENT), as_version=4)
    solutions = {c.metadata["nbgrader"]["grade_id"]:
                 "\n".join(line for line in c.source.splitlines() if not MARKER.match(line))
                 for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    (where / "class").mkdir()
    for kind in KINDS:
        notebook = course.release_notebook(ASSIGNMENT)
        answers = {**solutions, "rnn_step_forward_answer": WRONG["rnn_step_forward"][kind],
                   "rnn_forward_answer": FORWARD.format(start="h_prev")}
        for cell in notebook.cells:
            gid = cell.metadata.get("nbgrader", {}).get("grade_id")
            if gid in answers:
                cell.source = answers[gid]
        nbformat.write(notebook, where / "class" / f"{kind}_{ASSIGNMENT}.ipynb")
    results = autograde(course, str(where / "class"), jobs=2, progress=False,
                        limits=Limits(cell_timeout=120, setup_timeout=300))
    graded = {}
    for result in results:
        printed = {}
        if result.autograded:
            for cell in nbformat.read(result.autograded, as_version=4).cells:
                gid = cell.metadata.get("nbgrader", {}).get("grade_id")
                printed[gid] = "".join(o.get("text", "") for o in cell.get("outputs", [])
                                       if o.output_type == "stream")
        graded[result.student] = (result, printed)
    return graded


@pytest.mark.parametrize("kind", KINDS)
def test_a_right_loop_keeps_every_point_whatever_its_wrong_step_does(graded, kind):
    result, printed = graded[kind]
    maximum = {c.metadata["nbgrader"]["grade_id"]: c.metadata["nbgrader"]["points"]
               for c in nbformat.read(COURSE_DIR / "source" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb",
                                      as_version=4).cells
               if c.metadata.get("nbgrader", {}).get("grade")}
    for grade_id in LATER_CELLS:
        assert result.cells[grade_id] == maximum[grade_id], (kind, grade_id, result)
    assert "rnn_forward is right, but it calls your rnn_step_forward" in (
        printed["rnn_forward_matches_keras"]), printed
    assert result.cells["rnn_step_forward_matches_keras"] == 0, result  # the step's own mistake
