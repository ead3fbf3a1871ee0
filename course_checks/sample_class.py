"""The course's sample class, generated deterministically from its source and release notebooks.

One student per case, named for it: a correct submission (the source's solutions in the release),
an empty one (the release as handed out), the course's typical mistakes, and the hostile and
broken submissions the grader must survive. ``rnn-grade demo`` grades it; the tests and the
benchmarks grade it too (tests/sample_class.py adds the tiny test course's mistakes).
Every case is a function ``(correct, release, context) -> notebook | bytes``; the context holds
the mistakes and the impostor answers to use.
"""

import copy
import json
import os
import re

import nbformat

SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[^\n]*\n?", re.MULTILINE)


def _nbg(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def _answers(nb):
    return [c for c in nb.cells if _nbg(c).get("solution") and c.cell_type == "code"]


def _tests(nb):
    return [c for c in nb.cells if _nbg(c).get("grade") and not _nbg(c).get("solution")
            and c.cell_type == "code"]


def correct_notebook(source, release):
    """The release with every answer cell replaced by the source's solution."""
    nb = copy.deepcopy(release)
    solutions = {_nbg(c).get("grade_id"): c.source for c in source.cells}
    for cell in nb.cells:
        if _nbg(cell).get("solution"):
            cell.source = SOLUTION_MARKERS.sub("", solutions[_nbg(cell)["grade_id"]])
    return nb


def _prepend_to_first_answer(nb, code):
    _answers(nb)[0].source = code + "\n" + _answers(nb)[0].source
    return nb


def _break_first_answer(nb, code):
    """First answer replaced by a stub that returns None, preceded by ``code``."""
    first = _answers(nb)[0]
    first.source = code + "\n" + re.sub(r"(def \w+\(.*?\):[^\n]*\n)",
                                        r"\1    return None\n", first.source, count=1)
    return nb


# Typical mistakes, as (what, exact text of the solution, the mistaken text); a case applies the
# ones whose text occurs in the assignment's solution. Every assignment of the course has at least
# one, and each costs points (tests/test_benchmarks_sample_class.py).
MISTAKES = [
    ("forgot the bias", "z_t = x_t @ W_x + h_prev @ W_h + b", "z_t = x_t @ W_x + h_prev @ W_h"),
    ("parameter count without the bias", "return D * H + H * H + H", "return D * H + H * H"),
    ("tanh slope as 1 - h", "return 1.0 - np.asarray(h) ** 2", "return 1.0 - np.asarray(h)"),
    ("clipped step without the learning rate", "return learning_rate * max_norm",
     "return max_norm"),
    ("keras kernel not transposed", "return kernel.T, recurrent_kernel.T",
     "return kernel, recurrent_kernel"),
    ("many-to-many built as many-to-one (no return_sequences)",
     "states = keras.layers.SimpleRNN(units, return_sequences=True)(sequences)",
     "states = keras.layers.SimpleRNN(units)(sequences)"),
    ("an image caption taken for many-to-one", '"a caption for an image": "one-to-many"',
     '"a caption for an image": "many-to-one"'),
]


def mistakes_in(nb, mistakes=MISTAKES) -> list[str]:
    """The typical mistakes that apply to ``nb`` (the ones whose right text its answers hold)."""
    return [what for what, right, _ in mistakes
            if any(right in cell.source for cell in _answers(nb))]


def _typical_mistake(nb, mistakes):
    for _, right, wrong in mistakes:
        for cell in _answers(nb):
            cell.source = cell.source.replace(right, wrong)
    return nb


# Answers that call what the exercise asks the student to write, by answer grade id.
CALLS_WHAT_IT_IMPLEMENTS = {
    "rnn_step_forward_answer": (
        "def rnn_step_forward(x_t, h_prev, W_x, W_h, b):\n"
        "    cell = keras.layers.SimpleRNNCell(W_h.shape[0], dtype='float64')\n"
        "    cell.build((None, W_x.shape[0]))\n"
        "    cell.set_weights([W_x, W_h, b])\n"
        "    return np.asarray(cell(x_t, [h_prev])[0])\n"),
    "rnn_backward_answer": (
        "from rnn_tf.bptt import rnn_backward as _reference\n"
        "def rnn_backward(dh, x, h0, h, W_x, W_h):\n"
        "    return _reference(dh, x, h0, h, W_x, W_h)\n"),
    "clip_by_global_norm_answer": (
        "def clip_by_global_norm(grads, max_norm):\n"
        "    clipped, norm = tf.clip_by_global_norm(grads, max_norm)\n"
        "    return clipped, norm\n"),
}


def _calls_what_it_implements(nb, impostors):
    for cell in _answers(nb):
        cell.source = impostors.get(_nbg(cell)["grade_id"], cell.source)
    return nb


CASES = {
    "correct": lambda ok, rel, ctx: ok,
    "empty": lambda ok, rel, ctx: rel,
    "only_first_exercise": lambda ok, rel, ctx: _only_first(ok, rel),
    "typical_mistake": lambda ok, rel, ctx: _typical_mistake(ok, ctx["mistakes"]),
    "calls_what_it_implements": lambda ok, rel, ctx: _calls_what_it_implements(
        ok, ctx["impostors"]),
    "invalid_json": lambda ok, rel, ctx: b'{"cells": [ {"cell_type": "code", ',
    "empty_file": lambda ok, rel, ctx: b"",
    "altered_metadata": lambda ok, rel, ctx: _alter_metadata(ok),
    "wrong_assignment": lambda ok, rel, ctx: ctx.get("other_correct", rel),
    "edited_test": lambda ok, rel, ctx: _edit_tests(ok, rel),
    "deleted_test": lambda ok, rel, ctx: _delete_first_test(ok),
    "duplicated_reordered_test": lambda ok, rel, ctx: _duplicate_and_move_test(ok),
    "edited_readonly": lambda ok, rel, ctx: _edit_setup(ok),
    "infinite_loop": lambda ok, rel, ctx: _prepend_to_first_answer(ok, "while True:\n    pass"),
    "kernel_exit": lambda ok, rel, ctx: _prepend_to_first_answer(ok, "import os\nos._exit(3)"),
    "segfault": lambda ok, rel, ctx: _prepend_to_first_answer(
        ok, "import ctypes\nctypes.string_at(0)"),
    "memory_hog": lambda ok, rel, ctx: _prepend_to_first_answer(
        ok, "hog = []\nwhile True:\n    hog.append(b'x' * 100_000_000)"),
    "monkeypatch_numpy": lambda ok, rel, ctx: _break_first_answer(ok, (
        "import numpy, numpy.testing\n"
        "numpy.testing.assert_allclose = lambda *args, **kwargs: None\n"
        "numpy.allclose = lambda *args, **kwargs: True\n"
        "_fake = lambda *args, **kwargs: None\n"
        "for _name in [n for n in list(globals()) if n.startswith('assert')]:\n"
        "    globals()[_name] = _fake")),
    "monkeypatch_helpers": lambda ok, rel, ctx: _break_first_answer(ok, (
        "import builtins, sys\n"
        "_helpers = sys.modules.get('course_checks.testing')\n"
        "for _name in dir(_helpers) if _helpers else []:\n"
        "    if not _name.startswith('_') and callable(getattr(_helpers, _name)):\n"
        "        setattr(_helpers, _name, lambda *args, **kwargs: None)\n"
        "builtins.abs = lambda x: 0")),
    "reads_hidden_tests": lambda ok, rel, ctx: _prepend_to_first_answer(ok, (
        f"print(open({ctx['gradebook']!r}, 'rb').read()[:100])\n"
        f"print(open({ctx['source']!r}).read()[:100])")),
    "reads_grader_memory": lambda ok, rel, ctx: _prepend_to_first_answer(ok, (
        "import os\nprint(open(f'/proc/{os.getppid()}/environ', 'rb').read()[:100])")),
    "writes_outside": lambda ok, rel, ctx: _prepend_to_first_answer(ok, (
        f"open({ctx['outside_file']!r}, 'w').write('escaped')")),
}


def _only_first(ok, rel):
    nb = copy.deepcopy(rel)
    first = _nbg(_answers(ok)[0])["grade_id"]
    for cell, good in zip(nb.cells, ok.cells, strict=True):
        if _nbg(cell).get("grade_id") == first:
            cell.source = good.source
    return nb


def _alter_metadata(nb):
    for cell in nb.cells:
        if "nbgrader" in cell.metadata:
            cell.metadata.nbgrader["schema_version"] = 4
    _tests(nb)[0].metadata.nbgrader["points"] = 100
    _tests(nb)[-1].metadata.nbgrader["grade_id"] = "renamed_by_student"
    return nb


def _edit_tests(ok, rel):
    """An empty submission whose test cells were edited to pass ("assert True")."""
    nb = copy.deepcopy(rel)
    for cell in _tests(nb):
        cell.source = "assert True"
    return nb


def _delete_first_test(nb):
    first = _tests(nb)[0]
    nb.cells = [c for c in nb.cells if c is not first]
    return nb


def _duplicate_and_move_test(nb):
    first = _tests(nb)[0]
    duplicate = copy.deepcopy(first)
    if "id" in duplicate:  # nbformat 4.5 wants unique ids; 4.4 (nbgrader's release) has none
        duplicate["id"] = "duplicated-test"
    nb.cells.insert(1, duplicate)  # a copy right after the set-up cell, too early
    return nb


def _edit_setup(nb):
    setup = next(c for c in nb.cells if _nbg(c).get("grade_id", "").startswith("setup_"))
    setup.source += "\nraise RuntimeError('the set-up cell was edited')"
    return nb


def make_class(course, out_dir: str, assignments=None, cases=None, outside_file=None,
               mistakes=MISTAKES, impostors=CALLS_WHAT_IT_IMPLEMENTS) -> list:
    """Writes ``<case>_<assignment>.ipynb`` files into ``out_dir``; returns their paths.

    ``mistakes`` and ``impostors`` (answer grade id -> an answer that calls what it implements)
    are this course's; another course passes its own."""
    os.makedirs(out_dir, exist_ok=True)
    assignments = assignments or course.assignments
    cases = cases or list(CASES)
    paths = []
    corrects = {}
    for a in course.assignments:
        source = nbformat.read(course.source_path(a), as_version=4)
        corrects[a] = correct_notebook(source, course.release_notebook(a))
    for a in assignments:
        others = [b for b in course.assignments if b != a]
        ctx = {"gradebook": course.db_url.removeprefix("sqlite:///"),
               "source": course.source_path(a),
               "outside_file": outside_file or os.path.join(course.root, "ESCAPED.txt"),
               "mistakes": mistakes, "impostors": impostors}
        if others:
            ctx["other_correct"] = corrects[others[0]]
        for case in cases:
            made = CASES[case](copy.deepcopy(corrects[a]),
                               course.release_notebook(a), ctx)
            path = os.path.join(out_dir, f"{case}_{a}.ipynb")
            if isinstance(made, bytes):
                with open(path, "wb") as f:
                    f.write(made)
            else:
                nbformat.write(made, path)
            paths.append(path)
    return paths


def manifest(paths) -> str:
    return json.dumps(sorted(os.path.basename(p) for p in paths), indent=1)
