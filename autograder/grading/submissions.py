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
from dataclasses import dataclass, field

from ..lms.download import read_tree
from . import rebuild_rules


@dataclass
class Submission:
    student: str
    assignment: str | None  # None: could not tell
    path: str | None  # None: the download could not give the file (the notes say why)
    notes: list[str] = field(default_factory=list)
    late: bool = False  # the LMS marked it late (Canvas's _LATE); it carries no submission time


_SAFE = re.compile(r"[^A-Za-z0-9_.@-]+")


def _student_id(name: str) -> str:
    return _SAFE.sub("-", name).strip("-") or "unknown"


def find(root: str, assignments: list[str], releases) -> list[Submission]:
    """The submissions in a folder or zip (read by lms/download, with its size limits). A
    notebook the zip could not give (too large, ...) is found without a file: it fails to
    grade, with the reason."""
    root, left_out = read_tree(root)
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
    for entry in left_out:
        if entry.basename.endswith(".ipynb"):
            rel = entry.name.split("/")
            sub = _classify(rel, None, assignments, releases)
            sub.notes = [f"{entry.name}: not read from the zip: {entry.skipped}"]
            found.append(sub)
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
        guess = (rebuild_rules.which_assignment(rebuild_rules.read_cells(path), releases)
                 if path else None)
    except rebuild_rules.Unreadable:
        guess = None
    sub = Submission(_student_id(student), guess, path)
    sub.notes.append(f"file name {'/'.join(rel)!r} does not name an assignment"
                     + (f" (its content is {guess})" if guess else ""))
    return sub
