"""Grading speed: rnn-grade with parallel workers against serial `nbgrader autograde`.

Builds a class of 5 submissions per assignment (20 for the four assignments: correct, empty,
partial, a deleted test cell, a typical mistake; all generated deterministically
from the course by tests/sample_class.py, none hostile, so plain nbgrader can grade them too), then
times, on copies of the same released course:

1. `nbgrader autograde <assignment> --force` for every assignment, one notebook after another
   (nbgrader's own command, the course's nbgrader_config.py, with ``RNN_GRADE_PLAIN_NBGRADER=1``
   so that it runs the hidden tests in the student's kernel as nbgrader does, instead of
   refusing the course);
2. `rnn-grade autograde` with ``--jobs`` workers (default 2) under ``--sandbox`` (default
   ``bwrap``: the run stops if bubblewrap cannot run, rather than timing something else);
3. optionally the same with ``--sandbox none`` and with one worker.

It prints total wall times, their ratio (goal: <= 0.6 with 2 workers on 2 cores), whether the
scores agree with nbgrader's, whether every typical-mistake notebook scored below full marks,
and the per-notebook split of rnn-grade's time into kernel start, set-up cells (imports), the
student's cells + tests and recording, with the share the import takes. The JSON it writes
(``--json``, default ``<work>/bench_grading.json``) holds every run's raw times (per assignment
for nbgrader, per notebook for rnn-grade, with status and score), the isolation each run was
under, the machine, its load and the versions. Self-contained; about 5-8 min on an idle
2-core machine.

    python benchmarks/bench_grading.py --also-no-sandbox   # the full class, 2 workers
    python benchmarks/bench_grading.py --quick             # correct + typical mistake only
    python benchmarks/bench_grading.py --tiny --quick      # the tiny test course: a smoke run
"""

import argparse
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

import provenance  # noqa: E402

import sample_class as samples  # noqa: E402
from autograder.course.folder import Course  # noqa: E402
from autograder.grading.batch import autograde  # noqa: E402
from autograder.grading.limits import Limits  # noqa: E402
from autograder.sandbox import isolation  # noqa: E402

PLAIN_NBGRADER = "RNN_GRADE_PLAIN_NBGRADER"  # autograder/preprocessors/refuse.py
# Only cases plain nbgrader can grade: a duplicated test cell, for one, makes
# `nbgrader autograde` 0.9.6 stop the whole assignment ("old version of the metadata format").
CASES = ["correct", "empty", "only_first_exercise", "deleted_test", "typical_mistake"]
QUICK_CASES = ["correct", "typical_mistake"]
# Where rnn-grade scores differently on purpose.
EXPECTED_DIFFERENCE = {"deleted_test": "nbgrader leaves a deleted test cell ungraded (0, 'needs "
                                       "manual grade'); rnn-grade restores and grades it"}


def build_class(course: Course, assignments: list[str], cases: list[str], out: Path) -> int:
    """Writes the class in nbgrader's layout, submitted/<student>/<assignment>/<assignment>."""
    flat = out / "flat"
    paths = samples.make_class(course, str(flat), assignments, cases)
    for path in map(Path, paths):
        for a in assignments:
            if path.stem.endswith("_" + a):
                student = path.stem[: -len(a) - 1]
                target = out / "submitted" / student / a / f"{a}.ipynb"
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(path, target)
    shutil.rmtree(flat)
    return len(paths)


def fresh_copy(base: Path, where: Path) -> Path:
    if where.exists():
        shutil.rmtree(where)
    shutil.copytree(base, where)
    return where


def time_nbgrader(course_dir: Path, assignments: list[str]) -> dict:
    """One `nbgrader autograde` per assignment, in turn: the run's record, scores included."""
    from nbgrader.api import Gradebook

    # The course's config refuses plain `nbgrader autograde` (its hidden checks run in
    # rnn-grade's judge); this variable lets nbgrader run them in the kernel, its own design.
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               **{PLAIN_NBGRADER: "1"})
    per_assignment = {}
    started = time.perf_counter()
    for a in assignments:
        t = time.perf_counter()
        proc = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "autograde", a,
                               "--force"], cwd=course_dir, env=env, capture_output=True,
                              text=True)
        if proc.returncode != 0:
            print(proc.stdout[-2000:], proc.stderr[-2000:], file=sys.stderr)
            raise SystemExit(f"nbgrader autograde {a} failed")
        per_assignment[a] = round(time.perf_counter() - t, 2)
    wall = time.perf_counter() - started
    notebooks = []
    with Gradebook(f"sqlite:///{course_dir / 'gradebook.db'}") as gb:
        for a in assignments:
            for sub in gb.assignment_submissions(a):
                nb = gb.find_submission_notebook(a, a, sub.student_id)
                notebooks.append({"student": sub.student_id, "assignment": a,
                                  "score": nb.score, "max_score": nb.max_score})
    return {"name": "nbgrader autograde, serial", "isolation": {"mode": "none",
            "why": "plain nbgrader runs kernels without an OS sandbox"},
            "environment": {PLAIN_NBGRADER: "1"},
            "wall_s": round(wall, 2), "per_assignment_s": per_assignment,
            "notebooks": sorted(notebooks, key=lambda n: (n["assignment"], n["student"]))}


def time_rnn_grade(course_dir: Path, jobs: int, iso: isolation.Isolation) -> dict:
    """`rnn-grade autograde` under the isolation ``iso``: the run's record."""
    started = time.perf_counter()
    results = autograde(Course(str(course_dir)), str(course_dir / "submitted"), jobs=jobs,
                        limits=Limits(cell_timeout=300), progress=False, sandbox=iso)
    wall = time.perf_counter() - started
    return {"name": f"rnn-grade autograde --jobs {jobs} --sandbox {iso.mode}", "jobs": jobs,
            "isolation": provenance.isolation(iso), "wall_s": round(wall, 2),
            "notebooks": [{"student": r.student, "assignment": r.assignment, "status": r.status,
                           "score": r.score, "max_score": r.max_score, "timings": r.timings}
                          for r in sorted(results, key=lambda r: (r.assignment, r.student))]}


def mean_split(run: dict) -> dict:
    """Mean seconds per notebook of each timed part rnn-grade records (every key it has)."""
    timed = [n["timings"] for n in run["notebooks"] if n["timings"].get("setup_s") is not None]
    keys = sorted({k for t in timed for k in t if isinstance(t[k], (int, float))})
    return {k: round(statistics.mean(t.get(k, 0.0) for t in timed), 2) for k in keys}


def disagreements(ours: dict, nbgrader: dict) -> list[str]:
    theirs = {(n["student"], n["assignment"]): n["score"] for n in nbgrader["notebooks"]}
    return [f"{n['student']}/{n['assignment']}: rnn-grade {n['score']}, nbgrader "
            f"{theirs.get((n['student'], n['assignment']))}"
            for n in ours["notebooks"] if n["student"] not in EXPECTED_DIFFERENCE
            and n["score"] != theirs.get((n["student"], n["assignment"]))]


def mistakes_missed(run: dict) -> list[str]:
    """Typical-mistake notebooks that scored full marks (each one has a real mistake)."""
    return [f"{n['assignment']}: {n['score']}/{n['max_score']}" for n in run["notebooks"]
            if n["student"] == "typical_mistake" and n["score"] == n["max_score"]]


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=2, help="rnn-grade workers (default 2)")
    parser.add_argument("--quick", action="store_true",
                        help=f"only {' and '.join(QUICK_CASES)} per assignment")
    parser.add_argument("--tiny", action="store_true",
                        help="the tiny test course (tests/fixtures/tiny_course), no TensorFlow")
    parser.add_argument("--assignments", nargs="+", metavar="NAME",
                        help="grade only these assignments (default: all of the course)")
    parser.add_argument("--sandbox", choices=isolation.MODES, default="bwrap",
                        help="isolation of the timed rnn-grade run (default bwrap; auto falls "
                             "back to none where bubblewrap cannot run, and the JSON says so)")
    parser.add_argument("--out", help="keep the work folder here (default: a temporary one)")
    parser.add_argument("--json", help="write the record here (default <work>/bench_grading.json)")
    parser.add_argument("--also-serial", action="store_true",
                        help="also time rnn-grade --jobs 1 (adds a few minutes)")
    parser.add_argument("--also-no-sandbox", action="store_true",
                        help="also time rnn-grade --jobs N --sandbox none, to see what the "
                             "bubblewrap sandbox costs (adds a minute or two)")
    args = parser.parse_args(argv)
    cases = QUICK_CASES if args.quick else CASES
    iso = isolation.choose(args.sandbox, warn=False)
    print(iso.summary())

    work = Path(args.out or tempfile.mkdtemp(prefix="rnn-grade-bench-")).resolve()
    base = work / "released"
    if base.exists():
        shutil.rmtree(base)
    if args.tiny:
        shutil.copytree(REPO / "tests" / "fixtures" / "tiny_course", base)
    else:
        base.mkdir(parents=True)
        shutil.copytree(REPO / "course" / "source", base / "source")
        shutil.copy(REPO / "course" / "nbgrader_config.py", base)
    course = Course(str(base))
    assignments = args.assignments or course.assignments
    unknown = sorted(set(assignments) - set(course.assignments))
    if unknown:
        parser.error(f"no such assignment: {', '.join(unknown)} (the course has "
                     f"{', '.join(course.assignments)})")
    t = time.perf_counter()
    course.build_release()  # every assignment: rnn-grade would release the others inside its timing
    release_s = time.perf_counter() - t
    print(f"released {', '.join(course.assignments)} in {release_s:.0f} s")
    n = build_class(course, assignments, cases, base)
    print(f"class: {n} submissions ({len(cases)} per assignment: {', '.join(cases)})")
    record = provenance.header(__file__, sys.argv[1:] if argv is None else argv)
    record.update({"course": "tiny test course" if args.tiny else "course/source",
                   "assignments": assignments, "cases": cases, "notebooks": n,
                   "release_s": round(release_s, 2), "runs": []})

    print("serial `nbgrader autograde` ...", flush=True)
    nbgrader = time_nbgrader(fresh_copy(base, work / "nbgrader"), assignments)
    record["runs"].append(nbgrader)
    print(f"  {nbgrader['wall_s']:.0f} s ({nbgrader['wall_s'] / n:.1f} s per notebook)")

    variants = [(args.jobs, iso)]
    if args.also_no_sandbox and iso.mode != "none":
        variants.append((args.jobs, isolation.choose("none")))
    if args.also_serial:
        variants.append((1, iso))
    for jobs, how in variants:
        name = f"rnn-grade autograde --jobs {jobs} --sandbox {how.mode}"
        print(f"`{name}` ...", flush=True)
        run = time_rnn_grade(fresh_copy(base, work / f"rnn-grade-{jobs}-{how.mode}"), jobs, how)
        run["ratio_to_nbgrader"] = round(run["wall_s"] / nbgrader["wall_s"], 3)
        run["mean_per_notebook_s"] = mean_split(run)
        run["scores_disagreeing_with_nbgrader"] = disagreements(run, nbgrader)
        run["typical_mistakes_at_full_marks"] = mistakes_missed(run)
        record["runs"].append(run)
        print(f"  {run['wall_s']:.0f} s   ratio {run['ratio_to_nbgrader']:.2f} against serial "
              "nbgrader")

    main_run = record["runs"][1]
    split = main_run["mean_per_notebook_s"]
    per_nb = sum(split.values())
    imports = split.get("kernel_start_s", 0.0) + split.get("setup_s", 0.0)
    record["ratio"] = main_run["ratio_to_nbgrader"]
    record["import_share"] = round(imports / per_nb, 3) if per_nb else None
    # The judge's own seconds per notebook (hidden checks in the grading process, its calls into
    # the kernel included); its TensorFlow import is paid once per worker, in the first notebook.
    record["judge_s_per_notebook"] = split.get("judge_s")
    print()
    print(f"notebooks: {n}   workers: {args.jobs}   cores: {os.cpu_count()}   load average now "
          + ", ".join(f"{x:.1f}" for x in os.getloadavg()))
    for run in record["runs"]:
        ratio = f"   ratio {run['ratio_to_nbgrader']:.2f}" if "ratio_to_nbgrader" in run else ""
        print(f"{run['name']:<46} {run['wall_s']:7.1f} s{ratio}   [{run['isolation']['mode']}]")
    print("per notebook (rnn-grade, mean): " + ", ".join(f"{k} {v:.2f}" for k, v in split.items())
          + f"  -> kernel start + imports are {100 * (record['import_share'] or 0):.0f}%")
    if record["judge_s_per_notebook"] is not None:
        print(f"judge (hidden checks outside the kernel): {record['judge_s_per_notebook']:.2f} s "
              "per notebook, mean")
    compared = [x for x in main_run["notebooks"] if x["student"] not in EXPECTED_DIFFERENCE]
    statuses = {s: sum(x["status"] == s for x in main_run["notebooks"])
                for s in sorted({x["status"] for x in main_run["notebooks"]})}
    print(f"statuses: {statuses}; scores equal to nbgrader's: "
          f"{len(compared) - len(main_run['scores_disagreeing_with_nbgrader'])}/{len(compared)}"
          " (not compared: " + "; ".join(f"{k}: {v}" for k, v in EXPECTED_DIFFERENCE.items())
          + ")")
    for line in main_run["scores_disagreeing_with_nbgrader"]:
        print("  differs:", line)
    if "typical_mistake" in cases:
        missed = main_run["typical_mistakes_at_full_marks"]
        print("typical mistakes scored below full marks in every assignment" if not missed
              else "typical mistakes at FULL marks: " + "; ".join(missed))
    path = provenance.write(args.json or work / "bench_grading.json", record)
    print(f"details: {path}")
    return record


if __name__ == "__main__":
    main()
