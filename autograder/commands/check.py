"""rnn-grade check: a student's self-check of one notebook (exit 1 if a visible test fails)."""

from . import options

NAME = "check"
HELP = "self-check one notebook before submitting"


def add_arguments(p) -> None:
    p.add_argument("notebook")
    options.add_limits(p)


def run(args) -> int:
    from ..check import check

    report = check(options.course(args), args.notebook, options.limits(args))
    print(report.text())
    return 0 if report.ok else 1
