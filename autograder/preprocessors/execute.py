"""Run one student notebook: nbgrader's Execute, fenced in by limits, a watchdog and the guard.

What it adds to nbgrader's ``Execute``, all through nbclient's hooks (``on_cell_start``,
``on_cell_execute``, ``on_cell_executed``) and its ``timeout_func``:
- a time limit per cell, a separate generous one for set-up cells (grade id ``setup_*``: the
  TensorFlow import must never cost points on a busy machine), and a budget for the whole
  notebook (set-up excluded), so an infinite loop costs one cell's timeout, not cells x timeout;
- a watchdog thread that kills the kernel past the notebook's hard deadline or its memory limit;
- once a cell hits its time limit, what is left of the notebook's budget is capped at one more
  cell timeout (the cells after a hang mostly call the same hanging code), and a cell that
  ignores the interrupt is killed at twice its limit, so a hang costs about two cell timeouts;
- a dead kernel (``os._exit``, segfault, killed) ends the run instead of aborting the batch;
  cells not run get an error output so nbgrader never gives them points for being silent;
- the kernel is the sandboxed one (autograder/sandbox/), found by a private KernelSpecManager,
  talking over IPC sockets in a private folder; under bubblewrap (``--sandbox``) it also runs
  in its own namespaces and cgroup, seeing only its working folder and that socket folder;
- the runtime guard (autograder/sandbox/guard.py): fingerprints after set-up, checks (and
  restores) before each test cell and before its hidden checks;
- the judge (autograder/judge/): the kernel runs only the visible part of a test cell (the source
  is swapped in ``on_cell_start`` and put back after the cell), then the judge runs the cell's
  hidden blocks in this process, calling the student's answers through the kernel client, and
  its verdict goes into the cell's outputs: a failure first, a partial score as the result.
Reads the notebook's limits and sandbox from ``resources["task"]`` and
``resources["metadata"]["path"]``; writes what happened to ``resources["findings"].execution``.
"""

import ast
import asyncio
import json
import os
import secrets
import shutil
import tempfile
import threading
import time

from queue import Empty

import psutil
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_core.utils import run_sync
from jupyter_core.utils import ensure_async
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import reads as _nbformat_reads
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade, is_solution
from traitlets import Float, Integer, Unicode

from ..judge import CallTimeout, Channel, ChannelDead, Judge, Verdict
from ..judge import hidden as hidden_tests
from ..judge.channel import request_expression
from ..judge.judge import JudgeSetupError
from ..judge.secret import ENV as SECRET_ENV
from ..judge.secret import check_key
from ..limits import Limits
from ..sandbox import bwrap, guard, isolation, launch
from ..task import Execution

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
PROBE_MODULES = ("__import__('rnn_course_student.probe'); __import__('rnn_course_student.forbidden');"
                 " __import__('rnn_course_student.probe_cells')")
# Seconds the judge's calls of one cell may take in all, in cell timeouts: a hanging answer costs
# the calls of one cell this much, then the cell fails and grading goes on.
JUDGE_ALLOWANCE = 3


def nbformat_reads(text: str):
    return _nbformat_reads(text, as_version=4)


def grade_id(cell) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_setup(cell) -> bool:
    return (grade_id(cell) or "").startswith("setup_")


def is_test(cell) -> bool:
    return cell.cell_type == "code" and is_grade(cell) and not is_solution(cell)


def error_output(ename: str, evalue: str):
    return new_output("error", ename=ename, evalue=evalue, traceback=[f"{ename}: {evalue}"])


def apply_verdict(cell, verdict: Verdict) -> None:
    """The judge's verdict in a test cell's outputs, where nbgrader's scoring reads it: a
    failure as the first output (it is what the student reads first), a partial score as the
    cell's only numeric result, what the checks printed as stdout."""
    outputs = cell.setdefault("outputs", [])
    if verdict.printed:
        outputs.append(new_output("stream", name="stdout", text=verdict.printed))
    if verdict.score is not None:
        outputs[:] = [o for o in outputs if o.get("output_type") != "execute_result"]
        outputs.append(new_output("execute_result", data={"text/plain": repr(verdict.score)},
                                  execution_count=cell.get("execution_count")))
    if verdict.error:
        outputs.insert(0, error_output(*verdict.error))


class LimitedExecute(Execute):
    """nbgrader's Execute with per-cell/set-up/notebook limits, a watchdog and the guard."""

    timeout = Integer(int(Limits.cell_timeout), help="Seconds per ordinary cell.",
                      allow_none=True).tag(config=True)
    setup_timeout = Float(Limits.setup_timeout, help="Seconds for each set-up cell."
                          ).tag(config=True)
    notebook_timeout = Float(Limits.notebook_timeout, help="Seconds for all non-set-up cells."
                             ).tag(config=True)
    memory_mb = Float(Limits.memory_mb, help="Kernel resident memory limit (MB)."
                      ).tag(config=True)
    deny = Unicode(help="os.pathsep-separated folders the kernel may not read.").tag(config=True)
    threads = Integer(0, help="Math-library threads per kernel (0: the libraries' default)."
                      ).tag(config=True)
    sandbox = Unicode("auto", help="OS isolation of the kernel: auto, bwrap or none."
                      ).tag(config=True)
    processes = Integer(Limits.processes, help="Processes and threads of the kernel (bwrap)."
                        ).tag(config=True)
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

    # --- set-up: limits from the task, a private folder for the kernelspec and sockets ---
    def preprocess(self, nb, resources=None, km=None):
        task = resources.get("task") if resources else None
        if task is not None:
            self.timeout = int(task.limits.cell_timeout)
            self.setup_timeout = task.limits.setup_timeout
            self.notebook_timeout = task.limits.notebook_timeout
            self.memory_mb = task.limits.memory_mb
            self.processes = task.limits.processes
            self.deny = os.pathsep.join(task.deny)
            self.threads = task.threads
            self.sandbox = task.sandbox
        self.run = resources["findings"].execution if resources and "findings" in resources \
            else Execution()
        self._private = tempfile.mkdtemp(prefix="rg-")  # short: socket paths max ~100 chars
        self._report_path = os.path.join(self._private, "sandbox-report.jsonl")
        self._sandbox = (resources or {}).get("metadata", {}).get("path") or os.getcwd()
        self._token = secrets.token_hex(6)
        self._fingerprint: dict | None = None
        self._budget = self.notebook_timeout
        self._hard_deadline: float | None = None
        self._stop = threading.Event()
        self._reports_seen = 0
        self._current, self._index, self._started = "?", -1, 0.0
        self._t0 = time.monotonic()
        self._watching = False
        self._cell_deadline: float | None = None
        self._isolation = isolation.choose(self.sandbox, warn=False)
        self._group = None  # the kernel's cgroup, when the sandbox made one
        self._setup_cells = sum(1 for c in nb.cells if c.cell_type == "code" and is_setup(c))
        self._full_sources: dict[int, str] = {}  # test cells whose hidden part the judge runs
        self._hidden_parts: dict[int, str] = {}
        self._judge = self._make_judge(nb, task)
        self._hidden_in_kernel = any(is_test(c) and hidden_tests.has_hidden(c.source)
                                     for c in nb.cells) and self._judge is None
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
            self._stop.set()
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
    def _make_judge(self, nb, task) -> Judge | None:
        if task is not None and task.assignment in hidden_tests.HIDDEN_IN_KERNEL:
            return None
        if not any(is_test(c) and hidden_tests.has_hidden(c.source) for c in nb.cells):
            return None
        answers, sources = {}, {}
        release = nbformat_reads(task.release) if task is not None and task.release else nb
        for cell in release.cells:  # the names the exercises define, as the instructor wrote them
            if cell.cell_type == "code" and is_solution(cell):
                answers.update(hidden_tests.defined_names(cell.source))
        for cell in nb.cells:  # the student's cell that defines each (for checks of its source)
            if cell.cell_type == "code" and is_solution(cell):
                for name in hidden_tests.defined_names(cell.source):
                    sources.setdefault(name, cell.source)
        setup = [self._trusted_source(c, task) for c in nb.cells
                 if c.cell_type == "code" and is_setup(c)]
        key_for = None
        if task is not None and task.secret:
            def key_for(grade: str) -> bytes:
                return check_key(task.secret, task.assignment, grade, task.student)
        channel = Channel(self._send_from_judge, timeout=float(self.timeout))
        return Judge(channel, setup, answers, sources, key_for)

    @staticmethod
    def _trusted_source(cell, task) -> str:
        source_cell = task.source_cells.get(grade_id(cell) or "") if task is not None else None
        return source_cell.source if source_cell is not None else cell.source

    def _send_from_judge(self, request: str, timeout: float) -> str:
        """The channel's `send`, called from the judge's thread: runs on the client's loop."""
        allowance = self._judge_deadline - time.monotonic()
        if allowance <= 0:
            raise CallTimeout("the checks of this cell used up their time "
                              f"({JUDGE_ALLOWANCE} x {self.timeout} s) waiting for your code.")
        future = asyncio.run_coroutine_threadsafe(
            self._judge_call(request, min(timeout, allowance)), self._loop)
        return future.result()

    async def _judge_call(self, request: str, timeout: float) -> str:
        msg_id = self.kc.execute("", silent=True, store_history=False,
                                 user_expressions={"r": request_expression(request)})
        started = time.monotonic()
        self._cell_deadline = started + 2 * timeout + 5  # the watchdog's backstop
        reply = await self._reply(msg_id, started + timeout)
        if reply is None:
            await ensure_async(self.km.interrupt_kernel())
            reply = await self._reply(msg_id, time.monotonic() + min(timeout, 10))
            if reply is None:
                raise ChannelDead("the kernel ignored the interrupt after a call timed out")
            raise CallTimeout(f"your code did not return within {timeout:.0f} s for a check of "
                              "this cell (stopped).")
        result = reply["content"].get("user_expressions", {}).get("r", {})
        if result.get("status") != "ok":
            return json.dumps({"raised": {"type": "ProbeError", "assertion": True, "message": (
                "the grader's probe failed in your kernel "
                f"({result.get('ename')}: {str(result.get('evalue'))[:200]}); was it replaced?")}})
        try:
            return ast.literal_eval(result.get("data", {}).get("text/plain", "None"))
        except (ValueError, SyntaxError):
            return ""

    async def _reply(self, msg_id: str, deadline: float):
        while True:
            try:
                msg = await ensure_async(self.kc.shell_channel.get_msg(timeout=0.2))
            except Empty:
                if not await ensure_async(self.km.is_alive()):
                    raise ChannelDead("the kernel died") from None
                if time.monotonic() > deadline:
                    return None
                continue
            if msg.get("parent_header", {}).get("msg_id") == msg_id:
                return msg

    async def _run_judge(self, cell, cell_index) -> None:
        hidden = self._hidden_parts.pop(cell_index, None)
        timed_out = any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))
        if hidden is None or self._judge is None or self.run.died or timed_out:
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
        # (each call has its own backstop, _cell_deadline).
        paused, self._hard_deadline = self._hard_deadline, None
        try:
            verdict = await asyncio.to_thread(self._judge.run, self._current, hidden)
        except JudgeSetupError as error:
            self.run.error = str(error)
            self._judge = None
            return
        finally:
            self._cell_deadline = None
            if paused is not None:
                self._hard_deadline = paused + (time.monotonic() - started)
        apply_verdict(cell, verdict)

    # --- kernel start: the sandbox kernel, found by a private KernelSpecManager ---
    def create_kernel_manager(self):
        # The sockets and connection file get a folder of their own: the one folder besides the
        # working folder that a sandboxed kernel can write. The report file must exist to be
        # bound into the sandbox.
        sockets = os.path.join(self._private, "ipc")
        os.makedirs(sockets, exist_ok=True)
        open(self._report_path, "a").close()
        argv, self._group = self._isolation.kernel_command(
            launch.kernel_argv(), self._kernel_limits(), workdir=self._sandbox,
            writable=(sockets, self._report_path),
            readable=(launch.KERNEL_SCRIPT, *self._grader_folders(mounted=True)))
        kernels = launch.write_kernelspec(
            os.path.join(self._private, "kernels"), argv,
            interrupt_mode="message" if self._isolation.mode == "bwrap" else "signal")
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
        in_kernel = self._judge is None and self._hidden_in_kernel
        if not mounted and self._isolation.mode == "bwrap":
            return []  # not mounted at all (only the kernel's own file of the grader is)
        return bwrap.package_folders(bwrap.GRADER_PACKAGES) if in_kernel == mounted else []

    def _kernel_limits(self) -> isolation.KernelLimits:
        # CPU seconds: every cell's wall-clock limit, on every thread the kernel may use; only
        # a backstop behind the watchdog.
        wall = self._setup_cells * self.setup_timeout + self.notebook_timeout + 2 * self.timeout
        cores = self.threads or os.cpu_count() or 1
        return isolation.KernelLimits(memory_mb=self.memory_mb, processes=self.processes,
                                      cpu_seconds=int(wall * max(1, cores)) + 10)

    def _memory_exceeded(self) -> str | None:
        if self._group is not None and self._group.memory_exceeded():
            return f"memory limit ({self.memory_mb:.0f} MB) exceeded in cell {self._current}"
        return None

    async def async_start_new_kernel(self, **kwargs):
        self._kernel_devnull = open(os.devnull, "w")
        deny = [d for d in self.deny.split(os.pathsep) if d] + self._grader_folders(mounted=False)
        env = launch.kernel_env(self._sandbox, deny, self._report_path, self.threads)
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
            return int(self.setup_timeout)
        return max(1, int(min(self.timeout, self._budget)))

    def _watch(self, km):
        limit = self.memory_mb * 1024 * 1024
        if self._group is not None and self._group.memory_mb:
            # The cgroup bounds memory exactly; summing the RSS of forked children would count
            # their shared pages once per child.
            limit = float("inf")
        while not self._stop.wait(0.1):
            proc = getattr(km.provisioner, "process", None) if km.provisioner else None
            if proc is None or proc.poll() is not None:
                continue
            try:
                root = psutil.Process(proc.pid)
                rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
            except psutil.Error:
                continue
            now = time.monotonic()
            ignored = self._cell_deadline is not None and now > self._cell_deadline
            over_time = self._hard_deadline is not None and now > self._hard_deadline
            if rss > limit or over_time or ignored:
                self.run.died = (f"memory limit ({self.memory_mb:.0f} MB) exceeded"
                                 if rss > limit else "time limit hit and the interrupt ignored"
                                 if ignored else "notebook time limit exceeded")
                self.run.died += f" in cell {self._current}"
                try:
                    root.kill()
                except psutil.Error:
                    pass

    # --- nbclient hooks ---
    def _before_cell(self, cell, cell_index):
        if cell.cell_type != "code":
            return
        self._current, self._index = grade_id(cell) or f"cell {cell_index}", cell_index
        if not self._watching:  # the kernel is up: start the clock and the watchdog
            self._watching = True
            self.run.kernel_start_s = time.monotonic() - self._t0
            threading.Thread(target=self._watch, args=(self.km,), daemon=True).start()
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
        # Backstops for code that ignores the interrupt nbclient sends at a cell timeout: the
        # interrupt gets one more cell limit to work, and the notebook as a whole its budget.
        self._cell_deadline = self._started + 2 * self._timeout_for(cell)
        self._output_bytes = 0
        if not is_setup(cell) and self._hard_deadline is None:
            self._hard_deadline = self._started + self._budget + 2 * self.timeout

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
        timed_out = any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))
        if timed_out:
            self.run.timed_out.append(name)
        self._cell_deadline = None
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
                await self._hidden(guard.install_code(self._token))
                self._fingerprint = await self._hidden("", guard.fingerprint_code(self._token))
        else:
            self.run.student_s += elapsed
            self._budget -= elapsed
            if timed_out:
                # The cells after a hang mostly call the hanging code again: they share what
                # is left of one more cell limit, instead of each waiting out its own.
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
