"""What the bubblewrap sandbox costs per notebook: kernel start with and without it.

Starts the grader's sandboxed IPython kernel N times each way (IPC transport, a fresh working
folder each time, as the grader does) and prints the median time from launch to the first
``kernel_info`` reply, the time to shut it down (and remove its cgroup), and the differences.
Goal: the sandbox adds <= 0.3 s per notebook. ``--json PATH`` writes every kernel's two times,
the isolation that ran, the machine, its load and the versions.

    python benchmarks/bench_sandbox.py [--runs 5] [--json PATH]
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from jupyter_client import KernelManager
from jupyter_client.kernelspec import KernelSpecManager

from autograder.sandbox import isolation

sys.path.insert(0, str(Path(__file__).resolve().parent))
import provenance  # noqa: E402

KERNEL = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]


def start_once(iso: isolation.Isolation) -> tuple[float, float]:
    """Seconds to a ready kernel, and seconds to be rid of it."""
    started = time.monotonic()  # the kernel's cgroup and command are part of the cost
    private = tempfile.mkdtemp(prefix="rg-bench-")
    work = os.path.join(private, "work")
    os.makedirs(work)
    argv, group = iso.kernel_command(KERNEL, isolation.KernelLimits(), workdir=work,
                                     writable=(os.path.join(private, "ipc"),))
    os.makedirs(os.path.join(private, "ipc"))
    spec = os.path.join(private, "kernels", "bench")
    os.makedirs(spec)
    with open(os.path.join(spec, "kernel.json"), "w") as f:
        json.dump({"argv": argv, "display_name": "bench", "language": "python",
                   "interrupt_mode": "message"}, f)
    km = KernelManager(kernel_name="bench", transport="ipc",
                       ip=os.path.join(private, "ipc", "kernel"),
                       connection_file=os.path.join(private, "ipc", "kernel.json"),
                       kernel_spec_manager=KernelSpecManager(
                           kernel_dirs=[os.path.join(private, "kernels")]))
    try:
        km.start_kernel(cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        kc = km.client()
        kc.start_channels()
        kc.wait_for_ready(timeout=60)
        ready = time.monotonic()
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    finally:
        if group:
            group.close()
        shutil.rmtree(private, ignore_errors=True)
    return ready - started, time.monotonic() - ready


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5, help="kernels each way (default 5)")
    parser.add_argument("--json", help="write the record (raw times included) here")
    args = parser.parse_args(argv)
    record = provenance.header(__file__, sys.argv[1:] if argv is None else argv)
    sandboxed = isolation.choose("bwrap")
    print(sandboxed.summary())
    plain = isolation.choose("none")
    times = {"none": [], "bwrap": []}
    for _ in range(args.runs):  # interleaved, so load changes hit both alike
        times["none"].append(start_once(plain))
        times["bwrap"].append(start_once(sandboxed))
    medians = {}
    for name, runs in times.items():
        starts, stops = [r[0] for r in runs], [r[1] for r in runs]
        medians[name] = statistics.median(starts) + statistics.median(stops)
        print(f"{name:>6}: start median {statistics.median(starts):.2f} s (min {min(starts):.2f},"
              f" max {max(starts):.2f}), shutdown median {statistics.median(stops):.2f} s, "
              f"{len(runs)} kernels")
    extra = medians["bwrap"] - medians["none"]
    print(f"sandbox overhead per notebook (start + shutdown): {extra:+.2f} s (goal <= 0.30 s); "
          f"load average {os.getloadavg()[0]:.1f}")
    record.update({
        "runs": [{"isolation": provenance.isolation(iso),
                  "kernels": [{"start_s": round(a, 3), "shutdown_s": round(b, 3)}
                              for a, b in times[iso.mode]],
                  "median_start_plus_shutdown_s": round(medians[iso.mode], 3)}
                 for iso in (plain, sandboxed)],
        "overhead_per_notebook_s": round(extra, 3)})
    if args.json:
        print(f"details: {provenance.write(args.json, record)}")
    return record


if __name__ == "__main__":
    main()
