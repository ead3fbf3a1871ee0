"""rnn-grade student-kit: what students get (autograder/course/student_kit.py builds it)."""

import sys
from pathlib import Path

NAME = "student-kit"
HELP = "write what students get: release notebooks, the kit's wheel (with rnn-check), a README"


def add_arguments(parser) -> None:
    parser.add_argument("out", type=Path, help="a new or empty folder for the kit")


def run(args) -> int:
    from ..course.student_kit import build_kit

    try:
        written = build_kit(args.out)
    except (FileExistsError, FileNotFoundError, RuntimeError) as problem:
        print(f"rnn-grade student-kit: {problem}", file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0
