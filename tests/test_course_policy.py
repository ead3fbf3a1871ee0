"""The grader takes a course's rules (forbidden calls, modules the guard watches) from the module
the course's nbgrader_config.py names, and knows none of its own (autograder/course/policy.py)."""

import copy
import logging

import pytest
from nbgrader.utils import determine_grade
from traitlets.config import Config

from autograder.course.folder import Course
from autograder.course.policy import Policy, PolicyError, load
from autograder.preprocessors import LimitedExecute
from autograder.sandbox.guard import PROTECTED_ATTRIBUTES, protected
from course_checks import policy as course_policy
from nbgrader_notebooks import by_id, release, resources, task

LOG = logging.getLogger("test")


def config(module: str) -> Config:
    c = Config()
    c.CoursePolicy.module = module
    return c


def test_the_course_names_its_policy_module_and_the_grader_reads_it():
    rules = Course("course").policy
    assert rules == Policy(course_policy.FORBIDDEN, course_policy.PROTECTED_ATTRIBUTES)
    assert "course_checks.testing" in protected(rules.protected_attributes)


def test_a_course_that_names_no_module_has_no_forbidden_calls():
    assert load(Config()) == Policy()
    assert Course("tests/fixtures/tiny_course").policy == Policy()
    assert protected(Policy().protected_attributes) == PROTECTED_ATTRIBUTES


def test_a_module_that_cannot_be_imported_is_named(tmp_path):
    with pytest.raises(PolicyError, match="c.CoursePolicy.module = 'no_such_course.policy'"):
        load(config("no_such_course.policy"))


@pytest.mark.parametrize("table, message", [
    ("FORBIDDEN = {'a1': {'f': 'numpy.square'}}", r"FORBIDDEN\['a1'\] must map"),
    ("FORBIDDEN = {'a1': ['numpy.square']}", r"FORBIDDEN\['a1'\] must map"),
    ("PROTECTED_ATTRIBUTES = {'numpy': 'allclose'}", r"PROTECTED_ATTRIBUTES\['numpy'\] must be"),
])
def test_a_table_of_the_wrong_shape_is_an_error_not_an_empty_rule(tmp_path, monkeypatch,
                                                                   table, message):
    # A string where a list belongs would be read letter by letter and forbid nothing.
    name = f"bad_course_policy_{abs(hash(table))}"  # one module per case: imports are cached
    (tmp_path / f"{name}.py").write_text(table + "\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(PolicyError, match=message):
        load(config(name))


def test_the_courses_modules_are_added_to_the_guards_own():
    table = protected({"numpy": ["square"], "json": ["dumps"], "builtins": "*"})
    assert table["json"] == ["dumps"] and table["builtins"] == "*"
    assert set(table["numpy"]) == {"square", *PROTECTED_ATTRIBUTES["numpy"]}
    assert PROTECTED_ATTRIBUTES["builtins"] != "*"  # the guard's own table is left as it was


@pytest.fixture(scope="module")
def guarded(tmp_path_factory):
    """One submission that replaces colorsys.rgb_to_hsv, graded with and without a course that
    protects it (the negative control: the same answer goes unnoticed when the course names
    nothing)."""
    nb = release(square="import colorsys\ncolorsys.rgb_to_hsv = lambda *a: (9, 9, 9)\n"
                        "def square(x):\n    return np.asarray(x) ** 2")
    cells = by_id(nb)
    cells["setup_imports"].source += "\nimport colorsys"
    cells["square_values"].source += "\nassert colorsys.rgb_to_hsv(1, 0, 0) == (0, 1, 1)"
    runs = {}
    for name, course in {"watched": {"colorsys": ["rgb_to_hsv"]}, "unwatched": {}}.items():
        sandbox = tmp_path_factory.mktemp(name)
        t = task(cell_timeout=30, setup_timeout=60, notebook_timeout=120)
        t.protected = course
        out, res = LimitedExecute().preprocess(copy.deepcopy(nb), resources(t, metadata={
            "path": str(sandbox)}))
        runs[name] = (by_id(out), res["findings"].execution)
    return runs


@pytest.mark.slow
def test_the_guard_watches_the_modules_the_course_names(guarded):
    cells, run = guarded["watched"]
    assert run.patched == {"square_values": ["colorsys.rgb_to_hsv"]}
    assert determine_grade(cells["square_values"], LOG)[0] == 2.0  # run against the original


@pytest.mark.slow
def test_without_the_courses_table_the_same_patch_goes_unnoticed(guarded):
    cells, run = guarded["unwatched"]
    assert run.patched == {}
    assert determine_grade(cells["square_values"], LOG)[0] == 0.0
