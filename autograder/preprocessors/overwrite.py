"""nbgrader's OverwriteCells, reading the gradebook's cells from the task instead of the database.

nbgrader's step puts the gradebook's version of every locked and graded cell back (the hidden
tests among them) and restores points and cell types. It opens the gradebook itself; here the
parent has already copied those cells into ``task.source_cells``, so a worker never needs the
database, and the checks and repairs stay nbgrader's own code.
"""

from nbgrader.api import MissingEntry
from nbgrader.preprocessors import NbGraderPreprocessor, OverwriteCells


class _SourceCells:
    """The two gradebook look-ups OverwriteCells makes, answered from ``task.source_cells``."""

    def __init__(self, cells):
        self.cells = cells

    def find_source_cell(self, name, notebook, assignment):
        try:
            return self.cells[name]
        except KeyError:
            raise MissingEntry() from None

    def find_graded_cell(self, name, notebook, assignment):
        cell = self.find_source_cell(name, notebook, assignment)
        if cell.max_score is None:
            raise MissingEntry()
        return cell


class OverwriteCellsFromTask(OverwriteCells):
    """OverwriteCells with ``resources["task"].source_cells`` as its gradebook."""

    def preprocess(self, nb, resources):
        task = resources["task"]
        self.notebook_id = self.assignment_id = task.assignment
        self.gradebook = _SourceCells(task.source_cells)
        # Skips OverwriteCells.preprocess, which only opens the database around this call.
        return NbGraderPreprocessor.preprocess(self, nb, resources)
