"""The experiments behind the lecture's claims, each returning its data and a matplotlib figure.

Lesson: rnn2_bptt and rnn3_clipping ((a) gradients vanish or explode as (spectral radius)^distance,
(b) clipping keeps an exploding run finite, (c) but cannot bring back a vanished gradient), and
(d) from `rnn_tf.long_range`: the sequence length where a vanilla RNN stops learning to add.

Each function is seeded (reruns give the same data), runs in a few seconds on two CPU cores,
and builds its figure with ``matplotlib.figure.Figure`` on the Agg canvas, touching no global
pyplot state, so notebooks can call them freely. ``rnn-experiments --out DIR`` (``main``) writes
every figure to ``DIR/<name>.png``.
"""

import argparse
import pathlib

import keras
import numpy as np
import tensorflow as tf
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rnn_course_student.plots import plot_norms_vs_distance
from rnn_tf import long_range
from rnn_tf.clipping import clip_by_global_norm, global_norm
from rnn_tf.gradients import (
    gradient_bound,
    hidden_state_gradients,
    jacobian_norms_by_distance,
    largest_singular_value,
    scale_to_spectral_radius,
)
from rnn_tf.layer import SimpleRNN


def _figure(ncols, width=5.0, height=3.8):
    """A Figure with `ncols` axes on an Agg canvas, independent of pyplot."""
    fig = Figure(figsize=(width * ncols, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def _norm(tensor):
    """The L2 norm of one gradient tensor, in float64."""
    return float(np.linalg.norm(np.asarray(tensor, dtype=np.float64)))


def _orthogonal(H, rng):
    q, r = np.linalg.qr(rng.normal(size=(H, H)))
    return q * np.sign(np.diag(r))  # (H, H), every singular value and |eigenvalue| equal to 1


def jacobian_norms_vs_distance(
    radii=(0.5, 0.9, 1.0, 1.1, 1.5), input_scales=(0.01, 1.0), T=50, H=32, D=4, B=8, seed=0
):
    """(a) ||dh_T/dh_k|| against the distance T - k, for W_h scaled to each spectral radius.

    W_h is a random orthogonal matrix times the radius rho, so its largest singular value is rho
    too and the bound (gamma * sigma_max)^(T-k) with gamma = 1 is rho^(T-k). With small inputs
    (first panel) tanh stays near linear and the norms follow the bound: they vanish for
    rho < 1 and grow for rho > 1. With inputs of size 1 (second panel) units saturate, tanh'
    drops below 1, and the norms fall far below the bound, so gradients vanish even for rho > 1.

    Args:
        radii: spectral radii of W_h.
        input_scales: standard deviation of the inputs, one panel each.
        T, H, D, B: sequence length, hidden size, input size, batch size.
        seed: seeds the weights and inputs.

    Returns:
        (data, fig): data has "distance" (T + 1,), "radii", "input_scales", "sigma_max"
        (len(radii),), "norms" (len(input_scales), len(radii), T + 1) averaged over the batch,
        "max_norms" (same shape, the largest over the batch) and "bound" (len(radii), T + 1).
    """
    rng = np.random.default_rng(seed)
    Q = _orthogonal(H, rng)  # (H, H)
    W_x = rng.normal(size=(D, H)) / np.sqrt(D)  # (D, H)
    b = np.zeros(H)  # (H,)
    distance = np.arange(T + 1)
    W_hs = [scale_to_spectral_radius(Q, rho) for rho in radii]
    sigma_max = np.array([largest_singular_value(W_h) for W_h in W_hs])
    bound = np.stack([gradient_bound(s, distance) for s in sigma_max])  # (R, T + 1)
    norms, max_norms = [], []
    for scale in input_scales:
        x = scale * rng.normal(size=(B, T, D))  # (B, T, D)
        per_example = [jacobian_norms_by_distance(x, W_x, W_h, b) for W_h in W_hs]  # (B, T+1)
        norms.append([n.mean(axis=0) for n in per_example])
        max_norms.append([n.max(axis=0) for n in per_example])
    data = dict(
        distance=distance,
        radii=np.array(radii),
        input_scales=np.array(input_scales),
        sigma_max=sigma_max,
        norms=np.array(norms),  # (S, R, T + 1)
        max_norms=np.array(max_norms),  # (S, R, T + 1)
        bound=bound,
    )

    return data, plot_norms_vs_distance(
        data, "(a) Gradient norm through time vs spectral radius of W_h")


def _regression_model(T, H, recurrent_gain, seed, input_weight_std=None):
    """SimpleRNN(H) + Dense(1), float32, with an orthogonal W_h of the given gain.

    W_x is drawn from N(0, input_weight_std^2), or Keras's default Glorot-uniform when None.
    """
    keras.utils.set_random_seed(seed)
    if input_weight_std is None:
        kernel_initializer = keras.initializers.GlorotUniform(seed=seed)
    else:
        kernel_initializer = keras.initializers.RandomNormal(stddev=input_weight_std, seed=seed)
    model = keras.Sequential(
        [
            keras.Input((T, 1)),
            SimpleRNN(
                H,
                kernel_initializer=kernel_initializer,
                recurrent_initializer=keras.initializers.Orthogonal(gain=recurrent_gain, seed=seed),
            ),
            keras.layers.Dense(1, kernel_initializer=keras.initializers.GlorotUniform(seed=seed)),
        ]
    )
    return model


def _sgd_trainer(model, x, y, learning_rate, max_norm):
    """A function making one SGD step on the mean squared error, optionally clipped by global norm.

    Each call returns (loss before the step, global gradient norm before clipping). The forward
    and backward passes run as one compiled tf.function (eager RNN steps are slow on 2 cores);
    the clipping runs eagerly, in float64, through ``clip_by_global_norm``.
    """
    optimizer = keras.optimizers.SGD(learning_rate)
    x, y = tf.constant(x), tf.constant(y)

    @tf.function
    def loss_and_grads():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(keras.losses.mean_squared_error(y, model(x)))
        return loss, tape.gradient(loss, model.trainable_variables)

    def step():
        loss, grads = loss_and_grads()
        if max_norm is None:
            norm = global_norm(grads)
        else:
            grads, norm = clip_by_global_norm(grads, max_norm)
        optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
        return float(loss), norm

    return step


def exploding_with_and_without_clipping(
    recurrent_gain=3.0, max_norm=1.0, steps=25, learning_rate=1.0, T=100, H=32, B=16, seed=0
):
    """(b) Training from a large recurrent initialisation, without and with gradient clipping.

    With W_h orthogonal times 3 the network is chaotic and the first gradient is around 1e11.
    Without clipping, SGD takes that step as it is: the weights are flung so far (W_h entries
    near 1e10) that every unit saturates (the "cliff" of Pascanu et al.), the output layer now
    sees large +-1 features for which the learning rate is too big, and the loss grows
    geometrically until it overflows to inf and then NaN. With ``clip_by_global_norm`` every
    step is at most learning_rate * max_norm long, so the same run stays finite, although its
    gradient norm stays huge: clipping bounds the step, it does not remove the explosion.

    The task regresses the scaled sum of a random sequence, sum_t x_t / sqrt(T); W_x is drawn
    from N(0, 1).

    Args:
        recurrent_gain: W_h is this times a random orthogonal matrix (Keras's ``Orthogonal``).
        max_norm: the clipping threshold of the clipped run.
        steps, learning_rate: length and step size of each SGD run (full batch).
        T, H, B: sequence length, hidden size, batch size.
        seed: seeds the weights and the data.

    Returns:
        (data, fig): data has "step" (steps,), and for "unclipped" and "clipped" a dict with
        "loss" and "grad_norm" (steps,), the loss before each update and the global gradient
        norm before clipping; plus "max_norm", "first_nonfinite_step" (of the unclipped loss,
        or None).
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, T, 1)).astype(np.float32)  # (B, T, 1)
    y = x.sum(axis=1) / np.sqrt(T)  # (B, 1)
    data = dict(step=np.arange(steps), max_norm=max_norm)
    for name, clip in (("unclipped", None), ("clipped", max_norm)):
        model = _regression_model(T, H, recurrent_gain, seed, input_weight_std=1.0)
        step = _sgd_trainer(model, x, y, learning_rate, clip)
        history = [step() for _ in range(steps)]
        loss, grad_norm = (np.array(column) for column in zip(*history, strict=True))
        data[name] = dict(loss=loss, grad_norm=grad_norm)
    bad = np.flatnonzero(~np.isfinite(data["unclipped"]["loss"]))
    data["first_nonfinite_step"] = int(bad[0]) if bad.size else None

    fig, (loss_ax, norm_ax) = _figure(2)
    for name, style in (("unclipped", "C3"), ("clipped", "C0")):
        label = "no clipping" if name == "unclipped" else f"clip_by_global_norm({max_norm:g})"
        loss_ax.semilogy(data["step"], data[name]["loss"], style, label=label)
        norm_ax.semilogy(data["step"], data[name]["grad_norm"], style, label=label)
    if data["first_nonfinite_step"] is not None:
        for ax in (loss_ax, norm_ax):
            ax.axvline(data["first_nonfinite_step"], color="C3", linestyle="--", linewidth=1)
        loss_ax.annotate(
            "inf/NaN from here ",
            (data["first_nonfinite_step"], 0.5),
            xycoords=("data", "axes fraction"),
            ha="right",
            color="C3",
        )
    loss_ax.set(title="training loss", xlabel="SGD step", ylabel="mean squared error")
    norm_ax.set(title="gradient norm before clipping", xlabel="SGD step", ylabel="global norm")
    loss_ax.legend(fontsize="small")
    fig.suptitle(f"(b) Exploding gradients: W_h = {recurrent_gain:g} x orthogonal, T = {T}")
    return data, fig


def clipping_does_not_fix_vanishing(
    max_norms=(1e-3, 1e-2, 0.1, 1.0, 10.0), T=100, H=32, B=32, seed=0,
    clip_fn=clip_by_global_norm,
):
    """(c) On a long sequence the early steps get almost no gradient, with or without clipping.

    The task asks for the *first* input at the last step (y = x_1), so what matters is the
    gradient reaching early steps. With Keras's default initialisation (orthogonal W_h,
    Glorot-uniform W_x) and a loss at step T, the norm of dL/dh_t shrinks by orders of magnitude
    from t = T back to t = 1. Clipping by global norm multiplies the whole gradient by one
    factor s = min(1, c / ||g||), read here from what ``clip_by_global_norm`` returns; since
    backpropagation is linear in the loss, the clipped update is the gradient of s * L, and
    backpropagating s * L through the model measures what each step receives. Every step's
    share shrinks alike: the early/late ratio is the same for every threshold c and without
    clipping, and tighter clipping only makes the early gradient smaller still. Clipping cannot
    make a small gradient larger.

    Args:
        max_norms: clipping thresholds c to compare with no clipping.
        T, H, B: sequence length, hidden size, batch size.
        seed: seeds the weights and inputs.
        clip_fn: the clipping function, with the signature of ``tf.clip_by_global_norm``:
            ``clip_fn(grads, max_norm) -> (clipped, norm)``. The measurement assumes it scales
            every gradient by one factor; "update_norms" lets a caller check that it did.

    Returns:
        (data, fig): data has "t" (1 ... T); "signal" (T,), the batch-mean ||dL/dh_t|| without
        clipping; "grad_norm", the global norm of the parameter gradient; "tensor_norms" (P,),
        the norm of each of its P tensors; "window" (T // 10); "ratio", the early/late ratio
        (mean over the first window steps / the last); and per threshold in "max_norms":
        "update_norms" (C, P), the norm of each tensor of the clipped gradient, "clip_scale" s,
        "signals_clipped" (C, T), the batch-mean ||dL/dh_t|| measured by backpropagating s * L,
        "early" and "late" (its mean over the first and last window steps) and "ratios"
        (early / late).
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, T, 1)).astype(np.float32)  # (B, T, 1)
    y = x[:, 0]  # (B, 1): the target is the first input
    window = max(1, T // 10)

    model = _regression_model(T, H, recurrent_gain=1.0, seed=seed)
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(keras.losses.mean_squared_error(y, model(x)))
    grads = tape.gradient(loss, model.trainable_variables)
    grad_norm = global_norm(grads)
    tensor_norms = [_norm(g) for g in grads]  # (P,)

    def signal_for(scale):
        """Batch-mean ||dL/dh_t|| (T,) when backpropagating scale * L through the model."""

        def scaled_mse(y_true, y_pred):
            return scale * keras.losses.mean_squared_error(y_true, y_pred)

        _, state_grads = hidden_state_gradients(model, x, y, loss=scaled_mse)  # (B, T, H)
        return np.linalg.norm(state_grads.astype(np.float64), axis=-1).mean(axis=0)  # (T,)

    def early_late(signal):
        return signal[:window].mean(), signal[-window:].mean()

    signal = signal_for(1.0)  # (T,)
    clip_scale, signals_clipped, update_norms = [], [], []
    for c in max_norms:
        clipped, _ = clip_fn(grads, c)
        update_norms.append([_norm(g) for g in clipped])
        s = global_norm(clipped) / grad_norm  # the one factor clipping applied to the update
        clip_scale.append(s)
        # Backprop is linear in the loss, so the clipped update is the gradient of s * L: its
        # share at each step is measured by backpropagating s * L through the model.
        signals_clipped.append(signal_for(s))
    early, late = np.array([early_late(sig) for sig in signals_clipped]).T  # (C,), (C,)
    first, last = early_late(signal)
    data = dict(
        t=np.arange(1, T + 1),
        signal=signal,
        grad_norm=grad_norm,
        tensor_norms=np.array(tensor_norms),  # (P,)
        window=window,
        ratio=float(first / last),
        max_norms=np.array(max_norms, dtype=np.float64),
        update_norms=np.array(update_norms),  # (C, P)
        clip_scale=np.array(clip_scale),
        signals_clipped=np.array(signals_clipped),  # (C, T)
        early=early,
        late=late,
        ratios=early / late,
    )

    fig, (signal_ax, sweep_ax) = _figure(2)
    signal_ax.semilogy(data["t"], signal, "C3", label="no clipping")
    for s, clipped_signal in zip(clip_scale, signals_clipped, strict=True):
        if s < 1:
            signal_ax.semilogy(data["t"], clipped_signal, "C0", alpha=0.3 + 0.7 * s**0.25, lw=1)
    signal_ax.plot([], [], "C0", label="clipped to c (one curve per c < ||g||)")
    signal_ax.set(
        title=f"gradient reaching each step (early/late ratio {data['ratio']:.1e})",
        xlabel="step t",
        ylabel="||dL/dh_t||",
    )
    signal_ax.legend(fontsize="small")
    sweep_ax.loglog(max_norms, late, "C2o-", label=f"last {window} steps")
    sweep_ax.loglog(max_norms, early, "C1s-", label=f"first {window} steps")
    sweep_ax.axvline(grad_norm, color="gray", linestyle=":", linewidth=1)
    sweep_ax.annotate("||g||: no clipping beyond", (grad_norm, late.max()), rotation=90,
                      ha="right", va="top", color="gray", fontsize="small")  # fmt: skip
    sweep_ax.set(
        title="tighter clipping shrinks early and late alike",
        xlabel="clipping threshold c",
        ylabel="mean ||dL/dh_t|| after clipping",
    )
    sweep_ax.legend(fontsize="small")
    fig.suptitle(f"(c) Clipping does not fix vanishing gradients (T = {T})")
    return data, fig


def adding_problem_vs_length():
    """(d) The adding problem: where a vanilla RNN stops learning, with and without clipping.

    The sweep lives in `rnn_tf.long_range` (it trains ten models, ~25 s on 2 cores); this wraps it
    in the same (data, figure) shape as the experiments above.
    """
    sweep = long_range.adding_sweep()
    return sweep, long_range.plot_adding_sweep(sweep)


# name -> experiment; main() writes each figure as <name>.png
EXPERIMENTS = {
    "a_jacobian_norms_vs_distance": jacobian_norms_vs_distance,
    "b_exploding_with_and_without_clipping": exploding_with_and_without_clipping,
    "c_clipping_does_not_fix_vanishing": clipping_does_not_fix_vanishing,
    "d_adding_problem_vs_length": adding_problem_vs_length,
}


def main(argv=None):
    """Console script ``rnn-experiments --out DIR``: runs every experiment, writes its PNG."""
    parser = argparse.ArgumentParser(
        prog="rnn-experiments",
        description="Run the course's gradient experiments and save their figures.",
    )
    parser.add_argument("--out", required=True, type=pathlib.Path, help="directory for PNG files")
    parser.add_argument(
        "--only", choices=sorted(EXPERIMENTS), action="append", help="run only these (repeatable)"
    )
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for name in args.only or EXPERIMENTS:
        _, fig = EXPERIMENTS[name]()
        path = args.out / f"{name}.png"
        fig.savefig(path, dpi=120)
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
