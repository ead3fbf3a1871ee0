"""The set-up files agree and work: pip and conda users get the same packages; `course.sh` sets up
its environment once and runs pytest and the demo in it; CI runs the README's test command with
CI=true, refuses to start without the system programs the tests use, and under CI a test that
does not run fails the run (tests/conftest.py)."""

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from test_feedback_browser import CHROMEDRIVER, CHROMIUM

ROOT = Path(__file__).resolve().parents[1]


def _pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {_normalise(r) for r in requirements}


def _environment_pip_requirements() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    indent = len(lines[start + 1]) - len(lines[start + 1].lstrip())
    requirements = []
    for line in lines[start + 1 :]:
        if not line.strip() or len(line) - len(line.lstrip()) < indent:
            break
        requirements.append(line.strip().removeprefix("- "))
    # `-e .` installs the project itself; it is not a third-party requirement.
    return {_normalise(r) for r in requirements if not r.startswith("-e")}


def _normalise(requirement: str) -> str:
    return re.sub(r"\s+", "", requirement).lower()


def test_environment_yml_installs_what_pyproject_declares():
    in_pyproject = _pyproject_requirements()
    in_environment = _environment_pip_requirements()
    assert in_environment == in_pyproject, (
        f"only in pyproject.toml: {sorted(in_pyproject - in_environment)}; "
        f"only in environment.yml: {sorted(in_environment - in_pyproject)}"
    )


def test_environment_yml_pins_a_python_that_pyproject_accepts():
    from packaging.specifiers import SpecifierSet

    dependencies = [line.strip().removeprefix("- ") for line in
                    (ROOT / "environment.yml").read_text().splitlines()]
    [pin] = [d.split("=", 1)[1] for d in dependencies if d.startswith("python=")]
    accepted = SpecifierSet(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "requires-python"])
    assert f"{pin}.0" in accepted, (pin, accepted)
    assert f"{pin}.0" in SpecifierSet(">=3.11"), "nbgrader 0.9 needs Python 3.11"


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", readme, re.S)
    assert first_block, "README.md must open with a code block of commands"
    assert readme.index(first_block.group(0)) < readme.index("\n## "), "commands come first"
    return [line.split("#")[0].strip() for line in first_block.group(1).splitlines()
            if line.strip()]


def test_readme_opens_with_exactly_two_commands_demo_and_test():
    commands = _readme_commands()
    assert commands == ["./course.sh demo", "./course.sh test"], commands




def _stub(path: Path, log: Path, name: str) -> None:
    """An executable that only records how it was called (one line in ``log``)."""
    path.write_text(f'#!/bin/sh\necho "{name} CI=$CI $*" >> {log}\n')
    path.chmod(0o755)


def test_course_sh_installs_once_then_runs_pytest_and_the_demo_in_its_environment(tmp_path):
    # A stand-in environment whose python and rnn-grade record their calls. course.sh takes the
    # environment's folder relative to the checkout.
    venv, log = tmp_path / "venv", tmp_path / "calls.log"
    (venv / "bin").mkdir(parents=True)
    _stub(venv / "bin" / "python", log, "python")
    _stub(venv / "bin" / "rnn-grade", log, "rnn-grade")
    env = {"PATH": os.environ["PATH"], "RNN_COURSE_VENV": os.path.relpath(venv, ROOT)}
    test_command = _readme_commands()[1].split()  # ./course.sh test

    def run(*args):
        out = subprocess.run([str(ROOT / "course.sh"), *args], cwd=ROOT, env=env, text=True,
                             capture_output=True, timeout=60)
        assert out.returncode == 0, out.stderr
        calls = log.read_text().splitlines()
        log.unlink()
        return calls

    first = run(*test_command[1:], "-k", "quick")
    assert first[:-1] == ["python CI= -m pip install --quiet --upgrade pip",
                          "python CI= -m pip install --quiet -e .[course,test]"]
    # the environment's python
    assert first[-1] == "python CI= -m pytest -n 2 --dist loadfile -k quick"
    # installed once, until pyproject changes
    assert run("test") == ["python CI= -m pytest -n 2 --dist loadfile"]
    assert run("demo", "--jobs", "1") == ["rnn-grade CI= demo --jobs 1"]


def _ci_checkout(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of .ci/run beside a course.sh that records its calls; returns (run, calls.log)."""
    repo, log = tmp_path / "repo", tmp_path / "calls.log"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(ROOT / ".ci" / "run", repo / ".ci" / "run")
    _stub(repo / "course.sh", log, "course.sh")
    return repo / ".ci" / "run", log


def _tools(tmp_path: Path, *names: str) -> str:
    """A PATH holding only the programs .ci/run needs besides the tested ones: no apt-get, so it
    reports what is missing instead of installing it."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    for name in ("bash", "dirname", "id", "env", *names):
        (folder / name).symlink_to(shutil.which(name))
    return str(folder)


def test_ci_runs_the_readme_test_command_with_ci_set(tmp_path):
    run, log = _ci_checkout(tmp_path)
    if not all(os.access(p, os.X_OK) for p in (CHROMIUM, CHROMEDRIVER)) or not shutil.which(
            "bwrap"):
        pytest.skip("needs bubblewrap, chromium and chromium-driver (apt-get install "
                    "bubblewrap chromium chromium-driver)")
    out = subprocess.run([str(run)], env={"PATH": _tools(tmp_path, "bwrap")}, text=True,
                         capture_output=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert log.read_text().splitlines() == ["course.sh CI=true " + " ".join(
        _readme_commands()[1].split()[1:])]


def test_ci_stops_naming_a_missing_program_it_cannot_install(tmp_path):
    run, log = _ci_checkout(tmp_path)
    out = subprocess.run([str(run)], env={"PATH": _tools(tmp_path)}, text=True,
                         capture_output=True, timeout=60)
    assert out.returncode == 1 and not log.exists()
    assert "missing bubblewrap" in out.stderr and "apt-get install bubblewrap" in out.stderr


@pytest.mark.parametrize("program, package", [(CHROMIUM, "chromium"),
                                              (CHROMEDRIVER, "chromium-driver")])
def test_ci_checks_the_browser_where_the_browser_test_takes_it(tmp_path, program, package):
    # The exact file the browser test runs, hidden (bubblewrap binds /dev/null over it).
    if not shutil.which("bwrap"):
        pytest.skip("needs bubblewrap to hide a file (apt-get install bubblewrap)")
    run, log = _ci_checkout(tmp_path)
    hidden = ["bwrap", "--dev-bind", "/", "/", "--ro-bind", "/dev/null", program, "--"]
    if not os.path.exists(program):
        hidden = []  # already missing here
    out = subprocess.run([*hidden, "/usr/bin/env", f"PATH={_tools(tmp_path, 'bwrap')}",
                          str(run)], text=True, capture_output=True, timeout=60, env={})
    assert out.returncode == 1 and not log.exists(), out.stderr
    assert f"missing {package}" in out.stderr or f" {package} " in out.stderr, out.stderr


RULE_SUITE = '''
import pytest

def test_runs():
    pass

def test_skips():
    pytest.skip("needs the frobnicator (apt-get install frobnicator)")

@pytest.mark.xfail(reason="a known bug")
def test_xfails():
    assert False

@pytest.mark.parametrize("n", [1, 2])
def test_each(n):
    pass
'''


def test_under_ci_a_test_that_does_not_run_fails_the_run(tmp_path):
    # The suite's own conftest over a small suite with a skip, an xfail and a deselection.
    shutil.copy(ROOT / "tests" / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "test_rule.py").write_text(RULE_SUITE)

    def run(ci: str, *workers: str):
        env = {**os.environ, "CI": ci}
        env.pop("PYTEST_XDIST_WORKER", None)
        return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                               *workers, "-k", "not each[2]", str(tmp_path)], cwd=tmp_path,
                              env=env, text=True, capture_output=True, timeout=300)

    # As CI runs it (two xdist workers: the controller decides), then locally, then CI=false.
    ci, local = run("true", "-n", "2"), run("")
    assert ci.returncode == 1, ci.stdout
    assert local.returncode == 0, local.stdout
    for out in (ci.stdout, local.stdout):
        assert "SKIPPED test_rule.py::test_skips: needs the frobnicator (apt-get install " \
               "frobnicator)" in out
        assert "XFAILED test_rule.py::test_xfails: a known bug" in out
    assert "DESELECTED test_rule.py::test_each[2]" in ci.stdout
    assert "DESELECTED 1 tests" in local.stdout
    assert "CI=true: tests that did not run (each fails this run)" in ci.stdout
    assert run("false").returncode == 0
