"""rnn_tf.clipping vs tf.clip_by_global_norm, tf.clip_by_norm and Keras's (global_)clipnorm."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnn_tf.clipping import clip_by_global_norm, clip_by_norm, global_norm

# Our norm is summed in float64, TensorFlow's in float32: results agree to float32 rounding.
RTOL = 1e-6


def gradients(scale=1.0, seed=0):
    """Three float32 gradients of different shapes, global norm proportional to `scale`."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (4,), (2, 2, 2)]
    return [(scale * rng.normal(size=s)).astype(np.float32) for s in shapes]


def norm_of(grads):
    return float(tf.linalg.global_norm([g for g in grads if g is not None]))


@pytest.mark.parametrize("ratio", [0.5, 1.0, 3.0], ids=["below", "at", "above"])
@pytest.mark.parametrize("kind", ["numpy", "tensor"])
def test_clip_by_global_norm_matches_tensorflow_below_at_and_above_threshold(ratio, kind):
    grads = gradients()
    max_norm = norm_of(grads) / ratio  # ratio = norm / max_norm
    inputs = grads if kind == "numpy" else [tf.constant(g) for g in grads]

    clipped, norm = clip_by_global_norm(inputs, max_norm)
    expected, expected_norm = tf.clip_by_global_norm([tf.constant(g) for g in grads], max_norm)

    assert norm == pytest.approx(float(expected_norm), rel=RTOL)
    for got, want, original in zip(clipped, expected, inputs, strict=True):
        assert type(got) is type(original) if kind == "numpy" else isinstance(got, tf.Tensor)
        assert got.dtype == original.dtype and got.shape == original.shape
        np.testing.assert_allclose(np.asarray(got), want.numpy(), rtol=RTOL, atol=0)


def test_nothing_changes_at_or_below_the_threshold():
    grads = gradients()
    for max_norm in (norm_of(grads), 2 * norm_of(grads)):
        clipped, _ = clip_by_global_norm(grads, max_norm)
        for got, original in zip(clipped, grads, strict=True):
            np.testing.assert_array_equal(got, original)


def test_clipped_global_norm_equals_max_norm_and_the_direction_is_kept():
    grads = gradients(scale=10.0)
    clipped, norm = clip_by_global_norm(grads, 1.5)
    assert norm > 1.5
    assert norm_of(clipped) == pytest.approx(1.5, rel=RTOL)
    for got, original in zip(clipped, grads, strict=True):
        np.testing.assert_allclose(got, original * (1.5 / norm), rtol=RTOL)


def test_returned_norm_is_the_norm_before_clipping():
    grads = gradients(scale=7.0)
    _, norm = clip_by_global_norm(grads, 0.1)
    expected = math.sqrt(sum(float(np.sum(g.astype(np.float64) ** 2)) for g in grads))
    assert norm == pytest.approx(expected, rel=1e-12)
    assert norm == pytest.approx(global_norm(grads), rel=1e-12)


def test_clipping_twice_equals_clipping_once():
    grads = gradients(scale=5.0)
    once, _ = clip_by_global_norm(grads, 2.0)
    twice, _ = clip_by_global_norm(once, 2.0)
    for a, b in zip(once, twice, strict=True):
        np.testing.assert_allclose(a, b, rtol=RTOL, atol=0)
    single = clip_by_norm(grads[0], 2.0)
    np.testing.assert_allclose(clip_by_norm(single, 2.0), single, rtol=RTOL, atol=0)


def test_inputs_are_not_modified():
    grads = gradients(scale=5.0)
    originals = [g.copy() for g in grads]
    clipped, _ = clip_by_global_norm(grads, 1.0)
    clipped_one = clip_by_norm(grads[0], 1.0)
    unclipped, _ = clip_by_global_norm(grads, 1e6)
    unclipped[0][...] = 0.0  # writing to an output must not reach the input either
    for g, original in zip(grads, originals, strict=True):
        np.testing.assert_array_equal(g, original)
    assert clipped[0] is not grads[0] and clipped_one is not grads[0]


def test_none_entries_pass_through_and_do_not_count():
    grads = gradients(scale=4.0)
    with_none = [grads[0], None, grads[1], None]
    clipped, norm = clip_by_global_norm(with_none, 1.0)
    expected, expected_norm = tf.clip_by_global_norm(with_none, 1.0)
    assert clipped[1] is None and clipped[3] is None
    assert norm == pytest.approx(float(expected_norm), rel=RTOL)
    np.testing.assert_allclose(clipped[2], expected[2].numpy(), rtol=RTOL)
    assert clip_by_norm(None, 1.0) is None


def test_zero_gradient_is_safe():
    zeros = [np.zeros((2, 3), np.float32), np.zeros(3, np.float32)]
    clipped, norm = clip_by_global_norm(zeros, 1.0)
    expected, _ = tf.clip_by_global_norm(zeros, 1.0)
    assert norm == 0.0
    for got, want in zip(clipped, expected, strict=True):
        assert np.all(np.isfinite(got))
        np.testing.assert_array_equal(got, want.numpy())
    np.testing.assert_array_equal(clip_by_norm(zeros[0], 1.0), tf.clip_by_norm(zeros[0], 1.0))


@pytest.mark.parametrize("bad", [np.inf, np.nan], ids=["inf", "nan"])
def test_non_finite_norm_gives_nan_everywhere_like_tensorflow(bad):
    grads = gradients()
    grads[1][2] = bad
    clipped, norm = clip_by_global_norm(grads, 1.0)
    expected, expected_norm = tf.clip_by_global_norm(grads, 1.0)
    assert math.isnan(norm) if np.isnan(bad) else norm == math.inf
    assert np.isnan(float(expected_norm)) == math.isnan(norm)
    for got, want in zip(clipped, expected, strict=True):
        assert np.all(np.isnan(got)) and np.all(np.isnan(want.numpy()))


def test_huge_float32_gradients_are_clipped_where_tensorflow_overflows_to_nan():
    # 1e25 squared overflows float32: TF's norm is inf and its result NaN. Ours sums in float64.
    grads = [np.full(3, 1e25, np.float32), np.ones(2, np.float32)]
    clipped, norm = clip_by_global_norm(grads, 1.0)
    _, tf_norm = tf.clip_by_global_norm(grads, 1.0)
    assert float(tf_norm) == math.inf
    assert norm == pytest.approx(math.sqrt(3) * 1e25, rel=1e-6)
    assert all(np.all(np.isfinite(g)) for g in clipped)
    assert norm_of([g.astype(np.float64) for g in clipped]) == pytest.approx(1.0, rel=RTOL)


@pytest.mark.parametrize("bad", [np.inf, np.nan], ids=["inf", "nan"])
def test_clip_by_norm_of_non_finite_tensor_matches_tensorflow(bad):
    g = gradients()[0]
    g[1, 1] = bad
    for given in (g, tf.constant(g)):
        np.testing.assert_array_equal(np.asarray(clip_by_norm(given, 1.0)), tf.clip_by_norm(g, 1.0))


@pytest.mark.parametrize("ratio", [0.5, 1.0, 3.0], ids=["below", "at", "above"])
def test_clip_by_norm_matches_tensorflow_below_at_and_above_threshold(ratio):
    g = gradients()[0]
    max_norm = float(np.linalg.norm(g)) / ratio
    for given in (g, tf.constant(g)):
        got = clip_by_norm(given, max_norm)
        assert type(got) is type(given) or isinstance(got, tf.Tensor)
        np.testing.assert_allclose(np.asarray(got), tf.clip_by_norm(g, max_norm), rtol=RTOL)
    assert np.linalg.norm(clip_by_norm(g, max_norm)) == pytest.approx(
        min(max_norm, np.linalg.norm(g)), rel=RTOL
    )


def test_indexed_slices_are_clipped_and_returned_as_indexed_slices():
    dense = tf.constant(gradients(scale=3.0)[1])
    sparse = tf.IndexedSlices(
        tf.constant([[3.0, 4.0], [1.0, 2.0]]), tf.constant([0, 4]), tf.constant([6, 2])
    )
    clipped, norm = clip_by_global_norm([dense, sparse], 1.0)
    expected, expected_norm = tf.clip_by_global_norm([dense, sparse], 1.0)
    assert isinstance(clipped[1], tf.IndexedSlices)
    np.testing.assert_array_equal(clipped[1].indices, sparse.indices)
    np.testing.assert_array_equal(clipped[1].dense_shape, sparse.dense_shape)
    np.testing.assert_allclose(clipped[1].values, expected[1].values, rtol=RTOL)
    np.testing.assert_allclose(clipped[0], expected[0], rtol=RTOL)
    assert norm == pytest.approx(float(expected_norm), rel=RTOL)

    one = clip_by_norm(sparse, 1.0)
    assert isinstance(one, tf.IndexedSlices)
    np.testing.assert_allclose(one.values, tf.clip_by_norm(sparse, 1.0).values, rtol=RTOL)


def test_float64_stays_float64():
    grads = [np.array([3.0, 4.0]), tf.constant([1e-3, 0.0], dtype=tf.float64)]
    clipped, _ = clip_by_global_norm(grads, 1.0)
    assert clipped[0].dtype == np.float64 and clipped[1].dtype == tf.float64


@pytest.mark.parametrize("max_norm", [0.0, -1.0, math.inf, math.nan, "big", None])
def test_bad_max_norm_raises_value_error(max_norm):
    with pytest.raises(ValueError, match="max_norm"):
        clip_by_global_norm(gradients(), max_norm)
    with pytest.raises(ValueError, match="max_norm"):
        clip_by_norm(gradients()[0], max_norm)


def test_any_iterable_of_gradients_is_accepted():
    grads = gradients(scale=5.0)
    from_generator, norm = clip_by_global_norm((g for g in grads), 1.0)
    from_list, expected_norm = clip_by_global_norm(grads, 1.0)
    assert norm == expected_norm and len(from_generator) == len(grads)
    for a, b in zip(from_generator, from_list, strict=True):
        np.testing.assert_array_equal(a, b)


def test_single_tensor_or_integer_gradients_raise_value_error():
    with pytest.raises(ValueError, match="list of gradients"):
        clip_by_global_norm(np.ones(3), 1.0)
    with pytest.raises(ValueError, match="floating-point"):
        clip_by_global_norm([np.ones(3, dtype=np.int32)], 1.0)
    with pytest.raises(ValueError, match="int32"):
        clip_by_norm(tf.constant([1, 2]), 1.0)


def sgd_step(optimizer_options, lr=0.1):
    """One SGD step on a two-variable model (Dense kernel + bias); returns (old, grads, new)."""
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    x = np.array([[1.0, -2.0, 3.0], [0.5, 4.0, -1.0]], np.float32)
    y = np.array([[10.0, -10.0], [5.0, 8.0]], np.float32)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum((model(x) - y) ** 2)
    grads = tape.gradient(loss, model.trainable_variables)
    old = [v.numpy() for v in model.trainable_variables]
    optimizer = keras.optimizers.SGD(learning_rate=lr, **optimizer_options)
    optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
    new = [v.numpy() for v in model.trainable_variables]
    return old, [g.numpy() for g in grads], new


def test_keras_clipnorm_is_clip_by_norm_and_global_clipnorm_is_clip_by_global_norm():
    c, lr = 1.0, 0.1
    old, grads, new_clipnorm = sgd_step({"clipnorm": c}, lr)
    _, _, new_global = sgd_step({"global_clipnorm": c}, lr)
    # Each variable's gradient exceeds c on its own, so both kinds of clipping act.
    assert all(np.linalg.norm(g) > c for g in grads)

    per_tensor = [clip_by_norm(g, c) for g in grads]
    clipped_globally, _ = clip_by_global_norm(grads, c)
    for w, g, w_new in zip(old, per_tensor, new_clipnorm, strict=True):
        np.testing.assert_allclose(w_new, w - lr * g, rtol=RTOL, atol=1e-7)
    for w, g, w_new in zip(old, clipped_globally, new_global, strict=True):
        np.testing.assert_allclose(w_new, w - lr * g, rtol=RTOL, atol=1e-7)

    step_clipnorm = [w - w_new for w, w_new in zip(old, new_clipnorm, strict=True)]
    step_global = [w - w_new for w, w_new in zip(old, new_global, strict=True)]
    assert norm_of(step_clipnorm) == pytest.approx(lr * c * math.sqrt(2), rel=1e-5)
    assert norm_of(step_global) == pytest.approx(lr * c, rel=1e-5)
    assert not np.allclose(step_clipnorm[0], step_global[0], rtol=1e-2)


def test_docstring_examples_run():
    import doctest

    import rnn_tf.clipping

    result = doctest.testmod(rnn_tf.clipping, extraglobs={"np": np})
    assert result.attempted > 0 and result.failed == 0
