"""nbgrader settings for the rnn-course (only what differs from nbgrader's defaults).

Run nbgrader from this folder (`cd course && nbgrader generate_assignment rnn1_forward`), or use
`rnn-grade build` from the repository root, which regenerates every release.
"""

c = get_config()  # noqa: F821 (traitlets provides get_config when it loads this file)

# Names the course in the gradebook and in the exchange.
c.CourseDirectory.course_id = "rnn-course"

# The course's rules for answers, which rnn-grade applies (autograder/course/policy.py): the calls
# each assignment may not make, and the check helpers its runtime guard keeps students from
# replacing.
c.CoursePolicy.module = "course_checks.policy"

# A cell may take minutes on a loaded machine: importing TensorFlow alone is ~5 s on an idle one,
# and a too-short limit scores a correct notebook 0 (nbgrader's default is 30 s).
c.Execute.timeout = 300

# nbgrader scores a test cell that writes anything to stderr as 0, and TensorFlow's C++ runtime
# logs to stderr unless quieted before it is imported. Kernels inherit nbgrader's environment,
# so doing it here covers a set-up cell that a student has broken as well.
from rnn_course_student.environment import quiet_tensorflow  # noqa: E402

quiet_tensorflow(override=True)

# `nbgrader generate_feedback` (and the formgrader's feedback button) would show the hidden tests
# and quote them in tracebacks: the same steps as rnn-grade's feedback remove them. A student's
# own cell that quotes the hidden-test markers must not stop the feedback.
from autograder.feedback.pages import FEEDBACK_PREPROCESSORS  # noqa: E402

c.GenerateFeedback.preprocessors = FEEDBACK_PREPROCESSORS
c.ClearHiddenTests.enforce_metadata = False

# Grades come from `rnn-grade autograde`: the hidden checks run in its judge, outside the
# student's kernel. Plain `nbgrader autograde` would grade only the visible part, so it refuses
# and says so (autograder/preprocessors/refuse.py).
from nbgrader.preprocessors import (  # noqa: E402
    CheckCellMetadata,
    ClearOutput,
    DeduplicateIds,
    OverwriteCells,
    OverwriteKernelspec,
)

from autograder.preprocessors.refuse import RefusePlainAutograde  # noqa: E402

c.Autograde.sanitize_preprocessors = [RefusePlainAutograde, ClearOutput, DeduplicateIds,
                                      OverwriteKernelspec, OverwriteCells, CheckCellMetadata]
