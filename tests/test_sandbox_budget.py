"""What rnn-grade says at start (isolation, budgets) and the notebook budget from the solution.

A hang cannot multiply its cost (one more cell limit after the first timeout): that is shown on a
graded class in test_sandbox_attacks.py (``test_a_hang_costs_about_two_cell_timeouts``). Here:
the budgets derived from ``solution-times.json``, that a budget reaches the kernel, and that
without bubblewrap ``rnn-grade autograde`` warns once, names what is not protected, and grades
as before.
"""

import shutil
from pathlib import Path

import nbformat
import pytest

import sample_class
from autograder.cli import main
from autograder.course import budget
from autograder.course.folder import Course
from autograder.grading.batch import autograde
from autograder.grading.limits import Limits
from autograder.sandbox import bwrap, isolation

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "tiny_course"
LIMIT_ARGS = ["--timeout", "20", "--setup-timeout", "60", "--memory-mb", "500"]


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Course:
    where = tmp_path_factory.mktemp("budget")
    shutil.copytree(FIXTURE_COURSE, where / "course")
    course = Course(str(where / "course"))
    course.build_release()
    return course


def test_budgets_are_a_multiple_of_the_solutions_time_with_a_floor(tmp_path):
    budget.save(tmp_path, {"fast": 0.5, "slow": 30.0})
    budgets, lines = budget.budgets(tmp_path, ["fast", "slow", "unmeasured"], default=600)
    assert budgets == {"fast": budget.FLOOR, "slow": 30.0 * budget.FACTOR, "unmeasured": 600}
    assert lines[1] == f"slow: 300 s ({budget.FACTOR} x the solution's 30.0 s, at least 60 s)"
    assert "no solution time measured" in lines[2]
    (tmp_path / budget.FILE).write_text("{not json")
    assert budget.load(tmp_path) == {}  # a damaged file means: not measured


def test_a_budget_reaches_the_kernel(course, tmp_path):
    correct = sample_class.correct_notebook(
        nbformat.read(course.source_path("tiny1"), as_version=4), course.release_notebook("tiny1"))
    answer = next(c for c in correct.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                  == "square")
    answer.source = "import time\ntime.sleep(4)\n" + answer.source
    (tmp_path / "subs").mkdir()
    nbformat.write(correct, tmp_path / "subs" / "slow_tiny1.ipynb")
    limits = Limits(cell_timeout=30, setup_timeout=60, notebook_timeout=600, memory_mb=500)
    [result] = autograde(course, str(tmp_path / "subs"), jobs=1, limits=limits,
                         progress=False, budgets={"tiny1": 1.5})
    assert "time limit hit in square" in result.reasons, result.reasons


def test_the_start_says_which_isolation_and_budgets(course, tmp_path, capsys):
    budget.save(course.root, {"tiny1": 2.0})
    sample_class.make_class(course, str(tmp_path / "class"), ["tiny1"], ["correct"])
    assert main(["--course", course.root, "autograde", str(tmp_path / "class"), "--jobs", "1",
                 "--no-progress", *LIMIT_ARGS]) == 0
    out = capsys.readouterr().out
    found = bwrap.probe()
    isolation_line = next(line for line in out.splitlines() if line.startswith("isolation:"))
    if isinstance(found, str):
        assert found in isolation_line
    else:
        assert "bubblewrap" in isolation_line and "processes:" in isolation_line
    assert "tiny1: 60 s (10 x the solution's 2.0 s, at least 60 s)" in out
    assert "tiny2: 600 s (default" in out


def test_without_bubblewrap_it_warns_once_and_grades_as_before(course, tmp_path, capsys,
                                                               monkeypatch):
    monkeypatch.setattr(bwrap, "probe", lambda: "bubblewrap (bwrap) is not installed")
    sample_class.make_class(course, str(tmp_path / "class"), ["tiny1"], ["correct", "empty"])
    csv_path = tmp_path / "grades.csv"
    assert main(["--course", course.root, "autograde", str(tmp_path / "class"), "--jobs", "2",
                 "--no-progress", "--csv", str(csv_path), *LIMIT_ARGS]) == 0
    captured = capsys.readouterr()
    assert "isolation: none (audit hook only: bubblewrap (bwrap) is not installed)" in \
        captured.out
    warnings = [line for line in captured.err.splitlines() if "no OS sandbox" in line]
    assert len(warnings) == 1 and "network" in warnings[0] and "gradebook" in warnings[0]
    scores = {row.split(",")[0]: row for row in csv_path.read_text().splitlines()[1:]}
    assert ",3" in scores["correct"] and ",0" in scores["empty"], scores


def test_asking_for_bwrap_where_it_cannot_run_is_a_clear_error(course, tmp_path, capsys,
                                                               monkeypatch):
    monkeypatch.setattr(bwrap, "probe", lambda: "bubblewrap (bwrap) is not installed")
    sample_class.make_class(course, str(tmp_path / "class"), ["tiny1"], ["correct"])
    assert main(["--course", course.root, "autograde", str(tmp_path / "class"), "--sandbox",
                 "bwrap", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert "--sandbox bwrap: bubblewrap (bwrap) is not installed" in err
    assert "apt-get install bubblewrap" in err


def test_the_start_line_names_a_protection_the_tests_switched_off(monkeypatch):
    # The negative controls' switch (test_sandbox_attacks): never silent where it is set.
    monkeypatch.setenv(isolation.LAYERS_OFF, "audit-hook,guard")
    assert isolation.choose("none").summary().endswith(
        "; TESTING ONLY, switched off: audit-hook, guard")
    monkeypatch.setenv(isolation.LAYERS_OFF, "sandbox")
    with pytest.raises(ValueError, match="unknown sandbox"):
        isolation.choose("none").summary()
    monkeypatch.delenv(isolation.LAYERS_OFF)
    assert "TESTING" not in isolation.choose("none").summary()
