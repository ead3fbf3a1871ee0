"""Grading speed: rnn-grade with parallel workers against serial `nbgrader autograde`.

Builds a class of 5 submissions per assignment (20 for the four assignments: correct, empty,
partial, a deleted test cell, a typical mistake; all generated deterministically
from the course by tests/sample_class.py, none hostile, so plain nbgrader can grade them too), then
times, on two copies of the same released course:

1. `nbgrader autograde <assignment> --force` for every assignment, one notebook after another
   (nbgrader's own command, the course's nbgrader_config.py);
2. `rnn-grade autograde` with ``--jobs`` workers (default 2).

It prints total wall times, their ratio (goal: <= 0.6 with 2 workers on 2 cores), whether the
scores agree with nbgrader's, and the per-notebook split of rnn-grade's time into kernel start, set-up cells (imports) and the
student's cells + tests, with the share the import takes. Self-contained; about 5-8 min on an
idle 2-core machine.

    python benchmarks/bench_grading.py                 # the full class, 2 workers
    python benchmarks/bench_grading.py --quick         # 2 cases x 4 assignments, a smoke run
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

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rnn_course_student.environment import quiet_tensorflow  # noqa: E402

quiet_tensorflow()
sys.path.insert(0, str(REPO / "tests"))  # the sample class is test data

import sample_class as samples  # noqa: E402

from autograder.course import Course  # noqa: E402
from autograder.grade import autograde  # noqa: E402
from autograder.limits import Limits  # noqa: E402

# Only cases plain nbgrader can grade: a duplicated test cell, for one, makes
# `nbgrader autograde` 0.9.6 stop the whole assignment ("old version of the metadata format").
CASES = ["correct", "empty", "only_first_exercise", "deleted_test", "typical_mistake"]
# Where rnn-grade scores differently on purpose.
EXPECTED_DIFFERENCE = {"deleted_test": "nbgrader leaves a deleted test cell ungraded (0, 'needs "
                                       "manual grade'); rnn-grade restores and grades it"}


def build_class(course: Course, cases: list[str], out: Path) -> int:
    """Writes the class in nbgrader's layout, submitted/<student>/<assignment>/<assignment>."""
    flat = out / "flat"
    paths = samples.make_class(course, str(flat), course.assignments, cases)
    for path in map(Path, paths):
        for a in course.assignments:
            if path.stem.endswith("_" + a):
                student = path.stem[: -len(a) - 1]
                target = out / "submitted" / student / a / f"{a}.ipynb"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)
    shutil.rmtree(flat)
    return len(paths)


def time_nbgrader(course_dir: Path, assignments: list[str]) -> float:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    started = time.perf_counter()
    for a in assignments:
        proc = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", a,
                               "--force"], cwd=course_dir, env=env, capture_output=True,
                              text=True)
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"nbgrader autograde {a} failed")
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="rnn-grade workers (default 2)")
    parser.add_argument("--quick", action="store_true", help="2 cases per assignment")
    parser.add_argument("--out", help="keep the work folder here (default: a temporary one)")
    parser.add_argument("--also-serial", action="store_true",
                        help="also time rnn-grade --jobs 1 (adds a few minutes)")
    parser.add_argument("--also-no-sandbox", action="store_true",
                        help="also time rnn-grade --jobs N --sandbox none, to see what the "
                             "bubblewrap sandbox costs (adds a minute or two)")
    args = parser.parse_args()
    cases = CASES[:2] if args.quick else CASES

    work = Path(args.out or tempfile.mkdtemp(prefix="rnn-grade-bench-")).resolve()
    base = work / "released"
    if base.exists():
        shutil.rmtree(base)
    base.mkdir(parents=True)
    shutil.copytree(REPO / "course" / "source", base / "source")
    shutil.copy(REPO / "course" / "nbgrader_config.py", base)
    course = Course(str(base))
    t = time.perf_counter()
    course.release()
    print(f"released {', '.join(course.assignments)} in {time.perf_counter() - t:.0f} s")
    n = build_class(course, cases, base)
    print(f"class: {n} submissions ({len(cases)} per assignment)")

    copies = {}
    for name in ("nbgrader", "rnn-grade"):
        copies[name] = work / name
        if copies[name].exists():
            shutil.rmtree(copies[name])
        shutil.copytree(base, copies[name])

    print("serial `nbgrader autograde` ...", flush=True)
    serial = time_nbgrader(copies["nbgrader"], course.assignments)
    print(f"  {serial:.0f} s ({serial / n:.1f} s per notebook)")

    print(f"`rnn-grade autograde --jobs {args.jobs}` ...", flush=True)
    graded = Course(str(copies["rnn-grade"]))
    t = time.perf_counter()
    results = autograde(graded, str(copies["rnn-grade"] / "submitted"), jobs=args.jobs,
                        limits=Limits(cell_timeout=300), progress=False)
    parallel = time.perf_counter() - t
    print(f"  {parallel:.0f} s ({parallel / n:.1f} s per notebook)")

    # Same class, same engine: on these honest submissions the scores must agree with nbgrader's.
    from nbgrader.api import Gradebook

    disagree = []
    with Gradebook(f"sqlite:///{copies['nbgrader'] / 'gradebook.db'}") as gb:
        for r in results:
            theirs = gb.find_submission_notebook(r.assignment, r.assignment, r.student).score
            if r.score != theirs and r.student not in EXPECTED_DIFFERENCE:
                disagree.append(f"{r.student}/{r.assignment}: rnn-grade {r.score}, nbgrader {theirs}")

    serial_ours = None
    if args.also_serial:
        print("`rnn-grade autograde --jobs 1` ...", flush=True)
        again = work / "rnn-grade-serial"
        if again.exists():
            shutil.rmtree(again)
        shutil.copytree(base, again)
        t = time.perf_counter()
        autograde(Course(str(again)), str(again / "submitted"), jobs=1,
                  limits=Limits(cell_timeout=300), progress=False)
        serial_ours = time.perf_counter() - t
        print(f"  {serial_ours:.0f} s")
    if args.also_no_sandbox:
        print(f"`rnn-grade autograde --jobs {args.jobs} --sandbox none` ...", flush=True)
        bare = work / "rnn-grade-no-sandbox"
        if bare.exists():
            shutil.rmtree(bare)
        shutil.copytree(base, bare)
        t = time.perf_counter()
        autograde(Course(str(bare)), str(bare / "submitted"), jobs=args.jobs,
                  limits=Limits(cell_timeout=300), progress=False, sandbox="none")
        unsandboxed = time.perf_counter() - t
        print(f"  {unsandboxed:.0f} s   ratio {unsandboxed / serial:.2f} against serial nbgrader"
              f" (with the sandbox: {parallel / serial:.2f})")

    timed = [r.timings for r in results if r.timings.get("setup_s") is not None]
    split = {k: statistics.mean(t[k] for t in timed)
             for k in ("kernel_start_s", "setup_s", "student_s", "record_s")}
    per_nb = sum(split.values())
    imports = split["kernel_start_s"] + split["setup_s"]
    summary = {
        "notebooks": n, "jobs": args.jobs, "cpus": os.cpu_count(),
        "nbgrader_serial_s": round(serial, 1), "rnn_grade_s": round(parallel, 1),
        "ratio": round(parallel / serial, 3),
        "per_notebook_mean_s": {k: round(v, 2) for k, v in split.items()},
        "import_share": round(imports / per_nb, 3),
        "statuses": {s: sum(r.status == s for r in results) for s in {r.status for r in results}},
        "scores_disagreeing_with_nbgrader": disagree,
        "rnn_grade_jobs1_s": None if serial_ours is None else round(serial_ours, 1),
    }
    print()
    print(f"notebooks: {n}   workers: {args.jobs}   cores: {os.cpu_count()}")
    print(f"serial nbgrader autograde: {serial:7.1f} s")
    print(f"rnn-grade --jobs {args.jobs}:        {parallel:7.1f} s   ratio {parallel / serial:.2f}"
          f"  (goal <= 0.60)")
    print("per notebook (rnn-grade, mean): "
          f"kernel start {split['kernel_start_s']:.1f} s + set-up/imports {split['setup_s']:.1f} s"
          f" | student code + tests {split['student_s']:.1f} s | gradebook {split['record_s']:.1f}"
          f" s  -> kernel start + imports are {100 * imports / per_nb:.0f}% of a notebook")
    if serial_ours is not None:
        print(f"rnn-grade --jobs 1:        {serial_ours:7.1f} s   (pipeline alone, no parallelism)")
    compared = [r for r in results if r.student not in EXPECTED_DIFFERENCE]
    print(f"statuses: {summary['statuses']}; scores equal to nbgrader's: "
          f"{len(compared) - len(disagree)}/{len(compared)} (not compared: "
          + "; ".join(f"{k}: {v}" for k, v in EXPECTED_DIFFERENCE.items()) + ")")
    for line in disagree:
        print("  differs:", line)
    (work / "bench_grading.json").write_text(json.dumps(summary, indent=1))
    print(f"details: {work / 'bench_grading.json'}")


if __name__ == "__main__":
    main()
