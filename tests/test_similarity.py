"""The similarity report: a renamed, reordered, re-commented copy ranks first; independent
correct solutions rank low; release code and empty submissions never match; the report says
similarity is not a verdict and fetches nothing. No kernels: notebooks are only read."""

import csv
import re

import nbformat
import pytest

from autograder.similarity import CAVEAT, collect, run
from autograder.similarity.code import student_code

GIVEN = '''\
# Given code (read-only): a data generator every student's notebook contains.
def make_batch(batch_size, steps, features, seed=0):
    rng = np.random.default_rng(seed)
    xs = rng.normal(size=(batch_size, steps, features)).astype("float32")
    targets = np.cumsum(xs, axis=1)[:, -1, :]
    return xs, targets
'''
STUBS = {
    "rnn_step": "def rnn_step(x, h_prev, W_x, W_h, b):\n    # YOUR CODE HERE\n"
                "    raise NotImplementedError()",
    "rnn_forward": "def rnn_forward(xs, h0, W_x, W_h, b):\n    # YOUR CODE HERE\n"
                   "    raise NotImplementedError()",
    "softmax": "def softmax(z):\n    # YOUR CODE HERE\n    raise NotImplementedError()",
}


def _cell(source, gid=None, solution=False, grade=False, locked=False):
    cell = nbformat.v4.new_code_cell(source)
    if gid:
        cell.metadata["nbgrader"] = {"grade_id": gid, "solution": solution, "grade": grade,
                                     "locked": locked, "schema_version": 3,
                                     **({"points": 1} if grade else {})}
    return cell


def release():
    cells = [_cell("import numpy as np", "setup", locked=True),
             _cell(GIVEN, "given_data", locked=True)]
    for gid, stub in STUBS.items():
        cells.append(nbformat.v4.new_markdown_cell(f"## {gid}"))
        cells.append(_cell(stub, gid, solution=True))
        cells.append(_cell(f"assert callable({gid})", f"{gid}_test", grade=True, locked=True))
    return nbformat.v4.new_notebook(cells=cells)


ALICE = {
    "rnn_step": '''def rnn_step(x, h_prev, W_x, W_h, b):
    # one step of the recurrence: pre-activation, then tanh
    z = x @ W_x + h_prev @ W_h + b
    return np.tanh(z)''',
    "rnn_forward": '''def _collect(states):
    return np.stack(states, axis=1)

def rnn_forward(xs, h0, W_x, W_h, b):
    hs = []
    h = h0
    for t in range(xs.shape[1]):
        h = rnn_step(xs[:, t, :], h, W_x, W_h, b)
        hs.append(h)
    return _collect(hs)''',
    "softmax": '''def softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)''',
}
# Alice's code with every name changed, the helper moved below its caller, new comments.
COPY = {
    "rnn_step": '''def rnn_step(inp, prev, Wx, Wh, bias):
    pre = inp @ Wx + prev @ Wh + bias   # weighted sum
    return np.tanh(pre)  # squash''',
    "rnn_forward": '''def rnn_forward(seq, init, Wx, Wh, bias):
    # loop over time
    states = []
    state = init
    for step in range(seq.shape[1]):
        state = rnn_step(seq[:, step, :], state, Wx, Wh, bias)
        states.append(state)
    return _gather(states)

def _gather(hidden):
    return np.stack(hidden, axis=1)''',
    "softmax": '''def softmax(logits):
    exps = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return exps / exps.sum(axis=-1, keepdims=True)''',
}
CAROL = {
    "rnn_step": '''def rnn_step(x, h_prev, W_x, W_h, b):
    return np.tanh(np.dot(x, W_x) + np.dot(h_prev, W_h) + b)''',
    "rnn_forward": '''def rnn_forward(xs, h0, W_x, W_h, b):
    T = xs.shape[1]
    out = np.zeros((xs.shape[0], T, h0.shape[-1]))
    h = h0
    t = 0
    while t < T:
        h = rnn_step(xs[:, t], h, W_x, W_h, b)
        out[:, t] = h
        t += 1
    return out''',
    "softmax": '''def softmax(z):
    z = z - np.max(z, axis=-1, keepdims=True)
    return np.exp(z) / np.sum(np.exp(z), axis=-1, keepdims=True)''',
}
DAVE = {
    "rnn_step": '''def rnn_step(x, h_prev, W_x, W_h, b):
    a = np.matmul(h_prev, W_h)
    a += np.matmul(x, W_x)
    return np.tanh(a + b)''',
    "rnn_forward": '''def rnn_forward(xs, h0, W_x, W_h, b):
    return np.transpose(np.array(list(_steps(xs, h0, W_x, W_h, b))), (1, 0, 2))

def _steps(xs, h, W_x, W_h, b):
    for x in np.moveaxis(xs, 1, 0):
        h = rnn_step(x, h, W_x, W_h, b)
        yield h''',
    "softmax": '''def softmax(z):
    shifted = z - z.max(-1)[..., None]
    p = np.exp(shifted)
    return p / p.sum(-1)[..., None]''',
}
ERIN = {
    "rnn_step": '''def rnn_step(x, h_prev, W_x, W_h, b):
    import numpy
    return numpy.tanh(numpy.einsum("bi,ih->bh", x, W_x)
                      + numpy.einsum("bh,hk->bk", h_prev, W_h) + b)''',
    "rnn_forward": '''def rnn_forward(xs, h0, W_x, W_h, b):
    hs = [h0]
    for x_t in xs.transpose(1, 0, 2):
        hs += [rnn_step(x_t, hs[-1], W_x, W_h, b)]
    return np.stack(hs[1:], 1)''',
    "softmax": '''def softmax(z):
    from scipy.special import softmax as sm
    return sm(z, axis=-1)''',
}


def submission(answers, extra_cells=()):
    nb = release()
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers:
            cell.source = answers[gid]
    nb.cells.extend(nbformat.v4.new_code_cell(src) for src in extra_cells)
    return nb


@pytest.fixture
def class_dir(tmp_path):
    students = {"alice": submission(ALICE), "bob": submission(COPY),
                "carol": submission(CAROL), "dave": submission(DAVE),
                "erin": submission(ERIN, extra_cells=[GIVEN]),  # pasted the given code again
                "frank": submission({})}  # handed in the release unchanged
    for name, nb in students.items():
        folder = tmp_path / "course" / "submitted" / name / "rnn1"
        folder.mkdir(parents=True)
        nbformat.write(nb, str(folder / "rnn1.ipynb"))
    (tmp_path / "course" / "submitted" / "gina" / "rnn1").mkdir(parents=True)
    (tmp_path / "course" / "submitted" / "gina" / "rnn1" / "rnn1.ipynb").write_text("{oops")
    return tmp_path


def test_student_code_is_answers_and_added_cells_only():
    nb = submission(ALICE, extra_cells=["print('mine')", GIVEN])
    code = student_code(nb.cells, release())
    assert "np.tanh(z)" in code and "print('mine')" in code
    assert "make_batch" not in code and "assert callable" not in code
    assert "import numpy as np" not in code


def test_renamed_reordered_copy_ranks_first_and_independent_solutions_low(class_dir):
    notebooks = collect(str(class_dir / "course"), "rnn1")
    assert sorted(notebooks) == ["alice", "bob", "carol", "dave", "erin", "frank", "gina"]
    report = run("rnn1", notebooks, release(), str(class_dir / "out"))
    first = report.pairs[0]
    assert {first.a, first.b} == {"alice", "bob"}
    assert first.score_a > 0.8 and first.score_b > 0.8
    others = [p.score for p in report.pairs[1:]]
    assert max(others, default=0) < 0.35, [(p.a, p.b, p.score) for p in report.pairs]
    assert report.no_code == ["frank"]  # only the release's stubs: nothing to compare
    assert "gina" in report.unread and "JSON" in report.unread["gina"]
    # erin pasted the given code: it is the release's, so it matches nobody.
    assert all(p.score < 0.35 for p in report.pairs if "erin" in (p.a, p.b))


def test_reports_are_self_contained_and_say_it_is_not_a_verdict(class_dir):
    report = run("rnn1", collect(str(class_dir / "course"), "rnn1"), release(),
                 str(class_dir / "out"))
    page = open(report.html, encoding="utf-8").read()
    assert CAVEAT in page and "not a verdict" in CAVEAT
    assert "no code was sent anywhere" in page
    assert not re.search(r"(src|href)\s*=\s*['\"]?(https?:)?//", page)  # nothing fetched
    assert "<script" not in page and "@import" not in page
    marked = re.findall(r"<mark>(.*?)</mark>", page, re.S)
    assert any("seq.shape[1]" in m for m in marked)  # bob's renamed loop is marked
    with open(report.csv, newline="") as f:
        rows = list(csv.DictReader(f))
    assert {rows[0]["student_a"], rows[0]["student_b"]} == {"alice", "bob"}
    assert float(rows[0]["similarity"]) == pytest.approx(report.pairs[0].score, abs=1e-3)
    assert "not a verdict" in report.text()
