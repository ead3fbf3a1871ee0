"""The class's grades as a CSV, as an nbgrader export plugin.

One row per student; per assignment its total, max, rnn-grade status and a column per graded
cell. Scores come from the gradebook (manual grades included); statuses from rnn-grade's results
file, which the gradebook has no place for. ``rnn-grade export`` runs it, and so does nbgrader:

    cd course && nbgrader export --to grades.csv \
        --exporter=autograder.exports.course_csv.CourseCsvExporter
"""

import csv
import os

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Unicode

from ..results import RESULTS_FILE, Result, read, results_path
from .grades import rows


class CourseCsvExporter(ExportPlugin):
    """nbgrader's ExportPlugin writing rnn-grade's per-cell CSV."""

    results = Unicode("", help="rnn-grade's results file (default: <course root>/"
                               f"{RESULTS_FILE})").tag(config=True)

    def _results_path(self) -> str:
        if self.results:
            return self.results
        coursedir = getattr(self.parent, "coursedir", None)
        return results_path(coursedir.root if coursedir else os.getcwd())

    def export(self, gradebook: Gradebook) -> None:
        dest = self.to or "grades-export.csv"
        assignments = sorted(a.name for a in gradebook.assignments
                             if not self.assignment or a.name in self.assignment)
        cells = {a: _grade_cells(gradebook, a) for a in assignments}
        header = ["student"]
        for a in assignments:
            header += [a, f"{a} max", f"{a} status", *[f"{a}:{c}" for c in cells[a]]]
        header += ["total", "total max"]
        found = rows(gradebook, read(self._results_path()), assignments,
                     [str(s) for s in self.student] or None)
        by_student: dict[str, dict[str, Result]] = {}
        for r in found:
            by_student.setdefault(r.student, {})[r.assignment] = r
        table = []
        for student, mine in sorted(by_student.items()):
            row, total, total_max = [student], 0.0, 0.0
            for a in assignments:
                r = mine[a]
                row += ["" if r.score is None else r.score, r.max_score, r.status]
                row += [r.cells.get(c, "") for c in cells[a]]
                total += r.score or 0.0
                total_max += float(r.max_score or 0)
            table.append(row + [total, total_max])
        self.log.info("Exporting grades to %s", dest)
        with open(dest, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(table)


def _grade_cells(gradebook: Gradebook, assignment: str) -> list[str]:
    """The grade ids of the assignment's notebook (one per assignment in this course)."""
    try:
        return sorted(c.name for c in gradebook.find_notebook(assignment, assignment).grade_cells)
    except MissingEntry:
        return []


def write(course, path: str) -> str:
    """The per-cell CSV of the whole class, written to ``path``."""
    exporter = CourseCsvExporter(to=path, results=results_path(course.root))
    with Gradebook(course.db_url) as gb:
        exporter.export(gb)
    return path
