"""Hostile submissions graded in one batch with ordinary ones, under the bubblewrap sandbox, and
graded again with the protections off, to show that each attack is real and what stopped it.

Each attack is a student of the tiny fixture course (tests/fixtures/tiny_course, no TensorFlow)
whose first answer cell starts with the attack, followed by the correct answer. The whole class
is graded once with two workers; a second, ordinary-only batch is the baseline. For every attack:
no hidden-test line in any output, nothing written outside the working folder, no connection to
a listener this test runs on 127.0.0.1, no signal reaching a decoy process of the test, the batch
completes, the ordinary submissions score as in the baseline, and the grade table says what
happened.

The negative controls (one more module-scoped batch, in two configurations): the attacks the
sandbox is claimed to stop are graded with ``--sandbox none`` (the audit hook and the runtime
guard still on, showing what they stop on their own), and those the audit hook and the guard are
claimed to stop with those two switched off as well (``isolation.LAYERS_OFF``, test-only). Each
must then succeed: the gradebook and hidden tests read, files written outside, the listener
reached, the decoy killed, more processes than the limit, a wrong answer with full marks. Each
assertion names the mechanism that stopped the attack under the sandbox, as the table in
autograder/docs/sandbox.md does. The negative controls never aim at the machine as a whole: the
signal goes to the decoy only, files land in the test's folders, the forks are bounded (2**7).
Where the unsandboxed attacks print the course's files, their feedback pages are rendered twice:
with the scrubber (no hidden-test line on the page) and with it off for them (the hidden tests
shown).

Without bubblewrap the sandboxed batch skips, saying what to install (under CI that fails the run:
tests/conftest.py); the negative controls run everywhere.
"""

import contextlib
import fcntl
import functools
import json
import os
import secrets
import shutil
import subprocess
import time
from dataclasses import asdict
from pathlib import Path

import nbformat
import pytest

import sample_class
from autograder.course.folder import Course
from autograder.feedback.pages import generate
from autograder.grading import table
from autograder.grading.batch import autograde
from autograder.grading.limits import Limits
from autograder.preprocessors import scrub
from autograder.sandbox import bwrap, isolation
from loopback_listener import Listener

FIXTURE_COURSE = Path(__file__).parent / "fixtures" / "tiny_course"
# Cell limit: room for a 3 GB allocation to meet the memory limit before the time limit on a
# loaded machine (at load 15 on 2 cores a cgroup v1 OOM kill came 5-6 s into the cell: with 4 s
# the watchdog's "interrupt ignored" won and the table no longer named the memory limit).
LIMITS = Limits(cell_timeout=8, setup_timeout=60, notebook_timeout=24, memory_mb=400,
                processes=64)
ORDINARY = ["correct", "empty", "only_first_exercise"]
# Text that appears only in the hidden tests of tiny1 (and so in the gradebook and source).
HIDDEN = ["BEGIN HIDDEN TESTS", "hidden: negative inputs", "hidden: arrays"]
FORKS = 2 ** 7  # processes the fork attack makes when nothing bounds it: twice the limit

# Attack code, formatted with the targets of the run (Targets.context).
ATTACKS = {
    # Native code starts a shell: the audit hook never sees it.
    "ctypes_reads_course": (
        "import ctypes\n"
        "ctypes.CDLL(None).system(b'cat {gradebook} {source} {solutions} > leak.txt 2>&1; "
        "{find_course}')\n"
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
        "for p in [{gradebook!r}, {source!r}, {solutions!r}] + {spy_globs}:\n"
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
        "{host_tmp_file}')\n"
        "try:\n"
        "    open('{watched}/by-open', 'w').write('escaped')\n"
        "except OSError as e:\n"
        "    print(type(e).__name__)"),
    # Python's socket, then libc's connect(2) on a real TCP socket (no audit event, no shell).
    "connects_to_grader": (
        "import ctypes, socket, struct\n"
        "for host in ['127.0.0.1', 'localhost']:\n"
        "    try:\n"
        "        socket.create_connection((host, {port}), timeout=2).sendall(b'leak')\n"
        "        print('connected to', host)\n"
        "    except OSError as e:\n"
        "        print('no connection:', type(e).__name__)\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)\n"
        "address = struct.pack('=H', socket.AF_INET) + struct.pack('!H4s8x', {port}, "
        "socket.inet_aton('127.0.0.1'))\n"
        "print('native', 'connected' if libc.connect(fd, address, len(address)) == 0 "
        "else 'refused')"),
    # {signal_targets}: under the sandbox every pid it can see (a PID namespace: a handful),
    # its parent, the grader and the decoy; in the negative control the decoy only.
    "signals_grader": (
        "import ctypes, os, signal\n"
        "for pid in {signal_targets}:\n"
        "    if pid != os.getpid():\n"
        "        try:\n"
        "            os.kill(pid, signal.SIGKILL)\n"
        "        except OSError as e:\n"
        "            print(pid, type(e).__name__)\n"
        "        ctypes.CDLL(None).kill(pid, signal.SIGKILL)  # no audit event"),
    "reads_grader_proc": (
        "import ctypes, os\n"
        "ctypes.CDLL(None).system(b\"cat /proc/[0-9]*/cmdline | tr '\\\\\\\\000' '\\\\\\\\n' "
        "> procs.txt\")\n"
        "print(open('procs.txt').read())\n"
        "print('grader visible:', os.path.exists('/proc/{grader_pid}/mem'))"),
    # os.fork is refused by the audit hook; fork() from native code is not. Seven rounds of
    # forks, each process forking on: 2**7 processes unbounded. Each successful fork adds a
    # byte to {forks_file} (through libc: no audit event), which the negative control counts
    # (2**7 - 1 forks in all, fewer if the executor's polling kills the kernel part way).
    "fork_bomb": (
        "import ctypes, os, time\n"
        "libc, me = ctypes.PyDLL(None), os.getpid()\n"
        "for _ in range(7):\n"
        "    child = libc.fork()\n"
        "    if child < 0:\n"
        "        break\n"
        "    fd = libc.open(b'{forks_file}', os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)\n"
        "    if child > 0 and fd >= 0:\n"
        "        libc.write(fd, b'x', 1)\n"
        "        libc.close(fd)\n"
        "if os.getpid() != me:\n"
        "    time.sleep(3)\n"
        "    os._exit(0)\n"
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
# Replaces a name the test cells trust with nothing the static scan looks for (no attribute
# assignment, no setattr, no globals()): only the runtime guard sees it. The answer after it is
# correct, so what the guard's flag costs shows in the score.
ATTACKS["patches_past_the_scan"] = (
    "import __main__\n"
    "_namespace = __main__.__dict__\n"
    "_namespace['assert_allclose'] = lambda *args, **kwargs: None")
# Attacks that replace the answer instead of preceding it.
PATCHERS = ["monkeypatch_numpy", "monkeypatch_helpers"]  # sample_class cases
HANGING_ANSWER = ("def square(x):\n"  # every test that calls it hangs: the whole CPU budget
                  "    while True:\n"
                  "        pass\n")
REPLACED = {"whole_cpu_budget": HANGING_ANSWER}
ALL = list(ATTACKS) + PATCHERS + list(REPLACED)

# The negative controls: configuration -> (layers switched off besides the sandbox, attacks).
# "unsandboxed" keeps the audit hook and the guard (what they stop on their own shows there);
# "unprotected" has neither, for the attacks those two are claimed to stop.
CONTROLS = {
    "unsandboxed": ([], ["ctypes_reads_course", "os_system_reads_course",
                         "native_subprocess_reads_course", "writes_outside", "connects_to_grader",
                         "signals_grader", "reads_grader_proc", "fork_bomb", "memory_balloon"]),
    "unprotected": (["audit-hook", "guard"], ["os_system_reads_course", "writes_outside",
                                              "patches_past_the_scan"]),
}
# Without the mounts these print the gradebook and the source notebook, hidden tests and all:
# what the feedback's scrubber must keep off the student's page.
READERS = ["ctypes_reads_course", "native_subprocess_reads_course"]


def _answer(nb, grade_id):
    return next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == grade_id)


class Targets:
    """What the attacks aim at, set up by the test and read back after grading: a watched folder,
    a listener, a decoy process of the grader's user, and a file name in the machine's /tmp."""

    def __init__(self, where: Path):
        self.watched = where / "watched"
        self.watched.mkdir(parents=True)
        self.listener = Listener()
        self.decoy = subprocess.Popen(["sleep", "600"])
        self.host_tmp_file = Path(f"/tmp/rnn-grade-attack-{secrets.token_hex(6)}")

    def context(self, class_dir: Path, sandboxed: bool) -> dict[str, str]:
        course = class_dir / "course"
        decoy, grader = self.decoy.pid, os.getpid()
        if sandboxed:
            # Every pid it can see (inside a PID namespace a handful; never aimed at a machine).
            signal_targets = (f"[int(p) for p in os.listdir('/proc') if p.isdigit() and "
                              f"len(os.listdir('/proc')) < 40] + [os.getppid(), {grader}, "
                              f"{decoy}]")
            find_course = ("find / -xdev \\\\( -name gradebook.db -o -name \"*.ipynb\" \\\\) "
                           "2>/dev/null | grep -v site-packages >> leak.txt")
            spy_globs = "glob.glob('/*/*.db') + glob.glob('/tmp/**/*.db', recursive=True)"
        else:  # unprotected, the attacks stay on the test's own targets
            signal_targets, find_course, spy_globs = f"[{decoy}]", "true", "[]"
        return {"gradebook": str(course / "gradebook.db"),
                "source": str(course / "source" / "tiny1" / "tiny1.ipynb"),
                "solutions": str(class_dir / "solutions" / "tiny1.ipynb"),
                "course": str(course), "watched": str(self.watched),
                "port": str(self.listener.port), "grader_pid": str(grader),
                "decoy_pid": str(decoy), "host_tmp_file": str(self.host_tmp_file),
                "forks_file": str(self.watched / "forks"), "signal_targets": signal_targets,
                "find_course": find_course, "spy_globs": spy_globs}

    def close(self, context: dict) -> dict:
        """What the attacks achieved, as JSON-able data."""
        time.sleep(0.3)  # the accept loop's last turn
        arrived = self.listener.close()
        decoy_killed = self.decoy.poll() is not None
        self.decoy.kill()
        self.decoy.wait()
        host_file_written = self.host_tmp_file.exists()
        self.host_tmp_file.unlink(missing_ok=True)
        forks = self.watched / "forks"
        return {"watched": str(self.watched), "arrived": arrived, "decoy_killed": decoy_killed,
                "host_file_written": host_file_written, "context": context,
                "written": sorted(os.listdir(self.watched)),
                "forks": forks.stat().st_size if forks.exists() else 0,
                "pwned": (Path(context["course"]) / "source" / "PWNED").exists()}


def _outputs_text(path: str, tests_too: bool = True) -> str:
    """The outputs of a graded notebook (those of test cells only if ``tests_too``: the
    autograded notebook is the instructor's and quotes the hidden tests in tracebacks)."""
    nb = nbformat.read(path, as_version=4)
    return json.dumps([c.get("outputs", []) for c in nb.cells if tests_too or not (
        c.metadata.get("nbgrader", {}).get("grade") and not
        c.metadata.get("nbgrader", {}).get("solution"))])


def _student_output(graded: dict, name: str) -> str:
    """What the student's own cells printed (the hidden tests' cells left out)."""
    return _outputs_text(graded["results"][name]["autograded"], tests_too=False)


def _cases(names: list[str], context: dict) -> dict:
    def prepend(code):
        def make(nb):
            cell = _answer(nb, "square")
            cell.source = code.format(**context) + "\n" + cell.source
            return nb
        return make

    def replace(source):
        def make(nb):
            _answer(nb, "square").source = source
            return nb
        return make

    return {name: prepend(ATTACKS[name]) if name in ATTACKS else replace(REPLACED[name])
            for name in names if name not in PATCHERS}


def _grade(where: Path, cases: dict, ordinary: list[str], sandbox: str,
           feedback: bool = True) -> dict:
    shutil.copytree(FIXTURE_COURSE, where / "course")
    course = Course(str(where / "course"))
    course.build_release()
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
                        sandbox=sandbox)
    seconds = time.monotonic() - started
    if feedback:
        generate(course, "tiny1")  # every student's feedback page, in one nbgrader run
    return {"results": {r.student: asdict(r) for r in results}, "table": table.table(results),
            "seconds": seconds, "course": course.root,
            "feedback": {r.student: course.feedback_path(r.student, "tiny1") for r in results}}


def _shared(tmp_path_factory) -> Path:
    root = tmp_path_factory.getbasetemp()
    shared = (root.parent if os.environ.get("PYTEST_XDIST_WORKER") else root) / "sandbox-attacks"
    shared.mkdir(parents=True, exist_ok=True)
    return shared


def _make(shared: Path, name: str, make) -> None:
    """Runs ``make`` into ``shared/name.json`` unless it is there (its lock held)."""
    done = shared / f"{name}.json"
    if not done.exists():
        folder = shared / name
        shutil.rmtree(folder, ignore_errors=True)
        done.write_text(json.dumps(make(folder), default=str))


def _once(tmp_path_factory, name: str, make, meanwhile: tuple = ()) -> dict:
    """``make(folder)``'s JSON-able result, made once even with several xdist workers. A worker
    that finds it being made by another makes the batches in ``meanwhile`` ((name, make) pairs
    nobody has started) while it waits, instead of idling."""
    shared = _shared(tmp_path_factory)
    with open(shared / f"{name}.lock", "w") as lock:
        if not _locked_now(lock):
            for other, make_other in meanwhile:
                with open(shared / f"{other}.lock", "w") as other_lock:
                    if _locked_now(other_lock):
                        _make(shared, other, make_other)
            fcntl.flock(lock, fcntl.LOCK_EX)
        _make(shared, name, make)
        return json.loads((shared / f"{name}.json").read_text())


def _locked_now(lock) -> bool:
    """Takes the lock if no one holds it; whether it did."""
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@pytest.fixture(scope="module")
def attacked(tmp_path_factory):
    """The class graded under bubblewrap, as JSON-able data."""
    found = bwrap.probe()
    if isinstance(found, str):
        pytest.skip(f"the sandboxed batch needs bubblewrap: {found} (install it: apt-get "
                    "install bubblewrap)")
    return _once(tmp_path_factory, "attacked", _attack, meanwhile=_UNPROTECTED)


def _attack(where: Path) -> dict:
    targets = Targets(where)
    context = targets.context(where / "class", sandboxed=True)
    try:
        graded = _grade(where / "class", _cases(ALL, context), ORDINARY + PATCHERS, "bwrap")
        baseline = _grade(where / "baseline", {}, ORDINARY, "bwrap")
    finally:
        evidence = targets.close(context)
    print(graded["table"])
    iso = isolation.choose("bwrap")
    return {**graded, **evidence, "baseline": baseline, "memory_bound": iso.memory_bound(),
            "process_bound": iso.process_bound()}


@contextlib.contextmanager
def _environment(name: str, value: str):
    """``name=value`` in this process's environment (which grading workers inherit)."""
    before = os.environ.get(name)
    os.environ[name] = value
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(name)
        else:
            os.environ[name] = before


@pytest.fixture(scope="module")
def controls(tmp_path_factory):
    """The negative controls: the attacks graded with the protections they meet switched off,
    one batch per configuration."""
    return {config: _once(tmp_path_factory, config, functools.partial(_control, config),
                          meanwhile=_UNPROTECTED) for config in CONTROLS}


def _control(config: str, where: Path) -> dict:
    layers, names = CONTROLS[config]
    targets = Targets(where)
    context = targets.context(where / "class", sandboxed=False)
    try:
        with _environment(isolation.LAYERS_OFF, ",".join(layers)):
            graded = _grade(where / "class", _cases(names, context), ["correct"], "none",
                            feedback=False)
    finally:
        evidence = targets.close(context)
    print(config, graded["table"])
    out = {**graded, **evidence}
    if config == "unsandboxed":
        out["readers_feedback"] = _readers_feedback(graded)
    return out


# What a worker that waits for a batch another worker makes does meanwhile: the small control
# batch with no attack that depends on timing (the fork bomb and the memory balloon, graded
# while another batch runs, would race the executor's polling on a loaded machine).
_UNPROTECTED = (("unprotected", functools.partial(_control, "unprotected")),)


def _readers_feedback(graded: dict) -> dict:
    """The feedback pages of the students whose code printed the course's files, rendered as
    usual and, the negative control, with the scrubber off: {"scrubbed" | "unscrubbed":
    {student: page}}."""
    course, pages = Course(graded["course"]), {}
    for way, unscrubbed in (("scrubbed", ""), ("unscrubbed", ",".join(READERS))):
        with _environment(scrub.UNSCRUBBED_FOR_TESTING, unscrubbed):
            generate(course, "tiny1", "*_reads_course")  # one nbgrader run for the readers
        pages[way] = {name: Path(graded["feedback"][name]).read_text() for name in READERS}
    return pages


# --- under the sandbox ---

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
    text = (_student_output(attacked, name) + json.dumps(r["reasons"])
            + Path(attacked["feedback"][name]).read_text())
    for marker in HIDDEN:
        assert marker not in text, (name, marker)


def test_the_course_and_the_class_do_not_exist_inside(attacked):
    """Stopped by the mounts: the course, gradebook and solutions are not mounted."""
    out = json.loads(_outputs_text(attacked["results"]["ctypes_reads_course"]["autograded"]))
    text = "".join("".join(o.get("text", "")) for cell in out for o in cell)
    for name in ["gradebook", "source", "solutions"]:
        assert f"{attacked['context'][name]}: No such file or directory" in text, (
            f"mounts: {name} was not absent")
    # find / listed every notebook and gradebook it could see: none of the class's.
    found = [line for line in text.splitlines() if not line.startswith("cat: ")]
    assert not [line for line in found if str(Path(attacked["context"]["course"]).parent) in line]
    spied = _outputs_text(attacked["results"]["native_subprocess_reads_course"]["autograded"])
    assert spied.count("FileNotFoundError") >= 3, "mounts: a new Python process found the course"


def test_nothing_written_outside_the_working_folder(attacked):
    """Stopped by the read-only mounts and the sandbox's own /tmp (native code); the audit hook
    names the open() it refused."""
    assert attacked["written"] == [], "mounts: the watched folder was written"
    assert not attacked["pwned"], "mounts: course/source was written"
    assert not attacked["host_file_written"], "tmpfs: the machine's /tmp was written"


def test_no_connection_reached_the_graders_listener(attacked):
    """Stopped by the network namespace: its own loopback, where nothing listens."""
    assert attacked["arrived"] == 0, "network namespace: the listener was reached"
    out = _student_output(attacked, "connects_to_grader")
    assert "connected to" not in out and "no connection" in out, out
    assert "native refused" in out, f"network namespace: libc's connect(2) got through: {out}"


def test_the_grader_is_neither_visible_nor_signalled(attacked):
    """Stopped by the PID namespace and its own /proc."""
    out = _student_output(attacked, "reads_grader_proc")
    assert "grader visible: False" in out and "pytest" not in out, "PID namespace: grader seen"
    assert not attacked["decoy_killed"], "PID namespace: the decoy process was killed"
    assert attacked["results"]["signals_grader"]["score"] == 3.0


@pytest.mark.parametrize("name", ["ctypes_reads_course", "native_subprocess_reads_course",
                                  "connects_to_grader", "signals_grader", "reads_grader_proc"])
def test_attacks_stopped_by_the_sandbox_leave_the_answer_graded(attacked, name):
    # The attack precedes a correct answer: it failed without breaking the notebook.
    assert attacked["results"][name]["score"] == 3.0, attacked["results"][name]


MEMORY = "memory limit (400 MB) exceeded in cell square"
# attack -> (what the table says, what stopped it; "memory"/"processes": the bound in force)
TABLE = {
    "ctypes_reads_course": ("suspicious code in square: calls ctypes.CDLL()", "mounts"),
    "os_system_reads_course": ("no points for square: starting processes", "audit hook"),
    "native_subprocess_reads_course": ("suspicious code in square", "mounts"),
    "writes_outside": ("no points for square: writing outside the sandbox",
                       "audit hook (open), mounts (native code)"),
    "connects_to_grader": ("calls socket.create_connection()", "network namespace"),
    "signals_grader": ("calls os.kill()", "PID namespace"),
    "reads_grader_proc": ("suspicious code in square: calls ctypes.CDLL()", "PID namespace"),
    "fork_bomb": ("no points for square: starting more processes than the limit", "processes"),
    "memory_balloon": (MEMORY, "memory"),
    "output_flood": ("output cut in square", "the executor's output cap"),
    "infinite_recursion": (MEMORY, "memory"),  # Python 3.11: its frames fill the memory
    "exits": ("the kernel died in cell square", "the executor"),
    "sleeps_forever": ("time limit hit in square", "the cell time limit"),
    "sleeps_ignoring_interrupts": ("time limit hit and the interrupt ignored in cell square",
                                   "the watchdog"),
    "whole_cpu_budget": ("time limit hit in square_values", "the notebook budget"),
    "monkeypatch_numpy": ("replaced <set-up name> assert_allclose, numpy.allclose, "
                          "numpy.testing.assert_allclose before square_values ran",
                          "runtime guard"),
    "monkeypatch_helpers": ("replaced builtins.abs before square_values ran", "runtime guard"),
    "patches_past_the_scan": ("no points for square: replaced <set-up name> assert_allclose "
                              "before square_values ran", "runtime guard"),
}


@pytest.mark.parametrize("name", ALL)
def test_the_table_says_what_happened(attacked, name, record_property):
    said, mechanism = TABLE[name]
    mechanism = {"memory": f"memory: {attacked['memory_bound']}",
                 "processes": f"processes: {attacked['process_bound']}"}.get(mechanism, mechanism)
    record_property("mechanism", f"{name}: {mechanism}")
    if name == "fork_bomb" and attacked["process_bound"].startswith("none"):
        pytest.skip(f"processes are not bounded here ({attacked['process_bound']}): run the "
                    "tests as a user other than root, or where cgroups can be created")
    r = attacked["results"][name]
    assert any(said in why for why in r["reasons"]), (f"stopped by {mechanism}?", r)


def test_a_fork_bomb_is_bounded(attacked, record_property):
    bound = attacked["process_bound"]
    record_property("mechanism", f"fork_bomb: processes: {bound}")
    if bound.startswith("none"):
        pytest.skip(f"processes are not bounded here ({bound}): run the tests as a user other "
                    "than root, or where cgroups can be created")
    out = _student_output(attacked, "fork_bomb")
    processes = int(out.split("processes: ")[1].split("\\n")[0])
    assert 10 < processes < LIMITS.processes, f"{bound}: {processes} processes"


def test_a_memory_balloon_is_stopped_by_the_bound_in_force(attacked, record_property):
    # Where a cgroup bounds memory the executor does not poll (it would count shared pages once
    # per process), so the limit hit here is the cgroup's; otherwise it is the polling's.
    bound = attacked["memory_bound"]
    record_property("mechanism", f"memory_balloon: memory: {bound}")
    r = attacked["results"]["memory_balloon"]
    assert any(MEMORY in why for why in r["reasons"]) and r["score"] == 0.0, (bound, r)
    assert "allocated" not in _student_output(attacked, "memory_balloon"), bound


def test_an_output_flood_is_cut(attacked):
    r = attacked["results"]["output_flood"]
    assert os.path.getsize(r["autograded"]) < 10 * 1024 * 1024


def test_a_hang_costs_about_two_cell_timeouts(attacked):
    r = attacked["results"]["whole_cpu_budget"]
    assert r["score"] == 1.0, r  # add still counts
    assert r["timings"]["student_s"] <= 2 * LIMITS.cell_timeout + 3, r["timings"]


def test_a_patch_past_the_scan_loses_its_points(attacked):
    # Stopped by the runtime guard (the static scan sees nothing): the exercise gets no points.
    r = attacked["results"]["patches_past_the_scan"]
    assert r["score"] == 1.0 and r["cells"]["square_values"] == 0, r  # only add's point
    assert TABLE["patches_past_the_scan"][0] in r["reasons"], r


# --- the negative controls: the same attacks with the protection off succeed ---

def test_the_controls_still_grade_an_ordinary_submission(controls):
    for config in CONTROLS:
        assert controls[config]["results"]["correct"]["score"] == 3.0, config


@pytest.mark.parametrize("name", ["ctypes_reads_course", "native_subprocess_reads_course"])
def test_without_the_mounts_native_code_reads_the_hidden_tests(controls, name):
    assert HIDDEN[0] in _student_output(controls["unsandboxed"], name), name


def test_without_the_mounts_native_code_writes_outside(controls):
    unsandboxed = controls["unsandboxed"]
    assert "by-ctypes" in unsandboxed["written"] and unsandboxed["pwned"]
    assert unsandboxed["host_file_written"]


def test_without_the_network_namespace_the_listener_is_reached(controls):
    unsandboxed = controls["unsandboxed"]
    out = _student_output(unsandboxed, "connects_to_grader")
    assert "connected to 127.0.0.1" in out and "native connected" in out, out
    assert unsandboxed["arrived"] >= 2


def test_without_the_pid_namespace_the_grader_is_seen_and_the_decoy_killed(controls):
    unsandboxed = controls["unsandboxed"]
    out = _student_output(unsandboxed, "reads_grader_proc")
    assert "grader visible: True" in out and "pytest" in out
    assert unsandboxed["decoy_killed"]


def test_without_a_process_bound_the_forks_pass_the_limit(controls):
    assert LIMITS.processes < controls["unsandboxed"]["forks"] < FORKS


def test_without_a_memory_cgroup_the_executors_polling_stops_the_balloon(controls,
                                                                        record_property):
    record_property("mechanism", "memory_balloon, unsandboxed: memory: "
                    f"{isolation.choose('none').memory_bound()}")
    r = controls["unsandboxed"]["results"]["memory_balloon"]
    assert any(MEMORY in why for why in r["reasons"]) and r["score"] == 0.0, r
    assert "allocated" not in _student_output(controls["unsandboxed"], "memory_balloon")


def test_the_audit_hook_on_its_own_refuses_processes_and_writes(controls):
    unsandboxed = controls["unsandboxed"]
    assert HIDDEN[0] not in _student_output(unsandboxed, "os_system_reads_course")
    reasons = unsandboxed["results"]["os_system_reads_course"]["reasons"]
    assert any("no points for square: starting processes" in why for why in reasons), reasons
    assert "by-open" not in unsandboxed["written"]
    reasons = unsandboxed["results"]["writes_outside"]["reasons"]
    assert any("no points for square: writing outside the sandbox" in why for why in reasons)


def test_without_the_audit_hook_python_reads_the_course_and_writes_outside(controls):
    unprotected = controls["unprotected"]
    assert HIDDEN[0] in _student_output(unprotected, "os_system_reads_course")
    assert "by-open" in unprotected["written"]
    for name in ["os_system_reads_course", "writes_outside"]:
        reasons = unprotected["results"][name]["reasons"]
        assert not any("starting processes" in why or "writing outside" in why
                       for why in reasons), reasons


def test_without_the_guard_a_patch_past_the_scan_goes_unnoticed(controls):
    r = controls["unprotected"]["results"]["patches_past_the_scan"]
    assert r["score"] == 3.0 and r["status"] == "graded" and r["reasons"] == [], r


def test_the_scrubber_keeps_the_course_files_a_submission_printed_off_its_feedback(controls):
    """Stopped by the feedback's scrubber (ScrubHiddenTracebacks) where no mount hides the
    course: the printed output is replaced whole on the student's page."""
    unsandboxed = controls["unsandboxed"]
    for name in READERS:
        assert HIDDEN[0] in _student_output(unsandboxed, name), f"{name} printed no hidden test"
        page = unsandboxed["readers_feedback"]["scrubbed"][name]
        assert scrub.HIDDEN_OUTPUT.strip() in page, name
        for marker in HIDDEN:
            assert marker not in page, (name, marker)


def test_without_the_scrubber_the_feedback_shows_the_hidden_tests(controls):
    for name in READERS:
        page = controls["unsandboxed"]["readers_feedback"]["unscrubbed"][name]
        assert HIDDEN[0] in page and scrub.HIDDEN_OUTPUT.strip() not in page, name
