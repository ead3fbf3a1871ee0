"""The cliff of Pascanu, Mikolov & Bengio (2013): one sigmoid unit whose error surface has a wall.
Serves the lesson on exploding gradients and clipping (course assignment 3, rnn3_clipping).

The unit has no input; its state is fed back through a sigmoid for 50 steps:

    x_0 = 0.5,    x_t = w * sigmoid(x_{t-1}) + b,    E(w, b) = (sigmoid(x_50) - 0.7)**2

For w large enough the map has two stable fixed points, and a small change of b decides which
one x_50 falls into: E jumps there, and its gradient is enormous on a thin wall. Plain gradient
descent that lands on the wall takes one huge step and is thrown far away; clipping the gradient's
norm to c bounds every step by learning_rate * c, so descent walks along the wall instead.

The unit, its exact gradient and the plots live in the student kit (`rnn_course_student.cliff`),
where the clipped run needs the student's own clipping function. Here the library's
`rnn_tf.clipping.clip_by_global_norm` is the default, so a self-learner can run it as is.

Example:
    >>> data, fig = cliff_experiment()
    >>> bool(data.plain.step_lengths.max() > 10 * data.learning_rate * data.max_norm)
    True
    >>> fig.savefig("cliff.png")
"""

from __future__ import annotations

from rnn_course_student import cliff as _kit
from rnn_course_student.cliff import (  # noqa: F401 (re-exported: the library's cliff API)
    DEFAULT_LEARNING_RATE,
    DEFAULT_START,
    N_STEPS,
    TARGET,
    X0,
    CliffExperiment,
    ClipFn,
    DescentPath,
    ErrorSurface,
    cliff_error,
    cliff_error_and_grad,
    error_surface,
    plot_cliff,
)
from rnn_tf.clipping import clip_by_global_norm


def gradient_descent(start=DEFAULT_START, learning_rate=DEFAULT_LEARNING_RATE, n_steps=100,
                     max_norm: float | None = None, clip_fn: ClipFn | None = None) -> DescentPath:
    """`rnn_course_student.cliff.gradient_descent`, clipping with `rnn_tf.clipping` by default:
    g <- g * min(1, max_norm / ||g||) when `max_norm` is given and `clip_fn` is not."""
    if max_norm is not None and clip_fn is None:
        clip_fn = clip_by_global_norm
    return _kit.gradient_descent(start, learning_rate, n_steps, max_norm=max_norm,
                                 clip_fn=clip_fn)


def cliff_experiment(start=DEFAULT_START, learning_rate=DEFAULT_LEARNING_RATE, n_steps=100,
                     max_norm: float = 1.0, clip_fn: ClipFn | None = None):
    """`rnn_course_student.cliff.cliff_experiment`, clipping with `rnn_tf.clipping` by default.

    Returns:
        `(data, figure)`: a `CliffExperiment` and a matplotlib Figure made without pyplot.
    """
    return _kit.cliff_experiment(start, learning_rate, n_steps, max_norm,
                                 clip_fn=clip_fn or clip_by_global_norm)
