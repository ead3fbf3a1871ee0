"""`rnn-grade student-kit OUT`: what an instructor hands out, and nothing else.

    OUT/<assignment>/<assignment>.ipynb   the release notebooks (course/release)
    OUT/wheels/rnn_course_student-*.whl   the student package, with the release and the self-check
    OUT/README.md                         install, open JupyterLab, self-check, submit

`pip install OUT/wheels/*.whl` installs everything: the wheel names TensorFlow, Keras, nbgrader and
JupyterLab as dependencies, taken from the root pyproject.toml so the two never disagree. The
wheel is built offline from a temporary copy of `rnn_course_student/` with a generated
pyproject, plus the release notebooks and a manifest (`release/course.json`: the course id and
which test cells also hold hidden tests; the hidden tests themselves never leave the instructor).
`kit_drift()` rebuilds the kit and lists what no longer matches course/, for
`rnn-grade build --check`.
"""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import zipfile
from pathlib import Path

from .folder import COURSE_DIR, REPO, Course

KIT_PACKAGE = REPO / "rnn_course_student"
DISTRIBUTION = "rnn_course_student"
COURSE_ID = "rnn-course"
# What the kit needs from the course extra of the root project: notebooks, the Validate button,
# and the self-check's kernel runner. The rest of that extra (tqdm, psutil, dask) is the grader's.
KIT_EXTRAS = ("nbgrader", "jupyterlab", "nbclient", "nbformat")
HIDDEN = "### BEGIN HIDDEN TESTS"
# Jupyter configuration the wheel installs as data files into <prefix>/etc/jupyter/ (the student's
# JupyterLab shows nbgrader's student tools only; see the folder's README).
JUPYTER_CONFIG = "jupyter_config"


def _jupyter_config_files() -> dict[str, list[Path]]:
    """{folder under etc/jupyter: its files} of the kit's Jupyter configuration."""
    root = KIT_PACKAGE / JUPYTER_CONFIG
    found = {"": sorted(root.glob("*.json"))}
    found.update({folder.name: sorted(folder.glob("*.json"))
                  for folder in sorted(root.iterdir()) if folder.is_dir()})
    return {folder: files for folder, files in found.items() if files}


def manifest(course_dir: Path = COURSE_DIR) -> dict:
    """The kit's course.json: the course id and, per assignment, the grade ids of test cells that
    hold hidden tests (so rnn-check can say "more checks run at grading")."""
    import nbformat

    entries = {}
    for assignment in Course(course_dir).assignments:
        source = nbformat.read(Path(course_dir) / "source" / assignment / f"{assignment}.ipynb",
                               as_version=4)
        hidden = [c.metadata["nbgrader"]["grade_id"] for c in source.cells
                  if HIDDEN in c.source and c.metadata.get("nbgrader", {}).get("grade_id")]
        entries[assignment] = {"notebook": f"{assignment}.ipynb", "hidden_tests": hidden}
    return {"course_id": COURSE_ID, "assignments": entries}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower()


def kit_requirements(pyproject: Path = REPO / "pyproject.toml") -> list[str]:
    """The root project's runtime dependencies plus the kit's part of its course extra.

    TensorFlow is the plain `tensorflow` wheel on every platform, where the root project takes
    `tensorflow-cpu` on Linux: on Colab and most JupyterHubs `tensorflow` is already installed,
    and `tensorflow-cpu` beside it would write a second copy of the same package over it."""
    project = tomllib.loads(pyproject.read_text())["project"]
    dependencies = project["dependencies"]
    runtime = [r for r in dependencies if _name(r) not in ("tensorflow", "tensorflow-cpu")]
    tensorflow = [r.split(";")[0].strip() for r in dependencies if _name(r) == "tensorflow"]
    extras = [r for r in project["optional-dependencies"]["course"] if _name(r) in KIT_EXTRAS]
    return tensorflow[:1] + runtime + extras


def _pyproject(version: str, requirements: list[str], python: str) -> str:
    deps = "".join(f"    {json.dumps(r)},\n" for r in requirements)
    data_files = "".join(
        f'"{"/".join(filter(None, ["etc/jupyter", folder]))}" = '
        f'{json.dumps(["/".join(filter(None, [JUPYTER_CONFIG, folder, f.name])) for f in files])}\n'
        for folder, files in _jupyter_config_files().items())
    return f"""[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "{DISTRIBUTION}"
version = "{version}"
description = "The student kit of the RNN course: what the notebooks import, and rnn-check."
requires-python = "{python}"
dependencies = [
{deps}]

[project.scripts]
rnn-check = "rnn_course_student.selfcheck:main"

[tool.setuptools]
packages = ["rnn_course_student"]

[tool.setuptools.package-data]
rnn_course_student = ["release/*.ipynb", "release/*.json"]

[tool.setuptools.data-files]
{data_files}"""


def _stage(staging: Path, course_dir: Path) -> None:
    """A buildable copy of the kit: the package, the release notebooks and the manifest."""
    package = staging / "rnn_course_student"
    shutil.copytree(KIT_PACKAGE, package,
                    ignore=shutil.ignore_patterns("__pycache__", "release", JUPYTER_CONFIG))
    shutil.copytree(KIT_PACKAGE / JUPYTER_CONFIG, staging / JUPYTER_CONFIG,
                    ignore=shutil.ignore_patterns("*.md"))
    release = package / "release"
    release.mkdir()
    for assignment in Course(course_dir).assignments:
        notebook = Path(course_dir) / "release" / assignment / f"{assignment}.ipynb"
        if notebook.is_file():  # a missing release is reported by build_kit and the drift check
            shutil.copy2(notebook, release)
    (release / "course.json").write_text(json.dumps(manifest(course_dir), indent=1) + "\n")
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    (staging / "pyproject.toml").write_text(
        _pyproject(project["version"], kit_requirements(), project["requires-python"]))


def build_wheel(wheels: Path, course_dir: Path = COURSE_DIR) -> Path:
    """Builds the kit's wheel into `wheels/` offline (no index, no build isolation); returns it."""
    wheels.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="rnn-kit-") as tmp:
        staging = Path(tmp) / "src"
        _stage(staging, course_dir)
        result = subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
             "--no-index", "--quiet", "--wheel-dir", str(wheels), str(staging)],
            capture_output=True, text=True, cwd=tmp)
        if result.returncode != 0:
            raise RuntimeError(f"building the kit's wheel failed:\n{result.stdout}{result.stderr}")
    built = sorted(wheels.glob(f"{DISTRIBUTION}-*.whl"))
    if not built:
        raise RuntimeError(f"pip reported success but wrote no {DISTRIBUTION} wheel to {wheels}")
    return built[-1]


# The install's size and time, from benchmarks/results/kit_install.json (benchmarks/
# measure_kit_install.py: `pip download` of the kit's wheel with its dependencies into a fresh venv
# on Linux, Python 3.11, then `pip install` from those files, on 2 busy cores). A slower connection
# moves the download time in proportion; an idle machine installs faster.
DOWNLOAD = "about 730 MB (TensorFlow is 572 MB of it; 2.6 GB once installed)"
DURATION = "about 8 minutes on 2 busy cores (113 s to download, 353 s to install)"

README = """# {course}: your kit

This folder holds the course's notebooks and, in `wheels/`, the one package they need.

## Install (once)

You need Python {pythons}: the versions for which every package the kit needs (TensorFlow
above all) has a ready-made wheel. The install downloads {download} and takes {duration}.

```bash
python3 -c "{version_check}"
python3 -m venv rnn-course            # a fresh environment, here in the folder rnn-course/
. rnn-course/bin/activate              # Windows: rnn-course\\Scripts\\activate
pip install wheels/*.whl               # TensorFlow, Keras, JupyterLab and nbgrader come with it
```

The first line checks the version of `python3` and, if it is not one of these, says so in one
sentence; then install a supported Python (e.g. `python3.12`) and use its name in place of
`python3`. (Without the check, pip refuses the wheel with "requires a different Python".)
Windows PowerShell: `pip install (Get-ChildItem wheels\\*.whl)`.

## Work

```bash
jupyter lab
```

Open `<assignment>/<assignment>.ipynb` ({notebooks}) in order. Run the first cell, then fill in
every cell that says `raise NotImplementedError()` (delete that line) and the written answers
that say "YOUR ANSWER HERE". The cells with `assert`s below each exercise check your work; do not
edit them. JupyterLab's **Validate** button (nbgrader's toolbar) runs the whole notebook.

## Check before you submit

```bash
rnn-check rnn1_forward/rnn1_forward.ipynb
```

runs your notebook as the grader will and reports each check: **pass** (it ran here and
passed), **FAIL** with the reason (a syntax error is named with its line), **not implemented
yet**, **recorded, graded later** (quiz answers: their form is checked here, their values only
at grading) or **checked only at grading** (cells whose checks are all hidden). It lists the
written answers still to write (empty, or as given) with their points. It exits with 0 when
every visible check passes and every written answer is written, 1 otherwise, 2 when it could not
check the file (and says why).

## On Colab or a JupyterHub

Open the notebook there, upload the wheel from `wheels/` next to it (Colab: the Files pane), save
the notebook, and run this in a new cell at its end:

```python
{colab_cell}
```

It installs the kit into the notebook's Python and prints the same report for the open notebook,
as last saved. (Colab comes with TensorFlow; the install adds what is missing.)

## Submit

Hand in each notebook file itself, under the name it came with (`rnn1_forward.ipynb`, ...),
as your instructor asks. Do not rename it, and do not edit or delete the read-only cells: the
grader puts the original test cells back and adds hidden tests (other shapes, float32 and
float64, and that you did not call the very function you were asked to write).
"""

COLAB_CELL = """%pip install --quiet {wheel}
from rnn_course_student.selfcheck import check_open_notebook
check_open_notebook()"""


def supported_pythons() -> list[str]:
    """The Python versions of `requires-python` in the root pyproject, e.g. ['3.11', '3.12',
    '3.13'] for ">=3.11,<3.14" (see autograder/course/kit_pythons.py for how they were found)."""
    from packaging.specifiers import SpecifierSet

    spec = SpecifierSet(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
                        ["requires-python"])
    return [f"3.{minor}" for minor in range(6, 20) if f"3.{minor}.0" in spec]


def version_check(pythons: list[str]) -> str:
    """A one-line Python program that exits with one sentence unless it runs on `pythons`."""
    low, high = (tuple(int(n) for n in v.split(".")) for v in (pythons[0], pythons[-1]))
    return (f"import sys; v = sys.version_info[:2]; sys.exit(0 if {low} <= v <= {high} else "
            f"'This course needs Python {pythons[0]} to {pythons[-1]}; this python3 is ' "
            "+ sys.version.split()[0] + '.')")


def write_readme(out: Path, ids: list[str], wheel: str = "rnn_course_student-*.whl") -> Path:
    path = out / "README.md"
    pythons = supported_pythons()
    path.write_text(README.format(
        course=COURSE_ID, notebooks=", ".join(f"`{a}`" for a in ids),
        pythons=", ".join(pythons[:-1]) + " or " + pythons[-1], download=DOWNLOAD,
        duration=DURATION, version_check=version_check(pythons).replace('"', '\\"'),
        colab_cell=COLAB_CELL.format(wheel=wheel)))
    return path


def build_kit(out: Path, course_dir: Path = COURSE_DIR) -> list[Path]:
    """Writes the kit into `out` (which must be empty or absent); returns the files written."""
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} is not empty: give a new or empty folder for the kit.")
    ids = Course(course_dir).assignments
    written = []
    for assignment in ids:
        release = Path(course_dir) / "release" / assignment / f"{assignment}.ipynb"
        if not release.is_file():
            raise FileNotFoundError(f"{release} is missing: run `rnn-grade build`.")
        target = out / assignment / f"{assignment}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(release, target)
        written.append(target)
    wheel = build_wheel(out / "wheels", course_dir)
    written.append(wheel)
    written.append(write_readme(out, ids, wheel.name))
    return written


# --- drift ---------------------------------------------------------------------------------------


def _defined_names(tree) -> set[str]:
    names = {n.name for n in ast.walk(tree)
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))}
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else (
            [node.target] if isinstance(node, (ast.AnnAssign, ast.AugAssign)) else [])
        for target in targets:
            names |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
    return names


def kit_drift(course_dir: Path = COURSE_DIR) -> list[str]:
    """Rebuilds the kit's wheel and lists what does not match the course: release notebooks or
    manifest that differ, kit modules the release imports but the wheel lacks, and kit names
    that an answer cell defines. Empty when the kit is in step."""
    import nbformat

    problems = []
    answers = {}
    for assignment in Course(course_dir).assignments:
        source = nbformat.read(Path(course_dir) / "source" / assignment / f"{assignment}.ipynb",
                               as_version=4)
        for cell in source.cells:
            if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution"):
                answers.update(dict.fromkeys(_defined_names(ast.parse(cell.source)), assignment))
    with tempfile.TemporaryDirectory(prefix="rnn-kit-check-") as tmp:
        try:
            wheel = build_wheel(Path(tmp), course_dir)
        except RuntimeError as error:
            return [f"kit: {error}"]
        with zipfile.ZipFile(wheel) as archive:
            files = {name: archive.read(name) for name in archive.namelist()}
    modules = {name[:-3].replace("/", "."): data for name, data in files.items()
               if name.endswith(".py")}
    for assignment in Course(course_dir).assignments:
        packaged = files.get(f"rnn_course_student/release/{assignment}.ipynb")
        release = Path(course_dir) / "release" / assignment / f"{assignment}.ipynb"
        if not release.is_file():
            continue  # find_drift reports it
        if packaged != release.read_bytes():
            problems.append(f"kit: its release/{assignment}.ipynb differs from {release}")
        for cell in nbformat.read(release, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if (isinstance(node, ast.ImportFrom)
                        and (node.module or "").startswith(DISTRIBUTION)):
                    module = modules.get(node.module) or modules.get(node.module + ".__init__")
                    sub = {a.name for a in node.names} - {m.rsplit(".", 1)[-1] for m in modules}
                    if module is None:
                        problems.append(f"kit: {assignment} imports {node.module}, not in the kit")
                    elif sub - _defined_names(ast.parse(module)):
                        problems.append(f"kit: {assignment} imports {sorted(sub)} from "
                                        f"{node.module}, which does not define them")
    packaged_manifest = json.loads(files.get("rnn_course_student/release/course.json", b"{}"))
    if packaged_manifest != manifest(course_dir):
        problems.append("kit: release/course.json differs from the hidden tests of course/source")
    for name, data in sorted(modules.items()):
        clash = _defined_names(ast.parse(data)) & set(answers)
        if clash:
            problems.append(f"kit: {name} defines {sorted(clash)}, an answer of "
                            f"{sorted({answers[n] for n in clash})}")
    return problems
