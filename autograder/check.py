"""The student's self-check: run the visible tests of one notebook and say what would be graded.

Unlike ``nbgrader validate`` it exits non-zero when a test fails, and it warns about anything
that would be repaired or flagged at grading time (edited or deleted test cells, altered
metadata, a wrong file name). It needs only the released notebooks, not the gradebook, so it
runs on a student's machine; hidden tests are not in the release, so passing here is necessary,
not sufficient.
"""

import ast
import logging
import os
from dataclasses import dataclass, field

import nbformat
from nbconvert.filters import strip_ansi
from nbgrader.utils import compute_checksum, determine_grade, is_grade, is_locked

from . import normalise
from .limits import Limits
from .pipeline import grade_notebook, release_files
from .preprocessors.cells import grade_id, is_test
from .preprocessors.readable_errors import readable_traceback
from .sandbox import isolation
from .task import GradingTask, SourceCell


@dataclass
class CheckReport:
    assignment: str | None
    warnings: list[str] = field(default_factory=list)
    passed: list[str] = field(default_factory=list)
    hidden: list[str] = field(default_factory=list)  # test cells whose tests are all hidden
    failed: dict[str, str] = field(default_factory=dict)  # test grade id -> why
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None and not self.failed

    def text(self) -> str:
        lines = [f"assignment: {self.assignment or '?'}"]
        lines += [f"WARNING: {w}" for w in self.warnings]
        if self.error:
            lines.append(f"ERROR: {self.error}")
        lines += [f"PASS  {t}" for t in self.passed]
        lines += [f"----  {t}: hidden tests only (checked when graded)" for t in self.hidden]
        lines += [f"FAIL  {t}: {why}" for t, why in self.failed.items()]
        total = len(self.passed) + len(self.failed)
        if not self.error:
            lines.append(f"{len(self.passed)}/{total} visible tests pass"
                         + ("" if self.ok else " (fix the failures above before submitting)"))
        return "\n".join(lines)


def check(course, path: str, limits: Limits | None = None) -> CheckReport:
    releases = {a: course.release_notebook(a) for a in course.assignments
                if os.path.exists(course.release_path(a))}
    try:
        cells = normalise.read_cells(path)
    except normalise.Unreadable as e:
        return CheckReport(None, error=f"{path}: {e}")
    name = os.path.splitext(os.path.basename(path))[0]
    by_content = normalise.which_assignment(cells, releases)
    assignment = name if name in releases else by_content
    report = CheckReport(assignment)
    if assignment is None:
        report.error = "this is not one of the course's notebooks (no known grade ids)"
        return report
    if name != assignment:
        report.warnings.append(f"the file is named {os.path.basename(path)!r}; submit it as "
                               f"{assignment}.ipynb")
    if by_content not in (None, assignment):
        report.warnings.append(f"its cells belong to {by_content}, not {assignment}")
    release = releases[assignment]
    with open(path, "rb") as f:
        task = GradingTask("self-check", assignment, f.read(), nbformat.writes(release),
                           release_cells(release), limits or Limits(),
                           files=release_files(course.release_dir(assignment)),
                           sandbox=isolation.choose("auto", warn=False))
    graded = grade_notebook(task)
    report.warnings += [f"{n}: grading will undo this" for n in graded.findings.repairs]
    run = graded.findings.execution
    if graded.findings.stopped or graded.notebook is None:
        report.error = graded.findings.stopped or "the notebook did not run"
        return report
    if run.died:
        report.warnings.append(run.died)
    nb = nbformat.reads(graded.notebook, as_version=4)
    log = logging.getLogger("rnn-grade.check")
    for cell in nb.cells:
        if not is_test(cell):
            continue
        if _only_hidden(cell.source):
            report.hidden.append(grade_id(cell))
            continue
        score, max_score = determine_grade(cell, log)
        if score == max_score:
            report.passed.append(grade_id(cell))
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        stderr = any(o.get("name") == "stderr" for o in cell.outputs)
        report.failed[grade_id(cell)] = (  # as in the feedback: message first, own frames only
            "\n".join(readable_traceback(errors[0].ename, strip_ansi(errors[0].evalue),
                                         errors[0].traceback, colour=False)
                      ).replace("\n", "\n      ") if errors
            else "wrote to stderr (graded as a failure)" if stderr
            else f"partial credit: {score:g} of {max_score:g} points")
    return report


def release_cells(release) -> dict[str, SourceCell]:
    """The release's nbgrader cells, standing in for the gradebook's (no hidden tests)."""
    return {grade_id(c): SourceCell(grade_id(c), c.cell_type, c.source, is_locked(c),
                                    compute_checksum(c),
                                    float(c.metadata.nbgrader.get("points", 0)) if is_grade(c)
                                    else None)
            for c in release.cells if grade_id(c)}


def _only_hidden(source: str) -> bool:
    """True when a released test cell has nothing left to run but comments and a docstring."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)
