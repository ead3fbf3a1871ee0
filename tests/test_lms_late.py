"""A Canvas LATE mark reaches nbgrader's late penalty when the course asks for one.

Canvas's download says LATE but not when; with a due date in the gradebook the file is recorded
one second after it, so the course's LateSubmissionPlugin applies (here penalty_method "zero"),
the table says so, and the LMS export gives the penalised score, as nbgrader's own export does.
"""

import csv
import datetime
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

import sample_class as samples
from autograder.cli import main
from autograder.course.folder import Course
from lms_samples import canvas_entry, canvas_roster, write_zip

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "tiny_course"
LIMIT_ARGS = ["--timeout", "30", "--setup-timeout", "120", "--notebook-timeout", "120",
              "--memory-mb", "500"]
STUDENTS = [{"Student": "Smith, Bob", "ID": "340934", "SIS Login ID": "bsmith", "Section": "A"},
            {"Student": "Lee, Ann", "ID": "340935", "SIS Login ID": "alee", "Section": "A"}]

pytestmark = pytest.mark.slow


def _grade(tmp_path, *, penalty: bool, due: bool):
    shutil.copytree(FIXTURE_COURSE, tmp_path / "course")
    if penalty:
        with open(tmp_path / "course" / "nbgrader_config.py", "a") as f:
            f.write('\nc.LateSubmissionPlugin.penalty_method = "zero"\n')
    course = Course(str(tmp_path / "course"))
    assert main(["--course", course.root, "release", "tiny1"]) == 0
    if due:
        with Gradebook(course.db_url) as gb:
            gb.update_or_create_assignment("tiny1", duedate=datetime.datetime(2026, 11, 1, 12))
    release = course.release_notebook("tiny1")
    correct = nbformat.writes(samples.correct_notebook(
        nbformat.read(course.source_path("tiny1"), as_version=4), release)).encode()
    zip_path = write_zip(str(tmp_path / "submissions.zip"), [
        (canvas_entry(340934, 11, "tiny1.ipynb", "smithbob", late=True), correct),
        (canvas_entry(340935, 12, "tiny1.ipynb", "leeann"), correct)])
    roster = canvas_roster(str(tmp_path / "gradebook.csv"), STUDENTS, {"tiny1": 501})
    assert main(["--course", course.root, "autograde", zip_path, "--roster", roster,
                 "--jobs", "2", "--no-progress", "--csv", str(tmp_path / "grades.csv"),
                 *LIMIT_ARGS]) == 0
    with open(tmp_path / "grades.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    return course, roster, rows


def test_a_late_canvas_file_gets_the_courses_late_penalty(tmp_path):
    course, roster, rows = _grade(tmp_path, penalty=True, due=True)
    assert rows["alee"]["score"] == "3.0"
    assert rows["bsmith"]["score"] == "0.0"
    assert "late penalty -3 (nbgrader's late-submission plugin; 3 before it)" in (
        rows["bsmith"]["reason"])
    with Gradebook(course.db_url) as gb:
        late = gb.find_submission("tiny1", "bsmith")
        assert late.total_seconds_late == 1  # the least lateness the LATE mark allows
        assert gb.find_submission("tiny1", "alee").total_seconds_late == 0
    export = str(tmp_path / "canvas-import.csv")
    assert main(["--course", course.root, "export", "--canvas", roster, "--out", export,
                 "--assignment", "tiny1"]) == 0
    with open(export, newline="", encoding="utf-8") as f:
        scores = {row[3]: row[-1] for row in csv.reader(f)}
    assert (scores["bsmith"], scores["alee"]) == ("0", "3")


def test_without_a_due_date_no_penalty_is_applied_and_the_table_says_why(tmp_path):
    _, _, rows = _grade(tmp_path, penalty=True, due=False)
    assert rows["bsmith"]["score"] == "3.0"
    assert "no late penalty: the assignment has no due date" in rows["bsmith"]["reason"]
