"""What each assignment asks students to write, and so what their answer may not call.

``FORBIDDEN`` is the one table: the static scan (autograder/cheats.py) reads it to flag an answer
that names one of these inside the definition being written, and the course's hidden tests run
each exercise inside ``course_checks.testing.forbid(*NAME_FORBIDDEN)``, whose lists are derived from it
(``calls_forbidden_in``). Keyed by assignment id, then by the function or class the student
implements ("class" means any class defined in an answer cell, "*" any function or class).
Entries are dotted names of functions and classes (what ``forbid`` can block at run time),
matched whatever alias they were imported under; the scan also forbids
``rnn_tf.<anything>.<same name>``, the library's version of the very function being written.
Scoping by definition matters: rnn3's training loop legitimately uses ``tf.GradientTape``, only
``clip_by_global_norm`` itself may not call ``tf.clip_by_global_norm``.
"""

_FORWARD = (
    "keras.layers.SimpleRNN",
    "keras.layers.SimpleRNNCell",
    "keras.layers.GRU",
    "keras.layers.LSTM",
    "rnn_tf.bptt.rnn_step_forward",
    "rnn_tf.bptt.rnn_forward",
    "rnn_tf.cell.SimpleRNNCell",
    "rnn_tf.layer.SimpleRNN",
    "rnn_tf.fast_path.simple_rnn",
    "rnn_course_student.references.keras_rnn_states",
)
_BACKWARD = (
    "tensorflow.GradientTape",
    "tensorflow.gradients",
    "tensorflow.autodiff.ForwardAccumulator",
    "rnn_tf.bptt.rnn_step_backward",
    "rnn_tf.bptt.rnn_backward",
    "rnn_course_student.references.tape_rnn_gradients",
    "rnn_course_student.references.numerical_gradient",
    "rnn_course_student.references.tape_jacobian_norms",
    "rnn_tf.gradients.step_jacobians",
    "rnn_tf.gradients.jacobian_products",
    "rnn_tf.gradients.jacobian_norms_by_distance",
    "rnn_tf.gradients.layer_jacobian_norms_by_distance",
)
_CLIPPING = (
    "tensorflow.clip_by_global_norm",
    "tensorflow.clip_by_norm",
    "tensorflow.linalg.global_norm",
    "rnn_tf.clipping.clip_by_global_norm",
    "rnn_tf.clipping.clip_by_norm",
)
# The library's own answers to assignment 4 (rnn_tf.SimpleRNN itself is allowed there).
_CONFIGURATIONS = (
    "rnn_tf.configurations.many_to_one",
    "rnn_tf.configurations.one_to_many",
    "rnn_tf.configurations.many_to_many",
    "rnn_tf.configurations.bidirectional_tagger",
    "rnn_tf.configurations.encoder_decoder",
    "rnn_tf.configurations.stacked_rnn",
)

FORBIDDEN: dict[str, dict[str, tuple[str, ...]]] = {
    "rnn1_forward": {"rnn_step_forward": _FORWARD, "rnn_forward": _FORWARD, "class": _FORWARD},
    "rnn2_bptt": {"rnn_step_backward": _BACKWARD, "rnn_backward": _BACKWARD},
    "rnn3_clipping": {"clip_by_global_norm": _CLIPPING},
    "rnn4_configurations": {"*": _CONFIGURATIONS},
}


def calls_forbidden_in(assignment: str) -> tuple[str, ...]:
    """Every name any exercise of ``assignment`` may not call, in the table's order."""
    names: dict[str, None] = {}
    for rule in FORBIDDEN[assignment].values():
        names.update(dict.fromkeys(rule))
    return tuple(names)


# Names whose use in an answer is not proof of cheating but deserves an instructor's look:
# ways to reach code or data indirectly (reported as "suspicious", no points taken).
SUSPICIOUS_CALLS = ["exec", "eval", "compile", "__import__", "importlib.import_module",
                    "globals", "vars", "gc.get_objects", "gc.get_referrers", "sys._getframe",
                    "inspect.currentframe", "ctypes", "sqlite3", "subprocess", "os.system",
                    "nbformat", "nbgrader", "shutil",
                    # Under bubblewrap these fail anyway (no network, a PID namespace of its
                    # own); named here so the table says what was tried.
                    "socket", "urllib.request", "http.client", "os.kill", "os.killpg",
                    "signal.pthread_kill"]
SUSPICIOUS_STRINGS = ["gradebook", "course/source", "nbgrader_config", "hidden test",
                      "BEGIN HIDDEN"]
