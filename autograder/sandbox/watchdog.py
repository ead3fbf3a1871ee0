"""The watchdog of one graded kernel: a thread that kills the kernel and its children past a
deadline or a memory limit, every 0.1 s.

Two deadlines, both set and cleared by the executor as cells run: ``cell_deadline``, the backstop
for code that ignores the interrupt sent at a cell's (or a judge call's) time limit, and
``notebook_deadline``, the notebook's whole budget. Memory is the resident memory of the kernel
and its children, unless the kernel's cgroup bounds it exactly (summing the RSS of forked
children would count their shared pages once per child).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import psutil

from .cgroups import KernelGroup

POLL_S = 0.1


class Watchdog:
    """Watches the kernel process ``process()`` returns (a Popen, or None before it starts).

    Args:
        memory_mb: the kernel's memory limit.
        group: the kernel's cgroup, when the sandbox made one.
        killed: called with why, once the kernel was killed (from the watchdog's thread).
    """

    def __init__(self, memory_mb: float, group: KernelGroup | None,
                 killed: Callable[[str], None]):
        self.memory_mb = memory_mb
        self.group = group
        self.killed = killed
        self.cell_deadline: float | None = None
        self.notebook_deadline: float | None = None
        self._stop = threading.Event()

    def start(self, process: Callable[[], object]) -> None:
        threading.Thread(target=self._watch, args=(process,), daemon=True).start()

    def stop(self) -> None:
        self._stop.set()

    def memory_exceeded(self) -> bool:
        """Whether the cgroup's memory limit was hit (the kernel then dies without a word)."""
        return self.group is not None and self.group.memory_exceeded()

    def _watch(self, process: Callable[[], object]) -> None:
        limit = self.memory_mb * 1024 * 1024
        if self.group is not None and self.group.memory_mb:
            limit = float("inf")  # the cgroup bounds it exactly
        while not self._stop.wait(POLL_S):
            proc = process()
            if proc is None or proc.poll() is not None:
                continue
            try:
                root = psutil.Process(proc.pid)
                rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
            except psutil.Error:
                continue
            now = time.monotonic()
            ignored = self.cell_deadline is not None and now > self.cell_deadline
            over_time = self.notebook_deadline is not None and now > self.notebook_deadline
            if rss > limit or over_time or ignored:
                self.killed(f"memory limit ({self.memory_mb:.0f} MB) exceeded" if rss > limit
                            else "time limit hit and the interrupt ignored" if ignored
                            else "notebook time limit exceeded")
                try:
                    root.kill()
                except psutil.Error:
                    pass
