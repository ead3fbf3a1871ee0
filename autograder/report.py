"""Grade tables: the one printed after grading, its CSV, the results file, and the export.

The results file (``<course>/autograder-results.json``) keeps each submission's status and
reasons from the last run, which the gradebook has no place for; scores are always read back from
the gradebook, so manual grades entered in nbgrader's formgrader show up in the export.
"""

import csv
import json
import os
from dataclasses import asdict

from nbgrader.api import Gradebook, MissingEntry

from .grade import FAILED, FLAGGED, Result

RESULTS_FILE = "autograder-results.json"
MARK = {FLAGGED: "*", FAILED: "!"}


def _fmt(x) -> str:
    return "-" if x is None else f"{x:g}"


def save_results(course, results: list[Result]) -> str:
    """Merges this run into the results file (other students' entries are kept)."""
    path = os.path.join(course.root, RESULTS_FILE)
    merged = {f"{r['student']}/{r['assignment']}": r for r in load_results(course)}
    for r in results:
        merged[f"{r.student}/{r.assignment}"] = asdict(r)
    with open(path, "w") as f:
        json.dump(sorted(merged.values(), key=lambda r: (r["student"], r["assignment"])), f,
                  indent=1)
    return path


def load_results(course) -> list[dict]:
    path = os.path.join(course.root, RESULTS_FILE)
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return json.load(f)


def table(results: list[Result]) -> str:
    """Student x assignment (score/max, * flagged, ! failed to grade), totals, then reasons."""
    assignments = sorted({r.assignment for r in results})
    students = sorted({r.student for r in results})
    cell = {(r.student, r.assignment): r for r in results}
    header = ["student", *assignments, "total"]
    rows = []
    for s in students:
        row, total, total_max, incomplete = [s], 0.0, 0.0, False
        for a in assignments:
            r = cell.get((s, a))
            if r is None:
                row.append("")
                continue
            row.append(f"{_fmt(r.score)}/{_fmt(r.max_score)}{MARK.get(r.status, '')}")
            total += r.score or 0.0
            total_max += r.max_score or 0.0
            incomplete |= r.score is None
        # A notebook that could not be graded has no score: its student's total is not final.
        row.append(f"{total:g}/{total_max:g}{'!' if incomplete else ''}")
        rows.append(row)
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(line, widths))
             for line in [header, *rows]]
    lines.insert(1, "  ".join("-" * w for w in widths))
    lines.append("")
    lines.append("* flagged (graded, but look at the reason)   ! failed to grade (no score)")
    for r in sorted(results, key=lambda r: (r.student, r.assignment)):
        if r.reasons:
            lines.append(f"{r.student} / {r.assignment}: {r.status}: {r.reason}")
    return "\n".join(lines)


def write_csv(results: list[Result], path: str) -> str:
    """One row per submission: score, max, status and reason (no score when failed)."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["student", "assignment", "score", "max_score", "status", "reason"])
        for r in sorted(results, key=lambda r: (r.student, r.assignment)):
            w.writerow([r.student, r.assignment, "" if r.score is None else r.score,
                        "" if r.max_score is None else r.max_score, r.status, r.reason])
    return path


def export(course, path: str) -> str:
    """One row per student; per assignment its total, status and a column per graded cell.

    Scores come from the gradebook (manual grades included); statuses from the last run.
    """
    statuses = {(r["student"], r["assignment"]): r for r in load_results(course)}
    with Gradebook(course.db_url) as gb:
        assignments = sorted(a.name for a in gb.assignments)
        cells = {}
        for a in assignments:
            nb = gb.find_notebook(a, a) if _has_notebook(gb, a) else None
            cells[a] = sorted(c.name for c in nb.grade_cells) if nb else []
        header = ["student"]
        for a in assignments:
            header += [a, f"{a} max", f"{a} status", *[f"{a}:{c}" for c in cells[a]]]
        header += ["total", "total max"]
        rows = []
        students = {s.id for s in gb.students} | {s for s, _ in statuses}
        for student in sorted(students):
            row, total, total_max = [student], 0.0, 0.0
            for a in assignments:
                status = statuses.get((student, a), {})
                try:
                    sub = gb.find_submission_notebook(a, a, student)
                except MissingEntry:
                    sub = None
                if sub is None or status.get("status") == FAILED:
                    row += ["", _max(gb, a), status.get("status", "not submitted")]
                    row += [""] * len(cells[a])
                    total_max += float(_max(gb, a) or 0)
                    continue
                grades = {g.name: g.score for g in sub.grades}
                row += [sub.score, sub.max_score, status.get("status", "graded")]
                row += [grades.get(c, "") for c in cells[a]]
                total += sub.score
                total_max += sub.max_score
            rows.append(row + [total, total_max])
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    return path


def _has_notebook(gb, a) -> bool:
    try:
        gb.find_notebook(a, a)
        return True
    except MissingEntry:
        return False


def _max(gb, a):
    try:
        return gb.find_notebook(a, a).max_score
    except MissingEntry:
        return ""
