"""The README's Colab cell, run as Colab or a JupyterHub would: appended to a kit notebook that is
executed with nbclient in a fresh venv where the kit is not installed yet. The cell installs the
wheel with %pip (its dependencies are already there, as on Colab) and prints rnn-check's report
for the open notebook, which Jupyter's server names in JPY_SESSION_NAME."""

import os
import subprocess
import sys

import nbformat
import pytest

from autograder.course import student_kit
from tests.test_student_kit import _instructor_packages

pytestmark = pytest.mark.slow

RUN = """import sys, nbformat
from nbclient import NotebookClient
nb = nbformat.read(sys.argv[1], 4)
NotebookClient(nb, timeout=600, kernel_name="python3", allow_errors=True).execute()
nbformat.write(nb, sys.argv[2])
"""


def test_the_readmes_colab_cell_installs_the_kit_and_checks_the_open_notebook(tmp_path):
    out = tmp_path / "kit"
    student_kit.build_kit(out)
    wheel = next((out / "wheels").glob("*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv",
                    "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True).stdout
    view = _instructor_packages(tmp_path)
    open(os.path.join(site.strip(), "instructor-packages.pth"), "w").write(f"{view}\n")
    readme = (out / "README.md").read_text()
    cell = readme.split("```python\n", 1)[1].split("```", 1)[0]
    assert cell.startswith(f"%pip install --quiet {wheel.name}\n"), cell
    work = tmp_path / "work"
    work.mkdir()
    (work / wheel.name).write_bytes(wheel.read_bytes())  # uploaded next to the notebook
    notebook = nbformat.read(out / "rnn1_forward" / "rnn1_forward.ipynb", as_version=4)
    nbformat.write(notebook, work / "rnn1_forward.ipynb")  # as last saved, before the new cell
    notebook.cells.append(nbformat.v4.new_code_cell(cell))
    nbformat.write(notebook, work / "running.ipynb")
    (work / "run.py").write_text(RUN)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
               JPY_SESSION_NAME=str(work / "rnn1_forward.ipynb"), PIP_NO_INDEX="1",
               # Colab has `tensorflow`; this environment has the same package as tensorflow-cpu,
               # which pip does not count for the wheel's `tensorflow` requirement.
               PIP_NO_DEPS="1")
    before = subprocess.run([str(python), "-c", "import rnn_course_student"], env=env, cwd=work,
                            capture_output=True, text=True)
    assert before.returncode != 0  # not installed yet: the cell installs it
    subprocess.run([str(python), "run.py", "running.ipynb", "ran.ipynb"], env=env, cwd=work,
                   check=True, timeout=900, capture_output=True)
    ran = nbformat.read(work / "ran.ipynb", as_version=4).cells[-1]
    errors = [o for o in ran.outputs if o.output_type == "error"]
    assert not errors, errors
    printed = "".join(o.get("text", "") for o in ran.outputs if o.output_type == "stream")
    assert "Checking rnn1_forward.ipynb as last saved." in printed, printed
    assert "rnn1_forward.ipynb: assignment rnn1_forward" in printed, printed
    assert "nothing written yet" in printed and "Exercise 1 (2 points)" in printed, printed
    installed = subprocess.run([str(python), "-c", "import rnn_course_student; "
                                "print(rnn_course_student.__file__)"], env=env, cwd=work,
                               capture_output=True, text=True)
    assert installed.stdout.startswith(str(venv)), installed
