"""Probes of a student's recurrent cell class (assignment 1's MinimalRNNCell), for the judge:
each builds the class into a Keras layer in the student's kernel, sets the weights it is given
and returns the layer's outputs as a NumPy array (see rnn_course_student.probe).

    probed(MinimalRNNCell, "rnn_course_student.probe_cells:rnn_outputs")(x, W_x, W_h, b)
"""

from __future__ import annotations

import numpy as np


def rnn_outputs(cell_class, x, W_x, W_h, b, dtype: str | None = None) -> np.ndarray:
    """Every output (B, T, H) of `keras.layers.RNN(cell_class(H), return_sequences=True)` on
    `x` (B, T, D) with the kernel, recurrent kernel and bias set to `W_x`, `W_h`, `b`; built in
    `dtype` when given."""
    import keras

    options = {"dtype": dtype} if dtype else {}
    layer = keras.layers.RNN(cell_class(W_h.shape[0], **options), return_sequences=True,
                             **options)
    layer.build(x.shape)
    layer.set_weights([W_x, W_h, b])
    return np.asarray(layer(x))


def bidirectional_outputs(cell_class, x, weights) -> np.ndarray:
    """The outputs (B, T, 2H) of `keras.layers.Bidirectional(keras.layers.RNN(cell_class(H),
    return_sequences=True))` on `x`, with `weights` (forward kernel, recurrent kernel, bias,
    then the same for the backward direction) set."""
    import keras

    units = weights[1].shape[0]
    layer = keras.layers.Bidirectional(keras.layers.RNN(cell_class(units), return_sequences=True))
    layer.build(x.shape)
    layer.set_weights(list(weights))
    return np.asarray(layer(x))
