"""The fast path of rnn_tf.SimpleRNN: the lecture's BPTT written out as the layer's own gradient.
Lesson 2 (backpropagation through time): only the dh recurrence is sequential; the rest is matmuls.

`cell.py` is the lesson: one step, h_t = tanh(x_t W_x + h_{t-1} W_h + b), looped by
`keras.layers.RNN` and differentiated by TensorFlow's autodiff through the loop, which costs many
small operations per time step. This module computes the same numbers with the work arranged the
way the BPTT derivation suggests. Row layout, as Keras stores the weights (`W_x` is `kernel`
(D, H), `W_h` is `recurrent_kernel` (H, H)); g_t = dL/dh_t arriving from above the layer:

    forward                                  backward, t = T..1, starting from dh_next = 0
    XW  = X @ W_x + b     one matmul, all t  dz_t    = (g_t + dh_next) * act'(h_t)  sequential
    z_t = XW_t + h_{t-1} @ W_h   sequential  dh_next = dz_t @ W_h^T                 sequential
    h_t = act(z_t)                           dW_x = sum_t x_t^T dz_t     = X^T dZ        one matmul
                                             dW_h = sum_t h_{t-1}^T dz_t = H_prev^T dZ   one matmul
                                             db   = sum over t and batch of dz_t         one sum
                                             dX   = dZ @ W_x^T                           one matmul
                                             dh_0 = dh_next after the loop

Each loop step is one (B, H) @ (H, H) matmul plus elementwise work, and the two loops are compiled
with XLA (`jit_compile=True`), which fuses a step's operations and removes TensorFlow's
per-operation overhead (which dominates at small sizes). act'(z_t) is computed from h_t alone
(tanh' = 1 - h_t^2), so the backward pass keeps only the inputs and the outputs alive: less memory
than autodiff through the loop. Second derivatives are not supported (nothing here needs them).

`simple_rnn(...)` runs the op; `applies_to(layer, mask, training)` and `layer_call(...)` are what
`rnn_tf.SimpleRNN.call` uses to take this path when it gives the same result as the general one.
"""

import keras
import tensorflow as tf

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
# The two sequential loops, compiled by XLA. Inside them tensors are time-major, (T, B, ...), so
# that step t reads one contiguous (B, H) slab; outside they are batch-major, as Keras's are.


def _make_forward(act):
    @tf.function(jit_compile=True, autograph=False, reduce_retracing=True)
    def forward(x, h0, W_x, W_h, b):
        """(B, T, D) inputs -> (B, T, H) outputs h_1..h_T."""
        xw = tf.einsum("btd,dh->tbh", x, W_x)  # (T, B, H): X @ W_x for every t in one matmul
        if b is not None:
            xw = xw + b
        steps = tf.shape(xw)[0]

        def step(t, h_prev, hs):
            h = act(xw[t] + tf.matmul(h_prev, W_h))  # (B, H): h_t = act(z_t)
            return t + 1, h, hs.write(t, h)

        hs = tf.TensorArray(xw.dtype, size=steps, element_shape=h0.shape)
        _, _, hs = tf.while_loop(
            lambda t, *_: t < steps, step, (0, h0, hs), maximum_iterations=steps
        )
        return tf.transpose(hs.stack(), [1, 0, 2])  # (B, T, H)

    return forward


def _make_backward_loop(d_act):
    @tf.function(jit_compile=True, autograph=False, reduce_retracing=True)
    def backward_loop(g, hs, h0, W_h):
        """dL/dh_t (B, T, H) and h_t (B, T, H) -> dZ (B, T, H), H_prev (B, T, H), dh_0 (B, H)."""
        g_tm = tf.transpose(g, [1, 0, 2])  # (T, B, H)
        hs_tm = tf.transpose(hs, [1, 0, 2])  # (T, B, H)
        W_h_T = tf.transpose(W_h)  # (H, H)
        steps = tf.shape(g_tm)[0]

        def step(t, dh_next, dzs):
            dz = (g_tm[t] + dh_next) * d_act(hs_tm[t])  # (B, H): dz_t
            return t - 1, tf.matmul(dz, W_h_T), dzs.write(t, dz)  # dh_{t-1} = dz_t @ W_h^T

        dzs = tf.TensorArray(g.dtype, size=steps, element_shape=h0.shape)
        _, dh0, dzs = tf.while_loop(
            lambda t, *_: t >= 0, step, (steps - 1, tf.zeros_like(h0), dzs),
            maximum_iterations=steps,
        )
        dZ = tf.transpose(dzs.stack(), [1, 0, 2])  # (B, T, H)
        h_prev = tf.concat([h0[:, None], hs[:, :-1]], axis=1)  # (B, T, H): h_{t-1} beside dz_t
        return dZ, h_prev, dh0

    return backward_loop


def _make_op(activation, use_bias):
    act, d_act = _ACTIVATIONS[activation]
    forward = _make_forward(act)
    backward_loop = _make_backward_loop(d_act)

    def weight_gradients(x, W_x, dZ, h_prev):
        # Plain TF ops, outside XLA: a gradient nobody asks for (often dX) is pruned from the graph.
        B, T, D = tf.unstack(tf.shape(x))
        dZ_2d = tf.reshape(dZ, [B * T, -1])  # (B*T, H): every (b, t) is one row
        dW_x = tf.matmul(tf.reshape(x, [B * T, D]), dZ_2d, transpose_a=True)  # (D, H) = X^T dZ
        dW_h = tf.matmul(tf.reshape(h_prev, [B * T, -1]), dZ_2d, transpose_a=True)  # (H, H)
        db = tf.reduce_sum(dZ_2d, axis=0)  # (H,)
        dX = tf.reshape(tf.matmul(dZ_2d, W_x, transpose_b=True), [B, T, D])  # (B, T, D)
        return dX, dW_x, dW_h, db

    @tf.custom_gradient
    def op(x, h0, W_x, W_h, *maybe_b):
        # Feed the compiled loop gradient-free inputs: `grad` below is its gradient, so no tape
        # should record the loop (and keep its intermediates alive) on top.
        b = tf.stop_gradient(maybe_b[0]) if use_bias else None
        hs = forward(*[tf.stop_gradient(t) for t in (x, h0, W_x, W_h)], b)  # (B, T, H)

        def grad(g):  # g: dL/dh_t, (B, T, H)
            dZ, h_prev, dh0 = backward_loop(g, hs, h0, W_h)
            dX, dW_x, dW_h, db = weight_gradients(x, W_x, dZ, h_prev)
            return (dX, dh0, dW_x, dW_h) + ((db,) if use_bias else ())

        return hs, grad

    return op


_OPS = {}  # (activation, use_bias) -> op; each op's XLA programs are cached per shape and dtype


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
    key = (activation, bias is not None)
    if key not in _OPS:
        _OPS[key] = _make_op(*key)
    if go_backwards:
        x = tf.reverse(x, axis=[1])
    # Read variables here, outside the op: custom_gradient must only ever see tensors.
    weights = [tf.convert_to_tensor(w) for w in (kernel, recurrent_kernel, bias) if w is not None]
    outputs = _OPS[key](x, h0, *weights)  # (B, T, H)
    return outputs, outputs[:, -1]


# ---------------------------------------------------------------------------------------------
# Use from rnn_tf.SimpleRNN.call.


def applies_to(layer, mask, training):
    """Whether `layer_call` gives exactly what keras.layers.RNN's general loop gives.

    Only inside a `tf.function` (model.fit, predict, a compiled step): there the XLA programs
    are compiled once and reused, while an eager call would compile one per new shape (seconds
    each); and eager calls, where students compare the layer with Keras's line by line, keep the
    general path's results, equal to Keras's bit for bit in float32.
    Not for: masks (a masked step keeps the previous state), dropout or recurrent dropout (the
    cell draws masks from its seed stream even in inference), stateful layers, `unroll=True`,
    activations or dtypes (mixed precision included) this module does not implement.
    """
    cell = layer.cell
    return (
        not tf.executing_eagerly()
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
