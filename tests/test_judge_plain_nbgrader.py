"""Plain `nbgrader autograde`, run from the course folder with the course's nbgrader_config.py,
refuses to grade and names rnn-grade: it would grade only the visible part of the test cells.
The negative control sets the documented override and sees nbgrader grade."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.course.folder import COURSE_DIR
from autograder.preprocessors.refuse import ALLOW
from nbgrader_notebooks import release

BIN = Path(sys.executable).parent
pytestmark = pytest.mark.slow


def _nbgrader(course: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k != ALLOW}
    environment.update(PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **env)
    return subprocess.run([str(BIN / "nbgrader"), *args], cwd=course, env=environment,
                          capture_output=True, text=True, timeout=300)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course's own nbgrader_config.py, a tiny assignment released, one submission."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy(COURSE_DIR / "nbgrader_config.py", course)
    notebook = release(square="def square(x):\n    ### BEGIN SOLUTION\n    return x ** 2\n"
                              "    ### END SOLUTION",
                       add="def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n"
                           "    ### END SOLUTION")
    for cell in notebook.cells:
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "square_values":
            cell.source += ("\n### BEGIN HIDDEN TESTS\nassert square(-3.0) == 9.0\n"
                            "### END HIDDEN TESTS")
    (course / "source" / "tiny").mkdir(parents=True)
    nbformat.write(notebook, course / "source" / "tiny" / "tiny.ipynb")
    made = _nbgrader(course, "generate_assignment", "tiny", "--force")
    assert made.returncode == 0, made.stdout + made.stderr
    (course / "submitted" / "ada" / "tiny").mkdir(parents=True)
    shutil.copy(course / "release" / "tiny" / "tiny.ipynb", course / "submitted" / "ada" / "tiny")
    return course


def test_plain_nbgrader_autograde_refuses_and_names_rnn_grade(course):
    refused = _nbgrader(course, "autograde", "tiny", "--force")
    said = refused.stdout + refused.stderr
    assert "rnn-grade autograde" in said and "only the visible part" in said
    assert not (course / "autograded" / "ada" / "tiny" / "tiny.ipynb").exists()


def test_with_the_override_nbgrader_grades_the_hidden_tests_in_the_kernel(course):
    graded = _nbgrader(course, "autograde", "tiny", "--force", **{ALLOW: "1"})
    assert graded.returncode == 0, graded.stdout + graded.stderr
    assert (course / "autograded" / "ada" / "tiny" / "tiny.ipynb").exists()
