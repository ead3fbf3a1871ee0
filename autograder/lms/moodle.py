"""Moodle: the paths in an assignment's "Download all submissions" zip, and its rosters.

Zip paths (``mod/assign``'s downloader; the folder layout is the default since Moodle 3.1)::

    {Full Name}_{participant}_assignsubmission_file/{file}     one folder per student
    {Full Name}_{participant}_assignsubmission_file_{file}     the older flat layout
    Participant_{participant}_assignsubmission_file/...         blind marking
    ..._assignsubmission_onlinetext/onlinetext.html             an online text, not a file

Moodle replaces ``_`` in the name by a space and ``clean_filename`` removes control characters
and ``& < > " ` | ' : \\ /`` (``Seán O'Brien`` becomes ``Seán OBrien``), so the last
``_<digits>_assignsubmission_`` separates name and participant number. A file the student put
in a folder keeps that folder below the student's (``.../notebooks/rnn1_forward.ipynb``). The
participant number is per assignment, not the user id; the assignment's grading worksheet
(Download grading worksheet) carries it in its ``Identifier`` column ("Participant 123456"). A
roster without it (participants or gradebook export) is matched by full name, compared as the
download spells it, and a name shared by two students is never guessed.

Student ids: the roster's ``Username`` when it has one, else ``ID number``, else the email
address; without a roster, ``participant-<number>``.
"""

import re
import unicodedata
from dataclasses import dataclass

from .roster import Roster, RosterError, RosterStudent, read_rows, safe_id, unique_ids

_PREFIX = re.compile(r"(?P<name>.*)_(?P<participant>\d+)_assignsubmission_(?P<plugin>[a-z]+)"
                     r"(?:_(?P<file>.+))?", re.S)
BLIND = "Participant"


@dataclass
class MoodlePath:
    participant: str
    full_name: str  # "" under blind marking
    plugin: str  # "file", "onlinetext", ...
    filename: str  # path inside the student's folder (or the flat name's tail)
    layout: str  # "folders" or "flat"


def parse_path(name: str) -> MoodlePath | None:
    """The parts of a Moodle download path, or None if it is not one."""
    first, _, rest = name.partition("/")
    m = _PREFIX.fullmatch(first)
    if not m:
        return None
    full_name = "" if m["name"] == BLIND else m["name"]
    if rest:  # the folder layout; a flat name may not also have a folder below it
        return MoodlePath(m["participant"], full_name, m["plugin"], rest, "folders")
    return MoodlePath(m["participant"], full_name, m["plugin"], m["file"] or "", "flat")


# What Moodle's clean_filename (PARAM_FILE) removes from the name in a download's folder.
_NOT_IN_FILE_NAMES = re.compile(r"""[\x00-\x1f\x7f&<>"`|':\\/]""")


def name_key(name: str) -> str:
    """Full names compared as a download spells them: without case, accents' composition,
    repeated spaces, ``_`` (Moodle writes a space) or the characters Moodle's
    ``clean_filename`` drops (``O'Brien`` is ``OBrien`` in the folder's name)."""
    name = _NOT_IN_FILE_NAMES.sub("", unicodedata.normalize("NFC", name).replace("_", " "))
    return " ".join(name.casefold().split())


def _find(header: list[str], *names: str) -> str | None:
    lowered = {h.strip().lower(): h for h in header}
    for n in names:
        if n.lower() in lowered:
            return lowered[n.lower()]
    return None


def read_roster(path: str) -> Roster:
    """A Moodle grading worksheet, participants export or gradebook export as a roster."""
    rows = read_rows(path)
    header = [h.strip() for h in rows[0]]
    ident = _find(header, "Identifier")
    full = _find(header, "Full name")
    first, last = _find(header, "First name"), _find(header, "Last name", "Surname")
    username = _find(header, "Username")
    idnumber = _find(header, "ID number")
    email = _find(header, "Email address", "Email")
    if not (full or (first and last)):
        raise RosterError(f"{path!r} is not a Moodle roster: it needs 'Full name' or 'First "
                          f"name' and 'Last name' columns (found {header[:6]})")
    if not (ident or username or idnumber or email):
        raise RosterError(f"{path!r} has no column that identifies a student to Moodle "
                          "('Identifier', 'Username', 'ID number' or 'Email address')")
    known = {c for c in (ident, full, first, last, username, idnumber, email) if c}
    # The worksheet's own "Grade" column, or a gradebook export's "Assignment: <name> (Real)";
    # not the worksheet's "Grade can be changed".
    assignments = [h for h in header if h not in known and (
        h.lower() == "grade" or h.lower().startswith("assignment:"))]
    roster = Roster("moodle", path, header, [], assignment_columns=assignments)
    for row in rows[1:]:
        row = row + [""] * (len(header) - len(row))
        cells = dict(zip(header, (c.strip() for c in row[:len(header)]), strict=True))
        name = cells[full] if full else f"{cells[first]} {cells[last]}".strip()
        participant = re.sub(r"\D", "", cells[ident]) if ident else ""
        chosen = next((cells[c] for c in (username, idnumber, email) if c and cells[c]), "")
        roster.students.append(RosterStudent(
            student=safe_id(chosen) or (f"participant-{participant}" if participant else ""),
            name=name, lms_id=participant, email=cells[email] if email else "",
            row=cells))
    roster.notes += unique_ids(roster.students, lambda s: safe_id(s.name) or "unknown")
    if not ident:
        roster.notes.append("the roster has no 'Identifier' column (participant numbers): "
                            "students are matched by full name; export the assignment's "
                            "grading worksheet to match them exactly")
    return roster
