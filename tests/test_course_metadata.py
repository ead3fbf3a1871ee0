"""The course notebooks' nbgrader metadata is valid and follows course/README.md (no execution)."""

import ast
import re
from pathlib import Path

import nbformat
import pytest
from traitlets.config.loader import PyFileConfigLoader

from autograder.course.folder import COURSE_DIR, Course

IDS = Course(COURSE_DIR).assignments
TOTAL = re.compile(r"\*\*Total: (\d+) points\*\*")
GRADE_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# Calls that return None: a test cell may end with one without nbgrader reading a partial grade.
NONE_RETURNING = {"print", "assert_close", "assert_shape", "assert_not_used", "check",
                  "check_blaming_earlier"}
# Calls whose value IS the partial grade: a quiz earns its share of the points per item.
PARTIAL_CREDIT = {"quiz_score"}


def _notebook(assignment):
    path = COURSE_DIR / "source" / assignment / f"{assignment}.ipynb"
    return nbformat.read(path, as_version=4)


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


def _graded(nb):
    return [c for c in nb.cells if _nbgrader(c).get("grade")]


def test_the_course_config_sets_what_grading_the_course_needs():
    config_file = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE_DIR))
    namespace = {"get_config": lambda: config_file.config}
    exec(compile(Path(COURSE_DIR / "nbgrader_config.py").read_text(), "nbgrader_config.py", "exec"),
         namespace)
    # The one list of assignments is course/source itself (Course.assignments).
    assert IDS == Course(str(COURSE_DIR)).assignments
    assert namespace["c"].CourseDirectory.course_id == "rnn-course"
    assert namespace["c"].Execute.timeout >= 120  # a slow TF import must not cost points


@pytest.mark.parametrize("assignment", IDS)
def test_source_notebook_has_no_outputs(assignment):
    for index, cell in enumerate(_notebook(assignment).cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{assignment} cell {index} has outputs: clear them"
            assert cell.execution_count is None, f"{assignment} cell {index} has an execution count"


@pytest.mark.parametrize("assignment", IDS)
def test_nbgrader_metadata_is_schema_3_with_unique_meaningful_grade_ids(assignment):
    ids = []
    for cell in _notebook(assignment).cells:
        meta = _nbgrader(cell)
        if not meta:
            continue
        assert meta.get("schema_version") == 3, f"{meta.get('grade_id')}: schema_version {meta}"
        grade_id = meta.get("grade_id", "")
        assert GRADE_ID.match(grade_id), f"grade id {grade_id!r}: lower-case snake_case expected"
        ids.append(grade_id)
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"{assignment}: duplicate grade ids {duplicates}"


@pytest.mark.parametrize("assignment", IDS)
def test_first_cell_is_a_locked_setup_cell_that_quiets_tensorflow_first(assignment):
    cells = _notebook(assignment).cells
    first_code = next(c for c in cells if c.cell_type == "code")
    meta = _nbgrader(first_code)
    assert meta.get("grade_id", "").startswith("setup_"), "the first code cell must be setup_*"
    assert meta.get("locked") and not meta.get("grade") and not meta.get("solution")
    source = first_code.source
    # quiet_notebook() sets rnn_course_student.environment's variables, which must precede TF.
    for line in ("from rnn_course_student.notebook import quiet_notebook", "quiet_notebook()"):
        assert line in source, f"{assignment}: the set-up cell lacks {line}"
    first_tf_import = min(source.find(m) for m in ("import tensorflow", "import keras")
                          if m in source)
    assert source.find("quiet_notebook()") < first_tf_import, "quiet TensorFlow before importing it"
    others = [_nbgrader(c)["grade_id"] for c in cells[1:] if c is not first_code
              and _nbgrader(c).get("grade_id", "").startswith("setup_")]
    assert not others, f"only the first cell may be a setup_ cell, found {others}"


@pytest.mark.parametrize("assignment", IDS)
def test_points_add_up_to_the_stated_total(assignment):
    nb = _notebook(assignment)
    stated = [int(m) for c in nb.cells if c.cell_type == "markdown"
              for m in TOTAL.findall(c.source)]
    assert len(stated) == 1, f"{assignment}: expected one '**Total: N points**' line"
    points = {_nbgrader(c)["grade_id"]: _nbgrader(c).get("points") for c in _graded(nb)}
    assert all(isinstance(p, (int, float)) and p > 0 for p in points.values()), points
    assert sum(points.values()) == stated[0], f"{assignment}: cells {points} vs total {stated[0]}"


@pytest.mark.parametrize("assignment", IDS)
def test_test_cells_are_locked_commented_and_cannot_award_partial_credit_by_accident(assignment):
    for cell in _graded(_notebook(assignment)):
        meta = _nbgrader(cell)
        if cell.cell_type != "code" or meta.get("solution"):
            continue
        assert meta.get("locked"), f"{meta['grade_id']}: test cells must be read-only"
        assert cell.source.lstrip().startswith("#"), (
            f"{meta['grade_id']}: start with a comment saying what it checks")
        last = ast.parse(cell.source).body[-1]
        if isinstance(last, ast.Expr):
            func = last.value.func if isinstance(last.value, ast.Call) else None
            name = getattr(func, "id", getattr(func, "attr", None))
            assert name in NONE_RETURNING | PARTIAL_CREDIT, (
                f"{meta['grade_id']}: ends with an expression; nbgrader would read its value as a "
                "partial grade")


@pytest.mark.parametrize("assignment", IDS)
def test_answer_cells_mark_their_solution_and_hidden_tests_are_well_formed(assignment):
    nb = _notebook(assignment)
    for cell in nb.cells:
        meta = _nbgrader(cell)
        if meta.get("solution"):
            assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source, (
                f"{meta['grade_id']}: mark the solution with ### BEGIN/END SOLUTION")
            if cell.cell_type == "markdown":
                assert meta.get("grade") and meta.get("points"), (
                    f"{meta['grade_id']}: a written answer is a manually graded cell with points")
        opened = cell.source.count("### BEGIN HIDDEN TESTS")
        assert opened == cell.source.count("### END HIDDEN TESTS")
        if opened:
            assert meta.get("grade") and not meta.get("solution"), (
                f"{meta.get('grade_id')}: hidden tests only in test cells")
    assert any("### BEGIN HIDDEN TESTS" in c.source for c in nb.cells), (
        f"{assignment}: no hidden tests at all")


# Code in a visible message hands out the answer; the formulas belong in the solutions.
FORMULA = re.compile(r"@|\.T\b|\*\*|\bnp\.|1 - h|return_sequences|merge_mode|go_backwards")


@pytest.mark.parametrize("assignment", IDS)
def test_visible_test_messages_name_concepts_not_formulas(assignment):
    release = nbformat.read(COURSE_DIR / "release" / assignment / f"{assignment}.ipynb",
                            as_version=4)
    for cell in _graded(release):
        if cell.cell_type != "code" or _nbgrader(cell).get("solution"):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                assert not FORMULA.search(node.value), (
                    f"{assignment} {_nbgrader(cell)['grade_id']}: a visible message shows code: "
                    f"{node.value!r}")
