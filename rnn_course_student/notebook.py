"""The first thing every course notebook runs: TensorFlow quiet, warnings and logs on stdout, and
errors that name their cause.

nbgrader scores a test cell that writes anything to stderr as 0, and a deprecation warning is not
a wrong answer. Call `quiet_notebook()` before importing TensorFlow or Keras.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import warnings
from typing import Iterator

from rnn_course_student.environment import quiet_tensorflow


def quiet_notebook() -> None:
    """Silences TensorFlow's start-up notices and sends Python warnings and TensorFlow/absl log
    records to stdout, where a notebook still shows them but nbgrader does not count them; then
    imports TensorFlow (see `import_tensorflow_quietly`) and, in IPython, lets a NameError say
    when the cell that defines the name did not run (`explain_undefined_names`)."""
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
    import_tensorflow_quietly()
    explain_undefined_names()


@contextlib.contextmanager
def descriptor_2_silenced() -> Iterator[None]:
    """Inside the block, whatever the process writes to file descriptor 2 (stderr, C++ code
    included) goes to /dev/null; restored after. Where there is no descriptor 2, nothing changes."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    os.close(devnull)
    try:
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def import_tensorflow_quietly() -> None:
    """Imports TensorFlow and Keras and finds the devices with descriptor 2 silenced.

    The GPU build of TensorFlow (the `tensorflow` wheel, which the kit installs) logs "Could not
    find cuda drivers on your machine" through absl's C++ logging, which ignores
    TF_CPP_MIN_LOG_LEVEL and writes to the descriptor directly, where Jupyter's kernel shows it
    as the cell's stderr."""
    with descriptor_2_silenced():
        try:
            import keras  # noqa: F401
            import tensorflow as tf

            tf.config.list_physical_devices()  # loads the device libraries now, while quiet
        except ImportError:  # the set-up cell's own import then reports it, as usual
            pass


# --- errors that name their cause ---------------------------------------------------------------

DEFINES = re.compile(r"^(?:async\s+)?(?:def|class)\s+(\w+)|^(\w+)\s*(?::[^=]*)?=(?!=)", re.M)
_failed_definitions: dict[str, str] = {}  # name -> why the cell that defines it did not run


def names_defined_in(source: str) -> set[str]:
    """The top-level functions, classes and variables a cell's source defines, read without
    compiling it (it may not compile)."""
    return {a or b for a, b in DEFINES.findall(source)}


def syntax_error_summary(error: SyntaxError) -> str:
    """"a syntax error at line 3: invalid syntax" (IndentationError says so)."""
    kind = "an indentation error" if isinstance(error, IndentationError) else "a syntax error"
    return f"{kind} at line {error.lineno}: {error.msg}"


def _after_cell(result) -> None:
    """Remembers, for the names a cell defines, that the cell stopped on a syntax error; forgets
    them once a cell defining them runs."""
    source = getattr(result.info, "raw_cell", "") or ""
    error = result.error_before_exec
    names = names_defined_in(source)
    if isinstance(error, SyntaxError):
        for name in names:
            _failed_definitions[name] = syntax_error_summary(error)
    elif result.error_in_exec is None:
        for name in names:
            _failed_definitions.pop(name, None)


def _explain_name_error(shell, etype, value, tb, tb_offset=None):
    name = getattr(value, "name", None)
    why = _failed_definitions.get(name)
    if why and value.args and "has " not in str(value.args[0]):
        value.args = (f"name '{name}' is not defined: the cell that defines it has {why}. "
                      "Fix that cell and run it again.",)  # the cause first: Validate cuts lines
    # IPython discards what a custom handler returns: the handler shows the error itself, as the
    # cell's error output (the cell still fails; nbgrader and rnn-check read that output).
    shell.showtraceback((etype, value, tb), tb_offset=tb_offset)


def explain_undefined_names() -> None:
    """In IPython: a NameError for a name whose defining cell stopped on a syntax error says so,
    with the line (the SyntaxError itself already shows in that cell). Outside IPython: nothing."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or not hasattr(shell, "events"):
        return
    try:
        shell.events.unregister("post_run_cell", _after_cell)
    except ValueError:
        pass
    shell.events.register("post_run_cell", _after_cell)
    shell.set_custom_exc((NameError,), _explain_name_error)
