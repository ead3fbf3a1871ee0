"""How the sandboxed kernel is launched: its command, its kernelspec and its environment.

``kernel_argv`` is the one place the kernel's command line is built (an OS-level sandbox wraps
it there); the kernelspec holding it is written to a private folder per notebook and found
through ``KernelSpecManager(kernel_dirs=[...])``, so nothing process-wide changes. The
environment puts HOME, TMPDIR, IPython's and Matplotlib's folders inside the private working
folder and passes the sandbox's settings (writable folder, folders it may not read, report file).
"""

import json
import os
import sys

from rnn_course_student.environment import quiet_tensorflow

KERNEL_NAME = "rnn-grade-sandbox"
# Run as a file, not as ``-m autograder.sandbox.kernel``: the kernel needs no grader package on
# its path, and under bubblewrap only this one file of the grader is mounted.
KERNEL_SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "kernel.py")


def kernel_argv() -> list[str]:
    """The kernel's command line (jupyter_client fills in ``{connection_file}``)."""
    return [sys.executable, KERNEL_SCRIPT, "-f", "{connection_file}"]


def write_kernelspec(kernels_dir: str, argv: list[str] | None = None,
                     interrupt_mode: str = "signal") -> str:
    """Writes the sandbox kernelspec under ``kernels_dir``; returns ``kernels_dir``.

    ``argv``: the command (default ``kernel_argv()``, unwrapped). ``interrupt_mode="message"``
    makes jupyter_client ask the kernel to interrupt itself, for kernels that the grader's
    signals cannot reach (under bubblewrap the kernel leads a session of its own).
    """
    spec = os.path.join(kernels_dir, KERNEL_NAME)
    os.makedirs(spec, exist_ok=True)
    with open(os.path.join(spec, "kernel.json"), "w") as f:
        json.dump({"argv": argv or kernel_argv(), "display_name": "rnn-grade sandbox",
                   "language": "python", "interrupt_mode": interrupt_mode}, f)
    return kernels_dir


def kernel_env(sandbox: str, deny: list[str], report_path: str, threads: float = 0) -> dict:
    """The kernel's environment: a quiet, private one, without the grader's own settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RNN_GRADE", "JPY"))}
    for name in ("home", "tmp", "ipython", "mpl"):
        os.makedirs(os.path.join(sandbox, "." + name), exist_ok=True)
    env.update(HOME=os.path.join(sandbox, ".home"), TMPDIR=os.path.join(sandbox, ".tmp"),
               IPYTHONDIR=os.path.join(sandbox, ".ipython"),
               MPLCONFIGDIR=os.path.join(sandbox, ".mpl"), MPLBACKEND="Agg",
               PYTHONDONTWRITEBYTECODE="1", NBGRADER_EXECUTION="autograde",
               RNN_GRADE_SANDBOX=sandbox, RNN_GRADE_DENY=os.pathsep.join(deny),
               RNN_GRADE_REPORT=report_path)
    quiet_tensorflow(env, override=True)  # a log line on stderr would cost the student points
    if threads:
        # N kernels side by side on N cores: one thread pool each, not N pools of N threads
        # fighting over the cores (TensorFlow, OpenMP and BLAS all read these).
        n = str(int(threads))
        env.update(TF_NUM_INTRAOP_THREADS=n, TF_NUM_INTEROP_THREADS=n, OMP_NUM_THREADS=n,
                   OPENBLAS_NUM_THREADS=n, MKL_NUM_THREADS=n)
    return env
