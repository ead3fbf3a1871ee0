"""The worker task is pure: plain data in, plain data out, in any process, with no course folder.

``grade_notebook`` gets everything from the GradingTask (the hidden tests come from its source
cells, not a gradebook) and its Graded result crosses a process boundary; ``dispatch`` keeps
going when a task's worker dies.
"""

import logging
import multiprocessing
import pickle
from concurrent.futures import ProcessPoolExecutor

import nbformat
import pytest
from nbgrader.utils import determine_grade

from autograder.engines import open_engine
from autograder.engines.dispatch import WorkerLost, dispatch
from autograder.grading.pipeline import grade_notebook
from dask_processes import kill_own_worker_if_negative
from nbgrader_notebooks import by_id, release, task

LOG = logging.getLogger("test")
LIMITS = {"cell_timeout": 5, "setup_timeout": 60, "memory_mb": 500}

pytestmark = pytest.mark.slow


def test_a_task_is_graded_in_another_process_with_the_hidden_tests_of_the_task(tmp_path,
                                                                              monkeypatch):
    monkeypatch.chdir(tmp_path)  # no course anywhere near
    wrong_for_negatives = "def square(x):\n    return np.where(x > 0, x ** 2, 0.0)"
    t = task(release(square=wrong_for_negatives, add="def add(a, b):\n    return a + b"),
             **LIMITS)
    t = pickle.loads(pickle.dumps(t))
    # spawned, as the grader's pool is: TensorFlow deadlocks in a child forked after it started
    spawn = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=1, mp_context=spawn) as pool:
        graded = pool.submit(grade_notebook, t).result()
    graded = pickle.loads(pickle.dumps(graded))
    assert graded.findings.stopped is None
    cells = by_id(nbformat.reads(graded.notebook, as_version=4))
    assert determine_grade(cells["add_values"], LOG)[0] == 1.0
    # the visible check passes; the hidden one (negative inputs) came from the task and fails
    assert determine_grade(cells["square_values"], LOG)[0] == 0.0
    assert "hidden: negatives" in str(cells["square_values"].outputs)


def test_an_unreadable_file_comes_back_without_a_notebook_and_says_why():
    graded = grade_notebook(task(b"{not json"))
    assert graded.notebook is None
    assert graded.findings.stopped.startswith("not valid JSON")


def test_dispatch_reports_a_lost_task_and_goes_on():
    # the second kills every worker process it runs in; one lost worker is forgiven, so a task
    # that merely ran beside it is run again alone and kept
    tasks = [(1, 0), (-1, 0), (3, 0)]
    with open_engine(None, jobs=2, worker_losses=1) as engine:
        out = dict(dispatch(kill_own_worker_if_negative, tasks, engine))
    assert (out[(1, 0)][0], out[(3, 0)][0]) == (1, 9)
    assert isinstance(out[(-1, 0)], WorkerLost) and "worker lost" in str(out[(-1, 0)])
