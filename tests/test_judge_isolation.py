"""What the graded kernel holds once the judge exists: probed from a student's own answer cell,
while rnn1 is graded by rnn-grade. No grader, library or course-check module is loaded or
importable, and no readable file holds a hidden check, a reference answer or the catalogue; the
checks drawn from the course secret differ per student (each message states the student's own
case), and the same mistake is named by the same message for everyone."""

import json
import shutil

import nbformat
import pytest

from autograder.course.folder import COURSE_DIR, Course
from autograder.grading.batch import autograde
from autograder.sandbox import isolation
from nbgrader_notebooks import with_answers

ASSIGNMENT = "rnn1_forward"
GRADER_SIDE = ("rnn_tf", "autograder", "course_checks")
# Text found only in the course's hidden checks, the catalogue and the library's answers.
MARKERS = ("BEGIN HIDDEN TESTS", "RNN_STEP_FORWARD", "def step_forward(", "_catalogue",
           "def rnn_step_forward(x_t, h_prev, W_x, W_h, b):\n    return")
PROBE = f'''
import importlib as _il, json as _json, os as _os, sys as _sys
_report = {{"modules": sorted(m for m in _sys.modules if m.split(".")[0] in {GRADER_SIDE!r}),
           "importable": [], "paths": [], "texts": [], "read": 0}}
for _name in {GRADER_SIDE!r} + ("course_checks.mistakes",):
    try:
        _il.import_module(_name)
        _report["importable"].append(_name)
    except BaseException:
        pass
for _dir, _subdirs, _files in _os.walk("/"):
    _subdirs[:] = [d for d in _subdirs if _os.path.join(_dir, d) not in ("/proc", "/sys", "/dev")]
    for _f in _files:
        _path = _os.path.join(_dir, _f)
        _parts = _path.split("/")
        if {{"course_checks", "rnn_tf", "solutions"}} & set(_parts) or (
                _f == "gradebook.db" and "site-packages" not in _parts):  # (nbgrader's own tests)
            _report["paths"].append(_path)
        if "site-packages" in _parts or _parts[1] in ("usr", "lib", "lib64", "bin", "sbin", "etc"):
            continue  # the system and the installed libraries: public code, read-only
        try:
            with open(_path, "rb") as _h:
                _data = _h.read(4_000_000)
        except OSError:
            continue
        _report["read"] += 1
        if any(_m.encode() in _data for _m in {MARKERS!r}):
            _report["texts"].append(_path)
print("ISOLATION", _json.dumps(_report))
'''
SIGMOID_STEP = '''def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    return 1 / (1 + np.exp(-(x_t @ W_x + h_prev @ W_h + b)))
'''


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """{student: autograded notebook, by grade id}, rnn1 graded under bubblewrap."""
    if isolation.choose("auto", warn=False).mode != "bwrap":
        pytest.skip("bubblewrap cannot run here: apt-get install bubblewrap")
    course = tmp_path_factory.mktemp("course")
    shutil.copytree(COURSE_DIR / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    shutil.copy(COURSE_DIR / "nbgrader_config.py", course)
    Course(course).build_release([ASSIGNMENT])
    name = f"{ASSIGNMENT}.ipynb"
    source = nbformat.read(course / "source" / ASSIGNMENT / name, as_version=4)
    solution = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                if c.metadata.get("nbgrader", {}).get("solution")}
    submissions = {
        "prober": {"rnn_param_count_answer": solution["rnn_param_count_answer"] + PROBE},
        "ada": {"rnn_step_forward_answer": SIGMOID_STEP},
        "bob": {"rnn_step_forward_answer": SIGMOID_STEP},
    }
    for student, answers in submissions.items():
        release = nbformat.read(course / "release" / ASSIGNMENT / name, as_version=4)
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(with_answers(release, source, answers), folder / name)
    results = autograde(Course(str(course)), str(course / "submitted"), jobs=2, progress=False,
                        sandbox="bwrap")
    out = {}
    for result in results:
        notebook = nbformat.read(result.autograded, as_version=4)
        out[result.student] = (result,
                               {c.metadata["nbgrader"]["grade_id"]: c for c in notebook.cells
                                        if c.metadata.get("nbgrader", {}).get("grade_id")})
    return out


def _report(cells) -> dict:
    text = "".join(o.get("text", "") for o in cells["rnn_param_count_answer"].outputs)
    line = next(row for row in text.splitlines() if row.startswith("ISOLATION "))
    return json.loads(line.removeprefix("ISOLATION "))


def test_the_kernel_holds_no_grader_module_and_can_import_none(graded):
    report = _report(graded["prober"][1])
    assert report["modules"] == [] and report["importable"] == []


def test_no_readable_file_holds_a_hidden_check_a_reference_or_the_catalogue(graded):
    report = _report(graded["prober"][1])
    assert report["read"] > 10  # the walk did read files (the kit, the working folder, ...)
    assert report["paths"] == [] and report["texts"] == []


def test_the_probing_solution_keeps_its_points(graded):
    result, _ = graded["prober"]  # (flagged for a look: its code mentions the hidden markers)
    assert result.score == result.max_score, result.reasons


def _errors(cells, grade_id):
    return [o.evalue for o in cells[grade_id].outputs if o.output_type == "error"]


def test_the_same_mistake_is_named_by_the_same_message_for_everyone(graded):
    named = {s: _errors(graded[s][1], "rnn_step_forward_matches_keras")[0] for s in ("ada", "bob")}
    assert named["ada"] == named["bob"]
    assert "sigmoid" in named["ada"] and "tanh" in named["ada"]


def test_each_student_fails_on_their_own_drawn_case_and_the_message_states_it(graded):
    messages = {s: _errors(graded[s][1], "rnn_step_forward_other_shapes")[0]
                for s in ("ada", "bob")}
    assert messages["ada"] != messages["bob"]
    for message in messages.values():  # the case: shapes, the worst index, values, tolerance
        assert "for B=1, D=" in message and "at index" in message and "tolerance" in message
