"""Cluster overhead: the local process pool against a Dask LocalCluster with as many workers.

Releases the course, builds a class from tests/sample_class.py (honest cases: correct, empty,
partial, a typical mistake), then grades two copies of the same released course with
``grade.autograde``: once on the local pool of ``--jobs`` processes, once on a Dask LocalCluster
of ``--jobs`` worker processes (the path ``--scheduler tcp://...`` takes on a real cluster:
tasks pickled to the scheduler, run by worker processes, results sent back). The cluster is
started before the clock starts (a real cluster is already running), and its start-up is
printed apart. Both engines grade under the same ``--sandbox`` (default ``bwrap``: the run
stops where bubblewrap cannot run rather than timing something else). Prints wall times, the
overhead per notebook (goal: <= 5% of a notebook) and whether the two runs gave the same scores
and statuses; the JSON (``--json``, default ``<work>/bench_cluster.json``) has every run's wall
time and every notebook's timings, the isolation, the machine, its load and the versions.

    python benchmarks/bench_cluster.py                 # the course, 4 cases x 4 assignments
    python benchmarks/bench_cluster.py --quick         # 2 cases x 4 assignments
    python benchmarks/bench_cluster.py --tiny --quick  # the tiny fixture course (no TensorFlow)
    python benchmarks/bench_cluster.py --repeat 2      # alternate pool/Dask runs, take the best
"""

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))  # the sample class is test data

from rnn_course_student.environment import quiet_tensorflow  # noqa: E402

quiet_tensorflow()

import provenance  # noqa: E402

import sample_class as samples  # noqa: E402
from autograder import engines  # noqa: E402
from autograder.course.folder import Course  # noqa: E402
from autograder.grading.batch import autograde  # noqa: E402
from autograder.grading.limits import Limits  # noqa: E402
from autograder.sandbox import isolation  # noqa: E402

CASES = ["correct", "empty", "only_first_exercise", "typical_mistake"]
TINY_CASES = ["correct", "empty", "only_first_exercise", "kernel_exit"]


def release(tiny: bool, work: Path) -> tuple[Course, Path, int]:
    base = work / "released"
    if base.exists():
        shutil.rmtree(base)
    if tiny:
        shutil.copytree(REPO / "tests" / "fixtures" / "tiny_course", base)
    else:
        base.mkdir(parents=True)
        shutil.copytree(REPO / "course" / "source", base / "source")
        shutil.copy(REPO / "course" / "nbgrader_config.py", base)
    course = Course(str(base))
    course.build_release()
    paths = samples.make_class(course, str(work / "class"), course.assignments,
                               (TINY_CASES if tiny else CASES)[:2 if args.quick else None])
    return course, work / "class", len(paths)


def grade(base: Path, copy: Path, submissions: Path, jobs: int, sandbox: str, engine=None):
    if copy.exists():
        shutil.rmtree(copy)
    shutil.copytree(base, copy)
    started = time.perf_counter()
    results = autograde(Course(str(copy)), str(submissions), jobs=jobs, progress=False,
                        limits=Limits(cell_timeout=300), engine=engine, sandbox=sandbox)
    return time.perf_counter() - started, results


def main() -> None:
    iso = isolation.choose(args.sandbox, warn=False)
    print(iso.summary())
    record = provenance.header(__file__, sys.argv[1:])
    work = Path(args.out or tempfile.mkdtemp(prefix="rnn-grade-bench-cluster-")).resolve()
    work.mkdir(parents=True, exist_ok=True)
    course, submissions, n = release(args.tiny, work)
    print(f"class: {n} notebooks of {', '.join(course.assignments)}; {args.jobs} workers; "
          f"{os.cpu_count()} cores", flush=True)

    started = time.perf_counter()
    cluster = engines.start(f"local:{args.jobs}")
    # Workers import the grading code once (a pool's forked processes inherit it): not timed.
    cluster.prepare("autograder.grading.pipeline")
    cluster_start = time.perf_counter() - started
    print(f"LocalCluster of {args.jobs} workers started and its workers' imports done in "
          f"{cluster_start:.1f} s", flush=True)
    pool_s, dask_s = [], []
    try:
        for i in range(args.repeat):
            for engine in ("pool", "dask") if i % 2 == 0 else ("dask", "pool"):  # alternate
                if engine == "pool":
                    t, by_pool = grade(Path(course.root), work / "pool", submissions, args.jobs,
                                       iso.mode)
                    pool_s.append(t)
                else:
                    t, by_dask = grade(Path(course.root), work / "dask", submissions, args.jobs,
                                       iso.mode, cluster)
                    dask_s.append(t)
                print(f"  run {i + 1}: {engine:5} {t:6.1f} s", flush=True)
    finally:
        cluster.close()

    def verdicts(results):
        return [(r.student, r.assignment, r.status, r.score) for r in results]

    def split(results):  # mean seconds a notebook spends in each part, wherever it ran
        timed = [r.timings for r in results if "kernel_start_s" in r.timings]
        return {k: round(statistics.mean(t.get(k, 0.0) for t in timed), 2)
                for k in ("kernel_start_s", "setup_s", "student_s", "record_s")}

    pool, dask = min(pool_s), min(dask_s)
    per_nb = (dask - pool) / n
    share = (dask - pool) / pool
    def notebooks(results):
        return [{"student": r.student, "assignment": r.assignment, "status": r.status,
                 "score": r.score, "timings": r.timings}
                for r in sorted(results, key=lambda r: (r.assignment, r.student))]

    summary = {**record, "isolation": provenance.isolation(iso), "notebooks": n,
               "jobs": args.jobs, "pool_s": [round(t, 2) for t in pool_s],
               "dask_s": [round(t, 2) for t in dask_s], "cluster_start_s": round(cluster_start, 1),
               "overhead_per_notebook_s": round(per_nb, 2), "overhead_share": round(share, 3),
               "same_verdicts": verdicts(by_pool) == verdicts(by_dask),
               "per_notebook_pool": split(by_pool), "per_notebook_dask": split(by_dask),
               "notebooks_pool": notebooks(by_pool), "notebooks_dask": notebooks(by_dask)}
    print()
    print(f"local pool ({args.jobs} processes):       {pool:7.1f} s  ({pool / n:.2f} s a notebook)")
    print(f"Dask LocalCluster ({args.jobs} workers):  {dask:7.1f} s  ({dask / n:.2f} s a notebook)")
    print(f"overhead: {per_nb:+.2f} s per notebook, {100 * share:+.1f}% (goal <= 5%); "
          f"cluster start-up and imports {cluster_start:.1f} s once, not counted")
    for name, parts in (("pool", summary["per_notebook_pool"]),
                        ("Dask", summary["per_notebook_dask"])):
        print(f"  per notebook on {name:4}: " + ", ".join(f"{k} {v:.2f}" for k, v in parts.items()))
    print(f"same statuses and scores: {summary['same_verdicts']}; "
          f"load average {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"details: {provenance.write(args.json or work / 'bench_cluster.json', summary)}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="workers of each engine (default 2)")
    parser.add_argument("--tiny", action="store_true", help="the tiny fixture course")
    parser.add_argument("--quick", action="store_true", help="2 cases per assignment")
    parser.add_argument("--repeat", type=int, default=1, help="runs of each engine (best kept)")
    parser.add_argument("--sandbox", choices=isolation.MODES, default="bwrap",
                        help="isolation of both engines' kernels (default bwrap; auto falls back "
                             "to none where bubblewrap cannot run, and the JSON says so)")
    parser.add_argument("--out", help="keep the work folder here (default: a temporary one)")
    parser.add_argument("--json", help="write the record here (default <work>/bench_cluster.json)")
    args = parser.parse_args()
    main()
