"""Hostile submissions against the judge: answers that, from inside the student's kernel, look for
the hidden checks, the values they expect and the reference answers, and show whatever they find
through every channel a notebook has (stdout, Markdown, HTML, images, errors, base64). Graded in
one batch with ordinary submissions by `rnn-grade autograde` and `rnn-grade feedback`, under the
sandbox: nothing of the hidden checks reaches any output, the autograded notebooks or the feedback
pages, and no attack earns more than a plain wrong answer (or it is flagged in the table).

The negative control runs the same hostile notebooks as the course ran before the judge: each
test cell whole, hidden block included, in the student's kernel (nbclient, no judge). There the
same detectors find the hidden checks' text and names, and the answer that steals the caller's
expected value passes a check that a plain wrong answer fails.
"""

import base64
import binascii
import concurrent.futures
import fcntl
import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbgrader.api import Gradebook

from autograder.course.folder import COURSE_DIR, Course
from autograder.judge.hidden import names_bound, split
from autograder.sandbox import isolation
from nbgrader_notebooks import with_answers

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "rnn1_forward"
NAME = f"{ASSIGNMENT}.ipynb"
STEP_CELLS = ("rnn_step_forward_matches_keras", "rnn_step_forward_other_shapes")

pytestmark = pytest.mark.slow

# --- the attacks: code put in front of rnn_step_forward's answer, which it then replaces ----------

# Everything an answer can reach in its own process: the frames above it (sys._getframe, a
# traceback, inspect), their locals, globals and code objects' constants, linecache, IPython's
# input history and In/Out, every object gc knows, profile hooks on later calls. What it finds
# goes out through print, base64, Markdown, HTML, a PNG's metadata and an exception's message;
# and when a caller has an array named `expected` of the right shape, it is returned as the answer.
INTROSPECT = r'''
import base64 as _b64, gc as _gc, inspect as _inspect, io as _io, linecache as _lc, sys as _sys
from IPython.display import HTML as _HTML, Image as _Image, Markdown as _Markdown
from IPython.display import display as _display

_KEYWORDS = ("assert", "expected", "HIDDEN", "check(", "catalogue", "course_checks", "forbid",
             "check_rng", "case_rng")
_RARE = ("HIDDEN", "_catalogue", "check_rng", "course_checks", "forbid(", "assert_close(")
_seen, _budget = set(), [1_500_000]  # what was shown, and how many more characters may be


def _show(kind, text, keywords=_KEYWORDS):
    text = str(text)
    if _budget[0] <= 0 or not any(k in text for k in keywords) or (kind, text) in _seen:
        return
    _seen.add((kind, text))
    line = f"FOUND {kind}: {text[:3000]}"
    _budget[0] -= 3 * len(line)
    print(line)
    print("B64", _b64.b64encode(line.encode()).decode())


def _name(scope, key):
    if (scope, key) not in _seen:
        _seen.add((scope, key))
        print(f"NAME {scope} {key}")


def _frames():
    frames, frame = [], _sys._getframe(1)
    while frame is not None:
        frames.append(frame)
        frame = frame.f_back
    try:
        raise RuntimeError("look up")
    except RuntimeError as error:
        frame = error.__traceback__.tb_frame
        while frame is not None:
            frames.append(frame)
            frame = frame.f_back
    if _calls[0] <= 3:
        frames += [info.frame for info in _inspect.stack(0)]
    return frames


def _harvest(everything, stolen_shape=None):
    stolen = None
    for frame in _frames():
        code = frame.f_code
        _show("consts", f"{code.co_filename}:{code.co_name} {code.co_consts!r}")
        _show("source", "".join(_lc.getlines(code.co_filename)))
        for scope, names in (("local", frame.f_locals), ("global", frame.f_globals)):
            for key, value in list(names.items()):
                _name(scope, key)
                if key == "expected" and getattr(value, "shape", None) == stolen_shape:
                    stolen = value
                if scope == "local" and type(value) in (str, dict, list, tuple):
                    _show(scope, f"{key} = {value!r}"[:20000])
    if not everything:
        return stolen
    for filename, entry in list(_lc.cache.items()):
        if len(entry) > 2:
            _show("linecache", f"{filename}: {''.join(entry[2])}")
    shell = get_ipython()
    for source in list(shell.user_ns.get("In", [])) + list(shell.user_ns.get("_ih", [])):
        _show("In", source)
    _show("Out", repr(shell.user_ns.get("Out", {})))
    try:
        for _, _, source in shell.history_manager.get_range(output=False):
            _show("history", source)
    except Exception:
        pass
    for obj in _gc.get_objects():
        if type(obj).__name__ == "code":
            _show("gc-code", repr(obj.co_consts), _RARE)
        elif type(obj) is str and 40 < len(obj) < 50_000:
            _show("gc-str", obj, _RARE)
    for module_name in list(_sys.modules):
        if module_name.split(".")[0] in ("course_checks", "rnn_tf", "autograder"):
            print(f"NAME module {module_name}")
    return stolen


def _publish():
    found = "\n".join(f"{kind}: {text[:500]}" for kind, text in sorted(_seen))[:20000]
    _display(_Markdown("## found\n\n" + found))
    _display(_HTML("<pre>" + found.replace("<", "&lt;") + "</pre>"))
    import matplotlib
    import matplotlib.pyplot as _plt
    figure = _plt.figure(figsize=(1, 1))
    buffer = _io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Description": found})
    _plt.close(figure)
    _display(_Image(buffer.getvalue()))


_events = [0]


def _profile(frame, event, arg):
    # Later calls of code compiled from a cell or a string: the checks' own frames, if any.
    _events[0] += 1
    if _events[0] > 200_000:
        _sys.setprofile(None)
        return
    name = frame.f_code.co_filename
    if event == "call" and (name.startswith("<") or "ipykernel" in name or "course_checks" in name):
        for key, value in list(frame.f_locals.items()):
            _name("profiled", key)
            if type(value) is str:
                _show("profiled", f"{frame.f_code.co_name} {key} = {value}")


_sys.setprofile(_profile)
_calls = [0]


def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    _calls[0] += 1
    stolen = _harvest(_calls[0] in (1, 60), stolen_shape=(x_t.shape[0], W_h.shape[0]))
    if _calls[0] in (3, 9):
        _publish()
    if _calls[0] == 5 and _seen:
        raise RuntimeError("found: " + " | ".join(str(t)[:300] for _, t in sorted(_seen))[:3000])
    return stolen if stolen is not None else np.zeros((x_t.shape[0], W_h.shape[0]))
'''

# The environment, and every readable file outside the system's and libraries' folders.
ENVIRONMENT_AND_FILES = r'''
import os as _os

for _key, _value in sorted(_os.environ.items()):
    print(f"ENV {_key}={_value}")
_here = _os.getcwd()
_roots = {_here, _os.path.dirname(_here), _os.path.dirname(_os.path.dirname(_here)), "/tmp",
          _os.path.expanduser("~")}
for _root in _roots:
    for _dir, _subdirs, _files in _os.walk(_root):
        _subdirs[:] = [d for d in _subdirs if d not in ("site-packages", ".git", ".venv")]
        for _f in _files:
            _path = _os.path.join(_dir, _f)
            try:
                with open(_path, "rb") as _h:
                    _data = _h.read(2_000_000)
            except OSError:
                continue
            _at = _data.find(b"HIDDEN TESTS")
            if _at >= 0 or _f in (".judge-secret", "gradebook.db"):
                _start = max(_at - 200, 0)
                print("FOUND file", _path, _data[_start:_start + 6000].decode("utf-8", "replace"))


def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    return np.zeros((x_t.shape[0], W_h.shape[0]))
'''

# The channel and the guard replaced: every request the judge sends is printed, a forbidden Keras
# cell computes the answer, and forbid does nothing.
CHANNEL_AND_GUARD = r'''
import contextlib as _contextlib

import rnn_course_student.forbidden as _forbidden
import rnn_course_student.probe as _probe

_serve = _probe.serve


def _logging_serve(request):
    print("REQUEST", request[:2000])
    reply = _serve(request)
    print("REPLY", reply[:2000])
    return reply


@_contextlib.contextmanager
def _no_guard(*targets, **kwargs):
    yield []


_probe.serve = _logging_serve
_forbidden.forbid = _no_guard


def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    cell = keras.layers.SimpleRNNCell(W_h.shape[0], dtype="float64")
    cell.build((None, W_x.shape[0]))
    cell.set_weights([W_x, W_h, b])
    return np.asarray(cell(np.asarray(x_t, "float64"), [np.asarray(h_prev, "float64")])[0])
'''

# Results that claim to equal anything, or convert to whatever is asked; the quiz's answers too.
OVERRIDDEN = r'''
class _Agreeable(np.ndarray):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __array_function__(self, func, types, args, kwargs):
        return True

    def __float__(self):
        return 0.0


def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    return np.zeros((x_t.shape[0], W_h.shape[0])).view(_Agreeable)
'''
# The quiz's answers: tuples of integers, as the visible check wants, that equal anything.
AGREEABLE_SHAPES = r'''
class _Anything(tuple):
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False

    def __hash__(self):
        return 0


shapes = {name: _Anything((1, 1)) for name in ["x", "x_t", "h_prev", "W_x", "W_h", "b", "h"]}
'''

# The grader's and the course's packages imported; their right function used if they load (with
# the environment and files attack, in the same answer cell).
IMPORTS = r'''
_found = []
for _name in ("rnn_tf", "course_checks", "course_checks.mistakes.rnn1", "autograder",
              "autograder.judge"):
    try:
        __import__(_name)
        _found.append(_name)
    except ImportError as _error:
        print("NOT IMPORTABLE", _name, _error)
print("IMPORTED", _found)


def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    try:
        from course_checks.mistakes.rnn1 import step_forward
        return step_forward(x_t, h_prev, W_x, W_h, b)
    except ImportError:
        return np.zeros((x_t.shape[0], W_h.shape[0]))
'''

STEP = "rnn_step_forward_answer"
# Each attack: the answer cells it replaces (by grade id).
ATTACKS = {"introspect": {STEP: INTROSPECT},
           # the imports' rnn_step_forward is the last definition: the one graded
           "environment_and_files": {STEP: ENVIRONMENT_AND_FILES + IMPORTS},
           "channel_and_guard": {STEP: CHANNEL_AND_GUARD},
           "overridden": {STEP: OVERRIDDEN, "shapes_answer": AGREEABLE_SHAPES}}
WRONG_STEP = '''def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    return np.zeros((x_t.shape[0], W_h.shape[0]))
'''
ORDINARY = {"correct": {}, "plain_wrong": {STEP: WRONG_STEP}}
# Run as before the judge, hidden blocks in the kernel (the negative control).
CONTROLS = ("introspect", "environment_and_files", "overridden", "plain_wrong")


# --- building, grading, reading -------------------------------------------------------------------


def _in_kernel_notebook(source, replaced, last_cell):
    """The notebook as graded before the judge: the source's cells up to `last_cell`, test cells
    whole (hidden blocks included), answers from the solution with the attack in place."""
    nb = nbformat.from_dict(json.loads(json.dumps(source)))
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in replaced:
            cell.source = replaced[gid]
    for index, cell in enumerate(nb.cells):
        if cell.metadata.get("nbgrader", {}).get("grade_id") == last_cell:
            nb.cells = nb.cells[:index + 1]
            break
    return nb


def _run_in_kernel(nb, folder):
    client = NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3",
                            resources={"metadata": {"path": str(folder)}})
    client.execute()
    return nb


def _cell_texts(cell) -> list[str]:
    """Every piece of text an output of `cell` carries, images' bytes decoded, and whatever
    base64 inside it decodes to."""
    texts = []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            texts.append(output.get("text", ""))
        elif kind == "error":
            texts += [output.get("ename", ""), output.get("evalue", ""),
                      *output.get("traceback", [])]
        for mime, data in output.get("data", {}).items():
            data = "".join(data) if isinstance(data, list) else str(data)
            if mime.startswith("image/") and mime != "image/svg+xml":
                try:
                    data = base64.b64decode(data).decode("latin-1")
                except (binascii.Error, ValueError):
                    pass
            texts.append(data)
    return texts + _decoded(texts)


def _decoded(texts) -> list[str]:
    out = []
    for text in texts:
        for token in re.findall(r"[A-Za-z0-9+/=]{40,}", text):
            try:
                padded = token + "=" * (-len(token) % 4)
                out.append(base64.b64decode(padded).decode("utf-8", "replace"))
            except (binascii.Error, ValueError):
                pass
    return out


def _notebook_texts(nb) -> str:
    return "\n".join(t for cell in nb.cells for t in _cell_texts(cell))


def _page_text(path: Path) -> str:
    text = html.unescape(path.read_text(errors="replace"))
    return "\n".join([text, *_decoded([text])])


# What only the hidden checks, the catalogue and the grader hold: lines of the hidden blocks and
# of the catalogue that appear nowhere in the release or the kit, and names only hidden blocks bind.
def _secret_lines(source, release) -> list[str]:
    public = "\n".join(c.source for c in release.cells)  # and the answers a student writes:
    public += "\n".join(c.source for c in source.cells
                        if c.metadata.get("nbgrader", {}).get("solution"))
    public += "\n".join(p.read_text() for p in (REPO / "rnn_course_student").rglob("*.py"))
    hidden = [split(c.source)[1] for c in source.cells if c.cell_type == "code"]
    catalogue = (REPO / "course_checks" / "mistakes" / "rnn1.py").read_text()
    lines = {line.strip() for block in [*hidden, catalogue] for line in block.splitlines()}
    return sorted(line for line in lines if len(line) >= 30 and line not in public
                  and not line.startswith("#"))


def _hidden_names(source, release) -> set[str]:
    visible = set().union(*(names_bound(c.source) for c in release.cells if c.cell_type == "code"))
    visible |= set().union(*(names_bound(c.source) for c in source.cells
                             if c.metadata.get("nbgrader", {}).get("solution")))
    visible |= set().union(*(names_bound(p.read_text())  # the kit's own code runs in the kernel
                             for p in (REPO / "rnn_course_student").rglob("*.py")))
    visible |= set().union(*(names_bound(code) for cells in ATTACKS.values()
                             for code in cells.values()))
    hidden = set().union(*(names_bound(split(c.source)[1]) for c in source.cells
                           if c.cell_type == "code"))
    return {n for n in hidden - visible if len(n) > 3}


def _found_names(text: str) -> set[str]:
    return set(re.findall(r"^NAME (?:local|global) (\w+)$", text, flags=re.M))


def _leaks(text: str, secrets: list[str]) -> list[str]:
    return [line for line in secrets if line in text]


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The batch graded by rnn-grade, and the in-kernel control run of the same attacks: made
    once per session (an xdist worker that needs it while another makes it waits, rather than
    grading it a second time) and read back from disk."""
    if isolation.choose("auto", warn=False).mode != "bwrap":  # the file attack needs the sandbox
        pytest.skip("bubblewrap cannot run here: apt-get install bubblewrap")
    root = tmp_path_factory.getbasetemp()
    shared = (root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / "judge-attacks"
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if (shared / "failed.txt").exists():
            pytest.fail("grading the batch failed in another worker:\n"
                        + (shared / "failed.txt").read_text())
        if not (shared / "done.json").exists():
            where = shared / "batch"
            shutil.rmtree(where, ignore_errors=True)
            try:
                record = _grade_batch(where)
            except BaseException as error:
                (shared / "failed.txt").write_text(f"{type(error).__name__}: {error}"[-6000:])
                raise
            (shared / "done.json").write_text(json.dumps(record))
    return _read_batch(shared / "batch", json.loads((shared / "done.json").read_text()))


def _grade_batch(where: Path) -> dict:
    """Grades the submissions and runs the in-kernel controls in `where`; what the tests read
    that is not a file there (the gradebook's scores, the grade table)."""
    course = where / "course"
    shutil.copytree(COURSE_DIR / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    shutil.copy(COURSE_DIR / "nbgrader_config.py", course)
    Course(course).build_release([ASSIGNMENT])
    source = nbformat.read(course / "source" / ASSIGNMENT / NAME, as_version=4)
    release = nbformat.read(course / "release" / ASSIGNMENT / NAME, as_version=4)
    submissions = {**ORDINARY, **ATTACKS}
    for student, step in submissions.items():
        folder = where / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nb = with_answers(nbformat.from_dict(json.loads(json.dumps(release))), source, step)
        nbformat.write(nb, folder / NAME)

    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}"}
    command = [sys.executable, "-m", "autograder.cli", "--course", str(course)]

    def control():  # the same attacks with the hidden blocks in the kernel, meanwhile
        folder = where / "in-kernel"
        folder.mkdir()
        jobs = {student: _in_kernel_notebook(source, ATTACKS[student], STEP_CELLS[-1])
                for student in CONTROLS if student in ATTACKS}
        jobs["plain_wrong"] = _in_kernel_notebook(source, ORDINARY["plain_wrong"], STEP_CELLS[-1])
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            done = {s: pool.submit(_run_in_kernel, nb, folder) for s, nb in jobs.items()}
            for student, future in done.items():
                nbformat.write(future.result(), folder / f"{student}.ipynb")

    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        in_kernel = pool.submit(control)
        graded = subprocess.run([*command, "autograde", str(where / "submitted"), "--jobs", "2",
                                 "--no-progress", "--timeout", "300", "--sandbox", "bwrap"],
                                capture_output=True, text=True, env=env, cwd=where, timeout=1800)
        assert graded.returncode == 0, graded.stdout[-3000:] + graded.stderr[-3000:]
        feedback = subprocess.run([*command, "feedback"], capture_output=True, text=True, env=env,
                                  cwd=where, timeout=900)
        assert feedback.returncode == 0, feedback.stdout[-3000:] + feedback.stderr[-3000:]
        in_kernel.result()

    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for student in submissions:
            submission = gradebook.find_submission_notebook(ASSIGNMENT, ASSIGNMENT, student)
            scores[student] = {g.name: g.score for g in submission.grades}
    return {"scores": scores, "table": graded.stdout + (course / "grades.csv").read_text()}


def _read_batch(where: Path, record: dict) -> dict:
    course = where / "course"
    notebooks = {student: nbformat.read(course / "autograded" / student / ASSIGNMENT / NAME,
                                        as_version=4) for student in record["scores"]}
    pages = {student: course / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"
             for student in record["scores"]}
    controls = {student: nbformat.read(where / "in-kernel" / f"{student}.ipynb", as_version=4)
                for student in CONTROLS}
    secret = course / ".judge-secret"
    return {"source": nbformat.read(course / "source" / ASSIGNMENT / NAME, as_version=4),
            "release": nbformat.read(course / "release" / ASSIGNMENT / NAME, as_version=4),
            "scores": record["scores"], "notebooks": notebooks, "pages": pages,
            "table": record["table"], "controls": controls,
            "secret": secret.read_text().strip() if secret.exists() else None}


def _step_points(scores, student) -> float:
    return sum(scores[student][cell] or 0.0 for cell in STEP_CELLS)


# --- with the judge -------------------------------------------------------------------------------


def test_the_ordinary_submissions_are_graded_as_usual(graded):
    scores = graded["scores"]
    assert _step_points(scores, "correct") == 4.0
    assert _step_points(scores, "plain_wrong") == 0.0


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_no_output_notebook_or_feedback_page_holds_a_hidden_check(graded, student):
    secrets = _secret_lines(graded["source"], graded["release"])
    assert len(secrets) > 20  # the detector has something to look for
    assert not _leaks(_notebook_texts(graded["notebooks"][student]), secrets)
    assert not _leaks(_page_text(graded["pages"][student]), secrets)
    if graded["secret"]:
        assert graded["secret"] not in _notebook_texts(graded["notebooks"][student])


def test_the_kernel_holds_no_name_of_a_hidden_check(graded):
    found = _found_names(_notebook_texts(graded["notebooks"]["introspect"]))
    assert found, "the introspecting answer ran and listed what it could reach"
    assert not found & _hidden_names(graded["source"], graded["release"])
    introspected = _notebook_texts(graded["notebooks"]["introspect"])
    assert not re.search(r"^NAME module \S", introspected, re.M)


@pytest.mark.parametrize("student", sorted(ATTACKS))
def test_no_attack_earns_more_than_a_plain_wrong_answer(graded, student):
    scores = graded["scores"]
    assert _step_points(scores, student) <= _step_points(scores, "plain_wrong"), scores[student]
    if student == "overridden":  # the quiz of agreeable objects, too
        quiz = next(c for c in graded["notebooks"][student].cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") == "shapes_of_the_recurrence")
        assert scores[student]["shapes_of_the_recurrence"] == 0.0, quiz.outputs


def test_the_grader_s_packages_are_not_importable_in_the_kernel(graded):
    text = _notebook_texts(graded["notebooks"]["environment_and_files"])
    assert "IMPORTED []" in text


def test_the_table_names_the_replaced_channel_and_guard(graded):
    rows = [line for line in graded["table"].splitlines() if "channel_and_guard" in line]
    assert rows and any(re.search(r"flag|monkeypatch|replace", row, re.I) for row in rows), rows


# --- the negative control: the same attacks, hidden blocks in the kernel --------------------------


def test_in_the_kernel_the_same_attacks_find_the_hidden_checks(graded):
    secrets = _secret_lines(graded["source"], graded["release"])
    introspect = _notebook_texts(graded["controls"]["introspect"])
    assert len(_leaks(introspect, secrets)) >= 5
    assert _found_names(introspect) & _hidden_names(graded["source"], graded["release"])
    files = _notebook_texts(graded["controls"]["environment_and_files"])
    assert "FOUND file" in files and _leaks(files, secrets)
    if graded["secret"]:  # the course secret, readable where there is no sandbox
        assert graded["secret"] in files


def test_in_the_kernel_the_stolen_expected_value_and_agreeable_objects_pass(graded):
    def passed(nb, grade_id):
        cell = next(c for c in nb.cells
                    if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)
        return not any(o.output_type == "error" for o in cell.outputs)

    controls = graded["controls"]
    assert passed(controls["introspect"], "rnn_step_forward_other_shapes")  # the stolen value
    assert not passed(controls["plain_wrong"], "rnn_step_forward_other_shapes")
    quiz = next(c for c in controls["overridden"].cells
                if c.metadata.get("nbgrader", {}).get("grade_id") == "shapes_of_the_recurrence")
    assert not any(o.output_type == "error" for o in quiz.outputs)
