"""Bad input to rnn_tf.SimpleRNN / SimpleRNNCell: a ValueError naming what was expected and given.

Each case checks the message names both sides, and that it is our message rather than a
TensorFlow traceback from deep inside the loop.
"""

import keras
import numpy as np
import pytest

import rnn_tf

B, T, D, H = 2, 5, 3, 4


def batch(shape=(B, T, D)):
    return np.zeros(shape, "float32")


@pytest.mark.parametrize("make", [rnn_tf.SimpleRNN, rnn_tf.SimpleRNNCell], ids=["layer", "cell"])
@pytest.mark.parametrize("units", [0, -3, 2.5, "4", True])
def test_units_not_a_positive_integer(make, units):
    with pytest.raises(ValueError, match=r"positive integer; got units=" + repr(units)):
        make(units)


def test_units_may_be_a_numpy_integer():
    assert rnn_tf.SimpleRNN(np.int64(3)).units == 3


@pytest.mark.parametrize("make", [rnn_tf.SimpleRNN, rnn_tf.SimpleRNNCell], ids=["layer", "cell"])
def test_unknown_activation(make):
    with pytest.raises(ValueError, match=r"name of a Keras activation .*got activation='tahn'"):
        make(H, activation="tahn")


def test_two_dimensional_input():
    with pytest.raises(ValueError, match=r"expects a 3-D input \(batch, timesteps, features\); "
                                         r"got an input of shape \(5, 3\) \(2-D\)"):
        rnn_tf.SimpleRNN(H)(batch((T, D)))


def test_two_dimensional_input_to_a_built_layer():
    layer = rnn_tf.SimpleRNN(H)
    layer(batch())
    with pytest.raises(ValueError, match=r"3-D input .* got an input of shape \(2, 3\)"):
        layer(batch((B, D)))


def test_two_dimensional_symbolic_input():
    with pytest.raises(ValueError, match=r"3-D input .* got an input of shape \(None, 3\)"):
        rnn_tf.SimpleRNN(H)(keras.Input((D,)))


def test_feature_size_differs_from_the_built_one():
    layer = rnn_tf.SimpleRNN(H)
    layer(batch())
    with pytest.raises(ValueError, match=r"built for 3 features.*\(batch, timesteps, 3\); "
                                         r"got shape \(2, 5, 7\)"):
        layer(batch((B, T, 7)))


@pytest.mark.parametrize("shape", [(B, H + 1), (B + 1, H), (B, 1, H), (H,)])
def test_initial_state_of_the_wrong_shape(shape):
    with pytest.raises(ValueError, match=r"initial state of shape \(batch, units\) = \(2, 4\); "
                                         rf"got shape {re_shape(shape)}"):
        rnn_tf.SimpleRNN(H)(batch(), initial_state=np.zeros(shape, "float32"))


def test_more_than_one_initial_state():
    with pytest.raises(ValueError, match="one initial state h_0; got a list of 2"):
        rnn_tf.SimpleRNN(H)(batch(), initial_state=[np.zeros((B, H), "float32")] * 2)


@pytest.mark.parametrize("shape", [(B, T - 1), (B + 1, T), (B, T, 1), (T,)])
def test_mask_of_the_wrong_shape(shape):
    with pytest.raises(ValueError, match=r"mask of shape \(batch, timesteps\) = \(2, 5\); "
                                         rf"got shape {re_shape(shape)}"):
        rnn_tf.SimpleRNN(H)(batch(), mask=np.ones(shape, bool))


def re_shape(shape):
    """A shape as a regular expression, e.g. (2, 5) -> \\(2, 5\\)."""
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")
