"""Where the kit installs: the Python versions stated in pyproject's requires-python, in the kit's
wheel and in its README are those for which every dependency resolves to wheels (the evidence in
autograder/course/kit_pythons.json, recomputed by `python -m autograder.course.kit_pythons`); a
student on another Python is told so in one sentence, by the README's first command and by pip
itself."""

import json
import subprocess
import sys
import zipfile

import pytest
from packaging.specifiers import SpecifierSet

from autograder.course import kit_pythons, student_kit


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    return student_kit.build_wheel(tmp_path_factory.mktemp("wheel"))


def _evidence():
    return json.loads(kit_pythons.EVIDENCE.read_text())


def test_the_evidence_is_for_the_kits_current_requirements():
    assert _evidence()["requirements"] == student_kit.kit_requirements(), (
        "the kit's dependencies changed: run python -m autograder.course.kit_pythons")


def test_requires_python_is_exactly_the_versions_every_dependency_has_wheels_for():
    stated = student_kit.supported_pythons()
    assert stated == kit_pythons.supported(_evidence()), (stated, _evidence()["pythons"])
    assert stated and stated == sorted(stated, key=lambda v: int(v.split(".")[1]))
    assert f"{sys.version_info.major}.{sys.version_info.minor}" in stated  # CI's own Python
    unsupported = [v for v, found in _evidence()["pythons"].items() if not found["resolves"]]
    assert unsupported and all(_evidence()["pythons"][v]["error"] for v in unsupported)


def test_the_wheel_and_the_readme_state_the_same_versions(wheel, tmp_path):
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read(f"rnn_course_student-{wheel.name.split('-')[1]}.dist-info/"
                                "METADATA").decode()
    root = student_kit.tomllib.loads((student_kit.REPO / "pyproject.toml").read_text())
    stated = next(line.split(":", 1)[1].strip() for line in metadata.splitlines()
                  if line.startswith("Requires-Python:"))
    assert SpecifierSet(stated) == SpecifierSet(root["project"]["requires-python"]), stated
    readme = student_kit.write_readme(tmp_path, ["rnn1_forward"], wheel.name).read_text()
    pythons = student_kit.supported_pythons()
    assert f"You need Python {', '.join(pythons[:-1])} or {pythons[-1]}" in readme
    # the figures themselves: tests/test_benchmarks.py, against benchmarks/results/kit_install.json
    assert "MB (TensorFlow is" in readme and "minutes" in readme


def test_the_readmes_version_check_passes_here_and_names_python_and_the_versions_elsewhere():
    pythons = student_kit.supported_pythons()
    here = subprocess.run([sys.executable, "-c", student_kit.version_check(pythons)],
                          capture_output=True, text=True)
    assert here.returncode == 0 and not here.stderr
    # The same program where this interpreter is not among the versions (a later minor only).
    later = [f"3.{sys.version_info.minor + 1}", f"3.{sys.version_info.minor + 2}"]
    elsewhere = subprocess.run([sys.executable, "-c", student_kit.version_check(later)],
                               capture_output=True, text=True)
    version = sys.version.split()[0]
    assert elsewhere.returncode == 1
    assert elsewhere.stderr.strip() == (f"This course needs Python {later[0]} to {later[1]}; "
                                        f"this python3 is {version}.")


@pytest.mark.parametrize("python", ["3.10", "3.14"])
def test_pip_refuses_the_wheel_on_an_unsupported_python_naming_python_and_the_range(wheel, tmp_path,
                                                                                       python):
    result = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--dry-run", "--no-deps", "--no-index",
         "--only-binary=:all:", "--python-version", python, "--target", str(tmp_path / "t"),
         str(wheel)], capture_output=True, text=True)
    assert result.returncode != 0
    requires = student_kit.tomllib.loads((student_kit.REPO / "pyproject.toml").read_text())[
        "project"]["requires-python"]
    error = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
    assert len(error) == 1, result.stderr
    assert "requires a different Python" in error[0] and python in error[0], error
    assert all(part in error[0] for part in requires.split(",")), error
