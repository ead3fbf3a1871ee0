"""Submissions in from Canvas and Moodle downloads, grades back out to their gradebooks.

    discover(path, assignments, releases, lms=None, roster=None) -> Mapping   mapping.py
    canvas.read_roster(csv), moodle.read_roster(csv) -> Roster                canvas.py, moodle.py
    export.canvas_csv(roster, grades, out), export.moodle_csv(...)            export.py

The formats, the student-id decision and the limits are in autograder/docs/lms.md.
"""

from .download import DownloadError
from .mapping import LAYOUTS, LayoutError, Mapped, Mapping, Unmapped, discover
from .roster import Roster, RosterError, RosterStudent

__all__ = ["LAYOUTS", "DownloadError", "LayoutError", "Mapped", "Mapping", "Roster",
           "RosterError", "RosterStudent", "Unmapped", "discover"]
