"""A course notebook read as its exercises: which answer cells and test cells belong to which
"**Exercise N (P points).**", under which section title, and what each executed test cell says.

The structure comes from the release notebook the kit carries, so a student's edits to markdown
cannot confuse it; the verdicts come from the student's executed notebook, scored the way nbgrader
scores it (`nbgrader.utils.determine_grade`: an error or any stderr output is 0 points).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from nbgrader.utils import determine_grade, is_grade, is_solution

EXERCISE = re.compile(r"\*\*Exercise (\d+) \(([^)]*)\)\.?\*\*")
HEADING = re.compile(r"^#{1,6}\s+(?:\d+\.\s*)?(.+?)\s*$", re.M)
UNANSWERED = "raise NotImplementedError()"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
FRAME = re.compile(r", in ([\w.]+)\(")


def grade_id(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


@dataclass
class Exercise:
    """One "**Exercise N (P points).**" of a notebook and the cells that belong to it."""

    number: str
    points: str  # as the notebook says it: "4 points", "3 points, graded by hand"
    title: str  # the section heading above it, e.g. "One step"
    answers: list[str] = field(default_factory=list)  # grade ids of answer cells (code)
    tests: list[str] = field(default_factory=list)  # grade ids of graded test cells
    written: list[str] = field(default_factory=list)  # grade ids of written (markdown) answers

    @property
    def name(self) -> str:
        return f"Exercise {self.number} ({self.points}): {self.title}"


def exercises(release) -> list[Exercise]:
    """The exercises of a release notebook, in order. Graded cells before the first exercise
    marker (none in this course) are gathered under an exercise named after the notebook."""
    found: list[Exercise] = []
    title = ""
    for cell in release.cells:
        if cell.cell_type == "markdown":
            headings = HEADING.findall(cell.source)
            title = headings[-1] if headings else title
            marker = EXERCISE.search(cell.source)
            if marker:
                found.append(Exercise(marker.group(1), marker.group(2), title))
        if not (is_grade(cell) or is_solution(cell)):
            continue
        if not found:
            found.append(Exercise("0", "no points stated", title or "before the first exercise"))
        current = found[-1]
        if is_solution(cell) and cell.cell_type == "markdown":
            current.written.append(grade_id(cell))
        elif is_solution(cell):
            current.answers.append(grade_id(cell))
        else:
            current.tests.append(grade_id(cell))
    return found


def description(cell) -> str:
    """What a test cell checks, in the notebook's words: its opening comment."""
    first = cell.source.strip().splitlines()[0] if cell.source.strip() else ""
    return first.lstrip("#").strip() or grade_id(cell)


def has_visible_code(cell) -> bool:
    """True unless every line of the (release) test cell is a comment or blank: a cell whose
    checks are all hidden shows the student nothing to run."""
    return any(line.strip() and not line.strip().startswith("#")
               for line in cell.source.splitlines())


def answer_name(release_cell) -> str:
    """What an answer cell asks for, as the student sees it: the function or class it defines,
    else the first variable it assigns (`shapes`), else its grade id."""
    import ast

    try:
        body = ast.parse(release_cell.source).body
    except SyntaxError:
        return grade_id(release_cell)
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            return node.name
    for node in body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            return node.targets[0].id
    return grade_id(release_cell)


def unanswered(student_cell, release_cell) -> bool:
    """The answer cell still holds the `raise NotImplementedError()` the release put there."""
    return UNANSWERED in release_cell.source and UNANSWERED in student_cell.source


@dataclass
class Verdict:
    """What one executed test cell says."""

    status: str  # "pass", "fail", "not implemented", "hidden only", "not run"
    message: str = ""  # the failure message, or where NotImplementedError came from
    points: float = 0.0


def _error_message(output) -> str:
    evalue = ANSI.sub("", str(output.get("evalue", ""))).strip()
    return f"{output.get('ename', 'Error')}: {evalue}" if evalue else output.get("ename", "Error")


def _raised_in(output) -> str | None:
    """The function whose body raised, from an IPython traceback (the innermost frame)."""
    frames = FRAME.findall(ANSI.sub("", "\n".join(output.get("traceback", []))))
    return frames[-1] if frames else None


def verdict(cell, ran: bool) -> Verdict:
    """Scores an executed test cell as nbgrader would, and says why it lost its points."""
    if not ran:
        return Verdict("not run", "an earlier cell did not finish, so this one never ran")
    score, max_points = determine_grade(cell)
    if score is not None and score >= max_points:
        return Verdict("pass", points=max_points)
    for output in cell.outputs:
        if output.output_type == "error":
            if output.get("ename") == "NotImplementedError":
                where = _raised_in(output)
                return Verdict("not implemented",
                               f"{where} still raises NotImplementedError" if where else
                               "an answer still raises NotImplementedError")
            return Verdict("fail", _error_message(output))
    stderr = "".join(o.get("text", "") for o in cell.outputs
                     if o.output_type == "stream" and o.get("name") == "stderr").strip()
    if stderr:
        return Verdict("fail", "the cell wrote to stderr, which the grader scores as 0 points: "
                               + stderr.splitlines()[0][:300])
    return Verdict("fail", f"the cell's result was read as a partial score: {score} of "
                           f"{max_points:g} points", points=score or 0.0)
