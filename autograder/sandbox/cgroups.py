"""A cgroup per sandboxed kernel, so its memory and number of processes are bounded by the kernel.

The grader may create cgroups where it runs as root on a host with writable cgroup hierarchies,
or where its own cgroup v2 subtree is delegated to it (``systemd-run --user -p Delegate=yes``).
Each kernel then gets a child of the grader's own cgroup (so any limit on the grader still
applies) with ``pids.max`` and a memory limit (v2 ``memory.max``, v1 ``memory.limit_in_bytes``),
and when it is done every process left in it is killed and the group removed. Without writable
cgroups ``find()`` says so and the caller falls back to resource limits and polling.
"""

import os
import secrets
import signal
import time
from dataclasses import dataclass

CONTROLLERS = ("memory", "pids")


@dataclass(frozen=True)
class Hierarchy:
    """Where the grader may create kernel cgroups, per controller (v2: one folder for both)."""

    version: int
    parents: dict  # controller -> folder of the grader's own cgroup for that controller

    def describe(self) -> str:
        return f"cgroup v{self.version} ({', '.join(sorted(self.parents))})"


def _mounts(mountinfo: str) -> list[tuple[str, str, str, set]]:
    """(root, mount point, fs type, super options) of every cgroup mount."""
    out = []
    with open(mountinfo) as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rfields = left.split(), right.split()
            if len(rfields) >= 3 and rfields[0] in ("cgroup", "cgroup2"):
                out.append((fields[3], fields[4], rfields[0], set(rfields[2].split(","))))
    return out


def _own_paths(cgroup: str) -> dict[str, str]:
    """Controller (or "" for v2) -> this process's cgroup path, from /proc/self/cgroup."""
    out = {}
    with open(cgroup) as f:
        for line in f:
            _, controllers, path = line.rstrip("\n").split(":", 2)
            for c in controllers.split(",") if controllers else [""]:
                out[c] = path
    return out


def _folder(mount_root: str, mount_point: str, path: str) -> str:
    rel = os.path.relpath(path, mount_root) if path.startswith(mount_root) else path
    return os.path.normpath(os.path.join(mount_point, rel.lstrip("/")))


def _can_create_in(folder: str) -> bool:
    probe = os.path.join(folder, f"rnn-grade-probe-{os.getpid()}-{secrets.token_hex(3)}")
    try:
        os.mkdir(probe)
        os.rmdir(probe)
        return True
    except OSError:
        return False


def _remove_stale(folder: str) -> None:
    """Removes kernel groups left by graders that were killed (their pid is gone)."""
    try:
        names = os.listdir(folder)
    except OSError:
        return
    for name in names:
        parts = name.split("-")
        if name.startswith("rnn-grade-") and len(parts) == 4 and parts[2].isdigit():
            try:
                os.kill(int(parts[2]), 0)
            except ProcessLookupError:
                try:
                    os.rmdir(os.path.join(folder, name))  # fails while processes remain
                except OSError:
                    pass
            except OSError:
                pass


def find(mountinfo: str = "/proc/self/mountinfo",
         cgroup: str = "/proc/self/cgroup") -> Hierarchy | None:
    """The cgroup hierarchy the grader may create kernel groups in, or None.

    ``mountinfo`` and ``cgroup``: this process's mount table and cgroup membership (other
    files only to test the detection)."""
    try:
        mounts, own = _mounts(mountinfo), _own_paths(cgroup)
    except OSError:
        return None
    for root, point, fstype, _ in mounts:  # v2: both controllers delegated to our subtree
        if fstype == "cgroup2" and "" in own:
            folder = _folder(root, point, own[""])
            try:
                with open(os.path.join(folder, "cgroup.subtree_control")) as f:
                    enabled = set(f.read().split())
            except OSError:
                continue
            if set(CONTROLLERS) <= enabled and _can_create_in(folder):
                _remove_stale(folder)
                return Hierarchy(2, {c: folder for c in CONTROLLERS})
    parents = {}
    for root, point, fstype, options in mounts:  # v1: one hierarchy per controller
        for c in CONTROLLERS:
            if fstype == "cgroup" and c in options and c in own and c not in parents:
                folder = _folder(root, point, own[c])
                if _can_create_in(folder):
                    _remove_stale(folder)
                    parents[c] = folder
    return Hierarchy(1, parents) if parents else None


def _write(folder: str, name: str, value) -> bool:
    try:
        with open(os.path.join(folder, name), "w") as f:
            f.write(str(value))
        return True
    except OSError:
        return False


def _read(folder: str, name: str) -> str:
    try:
        with open(os.path.join(folder, name)) as f:
            return f.read()
    except OSError:
        return ""


def _counter(text: str, key: str) -> int:
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == key:
            return int(parts[1])
    return 0


class KernelGroup:
    """The cgroup(s) of one kernel: created with its limits, removed with every process in it."""

    def __init__(self, hierarchy: Hierarchy, memory_mb: float | None, processes: int | None):
        self.hierarchy = hierarchy
        name = f"rnn-grade-{os.getpid()}-{secrets.token_hex(4)}"
        self.folders: dict[str, str] = {}
        for controller, parent in hierarchy.parents.items():
            folder = os.path.join(parent, name)
            if folder not in self.folders.values():
                os.mkdir(folder)
            self.folders[controller] = folder
        self.memory_mb, self.processes = None, None
        if processes and "pids" in self.folders and _write(self.folders["pids"], "pids.max",
                                                           processes):
            self.processes = processes
        if memory_mb and "memory" in self.folders:
            folder, limit = self.folders["memory"], int(memory_mb * 1024 * 1024)
            if hierarchy.version == 2:
                ok = _write(folder, "memory.max", limit)
                _write(folder, "memory.swap.max", 0)  # over the limit is killed, not swapped
                _write(folder, "memory.oom.group", 1)  # the whole kernel goes, not one child
            else:
                ok = _write(folder, "memory.limit_in_bytes", limit)
                _write(folder, "memory.memsw.limit_in_bytes", limit)  # where swap is accounted
            self.memory_mb = memory_mb if ok else None

    @property
    def procs_files(self) -> list[str]:
        return sorted({os.path.join(f, "cgroup.procs") for f in self.folders.values()})

    def memory_exceeded(self) -> bool:
        """Whether the kernel's memory limit was hit hard enough for the kernel to kill in it."""
        folder = self.folders.get("memory")
        if folder is None:
            return False
        if self.hierarchy.version == 2:
            return _counter(_read(folder, "memory.events"), "oom_kill") > 0
        control = _read(folder, "memory.oom_control")
        if "oom_kill " in control:  # Linux >= 4.13
            return _counter(control, "oom_kill") > 0
        # Older: the limit was hit at least once (page cache reclaimed counts too).
        return int(_read(folder, "memory.failcnt") or 0) > 0

    def processes_exceeded(self) -> bool:
        folder = self.folders.get("pids")
        return folder is not None and _counter(_read(folder, "pids.events"), "max") > 0

    def close(self) -> None:
        """Kills whatever is still running in the group, then removes it."""
        for folder in set(self.folders.values()):
            if not _write(folder, "cgroup.kill", 1):
                for _ in range(50):
                    pids = [int(p) for p in _read(folder, "cgroup.procs").split()]
                    if not pids:
                        break
                    for pid in pids:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except OSError:
                            pass
                    time.sleep(0.02)
            for _ in range(100):  # the last processes may take a moment to be reaped
                try:
                    os.rmdir(folder)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)
