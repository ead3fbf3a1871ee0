"""Run one student notebook: nbgrader's Execute, fenced in by the task's limits, its sandbox, the
guard and the judge.

Everything comes from the ``GradingTask`` in ``resources["task"]`` (limits, the sandbox chosen
for the run, the folders the kernel may not read) and ``resources["metadata"]["path"]`` (the
working folder); what happened goes to ``resources["findings"].execution``. What it adds to
nbgrader's ``Execute``, all through nbclient's hooks and its ``timeout_func``:
- a time limit per cell, a generous one for set-up cells (grade id ``setup_*``: the TensorFlow
  import must never cost points on a busy machine), and a budget for all other cells together;
  cells that hang (hit their limit) are charged to an allowance of their own, not to the
  budget, so that a hanging function (its test, the cells that try it out) never starves
  the other exercises; past the allowance, what is left of the budget is capped at one more
  cell limit, as the cells after a hang mostly call the same hanging code;
- the watchdog (autograder/sandbox/watchdog.py): the kernel killed past twice a cell's limit
  (the interrupt ignored), past the notebook's budget or over its memory;
- a dead kernel ends the run instead of aborting the batch; cells not run get an error output,
  so nbgrader never gives them points for being silent;
- the sandboxed kernel (autograder/sandbox/), found by a private KernelSpecManager, talking over
  IPC sockets in a private folder;
- the runtime guard (autograder/sandbox/guard.py): fingerprints after set-up, checks (and
  restores) before each test cell and before its hidden checks;
- the judge (autograder/judge/, preprocessors/judging.py): the kernel runs only the visible part
  of a test cell, then the judge runs its hidden blocks in this process, calling the student's
  answers through the kernel client; its verdict goes into the cell's outputs.
"""

import ast
import asyncio
import json
import os
import secrets
import shutil
import tempfile
import time

from jupyter_client.kernelspec import KernelSpecManager
from jupyter_core.utils import run_sync
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from traitlets import Unicode

from ..grading.task import Execution
from ..judge import hidden as hidden_tests
from ..judge import kernel as judge_kernel
from ..judge.channel import TimeUsedUp
from ..judge.judge import JudgeSetupError
from ..judge.secret import ENV as SECRET_ENV
from ..sandbox import bwrap, guard, isolation, launch
from ..sandbox.watchdog import Watchdog
from .cells import error_output, grade_id, is_setup, is_test
from .judging import apply_verdict, has_hidden_tests, judge_for

SKIP_TAG = "rnn-grade-not-run"
# Output one cell may send (bytes of text and data) before the rest is dropped as it arrives, so
# a flood never fills the worker's memory; nbgrader's LimitOutput trims what is kept further.
OUTPUT_CAP = 4 * 1024 * 1024
PROCESS_LIMIT = "starting more processes than the limit"
# What a test cell whose whole source is hidden runs in the kernel (nbclient skips empty cells,
# and the judge runs after the kernel ran the cell).
ONLY_HIDDEN = "# this cell's checks are run by the grader"
# The kit's modules the judge's calls go through, imported (no name bound) before the guard's
# fingerprint, so that a student's replacement of them is found and undone before each check.
PROBE_MODULES = ("__import__('rnn_course_student.probe'); "
                 "__import__('rnn_course_student.forbidden'); "
                 "__import__('rnn_course_student.probe_cells')")
# Seconds the judge's calls of one cell may take in all, in cell timeouts: a hanging answer costs
# the calls of one cell this much, then the cell fails and grading goes on.
JUDGE_ALLOWANCE = 3
# Cell limits that cells hanging until their limit may use up before they are charged to the
# notebook's budget: a function that never returns hangs its own test cell and the cells that try
# it out (a demo of the step, then of the loop that calls it).
HANG_ALLOWANCE = 3


def _timed_out(cell) -> bool:
    return any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))


class LimitedExecute(Execute):
    """nbgrader's Execute for one GradingTask: its limits, its sandbox, the guard and the judge."""

    kernel_name = Unicode(launch.KERNEL_NAME)
    shutdown_kernel = Unicode("immediate")
    skip_cells_with_tag = Unicode(SKIP_TAG)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.extra_arguments = ["--HistoryManager.enabled=False"]
        self.timeout_func = self._timeout_for
        self.on_cell_start = self._before_cell
        self.on_cell_execute = self._check_guard_before_test
        self.on_cell_executed = self._after_cell

    # --- set-up: the task, a private folder for the kernelspec and sockets ---
    def preprocess(self, nb, resources=None, km=None):
        task = (resources or {}).get("task")
        if task is None:
            raise ValueError("LimitedExecute runs a GradingTask: resources['task'] is missing")
        if not isinstance(task.sandbox, isolation.Isolation):
            raise TypeError(f"the task's sandbox must be the Isolation chosen for the run "
                            f"(autograder.sandbox.isolation.choose), not {task.sandbox!r}")
        self.task, self.limits = task, task.limits
        self.timeout = int(task.limits.cell_timeout)  # nbclient's own, for what is not a cell
        self.run = resources["findings"].execution if "findings" in resources else Execution()
        self._private = tempfile.mkdtemp(prefix="rg-")  # short: socket paths max ~100 chars
        self._report_path = os.path.join(self._private, "sandbox-report.jsonl")
        self._workdir = resources.get("metadata", {}).get("path") or os.getcwd()
        self._token = secrets.token_hex(6)
        self._fingerprint: dict | None = None
        self._budget = task.limits.notebook_timeout
        self._hang_allowance = HANG_ALLOWANCE * float(self.timeout)
        self._reports_seen = 0
        self._current, self._index, self._started = "?", -1, 0.0
        self._t0 = time.monotonic()
        self._watchdog: Watchdog | None = None
        self._group = None  # the kernel's cgroup, when the sandbox made one
        self._setup_cells = sum(1 for c in nb.cells if c.cell_type == "code" and is_setup(c))
        self._full_sources: dict[int, str] = {}  # test cells whose hidden part the judge runs
        self._hidden_parts: dict[int, str] = {}
        self._judge = judge_for(nb, task, self._send_from_judge, float(self.timeout))
        self._hidden_in_kernel = self._judge is None and has_hidden_tests(nb)
        try:
            nb, resources = super().preprocess(nb, resources)
        except DeadKernelError as e:
            self._stopped(nb, self._memory_exceeded() or (
                f"the kernel died in cell {self._current} (os._exit, a crash or a kill)"
                if self._index >= 0 else f"the kernel died ({e})"), "DeadKernelError")
        except CellTimeoutError:
            # nbclient interrupted the cell at its limit and the kernel never went idle: the
            # code ignores interrupts (or the watchdog killed it for that first).
            self._stopped(nb, f"time limit hit and the interrupt ignored in cell {self._current}",
                          "CellTimeoutError")
        except Exception as e:  # no reply at all: the cell broke the kernel's machinery
            if self._index < 0:  # never got to run a cell: the grader failed, not the student
                self.run.error = f"{type(e).__name__}: {e}"
            else:
                self._stopped(nb, f"the kernel stopped responding in cell {self._current} "
                                  f"({type(e).__name__})", type(e).__name__)
        finally:
            if self._watchdog is not None:
                self._watchdog.stop()
            for index, source in self._full_sources.items():  # the instructor's copy keeps them
                nb.cells[index].source = source
            if self._judge is not None:
                self.run.judge_s = self._judge.seconds
                self.run.judge_calls = self._judge.channel.calls
            for cell in nb.cells:
                tags = cell.get("metadata", {}).get("tags")
                if tags and SKIP_TAG in tags:
                    tags.remove(SKIP_TAG)
                    if not tags:
                        del cell.metadata["tags"]
            if getattr(self, "_kernel_devnull", None) is not None:
                self._kernel_devnull.close()
            if self._group is not None:
                self._group.close()
            shutil.rmtree(self._private, ignore_errors=True)
        return nb, resources

    def _stopped(self, nb, why: str, ename: str) -> None:
        """The kernel is gone: the current cell says why, the cells after it were not run."""
        self.run.died = self.run.died or why
        cells = nb.cells
        if 0 <= self._index < len(cells):
            cells[self._index].setdefault("outputs", []).append(error_output(ename, self.run.died))
        for cell in cells[self._index + 1:]:
            if cell.cell_type == "code" and cell.source.strip():
                cell.outputs = [error_output("NotRun", f"not run: {self.run.died}")]

    # --- the judge: hidden blocks in this process, answers called through the kernel ---
    def _send_from_judge(self, request: str, timeout: float) -> str:
        """The channel's `send`, called from the judge's thread: runs on the client's loop."""
        allowance = self._judge_deadline - time.monotonic()
        if allowance <= 0:
            raise TimeUsedUp("the checks of this cell used up their time "
                             f"({JUDGE_ALLOWANCE} x {self.timeout} s) waiting for your code.")
        timeout = min(timeout, allowance)
        self._watchdog.cell_deadline = time.monotonic() + 2 * timeout + 5  # the backstop
        future = asyncio.run_coroutine_threadsafe(
            judge_kernel.call(self.km, self.kc, request, timeout), self._loop)
        return future.result()

    async def _run_judge(self, cell, cell_index) -> None:
        hidden = self._hidden_parts.pop(cell_index, None)
        if hidden is None or self._judge is None or self.run.died or _timed_out(cell):
            return
        failed = any(o.get("output_type") == "error" for o in cell.get("outputs", []))
        if failed and not hidden_tests.hidden_comes_first(self._full_sources.get(cell_index, "")):
            # In the cell's own order the hidden checks come after the visible ones, which
            # failed: they would not have run, and the visible message is the one to read.
            return
        await self._check_guard_before_test(cell, cell_index)  # the visible part ran student code
        self._loop = asyncio.get_running_loop()
        started = time.monotonic()
        self._judge_deadline = started + JUDGE_ALLOWANCE * self.timeout
        # The judge's time is not the student's budget: the notebook's deadline waits meanwhile
        # (each call has its own backstop, the watchdog's cell deadline).
        paused, self._watchdog.notebook_deadline = self._watchdog.notebook_deadline, None
        try:
            verdict = await asyncio.to_thread(self._judge.run, self._current, hidden)
        except JudgeSetupError as error:
            self.run.error = str(error)
            self._judge = None
            return
        finally:
            self._watchdog.cell_deadline = None
            if paused is not None:
                self._watchdog.notebook_deadline = paused + (time.monotonic() - started)
        apply_verdict(cell, verdict)

    # --- kernel start: the sandbox kernel, found by a private KernelSpecManager ---
    def create_kernel_manager(self):
        # The sockets and connection file get a folder of their own: the one folder besides the
        # working folder that a sandboxed kernel can write. The report file must exist to be
        # bound into the sandbox.
        sockets = os.path.join(self._private, "ipc")
        os.makedirs(sockets, exist_ok=True)
        open(self._report_path, "a").close()
        argv, self._group = self.task.sandbox.kernel_command(
            launch.kernel_argv(), self._kernel_limits(), workdir=self._workdir,
            writable=(sockets, self._report_path),
            readable=(launch.KERNEL_SCRIPT, *self._grader_folders(mounted=True)))
        kernels = launch.write_kernelspec(
            os.path.join(self._private, "kernels"), argv,
            interrupt_mode="message" if self.task.sandbox.mode == "bwrap" else "signal")
        # IPC sockets, not TCP ports: kernels started at the same moment by parallel workers
        # can race for the same free port and die before replying ("kernel_info").
        self.km = self.kernel_manager_class(
            kernel_name=launch.KERNEL_NAME, config=self.config, transport="ipc",
            ip=os.path.join(sockets, "kernel"),
            connection_file=os.path.join(sockets, "kernel.json"),
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[kernels]))
        return self.km

    def _grader_folders(self, mounted: bool) -> list[str]:
        """The grader's packages (grader, library, course checks): mounted into the kernel only
        for a notebook whose hidden blocks still run there; otherwise refused to it (under
        ``--sandbox none`` the audit hook refuses to open them, so they cannot be imported)."""
        if not mounted and self.task.sandbox.mode == "bwrap":
            return []  # not mounted at all (only the kernel's own file of the grader is)
        return bwrap.package_folders(bwrap.GRADER_PACKAGES) \
            if self._hidden_in_kernel == mounted else []

    def _kernel_limits(self) -> isolation.KernelLimits:
        # CPU seconds: every cell's wall-clock limit, on every thread the kernel may use; only
        # a backstop behind the watchdog.
        limits = self.limits
        wall = (self._setup_cells * limits.setup_timeout + limits.notebook_timeout
                + (2 + HANG_ALLOWANCE) * limits.cell_timeout)
        cores = self.task.threads or os.cpu_count() or 1
        return isolation.KernelLimits(memory_mb=limits.memory_mb, processes=limits.processes,
                                      cpu_seconds=int(wall * max(1, cores)) + 10)

    def _memory_exceeded(self) -> str | None:
        if self._watchdog is not None and self._watchdog.memory_exceeded():
            return f"memory limit ({self.limits.memory_mb:.0f} MB) exceeded in cell {self._current}"
        return None

    async def async_start_new_kernel(self, **kwargs):
        self._kernel_devnull = open(os.devnull, "w")
        deny = list(self.task.deny) + self._grader_folders(mounted=False)
        env = launch.kernel_env(self._workdir, deny, self._report_path, self.task.threads)
        env.pop(SECRET_ENV, None)  # the course secret stays with the judge
        kwargs.update(env=env,
                      # The kernel's own stdout too: its start-up banner (under bwrap it has no
                      # parent pid to stay quiet for) and what native code prints there.
                      stdout=self._kernel_devnull, stderr=self._kernel_devnull)
        await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)

    # --- limits ---
    def _timeout_for(self, cell):
        if is_setup(cell):
            return int(self.limits.setup_timeout)
        return max(1, int(min(self.timeout, self._budget)))

    def _killed(self, why: str) -> None:
        self.run.died = f"{why} in cell {self._current}"

    # --- nbclient hooks ---
    def _before_cell(self, cell, cell_index):
        if cell.cell_type != "code":
            return
        self._current, self._index = grade_id(cell) or f"cell {cell_index}", cell_index
        if self._watchdog is None:  # the kernel is up: start the clock and the watchdog
            self.run.kernel_start_s = time.monotonic() - self._t0
            self._watchdog = Watchdog(self.limits.memory_mb, self._group, self._killed)
            self._watchdog.start(lambda: getattr(self.km.provisioner, "process", None)
                                 if self.km.provisioner else None)
        if self.run.died or self.run.setup_failed or (not is_setup(cell) and self._budget <= 0):
            why = self.run.died or self.run.setup_failed or "the notebook time limit was used up"
            cell.outputs = [error_output("NotRun", f"not run: {why}")]
            cell.metadata.setdefault("tags", []).append(SKIP_TAG)  # nbclient skips the cell
            return
        if is_test(cell) and self._judge is not None and hidden_tests.has_hidden(cell.source):
            visible, hidden = hidden_tests.split(cell.source)
            self._full_sources[cell_index] = cell.source
            self._hidden_parts[cell_index] = hidden
            cell.source = visible if visible.strip() else ONLY_HIDDEN
        self._started = time.monotonic()
        self._limit = self._timeout_for(cell)
        # Backstops for code that ignores the interrupt nbclient sends at a cell timeout: the
        # interrupt gets one more cell limit to work, and the notebook as a whole its budget
        # and its hang allowance.
        self._watchdog.cell_deadline = self._started + 2 * self._limit
        self._output_bytes = 0
        if not is_setup(cell) and self._watchdog.notebook_deadline is None:
            self._watchdog.notebook_deadline = self._started + self._budget + (
                2 + HANG_ALLOWANCE) * self.timeout

    async def _check_guard_before_test(self, cell, cell_index):
        if not is_test(cell) or self._fingerprint is None:
            return
        now = await self._hidden("", guard.fingerprint_code(self._token))
        if not isinstance(now, dict):
            self.run.patched[self._current] = ["the grader's guard itself"]
            return
        changed = sorted(k for k, v in self._fingerprint.items() if now.get(k) != v)
        if changed:
            self.run.patched[self._current] = changed
            await self._hidden(guard.restore_code(self._token, changed))

    async def _after_cell(self, cell, cell_index, execute_reply):
        super().on_cell_executed(cell=cell, cell_index=cell_index, execute_reply=execute_reply)
        name = self._current
        elapsed = time.monotonic() - self._started
        await self._run_judge(cell, cell_index)
        if cell_index in self._full_sources:
            cell.source = self._full_sources[cell_index]
        timed_out = _timed_out(cell)
        if timed_out:
            self.run.timed_out.append(name)
        self._watchdog.cell_deadline = None
        for report in self._new_sandbox_reports():
            self.run.sandbox.append({**report, "cell": name})
        if self._group is not None and self._group.processes_exceeded() and not any(
                r.get("kind") == PROCESS_LIMIT for r in self.run.sandbox):
            self.run.sandbox.append({"kind": PROCESS_LIMIT, "event": "pids.max", "cell": name,
                                     "path": f"limit {self._group.processes}"})
        if is_setup(cell):
            self.run.setup_s += elapsed
            failed = [o for o in cell.outputs if o.output_type == "error"]
            if failed and not self.run.died:
                self.run.setup_failed = (f"set-up cell {name} failed: {failed[0].ename}: "
                                         f"{failed[0].evalue}"[:300])
            elif not self.run.died:
                if self._judge is not None:  # loaded before the fingerprint, so it covers them
                    await self._hidden(PROBE_MODULES)
                # Re-taken after every set-up cell: the last one's fingerprint is the reference.
                await self._hidden(guard.install_code(self._token, self.task.protected))
                self._fingerprint = await self._hidden("", guard.fingerprint_code(self._token))
            return
        self.run.student_s += elapsed
        if timed_out and self._hang_allowance > 0:
            # A hang charged to the budget would starve the cells of the exercises after it.
            self._hang_allowance -= elapsed
            return
        self._budget -= elapsed
        if timed_out:
            # The cells after a hang mostly call the hanging code again: they share what is
            # left of one more cell limit, instead of each waiting out its own.
            self._budget = min(self._budget, self.timeout)

    def output(self, outs, msg, display_id, cell_index):
        """nbclient's output handling, with the output of one cell capped at ``OUTPUT_CAP``."""
        content = msg.get("content", {})
        size = len(content.get("text", "")) + sum(len(str(v)) for v in
                                                  content.get("data", {}).values())
        self._output_bytes = getattr(self, "_output_bytes", 0) + size
        if self._output_bytes <= OUTPUT_CAP or msg.get("msg_type") == "error":
            return super().output(outs, msg, display_id, cell_index)
        if self._current not in self.run.output_cut:
            self.run.output_cut.append(self._current)
            # stdout: nbgrader fails a test cell that writes to stderr.
            outs.append(new_output("stream", name="stdout", text=(
                f"\n[rnn-grade: output past {OUTPUT_CAP // 2**20} MB dropped]\n")))
        return None

    async def _hidden(self, code: str, expression: str | None = None):
        """Runs grader code in the kernel without recording it in the notebook."""
        expressions = {"r": expression} if expression else {}
        msg_id = self.kc.execute(code, silent=True, store_history=False,
                                 user_expressions=expressions)
        reply = await self.async_wait_for_reply(msg_id)
        if not expression or reply is None:
            return None
        data = reply["content"].get("user_expressions", {}).get("r", {})
        return ast.literal_eval(data.get("data", {}).get("text/plain", "None"))

    def _new_sandbox_reports(self) -> list[dict]:
        try:
            with open(self._report_path) as f:
                lines = f.read().splitlines()
        except OSError:
            return []
        new, self._reports_seen = lines[self._reports_seen:], len(lines)
        out = []
        for line in new:
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"kind": "garbled sandbox report", "path": line[:80]})
        return out
