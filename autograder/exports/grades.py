"""The class's grades for every export: scores from nbgrader's gradebook (the formgrader's manual
grades and the late penalty included), statuses from rnn-grade's results file."""

from nbgrader.api import Gradebook, MissingEntry

from .. import results as results_file
from ..results import FAILED, GRADED, NOT_SUBMITTED, Result


def rows(gb: Gradebook, results: list[Result], assignments: list[str] | None = None,
         students: list[str] | None = None) -> list[Result]:
    """One Result per student and assignment, its cell scores included; ``score`` None when
    failed or not submitted (an earlier score in the gradebook is not this submission's)."""
    statuses = results_file.statuses(results)
    names = assignments or sorted(a.name for a in gb.assignments)
    everyone = students or sorted({s.id for s in gb.students} | {s for s, _ in statuses})
    out = []
    for a in names:
        try:
            max_score = gb.find_assignment(a).max_score
        except MissingEntry:
            raise ValueError(f"{a!r} is not in the gradebook: release and grade it first") \
                from None
        for student in everyone:
            status = statuses.get((student, a))
            try:
                sub = gb.find_submission_notebook(a, a, student)
            except MissingEntry:
                sub = None
            if sub is None:
                out.append(Result(student, a, status or NOT_SUBMITTED, max_score=max_score))
            elif status in (FAILED, NOT_SUBMITTED):
                out.append(Result(student, a, status, max_score=max_score))
            else:
                # As nbgrader's own export: the late penalty (if the course set one) comes off.
                score = max(0.0, sub.score - (sub.late_submission_penalty or 0.0))
                out.append(Result(student, a, status or GRADED, score=score, max_score=max_score,
                                  cells={g.name: g.score for g in sub.grades}))
    return out


def grades(course, assignments: list[str] | None = None,
           students: list[str] | None = None) -> list[Result]:
    """``rows`` of the course's gradebook and results file."""
    with Gradebook(course.db_url) as gb:
        return rows(gb, results_file.load(course.root), assignments, students)
