"""Run one student notebook: nbgrader's Execute preprocessor, fenced in by limits and guards.

What it adds to nbgrader's ``Execute`` (one nbclient kernel per notebook):
- a time limit per cell, a separate generous one for set-up cells (grade id ``setup_*``: the
  TensorFlow import must never cost points on a busy machine), and a limit for the whole
  notebook (set-up excluded), so an infinite loop costs one cell's timeout, not cells x timeout;
- a watchdog thread that kills the kernel past the notebook's hard deadline or its memory limit;
- a dead kernel (``os._exit``, segfault, killed) ends the run instead of aborting the batch;
  cells not run get an error output so nbgrader never gives them points for being silent;
- the kernel runs in the sandbox (sandbox_kernel.py) inside a private working directory;
- the runtime guard (guard.py): fingerprints after set-up, checks (and restores) before tests.
"""

import ast
import json
import os
import secrets
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field

import psutil
from jupyter_core.utils import run_sync
from nbclient.exceptions import DeadKernelError
from nbformat import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Float, Unicode

from . import guard

KERNEL_NAME = "rnn-grade-sandbox"
FORGET_HIDDEN_SOURCE = (
    "import linecache as _rg_lc\n"
    "[_rg_lc.cache.pop(k, None) for k, v in list(_rg_lc.cache.items())\n"
    " if 'BEGIN HIDDEN TESTS' in ''.join(v[2] if len(v) > 2 else '')]\n"
    "del _rg_lc")


@dataclass
class Limits:
    cell_timeout: float = 60.0  # seconds per ordinary cell
    setup_timeout: float = 300.0  # seconds per set-up cell (imports on a loaded machine)
    notebook_timeout: float = 600.0  # seconds for all non-set-up cells together
    memory_mb: int = 2048  # resident memory of the kernel and its children


@dataclass
class Execution:
    """What happened while running one notebook (plain data: it crosses process boundaries)."""

    kernel_start_s: float = 0.0
    setup_s: float = 0.0
    student_s: float = 0.0
    setup_failed: str | None = None  # grade id and error of a failed set-up cell
    died: str | None = None  # why the kernel stopped early, and in which cell
    timed_out: list[str] = field(default_factory=list)  # cells that hit a time limit
    patched: dict[str, list[str]] = field(default_factory=dict)  # test cell -> replaced names
    sandbox: list[dict] = field(default_factory=list)  # refused operations, with the cell
    error: str | None = None  # the grader itself failed (bug or infrastructure)


def grade_id(cell: NotebookNode) -> str | None:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_setup(cell: NotebookNode) -> bool:
    return (grade_id(cell) or "").startswith("setup_")


def is_test(cell: NotebookNode) -> bool:
    nbg = cell.get("metadata", {}).get("nbgrader", {})
    return bool(nbg.get("grade")) and not nbg.get("solution") and cell.cell_type == "code"


def _error_output(ename: str, evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=ename, evalue=evalue,
                        traceback=[f"{ename}: {evalue}"])


def kernel_spec_dir(root: str) -> str:
    """Writes the sandbox kernelspec (this interpreter, our launcher) under ``root``."""
    spec = os.path.join(root, KERNEL_NAME)
    os.makedirs(spec, exist_ok=True)
    with open(os.path.join(spec, "kernel.json"), "w") as f:
        json.dump({"argv": [sys.executable, "-m", "autograder.sandbox_kernel", "-f",
                            "{connection_file}"],
                   "display_name": "rnn-grade sandbox", "language": "python"}, f)
    return root


class LimitedExecute(Execute):
    """nbgrader's Execute with per-cell/set-up/notebook limits, a watchdog and the guard."""

    setup_timeout = Float(300.0, help="Seconds allowed for each set-up cell.").tag(config=True)
    notebook_timeout = Float(600.0, help="Seconds for all non-set-up cells.").tag(config=True)
    memory_mb = Float(2048, help="Kernel resident memory limit (MB).").tag(config=True)
    sandbox_dir = Unicode(help="Working directory of the kernel (writable).").tag(config=True)
    deny = Unicode(help="os.pathsep-separated folders the kernel may not read.").tag(config=True)
    report_path = Unicode(help="Where the sandbox logs refused operations.").tag(config=True)
    threads = Float(0, help="Math-library threads per kernel (0: leave the libraries' default)."
                    ).tag(config=True)

    def __init__(self, **kw):
        super().__init__(**kw)
        self.run = Execution()
        self._token = secrets.token_hex(6)
        self._fingerprint: dict | None = None
        self._student_budget = self.notebook_timeout
        self._stop = threading.Event()
        self._report_seen = 0

    # --- kernel start: sandbox launcher, private working directory, quiet environment ---
    async def async_start_new_kernel(self, **kwargs):
        sandbox = self.sandbox_dir
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RNN_GRADE", "JPY"))}
        for name in ("home", "tmp", "ipython", "mpl"):
            os.makedirs(os.path.join(sandbox, "." + name), exist_ok=True)
        env.update(HOME=os.path.join(sandbox, ".home"), TMPDIR=os.path.join(sandbox, ".tmp"),
                   IPYTHONDIR=os.path.join(sandbox, ".ipython"),
                   MPLCONFIGDIR=os.path.join(sandbox, ".mpl"), MPLBACKEND="Agg",
                   PYTHONDONTWRITEBYTECODE="1", TF_CPP_MIN_LOG_LEVEL="3",
                   TF_ENABLE_ONEDNN_OPTS="0", NBGRADER_EXECUTION="autograde",
                   RNN_GRADE_SANDBOX=sandbox, RNN_GRADE_DENY=self.deny,
                   RNN_GRADE_REPORT=self.report_path)
        env.pop("JUPYTER_PATH", None)
        if self.threads:
            # N kernels side by side on N cores: one thread pool each, not N pools of N threads
            # fighting over the cores (TensorFlow, OpenMP and BLAS all read these).
            n = str(int(self.threads))
            env.update(TF_NUM_INTRAOP_THREADS=n, TF_NUM_INTEROP_THREADS=n, OMP_NUM_THREADS=n,
                       OPENBLAS_NUM_THREADS=n, MKL_NUM_THREADS=n)
        self._kernel_stderr = open(os.devnull, "w")
        kwargs.update(cwd=sandbox, env=env, stderr=self._kernel_stderr)
        await super().async_start_new_kernel(**kwargs)

    start_new_kernel = run_sync(async_start_new_kernel)

    def create_kernel_manager(self):
        # IPC sockets, not TCP ports: kernels started at the same moment by parallel workers
        # can race for the same free port and die before replying ("kernel_info").
        km = super().create_kernel_manager()
        km.transport = "ipc"
        km.ip = os.path.join(self._ipc_dir, "kernel")
        return km

    def preprocess(self, nb, resources=None, km=None):
        # The sandbox kernelspec is found through JUPYTER_PATH (this worker process only).
        spec_root = os.path.join(os.path.dirname(self.report_path), "jupyter")
        kernel_spec_dir(os.path.join(spec_root, "kernels"))
        os.environ["JUPYTER_PATH"] = spec_root
        self.kernel_name = KERNEL_NAME
        self.shutdown_kernel = "immediate"
        self.timeout_func = self._timeout_for
        self.extra_arguments = ["--HistoryManager.enabled=False"]
        self._t0 = time.monotonic()
        self._ipc_dir = tempfile.mkdtemp(prefix="rg-")  # short: socket paths max ~100 chars
        try:
            nb, resources = super().preprocess(nb, resources)
        except DeadKernelError as e:  # died outside a cell (at start-up)
            self.run.died = self.run.died or f"the kernel died ({e})"
        except Exception as e:  # never let one notebook stop the batch
            self.run.error = f"{type(e).__name__}: {e}"
        finally:
            self._stop.set()
            shutil.rmtree(self._ipc_dir, ignore_errors=True)
            if getattr(self, "_kernel_stderr", None) is not None:
                self._kernel_stderr.close()
        return self.nb if self.nb is not None else nb, resources

    def _watch(self, km):
        limit = self.memory_mb * 1024 * 1024
        while not self._stop.wait(0.1):
            proc = getattr(km.provisioner, "process", None) if km.provisioner else None
            if proc is None or proc.poll() is not None:
                continue
            try:
                root = psutil.Process(proc.pid)
                rss = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
            except psutil.Error:
                continue
            over_time = self._hard_deadline is not None and time.monotonic() > self._hard_deadline
            if rss > limit or over_time:
                self.run.died = (f"memory limit ({self.memory_mb:.0f} MB) exceeded"
                                 if rss > limit else "notebook time limit exceeded")
                self.run.died += f" in cell {self._current}"
                try:
                    root.kill()
                except psutil.Error:
                    pass

    _hard_deadline: float | None = None
    _current: str = "?"
    _t0: float = 0.0
    _watching = False

    def _timeout_for(self, cell):
        if is_setup(cell):
            return int(self.setup_timeout)
        return max(1, int(min(self.timeout, self._student_budget)))

    def _hidden(self, code: str, expression: str | None = None):
        """Runs grader code in the kernel without recording it in the notebook."""
        expressions = {"r": expression} if expression else {}
        msg_id = self.kc.execute(code, silent=True, store_history=False,
                                 user_expressions=expressions)
        reply = self.wait_for_reply(msg_id)
        if not expression or reply is None:
            return None
        data = reply["content"].get("user_expressions", {}).get("r", {})
        return ast.literal_eval(data.get("data", {}).get("text/plain", "None"))

    def _new_sandbox_reports(self) -> list[dict]:
        try:
            with open(self.report_path) as f:
                lines = f.read().splitlines()
        except OSError:
            return []
        new, self._report_seen = lines[self._report_seen:], len(lines)
        out = []
        for line in new:
            try:
                out.append(json.loads(line))
            except ValueError:
                out.append({"kind": "garbled sandbox report", "path": line[:80]})
        return out

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        name = grade_id(cell) or f"cell {index}"
        self._current = name
        if not self._watching:  # the kernel is up: start the clock and the watchdog
            self._watching = True
            self.run.kernel_start_s = time.monotonic() - self._t0
            threading.Thread(target=self._watch, args=(self.km,), daemon=True).start()
        if self.run.died or self.run.setup_failed or (
                not is_setup(cell) and self._student_budget <= 0):
            why = self.run.died or self.run.setup_failed or "the notebook time limit was used up"
            cell.outputs = [_error_output("NotRun", f"not run: {why}")]
            return cell, resources
        started = time.monotonic()
        if not is_setup(cell) and self._hard_deadline is None:
            # Backstop for code that ignores the interrupt nbclient sends at a cell timeout.
            self._hard_deadline = started + self._student_budget + 2 * self.timeout
        try:
            # Test cells stay out of IPython's history (In, _ih) so later student cells cannot
            # read the hidden tests back; their linecache copies are dropped after the run.
            if is_test(cell) and self._fingerprint is not None:
                self._check_guard(name)
            self._check_assign_resources(resources)
            cell = self.execute_cell(cell, index, store_history=not is_test(cell))
            if is_test(cell):
                self._hidden(FORGET_HIDDEN_SOURCE)
        except DeadKernelError:
            self.run.died = self.run.died or (f"the kernel died in cell {name} "
                                              "(os._exit, a crash or a kill)")
            cell.outputs.append(_error_output("DeadKernelError", self.run.died))
        except Exception as e:  # e.g. no reply at all: the cell broke the kernel's machinery
            self.run.died = self.run.died or (f"the kernel stopped responding in cell {name} "
                                              f"({type(e).__name__})")
            cell.outputs.append(_error_output(type(e).__name__, self.run.died))
        elapsed = time.monotonic() - started
        timed_out = any(o.get("ename") == "CellTimeoutError" for o in cell.get("outputs", []))
        if timed_out:
            self.run.timed_out.append(name)
        for report in self._new_sandbox_reports():
            self.run.sandbox.append({**report, "cell": name})
        if is_setup(cell):
            self.run.setup_s += elapsed
            failed = [o for o in cell.outputs if o.output_type == "error"]
            if failed and not self.run.died:
                self.run.setup_failed = (f"set-up cell {name} failed: {failed[0].ename}: "
                                         f"{failed[0].evalue}"[:300])
            elif not self.run.died:
                self._install_guard()
        else:
            self.run.student_s += elapsed
            self._student_budget -= elapsed
        return cell, resources

    def _install_guard(self):
        # Re-taken after every set-up cell: the last one's fingerprint is the reference.
        self._hidden(guard.install_code(self._token))
        self._fingerprint = self._hidden("", guard.fingerprint_code(self._token))

    def _check_guard(self, test_name: str):
        now = self._hidden("", guard.fingerprint_code(self._token))
        if not isinstance(now, dict):
            self.run.patched[test_name] = ["the grader's guard itself"]
            return
        changed = sorted(k for k, v in self._fingerprint.items() if now.get(k) != v)
        if changed:
            self.run.patched[test_name] = changed
            self._hidden(guard.restore_code(self._token, changed))
