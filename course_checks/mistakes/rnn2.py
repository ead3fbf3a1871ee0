"""The mistakes students make in assignment 2 (backpropagation through time), each as a mutant of
the right function, for the hidden tests of course/source/rnn2_bptt to name.

Row layout: the forward step is z_t = x_t W_x + h_prev W_h + b, h_t = tanh(z_t).
"""

from __future__ import annotations

import numpy as np

from course_checks.draws import case_rng
from course_checks.mistakes.diagnosis import Case, Exercise, Mistake
from course_checks.mistakes.rnn1 import _loop as _forward_loop
from course_checks.mistakes.rnn1 import _problem

# --- rnn_step_backward ----------------------------------------------------------------------------


def step_backward(dh_t, x_t, h_prev, h_t, W_x, W_h):
    """The right step backwards. The mutants call `_step` and `_loop` instead of the right
    functions themselves, which a check forbids while the function it judges runs."""
    return _step(dh_t, x_t, h_prev, h_t, W_x, W_h)


def _step(dh_t, x_t, h_prev, h_t, W_x, W_h, *, slope=None, recurrent=None, inputs=None,
          weights_from=None, transpose_dW=False, bias=None, extra=None):
    """One step backwards, with the knobs its mistakes turn (each None is the right choice)."""
    local = slope(h_t, h_prev) if slope else 1.0 - h_t**2  # tanh'(z_t), (B, H)
    dz_t = dh_t * local  # (B, H)
    dx_t = dz_t @ (inputs(W_x) if inputs else W_x.T)  # (B, D)
    dh_prev = dz_t @ (recurrent(W_h) if recurrent else W_h.T)  # (B, H)
    if extra:
        dh_prev = dh_prev * extra(h_prev)
    dW_x = (dz_t.T @ x_t) if transpose_dW else x_t.T @ dz_t  # (D, H)
    state = weights_from(h_prev, h_t) if weights_from else h_prev
    dW_h = (dz_t.T @ state) if transpose_dW else state.T @ dz_t  # (H, H)
    db = bias(dz_t) if bias else dz_t.sum(axis=0)  # (H,)
    return dx_t, dh_prev, dW_x, dW_h, db


def _step_args(seed, B, D, H, dtype):
    x, h_prev, W_x, W_h, b = _problem(seed, B, 1, D, H, dtype)
    x_t = x[:, 0]
    h_t = np.tanh(x_t @ W_x + h_prev @ W_h + b)
    dh_t = case_rng(seed + 100).normal(size=(B, H)).astype(dtype)
    return dh_t, x_t, h_prev, h_t, W_x, W_h


def _step_cases():
    cases = []
    for seed, (B, D, H), dtype in [(41, (3, 2, 4), "float64"), (42, (1, 3, 2), "float64"),
                                   (43, (1, 3, 2), "float32"), (44, (2, 4, 4), "float64"),
                                   (45, (5, 1, 3), "float32")]:
        args = _step_args(seed, B, D, H, dtype)
        tolerance = ({"rtol": 1e-3, "atol": 1e-4} if dtype == "float32"
                     else {"rtol": 1e-7, "atol": 1e-10})
        cases.append(Case(f"B={B}, D={D}, H={H}, {dtype}",
                          lambda args=args: tuple(a.copy() for a in args), **tolerance))
    return cases


def _mutant(**knobs):
    return lambda dh_t, x_t, h_prev, h_t, W_x, W_h: _step(dh_t, x_t, h_prev, h_t, W_x, W_h, **knobs)


STEP_MISTAKES = (
        Mistake("no_tanh_derivative", "your gradients are what you get when the tanh derivative is "
                "left out: the gradient must pass through tanh before the products",
                _mutant(slope=lambda h_t, h_prev: 1.0)),
        Mistake("derivative_at_h_prev", "your gradients take the tanh derivative at the previous "
                "state; it belongs to this step's own output h_t",
                _mutant(slope=lambda h_t, h_prev: 1.0 - h_prev**2)),
        Mistake("derivative_not_squared", "your gradients use one minus the state as tanh's "
                "derivative; the derivative of tanh is one minus its output squared",
                _mutant(slope=lambda h_t, h_prev: 1.0 - h_t)),
        Mistake("derivative_of_tanh_again", "your gradients apply tanh to the state again before "
                "taking the derivative; h_t already is the tanh of z_t",
                _mutant(slope=lambda h_t, h_prev: 1.0 - np.tanh(h_t) ** 2)),
        Mistake("recurrent_not_transposed", "your dh_prev multiplies by the recurrent weights as "
                "they are; going backwards through a product needs their transpose",
                _mutant(recurrent=lambda W_h: W_h)),
        Mistake("input_not_transposed", "your dx_t multiplies by the input weights as they are; "
                "going backwards through a product needs their transpose",
                _mutant(inputs=lambda W_x: W_x)),
        Mistake("dW_h_from_h_t", "your dW_h uses this step's output h_t; the recurrent weights "
                "multiplied the previous state", _mutant(weights_from=lambda h_prev, h_t: h_t)),
        Mistake("weight_gradients_transposed", "your weight gradients come out transposed: each "
                "must have its weight's own shape and layout", _mutant(transpose_dW=True)),
        Mistake("bias_mean", "your db averages over the batch; every example adds its share, so "
                "it is a sum", _mutant(bias=lambda dz: dz.mean(axis=0))),
        Mistake("bias_wrong_axis", "your db sums over the hidden units instead of over the batch",
                _mutant(bias=lambda dz: dz.sum(axis=1))),
        Mistake("bias_not_summed", "your db keeps one row per example; every example adds its "
                "share, so it is a sum over the batch", _mutant(bias=lambda dz: dz)),
        Mistake("derivative_applied_to_dh_prev", "your dh_prev is multiplied by the tanh "
                "derivative of the previous state: that factor belongs to the previous step's "
                "own backward pass", _mutant(extra=lambda h_prev: 1.0 - h_prev**2)),
)


RNN_STEP_BACKWARD = Exercise(
    name="rnn_step_backward",
    outputs=("dx_t", "dh_prev", "dW_x", "dW_h", "db"),
    reference=step_backward,
    cases=_step_cases,
    section="section 1, One step backwards",
    pointer="Take the gradient through tanh first, then through each product, and check every "
            "result's shape against the docstring",
    mistakes=STEP_MISTAKES,
)


# --- rnn_backward ---------------------------------------------------------------------------------


def backward(dh, x, h0, h, W_x, W_h):
    """The right backward pass through time."""
    return _loop(dh, x, h0, h, W_x, W_h)


def _loop(dh, x, h0, h, W_x, W_h, *, step=_step, carry=True, accumulate=True,
             forward_in_time=False, wrap_h0=False, direct_last_only=False, states_swapped=False,
             average=False, dx_last_only=False, dh0_before_step=False):
    """BPTT with the knobs its mistakes turn (the defaults are right)."""
    B, T, D = x.shape
    H = h0.shape[1]
    dx = np.zeros((B, T, D))  # (B, T, D)
    dW_x, dW_h, db = np.zeros((D, H)), np.zeros((H, H)), np.zeros(H)
    dh_next = np.zeros((B, H))  # the gradient reaching h_t through step t+1
    dh0_early = None
    for t in (range(T) if forward_in_time else reversed(range(T))):
        h_prev = h[:, t - 1] if (t > 0 or wrap_h0) else h0  # (B, H)
        if direct_last_only and t < T - 1:
            total = dh_next
        else:
            total = dh[:, t] + (dh_next if carry else 0.0)  # (B, H)
        if t == 0:
            dh0_early = total
        h_t = h[:, t]
        dx_t, dh_next, dW_x_t, dW_h_t, db_t = (
            step(total, x[:, t], h_t, h_prev, W_x, W_h) if states_swapped
            else step(total, x[:, t], h_prev, h_t, W_x, W_h))
        dx[:, t] = dx_t
        if accumulate:
            dW_x, dW_h, db = dW_x + dW_x_t, dW_h + dW_h_t, db + db_t
        else:
            dW_x, dW_h, db = dW_x_t, dW_h_t, db_t
    if average:
        dW_x, dW_h, db = dW_x / T, dW_h / T, db / T
    dh0 = dh0_early if dh0_before_step else dh_next
    return (dx_t if dx_last_only else dx), dh0, dW_x, dW_h, db


def _backward_args(seed, B, T, D, H, dtype, last_only):
    x, h0, W_x, W_h, b = _problem(seed, B, T, D, H, dtype)
    h, _ = _forward_loop(x, h0, W_x, W_h, b)
    dh = case_rng(seed + 100).normal(size=(B, T, H)).astype(dtype)
    if last_only:  # a loss on h_T only: every earlier gradient comes through the recurrence
        dh[:, :-1] = 0
    return dh, x, h0, h, W_x, W_h


def _backward_cases():
    cases = []
    for seed, (B, T, D, H), dtype, last_only in [
            (51, (3, 7, 2, 5), "float64", False), (52, (1, 1, 3, 2), "float64", False),
            (53, (1, 1, 3, 2), "float32", False), (54, (2, 6, 4, 4), "float64", True),
            (55, (2, 5, 3, 4), "float32", False)]:
        args = _backward_args(seed, B, T, D, H, dtype, last_only)
        tolerance = ({"rtol": 1e-3, "atol": 1e-4} if dtype == "float32"
                     else {"rtol": 1e-7, "atol": 1e-10})
        label = (f"B={B}, T={T}, D={D}, H={H}, {dtype}"
                 + (", a loss on h_T only" if last_only else ""))
        cases.append(Case(label, lambda args=args: tuple(a.copy() for a in args), **tolerance))
    return cases


def _bptt(**knobs):
    return lambda dh, x, h0, h, W_x, W_h: _loop(dh, x, h0, h, W_x, W_h, **knobs)


def _inline_step_mistakes():
    """rnn_step_backward's mistakes made inside the loop instead of in a called step: the right
    loop around each mistaken step, so a loop that writes the step inline is named alike."""
    return tuple(
        Mistake(f"step_{m.key}", "the step inside your loop is wrong: " + m.message,
                _bptt(step=m.mutant))
        for m in STEP_MISTAKES)


RNN_BACKWARD = Exercise(
    name="rnn_backward",
    outputs=("dx", "dh0", "dW_x", "dW_h", "db"),
    reference=backward,
    cases=_backward_cases,
    uses=(RNN_STEP_BACKWARD,),
    section="section 2, Backpropagation through time",
    pointer="Walk section 2's loop by hand for T = 2: what reaches each state, and what each "
            "weight's gradient collects",
    mistakes=(
        Mistake("no_carry", "your gradients are what you get when each step sees only its direct "
                "gradient: the gradient flowing back from step t+1 must be added to it",
                _bptt(carry=False)),
        Mistake("no_accumulation", "your weight gradients keep only one step's share: the weights "
                "are shared by every step, so their gradients add up every step's share",
                _bptt(accumulate=False)),
        Mistake("forward_in_time", "your loop runs forward in time; the gradient of a state needs "
                "the gradients of the later states first, so BPTT walks from the last step back",
                _bptt(forward_in_time=True)),
        Mistake("wrapped_h0", "your first step uses the last state as its previous state (an index "
                "of -1 wraps around); the state before the first step is h0", _bptt(wrap_h0=True)),
        Mistake("direct_gradient_dropped", "your gradients drop each step's direct gradient except "
                "at the last step: the total gradient at a step is its direct gradient plus what "
                "flows back", _bptt(direct_last_only=True)),
        Mistake("states_swapped", "your loop hands the step the current and the previous state in "
                "each other's place", _bptt(states_swapped=True)),
        Mistake("averaged", "your weight gradients are averaged over time; the loss adds every "
                "step's share, so they are sums", _bptt(average=True)),
        Mistake("dx_one_step", "your dx holds one step; it must hold the gradient of every input "
                "step", _bptt(dx_last_only=True)),
        Mistake("dh0_before_first_step", "your dh0 is the gradient reaching h_1; the gradient of "
                "h0 is what flows out of the first step's backward pass",
                _bptt(dh0_before_step=True)),
    ) + _inline_step_mistakes(),
    axes=(("dx", ("example", "step", "feature")),),
    backward_in_time=True,
)


# --- jacobian_norms -------------------------------------------------------------------------------


def jacobian_norms(h, W_h):
    """The right norms."""
    return _jacobian(h, W_h)


def _jacobian(h, W_h, *, factor=None, left=False, norm=None, accumulate=True, reverse=False):
    """||dh_T/dh_{T-d}||_2 for d = 0 ... T-1, (B, T), with the knobs its mistakes turn."""
    B, T, H = h.shape
    product = np.broadcast_to(np.eye(H), (B, H, H))  # dh_T/dh_T
    norms = np.ones((B, T))
    for d in range(1, T):
        t = T - d  # the factor J_{t+1} = dh_{t+1}/dh_t comes from h_{t+1} = h[:, t]
        J = factor(h, t, W_h) if factor else (1.0 - h[:, t] ** 2)[:, :, None] * W_h.T  # (B, H, H)
        product = (J @ product if left else product @ J) if accumulate else J
        norms[:, d] = (norm(product) if norm else np.linalg.norm(product, ord=2, axis=(1, 2)))
    return norms[:, ::-1] if reverse else norms


def _jacobian_cases():
    cases = []
    for seed, (B, T, D, H), dtype in [(61, (2, 6, 3, 4), "float64"), (62, (1, 1, 2, 3), "float64"),
                                      (63, (1, 9, 2, 5), "float64"), (64, (2, 7, 4, 3), "float32")]:
        x, h0, W_x, W_h, b = _problem(seed, B, T, D, H, dtype)
        W_h = W_h * 1.5  # norms neither vanish nor saturate within a few steps
        h, _ = _forward_loop(x, h0, W_x, W_h, b * 0.2)
        args = (h, W_h)
        tolerance = ({"rtol": 1e-4, "atol": 1e-6} if dtype == "float32"
                     else {"rtol": 1e-7, "atol": 1e-12})
        cases.append(Case(f"B={B}, T={T}, H={H}, {dtype}",
                          lambda args=args: tuple(a.copy() for a in args), **tolerance))
    return cases


def _jn(**knobs):
    return lambda h, W_h: _jacobian(h, W_h, **knobs)


JACOBIAN_NORMS = Exercise(
    name="jacobian_norms",
    outputs=("norms",),
    reference=jacobian_norms,
    cases=_jacobian_cases,
    section="section 3, How far back does the gradient reach?",
    pointer="Write out the product for d = 1 and d = 2 by hand: which state each factor's tanh "
            "slope comes from, and on which side each new factor goes",
    mistakes=(
        Mistake("recurrent_not_transposed", "your norms use the recurrent weights untransposed; in "
                "the row layout the one-step Jacobian holds their transpose",
                _jn(factor=lambda h, t, W_h: (1.0 - h[:, t] ** 2)[:, :, None] * W_h)),
        Mistake("no_tanh_derivative", "your norms leave out the tanh derivative in each factor",
                _jn(factor=lambda h, t, W_h: np.broadcast_to(W_h.T, (h.shape[0],) + W_h.shape))),
        Mistake("slope_one_step_early", "your norms take each factor's tanh slope from the state "
                "one step too early; the factor of step t+1 uses h_{t+1}",
                _jn(factor=lambda h, t, W_h: (1.0 - h[:, t - 1] ** 2)[:, :, None] * W_h.T)),
        Mistake("multiplied_on_the_left", "your norms multiply each new factor on the wrong side: "
                "the factors of later steps stand to the left", _jn(left=True)),
        Mistake("frobenius", "your norms are Frobenius norms; the exercise asks for the spectral "
                "norm (the largest singular value)",
                _jn(norm=lambda m: np.linalg.norm(m, ord="fro", axis=(1, 2)))),
        Mistake("one_factor_only", "your norms measure a single factor at each distance instead "
                "of the product of all the factors in between", _jn(accumulate=False)),
        Mistake("indexed_by_step", "your norms are listed by the early state's step instead of by "
                "the distance d from the last state", _jn(reverse=True)),
    ),
)


# --- tanh_slope ---------------------------------------------------------------------------------


def tanh_slope(h):
    return 1.0 - np.asarray(h) ** 2


TANH_SLOPE = Exercise(
    name="tanh_slope",
    outputs=("slope",),
    reference=tanh_slope,
    cases=lambda: [
        Case("h = tanh(z) for z from -6 to 6", lambda: (np.tanh(np.linspace(-6.0, 6.0, 25)),),
             rtol=1e-9, atol=1e-12),
        Case("a (2, 3) float32 array",
             lambda: (np.tanh(np.linspace(-2, 2, 6, dtype="float32")).reshape(2, 3),),
             rtol=1e-5, atol=1e-6)],
    section="section 4, Saturation",
    pointer="Differentiate tanh and write the result in terms of tanh itself",
    mistakes=(
        Mistake("not_squared", "your slope is one minus h; the derivative of tanh is one minus "
                "its output squared", lambda h: 1.0 - np.asarray(h)),
        Mistake("tanh_again", "your slope applies tanh to h again; h already is tanh(z)",
                lambda h: 1.0 - np.tanh(np.asarray(h)) ** 2),
        Mistake("sign_flipped", "your slope has the wrong sign",
                lambda h: np.asarray(h) ** 2 - 1.0),
        Mistake("square_only", "your slope is h squared; it is one minus that",
                lambda h: np.asarray(h) ** 2),
        Mistake("doubled", "your slope is the derivative of h squared; the question is the "
                "derivative of tanh", lambda h: 2.0 * np.asarray(h)),
    ),
)

EXERCISES = (RNN_STEP_BACKWARD, RNN_BACKWARD, JACOBIAN_NORMS, TANH_SLOPE)
