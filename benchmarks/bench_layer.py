"""Benchmark: rnn_tf.SimpleRNN against keras.layers.SimpleRNN, forward and training step.

Is the hand-written layer (lesson 2: BPTT as matmuls) as fast as the built-in? Measured results
and the goal they are held against: benchmarks/RESULTS.md.

    python benchmarks/bench_layer.py              # full run, about 2-4 minutes on 2 CPU cores
    python benchmarks/bench_layer.py --quick      # smoke run, two small shapes, ~30 s
    python benchmarks/bench_layer.py --markdown   # print the table as Markdown
    python benchmarks/bench_layer.py --json PATH  # also write every timed run, machine, versions

What is timed, per shape (B, T, D, H) = (batch, timesteps, features, units), float32:
- forward: `layer(x)` with `return_sequences=True`, inside a `tf.function`;
- train: the same forward, a mean-square loss, and the gradient with respect to every weight
  (kernel, recurrent_kernel, bias), inside a `tf.function`.
Both layers hold the same weights; each timed function is warmed up first (tracing, XLA
compilation), then the two layers run alternately (the order swapped every round) and the median
of `--repeats` runs is reported, so that load from other processes hits both alike.

GFLOP/s counts the matrix products only: forward 2*B*T*H*(D + H) flops (input projection and
recurrence), training step 3x that (the backward pass does two products for each forward one).

Peak memory (training step), measured honestly on CPU: each layer runs in its own fresh child
process with glibc's mmap threshold fixed at 64 KiB (`MALLOC_MMAP_THRESHOLD_`), so every tensor
buffer is mapped when allocated and returned to the OS when freed, and resident memory follows
the live tensors. After warm-up the child resets the kernel's peak-RSS mark (`/proc/self/
clear_refs`), runs the step three times and reports VmHWM minus the RSS before the steps: the extra
memory a training step needs beyond the weights and the input. Children use one inter-op thread
(a fixed op order), and the median of three children per layer is reported: thread stacks and
malloc arenas still add about +-0.5 MiB of noise, which matters only at the smallest shapes.
On a GPU, TensorFlow's own `get_memory_info(...)["peak"]` (after `reset_memory_stats`) is used.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

from rnn_course_student.environment import quiet_tensorflow

quiet_tensorflow()  # TensorFlow writes to stderr on import otherwise; set before it is imported
sys.path.insert(0, str(Path(__file__).resolve().parent))
import provenance  # noqa: E402

SHAPES = [(8, 20, 32, 64), (64, 100, 32, 64), (64, 100, 128, 256), (32, 500, 32, 64),
          (256, 50, 64, 128)]
QUICK_SHAPES = SHAPES[:2]
IMPLEMENTATIONS = ("keras", "rnn_tf")


def make_layer(implementation, units):
    import keras

    import rnn_tf

    cls = keras.layers.SimpleRNN if implementation == "keras" else rnn_tf.SimpleRNN
    return cls(units, return_sequences=True)


def make_case(shape, seed=0):
    """Input x (B, T, D) and the two layers, built, holding the same weights."""
    import tensorflow as tf

    B, T, D, H = shape
    x = tf.random.stateless_normal((B, T, D), seed=(seed, 0))  # (B, T, D)
    layers = {name: make_layer(name, H) for name in IMPLEMENTATIONS}
    for layer in layers.values():
        layer.build((B, T, D))
    layers["rnn_tf"].set_weights(layers["keras"].get_weights())
    return x, layers


def step_functions(layer):
    """The two timed functions for one layer: forward, and forward + gradient w.r.t. weights."""
    import tensorflow as tf

    @tf.function
    def forward(x):
        return tf.reduce_sum(layer(x))  # a scalar: the timer waits for the whole output

    @tf.function
    def train(x):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(layer(x)))  # (B, T, H) -> ()
        return tape.gradient(loss, layer.trainable_weights)

    return {"forward": forward, "train": train}


def flops(shape, what):
    B, T, D, H = shape
    forward = 2 * B * T * H * (D + H)
    return forward if what == "forward" else 3 * forward


# ---------------------------------------------------------------------------------------------
# Timing: one process, both layers, alternating.


def time_shape(shape, repeats, warmup):
    import numpy as np
    import tensorflow as tf

    x, layers = make_case(shape)
    functions = {name: step_functions(layer) for name, layer in layers.items()}
    # Parity first: the outputs and the weight gradients the timed functions compute.
    outputs = {name: [tf.function(layer)(x), *functions[name]["train"](x)]
               for name, layer in layers.items()}
    pairs = zip(outputs["keras"], outputs["rnn_tf"], strict=True)
    result = {"max_abs_diff": max(float(np.max(np.abs(np.asarray(a) - np.asarray(b))))
                                  for a, b in pairs),
              "raw_s": {}}
    for what in ("forward", "train"):
        for name in IMPLEMENTATIONS:
            for _ in range(warmup):
                functions[name][what](x)
        times = {name: [] for name in IMPLEMENTATIONS}
        for round_ in range(repeats):
            order = IMPLEMENTATIONS if round_ % 2 == 0 else IMPLEMENTATIONS[::-1]
            for name in order:
                start = time.perf_counter()
                functions[name][what](x)
                times[name].append(time.perf_counter() - start)
        result[what] = {name: statistics.median(t) for name, t in times.items()}
        result["raw_s"][what] = {name: [round(s, 6) for s in t] for name, t in times.items()}
    return result


# ---------------------------------------------------------------------------------------------
# Peak memory: one fresh child process per implementation (see the module docstring).


def _proc_status_kib(field):
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def memory_child(implementation, shapes):
    """Runs in a child process: prints {shape: peak extra MiB of a training step} as JSON."""
    import tensorflow as tf

    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    peaks = {}
    for shape in shapes:
        x, layers = make_case(shape)
        train = step_functions(layers[implementation])["train"]
        for _ in range(3):
            train(x)  # trace, compile, and let every allocator reach its steady state
        if on_gpu:
            tf.config.experimental.reset_memory_stats("GPU:0")
            before = tf.config.experimental.get_memory_info("GPU:0")["current"]
            for _ in range(3):
                train(x)
            peak = tf.config.experimental.get_memory_info("GPU:0")["peak"] - before
        else:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")  # reset the peak resident set size (VmHWM) to the current
            before = _proc_status_kib("VmRSS") * 1024
            for _ in range(3):
                train(x)
            peak = _proc_status_kib("VmHWM") * 1024 - before
        peaks[str(shape)] = peak / 2**20
    print(json.dumps(peaks))


def measure_memory(shapes, runs):
    """{shape: {implementation: median over `runs` fresh children of the peak, MiB, and
    implementation + "_runs": every child's peak}}."""
    # One inter-op thread: independent ops run one at a time, in a fixed order, so the peak does
    # not depend on how the scheduler happened to overlap them (timings use the defaults).
    env = {**os.environ, "MALLOC_MMAP_THRESHOLD_": "65536", "TF_NUM_INTEROP_THREADS": "1"}
    peaks = {name: [] for name in IMPLEMENTATIONS}
    for _ in range(runs):
        for implementation in IMPLEMENTATIONS:
            child = subprocess.run(
                [sys.executable, __file__, "--memory-child", implementation,
                 "--shapes", *[",".join(map(str, s)) for s in shapes]],
                env=env, capture_output=True, text=True, check=True,
            )
            peaks[implementation].append(json.loads(child.stdout.strip().splitlines()[-1]))
    return {shape: {**{name: statistics.median(run[str(shape)] for run in peaks[name])
                       for name in IMPLEMENTATIONS},
                    **{f"{name}_runs": [round(run[str(shape)], 3) for run in peaks[name]]
                       for name in IMPLEMENTATIONS}}
            for shape in shapes}


# ---------------------------------------------------------------------------------------------
# Report.


def machine():
    import keras
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    cpu = platform.processor() or platform.machine()
    device = (tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU")
              if gpus else f"CPU only, {os.cpu_count()} cores ({cpu})")
    return (f"{device}; TensorFlow {tf.__version__}, Keras {keras.__version__}, "
            f"Python {platform.python_version()}")


def table(rows, markdown):
    header = ["B, T, D, H", "fwd Keras ms", "fwd rnn_tf ms", "fwd speed-up",
              "train Keras ms", "train rnn_tf ms", "train speed-up",
              "train GFLOP/s Keras / rnn_tf", "train peak MiB Keras / rnn_tf", "max abs diff"]
    lines = []
    for shape, r in rows:
        f, t, m = r["forward"], r["train"], r.get("memory")
        gflops = [flops(shape, "train") / t[name] / 1e9 for name in IMPLEMENTATIONS]
        memory = "n/a" if m is None else f"{m['keras']:.1f} / {m['rnn_tf']:.1f}" + (
            f" ({m['rnn_tf'] / m['keras']:.2f}x)" if m["keras"] >= 1 else "")  # ratio of noise
        lines.append([
            ", ".join(map(str, shape)),
            f"{f['keras'] * 1e3:.2f}", f"{f['rnn_tf'] * 1e3:.2f}",
            f"{f['keras'] / f['rnn_tf']:.2f}x",
            f"{t['keras'] * 1e3:.2f}", f"{t['rnn_tf'] * 1e3:.2f}",
            f"{t['keras'] / t['rnn_tf']:.2f}x",
            f"{gflops[0]:.1f} / {gflops[1]:.1f}", memory,
            f"{r['max_abs_diff']:.1e}",
        ])
    if markdown:
        out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        out += ["| " + " | ".join(line) + " |" for line in lines]
    else:
        widths = [max(len(str(c)) for c in col) for col in zip(header, *lines, strict=True)]
        out = ["  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
               for row in [header, *lines]]
    return "\n".join(out)


def parse_shape(text):
    shape = tuple(int(n) for n in text.split(","))
    if len(shape) != 4:
        raise argparse.ArgumentTypeError(f"a shape is B,T,D,H (four integers); got {text!r}")
    return shape


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="smoke run: two small shapes, 3 repeats")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--repeats", type=int, default=None,
                        help="timed runs per function (default 15; 3 with --quick)")
    parser.add_argument("--shapes", type=parse_shape, nargs="+", default=None,
                        help="shapes as B,T,D,H (default: the five of RESULTS.md)")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory children")
    parser.add_argument("--memory-runs", type=int, default=None,
                        help="fresh child processes per layer for peak memory, median taken "
                             "(default 3; 1 with --quick)")
    parser.add_argument("--json", help="write the record (every timed run, the machine, the "
                        "versions) here")
    parser.add_argument("--memory-child", choices=IMPLEMENTATIONS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    shapes = args.shapes or (QUICK_SHAPES if args.quick else SHAPES)
    if args.memory_child:
        memory_child(args.memory_child, shapes)
        return
    repeats = args.repeats or (3 if args.quick else 15)
    warmup = 1 if args.quick else 3

    import rnn_tf  # noqa: F401  (first, so that TensorFlow starts quietly)

    started = time.perf_counter()
    memory_runs = args.memory_runs or (1 if args.quick else 3)
    memory = {} if args.no_memory else measure_memory(shapes, memory_runs)
    rows = []
    for shape in shapes:
        result = time_shape(shape, repeats, warmup)
        result["memory"] = memory.get(shape)
        rows.append((shape, result))
        print(f"  measured {shape}", file=sys.stderr, flush=True)
    print(f"Machine: {machine()}")
    print(f"Median of {repeats} alternating runs after {warmup} warm-up(s); float32; "
          f"speed-up = Keras time / rnn_tf time; peak = extra memory of a training step.")
    print(table(rows, args.markdown))
    print(f"(benchmark took {time.perf_counter() - started:.0f} s)")
    if args.json:
        record = provenance.header(__file__, sys.argv[1:] if argv is None else argv)
        record.update({"device": machine(), "repeats": repeats, "warmup": warmup,
                       "memory_runs": None if args.no_memory else memory_runs,
                       "rows": [{"shape": list(shape), **result} for shape, result in rows]})
        print(f"details: {provenance.write(args.json, record)}")


if __name__ == "__main__":
    main()
