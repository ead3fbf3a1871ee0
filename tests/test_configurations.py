"""The configuration builders: output shapes, each one learning the task that needs it, the
encoder-decoder's free output length, and the stacked network's correspondence with PyTorch."""

import keras
import numpy as np
import pytest

from course_checks.testing import recurrent_layers
from rnn_tf import configurations as cf
from rnn_tf import tasks
from rnn_tf.layer import SimpleRNN


def _fit(model, x, y, epochs, loss="sparse_categorical_crossentropy", learning_rate=0.01):
    metrics = ["accuracy"] if loss != "mse" else []
    model.compile(keras.optimizers.Adam(learning_rate), loss, metrics=metrics)
    model.fit(x, y, batch_size=64, epochs=epochs, verbose=0)
    return model


# --- shapes ----------------------------------------------------------------------------------


def test_many_to_one_maps_a_sequence_to_one_output():
    model = cf.many_to_one(input_dim=8, output_dim=3, units=16)
    assert model(np.zeros((4, 20, 8), "float32")).shape == (4, 3)
    assert model(np.zeros((2, 7, 8), "float32")).shape == (2, 3)  # any length
    regression = cf.many_to_one(input_dim=2, output_dim=1, output_activation=None)
    assert regression(np.zeros((5, 10, 2), "float32")).shape == (5, 1)


def test_one_to_many_maps_a_vector_to_a_sequence():
    model = cf.one_to_many(input_dim=3, seq_len=25, output_dim=2, units=16)
    assert model(np.zeros((4, 3), "float32")).shape == (4, 25, 2)


def test_many_to_many_and_the_tagger_give_one_output_per_step():
    x = np.zeros((4, 20, 5), "float32")
    assert cf.many_to_many(input_dim=5, num_classes=6, units=16)(x).shape == (4, 20, 6)
    tagger = cf.bidirectional_tagger(input_dim=5, num_classes=6, units=16)
    assert tagger(x).shape == (4, 20, 6)
    assert tagger.get_layer("birnn")(x).shape == (4, 20, 32)  # [forward ; backward]


def test_every_builder_uses_rnn_tf_simple_rnn():
    models = [
        cf.many_to_one(2, 2), cf.one_to_many(2, 5), cf.many_to_many(2, 2),
        cf.bidirectional_tagger(2, 2), cf.stacked_rnn(),
        cf.encoder_decoder(11, 11, 12, start_token=11, end_token=10).training_model,
    ]
    for model in models:
        layers = recurrent_layers(model)
        assert layers and all(isinstance(layer, SimpleRNN) for layer in layers), model.name


def test_encoder_decoder_shapes_and_shared_weights():
    s2s = cf.encoder_decoder(input_dim=11, num_classes=11, decoder_vocab=12,
                             start_token=11, end_token=10, units=16)
    x = np.zeros((4, 5, 11), "float32")
    assert s2s.training_model([x, np.zeros((4, 9, 12), "float32")]).shape == (4, 9, 11)
    assert s2s.encoder(x).shape == (4, 16)
    probs, state = s2s.decoder_step([np.zeros((4, 1, 12), "float32"), np.zeros((4, 16), "float32")])
    assert probs.shape == (4, 1, 11) and state.shape == (4, 16)
    # One set of weights: encoder + decoder + readout, seen by all three models.
    assert len(s2s.training_model.weights) == 3 + 3 + 2
    assert {id(w) for w in s2s.decoder_step.weights} <= {id(w) for w in s2s.training_model.weights}


def test_greedy_decode_output_length_is_set_by_max_len_not_by_the_input():
    s2s = cf.encoder_decoder(input_dim=11, num_classes=11, decoder_vocab=12,
                             start_token=11, end_token=10, units=8)
    x = np.random.default_rng(0).random((4, 5, 11)).astype("float32")
    for max_len in (3, 8):
        tokens, lengths = s2s.greedy_decode(x, max_len=max_len)
        assert tokens.shape == (4, max_len) and lengths.shape == (4,)
        assert np.all((0 <= lengths) & (lengths <= max_len))
        after_end = np.arange(max_len)[None, :] >= lengths[:, None]
        assert np.all(tokens[after_end] == 10)  # END fills everything after the answer
    with pytest.raises(ValueError, match="max_len"):
        s2s.greedy_decode(x, max_len=0)


def test_teacher_forcing_inputs_shift_the_targets_behind_the_start_token():
    y = np.array([[3, 1, 10], [7, 10, 10]])
    inputs = cf.teacher_forcing_inputs(y, start_token=11, decoder_vocab=12)
    assert inputs.shape == (2, 3, 12)
    np.testing.assert_array_equal(inputs.argmax(axis=-1), [[11, 3, 1], [11, 7, 10]])
    with pytest.raises(ValueError, match="2-D"):
        cf.teacher_forcing_inputs(np.zeros(3), 11, 12)


def test_builders_reject_bad_sizes_with_a_value_error():
    with pytest.raises(ValueError, match="units"):
        cf.many_to_one(input_dim=3, output_dim=2, units=0)
    with pytest.raises(ValueError, match="seq_len"):
        cf.one_to_many(input_dim=3, seq_len=-1)
    with pytest.raises(ValueError, match="dropout"):
        cf.stacked_rnn(dropout=1.5)
    with pytest.raises(ValueError, match="start_token"):
        cf.encoder_decoder(11, 11, 12, start_token=12, end_token=10)


# --- the stacked network and PyTorch's nn.RNN(num_layers=2, dropout=0.2, batch_first=True) ---


def _pytorch_rnn_parameter_count(input_size, hidden_size, num_layers):
    # Per layer: weight_ih (H, D_k), weight_hh (H, H), bias_ih (H,), bias_hh (H,).
    count = 0
    for k in range(num_layers):
        layer_input = input_size if k == 0 else hidden_size
        count += hidden_size * layer_input + hidden_size * hidden_size + 2 * hidden_size
    return count


# (D, H, L, PyTorch's count by hand): the lecture's nn.RNN(32, 64, num_layers=2) is
# (64*32 + 64*64 + 2*64) + (64*64 + 64*64 + 2*64) = 6272 + 8320 = 14592.
@pytest.mark.parametrize(
    "input_dim, units, num_layers, by_hand", [(32, 64, 2, 14592), (5, 7, 3, 98 + 112 + 112)]
)
def test_stacked_rnn_has_pytorchs_parameter_count_less_one_bias_per_layer(
    input_dim, units, num_layers, by_hand
):
    model = cf.stacked_rnn(input_dim=input_dim, units=units, num_layers=num_layers)
    pytorch = _pytorch_rnn_parameter_count(input_dim, units, num_layers)
    assert pytorch == by_hand
    # Keras folds bias_ih + bias_hh into one bias: H fewer parameters per layer, same function.
    assert model.count_params() == pytorch - num_layers * units


def test_stacked_rnn_matches_the_lecture_shapes_and_drops_out_only_between_layers():
    model = cf.stacked_rnn(return_state=True, seed=1)  # nn.RNN(32, 64, 2, dropout=0.2, ...)
    x = np.random.default_rng(0).normal(size=(8, 20, 32)).astype("float32")
    out, h_n = model(x)
    assert out.shape == (8, 20, 64) and h_n.shape == (8, 2, 64)  # PyTorch's h_n transposed
    np.testing.assert_allclose(h_n[:, -1], out[:, -1], atol=1e-6)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds[1:4] == ["SimpleRNN", "Dropout", "SimpleRNN"]  # nothing after the last RNN
    assert model.get_layer("dropout_0").rate == 0.2
    np.testing.assert_array_equal(model(x)[0], model(x)[0])  # inference: no dropout
    assert not np.allclose(model(x, training=True)[0], out)  # training: dropout between layers


def test_stacked_rnn_saves_and_loads_with_the_same_outputs(tmp_path):
    model = cf.stacked_rnn(input_dim=4, units=3, return_state=True)
    x = np.random.default_rng(0).normal(size=(2, 6, 4)).astype("float32")
    model.save(tmp_path / "stacked.keras")
    loaded = keras.models.load_model(tmp_path / "stacked.keras")
    for before, after in zip(model(x), loaded(x), strict=True):
        np.testing.assert_allclose(after, before, atol=1e-6)


def _pytorch_rnn_reference(x, state_dict, num_layers):
    """nn.RNN's documented forward pass in NumPy (eval mode, tanh, batch_first, h_0 = 0)."""
    h_seq, finals = x, []
    for k in range(num_layers):
        w_ih, w_hh = state_dict[f"weight_ih_l{k}"], state_dict[f"weight_hh_l{k}"]
        b_ih, b_hh = state_dict[f"bias_ih_l{k}"], state_dict[f"bias_hh_l{k}"]
        h = np.zeros((x.shape[0], w_hh.shape[0]))
        outputs = []
        for t in range(x.shape[1]):
            h = np.tanh(h_seq[:, t] @ w_ih.T + b_ih + h @ w_hh.T + b_hh)
            outputs.append(h)
        h_seq = np.stack(outputs, axis=1)
        finals.append(h)
    return h_seq, np.stack(finals)  # (B, T, H), (L, B, H)


def test_stacked_rnn_with_copied_pytorch_weights_computes_nn_rnn():
    rng = np.random.default_rng(0)
    input_dim, units, num_layers = 6, 5, 2
    bound = 1 / np.sqrt(units)  # PyTorch's initialisation
    state_dict = {}
    for k in range(num_layers):
        layer_input = input_dim if k == 0 else units
        for name, shape in [("weight_ih", (units, layer_input)), ("weight_hh", (units, units)),
                            ("bias_ih", (units,)), ("bias_hh", (units,))]:
            state_dict[f"{name}_l{k}"] = rng.uniform(-bound, bound, size=shape).astype("float32")
    model = cf.stacked_rnn(input_dim, units, num_layers, return_state=True)
    cf.load_pytorch_rnn_weights(model, state_dict)
    x = rng.normal(size=(3, 9, input_dim)).astype("float32")
    out, h_n = model(x)
    expected_out, expected_h_n = _pytorch_rnn_reference(x.astype("float64"), state_dict, num_layers)
    np.testing.assert_allclose(out, expected_out, atol=1e-5)
    np.testing.assert_allclose(np.transpose(h_n, (1, 0, 2)), expected_h_n, atol=1e-5)

    with pytest.raises(ValueError, match="bias_hh_l1"):
        incomplete = {k: v for k, v in state_dict.items() if k != "bias_hh_l1"}
        cf.load_pytorch_rnn_weights(model, incomplete)


# --- each configuration learns the task that needs it (fixed seed and budget) --------------


@pytest.mark.slow
def test_many_to_one_learns_sentiment_to_85_percent():
    keras.utils.set_random_seed(0)
    data = tasks.sentiment(n_train=2000, n_test=500, seq_len=20, seed=0)
    model = _fit(cf.many_to_one(8, 2, units=32), data.x_train, data.y_train, epochs=8)
    _, accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
    assert data.baseline < 0.55
    assert accuracy >= 0.85, f"test accuracy {accuracy:.3f}; majority class {data.baseline:.3f}"


@pytest.mark.slow
def test_one_to_many_generates_the_waveform_at_a_fifth_of_the_baseline_loss():
    keras.utils.set_random_seed(0)
    data = tasks.waveform(n_train=2000, n_test=500, seq_len=25, seed=0)
    model = _fit(cf.one_to_many(3, 25, units=32), data.x_train, data.y_train, epochs=8, loss="mse")
    mse = model.evaluate(data.x_test, data.y_test, verbose=0)
    assert mse <= 0.2 * data.baseline, f"test MSE {mse:.4f}; baseline {data.baseline:.4f}"


@pytest.mark.slow
def test_many_to_many_learns_running_tags_to_95_percent():
    keras.utils.set_random_seed(0)
    data = tasks.running_tags(n_train=2000, n_test=500, seq_len=20, num_tokens=4, seed=0)
    model = _fit(cf.many_to_many(4, 4, units=32), data.x_train, data.y_train, epochs=4)
    _, accuracy = model.evaluate(data.x_test, data.y_test, verbose=0)
    assert accuracy >= 0.95, f"test accuracy {accuracy:.3f}; baseline {data.baseline:.3f}"


@pytest.mark.slow
def test_bidirectional_tagger_beats_unidirectional_on_next_input_tags_by_half():
    data = tasks.next_input_tags(n_train=2000, n_test=500, seq_len=20, num_tokens=4, seed=0)
    scores = {}
    for name, build in [("uni", cf.many_to_many), ("bi", cf.bidirectional_tagger)]:
        keras.utils.set_random_seed(0)
        model = _fit(build(4, 4, units=32), data.x_train, data.y_train, epochs=4)
        scores[name] = model.evaluate(data.x_test, data.y_test, verbose=0)[1]
    ceiling = data.info["unidirectional_ceiling"]  # 0.2875: the future is unseen
    assert scores["uni"] <= ceiling + 0.03, scores
    assert scores["bi"] >= 0.95, scores
    assert scores["bi"] - scores["uni"] >= 0.5, scores


@pytest.mark.slow
def test_encoder_decoder_reverses_digits_with_outputs_of_their_own_length():
    keras.utils.set_random_seed(0)
    data = tasks.reverse_digits(n_train=4000, n_test=300, min_len=2, max_len=5, seed=0)
    s2s = cf.encoder_decoder(11, 11, 12, tasks.DIGIT_START, tasks.DIGIT_END, units=64)
    decoder_inputs = cf.teacher_forcing_inputs(data.y_train, tasks.DIGIT_START, 12)
    _fit(s2s.training_model, [data.x_train, decoder_inputs], data.y_train, epochs=8)

    tokens, lengths = s2s.greedy_decode(data.x_test, max_len=9)
    assert tokens.shape == (300, 9)  # the input has 5 steps: lengths are unrelated
    true_lengths = data.info["lengths_test"]
    assert np.mean(lengths == true_lengths) >= 0.9  # it stops by itself at the right step
    assert len(set(lengths)) >= 3  # variable output length
    answer = np.arange(9)[None, :] < true_lengths[:, None]
    padded = np.full((300, 9), tasks.DIGIT_END)
    padded[:, :6] = data.y_test
    accuracy = np.mean(tokens[answer] == padded[answer])
    assert accuracy >= 0.85, f"digit accuracy {accuracy:.3f}; baseline {data.baseline:.3f}"
    assert np.all(tokens[~answer & (np.arange(9)[None, :] >= lengths[:, None])] == tasks.DIGIT_END)
