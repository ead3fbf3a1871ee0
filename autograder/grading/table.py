"""The grade table printed after grading, and its CSV (the results file itself: results.py)."""

import csv

from ..results import FAILED, FLAGGED, Result

MARK = {FLAGGED: "*", FAILED: "!"}


def _fmt(x) -> str:
    return "-" if x is None else f"{x:g}"


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
