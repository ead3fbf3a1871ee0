"""RebuildOnRelease on its own: the release's cells, the student's answers, each repair named."""

import nbformat
import pytest

from autograder.preprocessors import RebuildOnRelease
from autograder.preprocessors.rebuild import read_submission
from nbgrader_notebooks import by_id, release, resources


def rebuild(sub):
    res = resources()
    nb, res = RebuildOnRelease().preprocess(read_submission(nbformat.writes(sub).encode()), res)
    return nb, res["findings"]


def test_answers_come_from_the_submission_and_an_edited_test_from_the_release():
    sub = release(square="def square(x):\n    return x * x")
    by_id(sub)["square_values"].source = "pass"
    nb, findings = rebuild(sub)
    cells = by_id(nb)
    assert cells["square"].source == "def square(x):\n    return x * x"
    assert cells["square_values"].source == by_id(release())["square_values"].source
    assert findings.repairs == ["test cell square_values was edited (restored and graded)"]


def test_exercises_map_each_test_to_the_answer_above_it():
    _, findings = rebuild(release(square="def square(x):\n    return x * x"))
    assert findings.exercise_of == {"square_values": "square", "add_values": "add"}
    assert findings.answer_sources["square"] == "def square(x):\n    return x * x"


def test_deleted_and_reordered_cells_are_restored_in_the_released_order():
    sub = release()
    sub.cells = [sub.cells[0], sub.cells[4], sub.cells[2], sub.cells[3]]  # add first, no add test
    nb, findings = rebuild(sub)
    assert [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells] == [
        "setup_imports", None, "square", "square_values", "add", "add_values"]
    assert "cells were reordered (the released order was restored)" in findings.repairs
    assert "test cell add_values was deleted (restored and graded)" in findings.repairs


@pytest.mark.filterwarnings("ignore::nbformat.warnings.MissingIDFieldWarning")  # on purpose
def test_every_cell_gets_a_unique_id_even_from_a_release_without_ids():
    old = release()
    for cell in old.cells:
        del cell["id"]  # a notebook from before nbformat 4.5
    res = resources()
    res["task"].release = nbformat.writes(old)
    nb, _ = RebuildOnRelease().preprocess(read_submission(nbformat.writes(release()).encode()),
                                          res)
    ids = [c["id"] for c in nb.cells]
    assert all(ids) and len(set(ids)) == len(ids)
    nbformat.validate(nb)
