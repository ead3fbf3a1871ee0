"""The autograder survives a class of broken and hostile submissions and scores each one right.

One class (tests/fixtures/tiny_course, no TensorFlow; every case generated deterministically by
tests/sample_class.py) is graded once, with two workers and two CPU burners keeping every core
busy; each test then checks one submission's score, status and reason. Student code only ever
runs in sandboxed kernels, never in this process.
"""

import fcntl
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import asdict
from pathlib import Path

import pytest

import sample_class as samples
from autograder.course.folder import Course
from autograder.grading.batch import autograde
from autograder.grading.limits import Limits
from autograder.results import FAILED, FLAGGED, GRADED
from course_checks import policy

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "tiny_course"
LIMITS = Limits(cell_timeout=2, setup_timeout=60, notebook_timeout=20, memory_mb=300)
HOSTILE = list(samples.CASES)
# A forbidden call for the tiny course: square() may not use numpy's own square.
FORBIDDEN_SQUARE = {"tiny1": {"square": ["numpy.square"]}}

pytestmark = pytest.mark.slow


def _shared_dir(tmp_path_factory) -> Path:
    # Shared by the xdist workers of one run, so the class is graded once, not once per worker.
    root = tmp_path_factory.getbasetemp()
    root = root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root
    return root / "autograder-tiny"


def make_course(where: Path) -> Course:
    shutil.copytree(FIXTURE_COURSE, where / "course")
    course = Course(str(where / "course"))
    course.build_release()
    return course


def _grade_class(where: Path) -> dict:
    course = make_course(where)
    subs = where / "submissions"
    samples.make_class(course, str(subs), ["tiny1"], HOSTILE,
                       outside_file=str(where / "ESCAPED.txt"))
    samples.make_class(course, str(subs), ["tiny2"], ["correct", "empty"])
    # Every core busy while grading: a correct notebook must still get full marks.
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    try:
        results = autograde(course, str(subs), jobs=2, limits=LIMITS, progress=False,
                            forbidden={**policy.FORBIDDEN, **FORBIDDEN_SQUARE})
    finally:
        for b in burners:
            b.kill()
    return {"course": course.root, "where": str(where),
            "results": {f"{r.student}/{r.assignment}": asdict(r) for r in results}}


@pytest.fixture(scope="session")
def graded(tmp_path_factory) -> dict:
    shared = _shared_dir(tmp_path_factory)
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "graded.json"
        if not done.exists():
            done.write_text(json.dumps(_grade_class(shared / "run")))
        return json.loads(done.read_text())


def result(graded, name, assignment="tiny1") -> dict:
    return graded["results"][f"{name}/{assignment}"]


def test_correct_submission_gets_full_marks_with_every_core_busy(graded):
    r = result(graded, "correct")
    assert (r["status"], r["score"], r["max_score"]) == (GRADED, 3.0, 3.0), r


def test_slow_setup_cell_never_costs_points(graded):
    # tiny2's locked set-up cell sleeps 3 s, longer than the 2 s cell timeout (nbgrader 0.9.6
    # scored such a notebook 0 for the timed-out import cell).
    r = result(graded, "correct", "tiny2")
    assert (r["status"], r["score"]) == (GRADED, 1.0), r
    assert result(graded, "empty", "tiny2")["score"] == 0.0


def test_empty_submission_is_a_real_zero(graded):
    r = result(graded, "empty")
    assert (r["status"], r["score"], r["reasons"]) == (GRADED, 0.0, []), r


def test_partial_submission_gets_partial_credit(graded):
    r = result(graded, "only_first_exercise")
    assert r["cells"] == {"square_values": 2.0, "add_values": 0.0}


@pytest.mark.parametrize("case, reason", [
    ("invalid_json", "not valid JSON"),
    ("empty_file", "the file is empty"),
    ("wrong_assignment", "notebook of tiny2, not tiny1"),
])
def test_unreadable_submissions_fail_to_grade_without_a_score(graded, case, reason):
    r = result(graded, case)
    assert r["status"] == FAILED and r["score"] is None
    assert reason in r["reasons"][0]


@pytest.mark.parametrize("case, reason", [
    ("altered_metadata", "nbgrader metadata of square_values was altered (points"),
    ("altered_metadata", "unknown grade id 'renamed_by_student'"),
    ("altered_metadata", "test cell add_values was deleted (restored and graded)"),
    ("deleted_test", "test cell square_values was deleted (restored and graded)"),
    ("duplicated_reordered_test", "cell square_values appears twice"),
    ("edited_readonly", "read-only cell setup_imports was edited (restored and graded)"),
])
def test_tampered_structure_is_restored_graded_and_flagged(graded, case, reason):
    r = result(graded, case)
    assert r["status"] == FLAGGED and r["score"] == 3.0, r
    assert any(reason in x for x in r["reasons"]), r["reasons"]


def test_edited_tests_are_restored_so_they_do_not_pass_an_empty_answer(graded):
    r = result(graded, "edited_test")
    assert r["status"] == FLAGGED and r["score"] == 0.0
    assert "test cell square_values was edited (restored and graded)" in r["reasons"]


def test_infinite_loop_costs_one_cell_timeout_and_the_rest_is_graded(graded):
    r = result(graded, "infinite_loop")
    assert r["cells"] == {"square_values": 0.0, "add_values": 1.0}
    assert "time limit hit in square" in r["reasons"]
    assert r["timings"]["student_s"] < 2 * LIMITS.cell_timeout + 5


@pytest.mark.parametrize("case", ["kernel_exit", "segfault", "memory_hog"])
def test_dying_kernel_is_scored_and_reported_not_silently_zero(graded, case):
    r = result(graded, case)
    assert r["status"] == FLAGGED and r["score"] == 0.0
    reason = "memory limit (300 MB) exceeded" if case == "memory_hog" else "the kernel died"
    assert any(reason in x for x in r["reasons"]), r["reasons"]


@pytest.mark.parametrize("case, reason", [
    ("monkeypatch_numpy", "no points for square"),
    ("monkeypatch_helpers", "no points for square"),
    ("calls_what_it_implements", "square uses numpy.square"),
    ("reads_hidden_tests", "reading course files"),
    ("writes_outside", "writing outside the sandbox"),
    ("reads_grader_memory", "reading another process"),
])
def test_cheats_get_no_points_for_that_exercise_and_are_flagged(graded, case, reason):
    r = result(graded, case)
    assert r["status"] == FLAGGED, r
    assert r["cells"]["square_values"] == 0.0
    assert r["cells"]["add_values"] == 1.0  # the honest exercise keeps its point
    assert any(reason in x for x in r["reasons"]), r["reasons"]


def test_monkeypatching_by_dynamic_names_is_caught_at_run_time(graded):
    # globals()[name] = fake cannot be seen statically; the guard sees the set-up name change.
    r = result(graded, "monkeypatch_numpy")
    assert any("<set-up name> assert_allclose" in x for x in r["reasons"]), r["reasons"]


def test_sandbox_kept_the_write_outside_and_the_gradebook_intact(graded):
    assert not os.path.exists(os.path.join(graded["where"], "ESCAPED.txt"))
    db = sqlite3.connect(os.path.join(graded["course"], "gradebook.db"))
    assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_every_submission_got_a_row(graded):
    names = {k.split("/")[0] for k in graded["results"]}
    assert set(HOSTILE) <= names
