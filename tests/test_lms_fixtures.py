"""Canvas and Moodle inputs written from the LMSs' own code (tests/fixtures/lms/README.md).

Independent of tests/lms_samples.py: the download names and rosters are fixture files
derived by hand from canvas-lms and Moodle sources, cited in each file. The checks on the
exports restate the importers' rules, each next to the line of the source it comes from.
"""

import csv
import re
import unicodedata
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.exports.lms_csv import canvas_csv, moodle_csv
from autograder.lms import canvas, moodle
from autograder.lms.mapping import discover
from autograder.results import GRADED, Result


def grade(student, assignment, score, max_score=None, status=GRADED) -> Result:
    """A row of the exports: one Result with a score."""
    return Result(student, assignment, status, score=score, max_score=max_score)


FIXTURES = Path(__file__).parent / "fixtures" / "lms"
ASSIGNMENTS = ["rnn1_forward", "rnn2_bptt"]
CANVAS_TITLE = "RNN 1: the forward pass (4101)"


def names(fixture: str) -> list[str]:
    """The entry names of a download fixture (one a line; # comments)."""
    lines = (FIXTURES / fixture).read_text(encoding="utf-8").splitlines()
    return [line for line in lines if line.strip() and not line.startswith("#")]


def download(tmp_path: Path, fixture: str) -> str:
    """A zip with the fixture's names (UTF-8 flagged, as rubyzip and Moodle write them), each
    holding a small notebook; one second apart, in the file's order."""
    out = tmp_path / f"{fixture}.zip"
    with zipfile.ZipFile(out, "w") as z:
        for i, name in enumerate(names(fixture)):
            body = nbformat.writes(nbformat.v4.new_notebook()) if name.endswith(".ipynb") \
                else "<html><body>typed text</body></html>"
            z.writestr(zipfile.ZipInfo(name, date_time=(2026, 11, 30, 12, 0, i)), body)
    return str(out)


def by_student(mapping) -> dict[str, object]:
    return {m.student: m for m in mapping.submissions}


# --- Canvas ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def canvas_roster():
    return canvas.read_roster(str(FIXTURES / "canvas_gradebook_export.csv"))


def test_the_fixture_keeps_the_decomposed_name_canvas_stored():
    decomposed = [n for n in names("canvas_download.txt") if "\u0308" in n]
    assert decomposed and unicodedata.normalize("NFC", decomposed[0]) != decomposed[0]


def test_a_canvas_gradebook_export_gives_students_ids_and_only_the_titled_assignments(
        canvas_roster):
    students = {s.lms_id: s for s in canvas_roster.students}
    # The test student (StudentViewEnrollment, last) is left out, and says so.
    assert "5009" not in students
    assert any("test student" in note for note in canvas_roster.notes)
    assert set(students) == {"5001", "5002", "5003", "5004", "5005", "5006", "5007"}
    assert students["5001"].name == "O'Brien, Seán" and students["5001"].student == "sobrien"
    assert students["5005"].student == "5005"  # no SIS Login ID: the Canvas user id
    assert students["5001"].row["Integration ID"] == "int-1001"
    # Assignments are the "Title (id)" columns; a custom column (Notes) and the computed
    # columns of the assignment group and the course are not.
    assert canvas_roster.assignment_columns == [CANVAS_TITLE,
                                                "RNN 2: backpropagation through time (4102)"]
    assert canvas_roster.points_possible[CANVAS_TITLE] == "10.00"


def test_a_canvas_download_maps_every_file_to_the_roster_or_says_why_not(tmp_path,
                                                                        canvas_roster):
    mapping = discover(download(tmp_path, "canvas_download.txt"), ASSIGNMENTS, {},
                       roster=canvas_roster, expected=["rnn1_forward"])
    assert mapping.layout == "canvas"
    mapped = by_student(mapping)
    assert set(mapped) == {"sobrien", "tnguyen", "jmuller", "avdberg", "5005", "bsmith"}
    assert all(m.assignment == "rnn1_forward" for m in mapped.values())
    assert mapped["sobrien"].late and not mapped["tnguyen"].late
    assert mapped["jmuller"].lms_user == "5003"  # the name with combining marks parsed
    # Of two uploads, the one with the larger attachment id (Canvas's -1 copy) is graded.
    assert mapped["avdberg"].entry.name.endswith("90014_rnn1 forward-1.ipynb")
    unmapped = {u.name: u.reason for u in mapping.unmapped}
    assert "duplicate" in unmapped["vanderberganna_5004_90004_rnn1 forward.ipynb"]
    assert "text entry" in unmapped["smithbob_5006_text.html"]
    assert "not on the roster" in unmapped["studenttest_5009_90009_rnn1_forward.ipynb"]
    assert len(mapping.submissions) + len(mapping.unmapped) == len(names("canvas_download.txt"))
    assert mapping.not_submitted == [("cokafor", "rnn1_forward")]


def test_a_canvas_download_without_roster_uses_the_canvas_user_ids(tmp_path):
    mapping = discover(download(tmp_path, "canvas_download.txt"), ASSIGNMENTS, {})
    mapped = by_student(mapping)
    assert {"5001", "5002", "5003", "5005", "5006", "5009"} <= set(mapped)
    assert mapped["5003"].name == "mu\u0308llerju\u0308rgen"
    assert mapped["5001"].name == "obrienseán"


def test_an_anonymous_canvas_download_maps_to_anonymous_ids(tmp_path):
    mapping = discover(download(tmp_path, "canvas_download_anonymous.txt"), ASSIGNMENTS, {})
    mapped = by_student(mapping)
    assert set(mapped) == {"anon_x7Kp2", "anon_Qz81b"}
    assert mapped["anon_Qz81b"].late and not mapped["anon_x7Kp2"].late
    assert [u.name for u in mapping.unmapped] == ["anon_Qz81b_text.html"]


def canvas_importer_reads(path: Path, course_assignment_ids: set[str]) -> dict:
    """What canvas-lms lib/gradebook_importer.rb (@ 00b222d7) makes of a CSV: the rules it
    applies, restated; returns {"assignments": {column: id or None}, "rows": [...]}."""
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    header = rows[0]
    # row_has_student_headers?: more than 3 columns, "Student" in the first, "ID" in the second
    assert len(header) > 3 and "Student" in header[0] and "ID" in header[1], header
    # update_column_count: SIS User ID then SIS Login ID, optionally Integration ID, Root Account
    count = 3
    if re.search(r"SIS\s+Login\s+ID", header[2]):
        count += 1
    elif re.search(r"SIS\s+User\s+ID", header[2]) and re.search(r"SIS\s+Login\s+ID", header[3]):
        integration = 1 if re.search(r"Integration\s+ID", header[4]) else 0
        count += 2 + integration
        if re.search(r"Root\s+Account", header[4 + integration]):
            count += 1
    # header?: the last student column must include "Section"
    assert "Section" in header[count - 1], (header, count)
    assignments = {}
    for title in header[count:]:  # parse_assignments: "Title (id)" is matched by id
        m = re.fullmatch(r"(.*)\s\((\d+)\)", title)
        assignments[title] = m[2] if m and m[2] in course_assignment_ids else None
    students = []
    for row in rows[1:]:
        if "Points Possible" in row[0]:  # check_for_non_student_row
            continue
        students.append(dict(zip(header, row, strict=True)))
    return {"assignments": assignments, "rows": students}


def test_a_canvas_export_for_a_roster_with_integration_ids_imports_by_id(tmp_path,
                                                                          canvas_roster):
    grades = [grade("sobrien", "rnn1_forward", 7.5, 10), grade("tnguyen", "rnn1_forward", 10, 10),
              grade("jmuller", "rnn1_forward", None, 10, "failed-to-grade"),
              grade("5005", "rnn1_forward", 3, 10)]
    out = tmp_path / "canvas.csv"
    summary = canvas_csv(canvas_roster, grades, str(out), assignments=["rnn1_forward"],
                         columns={"rnn1_forward": CANVAS_TITLE})
    read = canvas_importer_reads(out, {"4101", "4102"})
    assert read["assignments"] == {CANVAS_TITLE: "4101"}
    rows = {r["ID"]: r for r in read["rows"]}
    assert "5009" not in rows  # the test student is not written back
    assert rows["5001"]["Student"] == "O'Brien, Seán" and rows["5001"][CANVAS_TITLE] == "7.5"
    assert rows["5001"]["Integration ID"] == "int-1001"
    assert rows["5003"][CANVAS_TITLE] == ""  # failed to grade: empty, never 0
    assert rows["5007"][CANVAS_TITLE] == ""  # not submitted
    assert ("jmuller", "rnn1_forward") in {(s, a) for s, a, _ in summary.empty}


def test_a_canvas_export_whose_titles_differ_from_the_course_ids_says_what_to_pass(
        tmp_path, canvas_roster):
    out = tmp_path / "canvas.csv"
    summary = canvas_csv(canvas_roster, [grade("sobrien", "rnn1_forward", 7.5, 10)], str(out))
    read = canvas_importer_reads(out, {"4101", "4102"})
    assert read["assignments"] == {"rnn1_forward": None}  # Canvas would create an assignment
    warning = next(w for w in summary.warnings if "rnn1_forward" in w)
    assert "new assignment" in warning and CANVAS_TITLE in warning  # and names the candidates


# --- Moodle ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def worksheet():
    return moodle.read_roster(str(FIXTURES / "moodle_grading_worksheet.csv"))


@pytest.fixture(scope="module")
def gradebook_export():
    return moodle.read_roster(str(FIXTURES / "moodle_gradebook_export.csv"))


def test_a_moodle_download_maps_through_the_worksheets_participant_numbers(tmp_path, worksheet):
    mapping = discover(download(tmp_path, "moodle_download.txt"), ASSIGNMENTS, {},
                       roster=worksheet, expected=["rnn1_forward"])
    assert mapping.layout == "moodle"
    mapped = by_student(mapping)
    assert {m.lms_user for m in mapped.values()} == {"612301", "612302", "612303", "612304",
                                                     "612305", "612306"}
    assert mapped["sobrien@uni.example"].name == "Seán O'Brien"
    assert mapped["avdberg@uni.example"].entry.name.endswith("/notebooks/rnn1_forward.ipynb")
    assert mapped["bsmith@uni.example"].notes  # renamed file, said so
    assert [u.reason for u in mapping.unmapped] == ["a Moodle onlinetext submission, not a file"]
    assert mapping.not_submitted == [("cokafor@uni.example", "rnn1_forward")]


def test_a_moodle_download_maps_by_full_name_as_moodle_cleans_it(tmp_path, gradebook_export):
    # No participant numbers in a gradebook export: names are compared as clean_filename
    # writes them (O'Brien -> OBrien, Smith_Jones -> Smith Jones).
    mapping = discover(download(tmp_path, "moodle_download.txt"), ASSIGNMENTS, {},
                       roster=gradebook_export, expected=["rnn1_forward"])
    mapped = by_student(mapping)
    assert set(mapped) == {"S-1001", "S-1002", "S-1004", "S-1003", "bsmithjones@uni.example",
                           "S-1006"}, [(u.name, u.reason) for u in mapping.unmapped]
    assert mapped["S-1001"].name == "Seán O'Brien"
    assert mapping.not_submitted == [("S-1007", "rnn1_forward")]


def test_a_flat_moodle_download_and_blind_marking_map_by_participant(tmp_path, worksheet):
    mapping = discover(download(tmp_path, "moodle_download_flat.txt"), ASSIGNMENTS, {},
                       roster=worksheet)
    mapped = {m.lms_user: m for m in mapping.submissions}
    assert set(mapped) == {"612301", "612305", "612303"} and not mapping.unmapped
    assert mapped["612303"].student == "avdberg@uni.example"


def moodle_importer_reads(path: Path, users: dict[str, str]) -> dict[str, dict[str, float | None]]:
    """What Moodle's grade/import/csv/classes/load_data.php (@ 0289d8c7) makes of a CSV mapped
    from its first column to ``users`` (value -> user): {user: {column: grade or None}}."""
    rows = list(csv.reader(path.read_text(encoding="utf-8").splitlines()))
    header = [h.strip() for h in rows[0]]  # trim_headers
    grades = {}
    for line in rows[1:]:
        if len(line) <= 1:  # "There is no data on this line, move on."
            continue
        user = users.get(line[0].strip())
        # check_user_exists / usermappingerrorusernotfound: one unknown user aborts the import
        assert user is not None, f"Moodle aborts the whole import: no user {line[0]!r}"
        values = {}
        for title, value in zip(header[2:], line[2:], strict=True):
            value = value.strip()
            # update_grade_item: '' or '-' is "no grade", anything else must be a number
            values[title] = None if value in ("", "-") else float(value)
        grades[user] = values
    return grades


def test_a_moodle_export_imports_for_every_row_and_leaves_out_who_has_no_score(tmp_path,
                                                                               worksheet):
    grades = [grade("sobrien@uni.example", "rnn1_forward", 7.5, 10),
              grade("tnguyen@uni.example", "rnn1_forward", None, 10, "failed-to-grade"),
              grade("bsmithjones@uni.example", "rnn1_forward", 4, 10)]
    out = tmp_path / "moodle.csv"
    summary = moodle_csv(worksheet, grades, str(out), assignments=["rnn1_forward"])
    emails = {s.email: s.name for s in worksheet.students}
    read = moodle_importer_reads(out, emails)
    assert read == {"Seán O'Brien": {"rnn1_forward": 7.5},
                    "Bob Smith_Jones": {"rnn1_forward": 4.0}}
    assert any("tnguyen" in line for line in summary.left_out)  # no score: not written
