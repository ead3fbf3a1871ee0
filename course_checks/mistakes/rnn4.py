"""The mistakes students make in assignment 4 (RNN configurations), for the hidden tests of
course/source/rnn4_configurations to name.

A builder's mistakes do not show in numbers (the weights are random) but in what the model is:
its output shape, its read-out, which inputs each output can see, its recurrent layers and its
size. Each exercise therefore compares a *fingerprint* of the built model (`observe`) with the
fingerprints of the right builder and of every mutant builder, on the same arguments. Only what
the notebook's checks require is in a fingerprint, so a differently built but right model
(another way to give the RNN its input, an extra layer where the size is free) is not blamed.
"""

from __future__ import annotations

import numpy as np

from course_checks.draws import case_rng
from course_checks.mistakes.diagnosis import Case, Exercise, Mistake

# Read-outs by what their activation does to the probabilities the checks want.
_ACTIVATIONS = {"softmax": 0.0, "linear": 1.0, "sigmoid": 2.0, "tanh": 3.0, "relu": 4.0}


def _layers():
    import keras

    return keras, keras.layers.SimpleRNN


# The kit probe that builds a model with the given builder in the student's kernel (or here, for
# the right builder and the mutants) and reports its outputs on the inputs the check sends.
MODEL_REPORT = "rnn_course_student.probes_keras:model_report"


def _readout(report, out) -> float:
    """The read-out's activation as a code (5: another one): a softmax by what it does (every
    output a probability distribution over the last axis, however the layer is wrapped), else the
    activation of the model's last layer that has one."""
    out = np.asarray(out, dtype=np.float64)
    if (out.ndim >= 2 and out.shape[-1] > 1 and np.all(out >= 0)
            and np.allclose(out.sum(axis=-1), 1.0, atol=1e-5)):
        return _ACTIVATIONS["softmax"]
    return _ACTIVATIONS.get(report["readout"], 5.0)


def _recurrent(report) -> tuple[float, float]:
    """(number of SimpleRNN layers, number of other recurrent layers), looking inside
    Bidirectional wrappers and nested models."""
    return float(report["simple_rnn"]), float(report["other_recurrent"])


# --- fingerprints: the inputs each exercise sends, and what the outputs say -----------------------
# A case's arguments are (builder arguments, keyword arguments, inputs); the values of the inputs
# come from the course secret (case_rng), their shapes are fixed.


def _sequence_inputs(args, seed):
    r = case_rng(seed)
    x = r.normal(size=(3, 9, args[0])).astype("float32")
    changed_last = x.copy()
    changed_last[:, -1] += 1.0
    changed_late = x.copy()
    changed_late[:, 5:] += 1.0
    return [x, x[:1, :1], changed_last, changed_late]


def _sequence_fingerprint(args, report, *, count_params):
    """Shape for two lengths, read-out, whether step 0 sees the last input, whether step t sees
    only steps up to t, recurrent layers and (when the exercise fixes it) the parameter count."""
    out, short, out_last, out_late = (np.asarray(o) for o in report["outputs"])
    sees_future = float(out.ndim == 3 and not np.allclose(out[:, 0], out_last[:, 0], atol=1e-7))
    causal = float(out.ndim == 3 and np.allclose(out[:, :5], out_late[:, :5], atol=1e-6))
    fingerprint = (np.array(out.shape), np.array(short.shape), _readout(report, out), sees_future,
                   causal, *_recurrent(report))
    return fingerprint + ((float(report["params"]),) if count_params else ())


def _many_to_one_fingerprint(args, report):
    return _sequence_fingerprint(args, report, count_params=True)


def _tagger_fingerprint(args, report):
    return _sequence_fingerprint(args, report, count_params=False)


def _bidirectional_fingerprint(args, report):
    return _sequence_fingerprint(args, report, count_params=True)


def _one_to_many_inputs(args, seed):
    return [case_rng(seed).normal(size=(2, args[0])).astype("float32")]


def _one_to_many_fingerprint(args, report):
    out = np.asarray(report["outputs"][0])
    varies = float(out.ndim >= 2 and not np.allclose(out[0], out[1], atol=1e-6))
    return (np.array(out.shape), _readout(report, out), varies, *_recurrent(report))


def _encoder_decoder_inputs(args, seed):
    input_dim, decoder_vocab = args[0], args[1]
    r = case_rng(seed)
    source_a, source_b = (r.normal(size=(2, 4, input_dim)).astype("float32") for _ in range(2))
    previous = r.normal(size=(2, 3, decoder_vocab)).astype("float32")
    other_previous = previous.copy()
    other_previous[:, 0] += 1.0
    long_decoder = [source_a[:, :1], np.zeros((2, 6, decoder_vocab), "float32")]
    return [[source_a, previous], long_decoder, [source_b, previous], [source_a, other_previous]]


def _encoder_decoder_fingerprint(args, report):
    out, long, other_source, other_previous = (np.asarray(o) for o in report["outputs"])
    uses_source = float(out.shape == other_source.shape
                        and not np.allclose(out[:, 0], other_source[:, 0], atol=1e-7))
    uses_previous = float(out.shape == other_previous.shape
                          and not np.allclose(out, other_previous, atol=1e-7))
    return (np.array(out.shape), np.array(long.shape), _readout(report, out), uses_source,
            uses_previous, *_recurrent(report))


# The words for the fingerprint's codes, for the message when no catalogued mistake matches.
_READ_OUTS = ("softmax", "linear", "sigmoid", "tanh", "relu", "another activation")
_CODES = (("read-out", _READ_OUTS),) + tuple(
    (name, ("no", "yes")) for name in (
        "whether step 0 sees the last input", "whether each step sees only the past",
        "whether different vectors give different sequences",
        "whether the output depends on the source",
        "whether the output depends on the previous tokens"))

_FINGERPRINT = ("output shape", "output shape for one short sequence", "read-out",
                "whether step 0 sees the last input", "whether each step sees only the past",
                "SimpleRNN layers", "other recurrent layers")


# --- the right builders, and their mutants --------------------------------------------------------


def many_to_one(input_dim, num_classes, units=16, *, sequences=False, activation="softmax",
                gru=False, fixed_units=None):
    keras, SimpleRNN = _layers()
    layer = keras.layers.GRU if gru else SimpleRNN
    inputs = keras.Input((None, input_dim))  # (B, T, D)
    states = layer(fixed_units or units, return_sequences=sequences)(inputs)  # (B, H)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation=activation)(states))


def one_to_many(input_dim, seq_len, output_dim=1, units=16, *, activation=None, fixed_len=None,
                sequences=True, gru=False):
    keras, SimpleRNN = _layers()
    layer = keras.layers.GRU if gru else SimpleRNN
    vector = keras.Input((input_dim,))  # (B, D)
    # (B, H): a start state from the vector
    h0 = keras.layers.Dense(units, activation="tanh")(vector)
    repeated = keras.layers.RepeatVector(fixed_len or seq_len)(vector)  # (B, T, D)
    states = layer(units, return_sequences=sequences)(repeated, initial_state=h0)  # (B, T, H)
    return keras.Model(vector, keras.layers.Dense(output_dim, activation=activation)(states))


def many_to_many(input_dim, num_classes, units=16, *, bidirectional=False, go_backwards=False,
                 sequences=True, activation="softmax", gru=False):
    keras, SimpleRNN = _layers()
    layer = keras.layers.GRU if gru else SimpleRNN
    inputs = keras.Input((None, input_dim))
    rnn = layer(units, return_sequences=sequences, go_backwards=go_backwards)
    states = (keras.layers.Bidirectional(rnn) if bidirectional else rnn)(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation=activation)(states))


def bidirectional_tagger(input_dim, num_classes, units=16, *, wrapped=True, merge_mode="concat",
                         sequences=True, activation="softmax", gru=False):
    keras, SimpleRNN = _layers()
    layer = keras.layers.GRU if gru else SimpleRNN
    inputs = keras.Input((None, input_dim))
    rnn = layer(units, return_sequences=sequences)
    states = (keras.layers.Bidirectional(rnn, merge_mode=merge_mode) if wrapped else rnn)(inputs)
    return keras.Model(inputs, keras.layers.Dense(num_classes, activation=activation)(states))


def encoder_decoder(input_dim, decoder_vocab, num_classes, units=32, *, pass_context=True,
                    read_previous=True, sequences=True, activation="softmax", gru=False):
    keras, SimpleRNN = _layers()
    layer = keras.layers.GRU if gru else SimpleRNN
    source = keras.Input((None, input_dim))  # (B, T_in, D)
    context = layer(units)(source)  # (B, H)
    previous = keras.Input((None, decoder_vocab))  # (B, T_out, V)
    decoder_in = previous if read_previous else keras.layers.Lambda(lambda p: p * 0.0)(previous)
    decoder = layer(units, return_sequences=sequences)
    states = decoder(decoder_in, initial_state=context) if pass_context else decoder(decoder_in)
    return keras.Model([source, previous],
                       keras.layers.Dense(num_classes, activation=activation)(states))


def _builder(build, **knobs):
    def mutant(*args, **kwargs):
        return build(*args, **kwargs, **knobs)
    return mutant


def _cases(inputs, *argument_sets):
    """One case per set of builder arguments: (arguments, no keywords,
    `inputs(arguments, seed)`)."""
    return lambda: [Case(", ".join(f"{a}" for a in args),
                         lambda args=args, seed=seed: (args, {}, inputs(args, seed)),
                         rtol=0, atol=0)
                    for seed, args in enumerate(argument_sets)]


BUILD_MANY_TO_ONE = Exercise(
    name="build_many_to_one",
    outputs=_FINGERPRINT + ("parameter count",),
    reference=many_to_one,
    probe=MODEL_REPORT,
    codes=_CODES,
    observe=_many_to_one_fingerprint,
    cases=_cases(_sequence_inputs, (8, 2, 16), (3, 4, 5)),
    section="section 2, Many-to-one",
    pointer="Compare your model with the description of Exercise 2, layer by layer",
    mistakes=(
        Mistake("returns_sequences", "your model answers at every step; a many-to-one model reads "
                "out once, from the last state only", _builder(many_to_one, sequences=True)),
        Mistake("no_softmax", "your model's read-out has no softmax, so it does not give "
                "probabilities", _builder(many_to_one, activation=None)),
        Mistake("sigmoid_readout", "your model's read-out is a sigmoid: its outputs do not add up "
                "to 1 over the classes, as a softmax's do",
                _builder(many_to_one, activation="sigmoid")),
        Mistake("gru", "your model uses a GRU; this exercise is about the vanilla "
                "SimpleRNN", _builder(many_to_one, gru=True)),
        Mistake("fixed_units", "your model ignores the `units` argument (its size is fixed)",
                _builder(many_to_one, fixed_units=16)),
    ),
)

BUILD_ONE_TO_MANY = Exercise(
    name="build_one_to_many",
    outputs=("output shape", "read-out", "whether different vectors give different sequences",
             "SimpleRNN layers", "other recurrent layers"),
    reference=one_to_many,
    probe=MODEL_REPORT,
    codes=_CODES,
    observe=_one_to_many_fingerprint,
    cases=_cases(_one_to_many_inputs, (3, 15, 1, 16), (2, 4, 2, 5)),
    section="section 3, One-to-many",
    pointer="Compare your model with the description of Exercise 3: what the RNN reads at each "
            "step, and what reads out from every state",
    mistakes=(
        Mistake("softmax_readout", "your read-out is a softmax; the targets are real numbers "
                "between -1 and 1 and need a linear read-out",
                _builder(one_to_many, activation="softmax")),
        Mistake("tanh_readout", "your read-out squashes with tanh; the targets need a linear "
                "read-out", _builder(one_to_many, activation="tanh")),
        Mistake("fixed_length", "your sequence has a fixed length instead of `seq_len` steps",
                _builder(one_to_many, fixed_len=15)),
        Mistake("last_state_only", "your model reads out only the last state; one-to-many writes "
                "an output at every step", _builder(one_to_many, sequences=False)),
        Mistake("gru", "your model uses a GRU; this exercise is about the vanilla "
                "SimpleRNN", _builder(one_to_many, gru=True)),
    ),
)

BUILD_MANY_TO_MANY = Exercise(
    name="build_many_to_many",
    outputs=_FINGERPRINT,
    reference=many_to_many,
    probe=MODEL_REPORT,
    codes=_CODES,
    observe=_tagger_fingerprint,
    cases=_cases(_sequence_inputs, (4, 4, 16), (2, 3, 5)),
    section="section 4, Many-to-many (synced)",
    pointer="Compare your model with the description of Exercise 4: one output per step, seeing "
            "only the steps so far",
    mistakes=(
        Mistake("bidirectional", "your model looks ahead with a bidirectional layer; a synced "
                "many-to-many model sees only the past",
                _builder(many_to_many, bidirectional=True)),
        Mistake("go_backwards", "your RNN reads the sequence backwards, so early outputs see later "
                "inputs", _builder(many_to_many, go_backwards=True)),
        Mistake("last_state_only", "your model answers once, from the last state; it must tag "
                "every step", _builder(many_to_many, sequences=False)),
        Mistake("no_softmax", "your model's read-out has no softmax, so it does not give "
                "probabilities", _builder(many_to_many, activation=None)),
        Mistake("gru", "your model uses a GRU; this exercise is about the vanilla "
                "SimpleRNN", _builder(many_to_many, gru=True)),
    ),
)

BUILD_BIDIRECTIONAL_TAGGER = Exercise(
    name="build_bidirectional_tagger",
    outputs=_FINGERPRINT + ("parameter count",),
    reference=bidirectional_tagger,
    probe=MODEL_REPORT,
    codes=_CODES,
    observe=_bidirectional_fingerprint,
    cases=_cases(_sequence_inputs, (4, 4, 16), (2, 3, 5)),
    section="section 5, Bidirectional",
    pointer="Compare your model with the description of Exercise 5 and section 5's picture of the "
            "two directions",
    mistakes=(
        Mistake("not_bidirectional", "your tagger runs in one direction only, so the output at "
                "a step cannot see the inputs after it",
                _builder(bidirectional_tagger, wrapped=False)),
        Mistake("merge_sum", "your tagger adds the two directions' states; they are concatenated, "
                "so each step reads both in full",
                _builder(bidirectional_tagger, merge_mode="sum")),
        Mistake("last_state_only", "your tagger answers once per sequence; it must tag every step",
                _builder(bidirectional_tagger, sequences=False)),
        Mistake("no_softmax", "your tagger's read-out has no softmax, so it does not give "
                "probabilities", _builder(bidirectional_tagger, activation=None)),
        Mistake("gru", "your tagger uses a GRU; this exercise is about the vanilla "
                "SimpleRNN", _builder(bidirectional_tagger, gru=True)),
    ),
)

BUILD_ENCODER_DECODER = Exercise(
    name="build_encoder_decoder",
    outputs=("output shape", "output shape for a one-step source and six decoder steps",
             "read-out", "whether the output depends on the source",
             "whether the output depends on the previous tokens", "SimpleRNN layers",
             "other recurrent layers"),
    reference=encoder_decoder,
    probe=MODEL_REPORT,
    codes=_CODES,
    observe=_encoder_decoder_fingerprint,
    cases=_cases(_encoder_decoder_inputs, (11, 12, 11, 32), (3, 4, 3, 5)),
    section="section 6, Encoder-decoder",
    pointer="Compare your model with the description of Exercise 6: what the decoder starts from, "
            "what it reads, and what it writes at each step",
    mistakes=(
        Mistake("no_context", "your decoder does not start from the encoder's last state, so its "
                "output cannot depend on the source",
                _builder(encoder_decoder, pass_context=False)),
        Mistake("ignores_previous_tokens", "your decoder does not read the previous tokens",
                _builder(encoder_decoder, read_previous=False)),
        Mistake("last_state_only", "your decoder answers once; it must write one output per "
                "decoder step", _builder(encoder_decoder, sequences=False)),
        Mistake("no_softmax", "your read-out has no softmax, so it does not give probabilities",
                _builder(encoder_decoder, activation=None)),
        Mistake("gru", "your model uses a GRU; this exercise is about the vanilla "
                "SimpleRNN", _builder(encoder_decoder, gru=True)),
    ),
)

EXERCISES = (BUILD_MANY_TO_ONE, BUILD_ONE_TO_MANY, BUILD_MANY_TO_MANY, BUILD_BIDIRECTIONAL_TAGGER,
             BUILD_ENCODER_DECODER)
