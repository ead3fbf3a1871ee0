"""Which Python versions the student kit installs on: for each candidate version, pip resolves the
kit's dependencies to wheels only (no build from source), as a student's `pip install` would.

    python -m autograder.course.kit_pythons   # asks the package index; rewrites kit_pythons.json

The answer is kept in `kit_pythons.json` beside this file (with the command, the date and the
requirements it was computed for), so that tests compare `requires-python` and the kit's README
with it without asking the network. A version counts as supported when every dependency resolves
to a final release (a TensorFlow release candidate alone does not count).
"""

from __future__ import annotations

import datetime
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

EVIDENCE = Path(__file__).with_name("kit_pythons.json")
CANDIDATES = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")
PLATFORM = "this machine's (Linux x86_64)"  # pip's own platform tags; others are not resolved
PRE_RELEASE = re.compile(r"(a|b|rc|dev)\d*$")


def pip_command(python: str, report: Path, requirements: Path) -> list[str]:
    return [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed",
            "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
            "--target", str(report.parent / "target"),
            "--report", str(report), "--quiet", "-r", str(requirements)]


def resolve(python: str, requirements: list[str]) -> dict:
    """{"resolves": bool, "versions": {name: version} of the main packages, "error": str}."""
    with tempfile.TemporaryDirectory(prefix="kit-python-") as tmp:
        listed = Path(tmp) / "requirements.txt"
        listed.write_text("\n".join(requirements) + "\n")
        report = Path(tmp) / "report.json"
        result = subprocess.run(pip_command(python, report, listed), capture_output=True,
                                text=True, timeout=900)
        if result.returncode != 0:
            errors = [line for line in result.stderr.splitlines() if line.startswith("ERROR")]
            return {"resolves": False, "error": errors[-1] if errors else result.stderr[-300:]}
        installed = json.loads(report.read_text())["install"]
    versions = {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in installed}
    pre = sorted(name for name, version in versions.items() if PRE_RELEASE.search(version))
    main = {name: versions[name] for name in ("tensorflow", "keras", "numpy", "nbgrader",
                                              "jupyterlab") if name in versions}
    return {"resolves": not pre, "versions": main,
            "error": f"only pre-releases of {', '.join(pre)}" if pre else ""}


def supported(evidence: dict) -> list[str]:
    return [v for v, found in evidence["pythons"].items() if found["resolves"]]


def main() -> int:
    from autograder.course.student_kit import kit_requirements

    requirements = kit_requirements()
    pythons = {}
    for python in CANDIDATES:
        pythons[python] = resolve(python, requirements)
        print(python, pythons[python], flush=True)
    EVIDENCE.write_text(json.dumps({
        "command": "python -m autograder.course.kit_pythons  (pip install --dry-run "
                   "--only-binary=:all: "
                   f"--python-version X -r <the kit's requirements>) on {PLATFORM}",
        "date": datetime.date.today().isoformat(),
        "requirements": requirements,
        "pythons": pythons,
    }, indent=1) + "\n")
    print("supported:", ", ".join(supported(json.loads(EVIDENCE.read_text()))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
