"""The LMS side of ``rnn-grade autograde``: its flags, the mapping report printed before any
notebook runs, and a "not submitted" row for each roster student without a file."""

from ..results import NOT_SUBMITTED, Result
from . import canvas, moodle
from .download import DownloadError
from .mapping import LAYOUTS, LayoutError, Mapping, discover
from .roster import Roster, RosterError, read_rows


def add_arguments(p) -> None:
    p.add_argument("--lms", choices=LAYOUTS, help="the download's layout (default: recognised "
                   "from the file names: Canvas, Moodle, nbgrader's submitted/, or flat "
                   "<student>_<assignment>.ipynb)")
    p.add_argument("--roster", help="the LMS's class list as CSV (Canvas: Grades > Export; "
                   "Moodle: the assignment's grading worksheet): maps LMS ids to students and "
                   "lists who did not submit")
    p.add_argument("--assignment", action="append", dest="expected", metavar="ASSIGNMENT",
                   help="the assignment this download is for (repeatable): roster students "
                        "without it are 'not submitted' (default: the assignments found)")


def read_roster(path: str, lms: str | None = None) -> Roster:
    """A Canvas or Moodle roster, told apart by its columns unless ``lms`` says which."""
    if lms not in ("canvas", "moodle"):
        header = read_rows(path)[0]
        lms = "canvas" if len(header) > 1 and "Student" in header[0] and "ID" in header[1] \
            else "moodle"
    return canvas.read_roster(path) if lms == "canvas" else moodle.read_roster(path)


def map_submissions(course, source: str, lms: str | None = None, roster: str | None = None,
                    expected: list[str] | None = None, out=print) -> Mapping:
    """Maps the download at ``source`` and prints the mapping report (before grading)."""
    assignments = course.assignments
    course.ensure_released(assignments)
    releases = {a: course.release_notebook(a) for a in assignments}
    unknown = sorted(set(expected or []) - set(assignments))
    if unknown:
        raise ValueError(f"--assignment {', '.join(unknown)}: not an assignment of the course "
                         f"({', '.join(assignments)})")
    try:
        mapping = discover(source, assignments, releases, lms=lms,
                           roster=read_roster(roster, lms) if roster else None,
                           expected=expected)
    except (DownloadError, LayoutError, RosterError) as e:
        raise ValueError(str(e)) from None
    out(mapping.report())
    if not mapping.submissions:
        raise ValueError(f"nothing to grade in {source}: none of its files can be graded "
                         "(the list above says why)")
    if mapping.roster is not None:
        record_roster(course, mapping.roster)
    return mapping


# nbgrader's formgrader prints a student's names into its pages unescaped, and a Moodle user
# chooses their own name: markup characters never reach the gradebook (apostrophes and letters of
# any script stay).
_MARKUP = str.maketrans("", "", "<>&\"`")


def _names(student) -> tuple[str, str]:
    """(first, last) name: Canvas writes "Last, First"; Moodle has both columns or a full name.
    Characters that could open markup in the formgrader's pages are left out."""
    row = student.row
    if "First name" in row or "Last name" in row:
        first, last = row.get("First name", ""), row.get("Last name", "")
    else:
        last, sep, first = student.name.partition(", ")
        first, last = (first, last) if sep else ("", student.name)
    return first.translate(_MARKUP), last.translate(_MARKUP)


def record_roster(course, roster: Roster) -> None:
    """The roster's students, names and emails in nbgrader's gradebook (the formgrader and
    ``nbgrader export`` show them); grades are untouched."""
    from nbgrader.api import Gradebook

    with Gradebook(course.db_url) as gb:
        for s in roster.students:
            first, last = _names(s)
            gb.update_or_create_student(s.student, first_name=first, last_name=last,
                                        email=s.email or None)


def not_submitted(mapping: Mapping, course) -> list:
    """A row without a score for each roster student and assignment with no file."""
    rows = []
    for student, assignment in mapping.not_submitted:
        release = course.release_notebook(assignment)
        points = sum(float(c.metadata.get("nbgrader", {}).get("points", 0))
                     for c in release.cells if c.metadata.get("nbgrader", {}).get("grade"))
        rows.append(Result(student, assignment, NOT_SUBMITTED,
                           reasons=["no file in the download"], max_score=points))
    return rows
