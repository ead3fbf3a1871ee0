"""rnn-grade similarity: pairs of submissions whose answers are unusually alike (computed here;
no code leaves this machine). Similarity is a reason to look, not a verdict."""

import os

from . import options

NAME = "similarity"
HELP = "report pairs of submissions with unusually similar answer code (HTML and CSV)"


def add_arguments(p) -> None:
    p.add_argument("assignment", help="the assignment to compare")
    p.add_argument("--submissions", metavar="PATH",
                   help="a download or folder to compare (mapped like autograde's; default: "
                        "the course's autograded/ notebooks, else submitted/)")
    p.add_argument("--lms", choices=["canvas", "moodle", "nbgrader", "flat"],
                   help="the layout of --submissions (default: recognised)")
    p.add_argument("--out", help="folder for the reports (default <course>/similarity)")
    p.add_argument("--show", type=float, default=0.3,
                   help="show pairs side by side from this similarity on (0-1, default 0.3)")


def run(args) -> int:
    from ..similarity import collect
    from ..similarity import run as compare

    course = options.course(args)
    if args.assignment not in course.assignments:
        raise ValueError(f"{args.assignment!r} is not an assignment of the course "
                         f"({', '.join(course.assignments)})")
    course.ensure_released([args.assignment])
    releases = {a: course.release_notebook(a) for a in course.assignments
                if os.path.exists(course.release_path(a))}
    notebooks = collect(course.root, args.assignment, args.submissions, releases,
                        course.assignments, args.lms)
    if len(notebooks) < 2:
        raise ValueError(f"{len(notebooks)} submission(s) of {args.assignment} found: nothing "
                         "to compare (grade them first, or give --submissions)")
    report = compare(args.assignment, notebooks, releases[args.assignment],
                     args.out or os.path.join(course.root, "similarity"), show=args.show)
    print(report.text())
    return 0
