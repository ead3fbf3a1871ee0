"""rnn-grade export: one CSV row per student, a column per graded cell."""

import os

from . import options

NAME = "export"
HELP = "CSV of every student's scores, a column per test cell"


def add_arguments(p) -> None:
    p.add_argument("--out", help="CSV path (default <course>/grades-export.csv)")


def run(args) -> int:
    from .. import report

    course = options.course(args)
    print(report.export(course, args.out or os.path.join(course.root, "grades-export.csv")))
    return 0
