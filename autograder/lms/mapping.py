"""From an LMS download to the submissions to grade, with every file accounted for.

``discover`` reads a zip or folder, recognises its layout (Canvas, Moodle, nbgrader's
``submitted/<student>/<assignment>/``, or flat ``<student>_<assignment>.ipynb``) unless told,
and maps each file to a student and an assignment. A file it cannot map is never dropped and
never guessed: it is listed in ``Mapping.unmapped`` with the reason (not a notebook, unknown
user, no assignment recognised, an older duplicate, ...). Roster students with no submission
are listed as not submitted. ``Mapping.report()`` is what the instructor reads before grading.
"""

import os
import re
import shutil
from collections import defaultdict
from dataclasses import dataclass, field

from ..grading import rebuild_rules
from ..grading.submissions import Submission, find
from . import canvas, moodle
from .download import Entry, read, safe_relpath
from .names import assignment_from_name
from .roster import Roster

LAYOUTS = ("canvas", "moodle", "nbgrader", "flat")
LAYOUT_NAMES = {"canvas": "Canvas download", "moodle": "Moodle download",
                "nbgrader": "nbgrader layout", "flat": "flat folder"}
_SYSTEM = re.compile(r"(^|/)(__MACOSX/|\.DS_Store$|Thumbs\.db$|desktop\.ini$|\.ipynb_checkpoints/)")


class LayoutError(ValueError):
    """The layout cannot be told or does not fit; the message says what to do."""


@dataclass
class Mapped:
    """One file that will be graded as ``student``'s ``assignment``."""

    student: str
    assignment: str
    entry: Entry
    name: str = ""  # the student's name as the LMS or roster gives it
    lms_user: str = ""  # Canvas user id / Moodle participant number
    late: bool = False  # Canvas marked it LATE
    order: tuple = ()  # newest last: Canvas attachment id, else the file's time
    notes: list[str] = field(default_factory=list)  # shown in the grade table
    superseded: list[str] = field(default_factory=list)  # older files of the same work

    def submission(self) -> Submission:
        return Submission(self.student, self.assignment, self.entry.path, list(self.notes),
                          late=self.late)


@dataclass
class Unmapped:
    name: str  # the entry's name in the download
    reason: str


@dataclass
class Mapping:
    layout: str
    source: str
    root: str  # where the files are on disk
    entries: int
    submissions: list[Mapped] = field(default_factory=list)
    unmapped: list[Unmapped] = field(default_factory=list)
    not_submitted: list[tuple[str, str]] = field(default_factory=list)  # (student, assignment)
    roster: Roster | None = None
    warnings: list[str] = field(default_factory=list)

    def to_submissions(self) -> list[Submission]:
        return [m.submission() for m in self.submissions]

    def late(self) -> set[tuple[str, str]]:
        return {(m.student, m.assignment) for m in self.submissions if m.late}

    def report(self) -> str:
        return render_report(self)


def discover(path: str, assignments: list[str], releases: dict, lms: str | None = None,
             roster: Roster | None = None, expected: list[str] | None = None) -> Mapping:
    """Maps every file of the download at ``path`` (zip or folder); see the module docstring.

    ``releases`` (assignment -> released notebook) recognises a notebook by its grade ids when
    its name does not say the assignment. ``expected``: the assignments this download is for
    (for "not submitted"); by default those that were found.
    """
    if lms is not None and lms not in LAYOUTS:
        raise LayoutError(f"--lms must be one of {', '.join(LAYOUTS)}; got {lms!r}")
    root, entries = read(path)
    layout = lms or detect(entries)
    if roster is not None and layout not in (roster.lms,):
        raise LayoutError(f"the roster {roster.path!r} is a {roster.lms} roster but the "
                          f"download is a {LAYOUT_NAMES[layout]}")
    mapping = Mapping(layout, path, root, len(entries), roster=roster)
    if roster is not None:
        mapping.warnings.extend(roster.notes)
    candidates: dict[tuple[str, str], list[Mapped]] = defaultdict(list)
    if layout in ("nbgrader", "flat"):
        _map_nbgrader(mapping, entries, assignments, releases, candidates)
    else:
        mapper = _map_canvas if layout == "canvas" else _map_moodle
        for entry in entries:
            why = _not_a_submission(entry)
            if why:
                mapping.unmapped.append(Unmapped(entry.name, why))
                continue
            mapper(mapping, entry, assignments, releases, candidates)
    _choose_newest(mapping, candidates)
    _not_submitted(mapping, expected)
    return mapping


def detect(entries: list[Entry]) -> str:
    """The layout that explains the download's files (see ``LAYOUTS``)."""
    files = [e for e in entries if not _SYSTEM.search(e.name)]
    if not files:
        raise LayoutError("the download holds no files")
    scores = {
        "canvas": sum(1 for e in files if canvas.parse_name(e.basename)
                      or canvas.text_entry(e.basename)),
        "moodle": sum(1 for e in files if _moodle_path(e.name)),
    }
    best = max(scores, key=scores.get)
    if scores[best] * 2 > len(files):
        return best
    if scores[best]:
        raise LayoutError(f"cannot tell the layout: {scores['canvas']} of {len(files)} files "
                          f"look like Canvas's, {scores['moodle']} like Moodle's; say which "
                          "with --lms canvas|moodle|nbgrader|flat")
    names = [e.name for e in files]
    if any(n.count("/") >= 2 or n.startswith("submitted/") for n in names):
        return "nbgrader"
    return "flat"


def _not_a_submission(entry: Entry) -> str:
    if entry.skipped:
        return f"not read: {entry.skipped}"
    if _SYSTEM.search(entry.name):
        return "operating-system or Jupyter metadata, not a submission"
    return ""


def _not_notebook(filename: str) -> str:
    if filename.lower().endswith(".ipynb"):
        return ""
    ext = os.path.splitext(filename)[1].lower()
    if ext in (".zip", ".tar", ".gz", ".7z", ".rar"):
        return f"not a notebook: an archive ({ext}); unpack it and add the notebook"
    return f"not a notebook ({ext or 'no extension'})"


def _assignment(entry: Entry, filename: str, assignments: list[str], releases: dict,
                notes: list[str]) -> tuple[str | None, str]:
    """(assignment, why not): from the file name, else from the notebook's grade ids."""
    # A Moodle file may sit in a folder of the student's own ("notebooks/rnn1_forward.ipynb").
    found, exact = assignment_from_name(filename.rsplit("/", 1)[-1], assignments)
    if found:
        plain = re.sub(r"-\d+(?=\.)", "", filename, count=1)  # Canvas's own resubmission mark
        if not exact or plain.rsplit("/", 1)[-1] != f"{found}.ipynb":
            notes.append(f"file named {filename!r}, expected {found}.ipynb")
        return found, ""
    try:
        guess = rebuild_rules.which_assignment(rebuild_rules.read_cells(entry.path), releases)
    except rebuild_rules.Unreadable as e:
        return None, f"no assignment recognised: the name {filename!r} names none and {e}"
    if guess is None:
        return None, (f"no assignment recognised: the name {filename!r} names none and the "
                      "notebook has none of the course's grade ids")
    notes.append(f"file named {filename!r} (recognised as {guess} by its grade ids)")
    return guess, ""


def _map_canvas(mapping, entry, assignments, releases, candidates):
    parsed = canvas.parse_name(entry.basename)
    if parsed is None:
        kind = canvas.text_entry(entry.basename)
        why = (f"a Canvas {'text entry' if kind == 'text' else 'URL submission'}, not a file"
               if kind else "not named as Canvas names downloaded submissions")
        mapping.unmapped.append(Unmapped(entry.name, why))
        return
    why = _not_notebook(parsed.filename)
    if why:
        mapping.unmapped.append(Unmapped(entry.name, why))
        return
    student, name = parsed.user, parsed.sortable_name
    roster = mapping.roster
    if roster is not None and not parsed.user.startswith("anon_"):
        known = roster.by_lms_id().get(parsed.user)
        if known is None:
            mapping.unmapped.append(Unmapped(entry.name, f"unknown user: Canvas user id "
                                             f"{parsed.user} ({name}) is not on the roster"))
            return
        student, name = known.student, known.name
    notes: list[str] = []
    assignment, why = _assignment(entry, parsed.filename, assignments, releases, notes)
    if assignment is None:
        mapping.unmapped.append(Unmapped(entry.name, why))
        return
    if parsed.late:
        notes.append("submitted late (Canvas)")
    candidates[(student, assignment)].append(Mapped(
        student, assignment, entry, name=name, lms_user=parsed.user, late=parsed.late,
        order=(parsed.attachment,), notes=notes))


def _moodle_path(name: str) -> moodle.MoodlePath | None:
    """Parses a Moodle path, also below a folder the zip was unpacked into."""
    parts = name.split("/")
    for i in range(len(parts)):
        parsed = moodle.parse_path("/".join(parts[i:]))
        if parsed:
            return parsed
    return None


def _map_moodle(mapping, entry, assignments, releases, candidates):
    parsed = _moodle_path(entry.name)
    if parsed is None:
        mapping.unmapped.append(Unmapped(entry.name, "not named as Moodle names downloaded "
                                                     "submissions"))
        return
    if parsed.plugin != "file":
        mapping.unmapped.append(Unmapped(entry.name, f"a Moodle {parsed.plugin} submission, "
                                                     "not a file"))
        return
    why = _not_notebook(parsed.filename)
    if why:
        mapping.unmapped.append(Unmapped(entry.name, why))
        return
    student, name = f"participant-{parsed.participant}", parsed.full_name
    roster = mapping.roster
    if roster is not None:
        known = roster.by_lms_id().get(parsed.participant)
        if known is None and not roster.by_lms_id():  # no participant numbers: by full name
            same = [s for s in roster.students
                    if moodle.name_key(s.name) == moodle.name_key(parsed.full_name)]
            if len(same) > 1:
                mapping.unmapped.append(Unmapped(entry.name, f"ambiguous: {len(same)} students "
                                                 f"on the roster are called {parsed.full_name!r}"
                                                 "; use the grading worksheet as roster"))
                return
            known = same[0] if same else None
        if known is None:
            who = parsed.full_name or "blind marking"
            mapping.unmapped.append(Unmapped(entry.name, f"unknown user: participant "
                                             f"{parsed.participant} ({who}) is not on the roster"))
            return
        student, name = known.student, known.name
    notes: list[str] = []
    assignment, why = _assignment(entry, parsed.filename, assignments, releases, notes)
    if assignment is None:
        mapping.unmapped.append(Unmapped(entry.name, why))
        return
    candidates[(student, assignment)].append(Mapped(
        student, assignment, entry, name=name, lms_user=parsed.participant,
        order=(entry.modified,), notes=notes))


def _map_nbgrader(mapping, entries, assignments, releases, candidates):
    """nbgrader's and the flat layout: submissions.find reads them; this accounts for the rest."""
    in_place = os.path.isdir(mapping.source)  # a folder is read where it is
    folder = mapping.source if in_place else os.path.join(mapping.root, "_layout")
    by_path: dict[str, Entry] = {}
    for entry in entries:
        why = _not_a_submission(entry) or _not_notebook(entry.basename)
        rel = safe_relpath(entry.name)
        if not why and rel is None:
            why = "a path that leaves the download (.. or a drive), not read"
        if why:
            mapping.unmapped.append(Unmapped(entry.name, why))
            continue
        if not in_place:  # the zip's members were extracted to numbered files
            dest = os.path.join(folder, rel)
            os.makedirs(os.path.dirname(dest), exist_ok=True)
            shutil.move(entry.path, dest)
            entry.path = dest
        by_path[os.path.abspath(entry.path)] = entry
    if not by_path:
        return
    used = set()
    for sub in find(folder, assignments, releases):
        entry = by_path.get(os.path.abspath(sub.path))
        if entry is None:
            continue
        used.add(os.path.abspath(sub.path))
        if sub.assignment is None:
            mapping.unmapped.append(Unmapped(entry.name, "no assignment recognised: "
                                                         + "; ".join(sub.notes)))
            continue
        exact = os.path.basename(sub.path) == f"{sub.assignment}.ipynb"
        candidates[(sub.student, sub.assignment)].append(Mapped(
            sub.student, sub.assignment, entry, notes=list(sub.notes),
            order=(exact, entry.modified)))
    for path, entry in sorted(by_path.items()):
        if path not in used:
            mapping.unmapped.append(Unmapped(entry.name, "in a hidden folder or file, which "
                                                         "nbgrader's layout does not read"))


def _choose_newest(mapping: Mapping, candidates: dict) -> None:
    """One file per student and assignment: the newest; the others are listed, not graded."""
    for (student, assignment), found in sorted(candidates.items()):
        found.sort(key=lambda m: m.order)
        newest = found[-1]
        if len(found) > 1 and found[-2].order == newest.order:
            for m in found:
                mapping.unmapped.append(Unmapped(m.entry.name, (
                    f"duplicate: {len(found)} files for {student}'s {assignment} and nothing "
                    "says which is newest; not guessed (keep one and run again)")))
            continue
        for old in found[:-1]:
            newest.superseded.append(old.entry.name)
            mapping.unmapped.append(Unmapped(old.entry.name, (
                f"duplicate: an older file of {student}'s {assignment}; "
                f"{newest.entry.name} is graded")))
        if newest.superseded:
            newest.notes.append(f"{len(newest.superseded)} older file(s) not graded")
        mapping.submissions.append(newest)


def _not_submitted(mapping: Mapping, expected: list[str] | None) -> None:
    if mapping.roster is None:
        return
    assignments = expected or sorted({m.assignment for m in mapping.submissions})
    have = {(m.student, m.assignment) for m in mapping.submissions}
    mapping.not_submitted = [(s.student, a) for a in assignments
                             for s in mapping.roster.students if (s.student, a) not in have]
    if any(m.student.startswith("anon_") for m in mapping.submissions):
        mapping.warnings.append("anonymous grading: anonymous submissions cannot be matched to "
                                "the roster, so some 'not submitted' students may be among them")


def render_report(m: Mapping) -> str:
    """The mapping as the instructor reads it before grading."""
    lines = [f"{LAYOUT_NAMES[m.layout]} {m.source}: {m.entries} files"]
    by_assignment: dict[str, list[Mapped]] = defaultdict(list)
    for s in m.submissions:
        by_assignment[s.assignment].append(s)
    students = {s.student for s in m.submissions}
    lines.append(f"  mapped: {len(m.submissions)} notebooks of {len(students)} students "
                 f"to {len(by_assignment)} assignment(s)")
    for a, subs in sorted(by_assignment.items()):
        late = sum(s.late for s in subs)
        plural = "" if len(subs) == 1 else "s"
        lines.append(f"    {a}: {len(subs)} student{plural}" + (f" ({late} late)" if late else ""))
    for s in sorted(m.submissions, key=lambda s: (s.assignment, s.student)):
        who = f"{s.student} ({s.name})" if s.name and s.name != s.student else s.student
        lines.append(f"      {s.assignment} {who} <- {s.entry.name}"
                     + (" LATE" if s.late else ""))
    if m.unmapped:
        lines.append(f"  not mapped, not graded: {len(m.unmapped)} files")
        for u in sorted(m.unmapped, key=lambda u: u.name):
            lines.append(f"    {u.name}: {u.reason}")
    else:
        lines.append("  not mapped: none (every file is accounted for)")
    if m.roster is not None:
        lines.append(f"  roster {m.roster.path}: {len(m.roster.students)} students; "
                     f"not submitted: {len(m.not_submitted)}")
        for student, a in m.not_submitted:
            lines.append(f"    {a} {student}: not submitted")
    for w in m.warnings:
        lines.append(f"  note: {w}")
    return "\n".join(lines)
