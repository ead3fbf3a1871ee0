"""Blame in the right place, in the release notebooks' own visible test cells run in a real
kernel: whatever a student's earlier function does (wrong values, a wrong shape or dtype, an
exception, output on stderr, inputs changed in place, a hang), a right later function keeps the
points of every visible check that calls it, with a note naming the earlier one; a wrong later
function still fails (the negative control).

The pairs (later <- earlier) come from the notebooks themselves: every visible test cell that calls
`check_blaming_earlier`, checked against the answers that call an earlier answer. One kernel per
assignment runs the release's cells with the model answers, then, per kind of mistake, redefines
the earlier function and runs the later function's visible test cells again.
"""

import ast
import re

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course.folder import COURSE_DIR, Course
from rnn_course_student.environment import quiet_tensorflow

MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
HANG_LIMIT_S = 3  # the kernel's EARLIER_TIME_LIMIT_S here, so that a hang costs 3 s, not 20

# Per earlier function: the kinds of mistake, each a replacement written as a student might.
WRONG = {
    "rnn_step_forward": {
        "values": "def rnn_step_forward(x_t, h_prev, W_x, W_h, b):\n"
                  "    return 1 / (1 + np.exp(-(x_t @ W_x + h_prev @ W_h + b)))\n",
        "shape": "def rnn_step_forward(x_t, h_prev, W_x, W_h, b):\n"
                 "    return np.tanh(x_t @ W_x + h_prev @ W_h + b)[:, :-1]\n",
        "dtype": "def rnn_step_forward(x_t, h_prev, W_x, W_h, b):\n"
                 "    return np.tanh(x_t @ W_x + h_prev @ W_h + b).astype(np.float16)\n",
        "exception": "def rnn_step_forward(x_t, h_prev, W_x, W_h, b):\n"
                     "    return np.tanh(x_t @ W_x + h_prev @ W_h.T[:1] + b)\n",
        "stderr": "import sys\n\ndef rnn_step_forward(x_t, h_prev, W_x, W_h, b):\n"
                  "    print('debug', x_t.shape, file=sys.stderr)\n"
                  "    return np.tanh(x_t @ W_x + h_prev @ W_h + b)\n",
        "in place": "def rnn_step_forward(x_t, h_prev, W_x, W_h, b):\n"
                    "    x_t *= 2.0\n    return np.tanh(x_t @ W_x + h_prev @ W_h + b)\n",
        "hang": "def rnn_step_forward(x_t, h_prev, W_x, W_h, b):\n"
                "    while True:\n        pass\n",
    },
    "rnn_step_backward": {
        "values": "def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):\n"
                  "    dz = dh_t * (1 - h_t)\n"
                  "    return dz @ W_x.T, dz @ W_h.T, x_t.T @ dz, h_prev.T @ dz, dz.sum(axis=0)\n",
        # The mistake of the report: db not summed over the batch (a ValueError in the loop).
        "shape": "def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):\n"
                 "    dz = dh_t * (1 - h_t**2)\n"
                 "    return dz @ W_x.T, dz @ W_h.T, x_t.T @ dz, h_prev.T @ dz, dz\n",
        "dtype": "def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):\n"
                 "    dz = (dh_t * (1 - h_t**2)).astype(np.float16)\n"
                 "    return dz @ W_x.T.astype(np.float16), dz @ W_h.T.astype(np.float16), "
                 "x_t.T.astype(np.float16) @ dz, h_prev.T.astype(np.float16) @ dz, "
                 "dz.sum(axis=0)\n",
        "exception": "def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):\n"
                     "    grads = {'dx': dh_t}\n    return grads['dW']\n",
        "stderr": "import sys\n\ndef rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):\n"
                  "    print('step', file=sys.stderr)\n    dz = dh_t * (1 - h_t**2)\n"
                  "    return dz @ W_x.T, dz @ W_h.T, x_t.T @ dz, h_prev.T @ dz, dz.sum(axis=0)\n",
        "in place": "def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):\n"
                    "    h_t **= 2\n    dz = dh_t * (1 - h_t)\n"
                    "    return dz @ W_x.T, dz @ W_h.T, x_t.T @ dz, h_prev.T @ dz, "
                    "dz.sum(axis=0)\n",
        "hang": "def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):\n"
                "    while True:\n        pass\n",
    },
    "clip_by_global_norm": {
        "values": "def clip_by_global_norm(grads, max_norm):\n"
                  "    norm = tf.sqrt(tf.add_n([tf.reduce_sum(g**2) for g in grads]))\n"
                  "    return [g * 0.5 for g in grads], norm\n",
        "shape": "def clip_by_global_norm(grads, max_norm):\n"
                 "    norm = tf.sqrt(tf.add_n([tf.reduce_sum(g**2) for g in grads]))\n"
                 "    return [tf.reshape(g, (-1,)) for g in grads], norm\n",
        "dtype": "def clip_by_global_norm(grads, max_norm):\n"
                 "    norm = tf.sqrt(tf.add_n([tf.reduce_sum(g**2) for g in grads]))\n"
                 "    scale = max_norm / tf.maximum(norm, max_norm)\n"
                 "    return [tf.cast(g * scale, tf.float16) for g in grads], norm\n",
        "exception": "def clip_by_global_norm(grads, max_norm):\n"
                     "    raise TypeError('unsupported operand')\n",
        "stderr": "import sys\n\ndef clip_by_global_norm(grads, max_norm):\n"
                  "    print('clipping', file=sys.stderr)\n"
                  "    return tf.clip_by_global_norm(grads, max_norm)\n",
        "hang": "def clip_by_global_norm(grads, max_norm):\n"
                "    while True:\n        pass\n",
    },
}
# The note's second half says what the student's earlier function did in the first run.
SAYS = {"values": "failed with AssertionError", "dtype": "failed with AssertionError",
        "exception": "failed with ", "stderr": "wrote to stderr", "in place": "failed with ",
        "hang": f"did not finish within {HANG_LIMIT_S} s", "shape": "failed with "}


def _release(assignment):
    return nbformat.read(COURSE_DIR / "release" / assignment / f"{assignment}.ipynb", 4)


def _grade_id(cell):
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def blamed_cells(notebook):
    """{(later, earlier): [grade ids of the visible test cells that blame earlier for later]}."""
    found = {}
    for cell in notebook.cells:
        if not cell.metadata.get("nbgrader", {}).get("grade") or cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Call)
                    and getattr(node.func, "id", "") == "check_blaming_earlier"):
                later = node.args[1].id
                for keyword in node.keywords:
                    if keyword.arg != "time_limit":
                        found.setdefault((later, keyword.arg), []).append(_grade_id(cell))
    return found


def answers_calling_earlier_answers(source):
    """{(later, earlier)} from the model answers: an answer function that uses an earlier one."""
    pairs, defined = set(), []
    for cell in source.cells:
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
            tree = ast.parse(cell.source)
            used = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}
            mine = [n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))]
            pairs |= {(later, earlier) for later in mine for earlier in used & set(defined)}
            defined += mine
    return pairs


PAIRS = [(assignment, later, earlier)
         for assignment in Course(COURSE_DIR).assignments
         for later, earlier in blamed_cells(_release(assignment))]


def test_every_answer_that_calls_an_earlier_one_is_checked_with_blame():
    for assignment in Course(COURSE_DIR).assignments:
        source = nbformat.read(COURSE_DIR / "source" / assignment / f"{assignment}.ipynb", 4)
        assert set(blamed_cells(_release(assignment))) == answers_calling_earlier_answers(source), (
            assignment)
    assert {(later, earlier) for _, later, earlier in PAIRS} == {
        ("rnn_forward", "rnn_step_forward"), ("rnn_backward", "rnn_step_backward"),
        ("train_step", "clip_by_global_norm")}
    assert set(WRONG) == {earlier for _, _, earlier in PAIRS}


class Kernel:
    """One kernel that has run a release notebook, model answers pasted, up to its last blamed
    test cell (test cells and figures skipped); `run(source)` runs one more cell and returns its
    outputs."""

    def __init__(self, assignment, client, notebook):
        self.assignment, self.client, self.notebook = assignment, client, notebook

    def run(self, source):
        self.notebook.cells.append(nbformat.v4.new_code_cell(source))
        index = len(self.notebook.cells) - 1
        self.client.execute_cell(self.notebook.cells[index], index)
        return self.notebook.cells[index].outputs


@pytest.fixture(scope="module", params=sorted({p[0] for p in PAIRS}))
def kernel(request):
    assignment = request.param
    release = _release(assignment)
    source = nbformat.read(COURSE_DIR / "source" / assignment / f"{assignment}.ipynb", 4)
    answers = {_grade_id(c): "\n".join(line for line in c.source.splitlines()
                                       if not MARKER.match(line))
               for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}
    blamed = {gid for gids in blamed_cells(release).values() for gid in gids}
    last = max(i for i, c in enumerate(release.cells) if _grade_id(c) in blamed)
    for cell in release.cells:
        if _grade_id(cell) in answers:
            cell.source = answers[_grade_id(cell)]
    quiet_tensorflow(override=True)
    client = NotebookClient(release, timeout=300, kernel_name="python3", allow_errors=True,
                            resources={"metadata": {
                                "path": str(COURSE_DIR / "release" / assignment)}})
    with client.setup_kernel():
        for index, cell in enumerate(release.cells[:last + 1]):
            graded_test = cell.metadata.get("nbgrader", {}).get("grade")
            figure = "plt." in cell.source or "display(" in cell.source  # a demo: nothing needed
            if cell.cell_type == "code" and not graded_test and not figure:
                client.execute_cell(cell, index)
                errors = [o for o in cell.outputs if o.output_type == "error"]
                assert not errors, (assignment, index, errors)
        kernel = Kernel(assignment, client, release)
        kernel.run(f"import rnn_course_student.checks\n"
                   f"rnn_course_student.checks.EARLIER_TIME_LIMIT_S = {HANG_LIMIT_S}")
        kernel.answers = answers
        kernel.tests = {_grade_id(c): c.source for c in release.cells}
        kernel.blamed = blamed_cells(release)
        yield kernel


def _printed(outputs, name):
    return "".join(o.get("text", "") for o in outputs
                   if o.output_type == "stream" and o.get("name") == name)


def _errors(outputs):
    return [f"{o.ename}: {o.evalue}" for o in outputs if o.output_type == "error"]


KINDS = sorted({kind for kinds in WRONG.values() for kind in kinds})


@pytest.mark.slow
@pytest.mark.parametrize("kind", KINDS)
def test_a_right_later_function_keeps_its_points_whatever_the_earlier_one_does(kernel, kind):
    for (later, earlier), grade_ids in kernel.blamed.items():
        if kind not in WRONG[earlier]:
            continue
        kernel.run(WRONG[earlier][kind])
        try:
            for gid in grade_ids:
                outputs = kernel.run(kernel.tests[gid])
                assert not _errors(outputs), (gid, kind, _errors(outputs))
                assert not _printed(outputs, "stderr"), (gid, kind, _printed(outputs, "stderr"))
                note = _printed(outputs, "stdout")
                assert f"{later} is right, but it calls your {earlier}" in note, (gid, kind, note)
                assert SAYS[kind] in note, (gid, kind, note)
        finally:
            kernel.run(kernel.answers[f"{earlier}_answer"] if f"{earlier}_answer" in kernel.answers
                       else next(s for s in kernel.answers.values() if f"def {earlier}(" in s))


WRONG_LATER = {  # the later function's own mistake: must still fail, whatever the earlier does
    "rnn_forward": "def rnn_forward(x, h0, W_x, W_h, b):\n"
                   "    h = [rnn_step_forward(x[:, t], h0, W_x, W_h, b)\n"
                   "         for t in range(x.shape[1])]\n"
                   "    return np.stack(h, axis=1), None\n",
    "rnn_backward": "def rnn_backward(dh, x, h0, h, W_x, W_h):\n"
                    "    B, T, D = x.shape\n    H = h0.shape[1]\n    dx = np.zeros((B, T, D))\n"
                    "    dW_x, dW_h, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)\n"
                    "    for t in reversed(range(T)):\n"
                    "        h_prev = h[:, t - 1] if t > 0 else h0\n"
                    "        dx[:, t], dh_next, dW_x, dW_h, db = rnn_step_backward(\n"
                    "            dh[:, t], x[:, t], h_prev, h[:, t], W_x, W_h)\n"
                    "    return dx, dh_next, dW_x, dW_h, db\n",
    "train_step": "def train_step(model, optimizer, x, y, max_norm=None):\n"
                  "    with tf.GradientTape() as tape:\n"
                  "        loss = tf.reduce_mean(tf.square(model(x) - y))\n"
                  "    grads = tape.gradient(loss, model.trainable_variables)\n"
                  "    clipped, norm = clip_by_global_norm(grads, max_norm or 1e30)\n"
                  "    optimizer.apply_gradients(zip(clipped, model.trainable_variables))\n"
                  "    return float(loss), float(norm) * 2\n",
}


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["exception", "hang"])
def test_a_wrong_later_function_still_fails_whatever_the_earlier_one_does(kernel, kind):
    """The negative control: the trusted re-check never turns a wrong later function into a pass."""
    for (later, earlier), grade_ids in kernel.blamed.items():
        kernel.run(WRONG[earlier][kind])
        kernel.run(WRONG_LATER[later])
        try:
            for gid in grade_ids:
                outputs = kernel.run(kernel.tests[gid])
                assert any("AssertionError" in e for e in _errors(outputs)), (gid, kind, outputs)
                assert "is right" not in _printed(outputs, "stdout")
        finally:
            for name in (earlier, later):
                kernel.run(next(s for s in kernel.answers.values() if f"def {name}(" in s))
