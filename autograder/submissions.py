"""Find the submissions in a folder or zip: nbgrader's layout or a flat folder of notebooks.

Accepted layouts (mixed is fine):
- ``submitted/<student>/<assignment>/<assignment>.ipynb`` (nbgrader's; ``submitted/`` optional),
- ``<student>_<assignment>.ipynb`` (student ids may contain underscores; the assignment id is
  matched against the course's assignments from the right).
A file whose name does not say its assignment is matched by its content (its grade ids) and
the wrong name is reported.
"""

import os
import re
import tempfile
import zipfile
from dataclasses import dataclass, field

from . import normalise


@dataclass
class Submission:
    student: str
    assignment: str | None  # None: could not tell
    path: str
    notes: list[str] = field(default_factory=list)
    late: bool = False  # the LMS marked it late (Canvas's _LATE); it carries no submission time


_SAFE = re.compile(r"[^A-Za-z0-9_.@-]+")


def _student_id(name: str) -> str:
    return _SAFE.sub("-", name).strip("-") or "unknown"


def unpack(path: str) -> str:
    """A folder of submissions: ``path`` itself, or a zip extracted to a temporary folder."""
    if os.path.isdir(path):
        return path
    if zipfile.is_zipfile(path):
        target = tempfile.mkdtemp(prefix="rnn-grade-zip-")
        with zipfile.ZipFile(path) as z:
            for member in z.infolist():  # refuse absolute paths and '..' (zip slip)
                name = os.path.normpath(member.filename)
                if name.startswith(("..", "/")) or os.path.isabs(name):
                    continue
                z.extract(member, target)
        return target
    raise ValueError(f"SUBMISSIONS must be a folder or a .zip file; got {path!r}")


def find(root: str, assignments: list[str], releases) -> list[Submission]:
    root = unpack(root)
    if os.path.isdir(os.path.join(root, "submitted")):
        root = os.path.join(root, "submitted")
    found: list[Submission] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith((".", "__")))
        for name in sorted(filenames):
            if not name.endswith(".ipynb") or name.startswith("."):
                continue
            path = os.path.join(dirpath, name)
            rel = os.path.relpath(path, root).split(os.sep)
            found.append(_classify(rel, path, assignments, releases))
    return sorted(found, key=lambda s: (s.student, s.assignment or "", s.path))


def _classify(rel: list[str], path: str, assignments: list[str], releases) -> Submission:
    stem = rel[-1][: -len(".ipynb")]
    if len(rel) >= 3 and rel[-2] in assignments:  # <student>/<assignment>/<file>.ipynb
        student, assignment = rel[-3], rel[-2]
        sub = Submission(_student_id(student), assignment, path)
        if stem != assignment:
            sub.notes.append(f"file named {rel[-1]!r}, expected {assignment}.ipynb")
        return sub
    for assignment in sorted(assignments, key=len, reverse=True):
        if stem.endswith("_" + assignment) and len(stem) > len(assignment) + 1:
            return Submission(_student_id(stem[: -len(assignment) - 1]), assignment, path)
    # The name does not say the assignment: look at the content.
    student = rel[0] if len(rel) >= 2 else stem
    try:
        guess = normalise.which_assignment(normalise.read_cells(path), releases)
    except normalise.Unreadable:
        guess = None
    sub = Submission(_student_id(student), guess, path)
    sub.notes.append(f"file name {'/'.join(rel)!r} does not name an assignment"
                     + (f" (its content is {guess})" if guess else ""))
    return sub
