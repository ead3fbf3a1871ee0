"""The student's self-check: run the visible tests of one notebook and say what would be graded.

Unlike ``nbgrader validate`` it exits non-zero when a test fails, and it warns about anything
that would be repaired or flagged at grading time (edited or deleted test cells, altered
metadata, a wrong file name). It needs only the released notebooks, not the gradebook, so it
runs on a student's machine; hidden tests are not in the release, so passing here is necessary,
not sufficient.
"""

import ast
import os
import re
from dataclasses import dataclass, field

import nbformat

from . import normalise
from .execute import Limits, grade_id, is_test
from .grade import Job, run_job

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


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
    prepared = normalise.rebuild(cells, releases[assignment])
    report.warnings += [f"{n}: grading will undo this" for n in prepared.notes]
    job = Job("self-check", assignment, nbformat.writes(prepared.nb),
              course.release_dir(assignment), deny=[], limits=limits or Limits())
    nb_json, run = run_job(job)
    if run["error"] or run["setup_failed"]:
        report.error = run["error"] or run["setup_failed"]
        return report
    if run["died"]:
        report.warnings.append(run["died"])
    nb = nbformat.reads(nb_json, as_version=4)
    for cell in nb.cells:
        if not is_test(cell):
            continue
        if _only_hidden(cell.source):
            report.hidden.append(grade_id(cell))
            continue
        errors = [o for o in cell.outputs if o.output_type == "error"]
        stderr = [o for o in cell.outputs if o.get("name") == "stderr"]
        if errors:
            e = errors[0]
            report.failed[grade_id(cell)] = ANSI.sub("", f"{e.ename}: {e.evalue}").strip()[:500]
        elif stderr:
            report.failed[grade_id(cell)] = "wrote to stderr (graded as a failure)"
        else:
            report.passed.append(grade_id(cell))
    return report


def _only_hidden(source: str) -> bool:
    """True when a released test cell has nothing left to run but comments and a docstring."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        return False
    return all(isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant) for n in body)
