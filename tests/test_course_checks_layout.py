"""The course's checks live on the instructor's side: the library `rnn_tf` imports neither the
grader nor the checks, and the checks import nothing private of the student kit."""

import ast
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) of every import statement in `path`, nested ones included."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append((node.module or "", [alias.name for alias in node.names]))
    return found


def test_the_library_imports_neither_the_grader_nor_the_checks():
    for path in sorted((REPO / "rnn_tf").rglob("*.py")):
        roots = {module.split(".")[0] for module, _ in _imports(path)}
        assert not roots & {"autograder", "course_checks"}, f"{path.relative_to(REPO)}: {roots}"


def test_importing_the_library_loads_neither_the_grader_nor_the_checks():
    probe = ("import sys, rnn_tf, rnn_tf.experiments\n"
             "print(sorted({m.split('.')[0] for m in sys.modules}\n"
             "             & {'autograder', 'course_checks'}))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO,
                         check=True)
    assert out.stdout.strip() == "[]"


def test_the_checks_use_only_the_public_names_of_the_kit():
    for path in sorted((REPO / "course_checks").rglob("*.py")):
        for module, names in _imports(path):
            if module.split(".")[0] == "rnn_course_student":
                private = [n for n in names if n.startswith("_")]
                assert not private, f"{path.relative_to(REPO)} imports {private} from {module}"


def test_the_library_keeps_no_copy_of_the_checks():
    assert not (REPO / "rnn_tf" / "mistakes").exists()
    assert not (REPO / "rnn_tf" / "testing.py").exists()
