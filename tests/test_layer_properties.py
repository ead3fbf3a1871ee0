"""Property: for any sizes and flags, rnn_tf.SimpleRNN computes what keras.layers.SimpleRNN does.

Hypothesis draws batch (1-8), time (1-40), input (1-16) and units (1-32) sizes and random flags;
each example compares outputs and the gradients of one scalar loss (w.r.t. inputs, initial state
and every weight) in a single tape per layer. 100 examples run eagerly (cheap: no trace); 20 more
run inside a tf.function, where rnn_tf.SimpleRNN takes its fast path when it applies.
"""

import keras
import numpy as np
import tensorflow as tf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import rnn_tf

ATOL = {"float32": 1e-5, "float64": 1e-10}


@st.composite
def cases(draw):
    batch, time = draw(st.integers(1, 8)), draw(st.integers(1, 40))
    case = {
        "dtype": draw(st.sampled_from(["float32", "float64"])),
        "shape": (batch, time, draw(st.integers(1, 16))),
        "options": {
            "units": draw(st.integers(1, 32)),
            "activation": draw(st.sampled_from(["tanh", "sigmoid", None])),
            "use_bias": draw(st.booleans()),
            "return_sequences": draw(st.booleans()),
            "return_state": draw(st.booleans()),
            "go_backwards": draw(st.booleans()),
            "unroll": draw(st.booleans()) and time <= 10,  # unrolling is for short sequences
        },
        "lengths": draw(st.none() | st.lists(st.integers(0, time), min_size=batch,
                                              max_size=batch)),
        "initial_state": draw(st.booleans()),
        "seed": draw(st.integers(0, 2**16)),
    }
    if draw(st.booleans()):  # dropout in training, with the same seed for both layers
        case["options"].update(dropout=draw(st.sampled_from([0.1, 0.5])),
                               recurrent_dropout=draw(st.sampled_from([0.0, 0.3])),
                               seed=case["seed"])
        case["training"] = True
    return case


def run(layer, x, h0, mask, training):
    """Outputs and gradients of a weighted sum of every output, w.r.t. x, h0 and the weights."""
    with tf.GradientTape() as tape:
        tape.watch([x] + h0)
        outputs = tf.nest.flatten(layer(x, initial_state=h0 or None, mask=mask,
                                        training=training))
        loss = sum(tf.reduce_sum(o * tf.reshape(tf.cos(tf.range(tf.size(o), dtype=o.dtype)),
                                                tf.shape(o))) for o in outputs)
    return outputs + tape.gradient(loss, [x] + h0 + list(layer.trainable_weights))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_any_sizes_and_flags_match_keras(case):
    check_against_keras(case, compiled=False)


# Inside a tf.function (as in model.fit) rnn_tf.SimpleRNN may take its XLA fast path, which
# compiles once per new shape; fewer examples keep that affordable.
@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases())
def test_any_sizes_and_flags_match_keras_inside_tf_function(case):
    check_against_keras(case, compiled=True)


def check_against_keras(case, compiled):
    dtype, options = case["dtype"], case["options"]
    rng = np.random.default_rng(case["seed"])
    batch, time, _ = case["shape"]
    x = tf.constant(rng.normal(size=case["shape"]).astype(dtype))
    h0 = [tf.constant(rng.normal(size=(batch, options["units"])).astype(dtype))
          ] if case["initial_state"] else []
    mask = None
    if case["lengths"] is not None:
        mask = tf.constant(np.arange(time)[None, :] < np.array(case["lengths"])[:, None])

    theirs = keras.layers.SimpleRNN(dtype=dtype, bias_initializer="random_normal", **options)
    ours = rnn_tf.SimpleRNN(dtype=dtype, **options)
    theirs.build(case["shape"])
    ours.build(case["shape"])
    ours.set_weights(theirs.get_weights())

    training = case.get("training", False)
    results = []
    for layer in (ours, theirs):
        def outputs_and_gradients(layer=layer):
            return run(layer, x, h0, mask, training)
        results.append(tf.function(outputs_and_gradients)() if compiled
                       else outputs_and_gradients())
    mine, keras_ = results
    assert len(mine) == len(keras_)
    for a, b in zip(mine, keras_, strict=True):
        assert_close(np.asarray(a), np.asarray(b), ATOL[dtype])


def assert_close(actual, expected, atol):
    """atol on values of order one. A linear RNN over 40 steps reaches values near 100, where a
    float32 ulp is ~1e-5 and any other (equally right) summation order misses a bare 1e-5; so
    both sides are divided by max(1, largest |expected|) first."""
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    np.testing.assert_allclose(actual / scale, expected / scale, rtol=0, atol=atol)
