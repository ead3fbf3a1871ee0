"""A real Dask cluster for tests: `dask scheduler` and `dask worker` processes on 127.0.0.1.

Every process runs the venv's `dask` command in an empty folder (no course folder: workers have
the Python environment, and this folder of test helpers on their path for the small tasks
below), is bounded in time and killed at the end. Dask's scheduler unpickles the tasks too, so
it needs the tasks' modules as much as the workers do.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

DASK = str(Path(sys.executable).parent / "dask")
START_TIMEOUT_S = 90  # two workers importing distributed on a loaded 2-core machine


def square_slowly(payload):
    """A pure task: (x, seconds) -> (x * x, the pid of the process that ran it)."""
    x, seconds = payload
    time.sleep(seconds)
    return x * x, os.getpid()


def kill_own_worker_if_negative(payload):
    """``square_slowly``, except that a negative x SIGKILLs the process running it."""
    if payload[0] < 0:
        os.kill(os.getpid(), signal.SIGKILL)
    return square_slowly(payload)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class DaskProcesses:
    address: str
    folder: Path
    scheduler: subprocess.Popen
    workers: list[subprocess.Popen] = field(default_factory=list)

    def wait_for_workers(self, client, count: int) -> None:
        client.wait_for_workers(count, timeout=START_TIMEOUT_S)

    def worker_pids(self, client) -> dict[str, int]:
        """Worker address -> the pid of the `dask worker` process serving it."""
        return client.run(os.getpid)

    def kill(self, pid: int) -> None:
        """SIGKILL a worker (and the kernels it started: they would outlive it as orphans)."""
        try:
            children = psutil.Process(pid).children(recursive=True)
        except psutil.NoSuchProcess:
            children = []
        os.kill(pid, signal.SIGKILL)
        for child in children:
            try:
                child.kill()
            except psutil.NoSuchProcess:
                pass

    def stop(self) -> None:
        for proc in [*self.workers, self.scheduler]:
            if proc.poll() is None:
                self.kill(proc.pid)
            proc.wait(timeout=30)


def start(folder: Path, workers: int = 2, env: dict | None = None) -> DaskProcesses:
    """A scheduler on a free port of 127.0.0.1 and ``workers`` worker processes (no nanny)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, **(env or {})}
    env["PYTHONPATH"] = str(Path(__file__).parent)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"

    def launch(name, argv):
        log = open(folder / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        return subprocess.Popen([DASK, *argv], cwd=folder, env=env, stdout=log,
                                stderr=subprocess.STDOUT)

    procs = DaskProcesses(address, folder, launch("scheduler", [
        "scheduler", "--host", "127.0.0.1", "--port", str(port),
        "--dashboard-address", "127.0.0.1:0"]))
    try:
        _wait_for_port(port, procs.scheduler)
        for i in range(workers):
            procs.workers.append(launch(f"worker{i}", [
                "worker", address, "--name", f"worker{i}", "--nthreads", "1", "--no-nanny",
                "--dashboard-address", "127.0.0.1:0", "--host", "127.0.0.1",
                "--death-timeout", "30"]))
    except BaseException:
        procs.stop()
        raise
    return procs


def _wait_for_port(port: int, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dask scheduler exited with {proc.returncode}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"dask scheduler did not listen on port {port} in {START_TIMEOUT_S} s")
