"""Hostile submissions graded in one batch with ordinary ones, under the bubblewrap sandbox.

Each attack is a student of the tiny fixture course (tests/fixtures/tiny_course, no TensorFlow)
whose first answer cell starts with the attack, followed by the correct answer. The whole class
is graded once with two workers; a second, ordinary-only batch is the baseline. For every attack:
no hidden-test line in any output, nothing written outside the working folder, no connection to
a listener this test runs on 127.0.0.1, the batch completes, the ordinary submissions score as in
the baseline, and the grade table says what happened. Without bubblewrap these tests skip with
the reason; in CI (CI=true) they fail instead.
"""

import fcntl
import json
import os
import shutil
import socket
import threading
import time
from dataclasses import asdict
from pathlib import Path

import nbformat
import pytest
import sample_class

from autograder import report
from autograder.course import Course
from autograder.feedback import generate
from autograder.grade import autograde
from autograder.limits import Limits
from autograder.sandbox import bwrap, isolation

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "tiny_course"
# Cell limit: room for a 3 GB allocation to meet the memory limit on a loaded machine.
LIMITS = Limits(cell_timeout=4, setup_timeout=60, notebook_timeout=20, memory_mb=400,
                processes=64)
ORDINARY = ["correct", "empty", "only_first_exercise"]
# Text that appears only in the hidden tests of tiny1 (and so in the gradebook and source).
HIDDEN = ["BEGIN HIDDEN TESTS", "hidden: negative inputs", "hidden: arrays"]

# Attack code, formatted with the paths and port of the run; {py} is the kernel's interpreter.
ATTACKS = {
    # Native code starts a shell: the audit hook never sees it.
    "ctypes_reads_course": (
        "import ctypes\n"
        "ctypes.CDLL(None).system(b'cat {gradebook} {source} {solutions} > leak.txt 2>&1; "
        "find / -xdev \\\\( -name gradebook.db -o -name \"*.ipynb\" \\\\) 2>/dev/null "
        "| grep -v site-packages >> leak.txt')\n"
        "print(open('leak.txt', errors='replace').read()[-5000:])"),
    "os_system_reads_course": (
        "import os\n"
        "os.system('cat {gradebook} {source} > leak.txt')\n"
        "print(open('leak.txt', errors='replace').read())"),
    # A new Python process started from native code has no audit hook at all.
    "native_subprocess_reads_course": (
        "import ctypes, sys\n"
        "open('spy.py', 'w').write('''\n"
        "import glob\n"
        "for p in [{gradebook!r}, {source!r}, {solutions!r}] + glob.glob('/*/*.db') + "
        "glob.glob('/tmp/**/*.db', recursive=True):\n"
        "    try:\n"
        "        print(open(p, errors=\"replace\").read()[:3000])\n"
        "    except OSError as e:\n"
        "        print(p, type(e).__name__)\n"
        "''')\n"
        "ctypes.CDLL(None).system(f'{{sys.executable}} spy.py > spied.txt 2>&1'.encode())\n"
        "print(open('spied.txt', errors='replace').read())"),
    "writes_outside": (
        "import ctypes\n"
        "ctypes.CDLL(None).system(b'touch {watched}/by-ctypes {course}/source/PWNED "
        "/tmp/by-ctypes')\n"
        "try:\n"
        "    open('{watched}/by-open', 'w').write('escaped')\n"
        "except OSError as e:\n"
        "    print(type(e).__name__)"),
    "connects_to_grader": (
        "import socket\n"
        "for host in ['127.0.0.1', 'localhost']:\n"
        "    try:\n"
        "        socket.create_connection((host, {port}), timeout=2).sendall(b'leak')\n"
        "        print('connected to', host)\n"
        "    except OSError as e:\n"
        "        print('no connection:', type(e).__name__)"),
    "signals_grader": (
        "import os, signal\n"
        "for pid in [int(p) for p in os.listdir('/proc') if p.isdigit()] + [os.getppid(), "
        "{grader_pid}]:\n"
        "    if pid != os.getpid():\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGKILL)\n"
        "        except OSError as e:\n"
        "            print(pid, type(e).__name__)"),
    "reads_grader_proc": (
        "import ctypes, os\n"
        "ctypes.CDLL(None).system(b\"cat /proc/[0-9]*/cmdline | tr '\\\\\\\\000' '\\\\\\\\n' "
        "> procs.txt\")\n"
        "print(open('procs.txt').read())\n"
        "print('grader visible:', os.path.exists('/proc/{grader_pid}/mem'))"),
    # os.fork is refused by the audit hook; fork() from native code is not. Every child forks
    # on too (2**30 processes unbounded), then all but the first sleep.
    "fork_bomb": (
        "import ctypes, os, time\n"
        "libc, me = ctypes.PyDLL(None), os.getpid()\n"
        "for _ in range(30):\n"
        "    if libc.fork() < 0:\n"
        "        break\n"
        "if os.getpid() != me:\n"
        "    time.sleep(600)\n"
        "time.sleep(0.5)\n"
        "print('processes:', len([p for p in os.listdir('/proc') if p.isdigit()]))"),
    "memory_balloon": (
        "import numpy\n"
        "balloon = numpy.ones(3_000_000_000 // 8)\n"
        "print('allocated', balloon.nbytes)"),
    "output_flood": (
        "import sys\n"
        "line = 'y' * 999 + '\\n'\n"
        "for _ in range(200_000):\n"
        "    sys.stdout.write(line)"),
    "infinite_recursion": (
        "import sys\n"
        "sys.setrecursionlimit(10 ** 8)\n"
        "def down(n):\n"
        "    return down(n + 1) + 1\n"
        "down(0)"),
    "exits": "import os\nos._exit(0)",
    "sleeps_forever": "import time\ntime.sleep(10 ** 6)",
    "sleeps_ignoring_interrupts": (
        "import signal, time\n"
        "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
        "time.sleep(10 ** 6)"),
}
# Attacks that replace the answer instead of preceding it.
PATCHERS = ["monkeypatch_numpy", "monkeypatch_helpers"]  # sample_class cases
HANGING_ANSWER = ("def square(x):\n"  # every test that calls it hangs: the whole CPU budget
                  "    while True:\n"
                  "        pass\n")


def _answer(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


def _listen():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    arrived, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                arrived.append(listener.accept()[1])
            except OSError:
                pass
        listener.close()

    threading.Thread(target=accept, daemon=True).start()
    return listener.getsockname()[1], arrived, stop


def _outputs_text(path: str, tests_too: bool = True) -> str:
    """The outputs of a graded notebook (those of test cells only if ``tests_too``: the
    autograded notebook is the instructor's and quotes the hidden tests in tracebacks)."""
    nb = nbformat.read(path, as_version=4)
    return json.dumps([c.get("outputs", []) for c in nb.cells if tests_too or not (
        c.metadata.get("nbgrader", {}).get("grade") and not
        c.metadata.get("nbgrader", {}).get("solution"))])


def _grade(where: Path, cases: dict, ordinary: list[str]) -> dict:
    shutil.copytree(FIXTURE_COURSE, where / "course")
    course = Course(str(where / "course"))
    course.release()
    solutions = where / "solutions"  # beside the course, as the real course's are
    solutions.mkdir()
    shutil.copy(course.source_path("tiny1"), solutions / "tiny1.ipynb")
    subs = where / "submissions"
    sample_class.make_class(course, str(subs), ["tiny1"], ordinary)
    correct = nbformat.read(subs / "correct_tiny1.ipynb", as_version=4)
    for name, make in cases.items():
        nbformat.write(make(nbformat.from_dict(json.loads(json.dumps(correct)))),
                       subs / f"{name}_tiny1.ipynb")
    started = time.monotonic()
    results = autograde(course, str(subs), jobs=2, limits=LIMITS, progress=False,
                        sandbox="bwrap")
    seconds = time.monotonic() - started
    generate(course, "tiny1")  # every student's feedback page, in one nbgrader run
    return {"results": {r.student: asdict(r) for r in results}, "table": report.table(results),
            "seconds": seconds, "course": course.root,
            "feedback": {r.student: course.feedback_path(r.student, "tiny1") for r in results}}


def missing(why: str):
    """Skips with the reason; in CI, where every sandbox test must run, fails instead."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the sandbox attacks: {why}")
    pytest.skip(why)


def unbounded_processes() -> str | None:
    """Why a fork bomb would not be bounded here (it is then not run), or None."""
    if isinstance(bwrap.probe(), str):
        return None
    bound = isolation.choose("bwrap").process_bound()
    return bound if bound.startswith("none") else None


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """The graded class, as JSON-able data; graded once even with several xdist workers."""
    found = bwrap.probe()
    if isinstance(found, str):
        missing(found)
    root = tmp_path_factory.getbasetemp()
    shared = (root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / "sandbox-attacks"
    shared.mkdir(parents=True, exist_ok=True)
    with open(shared / "lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        done = shared / "attacked.json"
        if not done.exists():
            done.write_text(json.dumps(_attack(shared / "run"), default=str))
        return json.loads(done.read_text())


def _attack(where: Path) -> dict:
    where.mkdir()
    watched = where / "watched"
    watched.mkdir()
    port, arrived, stop = _listen()
    course_dir = where / "class" / "course"
    context = {"gradebook": course_dir / "gradebook.db",
               "source": course_dir / "source" / "tiny1" / "tiny1.ipynb",
               "solutions": where / "class" / "solutions" / "tiny1.ipynb",
               "course": course_dir, "watched": watched, "port": port,
               "grader_pid": os.getpid()}

    def prepend(code):
        def make(nb):
            cell = _answer(nb, "square")
            cell.source = code.format(**{k: str(v) for k, v in context.items()}) + "\n" + \
                cell.source
            return nb
        return make

    def hang(nb):
        _answer(nb, "square").source = HANGING_ANSWER
        return nb

    cases = {name: prepend(code) for name, code in ATTACKS.items()
             if not (name == "fork_bomb" and unbounded_processes())}
    cases["whole_cpu_budget"] = hang
    try:
        graded = _grade(where / "class", cases, ORDINARY + PATCHERS)
        baseline = _grade(where / "baseline", {}, ORDINARY)
    finally:
        stop.set()
    print(graded["table"])
    return {**graded, "baseline": baseline, "watched": str(watched), "arrived": len(arrived),
            "context": {k: str(v) for k, v in context.items()}}


ALL = [a for a in ATTACKS if a != "fork_bomb" or not unbounded_processes()] + PATCHERS + [
    "whole_cpu_budget"]


def test_the_batch_completes_with_every_attack_graded_or_reported(attacked):
    results = attacked["results"]
    assert set(ALL + ORDINARY) <= set(results)
    for name in ALL:
        assert results[name]["status"] in ("graded", "flagged"), (name, results[name])
        assert results[name]["score"] is not None, (name, results[name])
        assert f"{name} " in attacked["table"]


def test_ordinary_submissions_score_as_without_the_attackers(attacked):
    baseline = attacked["baseline"]["results"]
    for name in ORDINARY:
        got, want = attacked["results"][name], baseline[name]
        assert (got["score"], got["status"], got["cells"]) == (
            want["score"], want["status"], want["cells"]), name


@pytest.mark.parametrize("name", ALL)
def test_no_hidden_test_line_in_any_output_or_feedback(attacked, name):
    r = attacked["results"][name]
    text = (_outputs_text(r["autograded"], tests_too=False) + json.dumps(r["reasons"])
            + Path(attacked["feedback"][name]).read_text())
    for marker in HIDDEN:
        assert marker not in text, (name, marker)


def test_the_course_and_the_class_do_not_exist_inside(attacked):
    out = json.loads(_outputs_text(attacked["results"]["ctypes_reads_course"]["autograded"]))
    text = "".join("".join(o.get("text", "")) for cell in out for o in cell)
    for name in ["gradebook", "source", "solutions"]:
        assert f"{attacked['context'][name]}: No such file or directory" in text, name
    # find / listed every notebook and gradebook it could see: none of the class's.
    found = [line for line in text.splitlines() if not line.startswith("cat: ")]
    assert not [line for line in found if str(Path(attacked["context"]["course"]).parent) in line]
    spied = _outputs_text(attacked["results"]["native_subprocess_reads_course"]["autograded"])
    assert spied.count("FileNotFoundError") >= 3


def test_nothing_written_outside_the_working_folder(attacked):
    assert os.listdir(attacked["watched"]) == []
    assert not (Path(attacked["course"]) / "source" / "PWNED").exists()
    assert not Path("/tmp/by-ctypes").exists()


def test_no_connection_reached_the_graders_listener(attacked):
    assert attacked["arrived"] == 0
    out = _outputs_text(attacked["results"]["connects_to_grader"]["autograded"])
    assert "connected to" not in out and "no connection" in out


def test_the_grader_is_neither_visible_nor_signalled(attacked):
    out = _outputs_text(attacked["results"]["reads_grader_proc"]["autograded"])
    assert "grader visible: False" in out
    assert "pytest" not in out
    assert attacked["results"]["signals_grader"]["score"] == 3.0


@pytest.mark.parametrize("name", ["ctypes_reads_course", "native_subprocess_reads_course",
                                  "connects_to_grader", "signals_grader", "reads_grader_proc"])
def test_attacks_stopped_by_the_sandbox_leave_the_answer_graded(attacked, name):
    # The attack precedes a correct answer: it failed without breaking the notebook.
    assert attacked["results"][name]["score"] == 3.0, attacked["results"][name]


@pytest.mark.parametrize("name, said", [(a, s) for a, s in [
    ("os_system_reads_course", "no points for square: starting processes"),
    ("writes_outside", "no points for square: writing outside"),  # the open() the hook saw
    ("fork_bomb", "no points for square: starting more processes than the limit"),
    # Cut as it arrives; the kernel's own buffers may still pass the memory limit first.
    ("output_flood", "in square"),
    ("ctypes_reads_course", "ctypes"),
    ("connects_to_grader", "calls socket.create_connection()"),
    ("signals_grader", "calls os.kill()"),
    ("memory_balloon", "memory"),
    ("infinite_recursion", "in cell square"),  # Python 3.11: its frames fill the memory
    ("exits", "died"),
    ("sleeps_forever", "time limit"),
    ("sleeps_ignoring_interrupts", "time limit"),
    ("whole_cpu_budget", "time limit"),
    ("monkeypatch_numpy", "replaced"),
    ("monkeypatch_helpers", "replaced"),
] if a in ALL])
def test_the_table_says_what_happened(attacked, name, said):
    r = attacked["results"][name]
    assert any(said in why for why in r["reasons"]), r


def test_a_fork_bomb_is_bounded(attacked):
    if unbounded_processes():
        missing(f"the fork bomb was not run: processes are bounded by {unbounded_processes()}")
    out = _outputs_text(attacked["results"]["fork_bomb"]["autograded"])
    processes = int(out.split("processes: ")[1].split("\\n")[0])
    assert 10 < processes < LIMITS.processes


def test_an_output_flood_is_cut(attacked):
    r = attacked["results"]["output_flood"]
    assert os.path.getsize(r["autograded"]) < 10 * 1024 * 1024


def test_a_hang_costs_about_two_cell_timeouts(attacked):
    r = attacked["results"]["whole_cpu_budget"]
    assert r["score"] == 1.0, r  # add still counts
    assert r["timings"]["student_s"] <= 2 * LIMITS.cell_timeout + 3, r["timings"]
