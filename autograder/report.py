"""Grade tables: the one printed after grading, its CSV, the results file, and the export.

The results file (``<course>/autograder-results.json``) keeps each submission's status and
reasons from the last run, which the gradebook has no place for; scores are always read back from
the gradebook, so manual grades entered in nbgrader's formgrader show up in the export.
"""

import csv
import json
import os
from dataclasses import asdict

from nbgrader.api import Gradebook

from .export import RESULTS_FILE
from .grade import FAILED, FLAGGED, Result

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
    return read_results(os.path.join(course.root, RESULTS_FILE))


def read_results(path: str) -> list[dict]:
    """The saved results (a list of Result dicts); empty if nothing was graded yet."""
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
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=True)]
    lines = ["  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True))
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
    """The per-cell CSV of the whole class (autograder/export.py), written to ``path``."""
    from .export import CourseCsvExporter

    exporter = CourseCsvExporter(to=path, results=os.path.join(course.root, RESULTS_FILE))
    with Gradebook(course.db_url) as gb:
        exporter.export(gb)
    return path
