"""rnn-grade autograde: grade a folder or zip of submissions, print the table, write the CSV."""

import os
import time
from dataclasses import asdict

from . import options

NAME = "autograde"
HELP = "grade a folder or zip of submissions"


def add_arguments(p) -> None:
    p.add_argument("submissions", help="folder or .zip: submitted/<student>/<assignment>/"
                                       " or flat <student>_<assignment>.ipynb files")
    p.add_argument("--feedback", action="store_true", help="also write feedback HTML")
    p.add_argument("--csv", help="where to write the grade table (default <course>/grades.csv)")
    options.add_workers(p)
    options.add_limits(p)


def grade_class(course, submissions: str, args, feedback: bool, **engine):
    """Grades, prints the table, writes the CSV and results file (and feedback); the Results.

    ``engine``: ``executor``/``dispatch`` for ``grade.autograde`` (default: local workers).
    """
    from .. import report
    from ..feedback import write_feedback
    from ..grade import autograde

    started = time.monotonic()
    results = autograde(course, submissions, jobs=args.jobs, limits=options.limits(args),
                        progress=not args.no_progress, **engine)
    print(report.table(results))
    csv_path = report.write_csv(results, args.csv or os.path.join(course.root, "grades.csv"))
    report.save_results(course, results)
    print(f"\n{len(results)} notebooks graded in {time.monotonic() - started:.0f} s "
          f"with {args.jobs or os.cpu_count()} workers; grade table: {csv_path}")
    if feedback:
        paths = write_feedback(course, [asdict(r) for r in results])
        where = os.path.join(course.root, course.coursedir.feedback_directory)
        print(f"feedback (HTML, one per student and assignment): {where}/<student>/<assignment>/"
              f" ({len(paths)} files)")
    return results


def run(args) -> int:
    grade_class(options.course(args), args.submissions, args, feedback=args.feedback)
    return 0
