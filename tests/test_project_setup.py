"""The set-up files agree: pip and conda users get the same packages, CI runs the README's test command."""

import re
import tomllib
from pathlib import Path

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


def test_environment_yml_pins_the_python_nbgrader_needs():
    assert "python=3.11" in (ROOT / "environment.yml").read_text()
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["requires-python"] == ">=3.11"


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    first_block = re.search(r"```(?:bash|sh)?\n(.*?)```", readme, re.S)
    assert first_block, "README.md must open with a code block of commands"
    assert readme.index(first_block.group(0)) < readme.index("\n## "), "commands come first"
    return [line.split("#")[0].strip() for line in first_block.group(1).splitlines() if line.strip()]


def test_readme_opens_with_exactly_two_commands_demo_and_test():
    commands = _readme_commands()
    assert commands == ["./course.sh demo", "./course.sh test"], commands


def test_ci_runs_the_readme_test_command():
    test_command = _readme_commands()[1]
    ci_lines = [line.split("#")[0].strip() for line in (ROOT / ".ci/run").read_text().splitlines()]
    assert test_command in ci_lines


def test_course_script_runs_pytest_and_the_demo_in_its_environment():
    script = (ROOT / "course.sh").read_text()
    assert 'pip install --quiet -e ".[course,test]"' in script
    assert "python -m pytest" in script
    assert "rnn-grade demo" in script
