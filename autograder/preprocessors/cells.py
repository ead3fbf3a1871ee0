"""What the grading steps need to know about a notebook cell: its grade id and role, and the
error output that fails a test cell (nbgrader scores a cell with an error output 0)."""

from nbformat.v4 import new_output
from nbgrader.utils import is_grade, is_solution


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_setup(cell) -> bool:
    """A set-up cell (grade id ``setup_*``): it imports what the notebook uses."""
    return (grade_id(cell) or "").startswith("setup_")


def is_test(cell) -> bool:
    """A test cell: graded code the student does not write."""
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


def error_output(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])
