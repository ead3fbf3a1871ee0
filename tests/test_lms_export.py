"""Grades back out: the CSV files pass the checks Canvas's and Moodle's importers make.

``canvas_import`` restates canvas-lms ``lib/gradebook_importer.rb`` (header check, student
column count, assignment columns by ``Title (id)``, Points Possible row, student lookup by ID);
``moodle_import`` restates Moodle's ``grade/import/csv`` (every row must name a known user;
an empty cell or ``-`` is "no grade"). The round trip starts from a generated Canvas download.
"""

import csv
import os
import re

import nbformat
import pytest

from autograder.exports.lms_csv import canvas_csv, moodle_csv
from autograder.lms import canvas, moodle
from autograder.lms.mapping import discover
from autograder.results import GRADED, Result
from lms_samples import canvas_entry, canvas_roster, moodle_worksheet, write_zip


def grade(student, assignment, score, max_score=None, status=GRADED) -> Result:
    """A row of the exports: one Result with a score."""
    return Result(student, assignment, status, score=score, max_score=max_score)


TINY = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_course", "source")
COMPUTED = ("Current Score", "Current Points", "Current Grade", "Final Score", "Final Points",
            "Final Grade", "Override Score", "Override Grade", "Override Status")


def canvas_import(path, known_ids: set[str], known_assignments: dict[int, str]):
    """What Canvas would read: ({assignment id or new title: points}, {user id: {col: grade}})."""
    with open(path, newline="", encoding="utf-8") as f:
        text = f.read()
    first = text.splitlines()[0]
    sep = ";" if len(first.split(";")) > len(first.split(",")) else ","
    rows = list(csv.reader(text.splitlines(), delimiter=sep))
    header = rows[0]
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1], header
    n = 3
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        n += 1
    elif re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        i = 1 if re.search(r"Integration\s+ID", header[4]) else 0
        n += 2 + i
        if re.search(r"Root\s+Account", header[3 + 1 + i]):
            n += 1
    assert "Section" in header[n - 1], f"column {n - 1} must be Section: {header}"
    columns = {}
    for j, h in enumerate(header[n:], start=n):
        if any(c in h for c in COMPUTED):
            continue
        m = re.fullmatch(r"(.*)\s\((\d+)\)", h)
        key = int(m[2]) if m and int(m[2]) in known_assignments else (
            next((i for i, t in known_assignments.items() if t == h), None) or f"new:{h}")
        columns[j] = key
    points, grades = {}, {}
    for row in rows[1:]:
        if "Points Possible" in row[0]:
            points = {columns[j]: row[j] for j in columns}
            continue
        assert row[1] in known_ids, f"Canvas would not find student ID {row[1]!r}"
        grades[row[1]] = {columns[j]: row[j].strip() for j in columns}
    return points, grades


def moodle_import(path, known_emails: set[str]):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    header = rows[0]
    assert header[0] == "Email address"
    out = {}
    for row in rows[1:]:
        assert row[0] in known_emails, f"Moodle aborts the import: unknown user {row[0]!r}"
        out[row[0]] = {h: (None if v in ("", "-") else float(v))
                       for h, v in zip(header[2:], row[2:], strict=True)}
    return out


STUDENTS = [
    {"Student": "Smith, Bob", "ID": "340934", "SIS User ID": "S1", "SIS Login ID": "bsmith",
     "Section": "A"},
    {"Student": "Lee, Ann", "ID": "340935", "SIS User ID": "S2", "SIS Login ID": "alee",
     "Section": "A"},
    {"Student": "Ng, Kim", "ID": "340936", "Section": "B"},
    {"Student": "Roe, Max", "ID": "340938", "SIS User ID": "S5", "SIS Login ID": "mroe",
     "Section": "B"},
]


@pytest.fixture
def graded_class(tmp_path):
    """A Canvas download mapped with its roster, and grades as the grader would record them."""
    releases = {a: nbformat.read(os.path.join(TINY, a, f"{a}.ipynb"), as_version=4)
                for a in ("tiny1", "tiny2")}
    nb = nbformat.writes(releases["tiny1"]).encode()
    zip_path = write_zip(str(tmp_path / "s.zip"), [
        (canvas_entry(340934, 1, "tiny1.ipynb", "smithbob", late=True), nb),
        (canvas_entry(340935, 2, "tiny1.ipynb", "leeann"), nb),
        (canvas_entry(340936, 3, "tiny1.ipynb", "ngkim"), nb)])
    roster = canvas.read_roster(canvas_roster(str(tmp_path / "gb.csv"), STUDENTS,
                                              {"Tiny 1": 101, "Quiz 1": 102},
                                              points={"Tiny 1": 3, "Quiz 1": 10}))
    m = discover(zip_path, ["tiny1", "tiny2"], releases, roster=roster)
    scores = {"bsmith": (2.5, "graded"), "alee": (None, "failed-to-grade"),
              "340936": (3.0, "flagged")}
    grades = [grade(s.student, s.assignment, *[scores[s.student][0], 3.0,
                                               scores[s.student][1]])
              for s in m.submissions]
    grades += [grade(s, a, None, 3.0, "not submitted") for s, a in m.not_submitted]
    return roster, grades


def test_canvas_round_trip_passes_the_importer_column_by_column(tmp_path, graded_class):
    roster, grades = graded_class
    out = str(tmp_path / "canvas.csv")
    summary = canvas_csv(roster, grades, out, assignments=["tiny1"], points_possible=True)
    with open(out, newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Tiny 1 (101)"]
    assert summary.columns == {"tiny1": "Tiny 1 (101)"}  # matched to Canvas's own column
    assert rows[1] == ["Points Possible", "", "", "", "", "3"]
    assert rows[2] == ["Smith, Bob", "340934", "S1", "bsmith", "A", "2.5"]
    assert rows[3] == ["Lee, Ann", "340935", "S2", "alee", "A", ""]  # failed: empty, never 0
    assert rows[4] == ["Ng, Kim", "340936", "", "", "B", "3"]
    assert rows[5] == ["Roe, Max", "340938", "S5", "mroe", "B", ""]  # not submitted
    points, imported = canvas_import(out, {s["ID"] for s in STUDENTS},
                                     {101: "Tiny 1", 102: "Quiz 1"})
    assert points == {101: "3"}
    assert imported == {"340934": {101: "2.5"}, "340935": {101: ""}, "340936": {101: "3"},
                        "340938": {101: ""}}
    assert ("alee", "tiny1", "failed-to-grade: no score (fix or regrade it, then export "
            "again)") in summary.empty
    assert ("mroe", "tiny1", "not submitted") in summary.empty
    assert "alee / tiny1: failed-to-grade" in summary.text()


def test_canvas_new_assignment_column_and_points_mismatch_are_said(tmp_path, graded_class):
    roster, grades = graded_class
    grades = grades + [grade("bsmith", "tiny2", 1.0, 1.0)]
    out = str(tmp_path / "canvas.csv")
    summary = canvas_csv(roster, grades, out, assignments=["tiny1", "tiny2"])
    _, imported = canvas_import(out, {s["ID"] for s in STUDENTS},
                                {101: "Tiny 1", 102: "Quiz 1"})
    assert imported["340934"] == {101: "2.5", "new:tiny2": "1"}
    assert any("create a new assignment" in w for w in summary.warnings)
    roster.points_possible["Tiny 1 (101)"] = "100"
    summary = canvas_csv(roster, grades, out, assignments=["tiny1"])
    assert any("worth 100 points in Canvas but 3 here" in w for w in summary.warnings)


def test_canvas_header_without_sis_columns_in_the_roster_is_still_valid(tmp_path):
    path = tmp_path / "nosis.csv"
    path.write_text("Student,ID,Section,Tiny 1 (101)\nSmith, Bob,340934,A,\n".replace(
        "Smith, Bob", '"Smith, Bob"'))
    roster = canvas.read_roster(str(path))
    out = str(tmp_path / "o.csv")
    canvas_csv(roster, [grade("340934", "tiny1", 2.0, 3.0)], out)
    _, imported = canvas_import(out, {"340934"}, {101: "Tiny 1"})
    assert imported == {"340934": {101: "2"}}


def test_semicolon_separated_roster_with_bom_reads(tmp_path):
    path = tmp_path / "semi.csv"
    path.write_bytes("\ufeffStudent;ID;SIS User ID;SIS Login ID;Section;Tiny 1 (101)\n"
                     "Smith, Bob;340934;S1;bsmith;A;\n".encode())
    roster = canvas.read_roster(str(path))
    assert [(s.student, s.name, s.lms_id) for s in roster.students] == [
        ("bsmith", "Smith, Bob", "340934")]


def test_moodle_export_uses_an_identifier_moodle_can_map_and_no_empty_rows(tmp_path):
    roster = moodle.read_roster(moodle_worksheet(str(tmp_path / "w.csv"), [
        {"participant": 1, "Full name": "Bob Smith", "Email address": "bob@uni.example"},
        {"participant": 2, "Full name": "Ann Lee", "Email address": "ann@uni.example"},
        {"participant": 3, "Full name": "Kim Ng", "Email address": "kim@uni.example"},
        {"participant": 4, "Full name": "No Mail", "Email address": ""}]))
    grades = [grade("bob@uni.example", "tiny1", 2.5, 3.0),
              grade("bob@uni.example", "tiny2", None, 1.0, "failed-to-grade"),
              grade("ann@uni.example", "tiny1", None, 3.0, "failed-to-grade"),
              grade("stranger", "tiny1", 1.0, 3.0)]
    out = str(tmp_path / "moodle.csv")
    summary = moodle_csv(roster, grades, out)
    imported = moodle_import(out, {"bob@uni.example", "ann@uni.example", "kim@uni.example"})
    assert imported == {"bob@uni.example": {"tiny1": 2.5, "tiny2": None}}
    assert any("ann@uni.example: no score" in s for s in summary.left_out)
    assert any("No Mail" in s for s in summary.left_out)
    assert summary.not_on_roster == ["stranger"]
    assert ("bob@uni.example", "tiny2", "failed-to-grade: no score (fix or regrade it, then "
            "export again)") in summary.empty


def test_canvas_column_can_be_chosen_and_muted_rows_are_not_students(tmp_path):
    path = tmp_path / "gb.csv"
    path.write_text('Student,ID,SIS User ID,SIS Login ID,Section,Forward pass (101)\n'
                    '"    Points Possible",,,,,3\n'
                    ',,,,,Muted\n'
                    '"Smith, Bob",340934,S1,bsmith,A,\n')
    roster = canvas.read_roster(str(path))
    assert [s.student for s in roster.students] == ["bsmith"]
    out = str(tmp_path / "o.csv")
    summary = canvas_csv(roster, [grade("bsmith", "tiny1", 2.0, 3.0)], out,
                         columns={"tiny1": "Forward pass (101)"})
    assert summary.warnings == []  # an existing column, worth the same points
    _, imported = canvas_import(out, {"340934"}, {101: "Forward pass"})
    assert imported == {"340934": {101: "2"}}
