"""Synthetic tasks for the lesson on RNN configurations and on long-range memory.

Lesson 4 (configurations; long-range dependencies): one task that needs each configuration.

Each generator is seeded NumPy (no downloads) and returns a `TaskData` with a train/test split and
the score of the task's trivial baseline, the number a model must beat to have learned anything.

Generators and shapes (N = n_train or n_test, T = seq_len; tokens are integers, inputs one-hot):

================  =================  ==========================  ================  ===============
generator         configuration      x                           y                 baseline
================  =================  ==========================  ================  ===============
sentiment         many-to-one        (N, T, vocab_size) float32  (N,) int, 2 cls   accuracy 1/2
waveform          one-to-many        (N, 3) float32              (N, T, 1) float   MSE 1/2
running_tags      many-to-many sync  (N, T, num_tokens) float32  (N, T) int        accuracy 1/K
next_input_tags   bidirectional      (N, T, num_tokens) float32  (N, T) int        accuracy 1/K
reverse_digits    encoder-decoder    (N, max_len, 11) float32    (N, max_len+1)    accuracy 1/10
adding            long range         (N, T, 2) float32           (N,) float        MSE 1/6
copy_memory       long range         (N, T+20, 10) float32       (N, T+20) int     CE 10 ln8/(T+20)
================  =================  ==========================  ================  ===============

`TaskData.baseline` is always measured on the test split (the formula in the table is its
expectation; the tests check the two agree). `TaskData.metric` says whether it is an accuracy
(higher is better) or a loss (lower is better).

Example:

>>> data = sentiment(n_train=1000, n_test=200, seq_len=20, seed=0)
>>> data.x_train.shape, data.y_train.shape, round(data.baseline, 1)
((1000, 20, 8), (1000,), 0.5)
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "TaskData",
    "sentiment",
    "waveform",
    "running_tags",
    "next_input_tags",
    "reverse_digits",
    "adding",
    "copy_memory",
    "DIGIT_PAD",
    "DIGIT_END",
    "DIGIT_START",
    "teacher_forcing_inputs",
]


@dataclass(frozen=True)
class TaskData:
    """A train/test split and its trivial baseline.

    Attributes:
        x_train, y_train, x_test, y_test: NumPy arrays (shapes in the module docstring).
        baseline: the trivial baseline's score on the test split.
        metric: "accuracy" (higher is better), "mse" or "crossentropy" (lower is better).
        name: the generator that made it.
        info: task constants a model needs (vocabulary sizes, special tokens, ...).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    baseline: float
    metric: str
    name: str
    info: dict = field(default_factory=dict)


def _check_sizes(**sizes: int) -> None:
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer; received {name}={value!r}.")


def _one_hot(tokens: np.ndarray, depth: int) -> np.ndarray:
    return np.eye(depth, dtype=np.float32)[tokens]  # tokens.shape + (depth,)


def _majority_accuracy(y_train: np.ndarray, y_test: np.ndarray) -> float:
    """Accuracy on test of always predicting the most frequent training label."""
    majority = np.bincount(y_train.ravel()).argmax()
    return float(np.mean(y_test == majority))


def _split(make, n_train: int, n_test: int, seed: int):
    rng = np.random.default_rng(seed)
    return make(rng, n_train), make(rng, n_test)


# ----------------------------------------------------------------------------------------------
# Many-to-one: read the whole sequence, emit one label.
# ----------------------------------------------------------------------------------------------
def sentiment(
    n_train: int = 2000, n_test: int = 500, seq_len: int = 20, vocab_size: int = 8, seed: int = 0
) -> TaskData:
    """A sentiment-like review: the label is 1 when positive words outnumber negative ones.

    The first third of the vocabulary is "positive", the next third "negative", the rest neutral.
    No single position decides the label: the model must keep a running tally over the whole
    sequence, which is what a many-to-one RNN's final hidden state is for. Reviews with a tie are
    redrawn, so the two classes are equally likely by symmetry.

    Args:
        n_train, n_test: number of sequences in each split.
        seq_len: words per review (T).
        vocab_size: number of distinct words (at least 3).
        seed: NumPy seed; the same seed gives the same arrays.

    Returns:
        `TaskData` with x (N, T, vocab_size) one-hot float32, y (N,) int in {0, 1}, and the
        majority-class accuracy as baseline (expected 1/2).
    """
    _check_sizes(n_train=n_train, n_test=n_test, seq_len=seq_len, vocab_size=vocab_size)
    if vocab_size < 3:
        raise ValueError(f"`vocab_size` must be at least 3 (pos/neg/neutral); got {vocab_size}.")
    third = vocab_size // 3
    score = np.zeros(vocab_size, dtype=np.int64)
    score[:third], score[third : 2 * third] = 1, -1  # positive, negative, then neutral words

    def make(rng, n):
        tokens = np.empty((0, seq_len), dtype=np.int64)
        while len(tokens) < n:  # redraw ties: 1 in 8 at T = 20, vocab_size = 8
            draw = rng.integers(0, vocab_size, size=(2 * n, seq_len))
            tally = score[draw].sum(axis=1)  # (2n,)
            tokens = np.concatenate([tokens, draw[tally != 0]])
        tokens = tokens[:n]
        labels = (score[tokens].sum(axis=1) > 0).astype(np.int64)  # (n,)
        return _one_hot(tokens, vocab_size), labels

    (x_tr, y_tr), (x_te, y_te) = _split(make, n_train, n_test, seed)
    return TaskData(
        x_tr, y_tr, x_te, y_te, _majority_accuracy(y_tr, y_te), "accuracy", "sentiment",
        {"num_classes": 2, "word_scores": score},
    )


# ----------------------------------------------------------------------------------------------
# One-to-many: one input vector, a whole sequence out.
# ----------------------------------------------------------------------------------------------
def waveform(
    n_train: int = 2000, n_test: int = 500, seq_len: int = 25, seed: int = 0
) -> TaskData:
    """Generate y_t = sin(omega t + phi), t = 0..T-1, from one vector describing the wave.

    The analogue of captioning (an image in, a sentence out) or music generation from a style
    vector. The input is (omega, cos phi, sin phi): the phase is given as a point on the circle so
    that phi = 0 and phi = 2 pi, which describe the same wave, are the same input.
    omega ~ U[0.3, 0.8] radians per step, phi ~ U[0, 2 pi).

    Returns:
        `TaskData` with x (N, 3) float32, y (N, T, 1) float32, and as baseline the test MSE of
        predicting each step's training mean (expected 1/2, the mean of sin^2 over a random phase).
    """
    _check_sizes(n_train=n_train, n_test=n_test, seq_len=seq_len)

    def make(rng, n):
        omega = rng.uniform(0.3, 0.8, size=n)  # (n,)
        phi = rng.uniform(0.0, 2 * np.pi, size=n)  # (n,)
        t = np.arange(seq_len)  # (T,)
        y = np.sin(omega[:, None] * t[None, :] + phi[:, None])  # (n, T)
        x = np.stack([omega, np.cos(phi), np.sin(phi)], axis=1)  # (n, 3)
        return x.astype(np.float32), y[..., None].astype(np.float32)

    (x_tr, y_tr), (x_te, y_te) = _split(make, n_train, n_test, seed)
    baseline = float(np.mean((y_te - y_tr.mean(axis=0, keepdims=True)) ** 2))
    return TaskData(x_tr, y_tr, x_te, y_te, baseline, "mse", "waveform", {"input_dim": 3})


# ----------------------------------------------------------------------------------------------
# Many-to-many: one label per step. The two tasks below are mirror images in time.
# ----------------------------------------------------------------------------------------------
def _pair_tags(n_train, n_test, seq_len, num_tokens, seed, look_ahead: bool, name: str):
    _check_sizes(n_train=n_train, n_test=n_test, seq_len=seq_len, num_tokens=num_tokens)

    def make(rng, n):
        tokens = rng.integers(0, num_tokens, size=(n, seq_len))  # (n, T)
        # The neighbour is the previous token (synced tagging) or the next one (look ahead);
        # beyond either end of the sequence it is token 0.
        neighbour = np.zeros_like(tokens)
        if look_ahead:
            neighbour[:, :-1] = tokens[:, 1:]
        else:
            neighbour[:, 1:] = tokens[:, :-1]
        tags = (tokens + neighbour) % num_tokens  # (n, T)
        return _one_hot(tokens, num_tokens), tags

    (x_tr, y_tr), (x_te, y_te) = _split(make, n_train, n_test, seed)
    return TaskData(
        x_tr, y_tr, x_te, y_te, _majority_accuracy(y_tr, y_te), "accuracy", name,
        {"num_classes": num_tokens},
    )


def running_tags(
    n_train: int = 2000, n_test: int = 500, seq_len: int = 20, num_tokens: int = 4, seed: int = 0
) -> TaskData:
    """Tag every step with (x_{t-1} + x_t) mod K: each tag needs the current and previous token.

    The many-to-many (synced) configuration: one output per input, each allowed to use the past.
    A memoryless per-step classifier sees x_t only, and given x_t the tag is uniform, so it scores
    1/K like the majority-class baseline; a unidirectional RNN can reach 100%.

    Returns:
        `TaskData` with x (N, T, K) one-hot float32, y (N, T) int in [0, K), and the
        majority-class accuracy as baseline (expected 1/K). x_{-1} is taken to be token 0.
    """
    return _pair_tags(n_train, n_test, seq_len, num_tokens, seed, False, "running_tags")


def next_input_tags(
    n_train: int = 2000, n_test: int = 500, seq_len: int = 20, num_tokens: int = 4, seed: int = 0
) -> TaskData:
    """Tag every step with (x_t + x_{t+1}) mod K: each tag needs the NEXT token.

    The mirror image of `running_tags`. A unidirectional RNN at step t has not seen x_{t+1}, so
    its best accuracy is ((T - 1) / K + 1) / T (only the last tag, where x_T is token 0, is
    knowable): 0.2875 for T = 20, K = 4. A bidirectional RNN sees both sides and can reach 100%.

    Returns:
        `TaskData` with x (N, T, K) one-hot float32, y (N, T) int in [0, K), the majority-class
        accuracy as baseline (expected 1/K), and `info["unidirectional_ceiling"]`.
    """
    data = _pair_tags(n_train, n_test, seq_len, num_tokens, seed, True, "next_input_tags")
    data.info["unidirectional_ceiling"] = ((seq_len - 1) / num_tokens + 1) / seq_len
    return data


# ----------------------------------------------------------------------------------------------
# Encoder-decoder: input and output sequences of different lengths.
# ----------------------------------------------------------------------------------------------
DIGIT_PAD = 10  # input only: fills the front of short strings
DIGIT_END = 10  # output only: "the answer is finished"
DIGIT_START = 11  # decoder input only: "begin the answer"


def reverse_digits(
    n_train: int = 4000,
    n_test: int = 500,
    min_len: int = 2,
    max_len: int = 5,
    seed: int = 0,
) -> TaskData:
    """Reverse a digit string of random length n in [min_len, max_len], then emit END.

    Input and output lengths differ (the input is padded to max_len, the answer is n + 1 tokens
    long and its length is only known once END is produced), so this needs an encoder that reads
    everything before a decoder starts writing.

    Input: digits are padded at the FRONT with DIGIT_PAD (10) to max_len, so the encoder's last
    step is the last digit, and one-hot encoded over 11 symbols.
    Output: the reversed digits, then DIGIT_END (10), then DIGIT_END as filler up to max_len + 1.
    For teacher forcing use `teacher_forcing_inputs(y, DIGIT_START, 12)`, which shifts y right
    behind DIGIT_START (11).

    Returns:
        `TaskData` with x (N, max_len, 11) float32, y (N, max_len + 1) int in [0, 10],
        `info["lengths_train"/"lengths_test"]` (n per example) and as baseline the accuracy
        over answer tokens (digits and the first END) of always predicting the most frequent
        training digit (expected about 1/10 times the digit share of answer tokens).
    """
    _check_sizes(n_train=n_train, n_test=n_test, min_len=min_len, max_len=max_len)
    if min_len > max_len:
        raise ValueError(
            f"`min_len` must be <= `max_len`; got min_len={min_len}, max_len={max_len}."
        )

    def make(rng, n):
        lengths = rng.integers(min_len, max_len + 1, size=n)  # (n,)
        digits = rng.integers(0, 10, size=(n, max_len))  # (n, max_len), right-aligned below
        x_tokens = np.full((n, max_len), DIGIT_PAD)
        y = np.full((n, max_len + 1), DIGIT_END)
        for i, length in enumerate(lengths):
            x_tokens[i, max_len - length :] = digits[i, :length]
            y[i, :length] = digits[i, :length][::-1]
        return _one_hot(x_tokens, 11), y, lengths

    (x_tr, y_tr, len_tr), (x_te, y_te, len_te) = _split(make, n_train, n_test, seed)
    answer = np.arange(max_len + 1)[None, :] <= len_te[:, None]  # digits and the first END
    majority = np.bincount(y_tr[y_tr != DIGIT_END]).argmax()
    baseline = float(np.mean(y_te[answer] == majority))
    return TaskData(
        x_tr, y_tr, x_te, y_te, baseline, "accuracy", "reverse_digits",
        {"num_classes": 11, "decoder_vocab": 12, "lengths_train": len_tr, "lengths_test": len_te},
    )


def teacher_forcing_inputs(y, start_token: int, decoder_vocab: int) -> np.ndarray:
    """The decoder's inputs for teacher forcing: the targets shifted right behind a start token.

    At step t the decoder reads the TRUE token t - 1 (not its own guess), so every step gets a
    useful gradient from the first epoch.

    Args:
        y: target tokens (B, T_out) int, e.g. `reverse_digits(...).y_train`.
        start_token: the decoder's "begin" input (`DIGIT_START` for `reverse_digits`).
        decoder_vocab: the size of the decoder's one-hot input (outputs plus the start token).

    Returns:
        One-hot (B, T_out, decoder_vocab) float32 of [start, y_0, ..., y_{T_out-2}].
    """
    y = np.asarray(y)
    if y.ndim != 2:
        raise ValueError(f"`y` must be 2-D (batch, T_out) token ids; got shape {y.shape}.")
    shifted = np.concatenate([np.full((len(y), 1), start_token), y[:, :-1]], axis=1)  # (B, T_out)
    return np.eye(decoder_vocab, dtype="float32")[shifted]


# ----------------------------------------------------------------------------------------------
# Long-range memory tasks from the literature.
# ----------------------------------------------------------------------------------------------
def adding(n_train: int = 2000, n_test: int = 1000, seq_len: int = 50, seed: int = 0) -> TaskData:
    """The adding problem in the form of Le, Jaitly & Hinton (2015).

    Each step carries two numbers: a value drawn from U[0, 1] and a marker that is 1 at exactly two
    positions (one drawn in the first half of the sequence, one in the second half) and 0
    elsewhere. The target is the sum of the two marked values. The marked values can lie up to T
    steps before the output, which is where a vanilla RNN's gradient has to reach.

    Baseline: always predicting 1 (the mean target) gives an expected MSE of
    Var(U1 + U2) = 2 * 1/12 = 1/6 = 0.1667. Papers on the task often quote about 0.1767 for the
    same strategy. That figure is an estimate, not the expectation: the squared error
    (S - 1)^2 of a single example has standard deviation 0.197, so a test set of 1000 examples
    measures 1/6 +- 0.006 and a few hundred examples easily give 0.177; variants of the task
    (other marker placements, other value ranges) move it too. This module reports the
    baseline measured on the test split, which the tests check against 1/6.

    Returns:
        `TaskData` with x (N, T, 2) float32 (channel 0 values, channel 1 markers), y (N,) float32,
        and the test MSE of always predicting 1 as baseline (expected 1/6).
    """
    _check_sizes(n_train=n_train, n_test=n_test, seq_len=seq_len)
    if seq_len < 2:
        raise ValueError(f"`seq_len` must be at least 2 to place two markers; got {seq_len}.")
    half = seq_len // 2

    def make(rng, n):
        values = rng.uniform(0.0, 1.0, size=(n, seq_len))  # (n, T)
        first = rng.integers(0, half, size=n)  # (n,)
        second = rng.integers(half, seq_len, size=n)  # (n,)
        markers = np.zeros((n, seq_len))
        rows = np.arange(n)
        markers[rows, first] = markers[rows, second] = 1.0
        y = values[rows, first] + values[rows, second]  # (n,)
        x = np.stack([values, markers], axis=-1)  # (n, T, 2)
        return x.astype(np.float32), y.astype(np.float32)

    (x_tr, y_tr), (x_te, y_te) = _split(make, n_train, n_test, seed)
    baseline = float(np.mean((y_te - 1.0) ** 2))
    return TaskData(x_tr, y_tr, x_te, y_te, baseline, "mse", "adding", {"expected_baseline": 1 / 6})


COPY_BLANK, COPY_DELIMITER, COPY_SYMBOLS, COPY_LENGTH = 0, 9, 8, 10


def copy_memory(
    n_train: int = 2000, n_test: int = 500, delay: int = 100, seed: int = 0
) -> TaskData:
    """The copy-memory problem of Arjovsky, Shah & Bengio (2016).

    Alphabet: 0 blank, 1-8 data symbols, 9 delimiter. The input is 10 random data symbols, then
    T - 1 blanks, the delimiter, and 10 more blanks (length T + 20). The target is T + 10 blanks
    followed by the 10 data symbols: the network must hold them for T steps.

    Baseline: a memoryless model that predicts blank for the first T + 10 steps and a uniform
    guess over the 8 symbols for the last 10 scores a cross-entropy of 10 ln 8 / (T + 20) per
    step. Here it is measured: each position's label frequencies on the train split (smoothed
    by a pseudo-count of 0.01) are the prediction, scored by cross-entropy on the test split.

    Args:
        delay: T, the number of steps the symbols must be remembered.

    Returns:
        `TaskData` with x (N, T + 20, 10) one-hot float32, y (N, T + 20) int in [0, 8], and the
        measured memoryless cross-entropy (nats per step) as baseline.
    """
    _check_sizes(n_train=n_train, n_test=n_test, delay=delay)
    length = delay + 2 * COPY_LENGTH

    def make(rng, n):
        symbols = rng.integers(1, COPY_SYMBOLS + 1, size=(n, COPY_LENGTH))  # (n, 10)
        x = np.full((n, length), COPY_BLANK)
        x[:, :COPY_LENGTH] = symbols
        x[:, delay + COPY_LENGTH - 1] = COPY_DELIMITER
        y = np.full((n, length), COPY_BLANK)
        y[:, -COPY_LENGTH:] = symbols
        return _one_hot(x, COPY_DELIMITER + 1), y

    (x_tr, y_tr), (x_te, y_te) = _split(make, n_train, n_test, seed)
    num_classes = COPY_SYMBOLS + 1
    counts = np.stack([np.bincount(col, minlength=num_classes) for col in y_tr.T])  # (T+20, 9)
    # A tiny pseudo-count keeps log(0) away from symbols a position never saw in training.
    probs = (counts + 0.01) / (counts + 0.01).sum(axis=1, keepdims=True)
    picked = probs[np.arange(length)[None, :], y_te]  # (n_test, T+20)
    baseline = float(-np.mean(np.log(picked)))
    return TaskData(
        x_tr, y_tr, x_te, y_te, baseline, "crossentropy", "copy_memory",
        {"num_classes": num_classes, "expected_baseline": 10 * np.log(8) / length},
    )
