"""The class's grades as plain rows for the LMS exports: scores from nbgrader's gradebook (the
formgrader's manual grades included), statuses from rnn-grade's results file."""

from nbgrader.api import Gradebook, MissingEntry

from .export import FAILED, NOT_SUBMITTED, Grade


def rows(gb: Gradebook, statuses: dict[tuple[str, str], str],
         assignments: list[str] | None = None, students: list[str] | None = None) -> list[Grade]:
    """One row per student and assignment; ``score`` None when failed or not submitted."""
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
                sub = gb.find_submission(a, student)
            except MissingEntry:
                sub = None
            if sub is None:
                out.append(Grade(student, a, None, max_score, status or NOT_SUBMITTED))
            elif status in (FAILED, NOT_SUBMITTED):  # an earlier score is not this one
                out.append(Grade(student, a, None, max_score, status))
            else:
                # As nbgrader's own export: the late penalty (if the course set one) comes off.
                score = max(0.0, sub.score - (sub.late_submission_penalty or 0.0))
                out.append(Grade(student, a, score, max_score, status or "graded"))
    return out


def statuses(results: list[dict]) -> dict[tuple[str, str], str]:
    return {(r["student"], r["assignment"]): r.get("status", "graded") for r in results}


def grades(course, assignments: list[str] | None = None) -> list[Grade]:
    """``rows`` of the course's gradebook and results file."""
    from ..report import load_results

    with Gradebook(course.db_url) as gb:
        return rows(gb, statuses(load_results(course)), assignments)
