"""Canvas: the names in a "Download Submissions" zip, and the gradebook export as roster.

Zip entries (canvas-lms ``lib/content_zipper.rb``)::

    {sortable name}[_LATE]_{user id}_{attachment id}_{file name}
                    e.g. smithbob_LATE_340934_208490284_rnn1_forward.ipynb
    [LATE_]anon_{anonymous id}_{attachment id}_{file name}         anonymous grading
    ..._{user id}_text.html, ..._{user id}_link.html               text and URL entries

The sortable name is lowercased with every character that is not ``[[:word:]]`` removed (Ruby's
class: letters, combining marks, digits and ``_``, in any script, so ``Müller`` typed with a
combining diaeresis keeps it), and Canvas removes ``_<digits>_`` from it, so the first
``_<digits>_<digits>_`` is the user and attachment id. The file name is the one the student
uploaded, with ``\\x00 / \\ : * ? " < > |`` runs replaced by ``_``.

Student ids: the gradebook export's ``SIS Login ID`` when the roster has one for the student
(the institution's login: what JupyterHub, and so nbgrader's exchange, usually calls the
student), else the Canvas user ``ID``. Without a roster, the Canvas user id (``anon_<id>`` for
anonymous grading). The grade export maps back through the roster's ``ID`` column either way.
"""

import re
from dataclasses import dataclass

from .roster import Roster, RosterError, RosterStudent, read_rows, safe_id, unique_ids

# What Ruby's [[:word:]] keeps of a name: Python's \w lacks the combining marks (a decomposed
# "u" + U+0308), so any non-ASCII character is accepted too; the ids after it anchor the match.
_NAME = r"(?:\w|[^\x00-\x7f])*?"
_ANON = re.compile(r"(?P<late>LATE_)?anon_(?P<user>[0-9A-Za-z]+)_(?P<attachment>\d+)_(?P<file>.+)",
                   re.S)
_NAMED = re.compile(rf"(?:(?P<name>{_NAME})_)?(?P<late>LATE_)?(?P<user>\d+)_(?P<attachment>\d+)_"
                    r"(?P<file>.+)", re.S)
_TEXT = re.compile(rf"(?:{_NAME}_)?(?:LATE_)?(?:anon_[0-9A-Za-z]+|\d+)_(?P<kind>text|link)\.html")

# Columns of the gradebook export that are about the student, in the order Canvas requires.
STUDENT_COLUMNS = ["Student", "ID", "SIS User ID", "SIS Login ID", "Integration ID",
                   "Root Account", "Section"]
# Columns Canvas computes; never assignments (lib/gradebook_importer.rb).
COMPUTED = re.compile(r"(Current|Final|Override|Unposted) (Score|Points|Grade|Status)")
TEST_STUDENT = "Student, Test"
TITLE_AND_ID = re.compile(r"(?P<title>.*?)\s*\((?P<id>\d+)\)", re.S)  # Assignment#title_with_id


@dataclass
class CanvasName:
    user: str  # Canvas user id, or "anon_<id>"
    attachment: int
    filename: str  # the file name the student uploaded (resubmission suffix included)
    late: bool
    sortable_name: str = ""


def parse_name(basename: str) -> CanvasName | None:
    """The parts of a Canvas download entry's name, or None if it is not one."""
    m = _ANON.fullmatch(basename)
    if m:
        return CanvasName("anon_" + m["user"], int(m["attachment"]), m["file"], bool(m["late"]))
    m = _NAMED.fullmatch(basename)
    if m:
        return CanvasName(m["user"], int(m["attachment"]), m["file"], bool(m["late"]),
                          m["name"] or "")
    return None


def text_entry(basename: str) -> str | None:
    """'text' or 'link' for a Canvas text/URL submission (no file was uploaded)."""
    m = _TEXT.fullmatch(basename)
    return m["kind"] if m else None


def read_roster(path: str) -> Roster:
    """A Canvas gradebook export (Grades > Export > CSV) as a roster."""
    rows = read_rows(path)
    header = [h.strip() for h in rows[0]]
    if len(header) < 3 or "Student" not in header[0] or "ID" not in header[1]:
        raise RosterError(f"{path!r} is not a Canvas gradebook export: its first columns must "
                          f"be 'Student' and 'ID' (found {header[:3]})")
    if "Section" not in header:
        raise RosterError(f"{path!r} has no 'Section' column: export the gradebook from "
                          "Canvas (Grades > Export), do not build it by hand")
    info_end = header.index("Section") + 1
    assignments = [h for h in header[info_end:] if h and not COMPUTED.search(h)]
    # Canvas's export titles every assignment "Title (id)" and puts custom columns (notes)
    # between Section and the assignments without one: a roster with ids keeps only those.
    if any(TITLE_AND_ID.fullmatch(h) for h in assignments):
        assignments = [h for h in assignments if TITLE_AND_ID.fullmatch(h)]
    roster = Roster("canvas", path, header, [], assignment_columns=assignments)
    for row in rows[1:]:
        row = row + [""] * (len(header) - len(row))
        cells = dict(zip(header, (c.strip() for c in row[:len(header)]), strict=True))
        first = cells[header[0]]
        if "Points Possible" in first:
            roster.points_possible = {a: cells[a] for a in assignments if cells.get(a)}
            continue
        if all(re.fullmatch(r"\s*(Muted|Manual Posting.*)?\s*", c, re.I) for c in row):
            continue  # the row that marks muted / manually posted assignments
        if first == TEST_STUDENT:
            roster.notes.append(f"Canvas's test student ({TEST_STUDENT!r}) left out")
            continue
        canvas_id = cells[header[1]]
        login = cells.get("SIS Login ID", "")
        roster.students.append(RosterStudent(
            student=safe_id(login) or safe_id(canvas_id), name=first, lms_id=canvas_id,
            row={h: cells[h] for h in header[:info_end]}))
    roster.notes += unique_ids(roster.students, lambda s: safe_id(s.lms_id) or safe_id(s.name))
    return roster


def roster_from_download_names(names: list[CanvasName]) -> dict[str, str]:
    """Without a roster: Canvas user id -> sortable name, for the mapping report."""
    return {n.user: n.sortable_name for n in names}
