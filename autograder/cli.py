"""rnn-grade: grade a class with nbgrader from one command (see autograder/README.md).

    rnn-grade release                      build the student release of every assignment
    rnn-grade autograde SUBMISSIONS        grade a folder or zip (Canvas, Moodle, nbgrader's
                                           layout), print the table
    rnn-grade feedback                     HTML feedback per student and assignment
    rnn-grade export                       CSV with a column per graded cell
    rnn-grade export --canvas ROSTER       CSV for Canvas's gradebook import (--moodle: Moodle's)
    rnn-grade similarity ASSIGNMENT        pairs of unusually similar answers (HTML, CSV)
    rnn-grade demo                         release, grade a sample class, show the table
    rnn-grade student-kit OUT              what students get: release, the kit's wheel, a README
    rnn-grade build [--check]              regenerate release/solutions from course/source (or
                                           list what drifted)

Each subcommand is a module of autograder/commands/, registered in ``commands()`` below.
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


def commands() -> list:
    """rnn-grade's subcommands, in the order ``--help`` lists them."""
    from .commands import (
        autograde,
        build,
        demo,
        export,
        feedback,
        release,
        similarity,
        student_kit,
    )

    return [release, autograde, feedback, export, similarity, demo, student_kit, build]


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="rnn-grade", description=__doc__.split("\n")[0])
    top.add_argument("--course", help="the nbgrader course folder (default: ./course)")
    sub = top.add_subparsers(dest="command", required=True)
    for command in commands():
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
