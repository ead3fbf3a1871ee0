"""Plain `nbgrader autograde` refuses this course: its hidden checks run in rnn-grade's judge,
outside the student's kernel, so nbgrader alone would grade only what the kernel can see.

Set first in `Autograde.sanitize_preprocessors` by course/nbgrader_config.py. The variable
`RNN_GRADE_PLAIN_NBGRADER=1` lets nbgrader run anyway, the hidden tests inside the student's
kernel (the design a student's code can read): for timing baselines and the tests that show what
that design leaks, never for grades.
"""

import os

from nbgrader.preprocessors import NbGraderPreprocessor

ALLOW = "RNN_GRADE_PLAIN_NBGRADER"
MESSAGE = (
    "this course is graded with `rnn-grade autograde`, not `nbgrader autograde`: its hidden "
    "checks run in rnn-grade's judge, outside the student's kernel, and nbgrader alone would "
    "grade only the visible part (run `rnn-grade autograde <submissions>` from the repository; "
    f"{ALLOW}=1 runs nbgrader with the hidden tests in the student's kernel, for timing "
    "baselines only)."
)


class PlainAutogradeRefused(Exception):
    """nbgrader autograde was run on a course graded by rnn-grade's judge."""


class RefusePlainAutograde(NbGraderPreprocessor):
    """Stops `nbgrader autograde` before anything runs, naming rnn-grade."""

    def preprocess(self, nb, resources):
        if os.environ.get(ALLOW) == "1":
            return nb, resources
        raise PlainAutogradeRefused(MESSAGE)
