"""Static scan of the code a student wrote (answer cells and cells they added), before it runs.

Finds monkeypatching, calls of what the exercise asks the student to write (the rules come from
``task.forbidden``) and suspicious reaching around; the rules are in autograder/scan_rules.py.
Adds to ``findings.scan``.
"""

from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_solution

from ..grading import scan_rules
from .cells import grade_id, is_setup


class ScanAnswers(NbGraderPreprocessor):
    """Static findings for every cell the student wrote (needs ``resources["task"]``)."""

    def preprocess(self, nb, resources):
        task, findings = resources["task"], resources["findings"]
        setup = [c.source for c in nb.cells if is_setup(c)]
        written = [(grade_id(c) or f"added cell {i}", c.source) for i, c in enumerate(nb.cells)
                   if c.cell_type == "code" and (is_solution(c) or not grade_id(c))]
        aliases = scan_rules.collect_aliases(setup + [src for _, src in written])
        setup_names = set(scan_rules.collect_aliases(setup))
        for name, src in written:
            findings.scan.extend(scan_rules.scan_cell(src, name, task.forbidden, aliases,
                                                  setup_names))
        return nb, resources
