"""The course's rules for its answers: what each assignment may not call, and what the grader's
runtime guard watches. The grader reads this module because course/nbgrader_config.py names it
(``c.CoursePolicy.module``); the grader itself knows no course.

``FORBIDDEN`` is the one table of forbidden calls: the grader's static scan reads it to flag an
answer that names one of these inside the definition being written, and the course's hidden
tests run each exercise inside ``course_checks.testing.forbid(*NAME_FORBIDDEN)``, whose lists are
derived from it (``calls_forbidden_in``). Keyed by assignment id, then by the function or class
the student implements ("class" means any class defined in an answer cell, "*" any function or
class). Entries are dotted names of functions and classes (what ``forbid`` can block at run
time), matched whatever alias they were imported under; the scan also forbids
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


# The modules whose attributes the course's test cells decide pass/fail with: the grader's runtime
# guard fingerprints them after the set-up cell and puts back what an answer replaced (on top of
# what it watches in every course: numpy's comparisons and the builtins). "*": every public name.
PROTECTED_ATTRIBUTES: dict[str, list[str] | str] = {
    "course_checks.testing": "*",  # every public helper the course's test cells call
    "rnn_course_student.checks": "*",  # the same helpers, as the release notebooks import them
    "rnn_course_student.references": "*",  # the Keras/TF values the visible tests compare with
    "rnn_course_student.tasks": "*",  # the data rnn4's training checks learn from
    "rnn_course_student.training": "*",  # the training loop those checks run
    "rnn_course_student.probe": "*",  # the door the judge's calls come through
    "rnn_course_student.forbidden": "*",  # the forbidden-call guard those calls run under
    "rnn_course_student.probe_cells": "*",  # the probes of a cell class
    "tensorflow.debugging": ["assert_near", "assert_equal"],
}
