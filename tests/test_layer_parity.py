"""rnn_tf.SimpleRNN against keras.layers.SimpleRNN: outputs and gradients, flag by flag.

Every test gives both layers the same weights, runs them on the same batch and compares the
outputs and the gradients of one scalar loss with respect to the inputs, the initial state and
every weight, to atol 1e-5 in float32 and 1e-10 in float64.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnn_tf

ATOL = {"float32": 1e-5, "float64": 1e-10}
B, T, D, H = 3, 6, 4, 5  # batch, timesteps, features, units
DTYPES = ["float32", "float64"]


def random_batch(dtype, shape=(B, T, D), seed=0):
    return np.random.default_rng(seed).normal(size=shape).astype(dtype)


def randomise_weights(layer, seed=1):
    """Non-trivial weights (Keras starts the bias at zero), the same for both layers."""
    rng = np.random.default_rng(seed)
    layer.set_weights([0.5 * rng.normal(size=w.shape) for w in layer.get_weights()])


def cell_in_keras_loop(units, dtype=None, **options):
    """Our cell in Keras's own loop: the plain path, whatever rnn_tf.SimpleRNN dispatches to."""
    cell_keys = {"activation", "use_bias", "dropout", "recurrent_dropout", "seed"}
    cell = rnn_tf.SimpleRNNCell(units, dtype=dtype,
                                **{k: v for k, v in options.items() if k in cell_keys})
    return keras.layers.RNN(cell, dtype=dtype,
                            **{k: v for k, v in options.items() if k not in cell_keys})


def twin_layers(wrap=lambda layer: layer, dtype="float32", shape=(B, T, D),
                ours=rnn_tf.SimpleRNN, **options):
    """Keras's layer and ours, built on `shape`, with the same (random) weights."""
    theirs = wrap(keras.layers.SimpleRNN(H, dtype=dtype, **options))
    ours = wrap(ours(H, dtype=dtype, **options))
    theirs.build(shape)
    ours.build(shape)
    randomise_weights(theirs)
    ours.set_weights(theirs.get_weights())
    return ours, theirs


def weighted_loss(outputs):
    """A scalar that weighs every output element differently, so every gradient entry counts."""
    total = 0.0
    for out in tf.nest.flatten(outputs):
        weights = tf.reshape(tf.sin(tf.range(tf.size(out), dtype=out.dtype)), tf.shape(out))
        total += tf.reduce_sum(out * weights)
    return total


def outputs_and_gradients(layer, x, initial_state=None, compiled=False, **call_kwargs):
    """Outputs and gradients, eagerly or (compiled=True) inside a tf.function, as model.fit and
    predict run a layer; the two can take different code paths (rnn_tf.fast_path)."""
    def run():
        inputs = tf.constant(x)
        watched = [inputs] + [tf.constant(s) for s in initial_state or []]
        with tf.GradientTape() as tape:
            tape.watch(watched)
            outputs = layer(inputs, initial_state=watched[1:] or None, **call_kwargs)
            loss = weighted_loss(outputs)
        return tf.nest.flatten(outputs), tape.gradient(loss, watched + layer.trainable_weights)

    outputs, gradients = tf.function(run)() if compiled else run()
    return [np.asarray(o) for o in outputs], [np.asarray(g) for g in gradients]


def assert_same(ours, theirs, x, atol, initial_state=None, compiled=False, **call_kwargs):
    our_outputs, our_grads = outputs_and_gradients(ours, x, initial_state, compiled,
                                                   **call_kwargs)
    their_outputs, their_grads = outputs_and_gradients(theirs, x, initial_state, compiled,
                                                       **call_kwargs)
    assert len(our_outputs) == len(their_outputs)
    for mine, keras_ in zip(our_outputs, their_outputs, strict=True):
        np.testing.assert_allclose(mine, keras_, rtol=0, atol=atol, err_msg="outputs differ")
    names = ["inputs"] + ["initial state"] * len(initial_state or []) + [
        w.path for w in ours.trainable_weights]
    assert len(our_grads) == len(their_grads) == len(names)
    for name, mine, keras_ in zip(names, our_grads, their_grads, strict=True):
        np.testing.assert_allclose(mine, keras_, rtol=0, atol=atol,
                                   err_msg=f"gradient w.r.t. {name} differs")
    return our_outputs


FLAGS = {
    "last_output": {},
    "return_sequences": {"return_sequences": True},
    "return_state": {"return_state": True},
    "sequences_and_state": {"return_sequences": True, "return_state": True},
    "go_backwards": {"go_backwards": True, "return_sequences": True},
    "go_backwards_last": {"go_backwards": True, "return_state": True},
    "unroll": {"unroll": True, "return_sequences": True},
    "relu_no_bias": {"activation": "relu", "use_bias": False, "return_sequences": True},
    "linear": {"activation": None},
}


COMPILED = pytest.mark.parametrize("compiled", [False, True], ids=["eager", "tf_function"])


@COMPILED
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("flags", FLAGS.values(), ids=FLAGS.keys())
def test_outputs_and_gradients_match_keras(flags, dtype, compiled):
    ours, theirs = twin_layers(dtype=dtype, **flags)
    assert_same(ours, theirs, random_batch(dtype), ATOL[dtype], compiled=compiled)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("flags", FLAGS.values(), ids=FLAGS.keys())
def test_cell_in_keras_rnn_loop_matches_keras(flags, dtype):
    ours, theirs = twin_layers(dtype=dtype, ours=cell_in_keras_loop, **flags)
    assert_same(ours, theirs, random_batch(dtype), ATOL[dtype])


@COMPILED
@pytest.mark.parametrize("dtype", DTYPES)
def test_initial_state_gradients_match_keras(dtype, compiled):
    ours, theirs = twin_layers(dtype=dtype, return_sequences=True, return_state=True)
    h0 = [random_batch(dtype, (B, H), seed=2)]
    assert_same(ours, theirs, random_batch(dtype), ATOL[dtype], initial_state=h0,
                compiled=compiled)


def padded_mask(lengths=(T, 4, 1)):
    """Right-padded batch: sequence i is real for its first lengths[i] steps."""
    return np.arange(T)[None, :] < np.asarray(lengths)[:, None]  # (B, T)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("flags", [{}, {"return_sequences": True, "return_state": True},
                                   {"go_backwards": True, "return_sequences": True}],
                         ids=["last_output", "sequences_and_state", "go_backwards"])
def test_masked_padded_batch_matches_keras(flags, dtype):
    ours, theirs = twin_layers(dtype=dtype, **flags)
    x = random_batch(dtype)
    outputs = assert_same(ours, theirs, x, ATOL[dtype], mask=padded_mask())
    if not flags:  # the last output of a length-4 sequence ignores whatever pads it
        x_repadded = x.copy()
        x_repadded[1, 4:] = 100.0
        np.testing.assert_allclose(ours(x_repadded, mask=padded_mask())[1], outputs[0][1],
                                   atol=ATOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_masking_layer_in_a_model_matches_keras(dtype):
    """The mask arrives the usual way, from keras.layers.Masking, not as an argument."""
    x = random_batch(dtype)
    x[1, 4:] = 0.0
    x[2, 1:] = 0.0

    def model(rnn):
        inputs = keras.Input((T, D), dtype=dtype)
        masked = keras.layers.Masking(0.0, dtype=dtype)(inputs)
        return keras.Model(inputs, rnn(H, dtype=dtype, return_sequences=True)(masked))

    ours, theirs = model(rnn_tf.SimpleRNN), model(keras.layers.SimpleRNN)
    randomise_weights(theirs)
    ours.set_weights(theirs.get_weights())
    assert_same(ours, theirs, x, ATOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_stateful_across_two_calls_matches_keras(dtype):
    ours, theirs = twin_layers(dtype=dtype, stateful=True, return_sequences=True)
    first, second = random_batch(dtype, seed=3), random_batch(dtype, seed=4)
    assert_same(ours, theirs, first, ATOL[dtype])
    np.testing.assert_allclose(ours.states[0], theirs.states[0], rtol=0, atol=ATOL[dtype])
    # The second call starts from the first call's last state, so it differs from a fresh start.
    carried = assert_same(ours, theirs, second, ATOL[dtype])[0]
    ours.reset_state()
    theirs.reset_state()
    fresh = assert_same(ours, theirs, second, ATOL[dtype])[0]
    assert np.abs(carried - fresh).max() > 1e-3


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_in_training_draws_the_same_masks_as_keras(dtype):
    """Same seed, same masks: our cell draws its masks exactly as Keras's cell does (the same
    seed generator, the same draws in the same order), so equality is exact, not in expectation.
    """
    options = dict(dropout=0.3, recurrent_dropout=0.4, seed=7, return_sequences=True)
    ours, theirs = twin_layers(dtype=dtype, **options)
    x = random_batch(dtype)
    dropped = assert_same(ours, theirs, x, ATOL[dtype], training=True)[0]
    # A second batch draws fresh masks, still in step with Keras.
    assert_same(ours, theirs, x, ATOL[dtype], training=True)
    # Dropout really happened, and does not happen outside training.
    undropped, _ = twin_layers(dtype=dtype, return_sequences=True)
    clean = np.asarray(undropped(x))
    assert np.abs(dropped - clean).max() > 1e-3
    np.testing.assert_allclose(ours(x, training=False), clean, rtol=0, atol=ATOL[dtype])
    np.testing.assert_allclose(ours(x), clean, rtol=0, atol=ATOL[dtype])


MERGE_MODES = ["concat", "sum", "ave", "mul", None]


@COMPILED
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("merge_mode", MERGE_MODES, ids=str)
def test_bidirectional_matches_keras(merge_mode, dtype, compiled):
    def bidirectional(layer):
        return keras.layers.Bidirectional(layer, merge_mode=merge_mode, dtype=dtype)

    ours, theirs = twin_layers(bidirectional, dtype=dtype, return_sequences=True)
    assert_same(ours, theirs, random_batch(dtype), ATOL[dtype], compiled=compiled)
    assert isinstance(ours.backward_layer, rnn_tf.SimpleRNN) and ours.backward_layer.go_backwards


@pytest.mark.parametrize("merge_mode", MERGE_MODES, ids=str)
@COMPILED
def test_bidirectional_with_states_matches_keras(merge_mode, compiled):
    def bidirectional(layer):
        return keras.layers.Bidirectional(layer, merge_mode=merge_mode)

    ours, theirs = twin_layers(bidirectional, return_state=True)
    h0 = [random_batch("float32", (B, H), seed=s) for s in (5, 6)]  # forward, backward
    assert_same(ours, theirs, random_batch("float32"), ATOL["float32"], initial_state=h0,
                compiled=compiled)


@pytest.mark.parametrize("merge_mode", MERGE_MODES, ids=str)
def test_bidirectional_with_states_and_mask_matches_keras(merge_mode):
    def bidirectional(layer):
        return keras.layers.Bidirectional(layer, merge_mode=merge_mode)

    ours, theirs = twin_layers(bidirectional, return_state=True)
    h0 = [random_batch("float32", (B, H), seed=s) for s in (5, 6)]  # forward, backward
    assert_same(ours, theirs, random_batch("float32"), ATOL["float32"], initial_state=h0,
                mask=padded_mask())
