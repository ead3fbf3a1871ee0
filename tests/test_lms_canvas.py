"""Canvas "Download Submissions" zips and gradebook rosters: every file mapped or explained.

Parsing only (no kernels): the tiny fixture course's notebooks, named as Canvas names them.
"""

import os
import zipfile

import nbformat
import pytest

from autograder.lms import canvas
from autograder.lms.mapping import LayoutError, discover
from lms_samples import canvas_entry, canvas_roster, write_zip

TINY = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_course", "source")
ASSIGNMENTS = ["tiny1", "tiny2"]


@pytest.fixture(scope="module")
def releases():
    return {a: nbformat.read(os.path.join(TINY, a, f"{a}.ipynb"), as_version=4)
            for a in ASSIGNMENTS}


def _nb(releases, assignment) -> bytes:
    return nbformat.writes(releases[assignment]).encode()


def _no_grade_ids() -> bytes:
    return nbformat.writes(nbformat.v4.new_notebook(
        cells=[nbformat.v4.new_code_cell("print('my own notebook')")])).encode()


STUDENTS = [
    {"Student": "Smith, Bob", "ID": "340934", "SIS User ID": "S1", "SIS Login ID": "bsmith",
     "Section": "A"},
    {"Student": "Lee, Ann", "ID": "340935", "SIS User ID": "S2", "SIS Login ID": "alee",
     "Section": "A"},
    {"Student": "Ng, Kim", "ID": "340936", "Section": "B"},  # no SIS login: the Canvas ID
    {"Student": "Diaz, Eva", "ID": "340937", "SIS User ID": "S4", "SIS Login ID": "ediaz",
     "Section": "B"},
    {"Student": "Roe, Max", "ID": "340938", "SIS User ID": "S5", "SIS Login ID": "mroe",
     "Section": "B"},
    {"Student": "Poe, Al", "ID": "340939", "SIS User ID": "S6", "SIS Login ID": "apoe",
     "Section": "B"},
    {"Student": "Zoe, Zed", "ID": "340940", "SIS User ID": "S7", "SIS Login ID": "zzoe",
     "Section": "B"},
    {"Student": "Student, Test", "ID": "1", "Section": ""},
]


def canvas_class(tmp_path, releases, utf8_flag=True):
    """A Canvas download of tiny1 with one of each case, and its gradebook export."""
    t1 = _nb(releases, "tiny1")
    members = [
        (canvas_entry(340934, 1001, "tiny1.ipynb", "smithbob", late=True), t1),
        (canvas_entry(340935, 1002, "tiny1.ipynb", "leeann"), b"{}"),  # older upload
        (canvas_entry(340935, 1010, "tiny1-1.ipynb", "leeann"), t1),  # Canvas's resubmission
        (canvas_entry(340936, 1003, "Copy of tiny1 (2).ipynb", "ngkim"), t1),
        (canvas_entry(340937, 1004, "homework.ipynb", "diazeva"), t1),  # named for nothing
        (canvas_entry(340938, 1005, "notes.pdf", "roemax"), b"%PDF-1.4"),
        (canvas_entry(999999, 1006, "tiny1.ipynb", "strangerjoe"), t1),  # not on the roster
        (canvas_entry(340940, 1007, "scratch.ipynb", "zoezed"), _no_grade_ids()),
        ("wuwei_340941_text.html", b"<p>my answer</p>"),
        ("__MACOSX/._smithbob_340934_1001_tiny1.ipynb", b"\0"),
        (canvas_entry(340934, 1008, "tiny2.ipynb", "smithbob"), _nb(releases, "tiny2")),
    ]
    zip_path = write_zip(str(tmp_path / "submissions.zip"), members, utf8_flag=utf8_flag)
    roster = canvas_roster(str(tmp_path / "gradebook.csv"), STUDENTS,
                           {"tiny1": 101, "Quiz 1": 102}, points={"tiny1": 3, "Quiz 1": 10})
    return zip_path, roster, members


def _by(mapping):
    return {(m.student, m.assignment): m for m in mapping.submissions}


def _why(mapping):
    return {u.name: u.reason for u in mapping.unmapped}


def test_entry_names_parse_as_canvas_writes_them():
    late = canvas.parse_name("smithbob_LATE_340934_208490284_rnn1_forward.ipynb")
    assert (late.user, late.attachment, late.filename, late.late, late.sortable_name) == (
        "340934", 208490284, "rnn1_forward.ipynb", True, "smithbob")
    anon = canvas.parse_name("LATE_anon_7BXi2_208490285_rnn1_forward (2).ipynb")
    assert (anon.user, anon.late, anon.filename) == ("anon_7BXi2", True, "rnn1_forward (2).ipynb")
    digits = canvas.parse_name("anon_12345_208490286_rnn1_forward.ipynb")  # all-digit anon id
    assert (digits.user, digits.attachment) == ("anon_12345", 208490286)
    assert canvas.parse_name("müllerjürgen_12_34_x_1_2.ipynb").filename == "x_1_2.ipynb"
    assert canvas.parse_name("rnn1_forward.ipynb") is None
    assert canvas.text_entry("smithbob_LATE_340934_text.html") == "text"
    assert canvas.text_entry("anon_x1_link.html") == "link"


def test_roster_ids_are_sis_login_else_canvas_id(tmp_path, releases):
    _, roster_csv, _ = canvas_class(tmp_path, releases)
    roster = canvas.read_roster(roster_csv)
    ids = {s.lms_id: s.student for s in roster.students}
    assert ids["340934"] == "bsmith" and ids["340936"] == "340936"
    assert "1" not in ids and any("test student" in n for n in roster.notes)
    assert roster.assignment_columns == ["tiny1 (101)", "Quiz 1 (102)"]  # not Current Score
    assert roster.points_possible == {"tiny1 (101)": "3", "Quiz 1 (102)": "10"}


def test_every_file_of_a_canvas_download_is_mapped_or_explained(tmp_path, releases):
    zip_path, roster_csv, members = canvas_class(tmp_path, releases)
    m = discover(zip_path, ASSIGNMENTS, releases, roster=canvas.read_roster(roster_csv))
    assert m.layout == "canvas"
    by, why = _by(m), _why(m)
    assert len(m.submissions) + len(m.unmapped) == len(members)  # nothing dropped
    assert set(by) == {("bsmith", "tiny1"), ("alee", "tiny1"), ("340936", "tiny1"),
                       ("ediaz", "tiny1"), ("bsmith", "tiny2")}
    assert by[("bsmith", "tiny1")].late and not by[("alee", "tiny1")].late
    assert ("bsmith", "tiny1") in m.late()
    # The newest attachment is graded; the older one is listed as a duplicate.
    assert by[("alee", "tiny1")].entry.name.startswith("leeann_340935_1010_")
    assert "duplicate" in why["leeann_340935_1002_tiny1.ipynb"]
    assert by[("alee", "tiny1")].notes == ["1 older file(s) not graded"]  # -1 is Canvas's
    assert any("Copy of tiny1 (2).ipynb" in n for n in by[("340936", "tiny1")].notes)
    assert any("grade ids" in n for n in by[("ediaz", "tiny1")].notes)
    assert "not a notebook" in why["roemax_340938_1005_notes.pdf"]
    assert "unknown user" in why["strangerjoe_999999_1006_tiny1.ipynb"]
    assert "no assignment recognised" in why["zoezed_340940_1007_scratch.ipynb"]
    assert "text entry" in why["wuwei_340941_text.html"]
    assert "metadata" in why["__MACOSX/._smithbob_340934_1001_tiny1.ipynb"]
    # Roster students with no tiny1 / tiny2 notebook.
    assert ("mroe", "tiny1") in m.not_submitted and ("apoe", "tiny2") in m.not_submitted
    assert ("bsmith", "tiny1") not in m.not_submitted
    subs = m.to_submissions()
    assert all(os.path.exists(s.path) for s in subs)
    assert {(s.student, s.assignment) for s in subs} == set(by)


def test_mapping_report_lists_counts_every_unmapped_file_and_not_submitted(tmp_path, releases):
    zip_path, roster_csv, members = canvas_class(tmp_path, releases)
    m = discover(zip_path, ASSIGNMENTS, releases, roster=canvas.read_roster(roster_csv))
    text = m.report()
    assert "Canvas download" in text and "tiny1: 4 students (1 late)" in text
    for u in m.unmapped:
        assert f"{u.name}: {u.reason}" in text
    assert "tiny1 mroe: not submitted" in text
    assert "smithbob_LATE_340934_1001_tiny1.ipynb LATE" in text


def test_without_roster_students_are_canvas_user_ids_and_anonymous_ids(tmp_path, releases):
    t1 = _nb(releases, "tiny1")
    zip_path = write_zip(str(tmp_path / "anon.zip"), [
        (canvas_entry(0, 2001, "tiny1.ipynb", anonymous_id="7BXi2"), t1),
        (canvas_entry(0, 2002, "tiny1 (2).ipynb", anonymous_id="Q9z", late=True), t1),
        (canvas_entry(340934, 2003, "tiny1.ipynb", "smithbob"), t1),
    ])
    m = discover(zip_path, ASSIGNMENTS, releases)
    assert set(_by(m)) == {("anon_7BXi2", "tiny1"), ("anon_Q9z", "tiny1"), ("340934", "tiny1")}
    assert _by(m)[("anon_Q9z", "tiny1")].late
    assert m.not_submitted == [] and m.unmapped == []


def test_anonymous_submissions_with_a_roster_say_not_submitted_is_uncertain(tmp_path, releases):
    zip_path = write_zip(str(tmp_path / "anon.zip"), [
        (canvas_entry(0, 2001, "tiny1.ipynb", anonymous_id="7BXi2"), _nb(releases, "tiny1"))])
    roster = canvas_roster(str(tmp_path / "r.csv"), STUDENTS[:2], {"tiny1": 101})
    m = discover(zip_path, ASSIGNMENTS, releases, roster=canvas.read_roster(roster))
    assert ("anon_7BXi2", "tiny1") in _by(m)
    assert any("anonymous" in w for w in m.warnings) and "anonymous" in m.report()


def test_utf8_names_without_the_zip_flag_are_decoded(tmp_path, releases):
    name = canvas_entry(340934, 3001, "tiny1.ipynb", "müllerjürgen")
    zip_path = write_zip(str(tmp_path / "raw.zip"), [(name, _nb(releases, "tiny1"))],
                         utf8_flag=False)
    with zipfile.ZipFile(zip_path) as z:
        assert not z.infolist()[0].flag_bits & 0x800  # really stored without the flag
    m = discover(zip_path, ASSIGNMENTS, releases)
    assert m.submissions[0].entry.name == name and m.submissions[0].name == "müllerjürgen"


def test_explicit_layout_is_checked_and_mixed_downloads_ask_for_it(tmp_path, releases):
    t1 = _nb(releases, "tiny1")
    mixed = write_zip(str(tmp_path / "mixed.zip"), [
        (canvas_entry(1, 1, "tiny1.ipynb", "a"), t1), ("bob_tiny1.ipynb", t1),
        ("carl_tiny1.ipynb", t1), ("dan_tiny1.ipynb", t1)])
    with pytest.raises(LayoutError, match="--lms"):
        discover(mixed, ASSIGNMENTS, releases)
    m = discover(mixed, ASSIGNMENTS, releases, lms="canvas")
    assert len(m.submissions) == 1 and len(m.unmapped) == 3
    with pytest.raises(LayoutError, match="one of"):
        discover(mixed, ASSIGNMENTS, releases, lms="blackboard")
