"""Grading a class on a real Dask cluster gives what the local pool gives, and survives faults.

The tiny fixture course (no TensorFlow) and a small class are graded by `rnn-grade autograde`
with the local pool, then through `dask scheduler` and two `dask worker` processes on 127.0.0.1
(`--scheduler tcp://...`): same scores, statuses, reasons and feedback. A worker SIGKILLed in
the middle of the batch loses no notebook and grades none twice; a scheduler killed in the
middle ends the run with a clear message, keeps what was graded, and `--resume` grades the rest.
The kernels run in the sandbox the machine allows (bubblewrap where it runs), on the workers.
"""

import csv
import json
import re
import shutil
import threading
import time
from pathlib import Path

import pytest
from distributed import Client
from nbgrader.api import Gradebook

import dask_processes
import sample_class as samples
from autograder.cli import main
from autograder.course.folder import Course
from autograder.engines import open_engine
from autograder.grading.batch import autograde
from autograder.grading.limits import Limits
from autograder.results import FAILED

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "tiny_course"
LIMIT_ARGS = ["--timeout", "5", "--setup-timeout", "60", "--memory-mb", "500",
              "--notebook-timeout", "60"]  # the sandbox: bubblewrap where it runs
CASES = ["correct", "only_first_exercise", "kernel_exit", "invalid_json"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def released(tmp_path_factory):
    """A released tiny course (not yet graded) and a class of 5 notebooks, 4 of them runnable."""
    root = tmp_path_factory.mktemp("cluster-grading")
    shutil.copytree(FIXTURE_COURSE, root / "course")
    course = Course(str(root / "course"))
    assert main(["--course", course.root, "release"]) == 0
    samples.make_class(course, str(root / "class"), ["tiny1"], CASES)
    samples.make_class(course, str(root / "class"), ["tiny2"], ["correct"])
    return root


def _grade(released, name, *engine_args) -> tuple[int, Path]:
    """`rnn-grade autograde` on a fresh copy of the released course; exit code and the copy."""
    course = released / name
    shutil.copytree(released / "course", course)
    code = main(["--course", str(course), "autograde", str(released / "class"), "--feedback",
                 "--no-progress", "--csv", str(course / "grades.csv"), *LIMIT_ARGS,
                 *engine_args])
    return code, course


@pytest.fixture(scope="module")
def by_pool(released):
    code, course = _grade(released, "by-pool", "--jobs", "2")
    assert code == 0
    return course


@pytest.fixture
def cluster(tmp_path):
    procs = dask_processes.start(tmp_path / "dask", workers=2)
    try:
        with Client(procs.address, timeout=30, set_as_default=False) as client:
            procs.wait_for_workers(client, 2)
        yield procs
    finally:
        procs.stop()


def _results(course: Path) -> list[dict]:
    """The results file without what differs from run to run (timings, paths)."""
    results = json.loads((course / "autograder-results.json").read_text())
    return [{k: v for k, v in r.items() if k not in ("timings", "autograded")} for r in results]


def _csv(course: Path) -> list[dict]:
    with open(course / "grades.csv") as f:
        return list(csv.DictReader(f))


def _feedback(course: Path) -> dict[str, str]:
    """The feedback pages, prompt numbers left out: the cell in which a kernel died shows one
    or not depending on whether its execute_input message beat the death, on any engine."""
    pages = sorted((course / "feedback").rglob("*.html"))
    return {str(p.relative_to(course)): re.sub(r"In\s\[[\d\s]*\]:", "In [ ]:", p.read_text())
            for p in pages}


def _submissions(course: Path) -> list[tuple[str, str, float]]:
    """Every (student, assignment, score) the gradebook holds."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return sorted((s.student.id, s.assignment.name, s.score)
                      for a in gb.assignments for s in a.submissions)


def test_two_dask_workers_grade_the_class_as_the_local_pool_does(released, by_pool, cluster):
    code, course = _grade(released, "by-dask", "--scheduler", cluster.address)
    assert code == 0
    with Client(cluster.address, timeout=30, set_as_default=False) as client:
        ran = client.run(lambda dask_worker: dask_worker.state.executed_count)

    assert _csv(course) == _csv(by_pool)
    assert _results(course) == _results(by_pool)
    assert _feedback(course) == _feedback(by_pool) != {}
    assert _submissions(course) == _submissions(by_pool)
    # 5 notebooks, 4 run (invalid_json is turned away before any task), by both workers.
    assert sum(ran.values()) == 4 and all(ran.values()), ran


def test_a_worker_killed_mid_batch_loses_no_notebook_and_grades_none_twice(
        released, by_pool, cluster, tmp_path):
    course = tmp_path / "course"
    shutil.copytree(released / "course", course)
    killed = []

    def kill_a_busy_worker():
        with Client(cluster.address, timeout=30, set_as_default=False) as client:
            pids = cluster.worker_pids(client)
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                busy = sorted(a for a, keys in client.processing().items() if keys)
                if busy:
                    time.sleep(0.5)  # into the notebook: its kernel is starting or running
                    killed.append(pids[busy[0]])
                    cluster.kill(pids[busy[0]])
                    return
                time.sleep(0.05)

    killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
    killer.start()
    with open_engine(cluster.address) as engine:
        results = autograde(Course(str(course)), str(released / "class"), progress=False,
                            limits=Limits(cell_timeout=5, setup_timeout=60, memory_mb=500,
                                          notebook_timeout=60),
                            sandbox="auto", engine=engine)
    killer.join(timeout=10)

    assert killed, "a worker was killed while it had a notebook"
    pairs = [(r.student, r.assignment) for r in results]
    assert sorted(pairs) == sorted(set(pairs)) and len(pairs) == 5  # each notebook once
    # The scheduler runs the lost worker's notebook again on the other worker (Dask's
    # allowed-failures, 3 unless the scheduler was told otherwise, counts this one loss): every
    # notebook gets the score, status and reasons the local pool gave; none is lost.
    expected = {(r["student"], r["assignment"]): r for r in _results(by_pool)}
    for r in results:
        want = expected[(r.student, r.assignment)]
        assert (r.score, r.status, r.reasons) == (want["score"], want["status"], want["reasons"]), (
            r, want)
    graded = sorted((r.student, r.assignment, r.score) for r in results if r.status != FAILED)
    assert _submissions(course) == graded  # the gradebook holds each graded notebook once


def test_a_lost_scheduler_stops_clearly_keeps_the_graded_and_resume_grades_the_rest(
        released, by_pool, cluster, tmp_path, capsys):
    course = tmp_path / "course"
    shutil.copytree(released / "course", course)
    autograded = course / "autograded"

    def kill_the_scheduler_after_the_first_notebook():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not list(autograded.rglob("*.ipynb")):
            time.sleep(0.05)
        cluster.kill(cluster.scheduler.pid)

    killer = threading.Thread(target=kill_the_scheduler_after_the_first_notebook, daemon=True)
    killer.start()
    args = ["--course", str(course), "autograde", str(released / "class"), "--no-progress",
            "--csv", str(course / "grades.csv"), *LIMIT_ARGS]
    assert main([*args, "--scheduler", cluster.address]) == 1
    killer.join(timeout=10)
    err = capsys.readouterr().err
    assert f"grading stopped: lost the Dask scheduler at {cluster.address}" in err
    assert re.search(r"the results of \d of 5 notebooks are kept\. Rerun with --resume", err)

    kept = {p: p.stat().st_mtime_ns for p in autograded.rglob("*.ipynb")}
    graded_first = _submissions(course)
    assert 1 <= len(graded_first) < 4 and len(kept) == len(graded_first)
    assert set(graded_first) <= set(_submissions(by_pool))

    assert main([*args, "--resume", "--jobs", "2"]) == 0  # the local pool grades the rest
    assert {p: p.stat().st_mtime_ns for p in kept} == kept  # the graded were not graded again
    assert _csv(course) == _csv(by_pool)
    assert _submissions(course) == _submissions(by_pool)

    everything = {p: p.stat().st_mtime_ns for p in autograded.rglob("*.ipynb")}
    assert main([*args, "--resume", "--jobs", "2"]) == 0  # nothing left: nothing runs again
    assert {p: p.stat().st_mtime_ns for p in everything} == everything
    assert _csv(course) == _csv(by_pool)
    assert _results(course) == _results(by_pool)
