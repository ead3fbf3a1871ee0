"""rnn_tf.experiments: each experiment's data shows the effect it claims; no pyplot state."""

import matplotlib

matplotlib.use("Agg")  # before pyplot, which is imported only to check that nothing used it

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from rnn_tf.clipping import clip_by_global_norm, clip_by_norm, global_norm  # noqa: E402
from rnn_tf.experiments import (  # noqa: E402
    EXPERIMENTS,
    clipping_does_not_fix_vanishing,
    exploding_with_and_without_clipping,
    jacobian_norms_vs_distance,
    main,
)

pytestmark = pytest.mark.slow  # trains small models: a few seconds each


@pytest.fixture(scope="module")
def norms_vs_distance():
    return jacobian_norms_vs_distance()


@pytest.fixture(scope="module")
def exploding():
    return exploding_with_and_without_clipping()


@pytest.fixture(scope="module")
def vanishing():
    return clipping_does_not_fix_vanishing()


def pyplot_figures():
    """The figures pyplot manages (other tests in this process may have made some)."""
    return [plt.figure(number) for number in plt.get_fignums()]


def test_experiments_return_object_api_figures_without_touching_pyplot(
    norms_vs_distance, exploding, vanishing
):
    managed = pyplot_figures()
    for _, fig in (norms_vs_distance, exploding, vanishing):
        assert isinstance(fig, Figure) and isinstance(fig.canvas, FigureCanvasAgg)
        assert all(ax.lines for ax in fig.axes)
        assert all(fig is not other for other in managed)


def test_a_measured_norms_never_exceed_the_bound(norms_vs_distance):
    data, _ = norms_vs_distance
    S, R, T1 = len(data["input_scales"]), len(data["radii"]), len(data["distance"])
    assert data["max_norms"].shape == data["norms"].shape == (S, R, T1)
    np.testing.assert_allclose(data["sigma_max"], data["radii"], rtol=1e-12)
    assert np.all(data["max_norms"] <= data["bound"] * (1 + 1e-9))


def test_a_small_inputs_vanish_below_radius_one_and_grow_above(norms_vs_distance):
    data, _ = norms_vs_distance
    near_linear = data["norms"][0]  # (R, T + 1), inputs of scale 0.01
    final = near_linear[:, -1]
    assert np.all(np.diff(final) > 0)  # larger radius, larger gradient at distance T
    assert np.all(final[data["radii"] < 1] < 1e-2)
    assert np.all(final[data["radii"] > 1] > 10)
    # Near-linear and orthogonal: the norm follows rho^(T-k) closely for rho <= 1.
    contracting = data["radii"] <= 1
    np.testing.assert_allclose(
        near_linear[contracting], data["bound"][contracting], rtol=0.1, atol=1e-30
    )


def test_a_saturation_makes_gradients_vanish_even_for_radius_above_one(norms_vs_distance):
    data, _ = norms_vs_distance
    saturating = data["norms"][1]  # inputs of scale 1
    assert np.all(saturating[:, -1] < 0.1)
    # Larger radius still means larger gradient, but far below the bound for rho > 1.
    growing = data["radii"] > 1
    assert np.all(saturating[growing, -1] < 1e-3 * data["bound"][growing, -1])


def test_b_without_clipping_reaches_inf_or_nan_and_with_clipping_stays_finite(exploding):
    data, _ = exploding
    unclipped, clipped = data["unclipped"], data["clipped"]
    step = data["first_nonfinite_step"]
    assert step is not None and step < len(data["step"])
    assert not np.isfinite(unclipped["loss"][step])
    assert np.all(np.isfinite(unclipped["loss"][:step]))
    assert np.all(np.isfinite(clipped["loss"])) and np.all(np.isfinite(clipped["grad_norm"]))
    assert clipped["loss"].max() < 100


def test_b_the_gradient_explodes_in_both_runs_and_clipping_only_bounds_the_step(exploding):
    data, _ = exploding
    assert data["unclipped"]["grad_norm"][0] > 1e6
    assert data["clipped"]["grad_norm"][0] == data["unclipped"]["grad_norm"][0]
    # The clipped run still sees huge gradients: clipping acts on every step.
    assert np.all(data["clipped"]["grad_norm"] > data["max_norm"])


def vanishing_experiment_problems(data):
    """What is wrong with a run of experiment (c), one sentence each; empty when it holds up.

    Each check compares the run with something it did not compute itself: the update with
    TensorFlow's own tf.clip_by_global_norm, the per-step signals with that update, the claim
    with the measured numbers.
    """
    problems = []
    g = data["tensor_norms"]  # (P,): ||each gradient tensor|| before clipping
    # Global clipping scales every tensor by one factor, so the norms after clipping are what
    # tf.clip_by_global_norm makes of P one-element tensors holding the norms before.
    reference = np.array([[float(t[0]) for t in tf.clip_by_global_norm(
        [tf.constant([n], tf.float64) for n in g], c)[0]] for c in data["max_norms"]])  # (C, P)
    if not np.allclose(data["update_norms"], reference, rtol=1e-6, atol=0):
        problems.append("the update is not tf.clip_by_global_norm of the gradient")
    factors = data["update_norms"] / g  # (C, P): what clipping did to each tensor
    if not np.allclose(factors, factors[:, :1], rtol=1e-6, atol=0):
        problems.append("the clipped update is not one multiple of the gradient")
    # Backprop is linear: the per-step signals of the applied update are its factor times the
    # unclipped ones (float32 backprop: 1e-4).
    if not np.allclose(data["signals_clipped"], factors[:, :1] * data["signal"], rtol=1e-4,
                       atol=0):
        problems.append("the measured signals are not those of the update applied")
    if not data["ratio"] < 1e-3:
        problems.append("the gradient reaching the first steps has not vanished")
    unclipped_early = data["signal"][: data["window"]].mean()
    if not np.all(data["early"] <= unclipped_early * (1 + 1e-5)):
        problems.append("clipping made the gradient reaching the first steps larger")
    if not (data["clip_scale"].min() < 1e-2 and data["clip_scale"].max() == 1.0):
        problems.append("the thresholds do not span hard clipping and no clipping")
    return problems


def test_c_clipping_by_global_norm_leaves_the_vanished_gradient_vanished(vanishing):
    data, _ = vanishing
    assert vanishing_experiment_problems(data) == []
    assert np.all(np.diff(data["early"]) > 0)  # a tighter threshold leaves even less


def _clip_to_ten_times_the_threshold(grads, max_norm):
    return clip_by_global_norm(grads, 10 * max_norm)


def _normalise_to_the_threshold(grads, max_norm):  # the test "norm > c" forgotten
    norm = global_norm(grads)
    return [g * (max_norm / norm) for g in grads], norm


def _clip_each_tensor(grads, max_norm):  # Keras's clipnorm, not global_clipnorm
    return [clip_by_norm(g, max_norm) for g in grads], global_norm(grads)


def _no_clipping(grads, max_norm):
    return list(grads), global_norm(grads)


BROKEN_CLIPPING = {  # clip_fn -> the problem the checks must report
    "wrong bound": (_clip_to_ten_times_the_threshold,
                    "the update is not tf.clip_by_global_norm of the gradient"),
    "scales small gradients up": (_normalise_to_the_threshold,
                                  "clipping made the gradient reaching the first steps larger"),
    "per tensor": (_clip_each_tensor, "the clipped update is not one multiple of the gradient"),
    "no clipping": (_no_clipping, "the update is not tf.clip_by_global_norm of the gradient"),
}


@pytest.mark.parametrize("mutant", BROKEN_CLIPPING, ids=list(BROKEN_CLIPPING))
def test_c_checks_catch_a_broken_experiment(mutant):
    clip_fn, problem = BROKEN_CLIPPING[mutant]
    data, _ = clipping_does_not_fix_vanishing(clip_fn=clip_fn)
    assert problem in vanishing_experiment_problems(data)


def test_experiments_are_seeded_so_reruns_give_the_same_data(norms_vs_distance):
    again, _ = jacobian_norms_vs_distance()
    np.testing.assert_array_equal(again["norms"], norms_vs_distance[0]["norms"])
    first, _ = exploding_with_and_without_clipping(steps=3, T=20)
    second, _ = exploding_with_and_without_clipping(steps=3, T=20)
    for run in ("unclipped", "clipped"):
        np.testing.assert_array_equal(first[run]["loss"], second[run]["loss"])
        np.testing.assert_array_equal(first[run]["grad_norm"], second[run]["grad_norm"])


def test_main_writes_a_png_per_experiment(tmp_path, capsys):
    before = plt.get_fignums()
    name = "a_jacobian_norms_vs_distance"
    assert main(["--out", str(tmp_path / "figures"), "--only", name]) == 0
    png = tmp_path / "figures" / f"{name}.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert str(png) in capsys.readouterr().out
    assert sorted(EXPERIMENTS) == [
        "a_jacobian_norms_vs_distance",
        "b_exploding_with_and_without_clipping",
        "c_clipping_does_not_fix_vanishing",
        "d_adding_problem_vs_length",
    ]
    assert plt.get_fignums() == before
