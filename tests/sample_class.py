"""The test suite's sample class: the course's (course_checks/sample_class.py), with the typical
mistakes and the impostor answer of the tiny test course (tests/fixtures/tiny_course) added, so
that the same cases grade either course."""

from course_checks import sample_class as course_class
from course_checks.sample_class import CASES, correct_notebook, manifest  # noqa: F401

MISTAKES = course_class.MISTAKES + [
    ("square doubled instead", "return np.asarray(x) ** 2", "return np.asarray(x) * 2"),
    ("double squared instead", "return 2 * x", "return x * x"),
]
CALLS_WHAT_IT_IMPLEMENTS = {
    **course_class.CALLS_WHAT_IT_IMPLEMENTS,
    "square": "from numpy import square as sq\ndef square(x):\n    return sq(x)\n",
}


def mistakes_in(nb) -> list[str]:
    return course_class.mistakes_in(nb, MISTAKES)


def make_class(course, out_dir: str, assignments=None, cases=None, outside_file=None) -> list:
    return course_class.make_class(course, out_dir, assignments, cases, outside_file,
                                   mistakes=MISTAKES, impostors=CALLS_WHAT_IT_IMPLEMENTS)
