"""Figures the course notebooks draw from the quantities the student computes: the notebook holds
the lesson, these hold the matplotlib code. Each returns its data and a Figure made without pyplot.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rnn_course_student.measures import largest_singular_value, scale_to_spectral_radius
from rnn_course_student.references import keras_rnn_states


def _figure(ncols: int, width: float = 5.0, height: float = 3.8):
    """A Figure with `ncols` axes on an Agg canvas, independent of pyplot."""
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def _orthogonal(H: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.normal(size=(H, H)))
    return q * np.sign(np.diag(r))  # (H, H), every singular value and |eigenvalue| equal to 1


def jacobian_norms_vs_distance(
    jacobian_norms: Callable,
    radii=(0.5, 0.9, 1.0, 1.1, 1.5),
    input_scales=(0.01, 1.0),
    T: int = 40,
    H: int = 16,
    D: int = 4,
    B: int = 8,
    seed: int = 0,
):
    """||dh_T/dh_k|| against the distance T - k, one panel per input scale, one curve per spectral
    radius of W_h (a random orthogonal matrix times the radius), with the bound radius^(T-k).

    The states come from keras.layers.SimpleRNN; the norms from `jacobian_norms(h, W_h)`, the
    student's function (h (B, T, H) -> norms (B, T)). Small inputs keep tanh nearly linear and
    the norms follow the bound; inputs of size 1 saturate units and pull them far below it.

    Returns:
        (data, fig): data has "distance" (T,), "radii", "input_scales", "norms" (len(input_scales),
        len(radii), T) averaged over the batch, and "bound" (len(radii), T).
    """
    rng = np.random.default_rng(seed)
    Q = _orthogonal(H, rng)  # (H, H)
    W_x = rng.normal(size=(D, H)) / np.sqrt(D)  # (D, H)
    b, h0 = np.zeros(H), np.zeros((B, H))
    distance = np.arange(T)
    W_hs = [scale_to_spectral_radius(Q, rho) for rho in radii]
    bound = np.stack([largest_singular_value(W_h) ** distance for W_h in W_hs])  # (R, T)
    norms = []
    for scale in input_scales:
        x = scale * rng.normal(size=(B, T, D))  # (B, T, D)
        panel = []
        for W_h in W_hs:
            h = keras_rnn_states(x, h0, W_x, W_h, b)  # (B, T, H)
            panel.append(np.asarray(jacobian_norms(h, W_h)).mean(axis=0))  # (T,)
        norms.append(panel)
    data = dict(distance=distance, radii=np.array(radii), input_scales=np.array(input_scales),
                norms=np.array(norms), bound=bound)

    return data, plot_norms_vs_distance(
        data, "Gradient norm through time against the spectral radius of W_h")


def plot_norms_vs_distance(data: dict, title: str) -> Figure:
    """One panel per input scale of `data["norms"]` against `data["distance"]`, one curve per
    spectral radius, each with its bound dotted (the data of `jacobian_norms_vs_distance`)."""
    fig, axes = _figure(len(data["input_scales"]))
    colors = [f"C{i}" for i in range(len(data["radii"]))]
    for ax, scale, panel in zip(axes, data["input_scales"], data["norms"], strict=True):
        for rho, color, curve, limit in zip(data["radii"], colors, panel, data["bound"],
                                            strict=True):
            ax.semilogy(data["distance"], curve, color=color, label=f"rho = {rho:g}")
            ax.semilogy(data["distance"], limit, color=color, linestyle=":", linewidth=1)
        ax.plot([], [], color="gray", linestyle=":", label="bound sigma_max^(T-k)")
        ax.set(title=f"inputs of scale {scale:g}", xlabel="distance T - k",
               ylabel="||dh_T / dh_k||  (batch mean)", ylim=(1e-12, 1e6))
    axes[0].legend(fontsize="small")
    fig.suptitle(title)
    return fig
