"""Mistaken answers written as students write them (their own loops and names, steps written
inline, vectorised forms, TF ops), not derived from the catalogue's mutants: the first failing
message names the mistake, no right earlier or later function of the same notebook is blamed,
and right answers written in unusual forms pass. Each answer runs through `check` with the guard
its hidden test uses, as the judge runs it; `test_mistakes_written_graded.py` grades a
batch of them end to end."""

from __future__ import annotations

import dataclasses
import functools

import keras
import numpy as np
import pytest
import tensorflow as tf

from course_checks import testing
from course_checks.mistakes import check, rnn1, rnn2, rnn3, rnn4
from rnn_course_student.probe import probed

pytestmark = [pytest.mark.filterwarnings("ignore:You are using a softmax over axis -1:UserWarning"),
              pytest.mark.filterwarnings("ignore::UserWarning")]

# --- right answers, one notebook per assignment, written unlike the model answers ----------------

RIGHT = {
    "rnn1": '''
def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    pre_activation = np.dot(x_t, W_x) + np.dot(h_prev, W_h) + b
    return np.tanh(pre_activation)

def rnn_forward(x, h0, W_x, W_h, b):
    batch, steps, _ = x.shape
    states = []
    state = h0
    for step in range(steps):
        state = rnn_step_forward(x[:, step, :], state, W_x, W_h, b)
        states.append(state)
    return np.stack(states, axis=1), (x, h0, W_x, W_h, b)

def rnn_param_count(D, H):
    return (D + H + 1) * H

class MinimalRNNCell(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                name="recurrent_kernel")
        self.bias = self.add_weight(shape=(self.units,), initializer="zeros", name="bias")

    def call(self, inputs, states):
        h = keras.ops.tanh(keras.ops.matmul(inputs, self.kernel)
                           + keras.ops.matmul(states[0], self.recurrent_kernel) + self.bias)
        return h, [h]

def to_column_layout(kernel, recurrent_kernel):
    return np.swapaxes(kernel, 0, 1), np.transpose(recurrent_kernel)
''',
    "rnn2": '''
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    g = dh_t * (1 - h_t * h_t)
    return g @ W_x.T, g @ W_h.T, x_t.T @ g, h_prev.T @ g, np.sum(g, axis=0)

def rnn_backward(dh, x, h0, h, W_x, W_h):
    B, T, D = x.shape
    dx = np.zeros(x.shape)
    dW_x, dW_h, db = np.zeros(W_x.shape), np.zeros(W_h.shape), np.zeros(W_h.shape[0])
    from_later = np.zeros(h0.shape)
    for t in range(T - 1, -1, -1):
        previous = h0 if t == 0 else h[:, t - 1]
        dx[:, t], from_later, a, c, d = rnn_step_backward(dh[:, t] + from_later, x[:, t], previous,
                                                          h[:, t], W_x, W_h)
        dW_x += a
        dW_h += c
        db += d
    return dx, from_later, dW_x, dW_h, db

def jacobian_norms(h, W_h):
    B, T, H = h.shape
    out = np.ones((B, T))
    for i in range(B):
        P = np.eye(H)
        for d in range(1, T):
            t = T - d
            J = np.diag(1 - h[i, t] ** 2) @ W_h.T
            P = P @ J
            out[i, d] = np.linalg.svd(P, compute_uv=False)[0]
    return out

def tanh_slope(h):
    h = np.asarray(h)
    return (1 - h) * (1 + h)
''',
    "rnn3": '''
def clip_by_global_norm(grads, max_norm):
    present = [tf.cast(g, tf.float64) for g in grads if g is not None]
    norm = tf.sqrt(tf.add_n([tf.reduce_sum(g * g) for g in present]))
    scale = max_norm / tf.maximum(norm, max_norm)
    out = [None if g is None else tf.cast(tf.cast(g, tf.float64) * scale, g.dtype) for g in grads]
    return out, norm

def train_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = keras.losses.MeanSquaredError()(y, model(x, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    norm = tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(g)) for g in grads]))
    if max_norm is not None:
        grads, _ = clip_by_global_norm(grads, max_norm)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss), float(norm)

def clipped_step_bound(learning_rate, max_norm):
    return max_norm * learning_rate
''',
    "rnn4": '''
def build_many_to_one(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)), keras.layers.SimpleRNN(units),
                             keras.layers.Dense(num_classes), keras.layers.Activation("softmax")])

def build_one_to_many(input_dim, seq_len, output_dim=1, units=16):
    return keras.Sequential([keras.Input((input_dim,)), keras.layers.RepeatVector(seq_len),
                             keras.layers.SimpleRNN(units, return_sequences=True),
                             keras.layers.Dense(output_dim)])

def build_many_to_many(input_dim, num_classes, units=16):
    inputs = keras.Input((None, input_dim))
    states = keras.layers.SimpleRNN(units, return_sequences=True)(inputs)
    return keras.Model(inputs, keras.layers.TimeDistributed(
        keras.layers.Dense(num_classes, activation="softmax"))(states))

def build_bidirectional_tagger(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)),
                             keras.layers.Bidirectional(
                                 keras.layers.SimpleRNN(units, return_sequences=True)),
                             keras.layers.Dense(num_classes, activation="softmax")])

def build_encoder_decoder(input_dim, decoder_vocab, num_classes, units=32):
    source = keras.Input((None, input_dim))
    previous = keras.Input((None, decoder_vocab))
    _, state = keras.layers.SimpleRNN(units, return_state=True)(source)
    out = keras.layers.SimpleRNN(units, return_sequences=True)(previous, initial_state=[state])
    probabilities = keras.layers.Dense(num_classes, activation="softmax")(out)
    return keras.Model([source, previous], probabilities)
''',
}


@dataclasses.dataclass(frozen=True)
class Written:
    """A mistaken answer as a student writes it: `source` replaces the right answer(s) in the
    assignment's notebook; `key` is the catalogued mistake its first failing message must name."""

    assignment: str
    exercise: str
    key: str
    source: str


def _w(assignment, exercise, key, source):
    return Written(assignment, exercise, key, source)


# The weights of RIGHT["rnn1"]'s cell, as its build method creates them.
KERNEL_LINE = ("        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), "
               'name="kernel")\n')
RECURRENT_KERNEL_LINES = ("        self.recurrent_kernel = self.add_weight("
                          "shape=(self.units, self.units),\n"
                          + " " * 48 + 'name="recurrent_kernel")\n')
assert KERNEL_LINE + RECURRENT_KERNEL_LINES in RIGHT["rnn1"]

WRITTEN = [
    # --- rnn_step_forward ---
    _w("rnn1", "rnn_step_forward", "sigmoid", '''
def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    z = np.dot(x_t, W_x) + np.dot(h_prev, W_h) + b
    return 1.0 / (1.0 + np.exp(-z))
'''),
    _w("rnn1", "rnn_step_forward", "recurrent_transposed", '''
def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    return np.tanh(np.einsum("bd,dh->bh", x_t, W_x) + np.einsum("bj,ij->bi", h_prev, W_h) + b)
'''),
    _w("rnn1", "rnn_step_forward", "bias_after_tanh", '''
def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    a = x_t.dot(W_x) + h_prev.dot(W_h)
    return np.tanh(a) + b
'''),
    _w("rnn1", "rnn_step_forward", "relu", '''
def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    return tf.nn.relu(tf.matmul(x_t, W_x) + tf.matmul(h_prev, W_h) + b).numpy()
'''),
    _w("rnn1", "rnn_step_forward", "no_bias", '''
def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    return np.tanh(np.matmul(x_t, W_x) + np.matmul(h_prev, W_h))
'''),
    _w("rnn1", "rnn_step_forward", "no_input", '''
def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    recurrent_part = h_prev @ W_h
    return np.tanh(recurrent_part + b)
'''),
    # --- rnn_forward: steps written inline, fixed lengths filled in several ways, loop slips ---
    _w("rnn1", "rnn_forward", "step_sigmoid", '''
def rnn_forward(x, h0, W_x, W_h, b):
    hs, h = [], h0
    for t in range(x.shape[1]):
        h = 1 / (1 + np.exp(-(x[:, t] @ W_x + h @ W_h + b)))
        hs.append(h)
    return np.stack(hs, 1), None
'''),
    _w("rnn1", "rnn_forward", "step_no_bias", '''
def rnn_forward(x, h0, W_x, W_h, b):
    projected = x @ W_x                       # every step's input part at once, (B, T, H)
    h = np.zeros(projected.shape)
    state = h0
    for t in range(x.shape[1]):
        state = np.tanh(projected[:, t] + state @ W_h)
        h[:, t] = state
    return h, {"x": x}
'''),
    _w("rnn1", "rnn_forward", "fixed_length", '''
def rnn_forward(x, h0, W_x, W_h, b):
    B, T, D = x.shape
    h = np.zeros((B, T, h0.shape[1]))
    h_prev = h0
    for t in range(50):
        h_prev = rnn_step_forward(x[:, t], h_prev, W_x, W_h, b)
        h[:, t] = h_prev
    return h, None
'''),
    _w("rnn1", "rnn_forward", "fixed_length", '''
def rnn_forward(x, h0, W_x, W_h, b):
    out = []
    state = h0
    for t in range(50):
        state = np.tanh(x[:, t, :] @ W_x + state @ W_h + b)
        out.append(state)
    return np.array(out).transpose(1, 0, 2), None
'''),
    _w("rnn1", "rnn_forward", "fixed_length", '''
def rnn_forward(x, h0, W_x, W_h, b):
    B, T, _ = x.shape
    h = np.empty((B, T, h0.shape[1]))
    h[:] = h0[:, None, :]                     # every state starts as a copy of h0
    for t in range(min(T, 50)):
        h[:, t] = rnn_step_forward(x[:, t], h[:, t - 1] if t else h0, W_x, W_h, b)
    return h, None
'''),
    _w("rnn1", "rnn_forward", "fixed_length", '''
def rnn_forward(x, h0, W_x, W_h, b):
    h = np.empty((x.shape[0], x.shape[1], W_h.shape[0]))   # whatever memory held: garbage
    h_t = h0
    for t in range(50):
        h_t = np.tanh(x[:, t] @ W_x + h_t @ W_h + b)
        h[:, t] = h_t
    return h, None
'''),
    _w("rnn1", "rnn_forward", "state_not_carried", '''
def rnn_forward(x, h0, W_x, W_h, b):
    steps = [np.tanh(x[:, t] @ W_x + h0 @ W_h + b) for t in range(x.shape[1])]
    return np.stack(steps, axis=1), None
'''),
    _w("rnn1", "rnn_forward", "time_reversed", '''
def rnn_forward(x, h0, W_x, W_h, b):
    B, T, _ = x.shape
    h = np.zeros((B, T, h0.shape[1]))
    current = h0
    for t in range(T - 1, -1, -1):
        current = rnn_step_forward(x[:, t], current, W_x, W_h, b)
        h[:, t] = current
    return h, None
'''),
    _w("rnn1", "rnn_forward", "integer_states", '''
def rnn_forward(x, h0, W_x, W_h, b):
    B, T, _ = x.shape
    h = np.zeros((B, T, h0.shape[1]), dtype=int)
    prev = h0
    for t in range(T):
        prev = rnn_step_forward(x[:, t], prev, W_x, W_h, b)
        h[:, t] = prev
    return h, None
'''),
    _w("rnn1", "rnn_forward", "state_before_step", '''
def rnn_forward(x, h0, W_x, W_h, b):
    h = np.zeros((x.shape[0], x.shape[1], h0.shape[1]))
    h_prev = h0
    for t in range(x.shape[1]):
        h[:, t] = h_prev
        h_prev = rnn_step_forward(x[:, t], h_prev, W_x, W_h, b)
    return h, None
'''),
    _w("rnn1", "rnn_forward", "recurrent_transposed", '''
def rnn_forward(x, h0, W_x, W_h, b):
    states, s = [], h0
    for x_t in np.moveaxis(x, 1, 0):
        s = np.tanh(x_t @ W_x + s @ W_h.T + b)
        states.append(s)
    return np.stack(states, axis=1), None
'''),
    _w("rnn1", "rnn_forward", "step_no_recurrence", '''
def rnn_forward(x, h0, W_x, W_h, b):
    return np.tanh(np.einsum("btd,dh->bth", x, W_x) + b), None
'''),
    # --- rnn_param_count ---
    _w("rnn1", "rnn_param_count", "no_bias",
       "def rnn_param_count(D, H):\n    return H * (D + H)\n"),
    _w("rnn1", "rnn_param_count", "recurrent_as_input", '''
def rnn_param_count(D, H):
    W_x = D * H
    W_h = D * H
    b = H
    return W_x + W_h + b
'''),
    _w("rnn1", "rnn_param_count", "bias_per_feature", '''
def rnn_param_count(D, H):
    return int(np.prod((D, H)) + np.prod((H, H)) + D)
'''),
    _w("rnn1", "rnn_param_count", "no_recurrent",
       "def rnn_param_count(D, H):\n    return (D + 1) * H\n"),
    _w("rnn1", "rnn_param_count", "no_input_weights",
       "def rnn_param_count(D, H):\n    return H * H + H\n"),
    # --- MinimalRNNCell ---
    *[_w("rnn1", "MinimalRNNCell", key, RIGHT["rnn1"][RIGHT["rnn1"].index("class MinimalRNNCell"):
                                                       RIGHT["rnn1"].index("def to_column_layout")]
         .replace(right, wrong))
      for key, right, wrong in [
          ("sigmoid", "h = keras.ops.tanh(", "h = keras.activations.sigmoid("),
          ("no_activation", "h = keras.ops.tanh(", "h = ("),
          ("recurrent_transposed", "keras.ops.matmul(states[0], self.recurrent_kernel)",
           "keras.ops.matmul(states[0], keras.ops.transpose(self.recurrent_kernel))"),
          ("no_bias", " + self.bias)", ")"),
          ("no_recurrence", "+ keras.ops.matmul(states[0], self.recurrent_kernel)", ""),
          ("kernels_swapped", KERNEL_LINE + RECURRENT_KERNEL_LINES,
           RECURRENT_KERNEL_LINES + KERNEL_LINE)]],
    # --- to_column_layout ---
    _w("rnn1", "to_column_layout", "unchanged",
       "def to_column_layout(kernel, recurrent_kernel):\n"
       "    return np.array(kernel), np.array(recurrent_kernel)\n"),
    _w("rnn1", "to_column_layout", "recurrent_unchanged",
       "def to_column_layout(kernel, recurrent_kernel):\n"
       "    return np.transpose(kernel), recurrent_kernel\n"),
    _w("rnn1", "to_column_layout", "input_unchanged",
       "def to_column_layout(kernel, recurrent_kernel):\n"
       "    return kernel, recurrent_kernel.transpose()\n"),
    _w("rnn1", "to_column_layout", "swapped",
       "def to_column_layout(kernel, recurrent_kernel):\n"
       "    W_h, W_x = kernel.T, recurrent_kernel.T\n    return W_x, W_h\n"),
    _w("rnn1", "to_column_layout", "inverse",
       "def to_column_layout(kernel, recurrent_kernel):\n"
       "    return kernel.T, np.linalg.inv(recurrent_kernel)\n"),
    # --- rnn_step_backward ---
    _w("rnn2", "rnn_step_backward", "no_tanh_derivative", '''
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    dz = dh_t
    return dz @ W_x.T, dz @ W_h.T, x_t.T @ dz, h_prev.T @ dz, dz.sum(0)
'''),
    _w("rnn2", "rnn_step_backward", "derivative_not_squared", '''
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    dtanh = dh_t * (1 - h_t)
    dx_t = np.dot(dtanh, W_x.T)
    dh_prev = np.dot(dtanh, W_h.T)
    return dx_t, dh_prev, np.dot(x_t.T, dtanh), np.dot(h_prev.T, dtanh), np.sum(dtanh, axis=0)
'''),
    _w("rnn2", "rnn_step_backward", "derivative_at_h_prev", '''
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    da = dh_t * (1 - h_prev ** 2)
    return da @ W_x.T, da @ W_h.T, x_t.T @ da, h_prev.T @ da, da.sum(axis=0)
'''),
    _w("rnn2", "rnn_step_backward", "recurrent_not_transposed", '''
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    delta = dh_t * (1.0 - np.square(h_t))
    return (np.einsum("bh,dh->bd", delta, W_x), np.einsum("bh,hk->bk", delta, W_h),
            np.einsum("bd,bh->dh", x_t, delta), np.einsum("bk,bh->kh", h_prev, delta), delta.sum(0))
'''),
    _w("rnn2", "rnn_step_backward", "bias_mean", '''
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    g = dh_t * (1 - h_t**2)
    return g @ W_x.T, g @ W_h.T, x_t.T @ g, h_prev.T @ g, np.mean(g, axis=0)
'''),
    _w("rnn2", "rnn_step_backward", "bias_not_summed", '''
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    g = dh_t * (1 - h_t**2)
    db = g
    return g @ W_x.T, g @ W_h.T, x_t.T @ g, h_prev.T @ g, db
'''),
    _w("rnn2", "rnn_step_backward", "dW_h_from_h_t", '''
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    g = dh_t * (1 - h_t**2)
    return g @ W_x.T, g @ W_h.T, x_t.T @ g, h_t.T @ g, g.sum(axis=0)
'''),
    _w("rnn2", "rnn_step_backward", "derivative_of_tanh_again", '''
def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    g = (dh_t * (1 - tf.tanh(h_t) ** 2)).numpy()
    return g @ W_x.T, g @ W_h.T, x_t.T @ g, h_prev.T @ g, g.sum(axis=0)
'''),
    # --- rnn_backward: steps written inline, vectorised pieces, loop slips ---
    _w("rnn2", "rnn_backward", "step_no_tanh_derivative", '''
def rnn_backward(dh, x, h0, h, W_x, W_h):
    B, T, D = x.shape
    dx = np.zeros_like(x)
    dW_x, dW_h, db = np.zeros_like(W_x), np.zeros_like(W_h), np.zeros(W_h.shape[0])
    dnext = np.zeros_like(h0)
    for t in reversed(range(T)):
        dz = dh[:, t] + dnext
        hp = h[:, t - 1] if t > 0 else h0
        dx[:, t] = dz @ W_x.T
        dW_x += x[:, t].T @ dz
        dW_h += hp.T @ dz
        db += dz.sum(axis=0)
        dnext = dz @ W_h.T
    return dx, dnext, dW_x, dW_h, db
'''),
    _w("rnn2", "rnn_backward", "step_recurrent_not_transposed", '''
def rnn_backward(dh, x, h0, h, W_x, W_h):
    T = x.shape[1]
    previous = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    dx = np.zeros(x.shape)
    grads = [np.zeros(W_x.shape), np.zeros(W_h.shape), np.zeros(W_h.shape[0])]
    carry = 0
    for t in range(T - 1, -1, -1):
        dz = (dh[:, t] + carry) * (1 - h[:, t] ** 2)
        dx[:, t] = dz @ W_x.T
        grads[0] += x[:, t].T @ dz
        grads[1] += previous[:, t].T @ dz
        grads[2] += dz.sum(axis=0)
        carry = dz @ W_h
    return dx, carry, grads[0], grads[1], grads[2]
'''),
    _w("rnn2", "rnn_backward", "step_bias_not_summed", '''
def rnn_backward(dh, x, h0, h, W_x, W_h):
    B, T, D = x.shape
    dx = np.zeros((B, T, D))
    dW_x = np.zeros(W_x.shape)
    dW_h = np.zeros(W_h.shape)
    db = 0
    dh_next = np.zeros(h0.shape)
    for t in reversed(range(T)):
        h_prev = h0 if t == 0 else h[:, t - 1]
        dz = (dh[:, t] + dh_next) * (1 - h[:, t] ** 2)
        dx[:, t] = dz @ W_x.T
        dW_x += x[:, t].T @ dz
        dW_h += h_prev.T @ dz
        db = db + dz
        dh_next = dz @ W_h.T
    return dx, dh_next, dW_x, dW_h, db
'''),
    _w("rnn2", "rnn_backward", "step_derivative_at_h_prev", '''
def rnn_backward(dh, x, h0, h, W_x, W_h):
    T = x.shape[1]
    dx, dW_x, dW_h, db = np.zeros(x.shape), 0 * W_x, 0 * W_h, np.zeros(W_h.shape[1])
    upstream = np.zeros(h0.shape)
    for t in range(T - 1, -1, -1):
        before = h[:, t - 1] if t else h0
        dz = (dh[:, t] + upstream) * (1 - before ** 2)
        dx[:, t], upstream = dz @ W_x.T, dz @ W_h.T
        dW_x, dW_h, db = dW_x + x[:, t].T @ dz, dW_h + before.T @ dz, db + dz.sum(0)
    return dx, upstream, dW_x, dW_h, db
'''),
    _w("rnn2", "rnn_backward", "no_carry", '''
def rnn_backward(dh, x, h0, h, W_x, W_h):
    dx = np.zeros(x.shape)
    totals = [0, 0, 0]
    dh0 = None
    for t in reversed(range(x.shape[1])):
        h_prev = h[:, t - 1] if t > 0 else h0
        dx[:, t], dh0, *shares = rnn_step_backward(dh[:, t], x[:, t], h_prev, h[:, t], W_x, W_h)
        totals = [a + s for a, s in zip(totals, shares)]
    return (dx, dh0, *totals)
'''),
    _w("rnn2", "rnn_backward", "forward_in_time", '''
def rnn_backward(dh, x, h0, h, W_x, W_h):
    dx = np.zeros(x.shape)
    dW_x, dW_h, db = np.zeros(W_x.shape), np.zeros(W_h.shape), np.zeros(W_h.shape[0])
    dh_next = np.zeros(h0.shape)
    for t in range(x.shape[1]):
        h_prev = h[:, t - 1] if t > 0 else h0
        dx[:, t], dh_next, a, c, d = rnn_step_backward(dh[:, t] + dh_next, x[:, t], h_prev, h[:, t],
                                                       W_x, W_h)
        dW_x, dW_h, db = dW_x + a, dW_h + c, db + d
    return dx, dh_next, dW_x, dW_h, db
'''),
    _w("rnn2", "rnn_backward", "wrapped_h0", '''
def rnn_backward(dh, x, h0, h, W_x, W_h):
    dx = np.zeros(x.shape)
    dW_x, dW_h, db = np.zeros(W_x.shape), np.zeros(W_h.shape), np.zeros(W_h.shape[0])
    dh_next = np.zeros(h0.shape)
    for t in range(x.shape[1] - 1, -1, -1):
        dx[:, t], dh_next, a, c, d = rnn_step_backward(dh[:, t] + dh_next, x[:, t], h[:, t - 1],
                                                       h[:, t], W_x, W_h)
        dW_x += a
        dW_h += c
        db += d
    return dx, dh_next, dW_x, dW_h, db
'''),
    _w("rnn2", "rnn_backward", "no_accumulation", '''
def rnn_backward(dh, x, h0, h, W_x, W_h):
    dx = np.zeros(x.shape)
    carry = np.zeros(h0.shape)
    for t in reversed(range(x.shape[1])):
        h_prev = h[:, t - 1] if t > 0 else h0
        dz = (dh[:, t] + carry) * (1 - h[:, t] ** 2)
        dx[:, t] = dz @ W_x.T
        dW_x = x[:, t].T @ dz
        dW_h = h_prev.T @ dz
        db = dz.sum(axis=0)
        carry = dz @ W_h.T
    return dx, carry, dW_x, dW_h, db
'''),
    _w("rnn2", "rnn_backward", "averaged", '''
def rnn_backward(dh, x, h0, h, W_x, W_h):
    T = x.shape[1]
    dz = np.zeros(h.shape)
    carry = np.zeros(h0.shape)
    for t in reversed(range(T)):
        dz[:, t] = (dh[:, t] + carry) * (1 - h[:, t] ** 2)
        carry = dz[:, t] @ W_h.T
    previous = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    return (dz @ W_x.T, carry, np.einsum("btd,bth->dh", x, dz) / T,
            np.einsum("bti,btj->ij", previous, dz) / T, dz.sum(axis=(0, 1)) / T)
'''),
    # --- jacobian_norms ---
    *[_w("rnn2", "jacobian_norms", key, RIGHT["rnn2"][RIGHT["rnn2"].index("def jacobian_norms"):
                                                      RIGHT["rnn2"].index("def tanh_slope")]
         .replace(right, wrong))
      for key, right, wrong in [
          ("recurrent_not_transposed", "J = np.diag(1 - h[i, t] ** 2) @ W_h.T",
           "J = np.diag(1 - h[i, t] ** 2) @ W_h"),
          ("no_tanh_derivative", "J = np.diag(1 - h[i, t] ** 2) @ W_h.T", "J = W_h.T"),
          ("frobenius", "np.linalg.svd(P, compute_uv=False)[0]", "np.linalg.norm(P)"),
          ("one_factor_only", "P = P @ J", "P = J"),
          ("multiplied_on_the_left", "P = P @ J", "P = J @ P"),
          ("slope_one_step_early", "h[i, t] ** 2", "h[i, t - 1] ** 2"),
          ("indexed_by_step", "    return out", "    return out[:, ::-1]")]],
    # --- tanh_slope ---
    _w("rnn2", "tanh_slope", "not_squared", "def tanh_slope(h):\n    return np.subtract(1, h)\n"),
    _w("rnn2", "tanh_slope", "tanh_again", "def tanh_slope(h):\n    return 1 / np.cosh(h) ** 2\n"),
    _w("rnn2", "tanh_slope", "sign_flipped",
       "def tanh_slope(h):\n    h = np.asarray(h)\n    return h * h - 1\n"),
    _w("rnn2", "tanh_slope", "square_only", "def tanh_slope(h):\n    return np.square(h)\n"),
    _w("rnn2", "tanh_slope", "doubled", "def tanh_slope(h):\n    return np.asarray(h) * 2\n"),
    # --- clip_by_global_norm ---
    _w("rnn3", "clip_by_global_norm", "per_tensor", '''
def clip_by_global_norm(grads, max_norm):
    out = []
    for g in grads:
        if g is None:
            out.append(None)
            continue
        n = tf.norm(tf.cast(g, tf.float64))
        out.append(tf.cast(tf.cast(g, tf.float64) * max_norm / tf.maximum(n, max_norm), g.dtype))
    norm = tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(tf.cast(g, tf.float64)))
                             for g in grads if g is not None]))
    return out, norm
'''),
    _w("rnn3", "clip_by_global_norm", "no_square_root", '''
def clip_by_global_norm(grads, max_norm):
    total = 0.0
    for g in grads:
        if g is not None:
            total += float(np.sum(np.asarray(g, dtype=np.float64) ** 2))
    factor = max_norm / max(total, max_norm)
    return [None if g is None else (np.asarray(g) * factor).astype(np.asarray(g).dtype)
            for g in grads], total
'''),
    _w("rnn3", "clip_by_global_norm", "always_scales", '''
def clip_by_global_norm(grads, max_norm):
    kept = [tf.cast(g, tf.float64) for g in grads if g is not None]
    norm = tf.sqrt(sum(tf.reduce_sum(g ** 2) for g in kept))
    return [None if g is None else tf.cast(tf.cast(g, tf.float64) * (max_norm / norm), g.dtype)
            for g in grads], norm
'''),
    _w("rnn3", "clip_by_global_norm", "reports_clipped_norm", '''
def clip_by_global_norm(grads, max_norm):
    kept = [tf.cast(g, tf.float64) for g in grads if g is not None]
    norm = tf.sqrt(tf.add_n([tf.reduce_sum(g * g) for g in kept]))
    scale = max_norm / tf.maximum(norm, max_norm)
    clipped = [None if g is None else tf.cast(tf.cast(g, tf.float64) * scale, g.dtype)
               for g in grads]
    return clipped, tf.minimum(norm, max_norm)
'''),
    _w("rnn3", "clip_by_global_norm", "sum_of_norms", '''
def clip_by_global_norm(grads, max_norm):
    norm = sum(np.linalg.norm(np.asarray(g, np.float64).ravel()) for g in grads if g is not None)
    if norm > max_norm:
        grads = [None if g is None else
                 (np.asarray(g) * (max_norm / norm)).astype(np.asarray(g).dtype) for g in grads]
    return grads, norm
'''),
    _w("rnn3", "clip_by_global_norm", "clips_values", '''
def clip_by_global_norm(grads, max_norm):
    norm = tf.sqrt(tf.add_n([tf.reduce_sum(tf.square(tf.cast(g, tf.float64)))
                             for g in grads if g is not None]))
    return [None if g is None else tf.clip_by_value(g, -max_norm, max_norm) for g in grads], norm
'''),
    _w("rnn3", "clip_by_global_norm", "drops_none", '''
def clip_by_global_norm(grads, max_norm):
    grads = [g for g in grads if g is not None]
    norm = tf.sqrt(tf.add_n([tf.reduce_sum(tf.cast(g, tf.float64) ** 2) for g in grads]))
    s = max_norm / tf.maximum(norm, max_norm)
    return [tf.cast(tf.cast(g, tf.float64) * s, g.dtype) for g in grads], norm
'''),
    _w("rnn3", "clip_by_global_norm", "float64_output", '''
def clip_by_global_norm(grads, max_norm):
    arrays = [None if g is None else np.asarray(g, dtype=np.float64) for g in grads]
    norm = np.sqrt(sum(np.sum(a * a) for a in arrays if a is not None))
    scale = min(1.0, max_norm / norm)
    return [None if a is None else a * scale for a in arrays], norm
'''),
    # --- train_step: clipping written inline, loss slips, order slips ---
    _w("rnn3", "train_step", "applies_unclipped", '''
def train_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean((model(x) - y) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    clipped, norm = clip_by_global_norm(grads, max_norm if max_norm is not None else float("inf"))
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss), float(norm)
'''),
    _w("rnn3", "train_step", "loss_after_update", '''
def train_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    norm = tf.linalg.norm(tf.concat([tf.reshape(g, [-1]) for g in grads], axis=0))
    if max_norm is not None:
        grads, _ = clip_by_global_norm(grads, max_norm)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    loss = tf.reduce_mean(tf.square(model(x) - y))
    return float(loss), float(norm)
'''),
    _w("rnn3", "train_step", "summed_loss", '''
def train_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    norm = tf.sqrt(tf.add_n([tf.reduce_sum(g ** 2) for g in grads]))
    if max_norm is not None:
        grads, _ = clip_by_global_norm(grads, max_norm)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss), float(norm)
'''),
    _w("rnn3", "train_step", "per_tensor_clipping", '''
def train_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    norm = tf.sqrt(tf.add_n([tf.reduce_sum(g ** 2) for g in grads]))
    if max_norm is not None:
        grads = [g * tf.minimum(1.0, max_norm / tf.norm(g)) for g in grads]
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss), float(norm)
'''),
    _w("rnn3", "train_step", "clipping_no_square_root", '''
def train_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    squared = tf.add_n([tf.reduce_sum(g * g) for g in grads])
    if max_norm is not None:
        grads = [g * (max_norm / tf.maximum(squared, max_norm)) for g in grads]
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss), float(squared)
'''),
    _w("rnn3", "train_step", "no_norm_without_clipping", '''
def train_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    norm = 0.0
    if max_norm is not None:
        grads, norm = clip_by_global_norm(grads, max_norm)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss), float(norm)
'''),
    _w("rnn3", "train_step", "reports_clipped_norm", '''
def train_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    norm = tf.sqrt(tf.add_n([tf.reduce_sum(g ** 2) for g in grads]))
    if max_norm is not None:
        grads, _ = clip_by_global_norm(grads, max_norm)
        norm = tf.minimum(norm, max_norm)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss), float(norm)
'''),
    _w("rnn3", "train_step", "clipping_largest_norm", '''
def train_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    norm = max(float(tf.norm(g)) for g in grads)
    if max_norm is not None and norm > max_norm:
        grads = [g * (max_norm / norm) for g in grads]
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return float(loss), norm
'''),
    # --- clipped_step_bound ---
    _w("rnn3", "clipped_step_bound", "threshold_over_rate",
       "def clipped_step_bound(learning_rate, max_norm):\n"
       "    return float(max_norm) / learning_rate\n"),
    _w("rnn3", "clipped_step_bound", "rate_over_threshold",
       "def clipped_step_bound(learning_rate, max_norm):\n"
       "    step = learning_rate\n    step /= max_norm\n    return step\n"),
    _w("rnn3", "clipped_step_bound", "threshold_only",
       "def clipped_step_bound(learning_rate, max_norm):\n"
       "    # the gradient's length is at most max_norm\n    return max_norm\n"),
    _w("rnn3", "clipped_step_bound", "rate_only",
       "def clipped_step_bound(learning_rate, max_norm):\n"
       "    return learning_rate * 1.0\n"),
    _w("rnn3", "clipped_step_bound", "threshold_squared",
       "def clipped_step_bound(learning_rate, max_norm):\n"
       "    return learning_rate * np.square(max_norm)\n"),
    # --- the builders ---
    _w("rnn4", "build_many_to_one", "returns_sequences", '''
def build_many_to_one(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)),
                             keras.layers.SimpleRNN(units, return_sequences=True),
                             keras.layers.Dense(num_classes, activation="softmax")])
'''),
    _w("rnn4", "build_many_to_one", "no_softmax", '''
def build_many_to_one(input_dim, num_classes, units=16):
    inputs = keras.Input(shape=(None, input_dim))
    last = keras.layers.SimpleRNN(units)(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes)(last))
'''),
    _w("rnn4", "build_many_to_one", "sigmoid_readout", '''
def build_many_to_one(input_dim, num_classes, units=16):
    model = keras.Sequential()
    model.add(keras.Input((None, input_dim)))
    model.add(keras.layers.SimpleRNN(units))
    model.add(keras.layers.Dense(num_classes, activation=keras.activations.sigmoid))
    return model
'''),
    _w("rnn4", "build_many_to_one", "gru", '''
def build_many_to_one(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)), keras.layers.GRU(units),
                             keras.layers.Dense(num_classes, activation="softmax")])
'''),
    _w("rnn4", "build_many_to_one", "fixed_units", '''
def build_many_to_one(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)), keras.layers.SimpleRNN(16),
                             keras.layers.Dense(num_classes, activation="softmax")])
'''),
    _w("rnn4", "build_one_to_many", "softmax_readout", '''
def build_one_to_many(input_dim, seq_len, output_dim=1, units=16):
    return keras.Sequential([keras.Input((input_dim,)), keras.layers.RepeatVector(seq_len),
                             keras.layers.SimpleRNN(units, return_sequences=True),
                             keras.layers.Dense(output_dim, activation="softmax")])
'''),
    _w("rnn4", "build_one_to_many", "tanh_readout", '''
def build_one_to_many(input_dim, seq_len, output_dim=1, units=16):
    vector = keras.Input((input_dim,))
    steps = keras.layers.RepeatVector(seq_len)(vector)
    states = keras.layers.SimpleRNN(units, return_sequences=True)(steps)
    return keras.Model(vector, keras.layers.Dense(output_dim, activation="tanh")(states))
'''),
    _w("rnn4", "build_one_to_many", "fixed_length", '''
def build_one_to_many(input_dim, seq_len, output_dim=1, units=16):
    return keras.Sequential([keras.Input((input_dim,)), keras.layers.RepeatVector(15),
                             keras.layers.SimpleRNN(units, return_sequences=True),
                             keras.layers.Dense(output_dim)])
'''),
    _w("rnn4", "build_one_to_many", "last_state_only", '''
def build_one_to_many(input_dim, seq_len, output_dim=1, units=16):
    return keras.Sequential([keras.Input((input_dim,)), keras.layers.RepeatVector(seq_len),
                             keras.layers.SimpleRNN(units), keras.layers.Dense(output_dim)])
'''),
    _w("rnn4", "build_one_to_many", "gru", '''
def build_one_to_many(input_dim, seq_len, output_dim=1, units=16):
    return keras.Sequential([keras.Input((input_dim,)), keras.layers.RepeatVector(seq_len),
                             keras.layers.GRU(units, return_sequences=True),
                             keras.layers.Dense(output_dim)])
'''),
    _w("rnn4", "build_many_to_many", "bidirectional", '''
def build_many_to_many(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)),
                             keras.layers.Bidirectional(
                                 keras.layers.SimpleRNN(units, return_sequences=True)),
                             keras.layers.Dense(num_classes, activation="softmax")])
'''),
    _w("rnn4", "build_many_to_many", "go_backwards", '''
def build_many_to_many(input_dim, num_classes, units=16):
    inputs = keras.Input((None, input_dim))
    states = keras.layers.SimpleRNN(units, return_sequences=True, go_backwards=True)(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(states))
'''),
    _w("rnn4", "build_many_to_many", "last_state_only", '''
def build_many_to_many(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)), keras.layers.SimpleRNN(units),
                             keras.layers.Dense(num_classes, activation="softmax")])
'''),
    _w("rnn4", "build_many_to_many", "no_softmax", '''
def build_many_to_many(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)),
                             keras.layers.SimpleRNN(units, return_sequences=True),
                             keras.layers.TimeDistributed(keras.layers.Dense(num_classes))])
'''),
    _w("rnn4", "build_many_to_many", "gru", '''
def build_many_to_many(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)),
                             keras.layers.GRU(units, return_sequences=True),
                             keras.layers.Dense(num_classes, activation="softmax")])
'''),
    _w("rnn4", "build_bidirectional_tagger", "not_bidirectional", '''
def build_bidirectional_tagger(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)),
                             keras.layers.SimpleRNN(2 * units, return_sequences=True),
                             keras.layers.Dense(num_classes, activation="softmax")])
'''),
    _w("rnn4", "build_bidirectional_tagger", "merge_sum", '''
def build_bidirectional_tagger(input_dim, num_classes, units=16):
    inputs = keras.Input((None, input_dim))
    both = keras.layers.Bidirectional(keras.layers.SimpleRNN(units, return_sequences=True),
                                      merge_mode="sum")(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation="softmax")(both))
'''),
    _w("rnn4", "build_bidirectional_tagger", "last_state_only", '''
def build_bidirectional_tagger(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)),
                             keras.layers.Bidirectional(keras.layers.SimpleRNN(units)),
                             keras.layers.Dense(num_classes, activation="softmax")])
'''),
    _w("rnn4", "build_bidirectional_tagger", "no_softmax", '''
def build_bidirectional_tagger(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)),
                             keras.layers.Bidirectional(
                                 keras.layers.SimpleRNN(units, return_sequences=True)),
                             keras.layers.Dense(num_classes, activation="linear")])
'''),
    _w("rnn4", "build_bidirectional_tagger", "gru", '''
def build_bidirectional_tagger(input_dim, num_classes, units=16):
    return keras.Sequential([keras.Input((None, input_dim)),
                             keras.layers.Bidirectional(
                                 keras.layers.GRU(units, return_sequences=True)),
                             keras.layers.Dense(num_classes, activation="softmax")])
'''),
    _w("rnn4", "build_encoder_decoder", "no_context", '''
def build_encoder_decoder(input_dim, decoder_vocab, num_classes, units=32):
    source = keras.Input((None, input_dim))
    previous = keras.Input((None, decoder_vocab))
    keras.layers.SimpleRNN(units)(source)
    out = keras.layers.SimpleRNN(units, return_sequences=True)(previous)
    probabilities = keras.layers.Dense(num_classes, activation="softmax")(out)
    return keras.Model([source, previous], probabilities)
'''),
    _w("rnn4", "build_encoder_decoder", "ignores_previous_tokens", '''
def build_encoder_decoder(input_dim, decoder_vocab, num_classes, units=32):
    source = keras.Input((None, input_dim))
    previous = keras.Input((None, decoder_vocab))
    context = keras.layers.SimpleRNN(units)(source)
    blank = keras.layers.Lambda(lambda p: keras.ops.zeros_like(p))(previous)
    out = keras.layers.SimpleRNN(units, return_sequences=True)(blank, initial_state=context)
    probabilities = keras.layers.Dense(num_classes, activation="softmax")(out)
    return keras.Model([source, previous], probabilities)
'''),
    _w("rnn4", "build_encoder_decoder", "last_state_only", '''
def build_encoder_decoder(input_dim, decoder_vocab, num_classes, units=32):
    source = keras.Input((None, input_dim))
    previous = keras.Input((None, decoder_vocab))
    context = keras.layers.SimpleRNN(units)(source)
    out = keras.layers.SimpleRNN(units)(previous, initial_state=context)
    probabilities = keras.layers.Dense(num_classes, activation="softmax")(out)
    return keras.Model([source, previous], probabilities)
'''),
    _w("rnn4", "build_encoder_decoder", "no_softmax", '''
def build_encoder_decoder(input_dim, decoder_vocab, num_classes, units=32):
    source = keras.Input((None, input_dim))
    previous = keras.Input((None, decoder_vocab))
    _, state = keras.layers.SimpleRNN(units, return_state=True)(source)
    out = keras.layers.SimpleRNN(units, return_sequences=True)(previous, initial_state=state)
    return keras.Model([source, previous], keras.layers.Dense(num_classes)(out))
'''),
    _w("rnn4", "build_encoder_decoder", "gru", '''
def build_encoder_decoder(input_dim, decoder_vocab, num_classes, units=32):
    source = keras.Input((None, input_dim))
    previous = keras.Input((None, decoder_vocab))
    context = keras.layers.GRU(units)(source)
    out = keras.layers.GRU(units, return_sequences=True)(previous, initial_state=context)
    probabilities = keras.layers.Dense(num_classes, activation="softmax")(out)
    return keras.Model([source, previous], probabilities)
'''),
]

# Right answers in unusual forms: each must pass its check.
RIGHT_UNUSUAL = [
    _w("rnn1", "rnn_step_forward", "", '''
def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    stacked = np.concatenate([x_t, h_prev], axis=1) @ np.concatenate([W_x, W_h], axis=0)
    return tf.math.tanh(stacked + b).numpy()
'''),
    _w("rnn1", "rnn_forward", "", '''
def rnn_forward(x, h0, W_x, W_h, b):
    out = np.empty(x.shape[:2] + h0.shape[1:], dtype=np.result_type(x, W_x))
    h = h0
    for t, x_t in enumerate(np.swapaxes(x, 0, 1)):
        out[:, t] = h = np.tanh(x_t @ W_x + h @ W_h + b)
    return out, [out]
'''),
    _w("rnn1", "rnn_param_count", "",
       "def rnn_param_count(D, H):\n    return sum(np.prod(s) for s in [(D, H), (H, H), (H,)])\n"),
    _w("rnn2", "rnn_backward", "", '''
def rnn_backward(dh, x, h0, h, W_x, W_h):
    B, T, D = x.shape
    dz = np.zeros(h.shape)
    carry = np.zeros(h0.shape)
    for t in range(T)[::-1]:
        dz[:, t] = (dh[:, t] + carry) * (1 - h[:, t] ** 2)
        carry = dz[:, t] @ W_h.T
    previous = np.concatenate([h0[:, None], h[:, :-1]], axis=1)
    return (np.einsum("bth,dh->btd", dz, W_x), carry, np.einsum("btd,bth->dh", x, dz),
            np.einsum("bti,btj->ij", previous, dz), dz.sum(axis=(0, 1)))
'''),
    _w("rnn2", "tanh_slope", "", "def tanh_slope(h):\n    return 1 - np.power(np.asarray(h), 2)\n"),
    _w("rnn3", "clip_by_global_norm", "", '''
def clip_by_global_norm(grads, max_norm):
    norm = np.sqrt(sum(float(np.vdot(np.asarray(g, np.float64), np.asarray(g, np.float64)))
                       for g in grads if g is not None))
    factor = 1.0 if norm <= max_norm else max_norm / norm
    return [g if g is None else (np.asarray(g, np.float64) * factor).astype(np.asarray(g).dtype)
            for g in grads], norm
'''),
    _w("rnn3", "train_step", "", '''
def train_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = keras.ops.mean(keras.ops.square(y - model(x)))
    grads = tape.gradient(loss, model.trainable_weights)
    norm = float(np.sqrt(sum(np.sum(np.square(g.numpy().astype(np.float64))) for g in grads)))
    if max_norm is not None:  # the student's own clipping, called in an unusual form
        grads = clip_by_global_norm(grads, max_norm)[0]
    optimizer.apply(grads, model.trainable_weights)
    return float(loss), norm
'''),
    _w("rnn4", "build_many_to_one", "", '''
def build_many_to_one(input_dim, num_classes, units=16):
    model = keras.Sequential(name="sentiment")
    model.add(keras.Input(shape=(None, input_dim)))
    model.add(keras.layers.SimpleRNN(units=units, activation="tanh", return_sequences=False))
    model.add(keras.layers.Dense(num_classes))
    model.add(keras.layers.Softmax())
    return model
'''),
    _w("rnn4", "build_one_to_many", "", '''
def build_one_to_many(input_dim, seq_len, output_dim=1, units=16):
    vector = keras.Input(shape=(input_dim,))
    repeated = keras.layers.RepeatVector(seq_len)(vector)
    states = keras.layers.SimpleRNN(units, return_sequences=True)(repeated)
    return keras.Model(vector, keras.layers.TimeDistributed(keras.layers.Dense(output_dim))(states))
'''),
    _w("rnn4", "build_many_to_many", "", '''
def build_many_to_many(input_dim, num_classes, units=16):
    layers = [keras.layers.SimpleRNN(units, return_sequences=True), keras.layers.Dense(num_classes),
              keras.layers.Activation(keras.activations.softmax)]
    x = inputs = keras.Input((None, input_dim))
    for layer in layers:
        x = layer(x)
    return keras.Model(inputs=inputs, outputs=x)
'''),
    _w("rnn4", "build_bidirectional_tagger", "", '''
def build_bidirectional_tagger(input_dim, num_classes, units=16):
    forward = keras.layers.SimpleRNN(units, return_sequences=True)
    backward = keras.layers.SimpleRNN(units, return_sequences=True, go_backwards=True)
    both = keras.layers.Bidirectional(forward, backward_layer=backward, merge_mode="concat")
    return keras.Sequential([keras.Input((None, input_dim)), both,
                             keras.layers.Dense(num_classes, activation="softmax")])
'''),
    _w("rnn4", "build_encoder_decoder", "", '''
def build_encoder_decoder(input_dim, decoder_vocab, num_classes, units=32):
    encoder = keras.layers.SimpleRNN(units, return_state=True)
    decoder = keras.layers.SimpleRNN(units, return_sequences=True)
    source, previous = keras.Input((None, input_dim)), keras.Input((None, decoder_vocab))
    _, last_state = encoder(source)
    read_out = keras.layers.Dense(num_classes, activation="softmax")
    return keras.Model(inputs=[source, previous],
                       outputs=read_out(decoder(previous, initial_state=[last_state])))
'''),
]

ASSIGNMENTS = {"rnn1": rnn1, "rnn2": rnn2, "rnn3": rnn3, "rnn4": rnn4}
EXERCISES = {e.name: (a, e) for a, module in ASSIGNMENTS.items() for e in module.EXERCISES}
GUARDS = {"rnn1": testing.FORWARD_FORBIDDEN, "rnn2": testing.BACKWARD_FORBIDDEN,
          "rnn3": testing.CLIPPING_FORBIDDEN, "rnn4": testing.CONFIGURATIONS_FORBIDDEN}
# The exercises that call, or are called by, another: a mistake in one must not cost the other.
NEIGHBOURS = {"rnn_step_forward": ("rnn_forward",), "rnn_forward": ("rnn_step_forward",),
              "rnn_step_backward": ("rnn_backward",), "rnn_backward": ("rnn_step_backward",),
              "clip_by_global_norm": ("train_step",), "train_step": ("clip_by_global_norm",)}


def _notebook(written: Written) -> dict:
    """The assignment's right answers, then the written answer, in one namespace as a notebook
    defines them."""
    namespace = {"np": np, "tf": tf, "keras": keras}
    exec(RIGHT[written.assignment], namespace)
    exec(written.source, namespace)
    return namespace


def _verdict(name: str, namespace: dict, assignment: str) -> str | None:
    """What the hidden check of exercise `name` says: None when it passes, else its message."""
    _, exercise = EXERCISES[name]
    answer = namespace[name]
    if name == "MinimalRNNCell":  # the hidden test runs the class through the kit's probe
        answer = probed(answer, "rnn_course_student.probe_cells:rnn_outputs")
    try:
        check(exercise, answer, namespace=namespace,
              guard=lambda: testing.forbid(*GUARDS[assignment], task=name))
    except AssertionError as failure:
        assert type(failure) is AssertionError, f"{name}: {type(failure).__name__}: {failure}"
        return str(failure)
    return None


@functools.lru_cache(maxsize=None)
def _outcome(written: Written) -> tuple[str | None, dict]:
    """(the exercise's message, {neighbour: message} for every neighbour that fails)."""
    namespace = _notebook(written)
    message = _verdict(written.exercise, namespace, written.assignment)
    blamed = {n: m for n in NEIGHBOURS.get(written.exercise, ())
              if (m := _verdict(n, _notebook(written), written.assignment)) is not None}
    return message, blamed


def _named(written: Written, message: str | None) -> bool:
    _, exercise = EXERCISES[written.exercise]
    words = f"{written.exercise}: {exercise.mistake(written.key).message}."
    return message is not None and (message == words or message.startswith(
        words + " That is not the only difference"))


def _ids(entries):
    seen: dict[str, int] = {}
    ids = []
    for w in entries:
        label = f"{w.exercise}-{w.key or 'right'}"
        seen[label] = seen.get(label, 0) + 1
        ids.append(label + (f"-{seen[label]}" if seen[label] > 1 else ""))
    return ids


def test_every_coded_exercise_has_at_least_five_written_mistakes():
    counts = {name: sum(w.exercise == name for w in WRITTEN) for name in EXERCISES}
    assert all(n >= 5 for n in counts.values()), counts
    for w in WRITTEN:  # each names a catalogued mistake of its exercise
        EXERCISES[w.exercise][1].mistake(w.key)


@pytest.mark.parametrize("written", WRITTEN, ids=_ids(WRITTEN))
def test_a_written_mistake_fails_its_own_check_only_and_is_never_misnamed(written):
    message, blamed = _outcome(written)
    assert message is not None and message.startswith(written.exercise + ":"), message
    _, exercise = EXERCISES[written.exercise]
    others = [m.key for m in exercise.mistakes
              if m.key != written.key and f"{written.exercise}: {m.message}." in message]
    assert not others, f"named {others} instead of {written.key}: {message}"
    if not _named(written, message):  # then it says where the output goes wrong, in place of a name
        assert " is wrong for " in message or " raised " in message, message
        assert " values differ" not in message, message
    assert not blamed, f"a right neighbour is blamed: {blamed}"


def test_nine_in_ten_written_mistakes_are_named_in_the_first_failing_message():
    """The issue's figure: named in the first failing message, with no right neighbour blamed."""
    missed = [(w.exercise, w.key, *_outcome(w)) for w in WRITTEN
              if not _named(w, _outcome(w)[0]) or _outcome(w)[1]]
    share = 1 - len(missed) / len(WRITTEN)
    by_assignment = {a: (sum(w.assignment == a for w in WRITTEN)
                         - sum(EXERCISES[m[0]][0] == a for m in missed),
                         sum(w.assignment == a for w in WRITTEN)) for a in ASSIGNMENTS}
    print(f"named, with no right neighbour blamed: {len(WRITTEN) - len(missed)} of {len(WRITTEN)} "
          f"written mistakes ({share:.0%}); "
          + ", ".join(f"{a} {n}/{t}" for a, (n, t) in by_assignment.items()))
    for miss in missed:
        print("  not named, or a neighbour blamed:", miss)
    assert share >= 0.9, missed


@pytest.mark.parametrize("written", RIGHT_UNUSUAL, ids=_ids(RIGHT_UNUSUAL))
def test_a_right_answer_in_an_unusual_form_passes(written):
    namespace = _notebook(written)
    for name in (written.exercise, *NEIGHBOURS.get(written.exercise, ())):
        assert _verdict(name, namespace, written.assignment) is None, name


@pytest.mark.parametrize("assignment", sorted(RIGHT))
def test_the_right_notebooks_pass_every_check(assignment):
    namespace = {"np": np, "tf": tf, "keras": keras}
    exec(RIGHT[assignment], namespace)
    for exercise in ASSIGNMENTS[assignment].EXERCISES:
        assert _verdict(exercise.name, namespace, assignment) is None, exercise.name
