"""The parts of the autograder that read submissions without running them (fast, no kernels).

Static cheat detection follows import aliases; rebuilding on the release undoes tampering and
says what it undid; submissions are found in nbgrader's layout, flat folders and zips.
"""

import json
import zipfile

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.course.folder import Course
from autograder.grading import rebuild_rules, scan_rules
from autograder.grading.submissions import find
from course_checks import policy


def scan(src, assignment="rnn1_forward", setup="import numpy as np\nimport tensorflow as tf"):
    aliases = scan_rules.collect_aliases([setup, src])
    return scan_rules.scan_cell(src, "answer", policy.FORBIDDEN.get(assignment, {}), aliases,
                            set(scan_rules.collect_aliases([setup])))


def kinds(findings):
    return {(f.kind, f.detail) for f in findings}


@pytest.mark.parametrize("src, detail", [
    ("np.testing.assert_allclose = lambda *a, **k: None", "replaces numpy.testing.assert_allclose"),
    ("import numpy.testing as t\nt.assert_allclose = print",
     "replaces numpy.testing.assert_allclose"),
    ("from numpy import testing\ntesting.assert_allclose = print",
     "replaces numpy.testing.assert_allclose"),
    ("import numpy\nnumpy.allclose = lambda *a: True", "replaces numpy.allclose"),
    ("import builtins\nbuiltins.isinstance = lambda *a: True", "replaces builtins.isinstance"),
    ("import builtins\nsetattr(builtins, 'abs', len)", "setattr() on builtins"),
    ("import course_checks.testing as h\nh.assert_shape = print",
     "replaces course_checks.testing.assert_shape"),
    ("np = None", "rebinds the set-up name 'np'"),
])
def test_monkeypatching_is_found_through_aliases(src, detail):
    assert ("monkeypatch", detail) in kinds(scan(src))


@pytest.mark.parametrize("assignment, src", [
    ("rnn1_forward", "import keras\ndef rnn_forward(x, h0, W_x, W_h, b):\n"
                     "    return keras.layers.SimpleRNN(4)(x)"),
    ("rnn1_forward", "from keras.layers import SimpleRNN as S\nclass MyCell:\n"
                     "    def call(self, x):\n        return S(3)(x)"),
    ("rnn1_forward", "def rnn_forward(x, h0, W_x, W_h, b):\n"
                     "    return tf.keras.layers.SimpleRNN(4)(x)"),
    ("rnn1_forward", "import rnn_tf\ndef rnn_forward(x, h0, W_x, W_h, b):\n"
                     "    return rnn_tf.rnn_forward(x, h0, W_x, W_h, b)"),
    ("rnn2_bptt", "def rnn_backward(dh, cache):\n    with tf.GradientTape() as tape:\n"
                  "        pass"),
    ("rnn2_bptt", "from rnn_tf.bptt import rnn_backward as rb\ndef rnn_backward(dh, cache):\n"
                  "    return rb(dh, cache)"),
    ("rnn3_clipping", "def clip_by_global_norm(grads, max_norm):\n"
                      "    return tf.clip_by_global_norm(grads, max_norm)"),
    ("rnn3_clipping", "from tensorflow import clip_by_global_norm as c\n"
                      "def clip_by_global_norm(grads, max_norm):\n    return c(grads, max_norm)"),
])
def test_calling_what_the_exercise_asks_for_is_forbidden(assignment, src):
    assert any(f.kind == "forbidden" for f in scan(src, assignment)), scan(src, assignment)


@pytest.mark.parametrize("assignment, src", [
    ("rnn1_forward", "def rnn_step_forward(x, h_prev, W_x, W_h, b):\n"
                     "    return np.tanh(x @ W_x + h_prev @ W_h + b)"),
    # the clipping notebook's training loop may use a tape: only clip_by_global_norm is fenced
    ("rnn3_clipping", "def train_step(model, x, y):\n    with tf.GradientTape() as tape:\n"
                      "        loss = model(x)\n    return tape.gradient(loss, model.weights)"),
    ("rnn2_bptt", "x = np.ones(3)\nassert np.allclose(x, 1)"),  # using, not replacing, is fine
])
def test_honest_answers_are_not_flagged(assignment, src):
    assert not [f for f in scan(src, assignment) if f.kind != "suspicious"]


def test_every_course_assignment_has_a_forbidden_call_policy():
    # The grader reads the course's table through the course's configuration.
    course = Course("course")
    assert course.policy.forbidden == policy.FORBIDDEN
    assert set(course.policy.forbidden) == set(course.assignments) == {
        "rnn1_forward", "rnn2_bptt", "rnn3_clipping", "rnn4_configurations"}


def test_dynamic_tricks_are_reported_as_suspicious():
    found = kinds(scan("import importlib\nm = importlib.import_module('numpy')\n"
                       "exec('m.allclose = 1')\nopen('../gradebook.db')"))
    assert ("suspicious", "calls exec()") in found
    assert ("suspicious", "calls importlib.import_module()") in found
    assert ("suspicious", "mentions 'gradebook'") in found


def _meta(gid, **kw):
    return {"nbgrader": {"grade_id": gid, "schema_version": 3, "grade": False, "solution": False,
                         "locked": False, **kw}}


def _release():
    return new_notebook(cells=[
        new_code_cell("import numpy as np", metadata=_meta("setup_imports", locked=True)),
        new_markdown_cell("Write f."),
        new_code_cell("def f():\n    raise NotImplementedError()",
                      metadata=_meta("f", solution=True)),
        new_code_cell("assert f() == 1", metadata=_meta("f_test", grade=True, locked=True,
                                                        points=1)),
    ])


def _cells(nb):
    return json.loads(nbformat.writes(nb))["cells"]


def test_rebuild_keeps_answers_and_restores_everything_else():
    sub = _release()
    sub.cells[2].source = "def f():\n    return 1"
    sub.cells[3].source = "pass"  # edited test
    sub.cells.insert(3, new_code_cell("helper = 2"))  # an added cell stays where it was
    out = rebuild_rules.rebuild(_cells(sub), _release())
    sources = [c.source for c in out.nb.cells]
    assert sources == ["import numpy as np", "Write f.", "def f():\n    return 1", "helper = 2",
                       "assert f() == 1"]
    assert out.notes == ["test cell f_test was edited (restored and graded)"]


def test_rebuild_restores_a_deleted_test_and_matches_an_answer_without_metadata():
    sub = _release()
    sub.cells[2] = new_code_cell("def f():\n    return 1")  # metadata lost (copy-pasted cell)
    del sub.cells[3]
    out = rebuild_rules.rebuild(_cells(sub), _release())
    assert [c.source for c in out.nb.cells][2:] == ["def f():\n    return 1", "assert f() == 1"]
    assert any("f_test was deleted" in n for n in out.notes)
    assert any("lost its nbgrader metadata" in n for n in out.notes)


@pytest.mark.parametrize("content, reason", [
    (b"", "the file is empty"),
    (b"   \n", "the file is empty"),
    (b"{oops", "not valid JSON"),
    (b"[1, 2]", "not a Jupyter notebook"),
])
def test_unreadable_files_say_why(tmp_path, content, reason):
    path = tmp_path / "x.ipynb"
    path.write_bytes(content)
    with pytest.raises(rebuild_rules.Unreadable, match=reason):
        rebuild_rules.read_cells(str(path))


def test_submissions_are_found_in_nbgrader_flat_and_zip_layouts(tmp_path):
    rel = {"rnn1_forward": _release()}
    for student in ("ann", "bo_b"):
        d = tmp_path / "submitted" / student / "rnn1_forward"
        d.mkdir(parents=True)
        nbformat.write(_release(), str(d / "rnn1_forward.ipynb"))
    nbformat.write(_release(), str(tmp_path / "submitted" / "cy_d_rnn1_forward.ipynb"))
    nbformat.write(_release(), str(tmp_path / "submitted" / "mystery.ipynb"))
    found = {(s.student, s.assignment): s.notes
             for s in find(str(tmp_path), ["rnn1_forward"], rel)}
    assert set(found) == {("ann", "rnn1_forward"), ("bo_b", "rnn1_forward"),
                          ("cy_d", "rnn1_forward"), ("mystery", "rnn1_forward")}
    assert "does not name an assignment" in found[("mystery", "rnn1_forward")][0]

    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.write(tmp_path / "submitted" / "cy_d_rnn1_forward.ipynb", "cy_d_rnn1_forward.ipynb")
        z.writestr("../evil_rnn1_forward.ipynb", "{}")  # zip slip: ignored
    assert [(s.student, s.assignment) for s in find(str(archive), ["rnn1_forward"], rel)] == [
        ("cy_d", "rnn1_forward")]


def test_a_folder_or_zip_is_required(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ValueError, match="neither a folder nor a zip file"):
        find(str(tmp_path / "notes.txt"), ["rnn1_forward"], {})


@pytest.mark.parametrize("assignment", ["rnn1_forward", "rnn2_bptt", "rnn3_clipping",
                                        "rnn4_configurations"])
def test_the_course_solutions_are_not_flagged(assignment):
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "course" / "source" / assignment
    nb = nbformat.read(str(path / f"{assignment}.ipynb"), 4)
    setup = [c.source for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("setup_")]
    answers = [c.source for c in nb.cells
               if c.metadata.get("nbgrader", {}).get("solution") and c.cell_type == "code"]
    aliases = scan_rules.collect_aliases(setup + answers)
    names = set(scan_rules.collect_aliases(setup))
    rules = policy.FORBIDDEN[assignment]
    found = [f for src in answers for f in scan_rules.scan_cell(src, "a", rules, aliases, names)
             if f.kind != "suspicious"]
    assert not found


def test_calling_rnn_tf_reference_builders_is_forbidden_in_configurations():
    src = ("import rnn_tf.configurations as rc\ndef build_many_to_one(input_dim, num_classes):\n"
           "    return rc.build_many_to_one(input_dim, num_classes)")
    assert any(f.kind == "forbidden" for f in scan(src, "rnn4_configurations"))


RULES = [(assignment, scope, name) for assignment, rules in policy.FORBIDDEN.items()
         for scope, names in rules.items() for name in names]


@pytest.mark.parametrize("assignment, scope, name", RULES)
def test_every_entry_of_the_policy_table_is_caught_by_the_static_scan(assignment, scope, name):
    module, _, attr = name.rpartition(".")
    definition = {"class": "class MyAnswer:\n    def call(self, x):\n",
                  "*": "def my_builder(x):\n"}.get(scope, f"def {scope}(x):\n")
    indent = "        " if scope == "class" else "    "
    src = f"import {module} as m\n{definition}{indent}return m.{attr}(x)"
    found = scan(src, assignment)
    assert any(f.kind == "forbidden" and name in f.detail for f in found), found


@pytest.mark.parametrize("name", sorted({name for _, _, name in RULES}))
def test_every_entry_of_the_policy_table_is_something_forbid_can_block(name):
    # forbid() blocks functions and classes; a module or a typo would block nothing at run time.
    import importlib

    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
            break
        except ImportError:
            continue
    for attr in parts[split:]:
        obj = getattr(obj, attr)
    assert callable(obj) and not isinstance(obj, type(importlib)), name


def _owner_and_attribute(name: str):
    """The object that holds the last part of a dotted name (a module or a class), and that part."""
    import importlib

    parts = name.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            owner = importlib.import_module(".".join(parts[:split]))
            break
        except ImportError:
            continue
    for attr in parts[split:-1]:
        owner = getattr(owner, attr)
    return owner, parts[-1]


@pytest.mark.parametrize("assignment", sorted(policy.FORBIDDEN))
def test_the_course_tests_block_at_run_time_every_call_the_scan_forbids(assignment):
    # A student function calling each forbidden name, run inside the course tests' own forbid()
    # with the list the assignment's test cells pass it: every call raises ForbiddenCallError.
    from course_checks import testing

    listed = {"rnn1_forward": testing.FORWARD_FORBIDDEN, "rnn2_bptt": testing.BACKWARD_FORBIDDEN,
              "rnn3_clipping": testing.CLIPPING_FORBIDDEN,
              "rnn4_configurations": testing.CONFIGURATIONS_FORBIDDEN}[assignment]
    not_blocked = []
    for name in policy.calls_forbidden_in(assignment):
        owner, attr = _owner_and_attribute(name)
        student = {"owner": owner}
        exec(f"def answer():\n    return owner.{attr}()", student)
        try:
            with testing.forbid(*listed, task="the exercise", namespaces=[student]):
                student["answer"]()
            not_blocked.append(f"{name}: ran")
        except testing.ForbiddenCallError:
            pass
        except Exception as e:  # the real function ran and refused the missing arguments
            not_blocked.append(f"{name}: {type(e).__name__}")
    assert not_blocked == [], not_blocked


def test_every_command_module_is_a_subcommand_of_the_installed_rnn_grade():
    # Every module that defines a command (NAME and run) is registered, and the console script
    # that pip installed lists it with its help and runs its --help.
    import importlib
    import pkgutil
    import shutil
    import subprocess

    from autograder import commands
    from autograder.cli import commands as listed
    from autograder.cli import main

    defined = {importlib.import_module(f"autograder.commands.{m.name}")
               for m in pkgutil.iter_modules(commands.__path__)}
    defined = {m for m in defined if hasattr(m, "NAME") and hasattr(m, "run")}
    assert defined and defined <= set(listed()), sorted(m.NAME for m in defined - set(listed()))
    script = shutil.which("rnn-grade")
    assert script, "rnn-grade is not installed on PATH (pip install -e .)"
    out = subprocess.run([script, "--help"], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    listing = " ".join(out.stdout.split())
    for command in listed():
        assert command.NAME in listing and " ".join(command.HELP.split())[:40] in listing, (
            command.NAME)
        with pytest.raises(SystemExit) as exited:
            main([command.NAME, "--help"])
        assert exited.value.code == 0, command.NAME


def test_the_limit_options_default_to_the_limits_dataclass():
    from dataclasses import fields

    from autograder.cli import parser
    from autograder.commands import options
    from autograder.grading.limits import Limits, flag

    args = parser().parse_args(["autograde", "class.zip"])
    # autograde leaves the notebook budget unset: it is derived from the solutions' run times.
    assert args.notebook_timeout is None
    args.notebook_timeout = Limits.notebook_timeout
    assert options.limits(args) == Limits()
    args = parser().parse_args(["autograde", "class.zip", flag("setup_timeout"), "7"])
    assert options.limits(args).setup_timeout == 7
    assert {flag(f.name) for f in fields(Limits)} >= {"--timeout", "--memory-mb"}


def _setup_imports(release) -> dict[str, str]:
    """Name bound by a set-up cell -> the module it was imported from."""
    import ast
    import importlib.util

    bound = {}
    for cell in release.cells:
        if not (cell.cell_type == "code"
                and cell.metadata.get("nbgrader", {}).get("grade_id", "").startswith("setup_")):
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    # `from package import module` binds the module itself.
                    sub = f"{node.module}.{alias.name}"
                    package = importlib.util.find_spec(node.module)
                    is_module = bool(package and package.submodule_search_locations
                                     and importlib.util.find_spec(sub))
                    bound[alias.asname or alias.name] = sub if is_module else node.module
    return bound


@pytest.mark.parametrize("assignment", sorted(policy.FORBIDDEN))
def test_the_guard_protects_every_helper_module_a_test_cell_calls(assignment):
    # A student who replaces a check helper before the tests run must be caught by the runtime
    # guard, so every module a test cell takes a helper from is fingerprinted.
    import ast

    from autograder.sandbox.guard import protected

    watched = protected(Course("course").policy.protected_attributes)
    release = nbformat.read(f"course/release/{assignment}/{assignment}.ipynb", as_version=4)
    bound = _setup_imports(release)
    called = set()
    for cell in release.cells:
        nbg = cell.metadata.get("nbgrader", {})
        if cell.cell_type == "code" and nbg.get("grade") and not nbg.get("solution"):
            called |= {n.id for n in ast.walk(ast.parse(cell.source)) if isinstance(n, ast.Name)}
    modules = {bound[name] for name in called & set(bound) if bound[name].startswith("rnn_")}
    assert modules, "the test cells call no course helper: the test reads the wrong cells"
    unprotected = {m for m in modules if m not in watched}
    assert not unprotected, f"{assignment}: test cells call helpers of {unprotected}, not guarded"
    assert all(m.split(".")[0] in scan_rules.PATCHABLE_MODULES for m in modules)
