"""Which isolation a graded kernel runs under (``--sandbox {auto,bwrap,none}``), and its command.

``auto`` uses bubblewrap when it is installed and works here, else runs kernels as before (audit
hook, polling) with a warning that names what is then not protected. Resource limits, per kernel:

- processes and threads: cgroup ``pids.max`` where the grader may create cgroups; else
  ``RLIMIT_NPROC``, which Linux counts per user namespace and uid (kernel >= 5.14) and ignores
  for root, so it bounds a fork bomb only when the grader does not run as root (and then the
  kernels of one run share the headroom above what the grading user already runs);
- memory: cgroup ``memory.max`` (v2) or ``memory.limit_in_bytes`` (v1) where possible; else the
  executor's polling of the kernel's resident memory (0.1 s);
- file size ``RLIMIT_FSIZE``, open files ``RLIMIT_NOFILE``, CPU seconds ``RLIMIT_CPU`` always.
"""

import json
import os
import sys
import warnings
from dataclasses import dataclass

from . import bwrap as bw
from . import cgroups

MODES = ("auto", "bwrap", "none")
ENTER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "enter.py")
NOT_PROTECTED = ("kernels run as the grading user with its network access; native code "
                 "(ctypes, os.system from C) can read the gradebook and hidden tests, write "
                 "anywhere the grader can and signal the grader; memory is bounded only by "
                 "polling and processes not at all")


# For the test suite only: protections switched off, to show that an attack then succeeds (the
# negative controls of tests/test_sandbox_attacks.py). A comma-separated list of LAYERS, read
# from the grader's environment; no command-line option sets it, and the start-up line of a
# grading run names what it switched off. Not an RNN_GRADE_* name: those are the grader's own
# and kept from the kernel (launch.kernel_env), while kernel.py must read this one (and removes
# it from its environment before any student code runs).
LAYERS_OFF = "TESTING_ONLY_RNN_GRADE_LAYERS_OFF"
LAYERS = ("audit-hook", "guard")


def layers_off(environ=os.environ) -> list[str]:
    """The protections the test suite switched off (none in any real grading run)."""
    off = [name.strip() for name in environ.get(LAYERS_OFF, "").split(",") if name.strip()]
    unknown = sorted(set(off) - set(LAYERS))
    if unknown:
        raise ValueError(f"{LAYERS_OFF}: unknown {', '.join(unknown)} (known: "
                         f"{', '.join(LAYERS)})")
    return off


class SandboxUnavailable(ValueError):
    """``--sandbox bwrap`` was asked for and bubblewrap cannot run here (a bad option value
    for this machine: the command line reports it as such)."""


@dataclass(frozen=True)
class KernelLimits:
    """What one kernel may use. ``None`` leaves that resource as it is."""

    memory_mb: float | None = 2048
    processes: int | None = 512  # processes and threads together (TensorFlow starts many)
    file_size_mb: int | None = 256  # any one file it writes
    open_files: int | None = 1024
    cpu_seconds: int | None = None  # CPU time of the kernel process, all its threads


@dataclass(frozen=True)
class Isolation:
    """The isolation chosen for this grader: says what is in force and wraps kernel commands."""

    mode: str  # "bwrap" or "none"
    bwrap: bw.Bwrap | None = None
    hierarchy: cgroups.Hierarchy | None = None  # where kernel cgroups are made
    why_not: str | None = None  # why bubblewrap is not used

    # --- what is in force ---
    @property
    def is_root(self) -> bool:
        return os.geteuid() == 0

    def process_bound(self) -> str:
        if self.mode == "none":
            return "none"
        if self.hierarchy and "pids" in self.hierarchy.parents:
            return f"cgroup v{self.hierarchy.version} pids.max"
        if self.is_root:
            return "none (root ignores RLIMIT_NPROC and no cgroup can be created here)"
        return "RLIMIT_NPROC in the kernel's own user namespace"

    def memory_bound(self) -> str:
        if self.mode != "none" and self.hierarchy and "memory" in self.hierarchy.parents:
            name = "memory.max" if self.hierarchy.version == 2 else "memory.limit_in_bytes"
            return f"cgroup v{self.hierarchy.version} {name}"
        return "polling of resident memory every 0.1 s"

    def summary(self) -> str:
        """One line for the start of a grading run."""
        off = layers_off()
        testing = f"; TESTING ONLY, switched off: {', '.join(off)}" if off else ""
        if self.mode == "none":
            return f"isolation: none (audit hook only: {self.why_not or 'asked for'}){testing}"
        return (f"isolation: {self.bwrap.describe()} (no network, own PID namespace, course "
                f"and submissions not mounted); processes: {self.process_bound()}; memory: "
                f"{self.memory_bound()}; also RLIMIT_FSIZE, RLIMIT_NOFILE, RLIMIT_CPU{testing}")

    def warning(self) -> str | None:
        if self.mode != "none":
            return None
        return f"rnn-grade: no OS sandbox ({self.why_not}): {NOT_PROTECTED}"

    # --- the kernel's command ---
    def rlimits(self, limits: KernelLimits) -> dict[str, int]:
        out = {}
        if limits.file_size_mb:
            out["RLIMIT_FSIZE"] = int(limits.file_size_mb * 1024 * 1024)
        if limits.open_files:
            out["RLIMIT_NOFILE"] = int(limits.open_files)
        if limits.cpu_seconds:
            out["RLIMIT_CPU"] = int(limits.cpu_seconds)
        if limits.processes and self.process_bound().startswith("RLIMIT_NPROC"):
            # Inside its user namespace the kernel's tasks count from zero, but Linux also
            # checks the same limit against all tasks of the grading user outside it: leave
            # those room, or bwrap itself could not start on a busy desktop.
            out["RLIMIT_NPROC"] = _tasks_of_this_user() + int(limits.processes)
        return out

    def kernel_command(self, argv: list[str], limits: KernelLimits, *, workdir: str,
                       writable: tuple = (), readable: tuple = ()
                       ) -> tuple[list[str], cgroups.KernelGroup | None]:
        """``argv`` as it must be launched, and the kernel's cgroup (close it when done)."""
        if self.mode == "none":
            return list(argv), None
        group = None
        if self.hierarchy:
            group = cgroups.KernelGroup(self.hierarchy, limits.memory_mb, limits.processes)
        spec = {"cgroups": group.procs_files if group else [], "rlimits": self.rlimits(limits)}
        wrapped = bw.command(self.bwrap, argv, workdir=workdir, writable=writable,
                             readable=readable)
        return [sys.executable, "-I", "-S", ENTER, json.dumps(spec), "--", *wrapped], group


def _tasks_of_this_user() -> int:
    """Processes and threads (what RLIMIT_NPROC counts) the grading user runs now."""
    uid, count = os.getuid(), 0
    for pid in os.listdir("/proc"):
        try:
            if pid.isdigit() and os.stat(f"/proc/{pid}").st_uid == uid:
                count += len(os.listdir(f"/proc/{pid}/task"))
        except OSError:  # gone meanwhile
            pass
    return count


def choose(mode: str = "auto", warn: bool = True) -> Isolation:
    """The isolation for ``mode``; ``auto`` warns when it falls back (unless ``warn=False``)."""
    if mode not in MODES:
        raise ValueError(f"--sandbox must be one of {', '.join(MODES)}, not {mode!r}")
    if mode == "none":
        return Isolation("none", why_not="--sandbox none")
    found = bw.probe()
    if isinstance(found, str):
        if mode == "bwrap":
            raise SandboxUnavailable(f"--sandbox bwrap: {found} (install it: apt-get install "
                                     "bubblewrap, dnf install bubblewrap)")
        isolation = Isolation("none", why_not=found)
        if warn:
            warnings.warn(isolation.warning(), RuntimeWarning, stacklevel=2)
        return isolation
    return Isolation("bwrap", bwrap=found, hierarchy=cgroups.find())
