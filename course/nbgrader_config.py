"""nbgrader settings for the rnn-course (only what differs from nbgrader's defaults).

Run nbgrader from this folder (`cd course && nbgrader generate_assignment rnn1_forward`), or use
`python -m autograder.build` from the repository root, which regenerates every release.
"""

import os

c = get_config()  # noqa: F821 (traitlets provides get_config when it loads this file)

# Not an nbgrader option: the course's assignments in teaching order, one notebook each at
# source/<id>/<id>.ipynb. autograder.build and the course tests check source/ against this list.
ASSIGNMENTS = ["rnn1_forward", "rnn2_bptt", "rnn3_clipping", "rnn4_configurations"]

# Names the course in the gradebook and in the exchange.
c.CourseDirectory.course_id = "rnn-course"

# A cell may take minutes on a loaded machine: importing TensorFlow alone is ~5 s on an idle one,
# and a too-short limit scores a correct notebook 0 (nbgrader's default is 30 s).
c.Execute.timeout = 300

# nbgrader scores a test cell that writes anything to stderr as 0, and TensorFlow's C++ runtime
# logs to stderr unless these are set before it is imported. Kernels inherit nbgrader's
# environment, so setting them here covers a set-up cell that a student has broken as well.
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"  # TF 2.21's oneDNN notice ignores the log level

# `nbgrader generate_feedback` (and the formgrader's feedback button) would show the hidden tests
# and quote them in tracebacks: the same steps as rnn-grade's feedback remove them. A student's
# own cell that quotes the hidden-test markers must not stop the feedback.
from autograder.feedback import FEEDBACK_PREPROCESSORS  # noqa: E402

c.GenerateFeedback.preprocessors = FEEDBACK_PREPROCESSORS
c.ClearHiddenTests.enforce_metadata = False
