"""The split between the student kit and the instructor's library, checked statically (fast): the
release notebooks import only the kit and the standard scientific stack, and the kit defines no
name that an answer cell defines."""

import ast
import shutil
from pathlib import Path

import nbformat
import pytest

from autograder.course.folder import COURSE_DIR, Course

REPO = Path(__file__).resolve().parent.parent
KIT = REPO / "rnn_course_student"
ALLOWED_IMPORTS = {"rnn_course_student", "numpy", "keras", "tensorflow", "matplotlib"}
IDS = Course(COURSE_DIR).assignments


def _code_cells(path):
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


def _imported_roots(source):
    roots = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            roots.add((node.module or "").split(".")[0])
    return roots


def defined_names(tree) -> set[str]:
    """Functions and classes defined anywhere, and names bound at the top level."""
    names = {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                                ast.ClassDef))}
    for node in tree.body:
        targets = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def solution_names() -> dict[str, str]:
    """Every name an answer cell of the instructor's notebooks defines -> its assignment."""
    found = {}
    for assignment in IDS:
        for cell in _code_cells(COURSE_DIR / "source" / assignment / f"{assignment}.ipynb"):
            if cell.metadata.get("nbgrader", {}).get("solution"):
                for name in defined_names(ast.parse(cell.source)):
                    found[name] = assignment
    return found


@pytest.mark.parametrize("assignment", IDS)
def test_release_imports_only_the_kit_and_the_scientific_stack(assignment):
    for index, cell in enumerate(_code_cells(COURSE_DIR / "release" / assignment
                                             / f"{assignment}.ipynb")):
        roots = _imported_roots(cell.source)
        assert roots <= ALLOWED_IMPORTS, (
            f"{assignment} cell {index} imports {roots - ALLOWED_IMPORTS}")
        assert "rnn_tf" not in cell.source, f"{assignment} cell {index} mentions rnn_tf"


def test_solution_names_are_found():
    names = solution_names()
    # One of each kind, so that an empty result cannot pass the test below.
    assert {"rnn_forward", "MinimalRNNCell", "clip_by_global_norm", "same_as_pytorch",
            "build_encoder_decoder", "jacobian_norms"} <= set(names)


def test_kit_defines_no_name_that_an_answer_cell_defines():
    answers = solution_names()
    for module in sorted(KIT.rglob("*.py")):
        clash = defined_names(ast.parse(module.read_text())) & set(answers)
        assert not clash, (f"{module.relative_to(REPO)} defines {sorted(clash)}, answered in "
                           f"{sorted({answers[n] for n in clash})}")


def test_kit_does_not_import_the_instructor_packages():
    for module in sorted(KIT.rglob("*.py")):
        roots = _imported_roots(module.read_text())
        assert not roots & {"rnn_tf", "autograder", "course_checks"}, (
            f"{module.relative_to(REPO)} imports {roots}")


def test_drift_check_rebuilds_the_kit_and_names_what_fell_behind(tmp_path, monkeypatch):
    """A kit module that grew an answer, and a release that imports a name the kit lacks:
    `rnn-grade build --check` (find_drift -> kit_drift) lists both."""
    from autograder.course import student_kit

    course = tmp_path / "course"
    assignment = "rnn1_forward"
    for part in ("source", "release"):
        (course / part / assignment).mkdir(parents=True)
        name = f"{part}/{assignment}/{assignment}.ipynb"
        (course / name).write_bytes((COURSE_DIR / name).read_bytes())
    assert student_kit.kit_drift(course) == []  # in step until it is edited below

    release = course / "release" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(release, as_version=4)
    notebook.cells[1].source += "\nfrom rnn_course_student.checks import assert_everything\n"
    nbformat.write(notebook, release)

    kit = tmp_path / "rnn_course_student"
    kit.mkdir()
    for module in KIT.glob("*.py"):
        (kit / module.name).write_bytes(module.read_bytes())
    shutil.copytree(KIT / student_kit.JUPYTER_CONFIG, kit / student_kit.JUPYTER_CONFIG)
    (kit / "references.py").write_text((kit / "references.py").read_text()
                                       + "\n\ndef rnn_forward(x, h0, W_x, W_h, b):\n    pass\n")
    monkeypatch.setattr(student_kit, "KIT_PACKAGE", kit)
    problems = student_kit.kit_drift(course)
    assert "kit: rnn_course_student.references defines ['rnn_forward'], an answer of " \
           "['rnn1_forward']" in problems, problems
    assert any("imports ['assert_everything'] from rnn_course_student.checks" in p
               for p in problems), problems


def test_layer_check_accepts_keras_and_rnn_tf_simple_rnn_only():
    """Students use keras.layers.SimpleRNN (the kit has no rnn_tf); a graded solution may still
    use the library's drop-in replacement; anything else is refused."""
    import keras

    import rnn_tf
    from rnn_course_student.checks import assert_uses_simple_rnn

    def model(layer):
        return keras.Sequential([keras.Input((None, 3)), layer, keras.layers.Dense(2)])

    assert_uses_simple_rnn(model(keras.layers.SimpleRNN(4)), "task", count=1)
    assert_uses_simple_rnn(model(rnn_tf.SimpleRNN(4)), "task", count=1)
    assert_uses_simple_rnn(model(keras.layers.Bidirectional(keras.layers.SimpleRNN(4))), "task",
                           count=2)
    with pytest.raises(AssertionError, match="expected keras.layers.SimpleRNN for every"):
        assert_uses_simple_rnn(model(keras.layers.GRU(4)), "task")
    with pytest.raises(AssertionError, match="found no recurrent layer"):
        assert_uses_simple_rnn(model(keras.layers.Dense(4)), "task")
