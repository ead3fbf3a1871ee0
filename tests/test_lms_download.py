"""Reading a download safely: no path leaves the temp folder, sizes are capped, links and
hostile names are listed, not followed; nbgrader's and the flat layout still work."""

import os
import stat
import zipfile

import nbformat
import pytest

from autograder.lms import download
from autograder.lms.download import DownloadError
from autograder.lms.mapping import discover
from lms_samples import canvas_entry, write_zip

TINY = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_course", "source")
ASSIGNMENTS = ["tiny1", "tiny2"]


@pytest.fixture(scope="module")
def releases():
    return {a: nbformat.read(os.path.join(TINY, a, f"{a}.ipynb"), as_version=4)
            for a in ASSIGNMENTS}


def _files_under(folder):
    return {os.path.join(d, f) for d, _, fs in os.walk(folder) for f in fs}


def test_traversal_and_absolute_member_names_stay_inside_the_temp_folder(tmp_path, releases):
    nb = nbformat.writes(releases["tiny1"]).encode()
    outside = tmp_path / "outside"
    outside.mkdir()
    zip_path = write_zip(str(tmp_path / "evil.zip"), [
        ("../../outside/" + canvas_entry(1, 1, "tiny1.ipynb", "a"), nb),
        ("/etc/" + canvas_entry(2, 2, "tiny1.ipynb", "b"), nb),
        ("C:\\Users\\" + canvas_entry(3, 3, "tiny1.ipynb", "c"), nb)])
    before = _files_under(tmp_path)
    m = discover(zip_path, ASSIGNMENTS, releases)
    assert _files_under(tmp_path) == before  # nothing written beside the zip
    assert all(os.path.commonpath([s.path, m.root]) == m.root for s in m.to_submissions())
    assert len(m.submissions) == 3  # still graded: the name is parsed, never used as a path


def test_nbgrader_layout_zip_with_traversal_names_lists_them(tmp_path, releases):
    nb = nbformat.writes(releases["tiny1"]).encode()
    zip_path = write_zip(str(tmp_path / "nbg.zip"), [
        ("submitted/bob/tiny1/tiny1.ipynb", nb), ("submitted/../../x/tiny1/tiny1.ipynb", nb),
        ("submitted/ann/tiny1/tiny1.ipynb", nb), ("submitted/ann/tiny1/notes.txt", b"hi")])
    m = discover(zip_path, ASSIGNMENTS, releases)
    assert m.layout == "nbgrader"
    assert {(s.student, s.assignment) for s in m.submissions} == {("bob", "tiny1"),
                                                                   ("ann", "tiny1")}
    why = {u.name: u.reason for u in m.unmapped}
    assert "leaves the download" in why["submitted/../../x/tiny1/tiny1.ipynb"]
    assert "not a notebook" in why["submitted/ann/tiny1/notes.txt"]
    assert not (tmp_path / "x").exists()


def test_flat_folder_is_read_in_place_and_hidden_files_are_listed(tmp_path, releases):
    nb = nbformat.writes(releases["tiny2"]).encode()
    (tmp_path / "bob_tiny2.ipynb").write_bytes(nb)
    (tmp_path / "mystery.ipynb").write_bytes(nb)  # recognised by its grade ids
    (tmp_path / ".hidden_tiny2.ipynb").write_bytes(nb)
    m = discover(str(tmp_path), ASSIGNMENTS, releases)
    assert m.layout == "flat"
    assert {(s.student, s.assignment) for s in m.submissions} == {("bob", "tiny2"),
                                                                   ("mystery", "tiny2")}
    assert [u.name for u in m.unmapped] == [".hidden_tiny2.ipynb"]


def test_oversized_members_links_and_zip_bombs_are_listed_not_extracted(tmp_path):
    big = b"x" * 5000
    link = zipfile.ZipInfo("smithbob_1_2_tiny1.ipynb")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    zip_path = str(tmp_path / "sizes.zip")
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.ipynb", big)
        z.writestr(link, "/etc/passwd")
        z.writestr("a.ipynb", b"y" * 900)
        z.writestr("b.ipynb", b"z" * 900)
    root, entries = download.read(zip_path, max_member=1000, max_total=1500)
    skipped = {e.name: e.skipped for e in entries}
    assert "limit for one file" in skipped["big.ipynb"]
    assert "symbolic link" in skipped["smithbob_1_2_tiny1.ipynb"]
    assert skipped["a.ipynb"] == "" and "past the size limit" in skipped["b.ipynb"]
    assert [os.path.getsize(e.path) for e in entries if e.path] == [900]


def test_not_a_zip_or_missing_is_a_clear_error(tmp_path):
    (tmp_path / "x.zip").write_bytes(b"not a zip")
    with pytest.raises(DownloadError, match="neither a folder nor a zip"):
        download.read(str(tmp_path / "x.zip"))
    with pytest.raises(DownloadError, match="does not exist"):
        download.read(str(tmp_path / "nope.zip"))


def test_a_damaged_member_is_listed_and_the_rest_of_the_class_is_read(tmp_path):
    zip_path = str(tmp_path / "damaged.zip")
    with zipfile.ZipFile(zip_path, "w", zipfile.ZIP_STORED) as z:
        z.writestr("smithbob_1_2_tiny1.ipynb", b"A" * 200)
        z.writestr("leeann_3_4_tiny1.ipynb", b"B" * 200)
    raw = bytearray(open(zip_path, "rb").read())
    raw[raw.index(b"A" * 200) + 10] = ord("X")  # the stored bytes no longer match their CRC
    open(zip_path, "wb").write(bytes(raw))
    _, entries = download.read(zip_path)
    skipped = {e.name: e.skipped for e in entries}
    assert "damaged in the zip" in skipped["smithbob_1_2_tiny1.ipynb"]
    assert skipped["leeann_3_4_tiny1.ipynb"] == ""


def _too_big_zip(path, releases) -> str:
    """A class zip: ann's notebook, and bob's padded past the 64 MB limit for one file (spaces
    deflate to a small zip)."""
    nb = nbformat.writes(releases["tiny1"])
    padding = " " * (download.MAX_MEMBER_BYTES + 1 - len(nb))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("ann_tiny1.ipynb", nb)
        z.writestr("bob_tiny1.ipynb", nb[:-1] + padding + nb[-1])
    return str(path)


def test_grading_a_zip_reads_it_through_the_download_reader_with_its_limits(tmp_path, releases):
    from autograder.grading.submissions import find

    zip_path = _too_big_zip(tmp_path / "class.zip", releases)
    found = {s.student: s for s in find(zip_path, ASSIGNMENTS, releases)}
    assert found["ann"].path and os.path.getsize(found["ann"].path) < 10**5
    assert found["bob"].path is None and found["bob"].assignment == "tiny1"
    assert "larger than the 64 MB limit for one file" in found["bob"].notes[0]
    # Negative control: without the limit the reader extracts the whole 64 MB file.
    _, entries = download.read(zip_path, max_member=2 * download.MAX_MEMBER_BYTES)
    assert {e.name: e.size for e in entries}["bob_tiny1.ipynb"] > download.MAX_MEMBER_BYTES


def test_rnn_grade_autograde_refuses_a_zip_whose_only_file_is_too_big(tmp_path, releases,
                                                                      capsys):
    import shutil

    from autograder.cli import main

    shutil.copytree(os.path.dirname(TINY), tmp_path / "course")
    nb = nbformat.writes(releases["tiny1"])
    with zipfile.ZipFile(tmp_path / "class.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bob_tiny1.ipynb", nb[:-1] + " " * download.MAX_MEMBER_BYTES + nb[-1])
    code = main(["--course", str(tmp_path / "course"), "autograde", str(tmp_path / "class.zip"),
                 "--no-progress"])
    out, err = capsys.readouterr()
    assert code == 2
    assert "bob_tiny1.ipynb" in out and "larger than the 64 MB limit for one file" in out
    assert "nothing to grade" in err
    assert not (tmp_path / "course" / "autograder-results.json").exists()
