"""The kit's probes of Keras-object answers (rnn_course_student/probes_keras.py): what they report
is plain data that crosses the judge's channel, and it shows what the checks need (outputs,
layers, float type, weights after a step, inputs changed in place, tensors handed in)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from rnn_course_student import probe, probes_keras


def _tagger(input_dim, num_classes, units=4, *, bidirectional=False, readout="softmax"):
    inputs = keras.Input((None, input_dim))
    rnn = keras.layers.SimpleRNN(units, return_sequences=True)
    states = (keras.layers.Bidirectional(rnn) if bidirectional else rnn)(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation=readout)(states))


def _crosses_the_channel(value):
    return probe.decode(probe.encode(value))


def test_model_report_is_plain_data_with_outputs_layers_read_out_and_size():
    x = np.random.default_rng(0).normal(size=(2, 5, 3)).astype("float32")
    report_of = probe.probed(_tagger, "rnn_course_student.probes_keras:model_report")
    report = _crosses_the_channel(report_of((3, 2), {"units": 4, "bidirectional": True},
                                            [x, x[:1, :1]]))
    assert [o.shape for o in report["outputs"]] == [(2, 5, 2), (1, 1, 2)]
    assert (report["simple_rnn"], report["other_recurrent"], report["readout"]) == (2, 0, "softmax")
    assert report["params"] == _tagger(3, 2, 4, bidirectional=True).count_params()
    gru = keras.Sequential([keras.Input((None, 3)), keras.layers.GRU(2)])
    assert probes_keras.model_report(lambda: gru, (), {}, [x])["other_recurrent"] == 1


@pytest.mark.parametrize("readout", ["linear", "softmax"])
def test_model_report_reads_the_read_out_inside_a_time_distributed_wrapper(readout):
    # A right one-to-many may write its read-out as TimeDistributed(Dense(...)): reading the
    # activation of the wrapped layer keeps it from being blamed for its RNN's tanh.
    model = keras.Sequential([
        keras.Input((None, 3)), keras.layers.SimpleRNN(4, return_sequences=True),
        keras.layers.TimeDistributed(keras.layers.Dense(2, activation=readout))])
    report = probes_keras.model_report(lambda: model, (), {}, [np.ones((1, 2, 3), "float32")])
    assert report["readout"] == readout


def test_model_report_builds_in_the_float_type_asked_and_restores_the_notebook_s():
    x = np.ones((1, 1, 2))
    report = probes_keras.model_report(_tagger, (2, 3), {}, [x], dtype="float64")
    assert report["outputs"][0].dtype == np.float64
    assert keras.config.floatx() == "float32" and keras.config.dtype_policy().name == "float32"
    def no_model():
        raise ValueError("no model")

    with pytest.raises(ValueError, match="no model"):  # the student's error, the type restored
        probes_keras.model_report(no_model, (), {}, [x], dtype="float64")
    assert keras.config.floatx() == "float32"


def _sgd_step(model, optimizer, x, y, max_norm=None):
    with tf.GradientTape() as tape:
        loss = tf.reduce_mean(tf.square(model(x) - y))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables, strict=True))
    return float(loss), float(tf.linalg.global_norm(grads))


def test_train_step_outcome_runs_the_step_on_the_weights_sent_and_returns_the_weights_after():
    r = np.random.default_rng(1)
    weights = [r.normal(size=s).astype("float32") for s in [(2, 3), (3, 3), (3,), (3, 1), (1,)]]
    x, y = r.normal(size=(4, 6, 2)).astype("float32"), r.normal(size=(4, 1)).astype("float32")
    outcome = _crosses_the_channel(probes_keras.train_step_outcome(_sgd_step, weights, x, y,
                                                                   [None, 1.0], 0.1))
    assert len(outcome["results"]) == 2
    assert all(type(v) is float for pair in outcome["results"] for v in pair)
    assert [w.shape for w in outcome["weights"]] == [w.shape for w in weights]
    assert not np.allclose(outcome["weights"][1], weights[1])
    model = probes_keras.clipping_model(weights, 6)  # the same model, stepped here
    optimizer = keras.optimizers.SGD(0.1)
    _sgd_step(model, optimizer, x, y)
    _sgd_step(model, optimizer, x, y)
    for got, want in zip(outcome["weights"], model.get_weights(), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_inputs_after_call_shows_a_function_that_changes_its_inputs_in_place():
    def in_place(grads, max_norm):
        grads[0] *= 0.5
        return grads, 1.0

    grads = [np.ones(3), np.ones(2)]
    copies = [g.copy() for g in grads]
    (result, norm), (after, _) = probes_keras.inputs_after_call(in_place, copies, 2.0)
    assert np.array_equal(after[0], 0.5 * grads[0]) and np.array_equal(after[1], grads[1])


def test_called_with_tensors_hands_the_answer_tensors_and_keeps_none():
    seen = []

    def clip(grads, max_norm):
        seen.extend(type(g).__name__ for g in grads)
        return grads, max_norm

    clipped, _ = probe.plain(probes_keras.called_with_tensors(clip, [np.ones(2), None], 1.0))
    assert seen[1] == "NoneType" and "Tensor" in seen[0]
    assert clipped[1] is None and isinstance(clipped[0], np.ndarray)


def test_trained_predictions_returns_predictions_only():
    r = np.random.default_rng(2)
    x, y = r.normal(size=(16, 4, 3)).astype("float32"), r.integers(0, 2, size=(16, 4))
    report = _crosses_the_channel(probes_keras.trained_predictions(
        _tagger, (3, 2), {"units": 2}, x, y, x[:5], epochs=1, seed=3))
    assert report["predictions"].shape == (5, 4, 2) and report["simple_rnn"] == 1
    assert set(report) == {"predictions", "simple_rnn", "other_recurrent", "readout", "params"}
