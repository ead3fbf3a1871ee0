"""An instructor's round trip on the tiny course: a Canvas zip and gradebook export as
downloaded -> `rnn-grade autograde` (mapping report first, LATE and "not submitted" in the
table) -> `rnn-grade export --canvas` -> `rnn-grade similarity`."""

import csv
import shutil
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

import sample_class as samples
from autograder.cli import main
from autograder.course.folder import Course
from autograder.exports.lms_plugins import CanvasExportPlugin
from lms_samples import canvas_entry, canvas_roster, write_zip

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "tiny_course"
# Generous limits: this test is about mapping and export, not time limits, on a busy machine.
LIMIT_ARGS = ["--timeout", "30", "--setup-timeout", "120", "--notebook-timeout", "120",
              "--memory-mb", "500"]

pytestmark = pytest.mark.slow

STUDENTS = [
    {"Student": "Smith, Bob", "ID": "340934", "SIS User ID": "S1", "SIS Login ID": "bsmith",
     "Section": "A"},
    {"Student": "Lee, Ann", "ID": "340935", "SIS User ID": "S2", "SIS Login ID": "alee",
     "Section": "A"},
    {"Student": "Ng, Kim", "ID": "340936", "Section": "B"},
    {"Student": "Roe, Max", "ID": "340938", "SIS User ID": "S5", "SIS Login ID": "mroe",
     "Section": "B"},
]


def test_canvas_zip_graded_exported_and_compared(tmp_path, capsys):
    shutil.copytree(FIXTURE_COURSE, tmp_path / "course")
    course = Course(str(tmp_path / "course"))
    assert main(["--course", course.root, "release", "tiny1"]) == 0
    release = course.release_notebook("tiny1")
    correct = samples.correct_notebook(nbformat.read(course.source_path("tiny1"), as_version=4),
                                       release)
    ok, empty = nbformat.writes(correct).encode(), nbformat.writes(release).encode()
    zip_path = write_zip(str(tmp_path / "tiny1 submissions.zip"), [
        (canvas_entry(340934, 11, "tiny1.ipynb", "smithbob", late=True), ok),
        (canvas_entry(340935, 12, "tiny1.ipynb", "leeann"), ok),  # older, superseded
        (canvas_entry(340935, 19, "tiny1-1.ipynb", "leeann"), empty),  # graded: the newest
        (canvas_entry(340936, 13, "Copy of tiny1.ipynb", "ngkim"), b"{not json"),
        (canvas_entry(340936, 14, "screenshot.png", "ngkim"), b"\x89PNG"),
    ])
    roster = canvas_roster(str(tmp_path / "gradebook.csv"), STUDENTS,
                           {"tiny1": 501, "Quiz": 502}, points={"tiny1": 3, "Quiz": 5})
    code = main(["--course", course.root, "autograde", zip_path, "--roster", roster,
                 "--assignment", "tiny1", "--jobs", "2", "--no-progress",
                 "--csv", str(tmp_path / "grades.csv"), *LIMIT_ARGS])
    out = capsys.readouterr().out
    assert code == 0, out
    report_at, table_at = out.index("Canvas download"), out.index("student ")
    assert report_at < table_at  # the mapping is shown before anything is graded
    assert "leeann_340935_12_tiny1.ipynb: duplicate" in out
    assert "ngkim_340936_14_screenshot.png: not a notebook (.png)" in out
    assert "tiny1 mroe: not submitted" in out
    with open(tmp_path / "grades.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert (rows["bsmith"]["score"], rows["bsmith"]["status"]) == ("3.0", "flagged")
    assert "submitted late (Canvas)" in rows["bsmith"]["reason"]
    assert rows["alee"]["score"] == "0.0"
    assert (rows["340936"]["score"], rows["340936"]["status"]) == ("", "failed-to-grade")
    assert (rows["mroe"]["score"], rows["mroe"]["status"]) == ("", "not submitted")

    with Gradebook(course.db_url) as gb:  # the roster's names, for the formgrader
        assert (gb.find_student("bsmith").first_name, gb.find_student("bsmith").last_name) == (
            "Bob", "Smith")
        assert gb.find_student("mroe").last_name == "Roe"  # on the roster, nothing submitted
    # An instructor's manual grade in the formgrader (bsmith's first test: 2 of 2 -> 1).
    with Gradebook(course.db_url) as gb:
        gb.find_grade("square_values", "tiny1", "tiny1", "bsmith").manual_score = 1
        gb.db.commit()
    export = str(tmp_path / "canvas-import.csv")
    assert main(["--course", course.root, "export", "--canvas", roster, "--out", export,
                 "--assignment", "tiny1"]) == 0
    out = capsys.readouterr().out
    with open(export, newline="", encoding="utf-8") as f:
        exported = list(csv.reader(f))
    assert exported[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                           "tiny1 (501)"]
    assert exported[1:] == [["Smith, Bob", "340934", "S1", "bsmith", "A", "2"],  # manual
                            ["Lee, Ann", "340935", "S2", "alee", "A", "0"],
                            ["Ng, Kim", "340936", "", "", "B", ""],  # failed: empty, not 0
                            ["Roe, Max", "340938", "S5", "mroe", "B", ""]]
    assert "empty: 340936 / tiny1: failed-to-grade" in out
    # The same file from nbgrader's side, as an ExportPlugin (`nbgrader export --exporter=...`).
    plugin_out = str(tmp_path / "plugin.csv")
    with Gradebook(course.db_url) as gb:
        CanvasExportPlugin(roster=roster, to=plugin_out, assignment=["tiny1"],
                           results=str(tmp_path / "course" / "autograder-results.json")
                           ).export(gb)
    assert Path(plugin_out).read_text() == Path(export).read_text()

    moodle_roster = tmp_path / "participants.csv"
    moodle_roster.write_text("First name,Last name,Username,Email address\n"
                             "Bob,Smith,bsmith,bob@uni.example\nAnn,Lee,alee,ann@uni.example\n"
                             "Kim,Ng,340936,kim@uni.example\n")
    moodle_out = str(tmp_path / "moodle-import.csv")
    assert main(["--course", course.root, "export", "--moodle", str(moodle_roster),
                 "--out", moodle_out, "--assignment", "tiny1"]) == 0
    out = capsys.readouterr().out
    with open(moodle_out, newline="", encoding="utf-8") as f:
        assert list(csv.reader(f)) == [["Email address", "Full name", "tiny1"],
                                       ["bob@uni.example", "Bob Smith", "2"],
                                       ["ann@uni.example", "Ann Lee", "0"]]
    assert "340936: no score in any column" in out  # failed: left out, not 0

    assert main(["--course", course.root, "similarity", "tiny1", "--submissions", zip_path,
                 "--out", str(tmp_path / "sim")]) == 0
    out = capsys.readouterr().out
    assert "not a verdict" in out and (tmp_path / "sim" / "similarity-tiny1.html").exists()
    # Without --submissions: the graded notebooks of the course (bsmith's and alee's).
    assert main(["--course", course.root, "similarity", "tiny1"]) == 0
    out = capsys.readouterr().out
    assert "no code of their own, not compared: alee" in out
    assert (tmp_path / "course" / "similarity" / "similarity-tiny1.csv").exists()
