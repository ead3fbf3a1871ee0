"""The cliff of Pascanu, Mikolov & Bengio (2013): one sigmoid unit whose error surface has a wall.
Serves the lesson on exploding gradients and clipping (course assignment 3, rnn3_clipping), where
the clipped run uses the student's own clipping function: this module has none of its own.

The unit has no input; its state is fed back through a sigmoid for 50 steps:

    x_0 = 0.5,    x_t = w * sigmoid(x_{t-1}) + b,    E(w, b) = (sigmoid(x_50) - 0.7)**2

For w large enough the map has two stable fixed points, and a small change of b decides which
one x_50 falls into: E jumps there, and its gradient is enormous on a thin wall. Plain gradient
descent that lands on the wall takes one huge step and is thrown far away; clipping the gradient's
norm to c bounds every step by learning_rate * c, so descent walks along the wall instead.

Everything here is NumPy in float64 and vectorised over (w, b), so a whole error surface costs
one pass of 50 steps. The gradient is carried forward beside the state (forward-mode), which is
exact and cheap for two parameters.

Example:
    >>> import tensorflow as tf  # its clipping stands in for the student's
    >>> data, fig = cliff_experiment(clip_fn=tf.clip_by_global_norm)
    >>> bool(data.plain.step_lengths.max() > 10 * data.learning_rate * data.max_norm)
    True
    >>> fig.savefig("cliff.png")
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure

X0 = 0.5  # the state the unit starts from
TARGET = 0.7  # what sigmoid(x_T) should be
N_STEPS = 50  # how many times the state is fed back

# A start on the high-error side from which descent at DEFAULT_LEARNING_RATE walks smoothly down to
# the wall in 24 steps. Plain descent then takes one step 40 times longer than any clipped one and
# lands near (6.3, 1.3), on a plateau (E = 0.09) whose gradient is ~0: it never comes back.
# Clipped descent (c = 1) slides along the wall into the valley, E < 1e-10 after 100 steps.
DEFAULT_START = (4.25, -2.75)
DEFAULT_LEARNING_RATE = 0.1


def _sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))  # the tanh form never overflows


def cliff_error_and_grad(w, b, n_steps: int = N_STEPS):
    """The error E(w, b) and its gradient, for scalars or arrays of any broadcastable shape.

    Args:
        w: the recurrent weight(s), float or array.
        b: the bias(es), float or array, broadcastable against `w`.
        n_steps: how many times the state is fed back (the paper uses 50).

    Returns:
        `(error, dE_dw, dE_db)`, float64 arrays of the broadcast shape of `w` and `b`.

    Example:
        >>> e, gw, gb = cliff_error_and_grad(np.linspace(4, 6, 3), -2.5)   # 3 points on a line
    """
    w, b = np.broadcast_arrays(np.asarray(w, np.float64), np.asarray(b, np.float64))
    if int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    x = np.full(w.shape, X0)
    dx_dw = np.zeros(w.shape)  # d x_t / d w, carried forward beside x_t
    dx_db = np.zeros(w.shape)
    for _ in range(int(n_steps)):
        s = _sigmoid(x)  # sigmoid(x_{t-1})
        ds = s * (1.0 - s)  # its slope
        # x_t = w s + b: the product rule adds the direct term to the path through x_{t-1}.
        dx_dw = s + w * ds * dx_dw
        dx_db = 1.0 + w * ds * dx_db
        x = w * s + b
    y = _sigmoid(x)
    dE_dx = 2.0 * (y - TARGET) * y * (1.0 - y)
    return (y - TARGET) ** 2, dE_dx * dx_dw, dE_dx * dx_db


def cliff_error(w, b, n_steps: int = N_STEPS):
    """E(w, b) = (sigmoid(x_T) - 0.7)**2 alone; see `cliff_error_and_grad`."""
    return cliff_error_and_grad(w, b, n_steps)[0]


@dataclass(frozen=True)
class ErrorSurface:
    """E on a grid: `error[i, j]` is the error at `(w[j], b[i])` (rows follow b, as an image)."""

    w: np.ndarray  # (n_w,)
    b: np.ndarray  # (n_b,)
    error: np.ndarray  # (n_b, n_w)
    grad_norm: np.ndarray  # (n_b, n_w), ||(dE/dw, dE/db)||


def error_surface(
    w_range: tuple[float, float] = (2.0, 8.0),
    b_range: tuple[float, float] = (-4.5, 1.5),
    resolution: int = 241,
    n_steps: int = N_STEPS,
) -> ErrorSurface:
    """The error and gradient norm on a `resolution` x `resolution` grid over (w, b)."""
    if resolution < 2:
        raise ValueError(f"resolution must be at least 2, got {resolution}")
    w = np.linspace(*w_range, resolution)
    b = np.linspace(*b_range, resolution)
    error, gw, gb = cliff_error_and_grad(w[None, :], b[:, None], n_steps)  # (n_b, n_w) each
    return ErrorSurface(w=w, b=b, error=error, grad_norm=np.hypot(gw, gb))


ClipFn = Callable[[list, float], tuple]


@dataclass(frozen=True)
class DescentPath:
    """One run of gradient descent on the cliff."""

    params: np.ndarray  # (n_steps + 1, 2): (w, b) before every step and after the last
    errors: np.ndarray  # (n_steps + 1,): E at each of those points
    grad_norms: np.ndarray  # (n_steps,): ||gradient|| before clipping, at each step
    step_lengths: np.ndarray  # (n_steps,): how far each update moved (w, b)

    @property
    def final_error(self) -> float:
        return float(self.errors[-1])


def gradient_descent(
    start: tuple[float, float] = DEFAULT_START,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    n_steps: int = 100,
    max_norm: float | None = None,
    clip_fn: ClipFn | None = None,
) -> DescentPath:
    """Plain gradient descent on E(w, b), or descent with the gradient clipped by its norm.

    Args:
        start: the initial (w, b).
        learning_rate: the step size; every update is `-learning_rate * gradient`.
        n_steps: how many updates.
        max_norm: clip the gradient to this global norm before each update; None for plain descent.
        clip_fn: the clipping function to use when `max_norm` is given, with the signature of
            `tf.clip_by_global_norm`: `clip_fn([dE_dw, dE_db], max_norm) -> (clipped, norm)`.
            Required with `max_norm`; the course passes the student's own function here.

    Returns:
        A `DescentPath`. With clipping, no step is longer than `learning_rate * max_norm`.

    Example:
        >>> clipped = gradient_descent(max_norm=1.0, clip_fn=tf.clip_by_global_norm)
        >>> bool(clipped.step_lengths.max() <= DEFAULT_LEARNING_RATE * 1.0 + 1e-12)
        True
    """
    start_wb = np.asarray(start, np.float64)
    if start_wb.shape != (2,) or not np.all(np.isfinite(start_wb)):
        raise ValueError(f"start must be two finite numbers (w, b), got {start!r}")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate!r}")
    if int(n_steps) != n_steps or n_steps < 1:
        raise ValueError(f"n_steps must be a positive integer, got {n_steps!r}")
    if max_norm is not None and not max_norm > 0:
        raise ValueError(f"max_norm must be positive or None, got {max_norm!r}")
    if max_norm is not None and clip_fn is None:
        raise ValueError("max_norm needs clip_fn, the clipping function to use (e.g. yours).")

    params = [start_wb]
    errors, grad_norms = [], []
    for _ in range(int(n_steps)):
        w, b = params[-1]
        error, dE_dw, dE_db = cliff_error_and_grad(w, b)
        grads = [np.float64(dE_dw), np.float64(dE_db)]
        grad_norms.append(math.hypot(dE_dw, dE_db))
        if max_norm is not None:
            grads, _ = clip_fn(grads, max_norm)
        step = np.array([float(np.asarray(g)) for g in grads])  # also unwraps tf tensors
        errors.append(float(error))
        params.append(params[-1] - learning_rate * step)
    errors.append(float(cliff_error(*params[-1])))
    params = np.stack(params)  # (n_steps + 1, 2)
    return DescentPath(
        params=params,
        errors=np.asarray(errors),
        grad_norms=np.asarray(grad_norms),
        step_lengths=np.linalg.norm(np.diff(params, axis=0), axis=1),
    )


@dataclass(frozen=True)
class CliffExperiment:
    """The data behind the cliff figure."""

    surface: ErrorSurface
    plain: DescentPath
    clipped: DescentPath
    learning_rate: float
    max_norm: float


def cliff_experiment(
    start: tuple[float, float] = DEFAULT_START,
    learning_rate: float = DEFAULT_LEARNING_RATE,
    n_steps: int = 100,
    max_norm: float = 1.0,
    *,
    clip_fn: ClipFn,
) -> tuple[CliffExperiment, Figure]:
    """Plain and clipped gradient descent from the same start, over the error surface.

    Deterministic (no randomness at all); about 0.1 s.

    Args:
        start, learning_rate, n_steps: as for `gradient_descent`, shared by both runs.
        max_norm: the clipping threshold of the clipped run.
        clip_fn: the clipping function of the clipped run (see `gradient_descent`).

    Returns:
        `(data, figure)`: a `CliffExperiment` and a matplotlib Figure made without pyplot.
    """
    plain = gradient_descent(start, learning_rate, n_steps)
    clipped = gradient_descent(start, learning_rate, n_steps, max_norm=max_norm, clip_fn=clip_fn)
    data = CliffExperiment(
        surface=error_surface(),
        plain=plain,
        clipped=clipped,
        learning_rate=learning_rate,
        max_norm=max_norm,
    )
    return data, plot_cliff(data)


def plot_cliff(data: CliffExperiment) -> Figure:
    """Three panels: the surface with both paths, the step lengths, and the error per step."""
    fig = Figure(figsize=(13, 4), layout="constrained")
    ax_surface, ax_steps, ax_error = fig.subplots(1, 3)
    s = data.surface
    image = ax_surface.pcolormesh(s.w, s.b, s.error, shading="auto", cmap="viridis")
    fig.colorbar(image, ax=ax_surface, label="error E(w, b)")
    paths = {"plain": (data.plain, "tab:red"), f"clipped (c = {data.max_norm:g})":
             (data.clipped, "white")}
    for label, (path, colour) in paths.items():
        ax_surface.plot(*path.params.T, ".-", color=colour, markersize=3, lw=1, label=label)
    ax_surface.plot(*data.plain.params[0], "o", color="orange", label="start")
    jump = int(np.argmax(data.plain.step_lengths))
    landing = data.plain.params[jump + 1]
    ax_surface.annotate(
        f"plain step {jump}: thrown to ({landing[0]:.1f}, {landing[1]:.1f})",
        xy=data.plain.params[jump], xytext=(0.03, 0.93), textcoords="axes fraction",
        color="tab:red", fontsize=8, arrowprops={"arrowstyle": "->", "color": "tab:red"},
    )  # the landing point may lie off the axes: the annotation names it
    ax_surface.set(xlim=(s.w[0], s.w[-1]), ylim=(s.b[0], s.b[-1]), xlabel="w", ylabel="b",
                   title="the cliff: error surface and descent paths")
    ax_surface.legend(loc="lower right", fontsize=8)

    bound = data.learning_rate * data.max_norm
    ax_steps.semilogy(data.plain.step_lengths, color="tab:red", label="plain")
    ax_steps.semilogy(data.clipped.step_lengths, color="tab:blue", label="clipped")
    ax_steps.axhline(bound, color="gray", ls="--", label="learning rate x c")
    ax_steps.set(xlabel="step", ylabel="length of the update", title="how far each step moves")
    ax_steps.legend(fontsize=8)

    ax_error.plot(data.plain.errors, color="tab:red", label="plain")
    ax_error.plot(data.clipped.errors, color="tab:blue", label="clipped")
    ax_error.set(xlabel="step", ylabel="E(w, b)", title="error during descent")
    ax_error.legend(fontsize=8)
    return fig
