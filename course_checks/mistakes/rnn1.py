"""The mistakes students make in assignment 1 (the forward pass), each as a mutant of the right
function, for the hidden tests of course/source/rnn1_forward to name.

Row layout throughout: x_t (B, D), h_prev (B, H), W_x (D, H), W_h (H, H), b (H,), and
h_t = tanh(x_t W_x + h_prev W_h + b).
"""

from __future__ import annotations

import numpy as np

from course_checks.draws import case_rng
from course_checks.mistakes.diagnosis import Case, Exercise, Mistake


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _problem(seed, B, T, D, H, dtype="float64"):
    """(x (B, T, D), h0 (B, H), W_x (D, H), W_h (H, H) upper-triangular, so not symmetric,
    b (H,))."""
    r = case_rng(seed)  # the values differ per student and term (the course secret), not the shapes
    arrays = (r.normal(size=(B, T, D)), r.normal(size=(B, H)) * 0.5, r.normal(size=(D, H)) * 0.7,
              np.triu(r.normal(size=(H, H))) * 0.6, r.normal(size=H) * 0.5)
    return tuple(a.astype(dtype) for a in arrays)


def _tolerance(dtype):
    return {"rtol": 1e-4, "atol": 1e-5} if dtype == "float32" else {"rtol": 1e-6, "atol": 1e-9}


# --- rnn_step_forward -------------------------------------------------------------------------


def _step(x_t, h_prev, W_x, W_h, b):
    return np.tanh(x_t @ W_x + h_prev @ W_h + b)  # (B, H)


def step_forward(x_t, h_prev, W_x, W_h, b):
    """The right step. The mutants call `_step` and `_loop` instead of the right functions
    themselves, which a check forbids while the function it judges runs."""
    return _step(x_t, h_prev, W_x, W_h, b)


def _step_cases():
    cases = []
    for seed, (B, D, H), dtype in [(1, (3, 4, 5), "float64"), (2, (1, 3, 2), "float64"),
                                   (3, (1, 3, 2), "float32"), (4, (2, 4, 4), "float64"),
                                   (5, (4, 2, 6), "float32")]:
        x, h0, W_x, W_h, b = _problem(seed, B, 1, D, H, dtype)
        args = (x[:, 0], h0, W_x, W_h, b)
        cases.append(Case(f"B={B}, D={D}, H={H}, {dtype}",
                          lambda args=args: tuple(a.copy() for a in args), **_tolerance(dtype)))
    return cases


STEP_MISTAKES = (
    ("sigmoid", "your h_t is what the sigmoid gives; the step squashes with tanh",
     lambda x_t, h_prev, W_x, W_h, b: _sigmoid(x_t @ W_x + h_prev @ W_h + b)),
    ("relu", "your h_t is what a ReLU gives; the step squashes with tanh",
     lambda x_t, h_prev, W_x, W_h, b: np.maximum(0, x_t @ W_x + h_prev @ W_h + b)),
    ("no_activation", "your h_t is the weighted sum before the squashing: tanh is missing",
     lambda x_t, h_prev, W_x, W_h, b: x_t @ W_x + h_prev @ W_h + b),
    ("tanh_twice", "your h_t has tanh applied twice",
     lambda x_t, h_prev, W_x, W_h, b: np.tanh(np.tanh(x_t @ W_x + h_prev @ W_h + b))),
    ("recurrent_transposed", "your h_t uses the recurrent weights transposed, as in the lecture's "
     "column layout; in the row layout each state row multiplies W_h from the left (section 6 "
     "explains the difference)",
     lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + h_prev @ W_h.T + b)),
    ("input_transposed", "your h_t uses the input weights transposed; in the row layout each input "
     "row multiplies W_x from the left",
     lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x.T + h_prev @ W_h + b)),
    ("no_bias", "your h_t leaves out the bias",
     lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + h_prev @ W_h)),
    ("bias_after_tanh", "your h_t adds the bias after the squashing instead of before",
     lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + h_prev @ W_h) + b),
    ("no_recurrence", "your h_t ignores the previous state h_prev",
     lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + b)),
    ("no_input", "your h_t ignores the input x_t",
     lambda x_t, h_prev, W_x, W_h, b: np.tanh(h_prev @ W_h + b)),
)


RNN_STEP_FORWARD = Exercise(
    name="rnn_step_forward",
    outputs=("h_t",),
    reference=step_forward,
    cases=_step_cases,
    section="section 2, One step",
    pointer="Compare your step with the recurrence and the shapes table of section 1",
    mistakes=tuple(Mistake(key, message, step) for key, message, step in STEP_MISTAKES),
)


# --- rnn_forward ---------------------------------------------------------------------------------


def forward(x, h0, W_x, W_h, b):
    """The right forward pass."""
    return _loop(x, h0, W_x, W_h, b)


def _loop(x, h0, W_x, W_h, b, *, step=_step, steps=None, order=None, carry=True,
          keep="after", read=None, dtype=None, undetermined_after=None):
    """The forward loop, with the knobs its mistakes turn: `steps` loops over a fixed number of
    steps instead of the sequence's length, `order` changes the time order, `carry=False` starts
    every step from h0, `keep="before"` stores the state before each step, `read` picks the input
    of step t, `dtype` the array h is stored in; the states from step `undetermined_after` on are
    NaN: a loop that stops there leaves them to whatever h held."""
    B, T, _ = x.shape
    H = h0.shape[1]
    h = np.zeros((B, T, H), dtype=dtype or np.result_type(x, h0, W_x, W_h, b))  # (B, T, H)
    h_prev = h0  # (B, H)
    for t in (order(T) if order else range(T if steps is None else steps)):
        x_t = x[:, read(t)] if read else x[:, t]  # (B, D)
        h_t = step(x_t, h_prev if carry else h0, W_x, W_h, b)  # (B, H)
        h[:, t] = h_t if keep == "after" else h_prev
        h_prev = h_t
    if undetermined_after is not None:
        h = h.astype(np.float64)
        h[:, undetermined_after:] = np.nan
    return h, (x, h0, h, W_x, W_h)


VISIBLE_T = 50  # the sequence length of the notebook's visible rnn_forward check


def _forward_cases():
    cases = []
    for seed, (B, T, D, H), dtype in [(11, (2, 60, 3, 4), "float64"), (12, (1, 1, 3, 2), "float64"),
                                      (13, (1, 1, 3, 2), "float32"), (14, (3, 7, 4, 4), "float64"),
                                      (15, (2, 55, 2, 5), "float32")]:
        args = _problem(seed, B, T, D, H, dtype)
        cases.append(Case(f"B={B}, T={T}, D={D}, H={H}, {dtype}",
                          lambda args=args: tuple(a.copy() for a in args), **_tolerance(dtype)))
    return cases


def _last_state_only(x, h0, W_x, W_h, b):
    h, cache = _loop(x, h0, W_x, W_h, b)
    return h[:, -1], cache


def _fixed_length(x, h0, W_x, W_h, b):
    """The first VISIBLE_T states; whatever fills the rest of h (zeros, copies of a state, the
    garbage of np.empty) or a shorter h is the student's own, and a sequence shorter than
    VISIBLE_T may fail in any way: both are undetermined."""
    if x.shape[1] <= VISIBLE_T:
        raise IndexError("a loop over VISIBLE_T steps runs past a shorter sequence")
    return _loop(x, h0, W_x, W_h, b, steps=VISIBLE_T, undetermined_after=VISIBLE_T)


def _inline_step_mistakes():
    """rnn_step_forward's mistakes made inside the loop instead of in a called step: the right
    loop around each mistaken step, so a loop that writes the step inline is named alike."""
    return tuple(
        Mistake(f"step_{key}", "the step inside your loop is wrong: " + message.replace(
            "your h_t", "each state h_t it computes", 1),
            lambda x, h0, W_x, W_h, b, step=step: _loop(x, h0, W_x, W_h, b, step=step))
        for key, message, step in STEP_MISTAKES
        if key != "recurrent_transposed")  # a loop mistake of its own, below


RNN_FORWARD = Exercise(
    name="rnn_forward",
    outputs=("h", "cache"),
    graded=("h",),  # the cache is the student's own business: no later exercise takes it
    reference=forward,
    cases=_forward_cases,
    uses=(RNN_STEP_FORWARD,),
    section="section 3, The whole sequence",
    pointer="Follow the loop of section 3 by hand for two steps: where each step starts from, "
            "and where its state is stored",
    mistakes=(
        Mistake("state_not_carried", "your h is what you get when every step starts from h0: "
                "each new state must be fed back in as the next step's previous state",
                lambda x, h0, W_x, W_h, b: _loop(x, h0, W_x, W_h, b, carry=False)),
        Mistake("time_reversed", "your h is what you get when the sequence is read from its last "
                "step to its first; the recurrence runs forward in time",
                lambda x, h0, W_x, W_h, b: _loop(x, h0, W_x, W_h, b,
                                                   order=lambda T: list(range(T))[::-1])),
        Mistake("state_before_step", "your h is shifted by one step: it holds h_0 ... h_{T-1}, "
                "the state before each step, instead of h_1 ... h_T",
                lambda x, h0, W_x, W_h, b: _loop(x, h0, W_x, W_h, b, keep="before")),
        Mistake("fixed_length", "your loop runs over a fixed number of steps (that of the visible "
                "check) instead of the length of the sequence it is given",
                _fixed_length, undetermined=True),
        Mistake("first_input_only", "your h is what you get when every step reads the first "
                "input; step t reads the input of step t",
                lambda x, h0, W_x, W_h, b: _loop(x, h0, W_x, W_h, b, read=lambda t: 0)),
        Mistake("recurrent_transposed", "your h uses the recurrent weights transposed; the row "
                "layout needs them as given (section 6 explains the difference)",
                lambda x, h0, W_x, W_h, b: _loop(x, h0, W_x, W_h.T, b)),
        Mistake("integer_states", "your h is all zeros where it should hold the states: it was "
                "created with an integer dtype, which truncates every value between -1 and 1",
                lambda x, h0, W_x, W_h, b: _loop(x, h0, W_x, W_h, b, dtype=int)),
        Mistake("last_state_only", "your h holds only the last state; it must hold the states "
                "of every step, one (B, H) slice per step", _last_state_only),
        Mistake("step_arguments_swapped", "your h is what you get when the step is given the "
                "previous state and the input in each other's place",
                lambda x, h0, W_x, W_h, b: _loop(
                    x, h0, W_x, W_h, b, step=lambda x_t, h_prev, W_x, W_h, b: _step(
                        h_prev, x_t, W_x, W_h, b))),
    ) + _inline_step_mistakes(),
    axes=(("h", ("example", "step", "unit")),),
)


# --- rnn_param_count -----------------------------------------------------------------------------


def param_count(D, H):
    return D * H + H * H + H


RNN_PARAM_COUNT = Exercise(
    name="rnn_param_count",
    outputs=("count",),
    reference=param_count,
    cases=lambda: [Case(f"D={D}, H={H}", lambda D=D, H=H: (D, H), rtol=0, atol=0)
                   for D, H in [(32, 64), (3, 7), (5, 2)]],
    section="section 4, The same weights at every step",
    pointer="Count the entries of each array the step uses, from the shapes table of section 1",
    mistakes=(
        Mistake("no_bias", "your count leaves out the bias", lambda D, H: D * H + H * H),
        Mistake("recurrent_as_input", "your count gives the recurrent weights the input weights' "
                "size; they map H units to H units", lambda D, H: 2 * D * H + H),
        Mistake("input_as_recurrent", "your count gives the input weights the recurrent weights' "
                "size; they map D features to H units", lambda D, H: 2 * H * H + H),
        Mistake("bias_per_feature", "your count gives the bias one entry per input feature; it "
                "has one per hidden unit", lambda D, H: D * H + H * H + D),
        Mistake("no_recurrent", "your count leaves out the recurrent weights",
                lambda D, H: D * H + H),
        Mistake("no_input_weights", "your count leaves out the input weights",
                lambda D, H: H * H + H),
    ),
)


# --- MinimalRNNCell (judged through keras.layers.RNN) ------------------------------------------


def cell_sequence(x, W_x, W_h, b):
    """All outputs (B, T, H) of a cell run by keras.layers.RNN from a zero state, in NumPy."""
    return _cell_sequence(x, W_x, W_h, b)


def _cell_sequence(x, W_x, W_h, b, *, step=_step):
    h0 = np.zeros((x.shape[0], W_h.shape[0]), x.dtype)
    return _loop(x, h0, W_x, W_h, b, step=step)[0]


def cell_runner(cell_class):
    """`cell_class` as a function (x, W_x, W_h, b) -> outputs, run inside keras.layers.RNN with
    the given weights set as kernel, recurrent_kernel and bias."""
    import keras

    def run(x, W_x, W_h, b):
        layer = keras.layers.RNN(cell_class(W_h.shape[0]), return_sequences=True)
        layer.build(x.shape)
        layer.set_weights([W_x, W_h, b])
        return np.asarray(layer(x))

    run.__name__ = getattr(cell_class, "__name__", "cell")
    return run


def _cell_cases():
    cases = []
    for seed, (B, T, D, H) in [(21, (1, 1, 4, 2)), (22, (3, 7, 3, 3)), (23, (2, 52, 5, 3))]:
        x, _, W_x, W_h, b = _problem(seed, B, T, D, H, "float32")
        args = (x, W_x, W_h, b)
        cases.append(Case(f"B={B}, T={T}, D={D}, H={H}",
                          lambda args=args: tuple(a.copy() for a in args), rtol=1e-4, atol=1e-5))
    return cases


def _kernels_swapped(x, W_x, W_h, b):
    if W_x.shape[0] != W_h.shape[0]:  # the weights cannot even be set when D != H
        raise ValueError(f"a ({W_x.shape[0]}, {W_x.shape[1]}) kernel does not fit")
    return _cell_sequence(x, W_h, W_x, b)  # inputs meet W_h, states meet W_x


def _cell_mistake(step):
    return lambda x, W_x, W_h, b: _cell_sequence(x, W_x, W_h, b, step=step)


MINIMAL_RNN_CELL = Exercise(
    name="MinimalRNNCell",
    outputs=("outputs",),
    reference=cell_sequence,
    cases=_cell_cases,
    section="section 5, The recurrence as a Keras layer",
    pointer="Compare call with the step you wrote in section 2, weight by weight",
    axes=(("outputs", ("example", "step", "unit")),),
    mistakes=(
        Mistake("sigmoid", "its outputs are what the sigmoid gives; the step squashes with tanh",
                _cell_mistake(lambda x_t, h, W_x, W_h, b: _sigmoid(x_t @ W_x + h @ W_h + b))),
        Mistake("no_activation", "its outputs are the weighted sums before the squashing: tanh is "
                "missing", _cell_mistake(lambda x_t, h, W_x, W_h, b: x_t @ W_x + h @ W_h + b)),
        Mistake("recurrent_transposed", "its outputs use the recurrent kernel transposed",
                _cell_mistake(lambda x_t, h, W_x, W_h, b: np.tanh(x_t @ W_x + h @ W_h.T + b))),
        Mistake("no_bias", "its outputs leave out the bias",
                _cell_mistake(lambda x_t, h, W_x, W_h, b: np.tanh(x_t @ W_x + h @ W_h))),
        Mistake("no_recurrence", "its outputs ignore the previous state passed in `states`",
                _cell_mistake(lambda x_t, h, W_x, W_h, b: np.tanh(x_t @ W_x + b))),
        Mistake("kernels_swapped", "its outputs use the input kernel and the recurrent kernel in "
                "each other's place (created in another order, or swapped in call)",
                _kernels_swapped),
    ),
)


# --- to_column_layout -----------------------------------------------------------------------------


def column_layout(kernel, recurrent_kernel):
    return _transposed(kernel), _transposed(recurrent_kernel)


def _transposed(matrix):
    return matrix.T


def _column_cases():
    cases = []
    for seed, (D, H) in [(31, (3, 4)), (32, (3, 3))]:
        r = case_rng(seed)
        args = (r.normal(size=(D, H)), np.triu(r.normal(size=(H, H))))
        cases.append(Case(f"D={D}, H={H}", lambda args=args: tuple(a.copy() for a in args)))
    return cases


TO_COLUMN_LAYOUT = Exercise(
    name="to_column_layout",
    outputs=("W_x", "W_h"),
    reference=column_layout,
    cases=_column_cases,
    section="section 6, Rows and columns",
    pointer="Write the column equation for one example and transpose it, as section 6 does",
    mistakes=(
        Mistake("unchanged", "it returns Keras's matrices unchanged; the column layout is their "
                "transpose", lambda k, r: (k, r)),
        Mistake("recurrent_unchanged", "it transposes the input kernel but not the recurrent "
                "kernel; both need it", lambda k, r: (k.T, r)),
        Mistake("input_unchanged", "it transposes the recurrent kernel but not the input kernel; "
                "both need it", lambda k, r: (k, r.T)),
        Mistake("swapped", "it returns the two matrices in each other's place",
                lambda k, r: (r.T, k.T)),
        Mistake("inverse", "it inverts the recurrent kernel; changing layout only transposes",
                lambda k, r: (k.T, np.linalg.pinv(r))),
    ),
)

EXERCISES = (RNN_STEP_FORWARD, RNN_FORWARD, RNN_PARAM_COUNT, MINIMAL_RNN_CELL, TO_COLUMN_LAYOUT)
