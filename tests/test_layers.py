"""The packages' imports point one way: kit <- library <- course checks <- grader.

A lower layer never imports a higher one, no package has an import cycle inside it, and no
private name (``_x``) is imported from another package (README.md, "Layout").
"""

from pathlib import Path

import pytest

from import_layers import imports, problems

ROOT = Path(__file__).resolve().parent.parent
# Lowest first: each package may import the ones before it, never the ones after.
LAYERS = ["rnn_course_student", "rnn_tf", "course_checks", "autograder"]


@pytest.fixture(scope="module")
def found():
    return problems(ROOT, LAYERS)


@pytest.mark.parametrize("kind", ["cycles", "against the direction",
                                  "private names across packages"])
def test_the_packages_imports_point_one_way(found, kind):
    assert not found[kind], f"{kind}:\n" + "\n".join(found[kind])


def test_the_graph_holds_the_imports_that_are_allowed():
    # The checker reads the real tree: the imports of the kit by the layers above it are there
    # (a checker that saw no imports would pass everything).
    edges = {(i.importer.split(".")[0], i.target.split(".")[0]) for i in imports(ROOT, LAYERS)}
    assert {("rnn_tf", "rnn_course_student"), ("course_checks", "rnn_course_student"),
            ("autograder", "rnn_course_student")} <= edges


def _write(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_a_planted_cycle_upward_import_and_private_import_are_each_named(tmp_path):
    # Negative control: the same checker on a small tree with one of each offence.
    _write(tmp_path, {
        "low/__init__.py": "",
        "low/helpers.py": "def _secret():\n    return 1\n\ndef public():\n    return 2\n",
        # upward, inside a function, where such imports hide
        "low/uses_high.py": "def f():\n    from high.top import run\n    return run\n",
        "high/__init__.py": "",
        "high/top.py": "from low.helpers import _secret\nfrom . import other\n\ndef run():\n"
                       "    return other\n",
        # `from . import top` ties other to high.top (the submodule), closing the cycle
        "high/other.py": "def g():\n    from . import top\n    return top\n",
        "high/fine.py": "from low import helpers\nfrom low.helpers import public\n",
    })
    found = problems(tmp_path, ["low", "high"])
    assert found["cycles"] == [
        "high.other <-> high.top: high/other.py:2 -> high.top; high/top.py:2 -> high.other"]
    assert found["against the direction"] == [
        "low/uses_high.py:2: low.uses_high imports high.top.run (low may not import high)"]
    assert found["private names across packages"] == [
        "high/top.py:1: high.top imports the private low.helpers._secret"]


def test_importing_a_package_ties_to_the_package_not_to_its_siblings(tmp_path):
    # `from pkg import name` of a name defined in pkg/__init__.py is an edge to the package
    # itself: a submodule that the package's __init__ imports makes a cycle with it.
    _write(tmp_path, {
        "pkg/__init__.py": "from .a import A\nLIMIT = 3\n",
        "pkg/a.py": "from . import LIMIT\nA = LIMIT\n",
        "pkg/b.py": "from pkg import a\n",
    })
    found = problems(tmp_path, ["pkg"])
    assert found["cycles"] == ["pkg <-> pkg.a: pkg/__init__.py:1 -> pkg.a; pkg/a.py:1 -> pkg"]
    edges = {(i.importer, i.target) for i in imports(tmp_path, ["pkg"])}
    assert ("pkg.b", "pkg.a") in edges and ("pkg.b", "pkg") not in edges
