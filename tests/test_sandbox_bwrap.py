"""The bubblewrap sandbox on its own: what a process inside it can see, reach and use.

Each test runs a short Python program the way the grader runs a kernel (the same command line,
cgroup and resource limits) and checks from outside what it could do. Each protection also has
its negative control: the same program run without the sandbox (``--sandbox none``) does what the
sandbox stops, so a test that passes shows the protection, not a program that cannot do harm.
No kernel, no notebook: the end-to-end attacks on a graded class are in test_sandbox_attacks.py.
Without bubblewrap these tests skip, saying what to install (under CI that fails the run:
tests/conftest.py).
"""

import errno
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from autograder.sandbox import bwrap, cgroups, isolation
from loopback_listener import Listener

REPO = Path(__file__).resolve().parents[1]  # the checkout: only its package folders are bound
UNSANDBOXED = isolation.choose("none")  # the negative control of every protection below


@pytest.fixture(scope="module")
def sandbox():
    found = bwrap.probe()
    if isinstance(found, str):
        pytest.skip(f"{found} (install it: apt-get install bubblewrap)")
    return isolation.choose("bwrap")


@dataclass
class Ran:
    """What a program did, seen from outside; the cgroup counters read before it is removed."""

    returncode: int
    stdout: str
    stderr: str
    memory_exceeded: bool = False
    processes_exceeded: bool = False


def run_inside(iso, tmp_path, code: str, limits: isolation.KernelLimits | None = None,
               timeout=60, readable=()) -> Ran:
    limits = limits or isolation.KernelLimits()
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    argv, group = iso.kernel_command([sys.executable, "-c", textwrap.dedent(code)], limits,
                                     workdir=str(work), readable=readable)
    try:
        # cwd: where an unsandboxed kernel starts too (bwrap's --chdir says it again).
        out = subprocess.run(argv, capture_output=True, text=True, timeout=timeout,
                             start_new_session=True, cwd=work)
        return Ran(out.returncode, out.stdout, out.stderr,
                   bool(group and group.memory_exceeded()),
                   bool(group and group.processes_exceeded()))
    finally:
        if group:
            group.close()


def _fake_bwrap(folder: Path, refuses: str) -> str:
    """A bwrap that answers --version and --help but cannot create what ``refuses`` names."""
    path = folder / "bwrap"
    path.write_text(textwrap.dedent(f"""\
        #!/bin/sh
        case "$*" in
            --version) echo "bubblewrap 0.9.9"; exit 0 ;;
            --help) echo "usage: bwrap [OPTIONS...] [--] COMMAND [ARGS...] --size BYTES"; exit 0 ;;
            *{refuses}*) echo "bwrap: No permissions to create new namespace" >&2; exit 1 ;;
        esac
        while [ "$1" != "--" ]; do shift; done
        shift
        exec "$@"
    """))
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


def test_the_probe_accepts_only_a_bwrap_that_creates_namespaces(sandbox, tmp_path):
    # Installed but refused namespaces (a container without user namespaces): not a sandbox.
    refused = bwrap.probe(_fake_bwrap(tmp_path, "--unshare-net"))
    assert isinstance(refused, str) and "No permissions to create new namespace" in refused
    assert "No such file" in bwrap.probe(str(tmp_path / "absent"))
    # Namespaces but no user namespace: accepted, without --unshare-user in its commands.
    (tmp_path / "no-userns").mkdir()
    partial = bwrap.probe(_fake_bwrap(tmp_path / "no-userns", "--unshare-user"))
    assert not isinstance(partial, str) and not partial.user_namespace
    assert "--unshare-user" not in bwrap.command(partial, ["true"], workdir=str(tmp_path))
    # The real one: what it runs is in namespaces of its own.
    out = run_inside(sandbox, tmp_path, """
        import os
        print(*(os.readlink(f"/proc/self/ns/{ns}") for ns in ("net", "pid", "ipc", "uts")))
    """)
    outside = [os.readlink(f"/proc/self/ns/{ns}") for ns in ("net", "pid", "ipc", "uts")]
    inside = out.stdout.split()
    assert len(inside) == 4, (inside, outside)
    assert all(a != b for a, b in zip(inside, outside, strict=True)), (inside, outside)


@pytest.mark.parametrize("sandboxed", [True, False], ids=["bwrap", "unsandboxed"])
def test_only_the_python_environment_and_the_working_folder_are_visible(sandbox, tmp_path,
                                                                         sandboxed):
    secret = tmp_path / "course" / "gradebook.db"
    secret.parent.mkdir()
    secret.write_text("BEGIN HIDDEN TESTS")
    out = run_inside(sandbox if sandboxed else UNSANDBOXED, tmp_path, f"""
        import ctypes, importlib, os, numpy, rnn_course_student
        # Native code, as the audit hook never sees it: the file's text, if it can be read.
        ctypes.CDLL(None).system(b"cat {secret} > leaked.txt 2>/dev/null")
        print(open("leaked.txt").read() or "-")
        print(sorted(os.listdir({str(REPO)!r})) if os.path.isdir({str(REPO)!r}) else [])
        print(os.getcwd(), os.listdir("/tmp"))
        importable = []
        for name in {bwrap.GRADER_PACKAGES!r}:  # the grader's side: never mounted
            try:
                importlib.import_module(name)
                importable.append(name)
            except ImportError:
                pass
        print(importable)
    """)
    assert out.returncode == 0, out.stderr
    leaked, listing, where, importable = out.stdout.splitlines()
    if not sandboxed:  # the negative control: the same program reads the course and the repo
        assert leaked == "BEGIN HIDDEN TESTS" and "tests" in eval(listing)
        assert eval(importable) == list(bwrap.GRADER_PACKAGES)
        return
    assert eval(importable) == []
    assert leaked == "-"  # stopped by the mounts: the course folder does not exist inside
    assert set(eval(listing)) <= {".venv", *bwrap.PACKAGES}
    cwd, tmp = where.split(" ", 1)
    assert cwd == str(tmp_path / "work")
    # /tmp is a fresh tmpfs: only the folders leading to what is bound in are in it (the working
    # folder and, for a checkout under /tmp such as a CI clone, the environment's packages).
    leading = {Path(p).parts[2] for p in (tmp_path, REPO) if Path(p).parts[1] == "tmp"}
    assert set(eval(tmp)) == leading


@pytest.mark.parametrize("sandboxed", [True, False], ids=["bwrap", "unsandboxed"])
def test_nothing_outside_the_working_folder_can_be_written(sandbox, tmp_path, sandboxed):
    watched = tmp_path / "watched"
    watched.mkdir()
    targets = [str(watched / "by-native-code"), str(watched / "by-open")]
    if sandboxed:  # never written to the real system by the negative control
        targets += ["/usr/evil", "/etc/evil", sys.prefix + "/x"]
    out = run_inside(sandbox if sandboxed else UNSANDBOXED, tmp_path, f"""
        import ctypes, os
        libc = ctypes.CDLL(None)
        for target in {targets!r}:
            if "native" in target or "evil" in target:
                libc.system(("touch " + target + " 2>/dev/null").encode())
            else:
                try:
                    open(target, "w").write("x")
                except OSError as e:
                    print(type(e).__name__)
        open("inside.txt", "w").write("fine")
    """, readable=(str(watched),))
    assert out.returncode == 0, out.stderr
    assert (tmp_path / "work" / "inside.txt").read_text() == "fine"
    if not sandboxed:
        assert sorted(p.name for p in watched.iterdir()) == ["by-native-code", "by-open"]
        return
    assert list(watched.iterdir()) == []  # stopped by the mounts: bound read-only
    assert not os.path.exists("/usr/evil") and not os.path.exists("/etc/evil")


NATIVE_CONNECT = """
import ctypes, socket, struct
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.socket(socket.AF_INET, socket.SOCK_STREAM, 0)
address = struct.pack("!HH4s8x", socket.AF_INET, {port}, socket.inet_aton("127.0.0.1"))
address = struct.pack("=H", socket.AF_INET) + address[2:]  # sa_family is host-endian
result = libc.connect(fd, ctypes.c_char_p(address), len(address))
print("native", "connected" if result == 0 else "refused", ctypes.get_errno())
"""


@pytest.mark.parametrize("sandboxed", [True, False], ids=["bwrap", "unsandboxed"])
def test_no_network_not_even_the_graders_loopback(sandbox, tmp_path, sandboxed):
    listener = Listener()
    try:
        hosts = ["127.0.0.1", "localhost"] + (["10.0.0.1", "8.8.8.8"] if sandboxed else [])
        out = run_inside(sandbox if sandboxed else UNSANDBOXED, tmp_path, textwrap.dedent(f"""
            import socket
            for host in {hosts!r}:
                try:
                    socket.create_connection((host, {listener.port}), timeout=2).sendall(b"x")
                    print("connected", host)
                except OSError as e:
                    print("refused", host, type(e).__name__)
        """) + NATIVE_CONNECT.format(port=listener.port))
    finally:
        time.sleep(0.3)  # the accept loop's turn
        arrived = listener.close()
    assert out.returncode == 0, out.stderr
    if not sandboxed:  # the negative control: Python's socket and libc's both reach it
        assert "connected 127.0.0.1" in out.stdout and "native connected" in out.stdout
        assert arrived >= 2
        return
    # Stopped by the network namespace: its own loopback, where nothing listens.
    assert "connected" not in out.stdout, out.stdout
    assert f"native refused {errno.ECONNREFUSED}" in out.stdout
    assert arrived == 0


@pytest.mark.parametrize("sandboxed", [True, False], ids=["bwrap", "unsandboxed"])
def test_the_grader_cannot_be_seen_or_signalled(sandbox, tmp_path, sandboxed):
    # A process of the grader's to aim at (the negative control must not kill pytest itself).
    decoy = subprocess.Popen(["sleep", "60"])
    try:
        out = run_inside(sandbox if sandboxed else UNSANDBOXED, tmp_path, f"""
            import ctypes, os, signal
            pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
            print(len(pids), max(pids))
            result = ctypes.CDLL(None).kill({decoy.pid}, signal.SIGKILL)  # no audit event
            print("signalled" if result == 0 else "no such process")
            print(os.path.exists("/proc/{os.getpid()}/environ"))
        """)
        time.sleep(0.2)
        decoy_died = decoy.poll() is not None
    finally:
        decoy.kill()
        decoy.wait()
    assert out.returncode == 0, out.stderr
    (count, highest), signalled, environ = [line.split() for line in out.stdout.splitlines()]
    if not sandboxed:  # the negative control: it sees everything and the signal lands
        assert signalled == ["signalled"] and decoy_died and environ == ["True"]
        return
    # Stopped by the PID namespace: bwrap's reaper and itself; pid numbers unrelated to ours.
    assert int(count) <= 3 and int(highest) < 10
    assert signalled == ["no", "such", "process"] and not decoy_died
    assert environ == ["False"]


def test_no_capabilities_and_no_new_privileges(sandbox, tmp_path):
    code = """
        status = dict(line.split(":", 1) for line in open("/proc/self/status"))
        print(status["CapEff"].strip(), status["NoNewPrivs"].strip())
    """
    assert run_inside(sandbox, tmp_path, code).stdout.split() == ["0000000000000000", "1"]
    if os.geteuid() == 0:  # the negative control, where there are capabilities to drop
        assert run_inside(UNSANDBOXED, tmp_path, code).stdout.split()[0] != "0000000000000000"


# Forks up to 100 children (each sleeps, then all are killed with the process group): a bound
# of 64 processes stops it early; nothing else here does.
FORKS = """
    import os, time
    n = 0
    for _ in range(100):
        try:
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
            n += 1
        except OSError:
            break
    print(n)
    os.killpg(0, 9)
"""


def _without_cgroups(iso: isolation.Isolation) -> isolation.Isolation:
    """The same sandbox where no cgroup can be created: the fallbacks' configuration."""
    return isolation.Isolation(iso.mode, bwrap=iso.bwrap, hierarchy=None)


@pytest.mark.parametrize("cgroup", [True, False], ids=["as-configured", "without-cgroups"])
def test_a_fork_bomb_is_bounded(sandbox, tmp_path, record_property, cgroup):
    iso = sandbox if cgroup else _without_cgroups(sandbox)
    bound = iso.process_bound()
    record_property("mechanism", f"fork bomb alone, {'as configured' if cgroup else 'no cgroup'}: "
                                 f"processes: {bound}")
    if bound.startswith("none"):
        if cgroup:  # the configuration the grader runs with cannot bound a fork bomb
            pytest.skip(f"no process limit can be set here: {bound} (run the tests as a user "
                        "other than root, or where cgroups can be created)")
        # As documented ("processes: none" at the start): root without cgroups is not bounded.
        out = run_inside(iso, tmp_path, FORKS, limits=isolation.KernelLimits(processes=64))
        assert int(out.stdout.split()[0]) == 100
        return
    started = time.monotonic()
    out = run_inside(iso, tmp_path, FORKS, limits=isolation.KernelLimits(processes=64))
    started_children = int(out.stdout.split()[0])
    assert 0 < started_children < 64, f"{bound} did not bound the forks: {started_children}"
    assert time.monotonic() - started < 30
    if bound.startswith("cgroup"):
        assert out.processes_exceeded, f"{bound} did not record the refused forks"
    # The negative control: without the sandbox every fork succeeds.
    assert int(run_inside(UNSANDBOXED, tmp_path, FORKS).stdout.split()[0]) == 100


BALLOON = """
    import numpy
    balloon = numpy.ones(1_000_000_000 // 8)  # 1 GB at once
    print("allocated", balloon.nbytes)
"""


@pytest.mark.parametrize("cgroup", [True, False], ids=["as-configured", "without-cgroups"])
def test_a_memory_balloon_is_stopped_by_the_mechanism_in_force(sandbox, tmp_path,
                                                               record_property, cgroup):
    iso = sandbox if cgroup else _without_cgroups(sandbox)
    bound = iso.memory_bound()
    record_property("mechanism", f"balloon alone, {'as configured' if cgroup else 'no cgroup'}: "
                                 f"memory: {bound}")
    out = run_inside(iso, tmp_path, BALLOON, limits=isolation.KernelLimits(memory_mb=256))
    if bound.startswith("cgroup"):
        # Killed by its cgroup's OOM killer, which counted the kill.
        assert "allocated" not in out.stdout and out.returncode != 0, (bound, out)
        assert out.memory_exceeded, f"{bound}: no OOM kill recorded"
    else:
        # Polling is the executor's (test_sandbox_attacks grades a balloon under it): the
        # sandbox alone lets the allocation through, which is why the executor polls.
        assert bound.startswith("polling"), bound
        assert "allocated" in out.stdout, out


@pytest.mark.parametrize("sandboxed", [True, False], ids=["bwrap", "unsandboxed"])
def test_file_size_and_open_files_are_limited(sandbox, tmp_path, sandboxed):
    out = run_inside(sandbox if sandboxed else UNSANDBOXED, tmp_path, """
        import os
        try:
            with open("big", "wb") as f:
                f.write(b"x" * (3 * 1024 * 1024))
        except OSError as e:
            print("write", e.errno)
        files = []
        try:
            for _ in range(300):
                files.append(open("/dev/null"))
        except OSError as e:
            print("open", e.errno)
        print("files", len(files))
    """, limits=isolation.KernelLimits(file_size_mb=1, open_files=128))
    size = os.path.getsize(tmp_path / "work" / "big")
    if not sandboxed:  # the negative control: neither limit without the sandbox's RLIMITs
        assert out.stdout.split() == ["files", "300"] and size == 3 * 1024 * 1024
        return
    # RLIMIT_FSIZE and RLIMIT_NOFILE (stdin, stdout, stderr count among the 128).
    words = out.stdout.split()
    assert words[:4] == ["write", str(errno.EFBIG), "open", str(errno.EMFILE)], out.stdout
    assert words[4] == "files" and int(words[5]) < 128, out.stdout
    assert size <= 1024 * 1024


# Burns 8 s of CPU time, then says so: RLIMIT_CPU of 1 s kills it with SIGXCPU first.
BURN = """
    import time
    while time.process_time() < 8:
        pass
    print("burned", time.process_time())
"""


@pytest.mark.parametrize("sandboxed", [True, False], ids=["bwrap", "unsandboxed"])
def test_cpu_time_is_limited(sandbox, tmp_path, sandboxed):
    started = time.monotonic()
    out = run_inside(sandbox if sandboxed else UNSANDBOXED, tmp_path, BURN,
                     limits=isolation.KernelLimits(cpu_seconds=1), timeout=120)
    if not sandboxed:  # the negative control: no RLIMIT_CPU, the 8 s are burned
        assert out.returncode == 0 and out.stdout.startswith("burned"), out
        return
    assert "burned" not in out.stdout
    # RLIMIT_CPU: Linux sends SIGXCPU at the soft limit and SIGKILL at the hard one (the same
    # here); bwrap passes the death on as its own exit status (128 + signal).
    killed_by = {-out.returncode, out.returncode - 128}
    assert killed_by & {signal.SIGXCPU, signal.SIGKILL} and not out.memory_exceeded, out
    assert time.monotonic() - started < 8  # well before the program's own 8 s of CPU


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
