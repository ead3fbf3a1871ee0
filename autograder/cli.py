"""rnn-grade: grade a class with nbgrader from one command (see autograder/README.md).

    rnn-grade release                      build the student release of every assignment
    rnn-grade autograde SUBMISSIONS        grade a folder or zip (Canvas, Moodle, nbgrader's
                                           layout), print the table
    rnn-grade feedback                     HTML feedback per student and assignment
    rnn-grade export                       CSV with a column per graded cell
    rnn-grade export --canvas ROSTER       CSV for Canvas's gradebook import (--moodle: Moodle's)
    rnn-grade similarity ASSIGNMENT        pairs of unusually similar answers (HTML, CSV)
    rnn-grade check NOTEBOOK               a student's self-check before submitting
    rnn-grade demo                         release, grade a sample class, show the table

Each subcommand is a module of autograder/commands/, registered in its ``COMMANDS`` list.
"""

import argparse
import os
import sys

from rnn_course_student.environment import quiet_tensorflow

quiet_tensorflow()  # before anything can import TensorFlow: its start-up chatter goes to stderr


def _path_on_venv() -> None:
    # nbgrader shells out to alembic (gradebook migrations): it must be on PATH.
    bin_dir = os.path.dirname(sys.executable)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")


def parser() -> argparse.ArgumentParser:
    from .commands import COMMANDS

    top = argparse.ArgumentParser(prog="rnn-grade", description=__doc__.split("\n")[0])
    top.add_argument("--course", help="the nbgrader course folder (default: ./course)")
    sub = top.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        p = sub.add_parser(command.NAME, help=command.HELP, description=command.HELP)
        command.add_arguments(p)
        p.set_defaults(func=command.run)
    return top


def main(argv=None) -> int:
    _path_on_venv()
    args = parser().parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"rnn-grade: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
