"""ScanAnswers on its own: what the student wrote is scanned with the task's forbidden calls."""

from nbformat.v4 import new_code_cell

from autograder.preprocessors import ScanAnswers
from nbgrader_notebooks import release, resources, task


def findings_of(nb, forbidden=None):
    res = resources(task(forbidden=forbidden))
    ScanAnswers().preprocess(nb, res)
    return {(f.kind, f.cell, f.detail) for f in res["findings"].scan}


def test_monkeypatching_in_an_answer_is_found():
    nb = release(square="np.testing.assert_allclose = print\ndef square(x):\n    return x")
    assert ("monkeypatch", "square", "replaces numpy.testing.assert_allclose") in findings_of(nb)


def test_forbidden_calls_come_from_the_task_and_are_scoped_to_their_definition():
    nb = release(square="def square(x):\n    return np.square(x)",
                 add="def add(a, b):\n    return np.square(a) + b")
    found = findings_of(nb, forbidden={"square": ["numpy.square"]})
    assert ("forbidden", "square", "square uses numpy.square, which is what it should implement"
            ) in found
    assert not [f for f in found if f[1] == "add"]  # add may call it
    assert not findings_of(nb)  # no table entry: nothing is forbidden


def test_cells_the_student_added_are_scanned_and_set_up_cells_are_not():
    nb = release()
    nb.cells.insert(3, new_code_cell("import builtins\nbuiltins.len = lambda x: 0"))
    found = findings_of(nb)
    assert ("monkeypatch", "added cell 3", "replaces builtins.len") in found
    assert not [f for f in found if f[1] == "setup_imports"]
