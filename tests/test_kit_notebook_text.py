"""What the release notebooks say to the student, checked statically (fast): every check's
description (its first comment line, which rnn-check quotes) is one complete sentence; a cell whose
checks are all hidden says "Checked only at grading"; a quiz says "recorded, graded later", never
that it passed; each notebook that indexes states over time says once how steps are counted."""

import re

import nbformat
import pytest

from autograder.course.folder import COURSE_DIR, Course
from rnn_course_student.exercises import description, has_visible_code

IDS = Course(COURSE_DIR).assignments


def _release(assignment):
    return nbformat.read(COURSE_DIR / "release" / assignment / f"{assignment}.ipynb", 4)


def _tests(notebook):
    return [c for c in notebook.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")]


@pytest.mark.parametrize("assignment", IDS)
def test_every_check_description_is_one_complete_sentence(assignment):
    for cell in _tests(_release(assignment)):
        lines = cell.source.splitlines()
        said = description(cell)
        assert lines[0].startswith("# Checks "), (cell.metadata.nbgrader.grade_id, lines[0])
        assert said.endswith("."), said
        assert not re.search(r"\b(and|or|the|a|of|with)\.$", said), said
        assert not (len(lines) > 1 and lines[1].startswith("# ") and lines[1][2:3].islower()), (
            "the description goes on in a second comment line", lines[:2])


@pytest.mark.parametrize("assignment", IDS)
def test_hidden_only_cells_say_so_and_quizzes_say_recorded(assignment):
    for cell in _tests(_release(assignment)):
        if not has_visible_code(cell):
            assert description(cell).endswith("Checked only at grading."), description(cell)
        printed = re.findall(r'print\(f?"([^"]*)"', cell.source)
        if "quiz_score(" in cell.source or any("recorded" in p.lower() for p in printed):
            assert "quiz_score(" in cell.source or any(
                p.endswith("recorded, graded later.") for p in printed), printed
            assert not any("pass" in p.lower() for p in printed), printed


@pytest.mark.parametrize("assignment", ["rnn1_forward", "rnn2_bptt"])
def test_the_notebooks_that_index_states_say_how_steps_are_counted(assignment):
    text = "\n".join(c.source for c in _release(assignment).cells if c.cell_type == "markdown")
    assert text.count("**Counting steps.**") == 1
    assert "`h[:, t]` holds $h_{t+1}$" in text
