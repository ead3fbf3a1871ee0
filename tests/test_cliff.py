"""The cliff (rnn_tf.cliff): exact gradients, and the effect the lesson claims for clipping."""

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from rnn_tf import cliff  # noqa: E402

# Points off the wall, where finite differences are well conditioned.
SMOOTH_POINTS = [(2.0, -1.0), (3.5, -1.6), (4.25, -2.75), (6.0, -1.0), (-1.0, 0.5)]


@pytest.mark.parametrize("w, b", SMOOTH_POINTS)
def test_gradient_matches_central_finite_differences(w, b):
    _, dE_dw, dE_db = cliff.cliff_error_and_grad(w, b)
    eps = 1e-6
    fd_w = (cliff.cliff_error(w + eps, b) - cliff.cliff_error(w - eps, b)) / (2 * eps)
    fd_b = (cliff.cliff_error(w, b + eps) - cliff.cliff_error(w, b - eps)) / (2 * eps)
    # Central differences in float64 are good to ~1e-9 here; relative 1e-6 leaves room.
    np.testing.assert_allclose([dE_dw, dE_db], [fd_w, fd_b], rtol=1e-6, atol=1e-10)


def test_error_and_gradient_match_tensorflow_autodiff_on_a_grid_across_the_wall():
    import tensorflow as tf

    w_np = np.linspace(3.0, 6.0, 7)
    b_np = np.linspace(-3.5, -1.5, 9)
    W, B = np.meshgrid(w_np, b_np)  # both (9, 7); includes points on the steep wall
    w = tf.Variable(W)
    b = tf.Variable(B)
    with tf.GradientTape() as tape:
        x = tf.fill(W.shape, tf.constant(0.5, tf.float64))
        for _ in range(50):
            x = w * tf.sigmoid(x) + b
        error = (tf.sigmoid(x) - 0.7) ** 2
    tf_dw, tf_db = tape.gradient(error, [w, b])
    ours, dE_dw, dE_db = cliff.cliff_error_and_grad(W, B)
    np.testing.assert_allclose(ours, error.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(dE_dw, tf_dw.numpy(), rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(dE_db, tf_db.numpy(), rtol=1e-8, atol=1e-12)


def test_surface_has_two_plateaus_and_a_steep_wall():
    surface = cliff.error_surface(resolution=121)
    assert surface.error.shape == surface.grad_norm.shape == (121, 121)
    # Low fixed point: sigmoid(x_50) ~ 0 gives E ~ 0.49; high: sigmoid ~ 1 gives E ~ 0.09.
    assert surface.error.max() > 0.45
    assert np.mean(np.abs(surface.error - 0.09) < 0.01) > 0.2
    # The wall: somewhere the gradient is thousands of times its median.
    assert surface.grad_norm.max() > 1000 * np.median(surface.grad_norm)


def test_plain_descent_is_thrown_far_by_one_huge_step():
    plain = cliff.gradient_descent()
    lr = cliff.DEFAULT_LEARNING_RATE
    jump = int(np.argmax(plain.step_lengths))
    others = np.delete(plain.step_lengths, jump)
    assert plain.step_lengths[jump] > 10 * lr * 1.0  # 40x the clipped bound in fact
    assert plain.step_lengths[jump] > 20 * others.max()
    assert plain.grad_norms[jump] > 10
    # It lands on the E = 0.09 plateau, where the gradient is too small to bring it back.
    assert np.linalg.norm(plain.params[-1] - plain.params[jump]) > 3.0
    assert abs(plain.final_error - 0.09) < 1e-3
    assert plain.grad_norms[-1] < 1e-3


def test_clipped_steps_are_bounded_and_end_at_lower_error():
    lr, c = cliff.DEFAULT_LEARNING_RATE, 1.0
    plain = cliff.gradient_descent()
    clipped = cliff.gradient_descent(max_norm=c)
    assert clipped.step_lengths.max() <= lr * c * (1 + 1e-12)
    assert clipped.grad_norms.max() > c  # the clip really acted somewhere
    assert clipped.final_error < 1e-3 < plain.final_error
    # Both runs are identical until the first gradient above the threshold.
    first = int(np.argmax(clipped.grad_norms > c))
    np.testing.assert_array_equal(plain.params[: first + 1], clipped.params[: first + 1])


def test_clipping_leaves_steps_alone_below_the_threshold():
    start = (2.0, 1.0)  # the smooth valley: gradient norm well below 10
    plain = cliff.gradient_descent(start, n_steps=20)
    clipped = cliff.gradient_descent(start, n_steps=20, max_norm=10.0)
    assert plain.grad_norms.max() < 10.0
    np.testing.assert_array_equal(plain.params, clipped.params)


def test_a_tensorflow_clip_function_gives_the_same_path():
    import tensorflow as tf

    ours = cliff.gradient_descent(max_norm=1.0)
    with_tf = cliff.gradient_descent(max_norm=1.0, clip_fn=tf.clip_by_global_norm)
    np.testing.assert_allclose(with_tf.params, ours.params, rtol=1e-12, atol=1e-12)


def test_default_clipping_is_the_librarys_clip_by_global_norm(monkeypatch):
    from rnn_tf import clipping

    assert cliff.clip_by_global_norm is clipping.clip_by_global_norm
    calls = []

    def spy(grads, max_norm):
        calls.append(max_norm)
        return clipping.clip_by_global_norm(grads, max_norm)

    monkeypatch.setattr(cliff, "clip_by_global_norm", spy)
    cliff.gradient_descent(max_norm=2.0, n_steps=7)
    assert calls == [2.0] * 7


def test_experiment_is_deterministic_and_draws_without_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    data, fig = cliff.cliff_experiment()
    again, _ = cliff.cliff_experiment()
    assert plt.get_fignums() == before  # nothing left in pyplot's global state
    assert isinstance(fig, matplotlib.figure.Figure) and len(fig.axes) >= 3
    np.testing.assert_array_equal(data.plain.params, again.plain.params)
    np.testing.assert_array_equal(data.clipped.params, again.clipped.params)
    assert data.clipped.final_error < data.plain.final_error


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"start": (1.0, np.nan)}, "start"),
        ({"start": (1.0, 2.0, 3.0)}, "start"),
        ({"learning_rate": 0.0}, "learning_rate"),
        ({"n_steps": 0}, "n_steps"),
        ({"max_norm": -1.0}, "max_norm"),
    ],
)
def test_bad_arguments_raise_a_value_error_naming_them(kwargs, message):
    with pytest.raises(ValueError, match=message):
        cliff.gradient_descent(**kwargs)
