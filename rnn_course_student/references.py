"""Trusted values for the visible test cells, computed by Keras/TensorFlow or by finite differences,
never by the course's own code: a student's function and a hand-written reference could share a bug.

Each takes the exercises' row-layout weights (W_x is Keras's `kernel` (D, H), W_h its
`recurrent_kernel` (H, H), b its `bias` (H,)) and works in float64.
"""

from __future__ import annotations

import numpy as np

_asarray = np.asarray  # bound at import, like the assertions (see checks.py)
_float64 = np.float64


def _simple_rnn(x, h0, W_x, W_h, b):
    """A float64 keras.layers.SimpleRNN returning every state, holding the given weights."""
    import keras

    layer = keras.layers.SimpleRNN(h0.shape[1], return_sequences=True, dtype="float64")
    layer.build((None,) + tuple(x.shape[1:]))
    layer.set_weights([_asarray(W_x, dtype=_float64), _asarray(W_h, dtype=_float64),
                       _asarray(b, dtype=_float64)])
    return layer


def keras_rnn_states(x, h0, W_x, W_h, b) -> np.ndarray:
    """Every hidden state h_1 ... h_T, (B, T, H), computed by `keras.layers.SimpleRNN` in float64
    with the given row-layout weights."""
    x, h0 = _asarray(x, dtype=_float64), _asarray(h0, dtype=_float64)  # (B, T, D), (B, H)
    return _asarray(_simple_rnn(x, h0, W_x, W_h, b)(x, initial_state=[h0]))  # (B, T, H)


def tape_rnn_gradients(dh, x, h0, W_x, W_h, b) -> tuple[np.ndarray, ...]:
    """(dx, dh0, dW_x, dW_h, db) of the loss sum(dh * h), where h (B, T, H) comes from
    `keras.layers.SimpleRNN` in float64 and the gradients from `tf.GradientTape`."""
    import tensorflow as tf

    x = tf.constant(_asarray(x, dtype=_float64))  # (B, T, D)
    h0 = tf.constant(_asarray(h0, dtype=_float64))  # (B, H)
    layer = _simple_rnn(x, h0, W_x, W_h, b)
    with tf.GradientTape() as tape:
        tape.watch([x, h0])
        h = layer(x, initial_state=[h0])  # (B, T, H)
        loss = tf.reduce_sum(tf.constant(_asarray(dh, dtype=_float64)) * h)
    grads = tape.gradient(loss, [x, h0, *layer.trainable_weights])
    return tuple(_asarray(g) for g in grads)


def tape_jacobian_norms(x, h0, W_x, W_h, b) -> tuple[np.ndarray, np.ndarray]:
    """(h, norms): the states h (B, T, H) of `keras.layers.SimpleRNNCell` (float64) run step by
    step, and norms (B, T) with norms[:, d] = ||dh_T/dh_{T-d}||_2 (spectral norm), each Jacobian
    taken by `tf.GradientTape.batch_jacobian` (d = 0 is the identity, norm 1)."""
    import keras
    import tensorflow as tf

    x = tf.constant(_asarray(x, dtype=_float64))  # (B, T, D)
    h_prev = tf.constant(_asarray(h0, dtype=_float64))  # (B, H)
    cell = keras.layers.SimpleRNNCell(h_prev.shape[1], dtype="float64")
    cell.build((None, x.shape[2]))
    cell.set_weights([_asarray(W_x, dtype=_float64), _asarray(W_h, dtype=_float64),
                      _asarray(b, dtype=_float64)])
    states = []
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(h_prev)  # so that the tape records every state computed from it
        for t in range(x.shape[1]):
            h_prev, _ = cell(x[:, t], [h_prev])  # (B, H)
            states.append(h_prev)
    norms = [np.ones(x.shape[0])]
    for d in range(1, len(states)):
        jacobian = tape.batch_jacobian(states[-1], states[-1 - d], experimental_use_pfor=False)
        norms.append(np.linalg.norm(jacobian.numpy(), ord=2, axis=(1, 2)))  # (B,)
    del tape
    h = tf.stack(states, axis=1).numpy()  # (B, T, H)
    return h, np.stack(norms, axis=1)  # (B, T)


def numerical_gradient(f, x, eps: float = 1e-6) -> np.ndarray:
    """Central differences (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) of a scalar function f
    at every entry of the float64 array x; x is restored afterwards. Error O(eps^2)."""
    x = _asarray(x)
    if x.dtype != _float64:
        raise ValueError(f"numerical_gradient needs a float64 array, got dtype {x.dtype}.")
    grad = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        saved = x[index]
        x[index] = saved + eps
        f_plus = float(f(x))
        x[index] = saved - eps
        f_minus = float(f(x))
        x[index] = saved
        grad[index] = (f_plus - f_minus) / (2 * eps)
    return grad
