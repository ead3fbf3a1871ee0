"""The student kit, used as a student uses it: built by `rnn-grade student-kit`, its wheel installed
into a fresh virtual environment where the instructor's packages (`rnn_tf`, `autograder`) cannot
be imported, and every notebook checked with the installed `rnn-check`.

The environment: a venv made from the base interpreter with the kit's wheel installed --no-deps,
plus one .pth line naming a folder of links to everything in the instructor's site-packages but
this project's own packages, so TensorFlow, Keras, nbgrader and JupyterLab come from there
without a download. A path listed in a .pth file joins sys.path without its own .pth files being
run, so the editable-install finder that maps `rnn_tf` and `autograder` to this repository is
never installed either; every command runs outside the repository with PYTHONPATH unset. A test
proves that `import rnn_tf` and `import autograder` fail there.
"""

import ast
import json
import os
import re
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

import nbformat
import pytest

from autograder.course import student_kit
from autograder.course.folder import COURSE_DIR, Course

IDS = Course(COURSE_DIR).assignments
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def kit(tmp_path_factory):
    """(kit folder, the venv's bin/, the environment for its commands)."""
    root = tmp_path_factory.mktemp("kit")
    out = root / "kit"
    student_kit.build_kit(out)
    venv = root / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv",
                    "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    wheel = next((out / "wheels").glob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--no-index", "--quiet", str(wheel)], check=True)
    where = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    site = subprocess.run([str(python), "-c", where], check=True, capture_output=True,
                          text=True).stdout.strip()
    Path(site, "instructor-packages.pth").write_text(str(_instructor_packages(root)) + "\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PATH"] = str(venv / "bin") + os.pathsep + env.get("PATH", "")
    return out, venv / "bin", env


def _instructor_packages(root):
    """A folder of links to the instructor environment's installed packages, less this project's
    (whether installed editable or not) and the .pth hooks that would import them."""
    view = root / "instructor-packages"
    view.mkdir()
    project = ("rnn_tf", "autograder", "course_checks", "rnn_course_student", "rnn_course",
               "__editable__")
    paths = sysconfig.get_paths()
    for folder in dict.fromkeys([paths["purelib"], paths["platlib"]]):
        for entry in Path(folder).iterdir():
            if not entry.name.startswith(project) and not (view / entry.name).exists():
                (view / entry.name).symlink_to(entry)
    return view


def run(kit, *args, cwd=None):
    out, bin_dir, env = kit
    return subprocess.run([str(bin_dir / args[0]), *args[1:]], capture_output=True, text=True,
                          cwd=cwd or out, env=env, timeout=900)


def solution_cells(assignment):
    """grade id -> the answer as a student would type it: the instructor's cell without markers."""
    source = nbformat.read(COURSE_DIR / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]:
            "\n".join(line for line in c.source.splitlines() if not MARKER.match(line))
            for c in source.cells if c.metadata.get("nbgrader", {}).get("solution")}


def pasted(kit, assignment, folder, leave=()):
    """The kit's notebook with the answers pasted in (but those in `leave`), saved in `folder`."""
    out, _, _ = kit
    nb = nbformat.read(out / assignment / f"{assignment}.ipynb", as_version=4)
    answers = solution_cells(assignment)
    for cell in nb.cells:
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if gid in answers and gid not in leave:
            cell.source = answers[gid]
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{assignment}.ipynb"
    nbformat.write(nb, path)
    return path


def exercise_lines(stdout):
    return [line for line in stdout.splitlines() if line.startswith("  Exercise ")]


def test_kit_holds_the_release_the_wheel_and_a_readme(kit):
    out, _, _ = kit
    for assignment in IDS:
        assert (out / assignment / f"{assignment}.ipynb").read_bytes() == (
            COURSE_DIR / "release" / assignment / f"{assignment}.ipynb").read_bytes()
    wheels = [p.name for p in (out / "wheels").iterdir()]
    assert wheels == ["rnn_course_student-0.1.0-py3-none-any.whl"]
    readme = (out / "README.md").read_text()
    for needed in ("pip install wheels/*.whl", "jupyter lab",
                   "rnn-check rnn1_forward/rnn1_forward.ipynb"):
        assert needed in readme
    assert "course.sh" not in readme and "pip install -e" not in readme


def test_instructor_packages_cannot_be_imported_where_the_kit_is_installed(kit):
    out, bin_dir, env = kit
    probe = ("import importlib, json\nfound = {}\n"
             "for name in ('rnn_tf', 'autograder', 'course_checks', 'rnn_course_student',"
             " 'nbgrader', 'nbclient'):\n"
             "    try:\n        found[name] = importlib.import_module(name).__file__\n"
             "    except ImportError:\n        found[name] = None\n"
             "print(json.dumps(found))")
    found = json.loads(run(kit, "python", "-c", probe).stdout)
    assert found["rnn_tf"] is None and found["autograder"] is None, found
    assert found["course_checks"] is None, found
    assert found["rnn_course_student"].startswith(str(bin_dir.parent)), found  # the wheel's copy
    assert found["nbgrader"] and found["nbclient"], found


def test_installed_kit_defines_no_name_that_an_answer_cell_defines(kit):
    out, bin_dir, _ = kit
    answers = set()
    for assignment in IDS:
        source = nbformat.read(COURSE_DIR / "source" / assignment / f"{assignment}.ipynb",
                               as_version=4)
        for cell in source.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                answers |= _defined(ast.parse(cell.source))
    assert {"rnn_forward", "rnn_backward", "clip_by_global_norm", "build_encoder_decoder",
            "MinimalRNNCell"} <= answers
    modules = list((bin_dir.parent / "lib").glob("python3*/site-packages/rnn_course_student/*.py"))
    assert len(modules) >= 10, modules
    for module in modules:
        clash = _defined(ast.parse(module.read_text())) & answers
        assert not clash, f"{module.name} defines {sorted(clash)}"


def _defined(tree):
    names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    for node in tree.body:
        if isinstance(node, ast.Assign):
            names |= {n.id for t in node.targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def test_usage_error_answers_at_once_without_importing_tensorflow(kit):
    result = run(kit, "rnn-check")
    assert result.returncode == 2 and "usage: rnn-check" in result.stderr
    probe = ("import sys\nfrom rnn_course_student.selfcheck import main\n"
             "try:\n    main([])\nexcept SystemExit as e:\n    code = e.code\n"
             "heavy = sorted({m.split('.')[0] for m in sys.modules} & "
             "{'tensorflow', 'keras', 'nbformat', 'nbclient', 'nbgrader', 'numpy'})\n"
             "print(code, heavy)")
    assert run(kit, "python", "-c", probe).stdout.split()[0] == "2"
    assert run(kit, "python", "-c", probe).stdout.strip().endswith("[]")
    timings = []
    for _ in range(3):
        start = time.perf_counter()
        run(kit, "rnn-check", "--timeout")
        timings.append(time.perf_counter() - start)
    print(f"rnn-check usage error: best of 3 {min(timings):.2f} s")
    assert min(timings) < 1.0


@pytest.mark.parametrize("make, message", [
    (lambda d: d / "missing.ipynb", "no such file"),
    (lambda d: _write(d / "answer.py", "def rnn_forward():\n    pass\n"),
     "not a Jupyter notebook (a .py file)"),
    (lambda d: _write(d / "rnn1_forward.ipynb", '{"cells": [{"cell_type": "code", '),
     "is damaged: it is not valid JSON"),
    (lambda d: _write(d / "empty.ipynb", ""), "is damaged: the file is empty"),
    (lambda d: _write(d / "data.ipynb", '{"rows": [1, 2]}'),
     "not a Jupyter notebook: it is JSON without notebook cells"),
    (lambda d: d, "is a folder, not a notebook"),
    (lambda d: _other_course(d / "hw1.ipynb"), "a notebook of another course"),
    (lambda d: _plain(d / "scratch.ipynb"), "it has no nbgrader cells"),
])
def test_files_that_cannot_be_checked_exit_2_and_say_why(kit, tmp_path, make, message):
    path = make(tmp_path)
    result = run(kit, "rnn-check", str(path))
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr, result.stderr
    assert "Traceback" not in result.stderr


def _write(path, text):
    path.write_text(text)
    return path


def _other_course(path):
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "assert True", metadata={"nbgrader": {"grade": True, "grade_id": "q1_tests", "points": 1,
                                              "solution": False, "locked": True,
                                              "schema_version": 3}})])
    nbformat.write(nb, path)
    return path


def _plain(path):
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")]), path)
    return path


@pytest.mark.parametrize("assignment", IDS)
def test_untouched_notebook_reports_every_exercise_not_implemented_yet(kit, assignment):
    result = run(kit, "rnn-check", f"{assignment}/{assignment}.ipynb")
    assert result.returncode == 1, result.stdout + result.stderr
    lines = exercise_lines(result.stdout)
    assert lines and all(line.endswith(": not implemented yet") for line in lines), result.stdout
    assert "nothing written yet" in result.stdout  # and so it was not run
    source = nbformat.read(COURSE_DIR / "source" / assignment / f"{assignment}.ipynb", 4)
    written = [c.metadata["nbgrader"]["grade_id"] for c in source.cells
               if c.cell_type == "markdown" and c.metadata.get("nbgrader", {}).get("solution")]
    for gid in written:  # unanswered written answers are listed with their points
        assert re.search(rf"\[{gid}, \d+ points?\]", result.stdout), result.stdout


@pytest.mark.parametrize("assignment", IDS)
def test_solution_code_pasted_into_the_kit_passes_every_visible_check(kit, tmp_path, assignment):
    path = pasted(kit, assignment, tmp_path / assignment)
    result = run(kit, "rnn-check", str(path), cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = exercise_lines(result.stdout)
    honest = re.compile(r": (pass|pass \(\d+ visible\), \d+ checked only at grading|"
                        r"\d+ recorded, graded later|\d+ checked only at grading)$")
    assert lines and all(honest.search(line) for line in lines), result.stdout
    assert "FAIL" not in result.stdout and "not implemented" not in result.stdout
    release = nbformat.read(kit[0] / assignment / f"{assignment}.ipynb", as_version=4)
    for cell in release.cells:  # never "pass" for a check that did not run here
        gid = cell.metadata.get("nbgrader", {}).get("grade_id")
        if not cell.metadata.get("nbgrader", {}).get("grade") or cell.cell_type != "code":
            continue
        item = re.search(rf"    - ([^:\n]+)[^\n]*\n      check: [^\n]*\[{gid}, ", result.stdout)
        assert item, (gid, result.stdout)
        if not any(line.strip() and not line.strip().startswith("#")
                   for line in cell.source.splitlines()):
            assert item.group(1) == "checked only at grading", (gid, item.group(0))
        elif "quiz_score(" in cell.source or "recorded, graded later" in cell.source:
            assert item.group(1) == "recorded, graded later", (gid, item.group(0))
        else:
            assert item.group(1) == "pass", (gid, item.group(0))
    release = nbformat.read(kit[0] / assignment / f"{assignment}.ipynb", as_version=4)
    released = {c.metadata.get("nbgrader", {}).get("grade_id") for c in release.cells}
    hidden = set(student_kit.manifest()["assignments"][assignment]["hidden_tests"]) & released
    assert hidden
    for gid in hidden:  # a passing cell with hidden tests says so
        assert re.search(rf"(more checks run at grading|checks are all hidden|compared when your "
                         rf"notebook is graded).*\n.*\[{gid},",
                         result.stdout), (gid, result.stdout)
    assert "Written answers still unanswered" not in result.stdout
    assert "note:" not in result.stdout


def _checks_of(notebook, name):
    """(answer cell, grade id of the first test cell after it) for the answer defining `name`."""
    cells = notebook.cells
    for index, cell in enumerate(cells):
        meta = cell.metadata.get("nbgrader", {})
        defines = re.search(rf"^(def|class) {name}\b|^{name} = ", cell.source, re.M)
        if meta.get("solution") and defines:
            test = next(c for c in cells[index + 1:] if c.metadata.get("nbgrader", {}).get("grade"))
            return cell, test.metadata["nbgrader"]["grade_id"]
    raise LookupError(name)


def test_wrong_answer_fails_message_first_and_an_edited_test_cell_is_restored(kit, tmp_path):
    minimal = _checks_of(nbformat.read(kit[0] / "rnn1_forward" / "rnn1_forward.ipynb", 4),
                         "MinimalRNNCell")[0].metadata["nbgrader"]["grade_id"]
    path = pasted(kit, "rnn1_forward", tmp_path / "work", leave={minimal})
    nb = nbformat.read(path, as_version=4)
    count_answer, count_test = _checks_of(nb, "rnn_param_count")
    count_answer.source = "def rnn_param_count(D, H):\n    return D * H + H * H"  # no bias
    next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == count_test
         ).source = "# Checks nothing\npass\n"  # an edited read-only cell
    layout_answer, layout_test = _checks_of(nb, "to_column_layout")
    layout_answer.source = ("import sys\n\ndef to_column_layout(kernel, recurrent_kernel):\n"
                            "    print('debugging', file=sys.stderr)\n"
                            "    return kernel.T, recurrent_kernel.T\n")
    renamed = tmp_path / "work" / "my copy.ipynb"
    nbformat.write(nb, renamed)
    result = run(kit, "rnn-check", str(renamed), cwd=tmp_path)
    assert result.returncode == 1, result.stdout + result.stderr
    out = result.stdout
    assert re.search(rf"note: you changed the read-only cell '.+' \({count_test}\): the grader "
                     "runs the original", out), out
    assert "note: the grader looks for rnn1_forward.ipynb" in out
    # The restored check runs and fails; the exercise says FAIL, the message comes first.
    assert re.search(r": FAIL\n    - FAIL: AssertionError: [^\n]+\n"
                     rf"      check: [^\n]*\[{count_test}, ", out), out
    assert re.search(r"    - FAIL: the cell wrote to stderr, which the grader scores as 0 points: "
                     rf"debugging\n      check: [^\n]*\[{layout_test}, ", out), out
    assert re.search(r"Exercise 3 \([^)]*\): [^\n]*: pass \(1 visible\), "
                     r"1 checked only at grading\n", out), out  # rnn_forward's exercise
    assert re.search(r": not implemented yet\n    - not implemented yet: MinimalRNNCell still has "
                     r"`raise NotImplementedError\(\)`", out), out


def test_nbgrader_validate_works_on_a_kit_notebook_from_the_kit_alone(kit, tmp_path):
    """What JupyterLab's Validate button runs (nbgrader's validate_assignment server extension
    calls the same validator), on a kit notebook, with only the kit installed."""
    path = pasted(kit, "rnn1_forward", tmp_path / "rnn1_forward")
    result = run(kit, "python", "-m", "nbgrader", "validate", path.name, cwd=path.parent)
    assert "Success! Your notebook passes all the tests." in result.stdout, (
        result.stdout + result.stderr)


def test_installing_the_wheel_brings_the_validate_button(kit):
    """The wheel depends on nbgrader and JupyterLab, and nbgrader's own wheel installs its
    JupyterLab extension and enables its server extensions (Validate among them)."""
    out, _, _ = kit
    probe = ("import importlib.metadata as m, json\n"
             "kit = m.requires('rnn_course_student')\n"
             "files = [str(f) for f in m.files('nbgrader')]\n"
             "print(json.dumps({'requires': kit, 'files': files}))")
    found = json.loads(run(kit, "python", "-c", probe).stdout)
    names = {r.split(">")[0].split("=")[0].split(";")[0].strip() for r in found["requires"]}
    assert {"nbgrader", "jupyterlab", "keras", "nbclient", "nbformat"} <= names, names
    assert "tensorflow" in names and "tensorflow-cpu" not in names  # Colab already has tensorflow
    files = found["files"]
    assert any(f.endswith("labextensions/@jupyter/nbgrader/package.json") for f in files)
    config = [f for f in files if f.endswith("jupyter_server_config.d/nbgrader.json")]
    assert config, "nbgrader's wheel no longer enables its server extensions"


def _set_answer(nb, name, source):
    answer, test = _checks_of(nb, name)
    answer.source = source
    return test


def test_rnn1_with_realistic_mistakes_is_reported_honestly(kit, tmp_path):
    """A shapes quiz all wrong is "recorded, graded later" (never "pass"); a wrong step FAILs and
    its hidden-only cell says "checked only at grading"; a syntax error is named with its line in
    the report and in the test cell's own NameError, which Validate shows too."""
    minimal = _checks_of(nbformat.read(kit[0] / "rnn1_forward" / "rnn1_forward.ipynb", 4),
                         "MinimalRNNCell")[0].metadata["nbgrader"]["grade_id"]
    path = pasted(kit, "rnn1_forward", tmp_path / "rnn1_forward", leave={minimal})
    nb = nbformat.read(path, as_version=4)
    _set_answer(nb, "shapes", "shapes = {name: (1, 2) for name in "
                              "['x', 'x_t', 'h_prev', 'W_x', 'W_h', 'b', 'h']}\n")
    step_test = _set_answer(nb, "rnn_step_forward",
                            "def rnn_step_forward(x_t, h_prev, W_x, W_h, b):\n"
                            "    return 1 / (1 + np.exp(-(x_t @ W_x + h_prev @ W_h + b)))\n")
    count_test = _set_answer(nb, "rnn_param_count",
                             "def rnn_param_count(D, H):\n    total = D * H + H * H + H\n"
                             "    return total)\n")
    nbformat.write(nb, path)
    result = run(kit, "rnn-check", str(path), cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert re.search(r"Exercise 1 \([^)]*\): [^\n]*: 1 recorded, graded later\n"
                     r"    - recorded, graded later: ", out), out
    assert re.search(rf"    - FAIL: [^\n]+\n      check: [^\n]*\[{step_test}, ", out), out
    assert re.search(r"    - checked only at grading: [^\n]+\n      check: [^\n]*"
                     r"\[rnn_step_forward_other_shapes, ", out), out
    assert "rnn_forward is right, but it calls your rnn_step_forward" not in out  # cells pass
    assert re.search(r"    - FAIL: your rnn_param_count cell did not run: it has a syntax error at "
                     r"line 3: ", out), out
    assert re.search(r"    - FAIL: NameError: name 'rnn_param_count' is not defined: the cell that "
                     rf"defines it has a syntax error at line 3: [^\n]+\n      check: [^\n]*"
                     rf"\[{count_test}, ", out), out
    for line in out.splitlines():  # nothing that did not run is called a pass
        if "checked only at grading" in line or "recorded" in line:
            assert "- pass" not in line, line
    validate = run(kit, "python", "-m", "nbgrader", "validate", path.name, cwd=path.parent)
    assert ("NameError: name 'rnn_param_count' is not defined: the cell that defines it has a "
            "syntax error at line 3") in " ".join(validate.stdout.split()), validate.stdout


def test_rnn2_a_right_loop_keeps_its_points_and_an_emptied_written_answer_is_listed(kit, tmp_path):
    """The reported case: a step whose db is not summed over the batch makes a right loop raise
    ValueError; the trusted step still shows the loop right. A written answer whose placeholder
    was deleted, nothing written, is listed with its points and the exit code is 1."""
    path = pasted(kit, "rnn2_bptt", tmp_path / "rnn2_bptt")
    nb = nbformat.read(path, as_version=4)
    step_test = _set_answer(nb, "rnn_step_backward",
                            "def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):\n"
                            "    dz = dh_t * (1 - h_t**2)\n"
                            "    return dz @ W_x.T, dz @ W_h.T, x_t.T @ dz, h_prev.T @ dz, dz\n")
    written = next(c for c in nb.cells if c.cell_type == "markdown"
                   and c.metadata.get("nbgrader", {}).get("solution"))
    written.source = "  \n"
    nbformat.write(nb, path)
    result = run(kit, "rnn-check", str(path), cwd=tmp_path)
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert re.search(rf"    - FAIL: [^\n]+\n      check: [^\n]*\[{step_test}, ", out), out
    assert re.search(r"Exercise 2 \([^)]*\): [^\n]*: pass \(2 visible\), 1 checked only at "
                     r"grading\n", out), out
    gid = written.metadata["nbgrader"]["grade_id"]
    assert re.search(rf"Written answers still unanswered[^\n]*\n    - Exercise 5 [^\n]*\[{gid}, "
                     r"3 points\]", out), out
    assert "1 written answer(s) still to write." in out
