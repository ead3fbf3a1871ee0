"""Moodle "Download all submissions" zips (folders, the older flat names, blind marking) and
Moodle rosters: every file mapped or explained. Parsing only (no kernels)."""

import csv
import os

import nbformat
import pytest

from autograder.lms import moodle
from autograder.lms.mapping import discover
from autograder.lms.roster import RosterError
from lms_samples import moodle_entry, moodle_worksheet, write_zip

TINY = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_course", "source")
ASSIGNMENTS = ["tiny1", "tiny2"]
OLDER, NEWER = (2026, 11, 28, 9, 0, 0), (2026, 11, 29, 18, 30, 0)


@pytest.fixture(scope="module")
def releases():
    return {a: nbformat.read(os.path.join(TINY, a, f"{a}.ipynb"), as_version=4)
            for a in ASSIGNMENTS}


def _nb(releases, a="tiny1") -> bytes:
    return nbformat.writes(releases[a]).encode()


WORKSHEET = [
    {"participant": 5001, "Full name": "Bob Smith", "Email address": "bob@uni.example"},
    {"participant": 5002, "Full name": "Ann Lee", "Email address": "ann@uni.example"},
    {"participant": 5003, "Full name": "Kim Ng", "Email address": "kim@uni.example"},
    {"participant": 5004, "Full name": "Eva Diaz", "Email address": "eva@uni.example"},
    {"participant": 5005, "Full name": "Max Roe", "Email address": "max@uni.example"},
    {"participant": 5006, "Full name": "Al Poe", "Email address": "al@uni.example"},
]


def test_paths_parse_as_moodle_writes_them():
    p = moodle.parse_path("Bob Smith_123456_assignsubmission_file/rnn1_forward.ipynb")
    assert (p.participant, p.full_name, p.plugin, p.filename, p.layout) == (
        "123456", "Bob Smith", "file", "rnn1_forward.ipynb", "folders")
    flat = moodle.parse_path("Bob Smith_123456_assignsubmission_file_rnn1_forward.ipynb")
    assert (flat.filename, flat.layout) == ("rnn1_forward.ipynb", "flat")
    blind = moodle.parse_path("Participant_77_assignsubmission_file/sub/x.ipynb")
    assert (blind.full_name, blind.filename) == ("", "sub/x.ipynb")
    assert moodle.parse_path("Ann Lee_5_assignsubmission_onlinetext/onlinetext.html").plugin \
        == "onlinetext"
    assert moodle.parse_path("bob_tiny1.ipynb") is None


def test_every_file_of_a_moodle_download_is_mapped_or_explained(tmp_path, releases):
    t1 = _nb(releases)
    members = [
        (moodle_entry("Bob Smith", 5001, "tiny1.ipynb"), t1),
        (moodle_entry("Ann Lee", 5002, "tiny1.ipynb"), t1, NEWER),
        (moodle_entry("Ann Lee", 5002, "old/tiny1 (2).ipynb"), t1, OLDER),
        (moodle_entry("Kim Ng", 5003, "Copy of tiny1.ipynb"), t1),
        (moodle_entry("Eva Diaz", 5004, "onlinetext.html", plugin="onlinetext"), b"<p>hi</p>"),
        (moodle_entry("", 5005, "tiny1.ipynb", blind=True), t1),  # blind marking
        (moodle_entry("Zed Unknown", 9999, "tiny1.ipynb"), t1),
        (moodle_entry("Bob Smith", 5001, "report.docx"), b"PK"),
    ]
    zip_path = write_zip(str(tmp_path / "moodle.zip"), members)
    roster = moodle.read_roster(moodle_worksheet(str(tmp_path / "worksheet.csv"), WORKSHEET))
    m = discover(zip_path, ASSIGNMENTS, releases, roster=roster)
    assert m.layout == "moodle"
    by = {(s.student, s.assignment): s for s in m.submissions}
    why = {u.name: u.reason for u in m.unmapped}
    assert len(m.submissions) + len(m.unmapped) == len(members)
    assert set(by) == {(f"{n}@uni.example", "tiny1") for n in ("bob", "ann", "kim", "max")}
    assert by[("ann@uni.example", "tiny1")].entry.name.endswith("file/tiny1.ipynb")  # newest
    assert "duplicate" in why[moodle_entry("Ann Lee", 5002, "old/tiny1 (2).ipynb")]
    assert by[("max@uni.example", "tiny1")].name == "Max Roe"  # blind, via the worksheet
    assert "onlinetext" in why[moodle_entry("Eva Diaz", 5004, "onlinetext.html",
                                            plugin="onlinetext")]
    assert "unknown user" in why[moodle_entry("Zed Unknown", 9999, "tiny1.ipynb")]
    assert "not a notebook" in why[moodle_entry("Bob Smith", 5001, "report.docx")]
    assert set(m.not_submitted) == {("eva@uni.example", "tiny1"), ("al@uni.example", "tiny1")}


def test_the_older_flat_layout_maps_the_same(tmp_path, releases):
    zip_path = write_zip(str(tmp_path / "flat.zip"), [
        (moodle_entry("Bob Smith", 5001, "tiny1.ipynb", flat=True), _nb(releases)),
        (moodle_entry("Ann Lee", 5002, "tiny2.ipynb", flat=True), _nb(releases, "tiny2"))])
    m = discover(zip_path, ASSIGNMENTS, releases)  # no roster: participant numbers
    assert {(s.student, s.assignment) for s in m.submissions} == {
        ("participant-5001", "tiny1"), ("participant-5002", "tiny2")}


def test_same_time_duplicates_are_not_guessed(tmp_path, releases):
    t1 = _nb(releases)
    zip_path = write_zip(str(tmp_path / "dup.zip"), [
        (moodle_entry("Bob Smith", 5001, "tiny1.ipynb"), t1, NEWER),
        (moodle_entry("Bob Smith", 5001, "tiny1 (1).ipynb"), t1, NEWER)])
    m = discover(zip_path, ASSIGNMENTS, releases)
    assert m.submissions == [] and len(m.unmapped) == 2
    assert all("not guessed" in u.reason for u in m.unmapped)


def _participants_csv(path, rows):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["First name", "Last name", "ID number", "Email address"])
        w.writerows(rows)
    return path


def test_a_roster_without_participant_numbers_matches_unique_full_names_only(tmp_path, releases):
    roster = moodle.read_roster(_participants_csv(tmp_path / "p.csv", [
        ["Bob", "Smith", "1001", "bob@uni.example"], ["Ann", "Lee", "1002", "ann@uni.example"],
        ["Ann", "Lee", "1003", "ann2@uni.example"]]))
    assert [s.student for s in roster.students] == ["1001", "1002", "1003"]  # ID number
    assert any("full name" in n for n in roster.notes)
    zip_path = write_zip(str(tmp_path / "m.zip"), [
        (moodle_entry("bob  SMITH", 5001, "tiny1.ipynb"), _nb(releases)),
        (moodle_entry("Ann Lee", 5002, "tiny1.ipynb"), _nb(releases))])
    m = discover(zip_path, ASSIGNMENTS, releases, roster=roster)
    assert [(s.student, s.assignment) for s in m.submissions] == [("1001", "tiny1")]
    assert "ambiguous: 2 students" in m.unmapped[0].reason


def test_rosters_that_cannot_identify_students_are_refused(tmp_path):
    path = tmp_path / "bad.csv"
    path.write_text("Full name,Status\nBob Smith,Submitted\n")
    with pytest.raises(RosterError, match="identifies a student"):
        moodle.read_roster(str(path))
    path.write_text("Email address\nbob@uni.example\n")
    with pytest.raises(RosterError, match="Full name"):
        moodle.read_roster(str(path))


def test_a_download_unpacked_into_a_folder_is_read_in_place(tmp_path, releases):
    root = tmp_path / "course-tiny1-42"  # the folder the instructor unzipped into
    (root / "Bob Smith_5001_assignsubmission_file").mkdir(parents=True)
    (root / "Bob Smith_5001_assignsubmission_file" / "tiny1.ipynb").write_bytes(_nb(releases))
    m = discover(str(tmp_path), ASSIGNMENTS, releases)
    assert m.layout == "moodle"
    assert [(s.student, s.assignment) for s in m.submissions] == [("participant-5001", "tiny1")]
