"""`rnn-check NOTEBOOK`: the student's self-check, from the notebook and the kit alone.

It finds the assignment from the notebook's own nbgrader cells, puts back any read-only cell that
was edited or deleted (from the release the kit carries, as the grader does), runs the notebook
top to bottom in a fresh kernel, and reports each exercise in the notebook's own words.

Exit codes: 0 every visible check passes; 1 some check fails or is not implemented yet;
2 nothing could be checked (no such file, not a Jupyter notebook, a damaged notebook, a notebook
of another course, a set-up cell that cannot run). Nothing heavy is imported before the file has
been read, so a usage error answers at once.
"""

from __future__ import annotations

import argparse
import copy
import json
import subprocess
import sys
from pathlib import Path

EXIT_PASS, EXIT_FAIL, EXIT_CANNOT_CHECK = 0, 1, 2
RELEASE = Path(__file__).resolve().parent / "release"  # package data, written by the kit's build
MANIFEST = "course.json"


class CannotCheck(Exception):
    """The notebook could not be checked at all; the message says why and what to do."""


# --- reading ----------------------------------------------------------------------------------


def read_notebook(path: Path):
    """The notebook at `path`, or CannotCheck naming the problem (missing, folder, not a
    notebook, damaged)."""
    if not path.exists():
        raise CannotCheck(f"{path}: no such file.")
    if path.is_dir():
        raise CannotCheck(f"{path} is a folder, not a notebook: give the .ipynb file inside it.")
    raw = path.read_bytes()
    is_ipynb = path.suffix.lower() == ".ipynb"
    looks_like_json = raw.lstrip().startswith(b"{")
    if not (is_ipynb or looks_like_json):
        kind = f"a {path.suffix} file" if path.suffix else "a file without the .ipynb ending"
        raise CannotCheck(f"{path} is not a Jupyter notebook ({kind}). Give the .ipynb file you "
                          "worked in, e.g. rnn1_forward.ipynb.")
    if not raw.strip():
        raise CannotCheck(f"{path} is damaged: the file is empty. JupyterLab keeps a checkpoint: "
                          "File > Revert Notebook to Checkpoint.")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        if not looks_like_json:
            raise CannotCheck(f"{path} is not a Jupyter notebook: it is not JSON.") from None
        raise CannotCheck(f"{path} is damaged: it is not valid JSON ({error}). JupyterLab keeps a "
                          "checkpoint: File > Revert Notebook to Checkpoint.") from None
    if not isinstance(data, dict) or "cells" not in data or "nbformat" not in data:
        raise CannotCheck(f"{path} is not a Jupyter notebook: it is JSON without notebook cells.")
    import nbformat

    try:
        notebook = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(notebook)
    except Exception as error:  # nbformat raises several kinds for one problem: a broken file
        first = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise CannotCheck(f"{path} is damaged: its cells do not follow the notebook format "
                          f"({first}).") from None
    return notebook


def load_course(release: Path = RELEASE) -> dict:
    """The kit's manifest: the course id and, per assignment, the grade ids with hidden tests."""
    manifest = release / MANIFEST
    if not manifest.is_file():
        raise CannotCheck("this installation of rnn_course_student carries no release notebooks: "
                          "install the kit's wheel (pip install wheels/*.whl from the kit your "
                          "instructor handed out).")
    return json.loads(manifest.read_text())


def identify(notebook, course: dict, release: Path = RELEASE) -> tuple[str, object]:
    """(assignment, release notebook) for a student's notebook, from its nbgrader grade ids."""
    import nbformat

    from rnn_course_student.exercises import grade_id

    ids = {grade_id(c) for c in notebook.cells} - {""}
    names = sorted(course["assignments"])
    if not ids:
        raise CannotCheck(f"this is not one of the {course['course_id']} notebooks "
                          f"({', '.join(names)}): it has no nbgrader cells. Work in the notebook "
                          "from the kit.")
    best, overlap = None, 0
    for assignment in names:
        if f"setup_{assignment}" in ids:
            best, overlap = assignment, len(ids)
            break
        release_nb = nbformat.read(release / f"{assignment}.ipynb", as_version=4)
        shared = len(ids & {grade_id(c) for c in release_nb.cells})
        if shared > overlap:
            best, overlap = assignment, shared
    if best is None:
        sample = ", ".join(sorted(ids)[:3])
        raise CannotCheck(f"this is a notebook of another course: its grade ids ({sample}, ...) "
                          f"belong to none of the {course['course_id']} assignments "
                          f"({', '.join(names)}).")
    return best, nbformat.read(release / f"{best}.ipynb", as_version=4)


# --- running ----------------------------------------------------------------------------------


def restore_read_only_cells(student, release) -> tuple[object, list[str]]:
    """The notebook the grader would run: the student's answers, the release's read-only cells
    (edited ones replaced, deleted ones put back in place). Returns it and what was changed."""
    from nbgrader.utils import is_locked, is_solution

    from rnn_course_student.exercises import description, grade_id

    notebook = copy.deepcopy(student)
    notes = []
    previous = -1
    for original in release.cells:
        gid = grade_id(original)
        if not gid:
            continue
        positions = [i for i, c in enumerate(notebook.cells) if grade_id(c) == gid]
        fresh = copy.deepcopy(original)
        if not positions:
            what = "answer" if is_solution(original) else "read-only"
            notes.append(f"the {what} cell '{description(original)}' ({gid}) was deleted: the "
                         "grader puts the original back, and so does this check.")
            notebook.cells.insert(previous + 1, fresh)
            previous += 1
            continue
        previous = positions[0]
        cell = notebook.cells[previous]
        if is_locked(original) and (cell.source != original.source
                                    or cell.cell_type != original.cell_type):
            notes.append(f"you changed the read-only cell '{description(original)}' ({gid}): the "
                         "grader runs the original, and so does this check.")
            notebook.cells[previous] = fresh
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    return notebook, notes


def execute(notebook, folder: Path, timeout: int) -> tuple[int | None, str]:
    """Runs every cell (errors do not stop the run). Returns (index of the cell that stopped the
    run, why) or (None, "") when every cell ran."""
    from jupyter_client.kernelspec import NoSuchKernel
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    from rnn_course_student.environment import quiet_tensorflow

    quiet_tensorflow(override=True)  # the kernel inherits it: TF's notices would score 0
    running = {"index": None}
    client = NotebookClient(
        notebook, timeout=timeout, kernel_name="python3", allow_errors=True,
        resources={"metadata": {"path": str(folder)}},
        on_cell_execute=lambda cell, cell_index: running.update(index=cell_index),
    )
    try:
        # The kernel's own stderr holds only its start-up notices, not the cells' output.
        client.execute(stderr=subprocess.DEVNULL)
    except NoSuchKernel:
        raise CannotCheck("no Python kernel is installed: pip install ipykernel") from None
    except CellTimeoutError:
        return running["index"], f"it ran longer than {timeout} s and was stopped"
    except DeadKernelError:
        return running["index"], "the Python kernel died while running it (out of memory?)"
    return None, ""


# --- reporting --------------------------------------------------------------------------------


def _points(value) -> str:
    return f"{value:g} point" + ("" if value == 1 else "s")


def _item(status: str, message: str, label: str) -> list[str]:
    """One check of the report: its verdict and message first, then which check it was."""
    return [f"    - {status}" + (f": {message}" if message else ""), f"      check: {label}"]


def untouched(student, release) -> bool:
    """True when no answer cell differs from the release: nothing to run yet."""
    from nbgrader.utils import is_solution

    from rnn_course_student.exercises import grade_id

    given = {grade_id(c): c.source for c in release.cells if is_solution(c)}
    return all(c.source == given[grade_id(c)] for c in student.cells if grade_id(c) in given)


def report(path: Path, assignment: str, course: dict, release, run, notes: list[str],
           stopped: int | None, why_stopped: str, out=None, *, executed: bool = True) -> int:
    """Prints the per-exercise report; returns the exit code. With `executed=False` (an untouched
    notebook, never run) every check is reported as not implemented yet."""
    from rnn_course_student.exercises import (
        Verdict,
        answer_name,
        description,
        exercises,
        grade_id,
        has_visible_code,
        unanswered,
        verdict,
    )

    out = out or sys.stdout
    hidden = set(course["assignments"][assignment].get("hidden_tests", []))
    cells = {grade_id(c): (i, c) for i, c in enumerate(run.cells) if grade_id(c)}
    originals = {grade_id(c): c for c in release.cells if grade_id(c)}
    setup = [gid for gid in cells if gid.startswith("setup_")]
    for gid in setup:
        index, cell = cells[gid]
        errors = [o for o in cell.outputs if o.output_type == "error"]
        if errors:
            raise CannotCheck(f"the set-up cell failed, so nothing could be checked: "
                              f"{errors[0].get('ename')}: {errors[0].get('evalue')}. Is the kit "
                              "installed in the Python that runs this notebook?")
    print(f"{path.name}: assignment {assignment}", file=out)
    if path.name != f"{assignment}.ipynb":
        notes.append(f"the grader looks for {assignment}.ipynb: submit the notebook under that "
                     "name.")
    for note in notes:
        print(f"  note: {note}", file=out)
    if not executed:
        print("  nothing written yet: every answer cell is as the kit gave it, so the notebook was "
              "not run.", file=out)

    failing = passing = 0
    unanswered_written = []
    for exercise in exercises(release):
        not_done = [answer_name(originals[gid]) for gid in exercise.answers
                    if gid in cells and unanswered(cells[gid][1], originals[gid])]
        todo = (f"{', '.join(not_done)} still has `raise NotImplementedError()`: write your code "
                "in its place" if not_done else "")
        lines, statuses = [], set()
        for gid in exercise.tests:
            index, cell = cells[gid]
            result = (verdict(cell, ran=stopped is None or index < stopped) if executed else
                      Verdict("not implemented", "no answer is written yet"))
            if stopped is not None and index == stopped:
                result.status, result.message = "fail", f"this cell {why_stopped}"
            label = (f"{description(originals[gid])} "
                     f"[{gid}, {_points(originals[gid].metadata['nbgrader']['points'])}]")
            if result.status == "pass" and not has_visible_code(originals[gid]):
                result.status = "not implemented" if not_done else "pass"
                status = "not implemented yet" if not_done else "pass"
                message = todo if not_done else "its checks are all hidden: they run at grading"
            elif result.status == "pass":
                status = "pass"
                message = ("passes the visible checks; more checks run at grading"
                           if gid in hidden else "")
            elif result.status == "not implemented" or (result.status == "fail" and not_done):
                result.status, status = "not implemented", "not implemented yet"
                message = todo or (result.message + ": write your code in its place"
                                   if "NotImplementedError" in result.message else result.message)
            else:
                status, message = result.status.upper(), result.message
            lines += _item(status, message, label)
            statuses.add(result.status)
        if exercise.tests:
            if statuses <= {"pass"}:
                overall, passing = "pass", passing + 1
            elif statuses <= {"pass", "not implemented"}:
                overall, failing = "not implemented yet", failing + 1
            else:
                overall, failing = "FAIL", failing + 1
            print(f"\n  {exercise.name}: {overall}", file=out)
            for line in lines:
                print(line, file=out)
        for gid in exercise.written:
            if gid in cells and cells[gid][1].source.strip() == originals[gid].source.strip():
                points = originals[gid].metadata["nbgrader"]["points"]
                unanswered_written.append(f"{exercise.name} [{gid}, {_points(points)}]")
    if unanswered_written:
        print("\n  Written answers still unanswered (graded by hand; they count for the total):",
              file=out)
        for item in unanswered_written:
            print(f"    - {item}", file=out)
    total = passing + failing
    print(f"\n{passing} of {total} exercises pass their visible checks"
          + ("." if not failing else f"; {failing} to go."), file=out)
    return EXIT_FAIL if failing else EXIT_PASS


def check(path: Path, *, timeout: int = 300, release: Path = RELEASE, out=None) -> int:
    """The whole self-check of one notebook; returns the exit code (see the module docstring)."""
    notebook = read_notebook(path)
    course = load_course(release)
    assignment, release_nb = identify(notebook, course, release)
    run, notes = restore_read_only_cells(notebook, release_nb)
    if untouched(run, release_nb):  # every check would fail on NotImplementedError: save the run
        return report(path, assignment, course, release_nb, run, notes, None, "", out,
                      executed=False)
    stopped, why = execute(run, path.resolve().parent, timeout)
    return report(path, assignment, course, release_nb, run, notes, stopped, why, out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rnn-check",
        description="Run a course notebook as the grader will and report each exercise: pass, "
                    "fail (and why), or not implemented yet; list written answers still to do.",
        epilog="Exit status: 0 all visible checks pass, 1 some fail or are not implemented yet, "
               "2 the notebook could not be checked.")
    parser.add_argument("notebook", type=Path, help="your notebook, e.g. rnn1_forward.ipynb")
    parser.add_argument("--timeout", type=int, default=300, metavar="SECONDS",
                        help="the longest any one cell may run (default 300)")
    args = parser.parse_args(argv)
    try:
        return check(args.notebook, timeout=args.timeout)
    except CannotCheck as problem:
        print(f"rnn-check: cannot check {args.notebook}: {problem}", file=sys.stderr)
        return EXIT_CANNOT_CHECK


if __name__ == "__main__":
    sys.exit(main())
