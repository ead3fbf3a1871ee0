"""The LMS exports as nbgrader ExportPlugins, for ``nbgrader export`` run from the course folder:

    nbgrader export --exporter=autograder.exports.lms_plugins.CanvasExportPlugin \
        --CanvasExportPlugin.roster=gradebook.csv --to=canvas-grades.csv

Same rows and files as ``rnn-grade export --canvas`` / ``--moodle`` (lms_csv.py).
"""

from nbgrader.plugins import ExportPlugin
from traitlets import Bool, Unicode

from ..lms import canvas, moodle
from ..results import RESULTS_FILE, read
from . import lms_csv
from .grades import rows


class _LmsExportPlugin(ExportPlugin):
    roster = Unicode("", help="the LMS's roster CSV (required)").tag(config=True)
    results = Unicode(RESULTS_FILE,
                      help="rnn-grade's results file: which notebooks failed to grade"
                      ).tag(config=True)

    def _rows(self, gradebook):
        if not self.roster:
            raise ValueError(f"{type(self).__name__}.roster is required: the LMS's roster CSV")
        return rows(gradebook, read(self.results), [str(a) for a in self.assignment] or None,
                    [str(s) for s in self.student] or None)


class CanvasExportPlugin(_LmsExportPlugin):
    """A CSV for Canvas's gradebook import (see lms_csv.canvas_csv)."""

    points_possible = Bool(False, help="add the Points Possible row").tag(config=True)

    def export(self, gradebook) -> None:
        summary = lms_csv.canvas_csv(canvas.read_roster(self.roster), self._rows(gradebook),
                                    self.to or "canvas-grades.csv",
                                    points_possible=self.points_possible)
        self.log.info(summary.text())


class MoodleExportPlugin(_LmsExportPlugin):
    """A CSV for Moodle's "Import grades: CSV file" (see lms_csv.moodle_csv)."""

    def export(self, gradebook) -> None:
        summary = lms_csv.moodle_csv(moodle.read_roster(self.roster), self._rows(gradebook),
                                    self.to or "moodle-grades.csv")
        self.log.info(summary.text())
