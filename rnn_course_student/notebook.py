"""The first thing every course notebook runs: TensorFlow quiet, warnings and logs on stdout.

nbgrader scores a test cell that writes anything to stderr as 0, and a deprecation warning is not
a wrong answer. Call `quiet_notebook()` before importing TensorFlow or Keras.
"""

from __future__ import annotations

import logging
import sys
import warnings

from rnn_course_student.environment import quiet_tensorflow


def quiet_notebook() -> None:
    """Silences TensorFlow's start-up notices and sends Python warnings and TensorFlow/absl log
    records to stdout, where a notebook still shows them but nbgrader does not count them."""
    quiet_tensorflow(override=True)

    def show_on_stdout(message, category, filename, lineno, file=None, line=None):
        print(warnings.formatwarning(message, category, filename, lineno, line).rstrip(),
              file=sys.stdout)

    warnings.showwarning = show_on_stdout
    handler = logging.StreamHandler(sys.stdout)
    for name in ("tensorflow", "absl", "keras", "h5py", "matplotlib"):
        logger = logging.getLogger(name)
        logger.setLevel(logging.ERROR)
        logger.handlers[:] = [handler]
        logger.propagate = False
    try:
        from absl import logging as absl_logging

        absl_logging.set_verbosity(absl_logging.ERROR)
        absl_logging.set_stderrthreshold("fatal")
    except ImportError:  # absl comes with TensorFlow; without it there is nothing to quiet
        pass
