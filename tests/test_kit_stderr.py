"""A student's Run All of each release notebook, as handed out (answers not written yet), writes
nothing to stderr in any cell: nbgrader would score such a cell 0, and JupyterLab shows it as a
red block. The kernel starts with none of TensorFlow's quieting variables set, as a student's
does; the set-up cell must do all the quieting. The negative control runs the same set-up without
its `quiet_notebook()` call and sees TensorFlow's start-up notice on stderr.

(TensorFlow's GPU build also logs "Could not find cuda drivers" through absl's C++ logging, which
ignores TF_CPP_MIN_LOG_LEVEL; `quiet_notebook()` silences descriptor 2 while TensorFlow loads,
tested in tests/test_kit_notebook.py. This environment has the CPU build.)
"""

import nbformat
import pytest
from nbclient import NotebookClient

from autograder.course.folder import COURSE_DIR, Course
from rnn_course_student.environment import QUIET_TENSORFLOW

pytestmark = pytest.mark.slow


def _run(notebook, folder, monkeypatch):
    for name in QUIET_TENSORFLOW:
        monkeypatch.delenv(name, raising=False)  # the kernel inherits this environment
    # ipykernel shows what C++ code writes to descriptor 2 as the cell's stderr, except under
    # pytest (it looks for this variable): the kernel must run as a student's does.
    monkeypatch.delenv("PYTEST_CURRENT_TEST", raising=False)
    NotebookClient(notebook, timeout=600, kernel_name="python3", allow_errors=True,
                   resources={"metadata": {"path": str(folder)}}).execute()
    return {index: "".join(o.get("text", "") for o in cell.outputs
                           if o.output_type == "stream" and o.get("name") == "stderr")
            for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"}


@pytest.mark.parametrize("assignment", Course(COURSE_DIR).assignments)
def test_run_all_of_a_release_notebook_writes_nothing_to_stderr(assignment, monkeypatch):
    folder = COURSE_DIR / "release" / assignment
    notebook = nbformat.read(folder / f"{assignment}.ipynb", as_version=4)
    stderr = _run(notebook, folder, monkeypatch)
    assert not {i: text for i, text in stderr.items() if text}, stderr


def test_negative_control_the_set_up_without_quieting_writes_tensorflows_notice(monkeypatch):
    folder = COURSE_DIR / "release" / "rnn1_forward"
    release = nbformat.read(folder / "rnn1_forward.ipynb", as_version=4)
    setup = next(c for c in release.cells
                 if c.metadata.get("nbgrader", {}).get("grade_id", "").startswith("setup_"))
    unquiet = setup.source.replace("quiet_notebook()", "pass")
    assert unquiet != setup.source
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell(unquiet + "\nprint(tf.reduce_sum(tf.ones((2, 2))).numpy())")])
    stderr = _run(notebook, folder, monkeypatch)
    assert any("oneDNN" in text for text in stderr.values()), stderr
