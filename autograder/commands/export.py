"""rnn-grade export: the grades as CSV, for a spreadsheet or for Canvas's / Moodle's import."""

import os

from . import options

NAME = "export"
HELP = "CSV of every student's scores (a column per test cell), or for Canvas / Moodle"


def add_arguments(p) -> None:
    p.add_argument("--out", help="CSV path (default <course>/grades-export.csv, "
                                 "canvas-grades.csv or moodle-grades.csv)")
    lms = p.add_mutually_exclusive_group()
    lms.add_argument("--canvas", metavar="ROSTER.csv",
                     help="write for Canvas's gradebook import; ROSTER is Canvas's gradebook "
                          "export (its columns and assignment ids are reused)")
    lms.add_argument("--moodle", metavar="ROSTER.csv",
                     help="write for Moodle's 'Import grades: CSV file'; ROSTER is the grading "
                          "worksheet or a participants export (identifies the students)")
    p.add_argument("--assignment", action="append", dest="assignments", metavar="ASSIGNMENT",
                   help="only this assignment (repeatable; default: every assignment)")
    p.add_argument("--column", action="append", default=[], metavar="ASSIGNMENT=TITLE",
                   help="the LMS column for an assignment, e.g. rnn1_forward='Forward pass "
                        "(1234)' (default: the roster's column of the same title, else a new one)")
    p.add_argument("--points-possible", action="store_true",
                   help="Canvas: add the Points Possible row (it sets the assignments' points)")


def run(args) -> int:
    course = options.course(args)
    if not (args.canvas or args.moodle):
        from ..exports.course_csv import write

        print(write(course, args.out or os.path.join(course.root, "grades-export.csv")))
        return 0
    from ..exports.grades import grades
    from ..exports.lms_csv import canvas_csv, moodle_csv
    from ..lms import canvas, moodle

    columns = dict(c.split("=", 1) for c in args.column if "=" in c)
    bad = [c for c in args.column if "=" not in c]
    if bad:
        raise ValueError(f"--column {bad[0]!r}: write it as ASSIGNMENT=TITLE")
    found = grades(course, args.assignments)
    if args.canvas:
        out = args.out or os.path.join(course.root, "canvas-grades.csv")
        summary = canvas_csv(canvas.read_roster(args.canvas), found, out, args.assignments,
                             columns, args.points_possible)
    else:
        out = args.out or os.path.join(course.root, "moodle-grades.csv")
        summary = moodle_csv(moodle.read_roster(args.moodle), found, out, args.assignments,
                             columns)
    print(summary.text())
    return 0
