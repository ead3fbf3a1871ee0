"""The fast path (rnn_tf/fast_path.py) against a plain GradientTape reference and against Keras.

Outputs and gradients with respect to the inputs, h_0, kernel, recurrent_kernel and bias must
equal a step-by-step loop differentiated by tf.GradientTape and keras.layers.SimpleRNN, to atol
1e-5 in float32 and 1e-10 in float64. The layer must take the fast path inside tf.function, and
fall back to the general path (with the same results as Keras) for masks and dropout.
"""

import importlib
import types

import keras
import numpy as np
import pytest
import tensorflow as tf

import rnn_tf
from rnn_tf import fast_path

ATOL = {"float32": 1e-5, "float64": 1e-10}


def random_weights(D, H, dtype, seed=0):
    rng = np.random.default_rng(seed)
    # Small enough that a linear RNN does not blow up: float32 atol 1e-5 needs values of ~1.
    return [tf.constant(0.3 * rng.normal(size=shape).astype(dtype))
            for shape in [(D, H), (H, H), (H,)]]  # kernel, recurrent_kernel, bias


def reference(x, h0, kernel, recurrent_kernel, bias, activation, go_backwards):
    """The cell's equation, one step at a time, for GradientTape to differentiate."""
    act = keras.activations.get(activation)
    steps = range(x.shape[1])
    h, outputs = h0, []
    for t in (reversed(steps) if go_backwards else steps):
        h = act(x[:, t] @ kernel + h @ recurrent_kernel + (0.0 if bias is None else bias))
        outputs.append(h)
    return tf.stack(outputs, axis=1), h


def values_and_gradients(fn, x, h0, weights):
    """Outputs, and gradients of a loss weighing every output differently, w.r.t. everything."""
    inputs = [x, h0, *weights]
    with tf.GradientTape() as tape:
        tape.watch(inputs)
        outputs, last = fn(*inputs)
        weighing = tf.sin(tf.reshape(tf.range(tf.size(outputs), dtype=x.dtype), outputs.shape))
        loss = tf.reduce_sum(outputs * weighing) + tf.reduce_sum(last**2)
    return [outputs, last, *tape.gradient(loss, inputs)]


CASES = [  # (B, T, D, H), activation, use_bias, go_backwards
    ((3, 6, 4, 5), "tanh", True, False),
    ((3, 6, 4, 5), "tanh", True, True),
    ((1, 1, 4, 5), "tanh", True, False),  # T = 1, B = 1
    ((1, 7, 2, 3), "tanh", False, True),  # B = 1, no bias
    ((4, 5, 3, 2), "sigmoid", True, False),
    ((4, 5, 3, 2), "relu", True, True),
    ((2, 8, 3, 4), "linear", False, False),
]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape, activation, use_bias, go_backwards", CASES)
def test_fast_op_matches_gradient_tape_through_the_plain_loop(
        shape, activation, use_bias, go_backwards, dtype):
    B, T, D, H = shape
    rng = np.random.default_rng(1)
    x = tf.constant(rng.normal(size=(B, T, D)).astype(dtype))
    h0 = tf.constant(rng.normal(size=(B, H)).astype(dtype))
    weights = random_weights(D, H, dtype)[: 3 if use_bias else 2]

    def fast(x, h0, kernel, recurrent_kernel, bias=None):
        return fast_path.simple_rnn(x, h0, kernel, recurrent_kernel, bias,
                                    activation=activation, go_backwards=go_backwards)

    def plain(x, h0, kernel, recurrent_kernel, bias=None):
        return reference(x, h0, kernel, recurrent_kernel, bias, activation, go_backwards)

    ours = values_and_gradients(fast, x, h0, weights)
    theirs = values_and_gradients(plain, x, h0, weights)
    names = ["outputs", "last state", "dL/dx", "dL/dh0", "dL/dkernel", "dL/drecurrent_kernel",
             "dL/dbias"][:len(theirs)]  # no bias, no dL/dbias
    for name, mine, expected in zip(names, ours, theirs, strict=True):
        np.testing.assert_allclose(mine, expected, rtol=0, atol=ATOL[dtype], err_msg=name)


def twin_layers(dtype="float32", shape=(3, 6, 4), units=5, **options):
    """keras.layers.SimpleRNN and rnn_tf.SimpleRNN, built, with the same non-trivial weights."""
    theirs = keras.layers.SimpleRNN(units, dtype=dtype, **options)
    ours = rnn_tf.SimpleRNN(units, dtype=dtype, **options)
    theirs.build(shape)
    ours.build(shape)
    rng = np.random.default_rng(2)
    theirs.set_weights([0.5 * rng.normal(size=w.shape) for w in theirs.get_weights()])
    ours.set_weights(theirs.get_weights())
    return ours, theirs


@pytest.fixture
def fast_path_calls(monkeypatch):
    """Counts the times rnn_tf.SimpleRNN.call takes the fast path."""
    calls = []
    original = fast_path.layer_call

    def counted(*args, **kwargs):
        calls.append(args[0].name)
        return original(*args, **kwargs)

    monkeypatch.setattr(fast_path, "layer_call", counted)
    return calls


def compiled_outputs_and_gradients(layer, x, h0=None, input_gradient=True, **call_kwargs):
    """Inside tf.function, as model.fit runs it: outputs and gradients of a weighted loss."""

    @tf.function
    def run(x, h0):
        with tf.GradientTape() as tape:
            if input_gradient:
                tape.watch([x] + ([] if h0 is None else [h0]))
            outputs = tf.nest.flatten(layer(x, initial_state=h0, **call_kwargs))
            loss = sum(tf.reduce_sum(o * tf.cos(tf.reshape(
                tf.range(tf.size(o), dtype=o.dtype), tf.shape(o)))) for o in outputs)
        sources = ([x] + ([] if h0 is None else [h0]) if input_gradient else []) + list(
            layer.trainable_weights)
        return outputs, tape.gradient(loss, sources)

    outputs, gradients = run(x, h0)
    return [np.asarray(t) for t in outputs + gradients]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("options", [
    dict(),
    dict(return_sequences=True, return_state=True),
    dict(return_sequences=True, go_backwards=True, use_bias=False),
    dict(activation="sigmoid", return_state=True, go_backwards=True),
], ids=["default", "sequences+state", "backwards-nobias", "sigmoid-backwards-state"])
def test_layer_takes_the_fast_path_and_matches_keras_inside_tf_function(
        options, dtype, fast_path_calls):
    ours, theirs = twin_layers(dtype, **options)
    rng = np.random.default_rng(3)
    x = tf.constant(rng.normal(size=(3, 6, 4)).astype(dtype))
    h0 = tf.constant(rng.normal(size=(3, 5)).astype(dtype))
    for initial_state in (None, h0):
        for input_gradient in (True, False):  # without it, dL/dx is never computed
            mine = compiled_outputs_and_gradients(ours, x, initial_state, input_gradient)
            expected = compiled_outputs_and_gradients(theirs, x, initial_state, input_gradient)
            assert len(mine) == len(expected)
            for a, b in zip(mine, expected, strict=True):
                np.testing.assert_allclose(a, b, rtol=0, atol=ATOL[dtype])
    assert fast_path_calls, "rnn_tf.SimpleRNN did not take the fast path inside tf.function"


def test_eager_calls_keep_the_general_path(fast_path_calls):
    ours, theirs = twin_layers()
    x = np.random.default_rng(4).normal(size=(3, 6, 4)).astype("float32")
    np.testing.assert_allclose(ours(x), theirs(x), rtol=0, atol=ATOL["float32"])
    assert not fast_path_calls


@pytest.mark.parametrize("options, call_kwargs", [
    (dict(return_sequences=True), dict(mask=tf.constant([[True] * 6, [True] * 4 + [False] * 2,
                                                         [True] * 2 + [False] * 4]))),
    (dict(dropout=0.3, recurrent_dropout=0.2, seed=5, return_sequences=True),
     dict(training=True)),
], ids=["mask", "dropout-in-training"])
def test_layer_falls_back_for_masks_and_dropout_and_still_matches_keras(
        options, call_kwargs, fast_path_calls):
    ours, theirs = twin_layers(**options)
    x = tf.constant(np.random.default_rng(5).normal(size=(3, 6, 4)).astype("float32"))
    mine = compiled_outputs_and_gradients(ours, x, **call_kwargs)
    expected = compiled_outputs_and_gradients(theirs, x, **call_kwargs)
    for a, b in zip(mine, expected, strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL["float32"])
    assert not fast_path_calls, "the fast path must not run with a mask or dropout"


def test_one_step_of_model_fit_matches_keras(fast_path_calls):
    """model.fit (compiled, and XLA by default on CPU) trains our layers exactly as Keras's.

    Two stacked layers, as in the lecture: the upper one must pass dL/dx down to the lower one.
    """
    rng = np.random.default_rng(6)
    x = rng.normal(size=(8, 10, 4)).astype("float32")
    y = rng.normal(size=(8, 1)).astype("float32")

    def model(rnn):
        keras.utils.set_random_seed(0)
        m = keras.Sequential([keras.Input((10, 4)), rnn(6, return_sequences=True), rnn(5),
                              keras.layers.Dense(1)])
        m.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        return m

    ours, theirs = model(rnn_tf.SimpleRNN), model(keras.layers.SimpleRNN)
    ours.set_weights(theirs.get_weights())
    for m in (ours, theirs):
        m.fit(x, y, batch_size=8, epochs=1, verbose=0, shuffle=False)
    for a, b in zip(ours.get_weights(), theirs.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL["float32"])
    assert fast_path_calls, "model.fit did not take the fast path"


def _applies_in_graph(layer) -> bool:
    return tf.function(lambda: fast_path.applies_to(layer, None, False))()


def test_applies_only_where_it_gives_the_general_paths_results():
    layer = rnn_tf.SimpleRNN(4)
    layer.build((2, 3, 5))
    in_graph = tf.function(lambda mask, training: fast_path.applies_to(layer, mask, training))
    assert in_graph(None, False)
    assert not fast_path.applies_to(layer, None, False)  # eager: the general path
    assert not in_graph(tf.ones((2, 3), bool), False)
    for options in [dict(dropout=0.1), dict(recurrent_dropout=0.1), dict(unroll=True),
                    dict(activation="softplus"), dict(stateful=True), dict(dtype="float16")]:
        other = rnn_tf.SimpleRNN(4, **options)
        other.build((2, 3, 5))
        assert not _applies_in_graph(other), options


def test_unknown_activation_is_a_clear_error():
    with pytest.raises(ValueError, match="activations .* got 'softplus'"):
        fast_path.simple_rnn(tf.zeros((1, 2, 3)), tf.zeros((1, 4)), tf.zeros((3, 4)),
                             tf.zeros((4, 4)), activation="softplus")


def test_bidirectional_inside_tf_function_matches_keras(fast_path_calls):
    def twins():
        theirs = keras.layers.Bidirectional(keras.layers.SimpleRNN(5, return_sequences=True))
        ours = keras.layers.Bidirectional(rnn_tf.SimpleRNN(5, return_sequences=True))
        theirs.build((3, 6, 4))
        ours.build((3, 6, 4))
        rng = np.random.default_rng(7)
        theirs.set_weights([0.5 * rng.normal(size=w.shape) for w in theirs.get_weights()])
        ours.set_weights(theirs.get_weights())
        return ours, theirs

    ours, theirs = twins()
    x = tf.constant(np.random.default_rng(8).normal(size=(3, 6, 4)).astype("float32"))
    for a, b in zip(compiled_outputs_and_gradients(ours, x),
                    compiled_outputs_and_gradients(theirs, x), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL["float32"])
    assert len(fast_path_calls) >= 2  # the forward and the backward layer


def test_the_private_tensorflow_modules_load_on_this_release():
    xla, record = fast_path._private_tensorflow()
    assert xla is not None and record is not None  # else the fast path is silently off


def _failing_import(error):
    original = importlib.import_module

    def import_module(name, *args, **kwargs):
        if name.startswith("tensorflow.compiler.tf2xla"):
            raise error
        return original(name, *args, **kwargs)

    return import_module


def _module_without(name, attribute):
    module = importlib.import_module(name)
    return types.SimpleNamespace(**{k: v for k, v in vars(module).items() if k != attribute})


def _changed_signature(*args, **kwargs):
    raise TypeError("dynamic_update_slice() takes 2 positional arguments but 3 were given")


# How a TensorFlow release might break the private modules, none of them an ImportError. The
# lambdas patch the modules fast_path loaded at import (the same objects importlib returns).
FAILURES = {
    "import raises RuntimeError": lambda m: m.setattr(
        importlib, "import_module", _failing_import(RuntimeError("DLL load failed"))),
    "function renamed (AttributeError)": lambda m: m.setattr(
        importlib, "import_module", lambda name: _module_without(name, "dynamic_update_slice")),
    "signature changed (TypeError)": lambda m: m.setattr(
        fast_path._xla, "dynamic_update_slice", _changed_signature),
    "record raises inside TensorFlow": lambda m: m.setattr(
        fast_path._record, "should_record_backprop",
        lambda tensors: tf.debugging.assert_equal(1, 2)),
}


@pytest.mark.parametrize("failure", FAILURES, ids=list(FAILURES))
def test_any_failure_of_the_private_modules_keeps_the_layer_on_the_general_path(
        failure, monkeypatch, fast_path_calls):
    with monkeypatch.context() as broken:
        FAILURES[failure](broken)
        xla, record = fast_path._private_tensorflow()
    assert (xla, record) == (None, None)
    monkeypatch.setattr(fast_path, "_xla", xla)
    monkeypatch.setattr(fast_path, "_record", record)

    ours, theirs = twin_layers(return_sequences=True)
    x = tf.constant(np.random.default_rng(9).normal(size=(3, 6, 4)).astype("float32"))
    for a, b in zip(compiled_outputs_and_gradients(ours, x),
                    compiled_outputs_and_gradients(theirs, x), strict=True):
        np.testing.assert_allclose(a, b, rtol=0, atol=ATOL["float32"])
    assert not fast_path_calls
    with pytest.raises(RuntimeError, match="general path"):
        fast_path.simple_rnn(x, tf.zeros((3, 5)), tf.zeros((4, 5)), tf.zeros((5, 5)))


def test_the_op_cache_is_bounded_and_drops_the_least_recently_used():
    limit = fast_path._op.cache_info().maxsize
    assert limit is not None and limit >= 8
    fast_path._op.cache_clear()
    first = fast_path._op("tanh", True, True, ((1, 0, 1), (1, 1), (1, 1), tf.float32))
    for T in range(1, limit + 5):  # more signatures than the cache holds
        fast_path._op("tanh", True, True, ((1, T, 1), (1, 1), (1, 1), tf.float32))
    assert fast_path._op.cache_info().currsize == limit
    again = fast_path._op("tanh", True, True, ((1, 0, 1), (1, 1), (1, 1), tf.float32))
    assert again is not first  # evicted, then made anew
    same = fast_path._op("tanh", True, True, ((1, limit + 4, 1), (1, 1), (1, 1), tf.float32))
    assert same is fast_path._op("tanh", True, True, ((1, limit + 4, 1), (1, 1), (1, 1),
                                                      tf.float32))
    fast_path._op.cache_clear()
