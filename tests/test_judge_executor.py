"""The judge inside the executor, on a small nbgrader notebook (numpy only): the kernel runs
only the visible part, the judge's failure is the cell's first output, a number a hidden block
ends with is the cell's partial credit, a hanging answer costs the calls of one cell, and the
autograded notebook keeps the whole source for the instructor."""

import dataclasses
import logging

import nbformat
from nbgrader.utils import compute_checksum, determine_grade

from autograder.grading.pipeline import grade_notebook
from autograder.judge import hidden as hidden_tests
from nbgrader_notebooks import HIDDEN, by_id, release, source_cells, task

LOG = logging.getLogger("test")
LIMITS = {"cell_timeout": 4, "setup_timeout": 60, "memory_mb": 1000}


# An answer cell after the test cell looks for the hidden block in the kernel's history and
# linecache (the marker is built at run time, so the spy does not find itself).
SPY = """def add(a, b):
    return a + b
import linecache, sys
_marker = "BEGIN " + "HIDDEN"
_seen = [str(v) for v in sys.modules["__main__"].__dict__.get("In", [])]
_seen += ["".join(e[2]) for e in linecache.cache.values() if len(e) > 2]
print("kernel saw hidden:", any(_marker in text for text in _seen))
"""


def _grade(square: str, hidden: str, add: str = "def add(a, b):\n    return a + b"):
    cells = source_cells()
    source = cells["square_values"].source.replace(HIDDEN, hidden)
    stored = nbformat.from_dict({**by_id(release())["square_values"], "source": source})
    cells["square_values"] = dataclasses.replace(cells["square_values"], source=source,
                                                 checksum=compute_checksum(stored))
    t = task(release(square=square, add=add), **LIMITS)
    graded = grade_notebook(dataclasses.replace(t, source_cells=cells))
    assert graded.findings.stopped is None, graded.findings.stopped
    return graded, by_id(nbformat.reads(graded.notebook, as_version=4))


RIGHT = "def square(x):\n    return x ** 2"


def test_the_kernel_never_runs_the_hidden_block_and_its_failure_comes_first():
    hidden = ("### BEGIN HIDDEN TESTS\n"
              "import sys\n"
              "print('judge ran in', sys.argv[0] != '' and 'the grading process')\n"
              "assert square(np.array([-3.0]))[0] == 10.0, 'the hidden check fails first'\n"
              "### END HIDDEN TESTS")
    graded, cells = _grade(RIGHT, hidden, add=SPY)
    outputs = cells["square_values"].outputs
    assert outputs[0].output_type == "error" and outputs[0].evalue == "the hidden check fails first"
    assert determine_grade(cells["square_values"], LOG)[0] == 0
    assert "### BEGIN HIDDEN TESTS" in cells["square_values"].source  # kept for the instructor
    printed = "".join(o.get("text", "") for c in cells.values() for o in c.get("outputs", []))
    assert "kernel saw hidden: False" in printed and "judge ran in the grading process" in printed
    assert determine_grade(cells["add_values"], LOG)[0] == 1.0
    assert graded.findings.execution.judge_calls == 1 and graded.findings.execution.judge_s > 0


def test_a_number_the_hidden_block_ends_with_is_the_cell_s_partial_credit():
    hidden = ("### BEGIN HIDDEN TESTS\n"
              "right = [square(np.array([v]))[0] == v * v for v in (2.0, -3.0, 4.0, -5.0)]\n"
              "2 * sum(right) / len(right)\n"
              "### END HIDDEN TESTS")
    _, cells = _grade("def square(x):\n    return x * abs(x)", hidden)
    assert determine_grade(cells["square_values"], LOG) == (1.0, 2.0)


def test_a_hanging_answer_costs_the_calls_of_one_cell_and_grading_goes_on():
    hangs = "def square(x):\n    while x[0] < 0:\n        pass\n    return x ** 2"
    hidden = ("### BEGIN HIDDEN TESTS\n"
              "assert square(np.array([-3.0]))[0] == 9.0\n"
              "### END HIDDEN TESTS")
    graded, cells = _grade(hangs, hidden)
    first = cells["square_values"].outputs[0]
    assert first.ename == "CallTimeout" and "did not return within" in first.evalue
    assert determine_grade(cells["add_values"], LOG)[0] == 1.0  # the kernel still answers
    assert graded.findings.execution.died is None


def test_negative_control_with_the_hidden_block_in_the_kernel_the_student_s_code_reads_it(
        monkeypatch):
    monkeypatch.setattr(hidden_tests, "HIDDEN_IN_KERNEL", hidden_tests.HIDDEN_IN_KERNEL | {"tiny"})
    hidden = ("### BEGIN HIDDEN TESTS\n"
              "assert square(np.array([-3.0]))[0] == 9.0\n"
              "### END HIDDEN TESTS")
    _, cells = _grade(RIGHT, hidden, add=SPY)
    printed = "".join(o.get("text", "") for c in cells.values() for o in c.get("outputs", []))
    assert "kernel saw hidden: True" in printed



HIDES_ERRORS = ("get_ipython().set_custom_exc((BaseException,), lambda *args, **kwargs: None)\n"
                "def add(a, b):\n"
                "    return a - b")


def test_a_failure_whose_display_the_student_hid_still_fails():
    # The answer cell hides every later exception's display; the kernel's reply still says
    # "error", and nbgrader's Execute (which rnn-grade's executor extends) records it.
    _, cells = _grade(RIGHT, HIDDEN, add=HIDES_ERRORS)
    assert [o.ename for o in cells["add_values"].outputs if o.output_type == "error"] == [
        "AssertionError"]
    assert determine_grade(cells["add_values"], LOG)[0] == 0


def test_negative_control_a_plain_notebook_client_loses_the_hidden_failure():
    import nbclient

    nb = release(square=RIGHT, add=HIDES_ERRORS)
    nbclient.NotebookClient(nb, allow_errors=True, kernel_name="python3", timeout=60).execute()
    cells = by_id(nb)
    assert not [o for o in cells["add_values"].outputs if o.output_type == "error"]
    assert determine_grade(cells["add_values"], LOG)[0] == 1


def test_hidden_checks_after_failed_visible_ones_do_not_run_and_the_visible_message_comes_first():
    # The tiny course's square_values: visible assert, then the hidden block (as nbgrader runs
    # a cell, the hidden part is never reached when the visible part fails).
    graded, cells = _grade("def square(x):\n    return x + 1",
                           "### BEGIN HIDDEN TESTS\n"
                           "assert False, 'the hidden block ran'\n"
                           "### END HIDDEN TESTS")
    errors = [o for o in cells["square_values"].outputs if o.output_type == "error"]
    assert len(errors) == 1 and "the hidden block ran" not in errors[0].evalue, errors
    assert determine_grade(cells["square_values"], LOG)[0] == 0


def test_hidden_first_or_not():
    hidden = "### BEGIN HIDDEN TESTS\nx\n### END HIDDEN TESTS"
    assert hidden_tests.hidden_comes_first('"""doc."""\n# why\n' + hidden)
    assert not hidden_tests.hidden_comes_first("y = 1\n" + hidden)
    assert not hidden_tests.hidden_comes_first("y = 1")
