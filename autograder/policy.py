"""What each assignment asks students to write, and so what their answer may not call.

Keyed by assignment id, then by the function or class the student implements ("class" means any
class defined in an answer cell, "*" any function or class). A dotted name is forbidden inside that definition, whatever
alias it was imported under; ``rnn_tf.<anything>.<same name>`` (the library's reference
version of the very function being written) is always forbidden too. Scoping by definition
rather than by notebook matters: rnn3's training loop legitimately uses ``tf.GradientTape``,
only ``clip_by_global_norm`` itself may not call ``tf.clip_by_global_norm``.
"""

# Modules whose contents are the reference solutions of the exercises.
REFERENCE_MODULES = ["rnn_tf.bptt", "rnn_tf.cell", "rnn_tf.layer", "rnn_tf.clipping",
                     "rnn_tf.gradients", "rnn_tf.fast_path", "rnn_tf.configurations"]

_SIMPLE_RNN = ["keras.layers.SimpleRNN", "keras.layers.SimpleRNNCell"]
_AUTODIFF = ["tensorflow.GradientTape", "tensorflow.gradients", "tensorflow.autodiff"]
_CLIP = ["tensorflow.clip_by_global_norm", "tensorflow.clip_by_norm", "keras.optimizers",
         "torch.nn.utils.clip_grad_norm_"]

FORBIDDEN: dict[str, dict[str, list[str]]] = {
    "rnn1_forward": {
        "rnn_step_forward": _SIMPLE_RNN + REFERENCE_MODULES,
        "rnn_forward": _SIMPLE_RNN + REFERENCE_MODULES,
        "class": _SIMPLE_RNN + REFERENCE_MODULES,
    },
    "rnn2_bptt": {
        "rnn_step_backward": _AUTODIFF + REFERENCE_MODULES,
        "rnn_backward": _AUTODIFF + REFERENCE_MODULES,
    },
    "rnn3_clipping": {
        "clip_by_global_norm": _CLIP + REFERENCE_MODULES,
    },
    "rnn4_configurations": {
        "*": ["rnn_tf.configurations"],  # the builders exist there; rnn_tf.SimpleRNN is allowed
    },
}

# Names whose use in an answer is not proof of cheating but deserves an instructor's look:
# ways to reach code or data indirectly (reported as "suspicious", no points taken).
SUSPICIOUS_CALLS = ["exec", "eval", "compile", "__import__", "importlib.import_module",
                    "globals", "vars", "gc.get_objects", "gc.get_referrers", "sys._getframe",
                    "inspect.currentframe", "ctypes", "sqlite3", "subprocess", "os.system",
                    "nbformat", "nbgrader", "shutil"]
SUSPICIOUS_STRINGS = ["gradebook", "course/source", "nbgrader_config", "hidden test",
                      "BEGIN HIDDEN"]
