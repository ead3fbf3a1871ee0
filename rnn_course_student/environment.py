"""The environment variables that keep TensorFlow quiet, defined once for the whole course.

TensorFlow writes its start-up notices to stderr, and nbgrader scores a test cell that writes to
stderr as 0. They must be set before TensorFlow is first imported: notebooks, the grader, the
tests and the benchmarks all take them from here.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

QUIET_TENSORFLOW: dict[str, str] = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # only fatal messages from TensorFlow's C++ core
    # TF 2.16+ prints its oneDNN notice even at log level 3; only turning oneDNN off silences it.
    "TF_ENABLE_ONEDNN_OPTS": "0",
}


def quiet_tensorflow(environ: MutableMapping[str, str] | None = None, *,
                     override: bool = False) -> MutableMapping[str, str]:
    """Puts `QUIET_TENSORFLOW` into `environ` (default: `os.environ`) and returns it.

    Args:
        environ: the mapping to update, e.g. a copy of `os.environ` for a child process.
        override: replace values already set. By default (`setdefault`) a user who asked for
            TensorFlow's logs keeps them; a graded notebook overrides: a log line costs points.
    """
    environ = os.environ if environ is None else environ
    for name, value in QUIET_TENSORFLOW.items():
        if override:
            environ[name] = value
        else:
            environ.setdefault(name, value)
    return environ
