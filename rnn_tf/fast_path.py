"""The fast path of rnn_tf.SimpleRNN: the lecture's BPTT written out as the layer's own gradient.
Lesson 2 (backpropagation through time): only the dh recurrence is sequential; the rest is matmuls.

`cell.py` is the lesson: one step, h_t = tanh(x_t W_x + h_{t-1} W_h + b), looped by
`keras.layers.RNN` and differentiated by TensorFlow's autodiff through the loop, which costs many
small operations per time step. This module computes the same numbers with the work arranged the
way the BPTT derivation suggests. Row layout, as Keras stores the weights (`W_x` is `kernel`
(D, H), `W_h` is `recurrent_kernel` (H, H)); g_t = dL/dh_t arriving from above the layer:

    forward, t = 1..T                        backward, t = T..1, starting from dh_next = 0
    z_t = x_t @ W_x + h_{t-1} @ W_h + b      dz_t    = (g_t + dh_next) * act'(h_t)
    h_t = act(z_t)                           dh_next = dz_t @ W_h^T      (the sequential chain)
                                             dW_x   += x_t^T dz_t,   dW_h += h_{t-1}^T dz_t
                                             db     += sum over the batch of dz_t
                                             dx_t    = dz_t @ W_x^T  (only if dL/dx is wanted)
                                             dh_0    = dh_next after the loop

Only h_t and dh_next are true recurrences. x_t @ W_x for all t could be one matmul X @ W_x, and
the sums over t the matmuls X^T dZ and H_prev^T dZ, outside the loops; once the loops are
compiled that buys no time beyond the noise, and each costs a whole (B, T, H) buffer (XW, dZ)
beside the outputs and dL/dh, about 1.5x Keras's peak memory for a training step (measurements in
benchmarks/RESULTS.md). So each step does its piece in the compiled loop: same sums, no buffers.

Both loops are compiled with XLA (`jit_compile=True`), which fuses a step's operations and
removes TensorFlow's per-operation dispatch cost (it dominates at small sizes), and tensors stay
batch-major, with step t written in place into column t, so no transposed copy of a whole
sequence is made. act'(z_t) is computed from h_t alone (tanh' = 1 - h_t^2), so the backward pass
keeps only the inputs and the outputs. Second derivatives are not supported.

`simple_rnn(...)` runs the op; `applies_to(layer, mask, training)` and `layer_call(...)` are what
`rnn_tf.SimpleRNN.call` uses to take this path where it gives the general path's results.
"""

import functools
import importlib

import keras
import tensorflow as tf


def _private_tensorflow():
    """The two private TensorFlow modules the fast path needs, or (None, None).

    The only private TensorFlow imports, here in one place:
    - xla.dynamic_update_slice writes column t of a (B, T, H) buffer in place inside the compiled
      loop (what TensorArray does for time-major rows); TensorFlow has no public op for it, and a
      TensorArray would force time-major buffers and transposed copies of whole sequences.
    - record tells whether any gradient tape will ask for dL/dx (see _input_needs_gradient).
    Each function is called once, building ops in a throwaway graph (a few milliseconds), so that
    a release that moves, renames or changes them fails here, not inside a user's model. ANY
    failure (ImportError, AttributeError, TypeError, an error raised by TensorFlow itself) leaves
    the layer on its general path, which gives the same numbers.
    """
    try:
        xla = importlib.import_module("tensorflow.compiler.tf2xla.python.xla")
        record = importlib.import_module("tensorflow.python.eager.record")
        with tf.Graph().as_default():
            written = xla.dynamic_update_slice(tf.zeros([1, 2, 1]), tf.ones([1, 1, 1]), [0, 1, 0])
            if tuple(written.shape) != (1, 2, 1):
                raise ValueError(f"dynamic_update_slice gave shape {written.shape}")
            bool(record.could_possibly_record())
            bool(record.should_record_backprop([tf.zeros([1])]))
    except Exception:  # noqa: BLE001 - any failure means: keep to the general path
        return None, None
    return xla, record


_xla, _record = _private_tensorflow()

# h = act(z) and act'(z) written with h alone: all the backward pass needs from the forward one.
_ACTIVATIONS = {
    "tanh": (tf.tanh, lambda h: 1.0 - tf.square(h)),
    "sigmoid": (tf.sigmoid, lambda h: h * (1.0 - h)),
    "relu": (tf.nn.relu, lambda h: tf.cast(h > 0, h.dtype)),  # 0 at z = 0, as TF's ReluGrad
    "linear": (tf.identity, lambda h: tf.ones_like(h)),
}
_DTYPES = ("float32", "float64")


def activation_name(activation):
    """The name under which `_ACTIVATIONS` knows a Keras activation function, or None."""
    for name in _ACTIVATIONS:
        if activation is keras.activations.get(name):
            return name
    return None


# ---------------------------------------------------------------------------------------------
# The two sequential loops, each one XLA program. Tensors stay batch-major, (B, T, ...), as
# Keras's are: step t reads column t and writes its result into column t of a (B, T, ...) buffer
# in place, so no transposed copy of a whole sequence is ever made (that is where memory goes).


def _write_column(buffer, t, value):
    """buffer[:, t] = value, in place under XLA; buffer (B, T, N), value (B, N)."""
    return _xla.dynamic_update_slice(buffer, value[:, None], [0, t, 0])


def _make_forward(act):
    @tf.function(jit_compile=True, autograph=False)
    def forward(x, h0, W_x, W_h, b):
        """(B, T, D) inputs -> (B, T, H) outputs h_1..h_T."""

        def step(t, h_prev, hs):
            z = tf.matmul(x[:, t], W_x) + tf.matmul(h_prev, W_h)  # (B, H): z_t
            h = act(z if b is None else z + b)  # (B, H): h_t = act(z_t)
            return t + 1, h, _write_column(hs, t, h)

        B, T = tf.unstack(tf.shape(x)[:2])
        hs = tf.zeros([B, T, tf.shape(h0)[1]], x.dtype)  # (B, T, H), filled in column by column
        _, _, hs = tf.while_loop(lambda t, *_: t < T, step, (0, h0, hs), maximum_iterations=T)
        return hs

    return forward


def _make_backward(d_act, with_dx):
    @tf.function(jit_compile=True, autograph=False)
    def backward(x, h0, W_x, W_h, hs, g):
        """dL/dh_t (B, T, H) from above -> dX (B, T, D) or None, dh_0, dW_x, dW_h, db."""
        W_h_T, W_x_T = tf.transpose(W_h), tf.transpose(W_x)  # (H, H), (H, D)

        def step(t, dh_next, dW_x, dW_h, db, dX):
            dz = (g[:, t] + dh_next) * d_act(hs[:, t])  # (B, H): dz_t
            h_prev = tf.where(t > 0, hs[:, tf.maximum(t - 1, 0)], h0)  # (B, H): h_{t-1}
            if with_dx:
                dX = _write_column(dX, t, tf.matmul(dz, W_x_T))  # dx_t = dz_t W_x^T
            return (
                t - 1,
                tf.matmul(dz, W_h_T),  # dh_{t-1} = dz_t W_h^T: the only sequential product
                dW_x + tf.matmul(x[:, t], dz, transpose_a=True),  # += x_t^T dz_t
                dW_h + tf.matmul(h_prev, dz, transpose_a=True),  # += h_{t-1}^T dz_t
                db + tf.reduce_sum(dz, axis=0),  # += sum over the batch of dz_t
                dX,
            )

        steps = tf.shape(g)[1]
        dX = tf.zeros_like(x) if with_dx else tf.zeros([])  # (B, T, D), only if asked for
        start = (steps - 1, tf.zeros_like(h0), tf.zeros_like(W_x), tf.zeros_like(W_h),
                 tf.zeros_like(W_h[0]), dX)
        _, dh0, dW_x, dW_h, db, dX = tf.while_loop(
            lambda t, *_: t >= 0, step, start, maximum_iterations=steps
        )
        return (dX if with_dx else None), dh0, dW_x, dW_h, db

    return backward


def _make_op(activation, use_bias, with_dx):
    act, d_act = _ACTIVATIONS[activation]
    forward = _make_forward(act)
    backward = _make_backward(d_act, with_dx)

    @tf.custom_gradient
    def op(x, h0, W_x, W_h, *maybe_b):
        # Feed the compiled loop gradient-free inputs: `grad` below is its gradient, so no tape
        # should record the loop (and keep its intermediates alive) on top.
        b = tf.stop_gradient(maybe_b[0]) if use_bias else None
        hs = forward(*[tf.stop_gradient(t) for t in (x, h0, W_x, W_h)], b)  # (B, T, H)

        def grad(g):  # g: dL/dh_t, (B, T, H)
            grads = backward(x, h0, W_x, W_h, hs, g)
            return grads if use_bias else grads[:4]

        return hs, grad

    return op


def _input_needs_gradient(x):
    """False only when a tape records this computation but will never ask for dL/dx.

    That is the usual case (the RNN reads the data directly, as in model.fit), and skipping
    dX = dZ @ W_x^T saves its time and its (B, T, D) buffer. With no tape at all (inference, or
    tf.gradients in a graph) the answer is True, to be safe.
    """
    return not _record.could_possibly_record() or _record.should_record_backprop([x])


# Each op holds two tf.functions and, once called, their XLA programs for one signature. A
# program or a service that sees ever new shapes (sequence lengths, batch sizes) would otherwise
# keep every one of them alive; the least recently used is dropped beyond this many.
_MAX_CACHED_OPS = 32


@functools.lru_cache(maxsize=_MAX_CACHED_OPS)
def _op(activation, use_bias, with_dx, signature):
    """The op for one static signature (input shapes and dtype), made once and then reused."""
    return _make_op(activation, use_bias, with_dx)


def simple_rnn(x, h0, kernel, recurrent_kernel, bias=None, activation="tanh", go_backwards=False):
    """Runs a SimpleRNN over whole sequences, with the hand-written BPTT as its gradient.

    Args:
        x: Inputs, `(B, T, D)`, float32 or float64.
        h0: Initial state h_0, `(B, H)`.
        kernel: W_x, `(D, H)`. recurrent_kernel: W_h, `(H, H)`. bias: b, `(H,)`, or None.
        activation: "tanh", "sigmoid", "relu" or "linear".
        go_backwards: Read the sequence from t = T down to 1; the outputs come in that
            (processing) order, as Keras's do.

    Returns:
        `(outputs, last_state)`: every h_t, `(B, T, H)`, and the last one, `(B, H)`.

    Example:
        >>> x = tf.random.normal((8, 20, 32))                                 # (B, T, D)
        >>> W_x, W_h = tf.random.normal((32, 64)), 0.1 * tf.random.normal((64, 64))
        >>> outputs, last = simple_rnn(x, tf.zeros((8, 64)), W_x, W_h, tf.zeros(64))
        >>> outputs.shape, last.shape                                 # (B, T, H), (B, H)
        (TensorShape([8, 20, 64]), TensorShape([8, 64]))
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(
            f"simple_rnn supports the activations {sorted(_ACTIVATIONS)}; got {activation!r}."
        )
    if _xla is None:
        raise RuntimeError(
            "simple_rnn needs two private TensorFlow modules that this TensorFlow release does "
            "not provide as expected; rnn_tf.SimpleRNN works without them (its general path)."
        )
    x, h0 = tf.convert_to_tensor(x), tf.convert_to_tensor(h0)
    key = (activation, bias is not None, _input_needs_gradient(x))
    # One op, with its own two tf.functions, per static signature: each is traced once and XLA
    # compiles it once per concrete shape. (A shared function retraced for every new shape
    # relaxes to unknown shapes, and its XLA program then kept a whole extra (B, T, H) buffer;
    # it also makes TensorFlow warn on stderr about frequent retracing.)
    signature = (tuple(x.shape), tuple(h0.shape), tuple(kernel.shape), x.dtype)
    op = _op(*key, signature)
    if go_backwards:
        x = tf.reverse(x, axis=[1])
    # Read variables here, outside the op: custom_gradient must only ever see tensors.
    weights = [tf.convert_to_tensor(w) for w in (kernel, recurrent_kernel, bias) if w is not None]
    outputs = op(x, h0, *weights)  # (B, T, H)
    return outputs, outputs[:, -1]


# ---------------------------------------------------------------------------------------------
# Use from rnn_tf.SimpleRNN.call.


def applies_to(layer, mask, training):
    """Whether `layer_call` gives exactly what keras.layers.RNN's general loop gives.

    Only inside a `tf.function` (model.fit, predict, a compiled step): there the XLA programs
    are compiled once and reused, while eager calls (notebooks, trying shapes out) would compile
    two per new shape, up to seconds each; eagerly the general path is the better deal.
    Not for: masks (a masked step keeps the previous state), dropout or recurrent dropout (the
    cell draws masks from its seed stream even in inference), stateful layers, `unroll=True`,
    activations or dtypes (mixed precision included) this module does not implement.
    """
    cell = layer.cell
    return (
        _xla is not None
        and not tf.executing_eagerly()
        and mask is None
        and not cell.dropout
        and not cell.recurrent_dropout
        and not layer.stateful
        and not layer.unroll
        and activation_name(cell.activation) is not None
        and cell.compute_dtype in _DTYPES
        and cell.variable_dtype == cell.compute_dtype
    )


def layer_call(layer, sequences, initial_state=None):
    """What `keras.layers.RNN.call` returns for `layer`, computed by `simple_rnn`.

    Args:
        layer: a built `rnn_tf.SimpleRNN` for which `applies_to` holds.
        sequences: `(B, T, D)`. initial_state: h_0 as `(B, H)` or a list of one; zeros if None.

    Returns:
        The last output `(B, H)` or all of them `(B, T, H)` (`return_sequences`), followed by the
        last state if `return_state`, as the layer's general path returns them.
    """
    cell = layer.cell
    dtype = cell.compute_dtype
    x = tf.cast(sequences, dtype)  # (B, T, D)
    if initial_state is None:
        h0 = tf.zeros((tf.shape(x)[0], cell.units), dtype=dtype)  # (B, H): h_0 = 0
    else:
        state = initial_state[0] if isinstance(initial_state, (list, tuple)) else initial_state
        h0 = tf.cast(state, dtype)  # (B, H)
    bias = cell.bias if cell.use_bias else None
    outputs, last = simple_rnn(
        x,
        h0,
        cell.kernel,
        cell.recurrent_kernel,
        bias,
        activation=activation_name(cell.activation),
        go_backwards=layer.go_backwards,
    )
    output = outputs if layer.return_sequences else last
    return (output, last) if layer.return_state else output
