"""Synthetic tasks for the lesson on RNN configurations and on long-range memory.

The generators ship with the student kit (students need the data, not the library), so they live
in `rnn_course_student.tasks`; this module gives the library the same names.
"""

from rnn_course_student.tasks import *  # noqa: F403
from rnn_course_student.tasks import __all__  # noqa: F401
