"""LimitedExecute on its own: limits, a dying kernel, the runtime guard and hidden-test hygiene.

One small notebook (numpy only) runs once in the sandboxed kernel; each test reads one part of
what came back.
"""

import logging
import os

import pytest
from nbformat.v4 import new_code_cell
from nbgrader.utils import determine_grade

from autograder.preprocessors import LimitedExecute, execute
from nbgrader_notebooks import HIDDEN, by_id, meta, release, resources, task

LOG = logging.getLogger("test")
LIMITS = {"cell_timeout": 2, "setup_timeout": 30, "notebook_timeout": 20, "memory_mb": 500}

pytestmark = pytest.mark.slow


def run(nb, tmp_path):
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    res = resources(task(**LIMITS), metadata={"path": str(sandbox)})
    nb, res = LimitedExecute().preprocess(nb, res)
    return nb, res["findings"].execution


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nb = release(
        # replaces what the next test trusts; the guard must restore it before the test runs
        square="import numpy\nnumpy.allclose = lambda *a, **k: True\n"
               "def square(x):\n    return np.asarray(x) ** 2",
        add="def add(a, b):\n    return a + b")
    cells = by_id(nb)
    cells["setup_imports"].source += "\nimport time\ntime.sleep(3)  # longer than a cell's limit"
    cells["square_values"].source += "\nassert not numpy.allclose(1, 2)\n" + HIDDEN
    at = nb.cells.index(cells["add"])
    nb.cells[at:at] = [
        new_code_cell("secret = 'hidden: ' + 'negatives'  # not quoted whole in this cell\n"
                      "print([s for s in map(str, (In, _ih, _i, _ii, _iii)) if secret in s])",
                      metadata=meta("probe")),
        new_code_cell("while True:\n    pass", metadata=meta("loop")),
    ]
    nb.cells += [new_code_cell("import os\nos._exit(3)", metadata=meta("exit")),
                 new_code_cell("print('after')", metadata=meta("after"))]
    env_before = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    nb, run_ = run(nb, tmp_path_factory.mktemp("execute"))
    return by_id(nb), run_, env_before


def test_a_slow_set_up_cell_gets_its_own_limit(executed):
    cells, run_, _ = executed
    assert run_.setup_failed is None and run_.setup_s >= 3
    assert not [o for o in cells["setup_imports"].outputs if o.output_type == "error"]


def test_an_infinite_loop_costs_one_cell_timeout_and_the_next_cells_run(executed):
    cells, run_, _ = executed
    assert run_.timed_out == ["loop"]
    assert determine_grade(cells["add_values"], LOG)[0] == 1.0


def test_what_a_test_trusts_is_restored_before_it_runs_and_reported(executed):
    cells, run_, _ = executed
    assert run_.patched == {"square_values": ["numpy.allclose"]}
    assert determine_grade(cells["square_values"], LOG)[0] == 2.0  # ran against the original


def test_later_cells_cannot_read_a_hidden_test_back_from_the_history(executed):
    cells, _, _ = executed
    assert [o.text for o in cells["probe"].outputs] == ["[]\n"]


def test_a_dead_kernel_ends_the_run_and_the_cells_after_it_say_so(executed):
    cells, run_, _ = executed
    assert "the kernel died in cell exit" in run_.died
    assert cells["exit"].outputs[-1].ename == "DeadKernelError"
    assert [o.ename for o in cells["after"].outputs] == ["NotRun"]
    assert "tags" not in cells["after"].metadata  # the skip marker does not stay behind


def test_nothing_process_wide_changes(executed):
    _, _, env_before = executed
    assert {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"} == env_before


def test_a_failed_set_up_cell_stops_the_run(tmp_path):
    nb = release()
    by_id(nb)["setup_imports"].source = "import numpy_that_is_not_installed"
    nb, run_ = run(nb, tmp_path)
    assert run_.setup_failed.startswith("set-up cell setup_imports failed: ModuleNotFoundError")
    assert [o.ename for o in by_id(nb)["square_values"].outputs] == ["NotRun"]


def _hanging_square_tried_twice(tmp_path):
    """``square`` never returns: its test and two cells that try it out hang; then ``add``."""
    nb = release(square="def square(x):\n    while True:\n        pass",
                 add="def add(a, b):\n    return a + b")
    at = nb.cells.index(by_id(nb)["add"])
    nb.cells[at:at] = [new_code_cell("square(1)", metadata=meta(f"try_{i}")) for i in range(2)]
    sandbox = tmp_path / "sandbox"
    sandbox.mkdir()
    limits = {**LIMITS, "notebook_timeout": 3}  # less than one hang costs
    nb, res = LimitedExecute().preprocess(nb, resources(task(**limits),
                                                        metadata={"path": str(sandbox)}))
    return by_id(nb), res["findings"].execution


def test_hanging_cells_use_their_own_allowance_not_the_budget_of_the_cells_after(tmp_path):
    cells, run_ = _hanging_square_tried_twice(tmp_path)
    assert run_.timed_out == ["square_values", "try_0", "try_1"]
    assert determine_grade(cells["add_values"], LOG)[0] == 1.0


def test_without_the_allowance_the_hangs_starve_the_cells_after(tmp_path, monkeypatch):
    monkeypatch.setattr(execute, "HANG_ALLOWANCE", 0)  # the negative control
    cells, _ = _hanging_square_tried_twice(tmp_path)
    assert [o.ename for o in cells["add_values"].outputs] == ["NotRun"]
    assert determine_grade(cells["add_values"], LOG)[0] == 0.0
