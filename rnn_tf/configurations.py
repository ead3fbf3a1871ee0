"""The RNN configurations as Keras models built from `rnn_tf.SimpleRNN`.

Lesson 4 (configurations: many-to-one, one-to-many, many-to-many synced, encoder-decoder,
bidirectional, stacked). Each builder returns an uncompiled `keras.Model`; `rnn_tf.tasks` has a
task that needs each one.

builder               input                          output                        rnn_tf.tasks
--------------------  -----------------------------  ----------------------------  --------------
many_to_one           (B, T, D)                      (B, C)                        sentiment
one_to_many           (B, D)                         (B, T, output_dim)            waveform
many_to_many          (B, T, D)                      (B, T, C)                     running_tags
bidirectional_tagger  (B, T, D)                      (B, T, C)                     next_input_tags
encoder_decoder       (B, T_in, D), (B, T_out, V)    (B, T_out, C); greedy_decode  reverse_digits
                                                     gives (B, max_len)
stacked_rnn           (B, T, D)                      (B, T, H) [and (B, L, H)]     (nn.RNN twin)
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from rnn_course_student.tasks import teacher_forcing_inputs  # the data side of teacher forcing
from rnn_tf.layer import SimpleRNN

__all__ = [
    "many_to_one",
    "one_to_many",
    "many_to_many",
    "bidirectional_tagger",
    "EncoderDecoder",
    "encoder_decoder",
    "teacher_forcing_inputs",
    "stacked_rnn",
    "load_pytorch_rnn_weights",
]


def _check_positive(**sizes) -> None:
    for name, value in sizes.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f"`{name}` must be a positive integer; received {name}={value!r}.")


def many_to_one(
    input_dim: int, output_dim: int, units: int = 32, output_activation: str | None = "softmax"
) -> keras.Model:
    """Read a whole sequence, answer once from the last hidden state h_T.

    Args:
        input_dim: features per step, D.
        output_dim: classes C (or regression outputs, with `output_activation=None`).
        units: hidden size H.
        output_activation: "softmax" for class probabilities, None for a linear output.

    Returns:
        A model mapping (B, T, D) to (B, output_dim); T may vary between calls.

    Example:

    ```python
    model = many_to_one(input_dim=8, output_dim=2)
    model(np.zeros((4, 20, 8), "float32")).shape  # (4, 2)
    ```
    """
    _check_positive(input_dim=input_dim, output_dim=output_dim, units=units)
    sequences = keras.Input((None, input_dim), name="sequences")  # (B, T, D)
    h_last = SimpleRNN(units, name="rnn")(sequences)  # (B, H)
    outputs = keras.layers.Dense(output_dim, activation=output_activation, name="readout")(h_last)
    return keras.Model(sequences, outputs, name="many_to_one")  # (B, C)


def one_to_many(
    input_dim: int, seq_len: int, output_dim: int = 1, units: int = 32
) -> keras.Model:
    """Turn one vector into a sequence of `seq_len` outputs.

    The vector plays two parts, as image features do in a captioning model: a Dense layer turns it
    into the first hidden state h_0, and it is also fed again at every step (`RepeatVector`), so
    the RNN has a reminder of what it is generating.

    Args:
        input_dim: size D of the describing vector.
        seq_len: number of steps T to generate.
        output_dim: values per generated step.
        units: hidden size H.

    Returns:
        A model mapping (B, D) to (B, T, output_dim), with a linear readout.

    Example:

    ```python
    model = one_to_many(input_dim=3, seq_len=25)
    model(np.zeros((4, 3), "float32")).shape  # (4, 25, 1)
    ```
    """
    _check_positive(input_dim=input_dim, seq_len=seq_len, output_dim=output_dim, units=units)
    vector = keras.Input((input_dim,), name="vector")  # (B, D)
    h_0 = keras.layers.Dense(units, activation="tanh", name="initial_state")(vector)  # (B, H)
    repeated = keras.layers.RepeatVector(seq_len, name="repeat")(vector)  # (B, T, D)
    h_seq = SimpleRNN(units, return_sequences=True, name="rnn")(
        repeated, initial_state=h_0
    )  # (B, T, H)
    outputs = keras.layers.Dense(output_dim, name="readout")(h_seq)  # (B, T, output_dim)
    return keras.Model(vector, outputs, name="one_to_many")


def many_to_many(input_dim: int, num_classes: int, units: int = 32) -> keras.Model:
    """Tag every step from the inputs up to and including it (many-to-many, synced).

    Returns:
        A model mapping (B, T, D) to per-step class probabilities (B, T, C).

    Example:

    ```python
    model = many_to_many(input_dim=4, num_classes=4)
    model(np.zeros((2, 20, 4), "float32")).shape  # (2, 20, 4)
    ```
    """
    _check_positive(input_dim=input_dim, num_classes=num_classes, units=units)
    sequences = keras.Input((None, input_dim), name="sequences")  # (B, T, D)
    h_seq = SimpleRNN(units, return_sequences=True, name="rnn")(sequences)  # (B, T, H)
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="readout")(h_seq)
    return keras.Model(sequences, outputs, name="many_to_many")  # (B, T, C)


def bidirectional_tagger(
    input_dim: int, num_classes: int, units: int = 32, merge_mode: str = "concat"
) -> keras.Model:
    """Tag every step from the WHOLE sequence: a forward and a backward RNN, merged per step.

    At step t the forward RNN has read x_1..x_t and the backward one x_T..x_t; with the default
    `merge_mode="concat"` the tag is read from [h_t forward ; h_t backward], (B, T, 2H).

    Returns:
        A model mapping (B, T, D) to per-step class probabilities (B, T, C).

    Example:

    ```python
    model = bidirectional_tagger(input_dim=4, num_classes=4, units=16)
    model(np.zeros((2, 20, 4), "float32")).shape  # (2, 20, 4)
    ```
    """
    _check_positive(input_dim=input_dim, num_classes=num_classes, units=units)
    sequences = keras.Input((None, input_dim), name="sequences")  # (B, T, D)
    both = keras.layers.Bidirectional(
        SimpleRNN(units, return_sequences=True), merge_mode=merge_mode, name="birnn"
    )(sequences)  # (B, T, 2H) for concat
    outputs = keras.layers.Dense(num_classes, activation="softmax", name="readout")(both)
    return keras.Model(sequences, outputs, name="bidirectional_tagger")  # (B, T, C)


# ----------------------------------------------------------------------------------------------
# Encoder-decoder
# ----------------------------------------------------------------------------------------------
@dataclass
class EncoderDecoder:
    """The three views of one encoder-decoder; all share the same layers and weights.

    Attributes:
        training_model: [x (B, T_in, D), decoder inputs (B, T_out, V)] -> (B, T_out, C) class
            probabilities. Trained with teacher forcing: the decoder reads the true previous
            token (see `teacher_forcing_inputs`).
        encoder: x (B, T_in, D) -> the context vector c = h_T of the encoder, (B, H).
        decoder_step: [one token (B, 1, V), state (B, H)] -> [(B, 1, C) probabilities, (B, H)].
        start_token, end_token: the decoder's "begin" input and the "finished" output.
        decoder_vocab: V, the size of the decoder's one-hot input (outputs plus the start token).
    """

    training_model: keras.Model
    encoder: keras.Model
    decoder_step: keras.Model
    start_token: int
    end_token: int
    decoder_vocab: int

    def greedy_decode(self, x, max_len: int) -> tuple[np.ndarray, np.ndarray]:
        """Generate answers one token at a time, feeding back the most probable token.

        Decoding starts from the context vector and the start token and stops for each example
        at its first end token, so answers have their own lengths, whatever T_in was.

        Args:
            x: input sequences (B, T_in, D).
            max_len: most tokens to generate per example.

        Returns:
            tokens: (B, max_len) int; after an example's end token, all end tokens.
            lengths: (B,) number of tokens before the first end token (max_len if none).
        """
        _check_positive(max_len=max_len)
        x = np.asarray(x, dtype="float32")
        batch = x.shape[0]
        state = self.encoder(keras.ops.convert_to_tensor(x), training=False)  # (B, H): context
        token = np.full(batch, self.start_token)  # (B,)
        tokens = np.full((batch, max_len), self.end_token)
        lengths = np.full(batch, max_len)
        finished = np.zeros(batch, dtype=bool)
        for t in range(max_len):
            step_input = np.eye(self.decoder_vocab, dtype="float32")[token][:, None, :]  # (B,1,V)
            step_input = keras.ops.convert_to_tensor(step_input)
            probs, state = self.decoder_step([step_input, state], training=False)  # (B,1,C), (B,H)
            token = np.argmax(keras.ops.convert_to_numpy(probs)[:, 0, :], axis=-1)  # (B,)
            newly_done = ~finished & (token == self.end_token)
            lengths[newly_done] = t
            finished |= newly_done
            tokens[~finished, t] = token[~finished]
            if finished.all():
                break
        return tokens, lengths


def encoder_decoder(
    input_dim: int,
    num_classes: int,
    decoder_vocab: int,
    start_token: int,
    end_token: int,
    units: int = 64,
) -> EncoderDecoder:
    """An encoder RNN whose final state, the context vector, initialises a decoder RNN.

    encoder:  h_t = tanh(x_t W_x + h_{t-1} W_h + b),          c = h_T             (B, H)
    decoder:  s_0 = c,  s_k = tanh(e(y_{k-1}) U_x + s_{k-1} U_h + u),  p_k = softmax(s_k V + v)

    where e(y_{k-1}) is the one-hot previous token (the start token at k = 0). The two RNNs have
    their own weights; only c passes between them, so the input and output lengths are unrelated.

    Args:
        input_dim: encoder features per step, D.
        num_classes: output classes C (the end token is one of them).
        decoder_vocab: size V of the decoder's one-hot input; at least num_classes + 1 so that the
            start token has a slot of its own.
        start_token, end_token: ids of "begin" (decoder input) and "finished" (decoder output).
        units: hidden size H of both RNNs (it must match: c becomes s_0).

    Returns:
        An `EncoderDecoder` (training model, encoder, decoder step, `greedy_decode`).

    Example:

    ```python
    s2s = encoder_decoder(input_dim=11, num_classes=11, decoder_vocab=12,
                          start_token=11, end_token=10)
    s2s.training_model([np.zeros((4, 5, 11)), np.zeros((4, 6, 12))]).shape  # (4, 6, 11)
    tokens, lengths = s2s.greedy_decode(np.zeros((4, 5, 11)), max_len=9)  # (4, 9), (4,)
    ```
    """
    _check_positive(
        input_dim=input_dim, num_classes=num_classes, decoder_vocab=decoder_vocab, units=units
    )
    if not 0 <= start_token < decoder_vocab:
        raise ValueError(f"`start_token` must be in [0, {decoder_vocab}); got {start_token}.")
    if not 0 <= end_token < num_classes:
        raise ValueError(f"`end_token` must be in [0, {num_classes}); got {end_token}.")

    source = keras.Input((None, input_dim), name="source")  # (B, T_in, D)
    context = SimpleRNN(units, name="encoder")(source)  # (B, H)

    decoder_rnn = SimpleRNN(units, return_sequences=True, return_state=True, name="decoder")
    readout = keras.layers.Dense(num_classes, activation="softmax", name="readout")

    previous = keras.Input((None, decoder_vocab), name="previous_tokens")  # (B, T_out, V)
    states, _ = decoder_rnn(previous, initial_state=context)  # (B, T_out, H)
    training_model = keras.Model([source, previous], readout(states), name="encoder_decoder")

    encoder = keras.Model(source, context, name="encoder")

    one_token = keras.Input((1, decoder_vocab), name="token")  # (B, 1, V)
    state_in = keras.Input((units,), name="state")  # (B, H)
    step_out, state_out = decoder_rnn(one_token, initial_state=state_in)  # (B, 1, H), (B, H)
    decoder_step = keras.Model(
        [one_token, state_in], [readout(step_out), state_out], name="decoder_step"
    )
    return EncoderDecoder(
        training_model, encoder, decoder_step, start_token, end_token, decoder_vocab
    )


# ----------------------------------------------------------------------------------------------
# Stacked, as PyTorch's nn.RNN(num_layers=2, dropout=0.2, batch_first=True)
# ----------------------------------------------------------------------------------------------
def stacked_rnn(
    input_dim: int = 32,
    units: int = 64,
    num_layers: int = 2,
    dropout: float = 0.2,
    return_state: bool = False,
    seed: int | None = None,
) -> keras.Model:
    """The Keras twin of `torch.nn.RNN(input_dim, units, num_layers, dropout=dropout,
    batch_first=True)`: `num_layers` SimpleRNNs, with dropout between layers and not after the last.

    PyTorch -> Keras, piece by piece:

    =====================================  ==================================================
    PyTorch                                Keras (this model)
    =====================================  ==================================================
    batch_first=True, x (B, T, D)          Keras's only layout, (B, T, D)
    layer k                                `SimpleRNN(units, return_sequences=True)`
    weight_ih_l{k} (H, D_k)                `kernel` (D_k, H) = weight_ih_l{k}.T
    weight_hh_l{k} (H, H)                  `recurrent_kernel` (H, H) = weight_hh_l{k}.T
    bias_ih_l{k} + bias_hh_l{k} (2 x H)    `bias` (H,): one vector, their sum (same function,
                                           H fewer parameters per layer)
    dropout=p between layers               `Dropout(p)` on layer k's outputs, k < L-1, only in
                                           training (each (b, t, unit) masked independently,
                                           as PyTorch does; NOT SimpleRNN(dropout=p), which
                                           drops the layer's inputs with one mask for all t)
    out (B, T, H)                          the model's output
    h_n (L, B, H)                          with return_state=True, a second output (B, L, H):
                                           batch first, as Keras wants; transpose for h_n
    nonlinearity='tanh'                    activation="tanh" (the default of both)
    =====================================  ==================================================

    Initialisation differs (PyTorch draws every weight from U(-1/sqrt(H), 1/sqrt(H)); Keras uses
    Glorot-uniform, orthogonal and zeros), so copy weights with `load_pytorch_rnn_weights` to get
    the same numbers.

    Args:
        input_dim: D. units: H. num_layers: L. dropout: p, between layers.
        return_state: also output every layer's last state, (B, L, H).
        seed: seed for the Dropout layers.

    Returns:
        A model mapping (B, T, D) to (B, T, H) [and (B, L, H)].

    Example:

    ```python
    model = stacked_rnn()  # nn.RNN(32, 64, num_layers=2, dropout=0.2, batch_first=True)
    model(np.zeros((8, 20, 32), "float32")).shape  # (8, 20, 64)
    ```
    """
    _check_positive(input_dim=input_dim, units=units, num_layers=num_layers)
    if not 0.0 <= dropout < 1.0:
        raise ValueError(f"`dropout` must be in [0, 1); got {dropout}.")
    sequences = keras.Input((None, input_dim), name="sequences")  # (B, T, D)
    h_seq, last_states = sequences, []
    for k in range(num_layers):
        if k > 0 and dropout > 0:
            h_seq = keras.layers.Dropout(dropout, seed=seed, name=f"dropout_{k - 1}")(h_seq)
        h_seq, h_last = SimpleRNN(
            units, return_sequences=True, return_state=True, name=f"rnn_{k}"
        )(h_seq)  # (B, T, H), (B, H)
        last_states.append(h_last)
    if not return_state:
        return keras.Model(sequences, h_seq, name="stacked_rnn")
    h_n = keras.ops.stack(last_states, axis=1)  # (B, L, H); an op, not a Lambda, so it saves
    return keras.Model(sequences, [h_seq, h_n], name="stacked_rnn")  # (B, T, H), (B, L, H)


def load_pytorch_rnn_weights(model: keras.Model, state_dict: dict) -> None:
    """Copy an `nn.RNN`'s `state_dict()` (as NumPy arrays) into a `stacked_rnn` model.

    Keras keeps row vectors, so each weight matrix is transposed; PyTorch's two biases are added
    into Keras's one, since only their sum enters h_t = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh).

    Args:
        model: a model from `stacked_rnn`, built with the same sizes.
        state_dict: {"weight_ih_l0": (H, D), "weight_hh_l0": (H, H), "bias_ih_l0": (H,),
            "bias_hh_l0": (H,), ... for each layer}; torch tensors work after `.numpy()`.
    """
    layers = [layer for layer in model.layers if isinstance(layer, SimpleRNN)]
    for k, layer in enumerate(layers):
        names = [f"{kind}_l{k}" for kind in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]
        missing = [name for name in names if name not in state_dict]
        if missing:
            raise ValueError(
                f"state_dict has no {missing} for layer {k}; it has {sorted(state_dict)}."
            )
        w_ih, w_hh, b_ih, b_hh = (np.asarray(state_dict[name]) for name in names)
        kernel, recurrent_kernel, _ = layer.get_weights()
        if w_ih.T.shape != kernel.shape or w_hh.T.shape != recurrent_kernel.shape:
            raise ValueError(
                f"layer {k}: expected weight_ih {kernel.shape[::-1]} and weight_hh "
                f"{recurrent_kernel.shape}; got {w_ih.shape} and {w_hh.shape}."
            )
        layer.set_weights([w_ih.T, w_hh.T, b_ih + b_hh])
