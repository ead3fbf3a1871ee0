"""rnn-grade: grade a class with nbgrader from one command (see autograder/README.md).

    rnn-grade release                      build the student release of every assignment
    rnn-grade autograde SUBMISSIONS        grade a folder or zip of submissions, print the table
    rnn-grade feedback                     HTML feedback per student and assignment
    rnn-grade export                       CSV with a column per graded cell
    rnn-grade check NOTEBOOK               a student's self-check before submitting
    rnn-grade demo                         release, grade a sample class, show the table
"""

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

# Before anything can import TensorFlow: its start-up chatter goes to stderr.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

REPO = Path(__file__).resolve().parent.parent
DEMO_CASES = ["correct", "empty", "typical_mistake", "only_first_exercise", "invalid_json",
              "edited_test", "monkeypatch_numpy", "calls_what_it_implements", "infinite_loop",
              "kernel_exit", "reads_hidden_tests"]


def _course(path: str | None):
    from .course import Course

    if path is None:
        path = "course" if os.path.isdir(os.path.join("course", "source")) else REPO / "course"
    return Course(str(path))


def _limits(args):
    from .execute import Limits

    return Limits(cell_timeout=args.timeout, setup_timeout=args.setup_timeout,
                  notebook_timeout=args.notebook_timeout, memory_mb=args.memory_mb)


def _add_limits(p: argparse.ArgumentParser) -> None:
    p.add_argument("--timeout", type=float, default=60,
                   help="seconds per cell (default 60)")
    p.add_argument("--setup-timeout", type=float, default=300,
                   help="seconds per set-up cell, grade id setup_* (default 300: imports on a "
                        "busy machine must never cost points)")
    p.add_argument("--notebook-timeout", type=float, default=600,
                   help="seconds for all non-set-up cells of one notebook (default 600)")
    p.add_argument("--memory-mb", type=int, default=2048,
                   help="resident memory limit of one notebook's kernel in MB (default 2048)")


def _path_on_venv() -> None:
    # nbgrader shells out to alembic (gradebook migrations): it must be on PATH.
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def cmd_release(args) -> int:
    course = _course(args.course)
    course.release(args.assignments or None)
    for a in args.assignments or course.assignments:
        print(course.release_path(a))
    return 0


def _grade(course, submissions, args, feedback: bool):
    from . import report
    from .feedback import write_feedback
    from .grade import autograde

    started = time.monotonic()
    results = autograde(course, submissions, jobs=args.jobs, limits=_limits(args),
                        progress=not args.no_progress)
    print(report.table(results))
    csv_path = report.write_csv(results, args.csv or os.path.join(course.root, "grades.csv"))
    report.save_results(course, results)
    print(f"\n{len(results)} notebooks graded in {time.monotonic() - started:.0f} s "
          f"with {args.jobs or os.cpu_count()} workers; grade table: {csv_path}")
    if feedback:
        from dataclasses import asdict

        paths = [write_feedback(course, asdict(r)) for r in results]
        where = os.path.join(course.root, "feedback")
        print(f"feedback (HTML, one per student and assignment): {where}/<student>/<assignment>/"
              f" ({len(paths)} files)")
    return results


def cmd_autograde(args) -> int:
    _grade(_course(args.course), args.submissions, args, feedback=args.feedback)
    return 0


def cmd_feedback(args) -> int:
    from . import report
    from .feedback import write_feedback

    course = _course(args.course)
    results = report.load_results(course)
    if not results:
        print("nothing graded yet: run `rnn-grade autograde SUBMISSIONS` first", file=sys.stderr)
        return 1
    for r in results:
        if args.student in (None, r["student"]):
            print(write_feedback(course, r))
    return 0


def cmd_export(args) -> int:
    from . import report

    course = _course(args.course)
    print(report.export(course, args.out or os.path.join(course.root, "grades-export.csv")))
    return 0


def cmd_check(args) -> int:
    from .check import check

    report = check(_course(args.course), args.notebook, _limits(args))
    print(report.text())
    return 0 if report.ok else 1


def cmd_demo(args) -> int:
    from . import samples
    from .course import Course

    source = _course(args.course)
    out = Path(args.out).resolve()
    work = out / "course"
    if work.exists():
        shutil.rmtree(work)
    # A copy of the course, so the demo's sample students never enter the real gradebook.
    work.mkdir(parents=True)
    shutil.copytree(os.path.join(source.root, "source"), work / "source")
    shutil.copy(os.path.join(source.root, "nbgrader_config.py"), work / "nbgrader_config.py")
    course = Course(str(work))
    print(f"building the release of {', '.join(course.assignments)} in {work} ...")
    course.release()
    class_dir = out / "submissions"
    if class_dir.exists():
        shutil.rmtree(class_dir)
    first, *rest = course.assignments
    paths = samples.make_class(course, str(class_dir), [first], DEMO_CASES,
                               outside_file=str(out / "ESCAPED.txt"))
    paths += samples.make_class(course, str(class_dir), rest, ["correct"])
    print(f"grading a sample class of {len(paths)} notebooks from {class_dir} ...")
    args.csv = str(out / "grades.csv")
    _grade(course, str(class_dir), args, feedback=True)
    print(f"sample submissions: {class_dir}  (one per case, named <case>_<assignment>.ipynb)")
    return 0


def main(argv=None) -> int:
    _path_on_venv()
    parser = argparse.ArgumentParser(prog="rnn-grade", description=__doc__.split("\n")[0])
    parser.add_argument("--course", help="the nbgrader course folder (default: ./course)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("release", help="build the student release of every assignment")
    p.add_argument("assignments", nargs="*", help="only these (default: all)")
    p.set_defaults(func=cmd_release)

    for name, func, helptext in [
            ("autograde", cmd_autograde, "grade a folder or zip of submissions"),
            ("demo", cmd_demo, "release, grade a bundled sample class, print the table")]:
        p = sub.add_parser(name, help=helptext)
        if name == "autograde":
            p.add_argument("submissions", help="folder or .zip: submitted/<student>/<assignment>/"
                                               " or flat <student>_<assignment>.ipynb files")
            p.add_argument("--feedback", action="store_true", help="also write feedback HTML")
            p.add_argument("--csv", help="where to write the grade table (default "
                                         "<course>/grades.csv)")
        else:
            p.add_argument("--out", default="grading/demo",
                           help="working folder for the demo (default grading/demo)")
        p.add_argument("--jobs", "-j", type=int, default=None,
                       help="parallel worker processes (default: the number of cores)")
        p.add_argument("--no-progress", action="store_true", help="no progress bar")
        _add_limits(p)
        if name == "demo":
            p.set_defaults(timeout=20)  # the sample infinite loop costs one cell timeout
        p.set_defaults(func=func)

    p = sub.add_parser("feedback", help="write HTML feedback for the last graded class")
    p.add_argument("--student", help="only this student")
    p.set_defaults(func=cmd_feedback)

    p = sub.add_parser("export", help="CSV of every student's scores, a column per test cell")
    p.add_argument("--out", help="CSV path (default <course>/grades-export.csv)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("check", help="self-check one notebook before submitting")
    p.add_argument("notebook")
    _add_limits(p)
    p.set_defaults(func=cmd_check)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"rnn-grade: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
