"""The project passes the lint rules pyproject.toml configures ([tool.ruff]), notebooks included.

Run as a test so that the README's test command (and so CI) checks them.
"""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def ruff(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", "check", "--no-cache",
                           "--output-format", "concise", *args],
                          cwd=cwd, capture_output=True, text=True, timeout=300)


def test_the_project_passes_its_lint_rules():
    result = ruff(".")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_find_what_they_are_for(tmp_path):
    # Negative control: the project's configuration, on a file and a notebook that break it,
    # reports each break (a configuration that selected nothing would pass anything).
    (tmp_path / "broken.py").write_text(
        "import sys\nimport os\n\n\ndef f(xs, ys):\n"
        "    return [x for x, y in zip(xs, ys)]  # " + "x" * 70 + "\n")
    (tmp_path / "broken.ipynb").write_text(
        '{"cells": [{"cell_type": "code", "execution_count": null, "id": "a", "metadata": {},'
        ' "outputs": [], "source": ["import json"]}], "metadata": {}, "nbformat": 4,'
        ' "nbformat_minor": 5}')
    result = ruff("--config", str(ROOT / "pyproject.toml"), ".", cwd=tmp_path)
    found = {(name, code) for name, code in re.findall(r"^(broken\.\w+):.*?: ([A-Z]+\d+) ",
                                                        result.stdout, re.MULTILINE)}
    assert result.returncode == 1
    assert {("broken.py", code) for code in ("F401", "E501", "B905", "I001")} <= found, \
        result.stdout
    assert ("broken.ipynb", "F401") in found, result.stdout  # notebooks are checked too
