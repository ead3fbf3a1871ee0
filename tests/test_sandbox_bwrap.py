"""The bubblewrap sandbox on its own: what a process inside it can see, reach and use.

Each test runs a short Python program the way the grader runs a kernel (the same command line,
cgroup and resource limits) and checks from outside what it could do. No kernel, no notebook:
the end-to-end attacks on a graded class are in test_sandbox_attacks.py. Without bubblewrap
these tests skip with the reason; in CI (CI=true) they fail instead.
"""

import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest

from autograder.sandbox import bwrap, cgroups, isolation

REPO = Path(__file__).resolve().parents[1]  # the checkout: only its package folders are bound


def missing(why: str):
    """Skips with the reason; in CI, where every sandbox test must run, fails instead."""
    if os.environ.get("CI"):
        pytest.fail(f"CI must run the sandbox tests: {why}")
    pytest.skip(why)


@pytest.fixture(scope="module")
def sandbox():
    found = bwrap.probe()
    if isinstance(found, str):
        missing(found)
    return isolation.choose("bwrap")


def run_inside(iso, tmp_path, code: str, limits: isolation.KernelLimits | None = None,
               timeout=60, readable=()) -> subprocess.CompletedProcess:
    limits = limits or isolation.KernelLimits()
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    argv, group = iso.kernel_command([sys.executable, "-c", textwrap.dedent(code)], limits,
                                     workdir=str(work), readable=readable)
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                              start_new_session=True)
    finally:
        if group:
            group.close()


def test_probe_reports_a_working_bwrap(sandbox):
    assert sandbox.mode == "bwrap"
    assert "bubblewrap" in sandbox.summary()


def test_only_the_python_environment_and_the_working_folder_are_visible(sandbox, tmp_path):
    secret = tmp_path / "course" / "gradebook.db"
    secret.parent.mkdir()
    secret.write_text("BEGIN HIDDEN TESTS")
    out = run_inside(sandbox, tmp_path, f"""
        import os, numpy, autograder
        print(os.path.exists({str(secret)!r}), os.path.exists({str(tmp_path / "course")!r}))
        print(sorted(os.listdir({str(REPO)!r})) if os.path.isdir({str(REPO)!r}) else [])
        print(os.getcwd(), os.listdir("/tmp"))
    """)
    assert out.returncode == 0, out.stderr
    visible, listing, where = out.stdout.splitlines()
    assert visible == "False False"
    assert set(eval(listing)) <= {".venv", "autograder", "rnn_tf", "rnn_course_student"}
    cwd, tmp = where.split(" ", 1)
    assert cwd == str(tmp_path / "work")
    # /tmp is a fresh tmpfs: only the folders leading to what is bound in are in it (the working
    # folder and, for a checkout under /tmp such as a CI clone, the environment's packages).
    leading = {Path(p).parts[2] for p in (tmp_path, REPO) if Path(p).parts[1] == "tmp"}
    assert set(eval(tmp)) == leading


def test_nothing_outside_the_working_folder_can_be_written(sandbox, tmp_path):
    watched = tmp_path / "watched"
    watched.mkdir()
    out = run_inside(sandbox, tmp_path, f"""
        import ctypes, os
        libc = ctypes.CDLL(None)
        for target in [{str(watched / "a")!r}, "/usr/evil", "/etc/evil", {sys.prefix!r} + "/x"]:
            libc.system(("touch " + target + " 2>/dev/null").encode())
            try:
                open(target, "w").write("x")
            except OSError as e:
                print(type(e).__name__)
        open("inside.txt", "w").write("fine")
    """, readable=(str(watched),))
    assert out.returncode == 0, out.stderr
    assert list(watched.iterdir()) == []
    assert not os.path.exists("/usr/evil") and not os.path.exists("/etc/evil")
    assert (tmp_path / "work" / "inside.txt").read_text() == "fine"


def test_no_network_not_even_the_graders_loopback(sandbox, tmp_path):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    arrived = []

    def accept():
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not arrived:
            try:
                arrived.append(listener.accept())
            except OSError:
                pass

    thread = threading.Thread(target=accept)
    thread.start()
    out = run_inside(sandbox, tmp_path, f"""
        import ctypes, socket
        for host in ["127.0.0.1", "localhost", "10.0.0.1", "8.8.8.8"]:
            try:
                socket.create_connection((host, {port}), timeout=2).sendall(b"leak")
                print("connected", host)
            except OSError as e:
                print("refused", host, type(e).__name__)
        ctypes.CDLL(None).system(b"exec 3<>/dev/tcp/127.0.0.1/{port} 2>/dev/null; true")
    """)
    arrived.append(None)  # stops the accept loop
    thread.join()
    listener.close()
    assert out.returncode == 0, out.stderr
    assert "connected" not in out.stdout
    assert arrived == [None]


def test_the_grader_cannot_be_seen_or_signalled(sandbox, tmp_path):
    out = run_inside(sandbox, tmp_path, f"""
        import os, signal
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        print(pids)
        try:
            os.kill({os.getpid()}, signal.SIGTERM)
            print("signalled")
        except ProcessLookupError:
            print("no such process")
        print(os.path.exists("/proc/{os.getpid()}/environ"))
    """)
    assert out.returncode == 0, out.stderr
    pids, signalled, environ = out.stdout.splitlines()
    assert max(eval(pids)) < 10  # its own PID namespace: bwrap's reaper and itself
    assert signalled == "no such process"  # (pid numbers inside are unrelated to ours)
    assert environ == "False"


def test_no_capabilities_and_no_new_privileges(sandbox, tmp_path):
    out = run_inside(sandbox, tmp_path, """
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        print(status["CapEff"].strip(), status["NoNewPrivs"].strip())
    """)
    assert out.stdout.split() == ["0000000000000000", "1"]


def test_a_fork_bomb_is_bounded(sandbox, tmp_path):
    if sandbox.process_bound().startswith("none"):
        missing(f"no process limit can be set here: {sandbox.process_bound()}")
    started = time.monotonic()
    out = run_inside(sandbox, tmp_path, """
        import os, time
        n = 0
        for _ in range(10_000):
            try:
                if os.fork() == 0:
                    time.sleep(30)
                    os._exit(0)
                n += 1
            except OSError:
                break
        print(n)
        os.killpg(0, 9)
    """, limits=isolation.KernelLimits(processes=64), timeout=60)
    started_children = int(out.stdout.split()[0])
    assert 0 < started_children < 64
    assert time.monotonic() - started < 30


def test_a_memory_balloon_is_stopped(sandbox, tmp_path):
    out = run_inside(sandbox, tmp_path, """
        import numpy
        balloon = numpy.ones(3_000_000_000 // 8)  # 3 GB at once
        print("allocated", balloon.nbytes)
    """, limits=isolation.KernelLimits(memory_mb=256))
    if sandbox.memory_bound().startswith("polling"):
        pytest.skip("no memory cgroup here: the executor's polling bounds memory (see "
                    "test_sandbox_attacks)")
    assert "allocated" not in out.stdout
    assert out.returncode != 0


def test_file_size_and_open_files_are_limited(sandbox, tmp_path):
    out = run_inside(sandbox, tmp_path, """
        import os
        try:
            with open("big", "wb") as f:
                f.write(b"x" * (3 * 1024 * 1024))
        except OSError as e:
            print("write", e.errno)
        files = []
        try:
            for _ in range(10_000):
                files.append(open("/dev/null"))
        except OSError as e:
            print("open", e.errno, len(files) < 200)
    """, limits=isolation.KernelLimits(file_size_mb=1, open_files=128))
    import errno

    assert out.stdout.split() == ["write", str(errno.EFBIG), "open", str(errno.EMFILE), "True"]
    assert os.path.getsize(tmp_path / "work" / "big") <= 1024 * 1024


def test_cpu_time_is_limited(sandbox, tmp_path):
    started = time.monotonic()
    out = run_inside(sandbox, tmp_path, "while True: pass",
                     limits=isolation.KernelLimits(cpu_seconds=1), timeout=60)
    assert out.returncode != 0
    assert time.monotonic() - started < 20


def test_the_sandbox_cannot_be_asked_for_where_it_does_not_work(monkeypatch):
    monkeypatch.setattr(bwrap, "probe", lambda: "bubblewrap (bwrap) is not installed")
    with pytest.raises(isolation.SandboxUnavailable, match="apt-get install bubblewrap"):
        isolation.choose("bwrap")
    with pytest.warns(RuntimeWarning, match="network"):
        fallback = isolation.choose("auto")
    assert fallback.mode == "none" and "not installed" in fallback.summary()
    with pytest.raises(ValueError, match="--sandbox"):
        isolation.choose("docker")


@pytest.mark.parametrize("version", [1, 2])
def test_kernel_cgroups_get_their_limits_in_either_hierarchy(tmp_path, version):
    # A stand-in hierarchy in plain folders: what find() detects and what a group writes.
    mounts = tmp_path / "mountinfo"
    if version == 2:
        mounts.write_text(f"30 23 0:27 / {tmp_path}/cg rw,relatime - cgroup2 cgroup2 rw\n")
        (tmp_path / "cgroup").write_text("0::/grader\n")
        (tmp_path / "cg" / "grader").mkdir(parents=True)
        (tmp_path / "cg" / "grader" / "cgroup.subtree_control").write_text("cpu memory pids\n")
    else:
        mounts.write_text(
            f"35 31 0:32 / {tmp_path}/memory rw,relatime - cgroup cgroup rw,memory\n"
            f"39 31 0:36 / {tmp_path}/pids rw,relatime - cgroup cgroup rw,pids\n")
        (tmp_path / "cgroup").write_text("4:memory:/grader\n8:pids:/\n")
        (tmp_path / "memory" / "grader").mkdir(parents=True)
        (tmp_path / "pids").mkdir()
    hierarchy = cgroups.find(str(mounts), str(tmp_path / "cgroup"))
    assert hierarchy.version == version and set(hierarchy.parents) == {"memory", "pids"}
    group = cgroups.KernelGroup(hierarchy, memory_mb=100, processes=50)
    memory, pids = Path(group.folders["memory"]), Path(group.folders["pids"])
    limit = str(100 * 1024 * 1024)
    if version == 2:
        assert memory == pids and memory.parent == tmp_path / "cg" / "grader"
        assert (memory / "memory.max").read_text() == limit
        assert (memory / "memory.swap.max").read_text() == "0"
        (memory / "memory.events").write_text("low 0\nhigh 0\nmax 9\noom 1\noom_kill 1\n")
    else:
        assert memory.parent == tmp_path / "memory" / "grader" and pids.parent == tmp_path / "pids"
        assert (memory / "memory.limit_in_bytes").read_text() == limit
        (memory / "memory.oom_control").write_text("oom_kill_disable 0\nunder_oom 0\noom_kill 2\n")
    assert (pids / "pids.max").read_text() == "50"
    assert group.memory_exceeded() and not group.processes_exceeded()
    (pids / "pids.events").write_text("max 3\n")
    assert group.processes_exceeded()
    assert group.procs_files == sorted({str(memory / "cgroup.procs"), str(pids / "cgroup.procs")})


def test_no_cgroups_where_the_grader_may_not_create_them(tmp_path):
    (tmp_path / "mountinfo").write_text(
        f"30 23 0:27 / {tmp_path}/cg rw,relatime - cgroup2 cgroup2 rw\n")
    (tmp_path / "cgroup").write_text("0::/grader\n")
    (tmp_path / "cg" / "grader").mkdir(parents=True)
    # Controllers not delegated to the grader's subtree: nothing to limit a kernel with.
    (tmp_path / "cg" / "grader" / "cgroup.subtree_control").write_text("cpu\n")
    assert cgroups.find(str(tmp_path / "mountinfo"), str(tmp_path / "cgroup")) is None
