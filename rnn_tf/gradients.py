"""Vanishing and exploding gradients, measured: Jacobian products, their norms, the bound on them.

Lesson: rnn2_bptt and rnn3_clipping (dh_T/dh_k is a product of T-k one-step Jacobians
diag(1 - h_t^2) W_h).

In the row-vector (Keras) layout h_t = tanh(h_{t-1} W_h + x_t W_x + b), the one-step Jacobian,
as a matrix whose entry [i, j] is d h_t[i] / d h_{t-1}[j], is

    J_t = diag(1 - h_t**2) @ W_h.T        # (H, H) per example: note the transpose

(``W_h`` is Keras's ``recurrent_kernel``). Backpropagation through time multiplies these:
dh_T/dh_k = J_T J_{T-1} ... J_{k+1}. Since |tanh'| <= gamma = 1, the spectral norm of that
product is at most (gamma * sigma_max(W_h))^(T-k) (Pascanu, Mikolov & Bengio 2013, "On the
difficulty of training recurrent neural networks"): with sigma_max < 1 the gradient from step T
to step k must vanish exponentially in T - k; sigma_max > 1 is necessary (not sufficient) for it
to explode. Saturated units (|h| near 1, tanh' near 0) shrink it further.

Functions taking weights work in float64 NumPy (through ``rnn_tf.bptt``); the ``layer_*``
functions accept any SimpleRNN-like layer (``keras.layers.SimpleRNN``, ``rnn_tf.SimpleRNN``, or
their cells) that exposes ``cell.kernel``, ``cell.recurrent_kernel``, ``cell.bias`` and
``cell.activation``, with an elementwise activation.
"""

import keras
import numpy as np
import tensorflow as tf

from rnn_tf.bptt import rnn_forward

# A tanh unit counts as saturated when |h| > 0.99: its derivative 1 - h^2 is then below 0.02,
# so every gradient passing through it shrinks at least fifty-fold (|z| > 2.65).
SATURATION_THRESHOLD = 0.99


def step_jacobians(h, W_h, activation_grad=None):
    """The one-step Jacobians dh_t/dh_{t-1} of a tanh RNN, for every step and example.

    Args:
        h: hidden states h_1 ... h_T, shape (B, T, H) (as returned by ``rnn_forward``).
        W_h: recurrent weights in row layout (Keras's ``recurrent_kernel``), shape (H, H).
        activation_grad: optional (B, T, H) array of the activation's derivative f'(z_t) for a
            non-tanh RNN; by default tanh's 1 - h_t**2.

    Returns:
        jacobians of shape (B, T, H, H) with ``jacobians[:, t - 1][b, i, j] =
        d h_t[b, i] / d h_{t-1}[b, j]`` = (1 - h_t[b, i]**2) * W_h[j, i], the layout of
        ``tf.GradientTape.batch_jacobian``.
    """
    h = np.asarray(h, dtype=np.float64)  # (B, T, H)
    W_h = np.asarray(W_h, dtype=np.float64)  # (H, H)
    if h.ndim != 3 or W_h.shape != (h.shape[-1], h.shape[-1]):
        raise ValueError(
            f"Expected h of shape (B, T, H) and W_h of shape (H, H); got {h.shape} and {W_h.shape}."
        )
    slope = 1.0 - h**2 if activation_grad is None else np.asarray(activation_grad, np.float64)
    if slope.shape != h.shape:
        raise ValueError(f"activation_grad has shape {slope.shape}, but h has shape {h.shape}.")
    return slope[..., :, None] * W_h.T  # (B, T, H, H): row i scaled by f'(z_t)[i]


def jacobian_products(jacobians):
    """dh_T/dh_k for every k = 0 ... T, from the one-step Jacobians.

    Args:
        jacobians: (B, T, H, H) from ``step_jacobians``.

    Returns:
        products of shape (B, T + 1, H, H) with ``products[:, k] = dh_T/dh_k``
        = J_T J_{T-1} ... J_{k+1}; ``products[:, T]`` is the identity and ``products[:, 0]`` is
        the derivative with respect to the initial state h_0. The distance T - k of
        ``products[:, k]`` is ``T - k``, so ``products[:, ::-1]`` is ordered by distance.
    """
    jacobians = np.asarray(jacobians, dtype=np.float64)  # (B, T, H, H)
    if jacobians.ndim != 4 or jacobians.shape[-1] != jacobians.shape[-2]:
        raise ValueError(f"Expected jacobians of shape (B, T, H, H), got {jacobians.shape}.")
    B, T, H, _ = jacobians.shape
    products = np.empty((B, T + 1, H, H))  # (B, T + 1, H, H)
    products[:, T] = np.eye(H)
    for k in reversed(range(T)):
        # dh_T/dh_k = dh_T/dh_{k+1} @ dh_{k+1}/dh_k, and jacobians[:, k] is dh_{k+1}/dh_k
        products[:, k] = products[:, k + 1] @ jacobians[:, k]  # (B, H, H)
    return products


def spectral_norms(matrices):
    """Largest singular value of each matrix in a stack, shape (..., M, N) -> (...)."""
    return np.linalg.svd(np.asarray(matrices, dtype=np.float64), compute_uv=False)[..., 0]


def _norms_by_distance(h, W_h, activation_grad=None):
    products = jacobian_products(step_jacobians(h, W_h, activation_grad))  # (B, T + 1, H, H)
    return spectral_norms(products)[:, ::-1]  # (B, T + 1): column d is distance T - k = d


def jacobian_norms_by_distance(x, W_x, W_h, b, h0=None):
    """||dh_T/dh_{T-d}||_2 for every distance d = 0 ... T, for given tanh-RNN weights and input.

    Args:
        x: input sequence, shape (B, T, D).
        W_x, W_h, b: weights in row layout, shapes (D, H), (H, H), (H,).
        h0: initial state (B, H); zeros by default.

    Returns:
        norms of shape (B, T + 1), float64: ``norms[b, d]`` is the spectral norm of
        dh_T/dh_{T-d} for example b (``norms[:, 0]`` is 1). Average over axis 0 for a curve;
        compare with ``gradient_bound(largest_singular_value(W_h), np.arange(T + 1))``.

    Example:
        >>> x = np.zeros((1, 3, 2))
        >>> jacobian_norms_by_distance(x, np.zeros((2, 4)), 0.5 * np.eye(4), np.zeros(4))
        array([[1.   , 0.5  , 0.25 , 0.125]])
    """
    x = np.asarray(x, dtype=np.float64)  # (B, T, D)
    W_h = np.asarray(W_h, dtype=np.float64)  # (H, H)
    if h0 is None:
        h0 = np.zeros((x.shape[0], W_h.shape[-1]))  # (B, H)
    h, _ = rnn_forward(x, h0, W_x, W_h, b)  # (B, T, H)
    return _norms_by_distance(h, W_h)


def _float64(variable):
    """A Keras variable's value as a float64 array (np.asarray(variable) warns under NumPy 2)."""
    return np.asarray(variable.numpy(), np.float64)


def _cell_weights(layer):
    """(W_x, W_h, b, activation) of a built SimpleRNN-like layer or cell, weights as float64."""
    cell = getattr(layer, "cell", layer)
    missing = [a for a in ("kernel", "recurrent_kernel", "activation") if not hasattr(cell, a)]
    if missing:
        raise ValueError(
            "Expected a SimpleRNN-like layer whose cell has kernel, recurrent_kernel, bias and "
            f"activation; {type(layer).__name__} lacks {', '.join(missing)} "
            "(or is not built yet: call it on an input first)."
        )
    if getattr(layer, "go_backwards", False):
        raise ValueError("Expected a layer reading forwards; this one has go_backwards=True.")
    W_x = _float64(cell.kernel)  # (D, H)
    W_h = _float64(cell.recurrent_kernel)  # (H, H)
    bias = getattr(cell, "bias", None)
    b = np.zeros(W_h.shape[0]) if bias is None else _float64(bias)  # (H,)
    return W_x, W_h, b, cell.activation


def _layer_states(layer, x, h0=None):
    """Runs the layer's recurrence in float64; returns states h (B, T, H) and slopes f'(z_t)."""
    W_x, W_h, b, activation = _cell_weights(layer)
    x = tf.constant(np.asarray(x, np.float64))  # (B, T, D)
    if x.shape.rank != 3 or x.shape[-1] != W_x.shape[0]:
        raise ValueError(
            f"Expected x of shape (B, T, {W_x.shape[0]}) for this layer, got {tuple(x.shape)}."
        )
    h_prev = (
        tf.zeros((x.shape[0], W_h.shape[0]), tf.float64)
        if h0 is None
        else tf.constant(np.asarray(h0, np.float64))
    )  # (B, H)
    states, slopes = [], []
    for t in range(x.shape[1]):
        z_t = x[:, t] @ W_x + h_prev @ W_h + b  # (B, H)
        with tf.GradientTape() as tape:
            tape.watch(z_t)
            h_prev = activation(z_t)  # (B, H)
        slopes.append(tape.gradient(h_prev, z_t))  # (B, H): f'(z_t), as f is elementwise
        states.append(h_prev)
    if not states:
        empty = np.zeros((x.shape[0], 0, W_h.shape[0]))
        return empty, empty, W_h
    return tf.stack(states, 1).numpy(), tf.stack(slopes, 1).numpy(), W_h


def layer_jacobian_norms_by_distance(layer, x, h0=None):
    """``jacobian_norms_by_distance`` for a built SimpleRNN-like layer and its own activation.

    Args:
        layer: ``keras.layers.SimpleRNN``, ``rnn_tf.SimpleRNN`` or a cell (built).
        x: input sequence, shape (B, T, D).
        h0: initial state (B, H); zeros by default.

    Returns:
        norms of shape (B, T + 1), float64; ``norms[b, d] = ||dh_T/dh_{T-d}||_2``. The weights
        are copied to float64 first, so a float32 layer gives the float64 answer.
    """
    h, slopes, W_h = _layer_states(layer, x, h0)
    return _norms_by_distance(h, W_h, slopes)


def layer_saturation_fraction(layer, x, threshold=SATURATION_THRESHOLD):
    """``saturation_fraction`` of the hidden states the layer computes for input x."""
    h, _, _ = _layer_states(layer, x)
    return saturation_fraction(h, threshold)


def largest_singular_value(W_h):
    """sigma_max(W_h), the spectral norm: the most any one step can stretch a gradient."""
    return float(spectral_norms(W_h))


def spectral_radius(W_h):
    """max |eigenvalue| of W_h (<= sigma_max; equal for normal matrices such as s * orthogonal).

    It governs the long-run growth of the linearised recurrence, W_h^n ~ rho^n, whereas
    sigma_max bounds every single step.
    """
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W_h, np.float64)))))


def scale_to_spectral_radius(W_h, radius):
    """W_h rescaled so that its spectral radius is exactly `radius`."""
    W_h = np.asarray(W_h, np.float64)
    return W_h * (radius / spectral_radius(W_h))


def gradient_bound(sigma_max, distances, gamma=1.0):
    """The bound ||dh_T/dh_k|| <= (gamma * sigma_max)^(T-k) (Pascanu, Mikolov & Bengio 2013).

    Args:
        sigma_max: largest singular value of W_h.
        distances: T - k, an int or an array of them.
        gamma: bound on |f'|, 1 for tanh (and ReLU), 1/4 for the logistic sigmoid.

    Returns:
        (gamma * sigma_max) ** distances, float64.
    """
    return (float(gamma) * float(sigma_max)) ** np.asarray(distances, dtype=np.float64)


def saturation_fraction(h, threshold=SATURATION_THRESHOLD):
    """Fraction of tanh units with |h| > threshold (default 0.99, where tanh' < 0.02).

    Args:
        h: hidden states of any shape.
        threshold: in (0, 1); a unit counts as saturated when |h| exceeds it.

    Returns:
        A float in [0, 1].
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}.")
    return float(np.mean(np.abs(np.asarray(h, np.float64)) > threshold))


def hidden_state_gradients(model, x, y, loss="mean_squared_error"):
    """dL/dh_t for every step t, where L is a loss on the model's output at the last step.

    The model is a ``keras.Sequential`` (or functional chain) whose first layer is SimpleRNN-like
    with ``return_sequences=False`` and whose other layers read its last state h_T. The
    recurrence is unrolled here with the layer's own weights, so that a ``tf.GradientTape`` can
    keep every hidden state h_1 ... h_T and differentiate the loss with respect to each (Keras's
    RNN loop hides them). Dropout is not applied (inference mode).

    Args:
        model: the Keras model, built.
        x: inputs, shape (B, T, D).
        y: targets for the model's output.
        loss: anything ``keras.losses.get`` accepts; averaged over the batch.

    Returns:
        (loss_value, grads): the loss as a float and grads of shape (B, T, H) with
        ``grads[:, t - 1] = dL/dh_t``, the total derivative through every later step. Their
        norms, ``np.linalg.norm(grads, axis=-1)``, show how much of the training signal reaches
        each step.

    Example:
        >>> model = keras.Sequential([keras.Input((20, 1)), keras.layers.SimpleRNN(8),
        ...                           keras.layers.Dense(1)])
        >>> loss, grads = hidden_state_gradients(model, np.ones((4, 20, 1)), np.zeros((4, 1)))
        >>> grads.shape
        (4, 20, 8)
    """
    layers = [layer for layer in model.layers if not isinstance(layer, keras.layers.InputLayer)]
    if not layers or not hasattr(getattr(layers[0], "cell", None), "recurrent_kernel"):
        raise ValueError(
            "Expected a model whose first layer is a SimpleRNN-like layer; got "
            f"{[type(layer).__name__ for layer in layers]}."
        )
    rnn, head = layers[0], layers[1:]
    if getattr(rnn, "return_sequences", False) or getattr(rnn, "go_backwards", False):
        raise ValueError(
            "The recurrent layer must read forwards and return only its last state "
            "(return_sequences=False, go_backwards=False) for a loss at the last step."
        )
    cell = rnn.cell
    dtype = cell.kernel.dtype
    x = tf.convert_to_tensor(x, dtype=dtype)  # (B, T, D)
    if x.shape.rank != 3 or x.shape[1] == 0 or x.shape[2] != cell.kernel.shape[0]:
        raise ValueError(
            f"Expected x of shape (B, T >= 1, {cell.kernel.shape[0]}), got {tuple(x.shape)}."
        )
    loss_fn = keras.losses.get(loss)
    with tf.GradientTape() as tape:
        h_t = tf.zeros((x.shape[0], cell.recurrent_kernel.shape[0]), dtype)  # (B, H)
        states = []
        for t in range(x.shape[1]):
            z_t = x[:, t] @ cell.kernel + h_t @ cell.recurrent_kernel  # (B, H)
            if getattr(cell, "bias", None) is not None:
                z_t = z_t + cell.bias
            h_t = cell.activation(z_t)  # (B, H)
            tape.watch(h_t)
            states.append(h_t)
        output = h_t
        for layer in head:
            output = layer(output)
        loss_value = tf.reduce_mean(loss_fn(tf.convert_to_tensor(y, dtype=output.dtype), output))
    grads = tape.gradient(loss_value, states)
    return float(loss_value), tf.stack(grads, axis=1).numpy()  # (B, T, H)
