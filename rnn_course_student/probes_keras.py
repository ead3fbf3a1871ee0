"""Probes of answers that are Keras objects or work on them (assignments 3 and 4), for the judge:
each runs the student's builder or training step in the student's kernel, on sizes, weights and
data the judge sends, and returns plain data (arrays, numbers, strings) that the judge compares
with what it computed itself. Expected values and labels never come here. See
rnn_course_student.probe for the channel.

    report = probed(build_many_to_one, "rnn_course_student.probes_keras:model_report")(
        (8, 2), {"units": 16}, [x])
"""

from __future__ import annotations

import contextlib
from typing import Any, Iterator

import numpy as np

from rnn_course_student.probe import plain


@contextlib.contextmanager
def building_in(dtype: str | None) -> Iterator[None]:
    """Keras builds inputs, layers and weights in `dtype` inside the block (None: unchanged);
    the notebook's float type and dtype policy are back afterwards, whatever happened."""
    import keras

    if dtype is None:
        yield
        return
    floatx, policy = keras.config.floatx(), keras.config.dtype_policy()
    try:
        keras.config.set_floatx(dtype)
        keras.config.set_dtype_policy(dtype)
        yield
    finally:
        keras.config.set_floatx(floatx)
        keras.config.set_dtype_policy(policy)


def _layer_summary(model: Any) -> dict:
    """The number of SimpleRNN layers, of other recurrent layers (inside Bidirectional wrappers
    and nested models too), the read-out's activation and the parameter count."""
    import keras

    from rnn_course_student.checks import _simple_rnn_classes, recurrent_layers

    summary = {"simple_rnn": 0, "other_recurrent": 0, "readout": "", "params": -1}
    if not isinstance(model, keras.Model):
        return summary
    layers = recurrent_layers(model)
    simple = sum(isinstance(layer, _simple_rnn_classes()) for layer in layers)
    summary.update(simple_rnn=simple, other_recurrent=len(layers) - simple,
                   params=int(model.count_params()))
    for layer in reversed(model.layers):
        # A wrapper (TimeDistributed(Dense(...))) reads out through the layer it wraps.
        activation = getattr(getattr(layer, "layer", layer), "activation", None)
        if activation is not None:
            summary["readout"] = str(getattr(activation, "__name__", type(activation).__name__))
            break
    return summary


def _as_input(value: Any) -> Any:
    """One model input: an array, or a list of arrays for a model with several inputs."""
    if isinstance(value, (list, tuple)):
        return [np.asarray(v) for v in value]
    return np.asarray(value)


def model_report(build, args, kwargs, inputs, dtype: str | None = None) -> dict:
    """Builds `build(*args, **kwargs)` (Keras building in `dtype` when given), runs the model on
    each of `inputs` and returns {"outputs": [one array per input], "simple_rnn",
    "other_recurrent", "readout", "params"} (see `_layer_summary`)."""
    import keras

    with building_in(dtype):
        model = build(*args, **(kwargs or {}))
        options = {"training": False} if isinstance(model, keras.Model) else {}
        outputs = [plain(model(_as_input(x), **options)) for x in inputs]
    return {"outputs": outputs, **_layer_summary(model)}


def trained_predictions(build, args, kwargs, x_train, y_train, x_test, *, epochs: int,
                        seed: int, **training: Any) -> dict:
    """Builds `build(*args, **kwargs)` after seeding Keras with `seed`, trains it on (`x_train`,
    `y_train`) with the kit's `train_briefly` (`training`: its loss, learning_rate, ...) and
    returns {"predictions": its outputs on `x_test`, "simple_rnn", "other_recurrent", ...}.
    `x_train`/`x_test` may be lists of arrays (several inputs)."""
    import keras

    from rnn_course_student.training import train_briefly

    keras.utils.set_random_seed(int(seed))
    model = build(*args, **(kwargs or {}))
    summary = _layer_summary(model)
    model = train_briefly(model, _as_input(x_train), np.asarray(y_train), epochs=epochs,
                          seed=int(seed), **training)
    predictions = plain(model.predict(_as_input(x_test), verbose=0))
    return {"predictions": predictions, **summary}


def greedy_decoded(build, args, kwargs, x_train, y_train, x_test, *, epochs: int, seed: int,
                   start_token: int, vocab: int, max_len: int) -> dict:
    """Trains an encoder-decoder `build(*args, **kwargs)` with teacher forcing on
    ([x_train[0], x_train[1]], y_train) and decodes `x_test` greedily from `start_token`:
    {"answers": (B, max_len) tokens, "simple_rnn", ...}."""
    import keras

    from rnn_course_student.training import train_briefly

    keras.utils.set_random_seed(int(seed))
    model = build(*args, **(kwargs or {}))
    summary = _layer_summary(model)
    model = train_briefly(model, _as_input(x_train), np.asarray(y_train), epochs=epochs,
                          seed=int(seed))
    x_test = np.asarray(x_test)
    tokens = np.full((len(x_test), 1), start_token)  # (B, 1)
    for _ in range(max_len):
        previous = np.eye(vocab, dtype="float32")[tokens]  # (B, k, V)
        probs = np.asarray(model([x_test, previous], training=False))  # (B, k, C)
        tokens = np.concatenate([tokens, probs[:, -1].argmax(axis=-1)[:, None]], axis=1)
    return {"answers": tokens[:, 1:].astype("int64"), **summary}


# --- assignment 3: a training step, run on a model made here --------------------------------------


def clipping_model(weights, seq_len: int):
    """The small regression RNN of assignment 3 (a SimpleRNN and a linear Dense read-out), sized
    by and holding `weights` ([W_x (D, H), W_h (H, H), b (H,), W_out (H, K), b_out (K,)])."""
    import keras

    W_x, W_h, b, W_out, b_out = (np.asarray(w, "float32") for w in weights)
    model = keras.Sequential([
        keras.Input((int(seq_len), W_x.shape[0])),
        keras.layers.SimpleRNN(W_h.shape[0]),
        keras.layers.Dense(W_out.shape[1]),
    ])
    model.set_weights([W_x, W_h, b, W_out, b_out])
    return model


def train_step_outcome(step, weights, x, y, max_norms, learning_rate: float) -> dict:
    """Runs `step(model, optimizer, x, y, max_norm)` once per entry of `max_norms` on one
    `clipping_model(weights)` with one SGD(learning_rate): {"results": what each call returned,
    "weights": the model's weights afterwards}."""
    import keras
    import tensorflow as tf

    x, y = np.asarray(x, "float32"), np.asarray(y, "float32")
    model = clipping_model(weights, x.shape[1])
    optimizer = keras.optimizers.SGD(learning_rate=float(learning_rate))
    results = [plain(step(model, optimizer, tf.constant(x), tf.constant(y), max_norm))
               for max_norm in max_norms]
    return {"results": results, "weights": [np.asarray(w) for w in model.get_weights()]}


def called_with_tensors(clip, grads, max_norm):
    """`clip(grads, max_norm)` with every gradient given as a tf tensor (None entries kept)."""
    import tensorflow as tf

    return clip([None if g is None else tf.constant(g) for g in grads], max_norm)


def inputs_after_call(function, *args):
    """(what `function(*args)` returned, the arguments as they are after the call): shows a
    function that changes its inputs in place."""
    result = function(*args)
    return plain(result), plain(args)
