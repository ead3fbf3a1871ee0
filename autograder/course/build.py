"""Regenerates everything the course derives from `course/source`, and finds what has drifted.

The student release (`course/release/<id>/`) comes from nbgrader's generate_assignment
(``Course.build_release``); the executed solutions (`solutions/<id>.ipynb`, outputs and plots
included) from the grader's notebook runner, and how long each took
(`course/solution-times.json`, for rnn-grade's time budgets).

    rnn-grade build            # regenerate release and solutions
    rnn-grade build --check    # exit 1 and list what drifted; executes nothing
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

import nbformat

from ..judge.authoring import hidden_check_problems
from . import budget
from .folder import COURSE_DIR, SOLUTIONS_DIR, Course
from .student_kit import kit_drift


def execute(notebook: nbformat.NotebookNode, cwd: Path, timeout: int = 600):
    """Executes `notebook` in place, in a copy of folder `cwd`, with the grader's notebook runner
    (autograder/preprocessors/execute.py: the kernel, environment and limits a submission gets,
    so the time measured here is the one its budget is a multiple of); the instructor's notebook
    is trusted: no OS sandbox, its hidden tests run in its kernel. Returns the seconds it took.
    Raises nbclient's CellExecutionError if a cell fails."""
    from nbclient.exceptions import CellExecutionError

    from ..grading.limits import Limits
    from ..grading.task import Findings, GradingTask
    from ..preprocessors import LimitedExecute
    from ..sandbox import isolation

    cells = sum(1 for c in notebook.cells if c.cell_type == "code")
    limits = Limits(cell_timeout=timeout, setup_timeout=timeout,
                    notebook_timeout=timeout * max(1, cells))
    task = GradingTask("instructor", Path(cwd).name, b"", "", {}, limits,
                       sandbox=isolation.choose("none"), judge=False)
    findings = Findings()
    with tempfile.TemporaryDirectory(prefix="rnn-course-run-") as tmp:
        work = Path(tmp) / "work"  # the kernel's home and caches go here, not into source/
        shutil.copytree(cwd, work)
        start = time.perf_counter()
        # No timestamps, so regenerating an unchanged notebook changes nothing.
        LimitedExecute(record_timing=False).preprocess(
            notebook, {"task": task, "findings": findings, "metadata": {"path": str(work)}})
        seconds = time.perf_counter() - start
    run = findings.execution
    if run.error or run.died:
        raise RuntimeError(f"{Path(cwd).name}: {run.error or run.died}")
    for cell in notebook.cells:
        errors = [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        if errors:
            raise CellExecutionError.from_cell_and_msg(cell, errors[0])
    return seconds


def build_solutions(
    course_dir: Path = COURSE_DIR, solutions_dir: Path = SOLUTIONS_DIR, ids: list[str] | None = None
) -> dict[str, float]:
    """Executes each source notebook top to bottom and writes it, outputs and plots included, to
    `solutions_dir/<id>.ipynb`. Returns the run time of each notebook in seconds."""
    course_dir, solutions_dir = Path(course_dir), Path(solutions_dir)
    solutions_dir.mkdir(parents=True, exist_ok=True)
    seconds = {}
    for assignment in ids or Course(course_dir).assignments:
        folder = course_dir / "source" / assignment
        notebook = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
        seconds[assignment] = execute(notebook, folder)
        nbformat.write(notebook, solutions_dir / f"{assignment}.ipynb")
    return seconds


def _cells(notebook: nbformat.NotebookNode, with_metadata: bool) -> list[tuple]:
    return [
        (c.cell_type, c.source, c.metadata.get("nbgrader") if with_metadata else None)
        for c in notebook.cells
    ]


def find_drift(course_dir: Path = COURSE_DIR, solutions_dir: Path = SOLUTIONS_DIR) -> list[str]:
    """What no longer matches `course_dir/source`, one line per problem (empty: nothing drifted).

    The release is regenerated in a temporary copy and compared cell by cell (type, source,
    nbgrader metadata). Solutions are compared by their cells' type and source, and must have
    been executed without errors; they are not re-executed.
    """
    course_dir, solutions_dir = Path(course_dir), Path(solutions_dir)
    course = Course(str(course_dir))
    problems = []
    ids = course.assignments
    with tempfile.TemporaryDirectory(prefix="rnn-course-drift-") as tmp:
        fresh = Path(tmp) / "course"
        fresh.mkdir()
        shutil.copytree(course_dir / "source", fresh / "source")
        if (course_dir / "nbgrader_config.py").is_file():
            shutil.copy(course_dir / "nbgrader_config.py", fresh)
        Course(fresh).build_release(ids)
        for assignment in ids:
            path = Path(course.release_path(assignment))
            name = path.relative_to(course.root)
            if not path.is_file():
                problems.append(f"course/{name}: missing")
                continue
            expected = nbformat.read(Course(str(fresh)).release_path(assignment), as_version=4)
            committed = nbformat.read(path, as_version=4)
            if _cells(committed, True) != _cells(expected, True):
                problems.append(f"course/{name}: differs from what source/ generates")
    released = Path(course.root) / course.coursedir.release_directory
    if released.is_dir():
        for extra in sorted(set(p.name for p in released.iterdir() if p.is_dir()) - set(ids)):
            problems.append(f"course/release/{extra}: no such assignment in source/")

    for assignment in ids:
        path = solutions_dir / f"{assignment}.ipynb"
        if not path.is_file():
            problems.append(f"solutions/{path.name}: missing")
            continue
        source = nbformat.read(course.source_path(assignment), 4)
        solution = nbformat.read(path, as_version=4)
        if _cells(solution, False) != _cells(source, False):
            problems.append(f"solutions/{path.name}: cells differ from source/{assignment}")
            continue
        code = [c for c in solution.cells if c.cell_type == "code"]
        if any(c.execution_count is None for c in code):
            problems.append(f"solutions/{path.name}: not executed")
        if any(o.output_type == "error" for c in code for o in c.outputs):
            problems.append(f"solutions/{path.name}: a cell raised an error")
    if solutions_dir.is_dir():
        for extra in sorted(p.stem for p in solutions_dir.glob("*.ipynb")):
            if extra not in ids:
                problems.append(f"solutions/{extra}.ipynb: no such assignment in source/")
    for assignment in ids:  # the judge runs the hidden checks: a name it lacks is an error
        source = nbformat.read(course.source_path(assignment), as_version=4)
        problems += hidden_check_problems(source, f"source/{assignment}/{assignment}.ipynb")
    return problems + kit_drift(course_dir)  # the student kit, rebuilt from release/, compared


def build(course_dir: Path = COURSE_DIR, solutions_dir: Path = SOLUTIONS_DIR,
          ids: list[str] | None = None, out=print) -> None:
    """Regenerates the release, the executed solutions and their run times."""
    course_dir, solutions_dir = Path(course_dir), Path(solutions_dir)
    for path in Course(course_dir).build_release(ids):
        out(f"release: {path}")
    times = build_solutions(course_dir, solutions_dir, ids)
    for assignment, seconds in times.items():
        out(f"solution: {solutions_dir / (assignment + '.ipynb')} executed in {seconds:.1f} s")
    # rnn-grade derives each notebook's time budget from these (autograder/course/budget.py).
    out(f"solution run times: {budget.save(course_dir, times)}")
