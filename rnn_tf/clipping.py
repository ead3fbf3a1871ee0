"""Gradient clipping by norm: the standard fix for exploding gradients, and why it is only that.

Lesson: rnn3_clipping (if ||g|| > c then g <- c * g / ||g||: it shrinks large gradients, never
grows small ones).

There are two ways to apply that rule to a model with several weight tensors, and they are not
the same update:

- **Global** (``clip_by_global_norm``): one norm over *all* gradients together,
  ``||g|| = sqrt(sum_i ||g_i||^2)``; if it exceeds c, *every* gradient is multiplied by the same
  factor c / ||g||, so the update keeps its direction. This is ``tf.clip_by_global_norm``,
  PyTorch's ``torch.nn.utils.clip_grad_norm_`` and a Keras optimizer's ``global_clipnorm=c``.
- **Per tensor** (``clip_by_norm``): each gradient g_i is clipped on its own, to ||g_i|| <= c,
  so the tensors are scaled by different factors and the update's direction changes. This is
  ``tf.clip_by_norm`` applied to each gradient, and it is what a Keras optimizer's
  ``clipnorm=c`` does (``keras.optimizers.Adam(clipnorm=1.0)`` is NOT the same as PyTorch's
  ``clip_grad_norm_(params, max_norm=1.0)``; ``global_clipnorm=1.0`` is).

Both functions accept NumPy arrays, TensorFlow tensors and ``tf.IndexedSlices`` (the sparse
gradients of embedding lookups) and return the same kinds; ``None`` entries (weights that got no
gradient) pass through. Neither modifies its inputs.
"""

import math

import numpy as np
import tensorflow as tf


def _check_max_norm(max_norm):
    """Returns `max_norm` as a float, insisting that it is a positive finite number."""
    try:
        value = float(max_norm)
    except (TypeError, ValueError):
        raise ValueError(f"max_norm must be a positive number, got {max_norm!r}.") from None
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(f"max_norm must be a positive finite number, got {max_norm!r}.")
    return value


def _values(grad, where):
    """The dense values of one gradient: a float NumPy array or a float tf.Tensor."""
    if isinstance(grad, tf.IndexedSlices):
        grad = grad.values
    if isinstance(grad, (tf.Tensor, tf.Variable)):
        if not grad.dtype.is_floating:
            raise ValueError(
                f"{where} must be a floating-point tensor, got dtype {grad.dtype.name}."
            )
        return tf.convert_to_tensor(grad)
    array = np.asarray(grad)
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(f"{where} must hold floating-point numbers, got dtype {array.dtype}.")
    return array


def _squared_norm(values):
    """sum(values**2), accumulated in float64 whatever the gradient's dtype."""
    if isinstance(values, tf.Tensor):
        return float(tf.reduce_sum(tf.square(tf.cast(values, tf.float64))))
    return float(np.sum(np.square(values, dtype=np.float64)))


def _scaled(grad, values, multiplier, divisor=1.0):
    """`grad` with its values replaced by values * multiplier / divisor, as the same kind."""
    if isinstance(values, tf.Tensor):
        scaled = values * tf.cast(multiplier, values.dtype) / tf.cast(divisor, values.dtype)
        if isinstance(grad, tf.IndexedSlices):
            return tf.IndexedSlices(scaled, grad.indices, grad.dense_shape)
        return scaled
    with np.errstate(invalid="ignore"):  # inf / inf is the NaN TensorFlow gives too
        scaled = values * multiplier / divisor  # a new array: inputs stay intact
    return scaled.astype(values.dtype, copy=False)


def _as_list(grads):
    """`grads` as a list; a single tensor is refused (a common slip for a list of one)."""
    if isinstance(grads, (tf.Tensor, tf.Variable, tf.IndexedSlices, np.ndarray)):
        raise ValueError(
            "grads must be a list of gradients (one per weight), got a single "
            f"{type(grads).__name__}."
        )
    return list(grads)  # a generator or zip would be used up by computing the norm


def global_norm(grads):
    """The L2 norm of all gradients together, sqrt(sum_i ||g_i||^2), as a Python float.

    ``None`` entries are skipped; an ``IndexedSlices`` counts its values (as TensorFlow does).
    Squares are summed in float64, so float32 gradients as large as 1e30 still get a finite norm.
    """
    total = sum(
        _squared_norm(_values(g, f"grads[{i}]"))
        for i, g in enumerate(_as_list(grads))
        if g is not None
    )
    return math.sqrt(total)


def clip_by_global_norm(grads, max_norm):
    """Scales all gradients by one factor so that their global norm is at most `max_norm`.

    With ``norm = sqrt(sum_i ||g_i||^2)``, every gradient becomes
    ``g_i * max_norm / max(norm, max_norm)``: nothing changes when ``norm <= max_norm``, and
    above it the clipped gradients have global norm exactly ``max_norm`` while keeping their
    direction. Same semantics as ``tf.clip_by_global_norm``, PyTorch's
    ``torch.nn.utils.clip_grad_norm_`` and a Keras optimizer's ``global_clipnorm`` (contrast
    ``clip_by_norm``, which clips each tensor on its own like Keras's ``clipnorm``).

    Edge cases:
        - ``None`` entries pass through as ``None``.
        - A zero norm is safe: the gradients come back unchanged (no division by zero).
        - A non-finite norm (some gradient holds inf or NaN) gives, as in TensorFlow, a NaN in
          every entry of every clipped gradient, and the returned norm is inf or NaN. Check
          ``math.isfinite(global_norm)`` to skip such a step.
        - The one deliberate difference: squares are summed in float64, so float32 gradients
          above ~1.8e19 (whose squares overflow float32) get their true, finite norm and are
          clipped, where ``tf.clip_by_global_norm`` and Keras's ``global_clipnorm`` compute an
          inf norm and return NaN everywhere, exactly when clipping is needed most.

    Args:
        grads: list of gradients: NumPy arrays, tf tensors, ``tf.IndexedSlices`` or ``None``.
        max_norm: positive finite float, the largest global norm allowed.

    Returns:
        (clipped, global_norm): a list of the clipped gradients, each of the same kind, dtype
        and shape as its input, and the global norm *before* clipping as a Python float.

    Raises:
        ValueError: if `max_norm` is not a positive finite number, `grads` is a single tensor
            rather than a list, or a gradient is not floating point.

    Example:
        >>> clipped, norm = clip_by_global_norm([np.array([3.0]), np.array([4.0])], 1.0)
        >>> norm, clipped[0], clipped[1]
        (5.0, array([0.6]), array([0.8]))
    """
    max_norm = _check_max_norm(max_norm)
    grads = _as_list(grads)
    norm = global_norm(grads)
    # As TensorFlow: max_norm * min(1/norm, 1/max_norm) is 1 at norm = 0 (1/0 = inf), and
    # adding (norm - norm) turns the factor into NaN whenever the norm is inf or NaN.
    inverse_norm = math.inf if norm == 0 else 1.0 / norm
    scale = max_norm * min(inverse_norm, 1.0 / max_norm) + (norm - norm)
    clipped = [
        None if g is None else _scaled(g, _values(g, f"grads[{i}]"), scale)
        for i, g in enumerate(grads)
    ]
    return clipped, norm


def clip_by_norm(grad, max_norm):
    """Clips ONE gradient tensor to L2 norm at most `max_norm`, independently of the others.

    Returns ``grad * max_norm / max(||grad||, max_norm)``: unchanged at or below the threshold,
    norm exactly ``max_norm`` above it. This is ``tf.clip_by_norm``, and applied to each
    gradient in turn it is what a Keras optimizer's ``clipnorm=c`` does. Because each tensor
    gets its own factor, clipping a model's gradients this way changes the direction of the
    update and can leave their *global* norm as large as ``c * sqrt(number of tensors)``; use
    ``clip_by_global_norm`` (Keras's ``global_clipnorm``, PyTorch's ``clip_grad_norm_``) to bound
    the whole update.

    Non-finite norms follow TensorFlow: if `grad` holds inf, its finite entries become 0 and
    its infinite ones NaN; if it holds NaN, the result is NaN. ``None`` passes through. The norm
    is accumulated in float64, as in ``global_norm``.

    Args:
        grad: a NumPy array, tf tensor, ``tf.IndexedSlices`` or ``None``.
        max_norm: positive finite float.

    Returns:
        The clipped gradient, of the same kind, dtype and shape as `grad` (a new object).

    Raises:
        ValueError: if `max_norm` is not a positive finite number or `grad` is not floating point.

    Example:
        >>> clip_by_norm(np.array([3.0, 4.0]), 1.0)
        array([0.6, 0.8])
    """
    max_norm = _check_max_norm(max_norm)
    if grad is None:
        return None
    values = _values(grad, "grad")
    norm = math.sqrt(_squared_norm(values))
    # TensorFlow's formula, (values * c) / max(norm, c); np.maximum keeps a NaN norm (max()
    # would drop it), and an inf norm sends finite entries to 0 and infinite ones to NaN.
    return _scaled(grad, values, max_norm, np.maximum(norm, max_norm))
