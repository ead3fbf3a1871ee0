"""The bubblewrap command line that runs a kernel in its own namespaces, seeing almost nothing.

What the kernel sees: the system (``/usr``, ``/lib*``, ``/bin``, a few files of ``/etc``) and the
Python environment (the venv, the base interpreter, the editable packages it imports) read-only;
its working folder (the assignment copy) and the folder of its IPC sockets writable; a fresh
tmpfs for ``/tmp``; its own ``/proc`` and minimal ``/dev``. ``HOME`` and ``TMPDIR`` are left to
the caller's environment (the grader puts them in the working folder, where the audit hook also
lets the kernel write). Nothing else is mounted, so the course folder, the gradebook,
``source/``, ``solutions/``, the submissions and the grader's files do not exist inside (absent,
rather than refused). Namespaces: network (no route out: only the sandbox's own loopback), PID
(the grader cannot be seen or signalled), IPC, UTS, user where available; no capabilities, no
new privileges (bwrap sets ``no_new_privs``), ``--die-with-parent``, ``--new-session`` (no
TIOCSTI into a terminal; the grader's signals no longer reach the kernel's process group, so it
is interrupted by message instead, see launch.py). See autograder/docs/sandbox.md.
"""

import functools
import importlib.util
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass

# Packages the kernel imports that may be editable installs living outside the venv (a source
# checkout): only their own folders are bound, never the checkout around them. The kernel needs
# only the student kit: the hidden checks run in the grader's judge (autograder/judge/).
PACKAGES = ("rnn_course_student",)
# The grader's side, never mounted for a judged notebook: the grader, the library (every answer
# of the course) and the course's checks (hidden tests, references, the mistake catalogue).
GRADER_PACKAGES = ("autograder", "rnn_tf", "course_checks")
SYSTEM = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# What the dynamic loader, Python, NumPy and Matplotlib read from /etc; no secrets among them.
ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "nsswitch.conf",
       "passwd", "group", "hosts", "fonts", "mime.types", "os-release", "ssl/openssl.cnf")
# Linux reports online CPUs here; without it os.cpu_count() and thread pools fall back badly.
SYS = ("/sys/devices/system/cpu",)
TMPFS_MB = 512  # /tmp; tmpfs pages count against the kernel's memory cgroup


@dataclass(frozen=True)
class Bwrap:
    """An installed bubblewrap that was seen to work here, and what it supports."""

    path: str
    version: str
    user_namespace: bool  # --unshare-user works (needed for --disable-userns)
    tmpfs_size: bool  # --size (bubblewrap >= 0.7)

    def describe(self) -> str:
        return f"bubblewrap {self.version}"


def _run(argv: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(argv, capture_output=True, text=True, timeout=20)


@functools.lru_cache(maxsize=None)
def probe(path: str | None = None) -> Bwrap | str:
    """The working bubblewrap, or a sentence saying why there is none (cached per process)."""
    path = path or shutil.which("bwrap")
    if not path:
        return "bubblewrap (bwrap) is not installed"
    try:
        version = _run([path, "--version"]).stdout.split()[-1]
        tmpfs_size = "--size" in _run([path, "--help"]).stdout
        base = [path, "--ro-bind", "/", "/", "--unshare-net", "--unshare-pid", "--unshare-ipc",
                "--die-with-parent", "--cap-drop", "ALL", "--"]
        plain = _run(base + ["true"])
        if plain.returncode != 0:
            return f"bwrap cannot create namespaces here: {plain.stderr.strip()[:200]}"
        user = _run(base[:1] + ["--unshare-user", "--disable-userns"] + base[1:] + ["true"])
    except (OSError, subprocess.SubprocessError, IndexError) as e:
        return f"bwrap does not run: {e}"
    return Bwrap(path, version, user.returncode == 0, tmpfs_size)


def package_folders(names=PACKAGES) -> list[str]:
    """Folders of the packages ``names`` that are installed (found without importing them)."""
    out = []
    for name in names:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        for folder in (spec.submodule_search_locations or []) if spec else []:
            out.append(os.path.realpath(folder))
    return out


def python_folders() -> list[str]:
    """The interpreter and everything it imports from: venv, base install, editable packages."""
    folders = {os.path.realpath(p) for p in (sys.prefix, sys.base_prefix, sys.exec_prefix,
                                             sys.base_exec_prefix)}
    folders.update(package_folders())
    # A folder inside another one is already visible.
    return sorted(f for f in folders if not any(f != g and f.startswith(g + os.sep)
                                                for g in folders))


def _system_args() -> list[str]:
    args = []
    for path in SYSTEM:
        if os.path.islink(path):  # merged /usr: /bin -> usr/bin
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in ETC:
        args += ["--ro-bind-try", os.path.join("/etc", name), os.path.join("/etc", name)]
    for path in SYS:
        args += ["--ro-bind-try", path, path]
    return args


def command(bwrap: Bwrap, argv: list[str], *, workdir: str, writable: tuple = (),
            readable: tuple = ()) -> list[str]:
    """``argv`` wrapped in bwrap, running in ``workdir`` (writable, as are ``writable``)."""
    args = [bwrap.path, "--unshare-net", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent",
            "--new-session", "--cap-drop", "ALL"]
    if bwrap.user_namespace:
        # Its own user namespace, and none further inside it.
        args += ["--unshare-user", "--disable-userns"]
    args += _system_args()
    args += ["--proc", "/proc", "--dev", "/dev"]
    size = ["--size", str(TMPFS_MB * 1024 * 1024)] if bwrap.tmpfs_size else []
    args += [*size, "--tmpfs", "/tmp",
             # ipykernel exits when its parent looks like pid 1, which bwrap's reaper is;
             # --die-with-parent does that job instead.
             "--unsetenv", "JPY_PARENT_PID"]
    # Bound after the tmpfs, so folders under /tmp (a venv, the working folder) show through it.
    for folder in python_folders() + [os.path.realpath(p) for p in readable]:
        args += ["--ro-bind", folder, folder]
    for path in [workdir, *writable]:
        real = os.path.realpath(path)
        args += ["--bind", real, real]
    args += ["--chdir", os.path.realpath(workdir), "--"]
    return args + list(argv)
