"""Regenerates everything the course derives from `course/source`, and finds what has drifted.

The student release (`course/release/<id>/`) comes from nbgrader's generate_assignment; the
executed solutions (`solutions/<id>.ipynb`, outputs and plots included) from nbclient, and how
long each took (`course/solution-times.json`, for rnn-grade's time budgets).

    python -m autograder.build            # regenerate release and solutions
    python -m autograder.build --check    # exit 1 and list what drifted; executes nothing
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from rnn_course_student.environment import quiet_tensorflow

from . import budget

REPO = Path(__file__).resolve().parent.parent
COURSE_DIR = REPO / "course"
SOLUTIONS_DIR = REPO / "solutions"

# Every kernel started from here inherits them (nbgrader scores a test cell with stderr as 0).
quiet_tensorflow()


def _venv_on_path() -> None:
    """nbgrader shells out to `alembic` (gradebook migrations): it must be on PATH."""
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def assignments(course_dir: Path = COURSE_DIR) -> list[str]:
    """Assignment ids: the folders `source/<id>/` that hold a notebook `<id>.ipynb`."""
    from .course import Course

    return Course(str(course_dir)).assignments


def nbgrader_api(course_dir: Path):
    """An NbGraderAPI for `course_dir`, configured by its own nbgrader_config.py."""
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    from .course import load_config

    _venv_on_path()
    config = load_config(str(course_dir))
    # The exchange is for distributing to a JupyterHub; building never touches it.
    config.Exchange.root = str(Path(tempfile.gettempdir()) / "rnn-course-exchange")
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir, config=config)


def build_release(course_dir: Path = COURSE_DIR, ids: list[str] | None = None) -> list[Path]:
    """Runs nbgrader's generate_assignment for every assignment (or `ids`); returns the release
    notebooks. Writes `course_dir/release/` and records the hidden tests in the gradebook.

    Raises:
        RuntimeError: nbgrader refused a notebook; the message carries its log.
    """
    from .judge.secret import course_secret

    course_dir = Path(course_dir)
    course_secret(course_dir)  # made at the first release: the judge draws its cases from it
    api = nbgrader_api(course_dir)
    written = []
    for assignment in ids or assignments(course_dir):
        result = api.generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            raise RuntimeError(
                f"nbgrader generate_assignment {assignment} failed:\n"
                f"{result.get('log', '')}\n{result.get('error', '')}"
            )
        written.append(Path(api.coursedir.format_path(api.coursedir.release_directory, ".",
                                                      assignment)) / f"{assignment}.ipynb")
    return written


def execute(notebook: nbformat.NotebookNode, cwd: Path, timeout: int = 600):
    """Executes `notebook` in place with nbclient in folder `cwd`; returns the seconds it took.
    Raises nbclient's CellExecutionError if a cell fails."""
    from nbclient import NotebookClient

    start = time.perf_counter()
    NotebookClient(
        notebook,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
        record_timing=False,  # no timestamps, so regenerating an unchanged notebook changes nothing
    ).execute()
    return time.perf_counter() - start


def build_solutions(
    course_dir: Path = COURSE_DIR, solutions_dir: Path = SOLUTIONS_DIR, ids: list[str] | None = None
) -> dict[str, float]:
    """Executes each source notebook top to bottom and writes it, outputs and plots included, to
    `solutions_dir/<id>.ipynb`. Returns the run time of each notebook in seconds."""
    course_dir, solutions_dir = Path(course_dir), Path(solutions_dir)
    solutions_dir.mkdir(parents=True, exist_ok=True)
    seconds = {}
    for assignment in ids or assignments(course_dir):
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
    from .course import Course

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
        build_release(fresh, ids)
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
    from .judge.authoring import hidden_check_problems

    for assignment in ids:  # the judge runs the hidden checks: a name it lacks is an error
        source = nbformat.read(course.source_path(assignment), as_version=4)
        problems += hidden_check_problems(source, f"source/{assignment}/{assignment}.ipynb")
    from .student_kit import kit_drift  # the student kit, rebuilt from release/ and compared

    return problems + kit_drift(course_dir)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder.build",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="change nothing; exit 1 and list what drifted from course/source")
    parser.add_argument("--course", type=Path, default=COURSE_DIR,
                        help="the nbgrader course folder")
    parser.add_argument("--solutions", type=Path, default=SOLUTIONS_DIR,
                        help="where the executed solutions go")
    parser.add_argument("assignment", nargs="*", help="only these assignments (default: all)")
    args = parser.parse_args(argv)

    if args.check:
        problems = find_drift(args.course, args.solutions)
        for problem in problems:
            print(f"drift: {problem}")
        if problems:
            print("Regenerate with: python -m autograder.build")
            return 1
        print("release/ and solutions/ match course/source.")
        return 0

    ids = args.assignment or None
    for path in build_release(args.course, ids):
        print(f"release: {path}")
    times = build_solutions(args.course, args.solutions, ids)
    for assignment, seconds in times.items():
        print(f"solution: {args.solutions / (assignment + '.ipynb')} executed in {seconds:.1f} s")
    # rnn-grade derives each notebook's time budget from these (autograder/budget.py).
    print(f"solution run times: {budget.save(args.course, times)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
