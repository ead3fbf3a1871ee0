"""OverwriteCellsFromTask on its own: nbgrader's OverwriteCells fed from the task, no database."""

from autograder.preprocessors import OverwriteCellsFromTask
from nbgrader_notebooks import HIDDEN, by_id, release, resources


def test_hidden_tests_come_from_the_tasks_cells_without_a_gradebook():
    res = resources()
    assert "nbgrader" not in res  # no db_url: the step must not open a database
    nb, _ = OverwriteCellsFromTask().preprocess(release(), res)
    assert by_id(nb)["square_values"].source.endswith(HIDDEN)


def test_points_lock_and_locked_source_come_back_from_the_tasks_cells():
    sub = release()
    by_id(sub)["add_values"].metadata.nbgrader["points"] = 100
    setup = by_id(sub)["setup_imports"]
    setup.metadata.nbgrader["locked"] = False
    setup.source = "np = None"
    nb, _ = OverwriteCellsFromTask().preprocess(sub, resources())
    cells = by_id(nb)
    assert cells["add_values"].metadata.nbgrader["points"] == 1.0
    assert cells["setup_imports"].metadata.nbgrader["locked"] is True
    assert cells["setup_imports"].source == by_id(release())["setup_imports"].source
    assert "square" in cells  # answer cells keep their grade ids


def test_a_grade_id_the_gradebook_does_not_know_loses_it():
    sub = release()
    by_id(sub)["add_values"].metadata.nbgrader["grade_id"] = "made_up"
    nb, _ = OverwriteCellsFromTask().preprocess(sub, resources())
    assert "made_up" not in by_id(nb)
