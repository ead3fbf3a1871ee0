"""The kit names catalogued mistakes where the student works, in the grader's words, from what the
installed kit may hold (one-way fingerprints, rnn_course_student/fingerprints.py):

- every stored mutant, through `naming_mistakes` and through the release notebooks' own visible
  test cells (run in this process with the set-up cell's names): the failure starts with the
  sentence the grader's hidden check says for that mutant, then what the check saw; with an
  empty fingerprint table (the negative control) the same cells give their generic hint;
- right answers (the model answers, right answers in unusual forms) pass every wired cell and are
  never named, even when a check around them fails;
- a function that prints or runs long while it is fingerprinted neither writes into the cell nor
  holds it up;
- `rnn-check` on a real rnn1 notebook with mistakes written as students write them names each as
  the grader does;
- the kit's wheel (built by `rnn-grade student-kit`) holds none of the reference's outputs on the
  kit's fixed inputs, printed at any precision that could identify them or as raw bytes (the
  negative control plants them and sees them found), no instructor package, and the very
  fingerprint table tests/test_mistakes_fingerprints.py checks.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from course_checks.mistakes import kit_fingerprints
from rnn_course_student import checks, selfcheck
from rnn_course_student import fingerprints as kit
from tests.test_mistakes_fingerprints import STORED, _grader_says
from tests.test_mistakes_written import RIGHT_UNUSUAL, WRITTEN, _notebook, _outcome

REPO = Path(__file__).resolve().parent.parent
COURSE = REPO / "course"
WIRED = {"rnn1_forward": ("rnn_step_forward", "rnn_forward", "to_column_layout"),
         "rnn2_bptt": ("rnn_step_backward", "rnn_backward", "jacobian_norms", "tanh_slope"),
         "rnn3_clipping": ("clip_by_global_norm",)}
TRUSTED = {"rnn_forward": {"rnn_step_forward": checks.trusted_step_forward},
           "rnn_backward": {"rnn_step_backward": checks.trusted_step_backward}}
MARKER = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
SAW = " What the check saw: "


def _gid(cell) -> str:
    return cell.metadata.get("nbgrader", {}).get("grade_id", "")


def _model_answers(assignment: str) -> dict:
    """grade id -> the model answer as a student would type it (markers removed)."""
    source = nbformat.read(COURSE / "source" / assignment / f"{assignment}.ipynb", as_version=4)
    return {_gid(c): "\n".join(line for line in c.source.splitlines() if not MARKER.match(line))
            for c in source.cells
            if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("solution")}


class Release:
    """A release notebook's set-up cell run in this process (without the kernel-level quieting),
    and its visible test cells that name mistakes, by exercise."""

    def __init__(self, assignment: str):
        notebook = nbformat.read(COURSE / "release" / assignment / f"{assignment}.ipynb", 4)
        setup = next(c.source for c in notebook.cells if _gid(c).startswith("setup"))
        self.names: dict = {}
        exec("\n".join(line for line in setup.splitlines() if "quiet_notebook()" not in line),
             self.names)
        self.cells: dict[str, list[str]] = {}
        for cell in notebook.cells:
            named = re.search(r'^with naming_mistakes\("(\w+)"', cell.source, re.M)
            if cell.metadata.get("nbgrader", {}).get("grade") and named:
                self.cells.setdefault(named.group(1), []).append(cell.source)
        self.answers = _model_answers(assignment)

    def first_failure(self, source: str, **answers) -> str | None:
        """Runs one test cell with `answers` bound; the message of its AssertionError, or None."""
        space = {**self.names, **answers}
        try:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(source, space)
        except AssertionError as failure:
            return str(failure)
        return None

    def first_named_failure(self, name: str, function, *, slow: bool = False) -> str | None:
        """The first failure of the exercise's wired cells, in the notebook's order, for
        `function`; `slow=False` leaves out the cell that takes finite differences (seconds)."""
        for source in self.cells[name]:
            if slow or "numerical_gradient(" not in source:
                said = self.first_failure(source, **{name: function})
                if said is not None:
                    return said
        return None

    def with_model_answers(self) -> dict:
        """The model answers of the wired exercises, defined as the notebook defines them."""
        space = dict(self.names)
        for answer in self.answers.values():
            if any(re.search(rf"^def {name}\b", answer, re.M) for name in self.cells):
                with contextlib.redirect_stdout(io.StringIO()):
                    exec(answer, space)
        return space


@pytest.fixture(scope="module")
def releases():
    return {assignment: Release(assignment) for assignment in WIRED}


def _assignment(exercise_name: str) -> str:
    return next(a for a, names in WIRED.items() if exercise_name in names)


def test_every_fingerprinted_exercise_has_wired_visible_checks(releases):
    wired = {name for release in releases.values() for name in release.cells}
    assert wired == {e.name for e in kit_fingerprints.EXERCISES} == set(kit.TABLE)
    assert all(WIRED[a] == tuple(r.cells) for a, r in releases.items())


@pytest.mark.parametrize("exercise, mistake", STORED, ids=[f"{e.name}-{m.key}" for e, m in STORED])
def test_a_visible_check_names_a_catalogued_mistake_as_the_grader_does(releases, exercise,
                                                                       mistake):
    """Through the notebook's own visible cells (the first that fails, as a student runs them;
    the finite-difference cell in the test below) and through `naming_mistakes` around any
    failure."""
    grader = _grader_says(exercise, mistake.mutant)
    release = releases[_assignment(exercise.name)]
    said = release.first_named_failure(exercise.name, mistake.mutant)
    assert said is not None and said.startswith(grader + SAW), (grader, said)
    trusted = TRUSTED.get(exercise.name, {})
    with pytest.raises(AssertionError) as failure:
        with checks.naming_mistakes(exercise.name, mistake.mutant, **trusted):
            raise AssertionError("h does not match keras: 3 of 4 values differ. Usual cause: hint")
    assert str(failure.value) == f"{grader}{SAW}h does not match keras: 3 of 4 values differ."
    with pytest.raises(AssertionError) as failure:  # the student's code raised on the inputs
        with checks.naming_mistakes(exercise.name, mistake.mutant, **trusted):
            raise ValueError("operands could not be broadcast together")
    assert str(failure.value) == (f"{grader}{SAW}ValueError: operands could not be broadcast "
                                  "together")


def test_every_wired_cell_names_and_without_fingerprints_keeps_its_generic_hint(releases,
                                                                              monkeypatch):
    """Each wired cell names a stored mutant of its exercise that fails it; the negative control
    empties the kit's table and the same cells say what they said before the kit named
    mistakes."""
    failing = []  # (release, cell, exercise name, mutant)
    for release in releases.values():
        for name, sources in release.cells.items():
            for source in sources:
                for exercise, mistake in [(e, m) for e, m in STORED if e.name == name]:
                    said = release.first_failure(source, **{name: mistake.mutant})
                    if said is not None:
                        assert said.startswith(_grader_says(exercise, mistake.mutant) + SAW), said
                        failing.append((release, source, name, mistake.mutant))
                        break
                else:
                    raise AssertionError(f"no stored mistake of {name} fails {source[:80]!r}")
    monkeypatch.setattr(kit, "TABLE", {})
    for release, source, name, mutant in failing:
        said = release.first_failure(source, **{name: mutant})
        sentences = [f"{name}: {m.message}." for e, m in STORED if e.name == name]
        assert said is not None and SAW not in said, (name, said)
        assert not any(said.startswith(sentence) for sentence in sentences), said


def test_right_answers_pass_and_are_never_named(releases):
    """The model answers pass every wired cell; neither they nor right answers written in unusual
    forms are named, even when a check around them fails for another reason."""
    for assignment, release in releases.items():
        space = release.with_model_answers()
        for name, sources in release.cells.items():
            for source in sources:
                assert release.first_failure(source, **space) is None, (assignment, name)
            assert checks.mistake_named(name, space[name], **TRUSTED.get(name, {})) is None, name
            with pytest.raises(AssertionError, match=r"^a check failed\. Usual cause: a hint$"):
                with checks.naming_mistakes(name, space[name], **TRUSTED.get(name, {})):
                    raise AssertionError("a check failed. Usual cause: a hint")
    unusual = [w for w in RIGHT_UNUSUAL if w.exercise in kit.TABLE]
    assert unusual
    for written in unusual:
        assert checks.mistake_named(written.exercise, _notebook(written)[written.exercise]) is None


def _shifted(value):
    """`value` with every number moved by 0.01: wrong, and no catalogued mistake."""
    if isinstance(value, (list, tuple)):
        return type(value)(_shifted(v) for v in value)
    return None if value is None else np.asarray(value, dtype=np.float64) + 0.01


def test_the_kit_cannot_tell_a_right_answer_from_an_uncatalogued_wrong_one():
    """What the kit answers for a right function is what it answers for a wrong one it does not
    know (None): its fixed inputs and table confirm no right answer, they only name mistakes."""
    for exercise in kit_fingerprints.EXERCISES:
        def wrong(*args, right=exercise.reference):
            return _shifted(right(*args))

        spec = kit.TABLE[exercise.name]
        assert kit.fingerprint(exercise.name, kit_fingerprints._outputs(exercise, wrong), spec) != (
            kit.fingerprint(exercise.name, kit_fingerprints._outputs(exercise, exercise.reference),
                            spec))  # wrong indeed
        assert kit.name_mistake(exercise.name, exercise.reference) is None, exercise.name
        assert kit.name_mistake(exercise.name, wrong) is None, exercise.name


def test_a_function_that_prints_or_runs_long_while_fingerprinted(capfd, monkeypatch):
    """Output while the kit fingerprints a function is swallowed (on stderr it would cost the cell
    its points; the negative control calls the lookup bare and sees it); a function slower than
    the limit is not named and the check's own failure stands (with the limit raised, the same
    function is named)."""
    exercise, mistake = next((e, m) for e, m in STORED if e.name == "rnn_step_forward")

    def noisy(*args):
        print("debugging on stdout")
        print("debugging on stderr", file=sys.stderr)
        return mistake.mutant(*args)

    grader = _grader_says(exercise, mistake.mutant)
    assert checks.mistake_named("rnn_step_forward", noisy) == grader
    assert capfd.readouterr() == ("", "")
    kit.name_mistake("rnn_step_forward", noisy)
    assert "debugging on stderr" in capfd.readouterr().err

    def slow(*args):
        time.sleep(1.0)
        return mistake.mutant(*args)

    monkeypatch.setattr(checks, "NAMING_TIME_LIMIT_S", 0.2)
    started = time.monotonic()
    with pytest.raises(AssertionError, match=r"^the check's own message$"):
        with checks.naming_mistakes("rnn_step_forward", slow):
            raise AssertionError("the check's own message")
    assert time.monotonic() - started < 0.9
    monkeypatch.setattr(checks, "NAMING_TIME_LIMIT_S", 5.0)
    assert checks.mistake_named("rnn_step_forward", slow) is not None


# --- rnn-check and the installed kit --------------------------------------------------------------


@pytest.fixture(scope="module")
def built_kit(tmp_path_factory):
    """(the kit's wheel, its files unpacked), built by the instructor's command."""
    root = tmp_path_factory.mktemp("kit")
    result = subprocess.run([str(Path(sys.executable).parent / "rnn-grade"), "student-kit",
                             str(root / "kit")], capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stdout + result.stderr
    wheel = next((root / "kit" / "wheels").glob("*.whl"))
    unpacked = root / "unpacked"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    return wheel, unpacked


def _answer_cell(notebook, name):
    return next(c for c in notebook.cells if c.metadata.get("nbgrader", {}).get("solution")
                and re.search(rf"^(def|class) {name}\b", c.source, re.M))


def test_rnn_check_names_written_mistakes_as_the_grader_does(built_kit, tmp_path):
    """rnn1 from the wheel's release, model answers pasted, one mistake written as a student writes
    it in each fingerprinted exercise: the report's FAIL line is the grader's sentence."""
    _, unpacked = built_kit
    release = unpacked / "rnn_course_student" / "release"
    notebook = nbformat.read(release / "rnn1_forward.ipynb", as_version=4)
    answers = _model_answers("rnn1_forward")
    for cell in notebook.cells:
        if _gid(cell) in answers:
            cell.source = answers[_gid(cell)]
    chosen = {}
    for name in WIRED["rnn1_forward"]:
        chosen[name] = next(w for w in WRITTEN if w.exercise == name
                            and kit.name_mistake(name, _notebook(w)[name]) is not None)
        _answer_cell(notebook, name).source = chosen[name].source
    path = tmp_path / "rnn1_forward.ipynb"
    nbformat.write(notebook, path)
    out = io.StringIO()
    assert selfcheck.check(path, release=release, out=out) == selfcheck.EXIT_FAIL
    report = out.getvalue()
    for name, written in chosen.items():
        grader = _outcome(written)[0]
        assert grader and grader.startswith(f"{name}: "), (name, grader)
        assert f"- FAIL: AssertionError: {grader}{SAW}" in report, (name, grader, report)
    assert "Usual cause: compare each term with the recurrence" not in report


def _reference_outputs() -> list[np.ndarray]:
    """What the right function of each fingerprinted exercise returns on the kit's fixed inputs:
    what the kit must not let a student compute."""
    return [a for e in kit_fingerprints.EXERCISES
            for a in kit_fingerprints._outputs(e, e.reference) if a.size]  # not a None's place


NUMBER = re.compile(rb"-?\d+\.(\d{6,})(?:[eE][-+]?\d+)?")  # six decimals or more: identifying


def _traces(folder: Path, outputs: list[np.ndarray]) -> list[str]:
    """Files under `folder` holding a reference output: a number printed with six or more
    decimals that rounds from one, or the raw float64 bytes of a value, or the float32 or
    float64 bytes of a whole output."""
    values = np.concatenate([np.ravel(a) for a in outputs])
    patterns = {a.astype(dtype).tobytes() for a in outputs for dtype in (np.float64, np.float32)}
    patterns |= {np.float64(v).tobytes() for v in values}
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if any(p in data for p in patterns):
            found.append(f"{path.relative_to(folder)}: raw bytes")
            continue
        for match in NUMBER.finditer(data):
            number, decimals = float(match.group(0)), len(match.group(1))
            if decimals <= 17 and np.any(np.abs(values - number) <= 0.5 * 10.0 ** -decimals):
                found.append(f"{path.relative_to(folder)}: {match.group(0).decode()}")
                break
    return found


def test_the_installed_kit_holds_no_right_output_and_no_instructor_code(built_kit, tmp_path):
    wheel, unpacked = built_kit
    outputs = _reference_outputs()
    assert _traces(unpacked, outputs) == []
    # Negative control: the same wheel with one reference output printed, and another saved.
    planted = tmp_path / "planted"
    shutil.copytree(unpacked, planted)
    (planted / "rnn_course_student" / "printed.py").write_text(
        f"H = {np.array2string(outputs[0], precision=8, separator=', ')}\n")
    np.save(planted / "rnn_course_student" / "saved.npy", outputs[-1])
    found = _traces(planted, outputs)
    assert any(f.startswith("rnn_course_student/printed.py") for f in found), found
    assert any(f.startswith("rnn_course_student/saved.npy") for f in found), found
    # The wheel ships the kit alone, importing nothing of the instructor's packages, and the
    # very table the fingerprint tests check (digests, the catalogue's sentences, the grid).
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    instructor = ("course_checks", "rnn_tf", "autograder", "mistakes", "solutions")
    assert not [n for n in names if any(part in n for part in instructor)], names
    for module in unpacked.rglob("*.py"):
        tree = ast.parse(module.read_text())
        imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
        imported |= {n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
        assert not {m for m in imported if m.split(".")[0] in instructor}, (module, imported)
    shipped = unpacked / "rnn_course_student" / "fingerprints.py"
    assert shipped.read_bytes() == Path(kit.__file__).read_bytes()
