"""rnn_tf.SimpleRNNCell: one step of h_t = tanh(W_h h_{t-1} + W_x x_t + b), as a Keras cell."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnn_tf


def built_cell(units=3, features=2, seed=0, **options):
    cell = rnn_tf.SimpleRNNCell(units, **options)
    cell.build((None, features))
    rng = np.random.default_rng(seed)
    cell.set_weights([rng.normal(size=w.shape) for w in cell.get_weights()])
    return cell


def test_cell_is_a_plain_keras_layer_not_keras_simple_rnn_cell():
    cell = rnn_tf.SimpleRNNCell(4)
    assert isinstance(cell, keras.layers.Layer)
    assert not isinstance(cell, keras.layers.SimpleRNNCell)


def test_weights_have_keras_names_order_and_shapes():
    ours = built_cell(units=5, features=3)
    theirs = keras.layers.SimpleRNNCell(5)
    theirs.build((None, 3))
    assert [w.name for w in ours.weights] == ["kernel", "recurrent_kernel", "bias"]
    assert [w.name for w in ours.weights] == [w.name for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [(3, 5), (5, 5), (5,)]
    assert [w.name for w in built_cell(use_bias=False).weights] == ["kernel", "recurrent_kernel"]


def test_one_step_worked_by_hand():
    """One unit, one feature: h = tanh(2 * 1.0 + 0.5 * 0.2 + 0.1) = tanh(2.2)."""
    cell = rnn_tf.SimpleRNNCell(1)
    cell.build((None, 1))
    cell.set_weights([np.array([[2.0]]), np.array([[0.5]]), np.array([0.1])])
    h_t, [new_state] = cell(np.array([[1.0]], "float32"), [np.array([[0.2]], "float32")])
    np.testing.assert_allclose(h_t, [[np.tanh(2.2)]], rtol=1e-6)
    np.testing.assert_allclose(new_state, h_t)


def test_one_step_is_the_lecture_column_vector_equation():
    """kernel holds W_x^T and recurrent_kernel holds W_h^T: check it one example at a time."""
    cell = built_cell(units=4, features=3, dtype="float64")
    kernel, recurrent_kernel, b = cell.get_weights()
    W_x, W_h = kernel.T, recurrent_kernel.T  # the lecture's (H, D) and (H, H)
    rng = np.random.default_rng(1)
    x, h_prev = rng.normal(size=(2, 3)), rng.normal(size=(2, 4))  # (B, D), (B, H)
    h_t, _ = cell(x, [h_prev])
    for i in range(2):
        expected = np.tanh(W_h @ h_prev[i] + W_x @ x[i] + b)  # column vectors, as in the lecture
        np.testing.assert_allclose(np.asarray(h_t)[i], expected, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype,atol", [("float32", 1e-5), ("float64", 1e-10)])
def test_one_step_outputs_and_gradients_match_keras_cell(dtype, atol):
    ours = built_cell(units=4, features=3, dtype=dtype)
    theirs = keras.layers.SimpleRNNCell(4, dtype=dtype)
    theirs.build((None, 3))
    theirs.set_weights(ours.get_weights())
    rng = np.random.default_rng(2)
    x = tf.constant(rng.normal(size=(2, 3)).astype(dtype))
    h_prev = tf.constant(rng.normal(size=(2, 4)).astype(dtype))
    results = []
    for cell in (ours, theirs):
        with tf.GradientTape() as tape:
            tape.watch([x, h_prev])
            h_t, _ = cell(x, [h_prev])
            loss = tf.reduce_sum(h_t * tf.reshape(tf.range(8, dtype=dtype), (2, 4)))
        results.append([h_t, *tape.gradient(loss, [x, h_prev, *cell.trainable_weights])])
    for mine, keras_ in zip(*results, strict=True):
        np.testing.assert_allclose(mine, keras_, rtol=0, atol=atol)


def test_state_size_output_size_and_zero_initial_state():
    cell = rnn_tf.SimpleRNNCell(6, dtype="float64")
    assert cell.state_size == 6 and cell.output_size == 6
    [h0] = cell.get_initial_state(batch_size=3)
    assert tuple(h0.shape) == (3, 6) and h0.dtype == "float64"
    assert not np.any(np.asarray(h0))


@pytest.mark.parametrize("options", [{}, {"dropout": 0.3, "recurrent_dropout": 0.3, "seed": 5}],
                         ids=["plain", "dropout"])
def test_cell_inside_keras_rnn_matches_keras_simple_rnn(options):
    """Keras's own loop accepts our cell, dropout masks (drawn once per sequence) included."""
    x = np.random.default_rng(3).normal(size=(2, 5, 3)).astype("float32")
    ours = keras.layers.RNN(rnn_tf.SimpleRNNCell(4, **options), return_sequences=True)
    theirs = keras.layers.SimpleRNN(4, return_sequences=True, **options)
    ours.build(x.shape)
    theirs.build(x.shape)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x, training=True), theirs(x, training=True), atol=1e-5)


def test_config_round_trip_rebuilds_the_same_cell():
    cell = rnn_tf.SimpleRNNCell(3, activation="relu", use_bias=False, dropout=0.2, seed=4,
                                kernel_regularizer="l2", recurrent_initializer="zeros")
    config = cell.get_config()
    assert config == keras.layers.SimpleRNNCell.from_config(config).get_config() | {
        "name": config["name"]}
    copy = rnn_tf.SimpleRNNCell.from_config(config)
    assert copy.get_config() == config
    revived = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(cell))
    assert type(revived) is rnn_tf.SimpleRNNCell and revived.get_config() == config


def test_stacked_cells_in_one_keras_rnn_match_keras_stacked_cells():
    """keras.layers.RNN([cell, cell]) stacks our cells as it stacks Keras's, dropout included."""
    x = np.random.default_rng(4).normal(size=(2, 5, 3)).astype("float32")

    def stacked(cell_class):
        return keras.layers.RNN([cell_class(4, dropout=0.2, seed=1), cell_class(2, seed=2)],
                                return_sequences=True)

    ours, theirs = stacked(rnn_tf.SimpleRNNCell), stacked(keras.layers.SimpleRNNCell)
    ours.build(x.shape)
    theirs.build(x.shape)
    ours.set_weights(theirs.get_weights())
    np.testing.assert_allclose(ours(x, training=True), theirs(x, training=True), atol=1e-5)
