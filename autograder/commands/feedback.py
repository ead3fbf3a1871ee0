"""rnn-grade feedback: HTML per student and assignment for the last graded class."""

import sys

from . import options

NAME = "feedback"
HELP = "write HTML feedback for the last graded class"


def add_arguments(p) -> None:
    p.add_argument("--student", help="only this student")


def run(args) -> int:
    from .. import results as results_file
    from ..feedback.pages import write_feedback

    course = options.course(args)
    results = results_file.load(course.root)
    if not results:
        print("nothing graded yet: run `rnn-grade autograde SUBMISSIONS` first", file=sys.stderr)
        return 1
    chosen = [r for r in results if args.student in (None, r.student)]
    if not chosen:
        print(f"no graded submission of student {args.student!r}", file=sys.stderr)
        return 1
    for path in write_feedback(course, chosen):
        print(path)
    return 0
