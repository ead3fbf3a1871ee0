"""Backpropagation through time, written out by hand in NumPy.

Lesson: rnn2_bptt (how the gradient of h_t flows back to every earlier step, one Jacobian at a
time).

Everything here works in float64 and in the row-vector (Keras) layout: a batch of inputs is a
(B, D) matrix, weights multiply on the right, so

    z_t = x_t W_x + h_{t-1} W_h + b        # (B, H)
    h_t = tanh(z_t)                        # (B, H)

with ``W_x`` of shape (D, H) (Keras's ``kernel``), ``W_h`` of shape (H, H) (Keras's
``recurrent_kernel``) and ``b`` of shape (H,). The backward pass mirrors it step by step:

    dz_t    = (dh_t + dh_next) * (1 - h_t**2)   # tanh'(z_t) = 1 - tanh(z_t)**2
    dW_x   += x_t^T dz_t
    dW_h   += h_{t-1}^T dz_t
    db     += sum over the batch of dz_t
    dh_prev = dz_t W_h^T                         # what flows on to step t-1
    dx_t    = dz_t W_x^T

Inputs may be NumPy arrays, lists or TensorFlow tensors; they are converted to float64 arrays.
Shapes that do not fit together raise a ValueError that names them.
"""

import numpy as np


def _as_float64(name, value, ndim):
    """Converts `value` to a float64 array and checks its number of axes."""
    array = np.asarray(value, dtype=np.float64)
    if array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} axes, but has shape {array.shape}.")
    return array


def _expect_shape(name, array, expected, context):
    """Raises a ValueError naming `name`'s shape when it differs from `expected`."""
    if array.shape != tuple(expected):
        raise ValueError(
            f"{name} has shape {array.shape}, but {context} it must be {tuple(expected)}."
        )


def _check_weights(W_x, W_h, D=None):
    """Checks W_x (D, H) and W_h (H, H) against each other; returns (D, H)."""
    H = W_h.shape[1]
    if W_h.shape[0] != H:
        raise ValueError(f"W_h must be square (H, H), but has shape {W_h.shape}.")
    _expect_shape("W_x", W_x, (W_x.shape[0], H), f"with W_h of shape {W_h.shape}")
    if D is not None:
        _expect_shape("W_x", W_x, (D, H), f"with inputs of {D} features and W_h {W_h.shape}")
    return W_x.shape[0], H


# ---------------------------------------------------------------------------------------------
# The maths of one step, forward and backward side by side. Inputs are float64 arrays whose
# shapes the public functions below have already checked, once per call (not once per step).


def _step_forward(x_t, h_prev, W_x, W_h, b):
    """h_t = tanh(x_t W_x + h_prev W_h + b)."""
    z_t = x_t @ W_x + h_prev @ W_h + b  # (B, H)
    return np.tanh(z_t)  # (B, H)


def _step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    """The gradients of one step, given dh_t, the total gradient reaching h_t."""
    dz_t = dh_t * (1.0 - h_t**2)  # (B, H): tanh'(z_t) = 1 - h_t**2
    dW_x = x_t.T @ dz_t  # (D, H)
    dW_h = h_prev.T @ dz_t  # (H, H)
    db = dz_t.sum(axis=0)  # (H,)
    dh_prev = dz_t @ W_h.T  # (B, H): what flows on to step t-1
    dx_t = dz_t @ W_x.T  # (B, D)
    return dx_t, dh_prev, dW_x, dW_h, db


# ---------------------------------------------------------------------------------------------
# The public API: convert and check the arguments once, then run the steps above.


def rnn_step_forward(x_t, h_prev, W_x, W_h, b):
    """One step of a vanilla RNN: h_t = tanh(x_t W_x + h_prev W_h + b).

    Args:
        x_t: inputs at step t, shape (B, D).
        h_prev: hidden state h_{t-1}, shape (B, H).
        W_x: input-to-hidden weights, shape (D, H).
        W_h: hidden-to-hidden (recurrent) weights, shape (H, H).
        b: bias, shape (H,).

    Returns:
        h_t: the new hidden state, shape (B, H), float64.

    Raises:
        ValueError: if the shapes do not fit together (the message names them).

    Example:
        >>> h_t = rnn_step_forward(np.ones((2, 3)), np.zeros((2, 4)),
        ...                        np.zeros((3, 4)), np.eye(4), np.zeros(4))
        >>> h_t.shape
        (2, 4)
    """
    x_t = _as_float64("x_t", x_t, 2)  # (B, D)
    h_prev = _as_float64("h_prev", h_prev, 2)  # (B, H)
    W_x = _as_float64("W_x", W_x, 2)  # (D, H)
    W_h = _as_float64("W_h", W_h, 2)  # (H, H)
    b = _as_float64("b", b, 1)  # (H,)
    B, D = x_t.shape
    _, H = _check_weights(W_x, W_h, D)
    _expect_shape("h_prev", h_prev, (B, H), f"with x_t {x_t.shape} and W_h {W_h.shape}")
    _expect_shape("b", b, (H,), f"with W_h {W_h.shape}")

    return _step_forward(x_t, h_prev, W_x, W_h, b)  # (B, H)


def rnn_forward(x, h0, W_x, W_h, b):
    """Runs the RNN over a whole sequence, keeping what the backward pass needs.

    Args:
        x: input sequence, shape (B, T, D).
        h0: initial hidden state, shape (B, H).
        W_x: input-to-hidden weights, shape (D, H).
        W_h: recurrent weights, shape (H, H).
        b: bias, shape (H,).

    Returns:
        (h, cache): h holds every hidden state h_1 ... h_T, shape (B, T, H) (h0 is not in it);
        cache is the tuple (x, h0, h, W_x, W_h) of float64 arrays, so that
        ``rnn_backward(dh, *cache)`` runs the matching backward pass.

    Raises:
        ValueError: if the shapes do not fit together (the message names them).

    Example:
        >>> h, cache = rnn_forward(np.ones((2, 5, 3)), np.zeros((2, 4)),
        ...                        np.zeros((3, 4)), np.eye(4), np.zeros(4))
        >>> h.shape
        (2, 5, 4)
    """
    x = _as_float64("x", x, 3)  # (B, T, D)
    h0 = _as_float64("h0", h0, 2)  # (B, H)
    W_x = _as_float64("W_x", W_x, 2)  # (D, H)
    W_h = _as_float64("W_h", W_h, 2)  # (H, H)
    b = _as_float64("b", b, 1)  # (H,)
    B, T, D = x.shape
    _, H = _check_weights(W_x, W_h, D)
    _expect_shape("h0", h0, (B, H), f"with x {x.shape} and W_h {W_h.shape}")
    _expect_shape("b", b, (H,), f"with W_h {W_h.shape}")

    h = np.empty((B, T, H))  # (B, T, H)
    h_prev = h0  # (B, H)
    for t in range(T):
        h[:, t] = _step_forward(x[:, t], h_prev, W_x, W_h, b)  # (B, H)
        h_prev = h[:, t]
    return h, (x, h0, h, W_x, W_h)


def rnn_step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    """Backward pass through one step h_t = tanh(x_t W_x + h_prev W_h + b).

    Args:
        dh_t: the total gradient of the loss with respect to h_t, shape (B, H) (inside
            ``rnn_backward`` that is the direct gradient at step t plus what flowed back from
            step t+1).
        x_t: inputs at step t, shape (B, D).
        h_prev: hidden state h_{t-1}, shape (B, H).
        h_t: hidden state h_t computed by the forward step, shape (B, H) (tanh's derivative is
            1 - h_t**2, so the pre-activation z_t is not needed).
        W_x: input-to-hidden weights, shape (D, H).
        W_h: recurrent weights, shape (H, H).

    Returns:
        (dx_t, dh_prev, dW_x, dW_h, db) with shapes (B, D), (B, H), (D, H), (H, H), (H,): the
        gradients with respect to x_t, h_prev, and this step's share of W_x, W_h and b.

    Raises:
        ValueError: if the shapes do not fit together (the message names them).
    """
    dh_t = _as_float64("dh_t", dh_t, 2)  # (B, H)
    x_t = _as_float64("x_t", x_t, 2)  # (B, D)
    h_prev = _as_float64("h_prev", h_prev, 2)  # (B, H)
    h_t = _as_float64("h_t", h_t, 2)  # (B, H)
    W_x = _as_float64("W_x", W_x, 2)  # (D, H)
    W_h = _as_float64("W_h", W_h, 2)  # (H, H)
    B, D = x_t.shape
    _, H = _check_weights(W_x, W_h, D)
    context = f"with x_t {x_t.shape} and W_h {W_h.shape}"
    for name, array in (("dh_t", dh_t), ("h_prev", h_prev), ("h_t", h_t)):
        _expect_shape(name, array, (B, H), context)

    return _step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h)


def rnn_backward(dh, x, h0, h, W_x, W_h):
    """Backpropagation through time over a whole sequence.

    Walks from t = T down to t = 1, adding to each step's direct gradient dh[:, t] the gradient
    that flows back from step t+1 (dh_next), then accumulates the weight gradients over time.

    Args:
        dh: the loss's direct gradient with respect to each h_t, shape (B, T, H) (for a loss on
            the last step only, every slice but dh[:, -1] is zero); the recurrence adds the rest.
        x: input sequence, shape (B, T, D).
        h0: initial hidden state, shape (B, H).
        h: hidden states h_1 ... h_T from ``rnn_forward``, shape (B, T, H).
        W_x: input-to-hidden weights, shape (D, H).
        W_h: recurrent weights, shape (H, H).

    Returns:
        (dx, dh0, dW_x, dW_h, db) with shapes (B, T, D), (B, H), (D, H), (H, H), (H,).

    Raises:
        ValueError: if the shapes do not fit together (the message names them).

    Example:
        >>> x, h0 = np.ones((2, 5, 3)), np.zeros((2, 4))
        >>> W_x, W_h, b = np.full((3, 4), 0.1), 0.5 * np.eye(4), np.zeros(4)
        >>> h, cache = rnn_forward(x, h0, W_x, W_h, b)
        >>> dx, dh0, dW_x, dW_h, db = rnn_backward(np.ones_like(h), *cache)
        >>> dW_h.shape
        (4, 4)
    """
    dh = _as_float64("dh", dh, 3)  # (B, T, H)
    x = _as_float64("x", x, 3)  # (B, T, D)
    h0 = _as_float64("h0", h0, 2)  # (B, H)
    h = _as_float64("h", h, 3)  # (B, T, H)
    W_x = _as_float64("W_x", W_x, 2)  # (D, H)
    W_h = _as_float64("W_h", W_h, 2)  # (H, H)
    B, T, D = x.shape
    _, H = _check_weights(W_x, W_h, D)
    context = f"with x {x.shape} and W_h {W_h.shape}"
    _expect_shape("h", h, (B, T, H), context)
    _expect_shape("dh", dh, (B, T, H), context)
    _expect_shape("h0", h0, (B, H), context)

    dx = np.zeros((B, T, D))  # (B, T, D)
    dW_x = np.zeros((D, H))  # (D, H)
    dW_h = np.zeros((H, H))  # (H, H)
    db = np.zeros(H)  # (H,)
    dh_next = np.zeros((B, H))  # (B, H): gradient reaching h_t from step t+1
    for t in reversed(range(T)):
        h_prev = h[:, t - 1] if t > 0 else h0  # (B, H)
        dx[:, t], dh_next, dW_x_t, dW_h_t, db_t = _step_backward(
            dh[:, t] + dh_next, x[:, t], h_prev, h[:, t], W_x, W_h
        )
        dW_x += dW_x_t
        dW_h += dW_h_t
        db += db_t
    return dx, dh_next, dW_x, dW_h, db
