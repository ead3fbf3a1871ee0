"""The course secret: made once (mode 600), overridable, carried in the task and never given to
the kernel; the judge's cases drawn from it differ per student and per secret and repeat for the
same ones; under --sandbox none the kernel still cannot import the grader's side."""

import dataclasses
import os
import stat

import nbformat
import pytest
from nbgrader.utils import compute_checksum

from autograder.grading.pipeline import grade_notebook
from autograder.judge import hidden
from autograder.judge.secret import ENV, check_key, course_secret
from autograder.sandbox import isolation, launch
from nbgrader_notebooks import HIDDEN, by_id, release, source_cells, task

LIMITS = {"cell_timeout": 20, "setup_timeout": 60, "memory_mb": 1000}
DRAWN = ("### BEGIN HIDDEN TESTS\n"
         "from course_checks.draws import check_rng\n"
         "_n = int(check_rng().integers(0, 10**9))\n"
         "assert square(np.array([float(_n)]))[0] == -1.0, f'your square of {_n}'\n"
         "### END HIDDEN TESTS")


def test_the_secret_is_made_once_readable_by_its_owner_only_and_the_variable_overrides(
        tmp_path, monkeypatch):
    monkeypatch.delenv(ENV, raising=False)
    assert course_secret(tmp_path, create=False) == ""
    made = course_secret(tmp_path)
    assert len(made) == 64 and course_secret(tmp_path) == made
    assert stat.S_IMODE(os.stat(tmp_path / ".judge-secret").st_mode) == 0o600
    monkeypatch.setenv(ENV, "from the environment")
    assert course_secret(tmp_path) == "from the environment"


def test_a_check_s_key_depends_on_secret_assignment_check_and_student():
    base = check_key("s", "rnn1_forward", "rnn_forward_other_shapes", "ada")
    assert base == check_key("s", "rnn1_forward", "rnn_forward_other_shapes", "ada")
    for other in [("t", "rnn1_forward", "rnn_forward_other_shapes", "ada"),
                  ("s", "rnn2_bptt", "rnn_forward_other_shapes", "ada"),
                  ("s", "rnn1_forward", "rnn_step_forward_other_shapes", "ada"),
                  ("s", "rnn1_forward", "rnn_forward_other_shapes", "bob")]:
        assert check_key(*other) != base


def _drawn_task(student: str, secret: str, square: str, sandbox: str = "auto"):
    cells = source_cells()
    source = cells["square_values"].source.replace(HIDDEN, DRAWN)
    stored = nbformat.from_dict({**by_id(release())["square_values"], "source": source})
    cells["square_values"] = dataclasses.replace(cells["square_values"], source=source,
                                                 checksum=compute_checksum(stored))
    t = task(release(square=square, add="def add(a, b):\n    return a + b"), **LIMITS)
    return dataclasses.replace(t, student=student, secret=secret, source_cells=cells,
                               sandbox=isolation.choose(sandbox, warn=False))


def _message(graded) -> str:
    cell = by_id(nbformat.reads(graded.notebook, as_version=4))["square_values"]
    return next(o.evalue for o in cell.outputs if o.output_type == "error")


WRONG = "def square(x):\n    return x * 2"


def test_drawn_cases_differ_per_student_and_secret_and_repeat_for_the_same_ones():
    messages = {(s, k): _message(grade_notebook(_drawn_task(s, k, WRONG)))
                for s, k in [("ada", "one"), ("bob", "one"), ("ada", "two")]}
    again = _message(grade_notebook(_drawn_task("ada", "one", WRONG)))
    assert again == messages["ada", "one"]
    assert len(set(messages.values())) == 3
    assert all(m.startswith("your square of ") for m in messages.values())


SPY = '''def square(x):
    import os, sys
    environ = open("/proc/self/environ", "rb").read().decode(errors="replace")
    print("SPY", os.environ.get("{env}"), "{secret}" in environ,
          sorted(m for m in sys.modules
                 if m.split(".")[0] in ("rnn_tf", "autograder", "course_checks")))
    found = []
    for name in ("rnn_tf", "autograder", "course_checks"):
        try:
            __import__(name)
            found.append(name)
        except BaseException:
            pass
    print("IMPORTABLE", found)
    return x ** 2
'''


@pytest.mark.parametrize("sandbox", ["auto", "none"])
def test_the_kernel_gets_neither_the_secret_nor_the_grader_s_packages(sandbox, monkeypatch):
    secret = "a-secret-the-kernel-must-not-see"
    monkeypatch.setenv(ENV, secret)  # in the grader's environment, as on a cluster worker
    graded = grade_notebook(_drawn_task("ada", secret, SPY.format(env=ENV, secret=secret),
                                        sandbox=sandbox))
    cells = by_id(nbformat.reads(graded.notebook, as_version=4))
    printed = "".join(o.get("text", "") for c in cells.values() for o in c.get("outputs", []))
    assert "SPY None False []" in printed, printed
    assert "IMPORTABLE []" in printed, printed
    assert secret not in printed
    # the negative control: the kernel's environment as launch builds it would carry it
    assert launch.kernel_env(str(os.getcwd()), [], os.devnull).get(ENV) == secret


def test_negative_control_with_the_hidden_blocks_in_the_kernel_the_grader_s_side_is_there(
        monkeypatch):
    # The design before the judge: the kernel runs the hidden blocks, so it must import them.
    monkeypatch.setattr(hidden, "HIDDEN_IN_KERNEL", hidden.HIDDEN_IN_KERNEL | {"tiny"})
    graded = grade_notebook(_drawn_task("ada", "s", SPY.format(env=ENV, secret="s")))
    cells = by_id(nbformat.reads(graded.notebook, as_version=4))
    printed = "".join(o.get("text", "") for c in cells.values() for o in c.get("outputs", []))
    assert "IMPORTABLE ['rnn_tf', 'autograder', 'course_checks']" in printed, printed
