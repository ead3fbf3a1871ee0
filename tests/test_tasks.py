"""The task generators: documented shapes, seeded reproducibility, correct labels, and baselines
that match their formulas."""

import numpy as np
import pytest

from rnn_tf import tasks

SMALL = dict(n_train=300, n_test=200, seed=3)

# (generator, keyword arguments, x_train shape, y_train shape) for every generator.
SHAPES = [
    (tasks.sentiment, dict(seq_len=12, vocab_size=9), (300, 12, 9), (300,)),
    (tasks.waveform, dict(seq_len=15), (300, 3), (300, 15, 1)),
    (tasks.running_tags, dict(seq_len=11, num_tokens=5), (300, 11, 5), (300, 11)),
    (tasks.next_input_tags, dict(seq_len=11, num_tokens=5), (300, 11, 5), (300, 11)),
    (tasks.reverse_digits, dict(min_len=2, max_len=6), (300, 6, 11), (300, 7)),
    (tasks.adding, dict(seq_len=30), (300, 30, 2), (300,)),
    (tasks.copy_memory, dict(delay=15), (300, 35, 10), (300, 35)),
]
IDS = [generator.__name__ for generator, *_ in SHAPES]


@pytest.mark.parametrize("generator, kwargs, x_shape, y_shape", SHAPES, ids=IDS)
def test_shapes_match_the_module_docstring(generator, kwargs, x_shape, y_shape):
    data = generator(**SMALL, **kwargs)
    assert data.x_train.shape == x_shape and data.y_train.shape == y_shape
    assert data.x_test.shape == (200,) + x_shape[1:] and data.y_test.shape == (200,) + y_shape[1:]
    assert data.x_train.dtype == np.float32
    assert data.name == generator.__name__
    assert data.metric in {"accuracy", "mse", "crossentropy"}


@pytest.mark.parametrize("generator, kwargs, x_shape, y_shape", SHAPES, ids=IDS)
def test_same_seed_same_data_other_seed_other_data(generator, kwargs, x_shape, y_shape):
    first, again = generator(**SMALL, **kwargs), generator(**SMALL, **kwargs)
    other = generator(**{**SMALL, "seed": 4}, **kwargs)
    for name in ("x_train", "y_train", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert first.baseline == again.baseline
    assert not np.array_equal(first.x_train, other.x_train)


@pytest.mark.parametrize("generator", [g for g, *_ in SHAPES], ids=IDS)
def test_bad_sizes_raise_a_value_error_naming_the_argument(generator):
    with pytest.raises(ValueError, match="n_train"):
        generator(n_train=0)


def test_sentiment_label_is_the_sign_of_the_whole_sequences_tally():
    data = tasks.sentiment(n_train=1000, n_test=10, seq_len=20, vocab_size=9, seed=0)
    tokens = data.x_train.argmax(axis=-1)  # (N, T)
    tally = data.info["word_scores"][tokens].sum(axis=1)
    assert np.all(tally != 0)  # ties are redrawn
    np.testing.assert_array_equal(data.y_train, (tally > 0).astype(int))
    # No single position decides it: the label agrees with the first word's sign only partly.
    first_word = data.info["word_scores"][tokens[:, 0]]
    assert 0.4 < np.mean((first_word > 0) == (data.y_train == 1)) < 0.75


def test_sentiment_baseline_is_half():
    data = tasks.sentiment(n_train=4000, n_test=4000, seed=1)
    assert data.baseline == pytest.approx(0.5, abs=0.03)


def test_waveform_is_the_sine_its_input_describes():
    data = tasks.waveform(n_train=50, n_test=5, seq_len=25, seed=0)
    omega, cos_phi, sin_phi = data.x_train.T
    phi = np.arctan2(sin_phi, cos_phi)
    expected = np.sin(omega[:, None] * np.arange(25)[None, :] + phi[:, None])
    np.testing.assert_allclose(data.y_train[..., 0], expected, atol=1e-5)
    assert np.all((omega >= 0.3) & (omega <= 0.8))


def test_waveform_baseline_is_half():
    data = tasks.waveform(n_train=4000, n_test=2000, seed=0)
    assert data.baseline == pytest.approx(0.5, abs=0.03)


def test_running_tags_use_the_previous_token_and_next_input_tags_the_next():
    past = tasks.running_tags(n_train=100, n_test=5, seq_len=10, num_tokens=4, seed=0)
    tokens = past.x_train.argmax(axis=-1)
    np.testing.assert_array_equal(past.y_train[:, 1:], (tokens[:, 1:] + tokens[:, :-1]) % 4)
    np.testing.assert_array_equal(past.y_train[:, 0], tokens[:, 0])

    future = tasks.next_input_tags(n_train=100, n_test=5, seq_len=10, num_tokens=4, seed=0)
    tokens = future.x_train.argmax(axis=-1)
    np.testing.assert_array_equal(future.y_train[:, :-1], (tokens[:, :-1] + tokens[:, 1:]) % 4)
    np.testing.assert_array_equal(future.y_train[:, -1], tokens[:, -1])


@pytest.mark.parametrize("generator", [tasks.running_tags, tasks.next_input_tags])
def test_tagging_baseline_is_one_over_the_number_of_tokens(generator):
    data = generator(n_train=2000, n_test=2000, num_tokens=5, seed=0)
    assert data.baseline == pytest.approx(1 / 5, abs=0.02)


def test_next_input_tags_defeat_a_model_that_only_sees_the_past():
    # The best a past-only predictor can do: knowing x_t, guess the tag (uniform otherwise).
    data = tasks.next_input_tags(n_train=10, n_test=5000, seq_len=20, num_tokens=4, seed=0)
    tokens = data.x_test.argmax(axis=-1)
    # At the last step x_{t+1} is token 0, so the tag is x_t; elsewhere, guess x_t + 0.
    accuracy = np.mean(data.y_test == tokens)
    assert accuracy == pytest.approx(data.info["unidirectional_ceiling"], abs=0.01)
    assert data.info["unidirectional_ceiling"] == pytest.approx(0.2875)


def test_reverse_digits_reverses_and_ends_with_end_tokens():
    data = tasks.reverse_digits(n_train=200, n_test=5, min_len=2, max_len=6, seed=0)
    x_tokens = data.x_train.argmax(axis=-1)  # (N, 6)
    for row, y, length in zip(x_tokens, data.y_train, data.info["lengths_train"], strict=True):
        assert np.all(row[: 6 - length] == tasks.DIGIT_PAD)
        np.testing.assert_array_equal(y[:length], row[6 - length :][::-1])
        assert np.all(y[length:] == tasks.DIGIT_END)
    assert set(data.info["lengths_train"]) == {2, 3, 4, 5, 6}


def test_reverse_digits_baseline_is_a_tenth_of_the_digit_share():
    data = tasks.reverse_digits(n_train=2000, n_test=3000, min_len=2, max_len=5, seed=0)
    lengths = np.arange(2, 6)
    digit_share = lengths.sum() / (lengths + 1).sum()  # answer = n digits + one END
    assert data.baseline == pytest.approx(digit_share / 10, abs=0.01)


def test_reverse_digits_rejects_min_len_above_max_len():
    with pytest.raises(ValueError, match="min_len"):
        tasks.reverse_digits(min_len=6, max_len=3)


def test_adding_target_is_the_sum_of_the_two_marked_values():
    data = tasks.adding(n_train=500, n_test=5, seq_len=40, seed=0)
    values, markers = data.x_train[..., 0], data.x_train[..., 1]
    np.testing.assert_array_equal(markers.sum(axis=1), 2.0)
    assert np.all(markers[:, :20].sum(axis=1) == 1)  # one marker in each half
    np.testing.assert_allclose(data.y_train, (values * markers).sum(axis=1), rtol=1e-6)
    assert 0 <= values.min() and values.max() <= 1


def test_adding_baseline_is_one_sixth():
    # The MSE of always predicting 1 is Var(U1 + U2) = 1/6; 20000 examples measure it to +-0.0014.
    data = tasks.adding(n_train=10, n_test=20000, seq_len=10, seed=0)
    assert data.baseline == pytest.approx(1 / 6, abs=0.005)
    assert data.info["expected_baseline"] == pytest.approx(1 / 6)


def test_copy_memory_layout():
    data = tasks.copy_memory(n_train=100, n_test=5, delay=30, seed=0)
    x, y = data.x_train.argmax(axis=-1), data.y_train  # (N, 50)
    symbols = x[:, :10]
    assert np.all((symbols >= 1) & (symbols <= 8))
    assert np.all(x[:, 10:39] == 0) and np.all(x[:, 39] == 9) and np.all(x[:, 40:] == 0)
    assert np.all(y[:, :40] == 0)
    np.testing.assert_array_equal(y[:, 40:], symbols)


@pytest.mark.parametrize("delay", [10, 100])
def test_copy_memory_baseline_matches_ten_ln8_over_t_plus_20(delay):
    data = tasks.copy_memory(n_train=4000, n_test=1000, delay=delay, seed=0)
    formula = 10 * np.log(8) / (delay + 20)
    assert data.baseline == pytest.approx(formula, rel=0.02)
    assert data.info["expected_baseline"] == pytest.approx(formula)
