"""rnn_tf.gradients: Jacobians against tf.GradientTape.batch_jacobian, norms against the bound."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnn_tf
from rnn_tf.bptt import rnn_forward
from rnn_tf.gradients import (
    SATURATION_THRESHOLD,
    gradient_bound,
    hidden_state_gradients,
    jacobian_norms_by_distance,
    jacobian_products,
    largest_singular_value,
    layer_jacobian_norms_by_distance,
    layer_saturation_fraction,
    saturation_fraction,
    scale_to_spectral_radius,
    spectral_norms,
    spectral_radius,
    step_jacobians,
)

# Everything below is float64; Jacobians agree with TensorFlow's to rounding.
ATOL = 1e-12


def random_rnn(B=3, T=5, D=2, H=4, w_scale=0.8, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(B, T, D))
    h0 = rng.normal(scale=0.3, size=(B, H))
    W_x = rng.normal(scale=0.7, size=(D, H))
    W_h = rng.normal(scale=w_scale / np.sqrt(H), size=(H, H))  # not symmetric
    b = rng.normal(scale=0.1, size=H)
    return x, h0, W_x, W_h, b


def tf_states_from(x, h_k, W_x, W_h, b):
    """Runs the recurrence in TensorFlow (float64) from state h_k over all steps of x."""
    h = h_k
    for t in range(x.shape[1]):
        h = tf.tanh(x[:, t] @ W_x + h @ W_h + b)
    return h


def orthogonal(H, seed):
    q, _ = np.linalg.qr(np.random.default_rng(seed).normal(size=(H, H)))
    return q


def test_step_jacobians_equal_batch_jacobian():
    x, h0, W_x, W_h, b = random_rnn()
    h, _ = rnn_forward(x, h0, W_x, W_h, b)
    jacobians = step_jacobians(h, W_h)
    assert jacobians.shape == (3, 5, 4, 4)
    states = [h0] + [h[:, t] for t in range(h.shape[1])]
    for t in range(1, 6):
        h_prev = tf.constant(states[t - 1])
        with tf.GradientTape() as tape:
            tape.watch(h_prev)
            h_t = tf_states_from(x[:, t - 1 : t], h_prev, W_x, W_h, b)
        expected = tape.batch_jacobian(h_t, h_prev).numpy()  # [b, i, j] = dh_t[i]/dh_{t-1}[j]
        np.testing.assert_allclose(jacobians[:, t - 1], expected, rtol=0, atol=ATOL)
    # The row layout makes W_h appear transposed; the untransposed version would be wrong here.
    assert not np.allclose(jacobians[:, 0], (1 - h[:, 0, :, None] ** 2) * W_h)


@pytest.mark.parametrize("B,T,D,H", [(2, 4, 3, 3), (1, 1, 2, 5), (3, 3, 1, 1), (1, 6, 4, 2)])
def test_jacobian_products_equal_batch_jacobian_of_h_T_with_respect_to_every_h_k(B, T, D, H):
    x, h0, W_x, W_h, b = random_rnn(B=B, T=T, D=D, H=H, w_scale=1.2, seed=1)
    h, _ = rnn_forward(x, h0, W_x, W_h, b)
    products = jacobian_products(step_jacobians(h, W_h))
    assert products.shape == (B, T + 1, H, H)
    np.testing.assert_array_equal(products[:, T], np.broadcast_to(np.eye(H), (B, H, H)))
    states = [h0] + [h[:, t] for t in range(T)]
    for k in range(T + 1):
        h_k = tf.constant(states[k])
        with tf.GradientTape() as tape:
            tape.watch(h_k)
            h_T = tf_states_from(x[:, k:], h_k, W_x, W_h, b)
        np.testing.assert_allclose(
            products[:, k], tape.batch_jacobian(h_T, h_k).numpy(), rtol=0, atol=ATOL
        )


@pytest.mark.parametrize("w_scale", [0.5, 1.0, 2.0, 5.0])
def test_measured_norms_never_exceed_the_bound(w_scale):
    x, h0, W_x, W_h, b = random_rnn(B=4, T=12, D=3, H=6, w_scale=w_scale, seed=2)
    norms = jacobian_norms_by_distance(x, W_x, W_h, b, h0)
    bound = gradient_bound(largest_singular_value(W_h), np.arange(13))
    assert norms.shape == (4, 13)
    np.testing.assert_allclose(norms[:, 0], 1.0, atol=ATOL)
    assert np.all(norms <= bound * (1 + 1e-10))


@pytest.mark.parametrize("s", [0.5, 0.9, 1.1, 1.5])
def test_near_linear_regime_norm_follows_s_to_the_distance(s):
    # Tiny inputs keep tanh near linear (1 - h^2 ~ 1), and s * orthogonal has every singular
    # value equal to s, so ||dh_T/dh_k|| should be s^(T-k) up to the small tanh curvature.
    T, H = 10, 5
    rng = np.random.default_rng(3)
    x = 1e-4 * rng.normal(size=(2, T, 2))
    W_h = s * orthogonal(H, seed=4)
    norms = jacobian_norms_by_distance(x, rng.normal(size=(2, H)), W_h, np.zeros(H))
    expected = s ** np.arange(T + 1)
    np.testing.assert_allclose(norms, np.broadcast_to(expected, norms.shape), rtol=1e-3)
    curve = norms.mean(axis=0)
    if s < 1:
        assert np.all(np.diff(curve) < 0) and curve[-1] < 0.35
    else:
        assert np.all(np.diff(curve) > 0) and curve[-1] > 2.5


def test_saturated_units_make_the_gradient_vanish_even_with_a_large_w_h():
    # Large inputs saturate tanh: the norm falls far below the (huge) bound.
    x, h0, W_x, W_h, b = random_rnn(B=2, T=10, D=3, H=5, w_scale=1.5, seed=5)
    W_x = 20 * W_x
    norms = jacobian_norms_by_distance(x, W_x, W_h, b, h0)
    h, _ = rnn_forward(x, h0, W_x, W_h, b)
    assert saturation_fraction(h) > 0.5
    assert norms[:, -1].max() < 1e-3 * gradient_bound(largest_singular_value(W_h), 10)


@pytest.mark.parametrize("layer_class", [keras.layers.SimpleRNN, rnn_tf.SimpleRNN])
def test_layer_norms_equal_the_weight_version_for_keras_and_rnn_tf_layers(layer_class):
    x, _, _, _, _ = random_rnn(B=2, T=6, D=3, H=4, seed=6)
    layer = layer_class(4)
    layer(x.astype(np.float32))  # builds it with its own initialisers
    W_x, W_h, b = (w.astype(np.float64) for w in layer.get_weights())

    got = layer_jacobian_norms_by_distance(layer, x)

    np.testing.assert_allclose(got, jacobian_norms_by_distance(x, W_x, W_h, b), atol=ATOL)


def test_layer_norms_use_the_layers_activation():
    # A ReLU layer: compare with batch_jacobian taken through the layer itself.
    x, h0, _, _, _ = random_rnn(B=2, T=4, D=3, H=4, seed=7)
    layer = keras.layers.SimpleRNN(4, activation="relu", dtype="float64")
    layer(x)
    norms = layer_jacobian_norms_by_distance(layer, x, h0)
    h_k = tf.constant(h0)
    with tf.GradientTape() as tape:
        tape.watch(h_k)
        h_T = layer(x, initial_state=[h_k])
    expected = spectral_norms(tape.batch_jacobian(h_T, h_k).numpy())
    np.testing.assert_allclose(norms[:, -1], expected, rtol=1e-10)


def test_layer_functions_reject_things_that_are_not_simple_rnns():
    with pytest.raises(ValueError, match="SimpleRNN-like"):
        layer_jacobian_norms_by_distance(keras.layers.Dense(3), np.zeros((1, 2, 3)))
    layer = keras.layers.SimpleRNN(3)
    layer(np.zeros((1, 2, 2), np.float32))
    with pytest.raises(ValueError, match=r"\(B, T, 2\)"):
        layer_jacobian_norms_by_distance(layer, np.zeros((1, 2, 5)))
    backwards = keras.layers.SimpleRNN(3, go_backwards=True)
    backwards(np.zeros((1, 2, 2), np.float32))
    with pytest.raises(ValueError, match="go_backwards"):
        layer_jacobian_norms_by_distance(backwards, np.zeros((1, 2, 2)))


def test_singular_value_and_spectral_radius():
    nilpotent = np.array([[0.0, 2.0], [0.0, 0.0]])  # every eigenvalue 0, yet stretches by 2
    assert largest_singular_value(nilpotent) == pytest.approx(2.0)
    assert spectral_radius(nilpotent) == pytest.approx(0.0)
    rotation = 0.7 * np.array([[0.0, -1.0], [1.0, 0.0]])  # complex eigenvalues +-0.7i
    assert spectral_radius(rotation) == pytest.approx(0.7)
    rng = np.random.default_rng(8)
    W = rng.normal(size=(6, 6))
    assert largest_singular_value(W) == pytest.approx(np.linalg.norm(W, ord=2))
    assert spectral_radius(W) <= largest_singular_value(W)
    assert spectral_radius(scale_to_spectral_radius(W, 1.1)) == pytest.approx(1.1)


def test_gradient_bound_is_gamma_sigma_to_the_distance():
    np.testing.assert_allclose(gradient_bound(0.5, [0, 1, 3]), [1.0, 0.5, 0.125])
    np.testing.assert_allclose(gradient_bound(2.0, 2, gamma=0.25), 0.25)


def test_saturation_fraction_counts_units_beyond_the_threshold():
    h = np.array([[0.0, 0.5, 0.995, -0.999], [0.98, -0.2, 1.0, 0.1]])
    assert SATURATION_THRESHOLD == 0.99
    assert saturation_fraction(h) == pytest.approx(3 / 8)
    assert saturation_fraction(h, threshold=0.9) == pytest.approx(4 / 8)
    with pytest.raises(ValueError, match="threshold"):
        saturation_fraction(h, threshold=1.0)
    layer = keras.layers.SimpleRNN(4, kernel_initializer=keras.initializers.Constant(5.0))
    layer(np.ones((1, 3, 2), np.float32))
    assert layer_saturation_fraction(layer, np.ones((1, 3, 2))) == 1.0


def float64_model(H=4, D=2, recurrent_scale=1.0, layer_class=keras.layers.SimpleRNN):
    keras.utils.set_random_seed(9)
    model = keras.Sequential(
        [
            keras.Input((None, D), dtype="float64"),
            layer_class(H, dtype="float64"),
            keras.layers.Dense(1, dtype="float64"),
        ]
    )
    rnn = model.layers[0]
    rnn.cell.recurrent_kernel.assign(recurrent_scale * orthogonal(H, seed=10))
    return model


@pytest.mark.parametrize("layer_class", [keras.layers.SimpleRNN, rnn_tf.SimpleRNN])
def test_hidden_state_gradients_follow_the_chain_rule_through_the_model(layer_class):
    model = float64_model(layer_class=layer_class)
    rng = np.random.default_rng(11)
    x, y = rng.normal(size=(3, 6, 2)), rng.normal(size=(3, 1))

    loss, grads = hidden_state_gradients(model, x, y)

    assert grads.shape == (3, 6, 4)
    # The unrolled states are the model's: the loss is the model's loss on its own output.
    expected_loss = float(np.mean(keras.losses.mean_squared_error(y, model(x))))
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    # At the last step, dL/dh_T is the head's gradient.
    h_T = tf.constant(model.layers[0](x))
    with tf.GradientTape() as tape:
        tape.watch(h_T)
        head_loss = tf.reduce_mean(keras.losses.mean_squared_error(y, model.layers[1](h_T)))
    np.testing.assert_allclose(grads[:, -1], tape.gradient(head_loss, h_T), atol=ATOL)
    # Earlier steps: dL/dh_{t-1} = dL/dh_t @ J_t, with the batch_jacobian-checked J_t.
    W_x, W_h, b = model.layers[0].get_weights()
    h, _ = rnn_forward(x, np.zeros((3, 4)), W_x, W_h, b)
    jacobians = step_jacobians(h, W_h)
    for t in range(1, 6):
        chained = np.einsum("bi,bij->bj", grads[:, t], jacobians[:, t])
        np.testing.assert_allclose(grads[:, t - 1], chained, atol=ATOL)


def test_hidden_state_gradients_vanish_towards_early_steps_with_a_contracting_w_h():
    model = float64_model(recurrent_scale=0.5)
    rng = np.random.default_rng(12)
    _, grads = hidden_state_gradients(model, rng.normal(size=(4, 30, 2)), np.ones((4, 1)))
    per_step = np.linalg.norm(grads, axis=-1).mean(axis=0)  # (T,)
    assert per_step[0] < 1e-6 * per_step[-1]


def test_hidden_state_gradients_rejects_models_it_cannot_unroll():
    dense_first = keras.Sequential([keras.Input((3, 2)), keras.layers.Dense(2)])
    with pytest.raises(ValueError, match="SimpleRNN-like"):
        hidden_state_gradients(dense_first, np.zeros((1, 3, 2)), np.zeros((1, 3, 2)))
    sequences = keras.Sequential(
        [keras.Input((3, 2)), keras.layers.SimpleRNN(2, return_sequences=True)]
    )
    with pytest.raises(ValueError, match="return_sequences=False"):
        hidden_state_gradients(sequences, np.zeros((1, 3, 2)), np.zeros((1, 3, 2)))


def test_docstring_examples_run():
    import doctest

    import rnn_tf.gradients

    result = doctest.testmod(rnn_tf.gradients, extraglobs={"np": np, "keras": keras})
    assert result.attempted > 0 and result.failed == 0
