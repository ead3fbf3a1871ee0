"""`rnn-check NOTEBOOK`: the student's self-check, from the notebook and the kit alone.

It finds the assignment from the notebook's own nbgrader cells, puts back any read-only cell that
was edited or deleted (from the release the kit carries, as the grader does), runs the notebook
top to bottom in a fresh kernel, and reports each exercise in the notebook's own words.

The report says "pass" only for a check that ran here and passed; quiz cells are "recorded,
graded later", cells whose checks are all hidden "checked only at grading". `check_open_notebook()`
does the same from inside a notebook (Colab, JupyterHub).

Exit codes: 0 every visible check passes and every written answer is written; 1 some check fails
or is not implemented yet, or a written answer is empty or as given;
2 nothing could be checked (no such file, not a Jupyter notebook, a damaged notebook, a notebook
of another course, a set-up cell that cannot run). Nothing heavy is imported before the file has
been read, so a usage error answers at once.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
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


WRITTEN_PLACEHOLDER = "YOUR ANSWER HERE"


def written_unanswered(student_cell, release_cell) -> bool:
    """A written answer still to write: empty, only whitespace, unchanged, or only the
    placeholder the release put there."""
    text = student_cell.source.strip()
    return text in ("", release_cell.source.strip(), WRITTEN_PLACEHOLDER)


def is_quiz(release_cell) -> bool:
    """A test cell whose items are compared only at grading (the kit's copy has no answers): it
    calls quiz_score or says "recorded, graded later" itself."""
    return "quiz_score(" in release_cell.source or RECORDED in release_cell.source


def answer_error(cell) -> str:
    """Why an executed answer cell stopped, or "" if it ran: a syntax error is named with its
    line (IPython reports it as the cell's error, before anything in the cell runs)."""
    from rnn_course_student.exercises import ANSI

    for output in cell.outputs:
        if output.output_type != "error":
            continue
        ename = output.get("ename", "")
        if ename in ("SyntaxError", "IndentationError", "TabError"):
            text = ANSI.sub("", "\n".join(output.get("traceback", [])))
            line = re.search(r"line (\d+)", text)
            kind = "a syntax error" if ename == "SyntaxError" else f"an {ename}"
            where = f" at line {line.group(1)}" if line else ""
            return f"it has {kind}{where}: {ANSI.sub('', str(output.get('evalue', ''))).strip()}"
        if ename != "NotImplementedError":
            return f"it stopped with {ename}: {ANSI.sub('', str(output.get('evalue', ''))).strip()}"
    return ""


# What each check of the report can say. Only "pass" means a check ran here and passed.
PASS, FAIL, TODO = "pass", "FAIL", "not implemented yet"
RECORDED, AT_GRADING, NOT_RUN = "recorded, graded later", "checked only at grading", "not run"


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
        broken = [(answer_name(originals[gid]), answer_error(cells[gid][1]))
                  for gid in exercise.answers if executed and gid in cells]
        broken = [(name, why) for name, why in broken if why]
        lines, statuses = [], []
        for name, why in broken:
            lines += [f"    - {FAIL}: your {name} cell did not run: {why}. Fix it and run it "
                      "again; the checks below need it."]
            statuses.append(FAIL)
        for gid in exercise.tests:
            index, cell = cells[gid]
            original = originals[gid]
            result = (verdict(cell, ran=stopped is None or index < stopped) if executed else
                      Verdict("not implemented", "no answer is written yet"))
            if stopped is not None and index == stopped:
                result.status, result.message = "fail", f"this cell {why_stopped}"
            label = (f"{description(original)} "
                     f"[{gid}, {_points(original.metadata['nbgrader']['points'])}]")
            if result.status == "not run":
                status, message = NOT_RUN, result.message
            elif not has_visible_code(original):
                status = TODO if not_done else AT_GRADING
                message = todo if not_done else "its checks are all hidden: they run at grading"
            elif result.status == "pass" and is_quiz(original):
                status, message = RECORDED, ("your answers have the right form; each item is "
                                             "compared when your notebook is graded")
            elif result.status == "pass":
                status = PASS
                message = ("passes the visible checks; more checks run at grading"
                           if gid in hidden else "")
            elif result.status == "not implemented" or (result.status == "fail" and not_done):
                status = TODO
                message = todo or (result.message + ": write your code in its place"
                                   if "NotImplementedError" in result.message else result.message)
            else:
                status, message = FAIL, result.message
            lines += _item(status, message, label)
            statuses.append(status)
        if statuses:
            found = set(statuses)
            if found & {FAIL, NOT_RUN}:
                overall, failing = FAIL, failing + 1
            elif TODO in found:
                overall, failing = TODO, failing + 1
            else:
                passing += 1
                rest = "; ".join(f"{statuses.count(s)} {s}" for s in (RECORDED, AT_GRADING)
                                 if s in found)
                if not rest:
                    overall = PASS
                elif PASS in found:
                    overall = f"{PASS} ({statuses.count(PASS)} visible), {rest}"
                else:
                    overall = rest
            print(f"\n  {exercise.name}: {overall}", file=out)
            for line in lines:
                print(line, file=out)
        for gid in exercise.written:
            if gid in cells and written_unanswered(cells[gid][1], originals[gid]):
                points = originals[gid].metadata["nbgrader"]["points"]
                unanswered_written.append(f"{exercise.name} [{gid}, {_points(points)}]")
    if unanswered_written:
        print("\n  Written answers still unanswered (empty or as given; graded by hand, they "
              "count for the total):", file=out)
        for item in unanswered_written:
            print(f"    - {item}", file=out)
    total = passing + failing
    print(f"\n{passing} of {total} exercises pass their visible checks"
          + ("." if not failing else f"; {failing} to go.")
          + (f" {len(unanswered_written)} written answer(s) still to write."
             if unanswered_written else ""), file=out)
    return EXIT_FAIL if failing or unanswered_written else EXIT_PASS


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


def _open_notebook_path(folder: Path) -> Path:
    """The notebook this kernel belongs to, saved into `folder` when it has to be fetched: Colab
    hands its contents over on request; Jupyter's server names it in JPY_SESSION_NAME."""
    import os

    try:
        from google.colab import _message  # Colab's own channel to the open notebook
    except ImportError:
        _message = None
    if _message is not None:
        contents = _message.blocking_request("get_ipynb", timeout_sec=120)["ipynb"]
        path = folder / "open_notebook.ipynb"
        path.write_text(json.dumps(contents))
        return path
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session.endswith(".ipynb"):
        named = Path(session)
        return named if named.is_file() else Path.cwd() / named.name
    raise CannotCheck("this kernel does not say which notebook it runs: give its file name, e.g. "
                      "check_open_notebook('rnn1_forward.ipynb').")


def check_open_notebook(path: str | Path | None = None, *, timeout: int = 300) -> int:
    """rnn-check from inside a notebook (Colab, JupyterHub): checks the open notebook as last
    saved (save first), or `path`, and prints the report in the cell. Returns the exit code."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="rnn-check-") as tmp:
        try:
            target = Path(path) if path is not None else _open_notebook_path(Path(tmp))
            if target.name == "open_notebook.ipynb":  # fetched from Colab: name it as the kit does
                assignment, _ = identify(read_notebook(target), load_course())
                target = target.rename(target.with_name(f"{assignment}.ipynb"))
            print(f"Checking {target.name} as last saved.")
            return check(target, timeout=timeout)
        except CannotCheck as problem:
            print(f"rnn-check: cannot check this notebook: {problem}")
            return EXIT_CANNOT_CHECK


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="rnn-check",
        description="Run a course notebook as the grader will and report each check: pass (it "
                    "ran and passed), FAIL (and why), not implemented yet, recorded, graded "
                    "later (quizzes) or checked only at grading (hidden checks); list written "
                    "answers still to do.",
        epilog="Exit status: 0 all visible checks pass and every written answer is written, 1 "
               "otherwise, 2 the notebook could not be checked.")
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
