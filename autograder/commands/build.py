"""rnn-grade build: regenerate what the course derives from its source, or (--check) list what
drifted (autograder/course/build.py)."""

from pathlib import Path

from . import options

NAME = "build"
HELP = "regenerate the release, the executed solutions and their run times from course/source"


def add_arguments(p) -> None:
    p.add_argument("--check", action="store_true",
                   help="change nothing; exit 1 and list what drifted from course/source")
    p.add_argument("--solutions", type=Path, default=None,
                   help="where the executed solutions go (default: solutions/ beside the course)")
    p.add_argument("assignment", nargs="*", help="only these assignments (default: all)")


def run(args) -> int:
    from ..course.build import build, find_drift

    course = Path(options.course(args).root)
    solutions = args.solutions or course.parent / "solutions"
    if args.check:
        problems = find_drift(course, solutions)
        for problem in problems:
            print(f"drift: {problem}")
        if problems:
            print("Regenerate with: rnn-grade build")
            return 1
        print("release/ and solutions/ match course/source.")
        return 0
    build(course, solutions, args.assignment or None)
    return 0
