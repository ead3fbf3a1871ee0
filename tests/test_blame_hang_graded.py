"""An earlier function that hangs, graded by `rnn-grade autograde` under bubblewrap with the time
budgets the command derives from the solutions' run times: the right later function keeps every
point, visible and hidden, and the hanging function loses exactly its own cells.

rnn1: rnn_step_forward never returns, rnn_forward is right; rnn2: rnn_step_backward never returns,
rnn_backward is right. The hang costs the step's own cells their points, but neither the step's
time-outs (charged to the notebook's budget) nor the catalogue's re-check of the step (a call into
the kernel with no limit of its own) may starve the later function's cells or keep the re-check with
a trusted step from running. One small batch of two notebooks, graded once for the module.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from autograder.sandbox import bwrap
from nbgrader_notebooks import with_answers

REPO = Path(__file__).resolve().parents[1]
HANG = "def {name}({args}):\n    while True:\n        pass\n"
CASES = {  # assignment -> (hanging earlier function, its arguments, its cells, the later's cells)
    "rnn1_forward": ("rnn_step_forward", "x_t, h_prev, W_x, W_h, b",
                     ("rnn_step_forward_matches_keras", "rnn_step_forward_other_shapes"),
                     ("rnn_forward_matches_keras", "rnn_forward_other_shapes")),
    "rnn2_bptt": ("rnn_step_backward", "dh_t, x_t, h_prev, h_t, W_x, W_h",
                  ("rnn_step_backward_matches_tape", "rnn_step_backward_other_shapes"),
                  ("rnn_backward_matches_finite_differences", "rnn_backward_matches_tape",
                   "rnn_backward_other_shapes")),
}
STUDENT = "hangs"

pytestmark = pytest.mark.slow


def _points(notebook) -> dict[str, float]:
    return {c.metadata["nbgrader"]["grade_id"]: float(c.metadata["nbgrader"]["points"])
            for c in notebook.cells if c.metadata.get("nbgrader", {}).get("grade")}


def _source_points(assignment: str) -> dict[str, float]:
    source = REPO / "course" / "source" / assignment / f"{assignment}.ipynb"
    return _points(nbformat.read(source, 4))


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{assignment: ({grade id: score}, {grade id: printed text}, rnn-grade's output)}."""
    found = bwrap.probe()
    if isinstance(found, str):
        pytest.skip(f"{found} (install it: apt-get install bubblewrap)")
    where = tmp_path_factory.mktemp("blame-hang")
    course = where / "course"
    for assignment in CASES:
        shutil.copytree(REPO / "course" / "source" / assignment, course / "source" / assignment)
    for name in ("nbgrader_config.py", "solution-times.json"):  # the budgets come from the latter
        shutil.copy(REPO / "course" / name, course)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    grader = [sys.executable, "-m", "autograder.cli", "--course", str(course)]
    subprocess.run([*grader, "release", *CASES], check=True, env=env, capture_output=True)
    (where / "class").mkdir()
    for assignment, (earlier, args, _, _) in CASES.items():
        release = nbformat.read(course / "release" / assignment / f"{assignment}.ipynb", 4)
        source = nbformat.read(course / "source" / assignment / f"{assignment}.ipynb", 4)
        hanging = {f"{earlier}_answer": HANG.format(name=earlier, args=args)}
        nbformat.write(with_answers(release, source, hanging),
                       where / "class" / f"{STUDENT}_{assignment}.ipynb")
    # The command's own limits: a blamed visible check needs the kit's 20 s for the hanging
    # step and then its second run within one cell limit, on a busy machine too. Each hang
    # costs a cell limit (the step's test, the cells trying it out, the hidden checks calling
    # it); this module takes minutes.
    ran = subprocess.run([*grader, "autograde", str(where / "class"), "--sandbox", "bwrap",
                          "--jobs", "2", "--no-progress"], env=env,
                         capture_output=True, text=True, timeout=1200)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    out = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for assignment in CASES:
            sub = gb.find_submission_notebook(assignment, assignment, STUDENT)
            scores = {grade.name: grade.score for grade in sub.grades}
            notebook = nbformat.read(course / "autograded" / STUDENT / assignment /
                                     f"{assignment}.ipynb", 4)
            printed = {c.metadata.get("nbgrader", {}).get("grade_id"):
                       "".join(o.get("text", "") + o.get("evalue", "")
                               for o in c.get("outputs", []))
                       for c in notebook.cells}
            out[assignment] = (scores, printed, ran.stdout)
    return out


@pytest.mark.parametrize("assignment", sorted(CASES))
def test_a_right_later_function_keeps_every_point_when_the_earlier_one_hangs(graded, assignment):
    scores, printed, output = graded[assignment]
    earlier, _, own, later = CASES[assignment]
    maximum = _source_points(assignment)
    for grade_id in later:
        assert scores[grade_id] == maximum[grade_id], (grade_id, printed[grade_id], output)
    assert f"calls your {earlier}" in printed[later[0]], printed[later[0]]


@pytest.mark.parametrize("assignment", sorted(CASES))
def test_the_hanging_function_loses_exactly_its_own_cells(graded, assignment):
    scores, printed, output = graded[assignment]
    _, _, own, later = CASES[assignment]
    maximum = _source_points(assignment)
    for grade_id in own:
        assert scores[grade_id] == 0, (grade_id, printed[grade_id])
    # The cells after the later function's (other exercises, right answers) are not starved either.
    rest = [g for g in maximum if g not in own and g not in later and
            not g.startswith("written_")]
    assert rest, maximum
    for grade_id in rest:
        assert scores[grade_id] == maximum[grade_id], (grade_id, printed.get(grade_id), output)
