"""The class's grades as plain rows for the LMS exports: scores from nbgrader's gradebook (the
formgrader's manual grades included), statuses from rnn-grade's results file."""

from nbgrader.api import Gradebook, MissingEntry

from ..report import load_results
from .export import FAILED, NOT_SUBMITTED, Grade


def grades(course, assignments: list[str] | None = None) -> list[Grade]:
    """One row per student and assignment; ``score`` None when failed or not submitted."""
    statuses = {(r["student"], r["assignment"]): r.get("status", "graded")
                for r in load_results(course)}
    rows = []
    with Gradebook(course.db_url) as gb:
        names = assignments or sorted(a.name for a in gb.assignments)
        students = sorted({s.id for s in gb.students} | {s for s, _ in statuses})
        for a in names:
            try:
                max_score = gb.find_assignment(a).max_score
            except MissingEntry:
                raise ValueError(f"{a!r} is not in the gradebook: release and grade it "
                                 "first") from None
            for student in students:
                status = statuses.get((student, a))
                try:
                    sub = gb.find_submission(a, student)
                except MissingEntry:
                    sub = None
                if sub is None or status in (FAILED, NOT_SUBMITTED):
                    rows.append(Grade(student, a, None, max_score,
                                      status or NOT_SUBMITTED if sub is None else status))
                else:
                    rows.append(Grade(student, a, sub.score, max_score, status or "graded"))
    return rows
