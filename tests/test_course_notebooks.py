"""Every course notebook, solutions filled in, runs top to bottom and passes every one of its tests,
without a byte on stderr (nbgrader scores a test cell with stderr output as 0)."""

import nbformat
import pytest
from nbformat.v4 import new_code_cell
from nbgrader.utils import determine_grade

from autograder.course.build import execute
from autograder.course.folder import COURSE_DIR, Course

IDS = Course(COURSE_DIR).assignments

# Appended after the last cell: the kinds of log output TensorFlow, Keras and Python produce.
# After a notebook's set-up cell, none of them may reach stderr.
NOISE = """
import logging
import warnings

warnings.warn("a deprecation warning", DeprecationWarning)
warnings.warn("a user warning")
logging.getLogger("tensorflow").warning("a TensorFlow log record")
logging.getLogger("keras").warning("a Keras log record")
import absl.logging
absl.logging.warning("an absl log record")
"""


def _stderr(cell):
    return "".join(o.get("text", "") for o in cell.outputs
                   if o.output_type == "stream" and o.name == "stderr")


@pytest.mark.slow
@pytest.mark.parametrize("assignment", IDS)
def test_solution_notebook_runs_and_passes_all_its_tests(assignment, record_property, request):
    folder = COURSE_DIR / "source" / assignment
    notebook = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    notebook.cells.append(new_code_cell(NOISE, metadata={"tags": ["noise"]}))
    for cell in notebook.cells:
        cell.pop("id", None)  # the appended cell's id would not fit the stored nbformat 4.4

    seconds = execute(notebook, folder)  # raises CellExecutionError, with the traceback, on failure

    # Per-notebook run time, for the report (junit XML) and `pytest --cache-show 'course/*/*'`.
    record_property(f"{assignment}_seconds", round(seconds, 1))
    if getattr(request.config, "cache", None) is not None:  # absent under -p no:cacheprovider
        request.config.cache.set(f"course/seconds/{assignment}", round(seconds, 1))
    print(f"{assignment}: executed in {seconds:.1f} s")

    for cell in notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        name = meta.get("grade_id") or cell.metadata.get("tags", ["an ungraded cell"])[0]
        if cell.cell_type != "code":
            continue
        assert not _stderr(cell), f"{assignment} {name} wrote to stderr:\n{_stderr(cell)}"
        if meta.get("grade") and not meta.get("solution"):
            score, max_score = determine_grade(cell)
            assert score == max_score, (
                f"{assignment} {name}: the solution scores {score}/{max_score}")
    noise = notebook.cells[-1]
    assert "a user warning" in "".join(o.get("text", "") for o in noise.outputs), (
        "warnings should still be shown, on stdout")
