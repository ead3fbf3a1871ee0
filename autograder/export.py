"""The class's grades as a CSV, as an nbgrader export plugin.

One row per student; per assignment its total, max, rnn-grade status and a column per graded
cell. Scores come from the gradebook (manual grades included); statuses from rnn-grade's results
file, which the gradebook has no place for. ``rnn-grade export`` runs it, and so does nbgrader:

    cd course && nbgrader export --exporter=autograder.export.CourseCsvExporter --to grades.csv
"""

import csv
import os

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin
from traitlets import Unicode

RESULTS_FILE = "autograder-results.json"


class CourseCsvExporter(ExportPlugin):
    """nbgrader's ExportPlugin writing rnn-grade's per-cell CSV."""

    results = Unicode("", help="rnn-grade's results file (default: <course root>/"
                               f"{RESULTS_FILE})").tag(config=True)

    def _results_path(self) -> str:
        if self.results:
            return self.results
        coursedir = getattr(self.parent, "coursedir", None)
        return os.path.join(coursedir.root if coursedir else os.getcwd(), RESULTS_FILE)

    def export(self, gradebook: Gradebook) -> None:
        from .grade import FAILED  # imported here: nbgrader loads this plugin by name
        from .report import read_results

        dest = self.to or "grades-export.csv"
        statuses = {(r["student"], r["assignment"]): r
                    for r in read_results(self._results_path())}
        assignments = sorted(a.name for a in gradebook.assignments
                             if not self.assignment or a.name in self.assignment)
        notebooks = {a: _notebook(gradebook, a) for a in assignments}
        cells = {a: sorted(c.name for c in nb.grade_cells) if nb else []
                 for a, nb in notebooks.items()}
        header = ["student"]
        for a in assignments:
            header += [a, f"{a} max", f"{a} status", *[f"{a}:{c}" for c in cells[a]]]
        header += ["total", "total max"]
        students = {s.id for s in gradebook.students} | {s for s, _ in statuses}
        rows = []
        for student in sorted(s for s in students if not self.student or s in self.student):
            row, total, total_max = [student], 0.0, 0.0
            for a in assignments:
                status = statuses.get((student, a), {})
                max_score = notebooks[a].max_score if notebooks[a] else ""
                try:
                    sub = gradebook.find_submission_notebook(a, a, student)
                except MissingEntry:
                    sub = None
                if sub is None or status.get("status") == FAILED:
                    row += ["", max_score, status.get("status", "not submitted")]
                    row += [""] * len(cells[a])
                    total_max += float(max_score or 0)
                    continue
                grades = {g.name: g.score for g in sub.grades}
                row += [sub.score, sub.max_score, status.get("status", "graded")]
                row += [grades.get(c, "") for c in cells[a]]
                total += sub.score
                total_max += sub.max_score
            rows.append(row + [total, total_max])
        self.log.info("Exporting grades to %s", dest)
        with open(dest, "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(header)
            w.writerows(rows)


def _notebook(gradebook: Gradebook, assignment: str):
    """The assignment's notebook (one per assignment in this course), or None."""
    try:
        return gradebook.find_notebook(assignment, assignment)
    except MissingEntry:
        return None
