"""rnn-grade autograde: grade a folder or zip of submissions, print the table, write the CSV."""

import os
import sys
import time

from .. import engines
from ..lms import intake as lms_options
from . import options

NAME = "autograde"
HELP = "grade a folder or zip of submissions"


def add_arguments(p) -> None:
    p.add_argument("submissions", help="folder or .zip: submitted/<student>/<assignment>/"
                                       " or flat <student>_<assignment>.ipynb files")
    p.add_argument("--feedback", action="store_true", help="also write feedback HTML")
    p.add_argument("--csv", help="where to write the grade table (default <course>/grades.csv)")
    lms_options.add_arguments(p)
    options.add_workers(p)
    engines.add_arguments(p)
    options.add_limits(p)
    options.add_sandbox(p)
    # Not given: each assignment's budget comes from its solution's run time (budget.py).
    p.set_defaults(notebook_timeout=None)


def grade_class(course, submissions, args, feedback: bool, not_submitted=()):
    """Grades, prints the table, writes the CSV and results file (and feedback); the Results.

    The sandbox (``--sandbox``) and the engine (``--jobs``, ``--scheduler``) are chosen here,
    once for the run, and handed to grading.
    ``submissions``: a folder or zip, or Submissions already mapped (autograder/lms);
    ``not_submitted``: Results without a score for roster students who sent nothing.
    """
    from .. import results as results_file
    from ..course import budget
    from ..feedback.pages import write_feedback
    from ..grading import table
    from ..grading.batch import GradingStopped, autograde
    from ..grading.limits import Limits
    from ..sandbox import isolation

    started = time.monotonic()
    sandbox = isolation.choose(getattr(args, "sandbox", "auto"), warn=False)
    print(sandbox.summary())
    if sandbox.warning():
        print(sandbox.warning(), file=sys.stderr)
    derive = getattr(args, "notebook_timeout", None) is None
    if derive:
        args.notebook_timeout = Limits.notebook_timeout
    limits = options.limits(args)
    budgets = None
    if derive:
        budgets, lines = budget.budgets(course.root, course.assignments, limits.notebook_timeout)
        print("notebook budgets (student code of one notebook):")
        print("\n".join("  " + line for line in lines))
    engine = engines.from_arguments(args)
    try:
        results = autograde(course, submissions, limits=limits, engine=engine,
                            progress=not args.no_progress, sandbox=sandbox,
                            budgets=budgets, resume=getattr(args, "resume", False))
    except GradingStopped as stopped:  # what was graded is in the gradebook: show and keep it
        print(table.table(stopped.results))
        results_file.save(course.root, stopped.results)
        raise
    finally:
        engine.close()
    graded, results = results, results + list(not_submitted)
    print(table.table(results))
    csv_path = table.write_csv(results, args.csv or os.path.join(course.root, "grades.csv"))
    results_file.save(course.root, results)
    print(f"\n{len(results)} notebooks graded in {time.monotonic() - started:.0f} s "
          f"on {engine.description}; grade table: {csv_path}")
    if feedback:
        paths = write_feedback(course, graded)
        where = os.path.join(course.root, course.coursedir.feedback_directory)
        print(f"feedback (HTML, one per student and assignment): {where}/<student>/<assignment>/"
              f" ({len(paths)} files)")
    return results


def run(args) -> int:
    course = options.course(args)
    # Every file of the download mapped to a student and an assignment, or listed: before grading.
    mapping = lms_options.map_submissions(course, args.submissions, args.lms, args.roster,
                                          args.expected)
    from ..grading.batch import GradingStopped

    try:
        grade_class(course, mapping.to_submissions(), args, feedback=args.feedback,
                    not_submitted=lms_options.not_submitted(mapping, course))
    except GradingStopped as stopped:
        print(f"rnn-grade: grading stopped: {stopped}. Rerun with --resume to grade the rest.",
              file=sys.stderr)
        return 1
    return 0
