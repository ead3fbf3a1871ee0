"""A drop-in replacement must also be a drop-in under `keras.utils.set_random_seed`.

Scripts that seed globally and swap `keras.layers.SimpleRNN` for `rnn_tf.SimpleRNN` should start
from the same weights and so train to the same numbers.
"""

import keras
import numpy as np

import rnn_tf


def _seeded_model(layer_cls):
    keras.utils.set_random_seed(0)
    return keras.Sequential(
        [
            keras.Input((12, 3)),
            layer_cls(8, return_sequences=True),
            keras.layers.TimeDistributed(keras.layers.Dense(4)),
        ]
    )


def test_global_seed_gives_keras_initial_weights():
    ours, theirs = _seeded_model(rnn_tf.SimpleRNN), _seeded_model(keras.layers.SimpleRNN)
    for mine, reference in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_array_equal(mine, reference)


def test_global_seed_gives_keras_training_curve():
    """Two epochs of fit with batch (32) != T (12): same losses to float32 rounding (rtol 1e-5)."""
    rng = np.random.default_rng(0)
    x = rng.random((64, 12, 3), dtype=np.float32)
    y = rng.random((64, 12, 4), dtype=np.float32)
    losses = []
    for layer_cls in (rnn_tf.SimpleRNN, keras.layers.SimpleRNN):
        model = _seeded_model(layer_cls)
        model.compile(keras.optimizers.Adam(1e-2), "mse")
        history = model.fit(x, y, batch_size=32, epochs=2, shuffle=False, verbose=0)
        assert model.predict(x[:5], verbose=0).shape == (5, 12, 4)
        losses.append(history.history["loss"])
    np.testing.assert_allclose(losses[0], losses[1], rtol=1e-5)
