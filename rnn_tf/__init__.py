"""rnn_tf: a vanilla RNN written by hand in Keras 3, and the tools to see why its gradients vanish.

The public API, one section per lesson (each module's docstring says which part of the lecture it
serves).
"""

from rnn_course_student.environment import quiet_tensorflow as _quiet_tensorflow

# TensorFlow's start-up chatter goes to stderr, which nbgrader scores as a failed test cell; the
# course defines the variables that silence it once. (Effective only before TensorFlow's import.)
_quiet_tensorflow()

# --- the layer, one step and the loop over time: cell.py, layer.py ---
from rnn_tf.cell import SimpleRNNCell  # noqa: E402  (after the TF environment above)
from rnn_tf.layer import SimpleRNN  # noqa: E402

# isort: split
# --- BPTT by hand, gradient diagnostics, clipping: bptt.py, gradients.py, clipping.py ---
# (The experiments are used as `rnn_tf.experiments.<name>()` or through the `rnn-experiments`
# command; their names stay in that module.)
from rnn_tf.bptt import rnn_backward, rnn_forward, rnn_step_backward, rnn_step_forward  # noqa: E402
from rnn_tf.clipping import clip_by_global_norm, clip_by_norm, global_norm  # noqa: E402
from rnn_tf.gradients import (  # noqa: E402
    gradient_bound,
    hidden_state_gradients,
    jacobian_norms_by_distance,
    jacobian_products,
    largest_singular_value,
    layer_jacobian_norms_by_distance,
    saturation_fraction,
    spectral_radius,
    step_jacobians,
)

# isort: split
# --- configurations, toy tasks, long-range sweep: tasks.py, configurations.py, long_range.py ---
# The generators stay in their namespace (rnn_tf.tasks.sentiment(...), rnn_tf.tasks.adding(...)).
from rnn_tf import tasks  # noqa: E402
from rnn_tf.configurations import (  # noqa: E402
    EncoderDecoder,
    bidirectional_tagger,
    encoder_decoder,
    load_pytorch_rnn_weights,
    many_to_many,
    many_to_one,
    one_to_many,
    stacked_rnn,
    teacher_forcing_inputs,
)
from rnn_tf.long_range import AddingSweep, adding_sweep, plot_adding_sweep  # noqa: E402
from rnn_tf.tasks import TaskData  # noqa: E402

# isort: split
# --- the cliff of exploding gradients (assignment 3): cliff.py ---
from rnn_tf.cliff import (  # noqa: E402
    CliffExperiment,
    DescentPath,
    ErrorSurface,
    cliff_error,
    cliff_error_and_grad,
    cliff_experiment,
    error_surface,
    gradient_descent,
    plot_cliff,
)

# What `from rnn_tf import *` gives, and what the library promises to keep.
__all__ = [
    "SimpleRNNCell",
    "SimpleRNN",
    "rnn_backward",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "clip_by_global_norm",
    "clip_by_norm",
    "global_norm",
    "gradient_bound",
    "hidden_state_gradients",
    "jacobian_norms_by_distance",
    "jacobian_products",
    "largest_singular_value",
    "layer_jacobian_norms_by_distance",
    "saturation_fraction",
    "spectral_radius",
    "step_jacobians",
    "tasks",
    "EncoderDecoder",
    "bidirectional_tagger",
    "encoder_decoder",
    "load_pytorch_rnn_weights",
    "many_to_many",
    "many_to_one",
    "one_to_many",
    "stacked_rnn",
    "teacher_forcing_inputs",
    "AddingSweep",
    "adding_sweep",
    "plot_adding_sweep",
    "TaskData",
    "CliffExperiment",
    "DescentPath",
    "ErrorSurface",
    "cliff_error",
    "cliff_error_and_grad",
    "cliff_experiment",
    "error_surface",
    "gradient_descent",
    "plot_cliff",
]
