"""Small nbgrader notebooks built in memory, for the preprocessor unit tests (no course folder).

Two exercises: ``square`` (tests ``square_values``, with a hidden test) and ``add`` (tests
``add_values``), after a locked set-up cell that imports numpy.
"""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook
from nbgrader.utils import compute_checksum

from autograder.grading.limits import Limits
from autograder.grading.task import Findings, GradingTask, SourceCell
from autograder.sandbox import isolation

HIDDEN = ("### BEGIN HIDDEN TESTS\n"
          "assert_allclose(square(np.array([-3.0])), [9.0], err_msg='hidden: negatives')\n"
          "### END HIDDEN TESTS")
SQUARE_TEST = '"""square squares."""\nassert_allclose(square(np.array([2.0])), [4.0])'
ADD_TEST = '"""add adds."""\nassert add(2, 3) == 5'


def meta(gid, **kw):
    return {"nbgrader": {"grade_id": gid, "schema_version": 3, "grade": False, "solution": False,
                         "locked": False, **kw}}


def release(square="def square(x):\n    raise NotImplementedError()",
            add="def add(a, b):\n    raise NotImplementedError()"):
    """The release, or a submission when ``square``/``add`` are answers."""
    return new_notebook(cells=[
        new_code_cell("import numpy as np\nfrom numpy.testing import assert_allclose",
                      metadata=meta("setup_imports", locked=True)),
        new_markdown_cell("Write square."),
        new_code_cell(square, metadata=meta("square", solution=True)),
        new_code_cell(SQUARE_TEST, metadata=meta("square_values", grade=True, locked=True,
                                                 points=2)),
        new_code_cell(add, metadata=meta("add", solution=True)),
        new_code_cell(ADD_TEST, metadata=meta("add_values", grade=True, locked=True, points=1)),
    ], metadata={"kernelspec": {"name": "python3", "display_name": "Python 3",
                                "language": "python"}})


def source_cells(nb=None) -> dict[str, SourceCell]:
    """The gradebook's view of the release: ``square_values`` holds the hidden test."""
    nb = nb or release()
    cells = {}
    for cell in nb.cells:
        nbg = cell.metadata.get("nbgrader")
        if not nbg:  # nbgrader keeps every graded, answer and locked cell
            continue
        source = cell.source + ("\n" + HIDDEN if nbg["grade_id"] == "square_values" else "")
        stored = nbformat.from_dict({**cell, "source": source})
        cells[nbg["grade_id"]] = SourceCell(nbg["grade_id"], cell.cell_type, source,
                                            nbg["locked"], compute_checksum(stored),
                                            float(nbg["points"]) if nbg["grade"] else None)
    return cells


def task(submission=None, forbidden=None, **limits) -> GradingTask:
    """A task of the tiny notebook, under the sandbox ``auto`` finds here."""
    submission = submission if submission is not None else release()
    data = submission if isinstance(submission, bytes) else nbformat.writes(submission).encode()
    return GradingTask("ada", "tiny", data, nbformat.writes(release()), source_cells(),
                       Limits(**limits), forbidden or {},
                       sandbox=isolation.choose("auto", warn=False))


def resources(t: GradingTask | None = None, **extra) -> dict:
    return {"task": t or task(), "findings": Findings(), **extra}


def by_id(nb) -> dict:
    return {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("grade_id")}


def with_answers(release_nb, source_nb, replaced: dict):
    """`release_nb` with every answer cell from `source_nb`'s solution, except those in
    `replaced` (grade id -> source)."""
    answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source_nb.cells
               if c.metadata.get("nbgrader", {}).get("solution")}
    answers.update(replaced)
    for cell in release_nb.cells:
        if cell.metadata.get("nbgrader", {}).get("solution"):
            cell.source = answers[cell.metadata["nbgrader"]["grade_id"]]
    return release_nb
