"""rnn-grade release: nbgrader generate_assignment for every assignment (or those named)."""

from . import options

NAME = "release"
HELP = "build the student release of every assignment"


def add_arguments(p) -> None:
    p.add_argument("assignments", nargs="*", help="only these (default: all)")


def run(args) -> int:
    course = options.course(args)
    course.build_release(args.assignments or None)
    for a in args.assignments or course.assignments:
        print(course.release_path(a))
    return 0
