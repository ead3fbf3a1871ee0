"""Sizes of recurrent weight matrices and of hidden states: what the lesson on vanishing and
exploding gradients measures (spectral norm and radius, saturated tanh units).
"""

from __future__ import annotations

import numpy as np

SATURATION_THRESHOLD = 0.99  # |h| above this: tanh'(z) = 1 - h**2 < 0.02


def largest_singular_value(W_h) -> float:
    """sigma_max(W_h), the spectral norm: the most any one step can stretch a gradient."""
    return float(np.linalg.norm(np.asarray(W_h, np.float64), ord=2))


def spectral_radius(W_h) -> float:
    """max |eigenvalue| of W_h (<= sigma_max; equal for normal matrices such as s * orthogonal)."""
    return float(np.max(np.abs(np.linalg.eigvals(np.asarray(W_h, np.float64)))))


def scale_to_spectral_radius(W_h, radius: float) -> np.ndarray:
    """W_h rescaled so that its spectral radius is exactly `radius`."""
    W_h = np.asarray(W_h, np.float64)
    return W_h * (radius / spectral_radius(W_h))


def saturation_fraction(h, threshold: float = SATURATION_THRESHOLD) -> float:
    """Fraction of tanh units with |h| > threshold (default 0.99, where tanh' < 0.02).

    Args:
        h: hidden states of any shape.
        threshold: in (0, 1); a unit counts as saturated when |h| exceeds it.
    """
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}.")
    return float(np.mean(np.abs(np.asarray(h, np.float64)) > threshold))
