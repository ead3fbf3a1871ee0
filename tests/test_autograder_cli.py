"""rnn-grade's commands on the tiny fixture course: autograde, feedback, export, check, regrading.

The class is graded through the command line (`autograder.cli.main`), as an instructor would.
"""

import csv
import fcntl
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

import sample_class as samples
from autograder.cli import main
from autograder.course.folder import Course

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "tiny_course"
LIMIT_ARGS = ["--timeout", "5", "--setup-timeout", "60", "--memory-mb", "500"]
HIDDEN_LINES = ["square(np.array([-3.0]))", "negative inputs", "add(np.ones(2), 1)"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """A released tiny course and a small class graded once with `rnn-grade autograde`."""
    root = tmp_path_factory.getbasetemp()
    root = (root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / "autograder-cli"
    root.mkdir(parents=True, exist_ok=True)
    with open(root / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (root / "done").exists():
            shutil.copytree(FIXTURE_COURSE, root / "course")
            course = Course(str(root / "course"))
            assert main(["--course", course.root, "release"]) == 0
            samples.make_class(course, str(root / "class"), ["tiny1"],
                               ["correct", "empty", "only_first_exercise", "invalid_json"])
            code = main(["--course", course.root, "autograde", str(root / "class"), "--feedback",
                         "--jobs", "2", "--no-progress", "--csv", str(root / "grades.csv"),
                         *LIMIT_ARGS])
            assert code == 0
            (root / "done").write_text("ok")
    return root


def _rows(path):
    with open(path) as f:
        return {(r["student"], r.get("assignment")): r for r in csv.DictReader(f)}


def test_grade_table_csv_has_scores_statuses_and_reasons(graded):
    rows = _rows(graded / "grades.csv")
    assert rows[("correct", "tiny1")]["score"] == "3.0"
    assert rows[("empty", "tiny1")]["score"] == "0.0"
    assert rows[("empty", "tiny1")]["status"] == "graded"
    failed = rows[("invalid_json", "tiny1")]
    assert (failed["score"], failed["status"]) == ("", "failed-to-grade")
    assert "not valid JSON" in failed["reason"]


def _text(page: str) -> str:
    """The HTML as a reader sees it (syntax highlighting splits code into many spans)."""
    page = re.sub(r"<style.*?</style>|<script.*?</script>", "", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_feedback_shows_tracebacks_but_no_hidden_test_code(graded):
    pages = {p.parent.parent.name: _text(p.read_text())
             for p in (graded / "course" / "feedback").glob("*/tiny1/tiny1.html")}
    assert set(pages) == {"correct", "empty", "only_first_exercise", "invalid_json"}
    for student, page in pages.items():
        for line in HIDDEN_LINES:
            assert line not in page, (student, line)
    assert "NotImplementedError" in pages["empty"] and "Traceback" in pages["empty"]
    assert "assert_allclose(square(np.array([1.0, 2.0]))" in pages["empty"]  # visible test
    assert "could not be graded" in pages["invalid_json"]
    assert "not valid JSON" in pages["invalid_json"]
    assert "tiny1: graded" in pages["correct"]  # rnn-grade's verdict, above nbgrader's page
    assert "Score: 3.0 / 3.0" in pages["correct"]  # nbgrader's feedback template


def test_plain_nbgrader_feedback_hides_the_hidden_tests_too(graded, tmp_path):
    # The course config gives nbgrader's own generate_feedback the same preprocessors.
    course = tmp_path / "course"
    shutil.copytree(graded / "course", course)
    shutil.rmtree(course / "feedback")
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "generate_feedback", "tiny1",
                           "--force"], cwd=course, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    pages = {p.parent.parent.name: _text(p.read_text())
             for p in (course / "feedback").glob("*/tiny1/tiny1.html")}
    assert {"correct", "empty"} <= set(pages)
    for student, page in pages.items():
        for line in HIDDEN_LINES:
            assert line not in page, (student, line)
    assert "NotImplementedError" in pages["empty"]


def test_export_has_a_column_per_graded_cell(graded, tmp_path):
    out = tmp_path / "export.csv"
    assert main(["--course", str(graded / "course"), "export", "--out", str(out)]) == 0
    with open(out) as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert rows["only_first_exercise"]["tiny1:square_values"] == "2.0"
    assert rows["only_first_exercise"]["tiny1:add_values"] == "0.0"
    assert rows["invalid_json"]["tiny1 status"] == "failed-to-grade"
    assert rows["correct"]["tiny1"] == "3.0"


def test_nbgrader_export_runs_the_same_exporter(graded, tmp_path):
    # The export is an nbgrader ExportPlugin, so nbgrader's own command writes the same CSV.
    ours, theirs = tmp_path / "ours.csv", tmp_path / "theirs.csv"
    assert main(["--course", str(graded / "course"), "export", "--out", str(ours)]) == 0
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([sys.executable, "-m", "nbgrader", "export",
                           "--exporter=autograder.exports.course_csv.CourseCsvExporter",
                           "--to", str(theirs)],
                          cwd=graded / "course", env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert theirs.read_text() == ours.read_text()


def test_regrading_is_idempotent_and_keeps_manual_grades(graded, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(graded / "course", course)
    results_before = json.loads((course / "autograder-results.json").read_text())
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        grade = gb.find_grade("square_values", "tiny1", "tiny1", "empty")
        grade.manual_score = 1.5  # an instructor's override in the formgrader
        gb.db.commit()
    assert main(["--course", str(course), "autograde", str(graded / "class"), "--jobs", "2",
                 "--no-progress", "--csv", str(tmp_path / "again.csv"), *LIMIT_ARGS]) == 0
    results_after = json.loads((course / "autograder-results.json").read_text())

    def unchanged(results):  # all but timings, paths and the hand-graded student's score
        return [{k: v for k, v in r.items() if k not in ("timings", "autograded")}
                for r in results if r["student"] != "empty"]

    assert unchanged(results_before) == unchanged(results_after)
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        grade = gb.find_grade("square_values", "tiny1", "tiny1", "empty")
        assert (grade.auto_score, grade.manual_score, grade.score) == (0.0, 1.5, 1.5)
        assert gb.find_submission("tiny1", "correct").score == 3.0


def test_demo_releases_grades_a_sample_class_and_shows_where_feedback_is(tmp_path, capsys):
    # The README's main command, here on the tiny course (the real one: tests/…_course.py).
    code = main(["--course", str(FIXTURE_COURSE), "demo", "--out", str(tmp_path / "demo"),
                 "--no-progress", "--jobs", "2", "--timeout", "3", "--memory-mb", "500"])
    out = capsys.readouterr().out
    assert code == 0
    assert "correct" in out and "3/3" in out  # the correct submission, full marks
    assert "failed-to-grade" in out and "flagged" in out
    feedback = tmp_path / "demo" / "course" / "feedback"
    assert str(feedback) in out
    assert (feedback / "correct" / "tiny1" / "tiny1.html").exists()
    assert not (FIXTURE_COURSE / "gradebook.db").exists()  # the demo works on a copy
