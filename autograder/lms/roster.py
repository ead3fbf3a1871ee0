"""A class list exported from the LMS: who is enrolled, under which ids, as plain data.

Both LMSs export CSV written by spreadsheets as often as by the LMS itself: a UTF-8 byte-order
mark, ``;`` as the separator (Canvas reads both, so do we), blank lines. ``read_rows`` handles
those; ``canvas.read_roster`` and ``moodle.read_roster`` give the columns their meaning.
"""

import csv
import io
import re
from dataclasses import dataclass, field


class RosterError(ValueError):
    """The roster file cannot be used; the message names the file and the problem."""


@dataclass
class RosterStudent:
    student: str  # the id this student has in nbgrader's gradebook and the grade table
    name: str
    lms_id: str  # Canvas user ID, or Moodle participant number ('' when the roster lacks it)
    email: str = ""
    row: dict[str, str] = field(default_factory=dict)  # the roster's own columns, for export


@dataclass
class Roster:
    lms: str  # "canvas" or "moodle"
    path: str
    header: list[str]
    students: list[RosterStudent]
    assignment_columns: list[str] = field(default_factory=list)  # as titled in the roster
    points_possible: dict[str, str] = field(default_factory=dict)  # column -> points
    notes: list[str] = field(default_factory=list)  # rows left out, ids changed, and why

    def by_lms_id(self) -> dict[str, RosterStudent]:
        return {s.lms_id: s for s in self.students if s.lms_id}

    def by_student(self) -> dict[str, RosterStudent]:
        return {s.student: s for s in self.students}


_SAFE = re.compile(r"[^A-Za-z0-9_.@-]+")


def safe_id(text: str) -> str:
    """A student id usable as a folder name (what nbgrader's layout needs)."""
    return _SAFE.sub("-", text.strip()).strip("-.")


def read_rows(path: str) -> list[list[str]]:
    """The CSV's rows (``,`` or ``;`` separated, BOM and blank lines dropped)."""
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError as e:
        raise RosterError(f"cannot read the roster {path!r}: {e.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252", errors="replace")  # Excel's default on Windows
    lines = text.splitlines()
    head = [ln for ln in lines if ln.strip()][:3]
    # Canvas's rule: the separator that gives the same, larger number of fields on every line.
    counts = {}
    for sep in (",", ";"):
        sizes = {len(next(csv.reader([ln], delimiter=sep))) for ln in head}
        counts[sep] = sizes.pop() if len(sizes) == 1 else 0
    sep = ";" if counts[";"] > counts[","] else ","
    rows = [r for r in csv.reader(io.StringIO(text), delimiter=sep)
            if any(c.strip() for c in r)]
    if not rows:
        raise RosterError(f"the roster {path!r} is empty")
    return rows


def unique_ids(students: list[RosterStudent], fallback) -> list[str]:
    """Gives every student a distinct id; clashes fall back to ``fallback(student)``."""
    notes = []
    seen: dict[str, int] = {}
    for s in students:
        seen[s.student] = seen.get(s.student, 0) + 1
    for s in students:
        if not s.student or seen[s.student] > 1:
            old = s.student
            s.student = fallback(s)
            notes.append(f"{s.name}: id {old!r} is empty or shared by several students; "
                         f"{s.student!r} used instead")
    return notes
