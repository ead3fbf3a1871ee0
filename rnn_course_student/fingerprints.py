"""Naming a catalogued mistake while you work: your function runs on fixed public inputs, its
outputs are rounded and hashed, and the hash is looked up among the fingerprints of the mistakes
students make (built by the course's instructors from their catalogue).

A fingerprint is one-way: it says "this output is that mistake" for an output you already
computed, and nothing here gives an output, a right answer or a way to search for one (the
right function's own fingerprint is not kept). A function that matches no fingerprint is not
thereby right or wrong: the checks decide that.

    from rnn_course_student.fingerprints import name_mistake
    name_mistake("rnn_forward", rnn_forward)  # "rnn_forward: your h is what you get when ..."
                                              # or None
"""

from __future__ import annotations

import hashlib
from typing import Callable

import numpy as np

DECIMALS = 3  # the grid values are rounded to


def _uniform_states(r, shape):
    return r.uniform(-0.9, 0.9, size=shape)  # values a tanh state can take


def inputs(exercise: str) -> tuple:
    """The fixed public inputs an exercise's function is fingerprinted on (fresh copies)."""
    r = np.random.default_rng(sum(map(ord, exercise)))
    if exercise == "rnn_step_forward":  # x_t, h_prev, W_x, W_h, b: B=2, D=3, H=4
        return (r.normal(size=(2, 3)), r.normal(size=(2, 4)) * 0.5, r.normal(size=(3, 4)) * 0.7,
                np.triu(r.normal(size=(4, 4))) * 0.6, r.normal(size=4) * 0.5)
    if exercise == "rnn_forward":  # x, h0, W_x, W_h, b: B=1, T=4, D=2, H=3
        return (r.normal(size=(1, 4, 2)), r.normal(size=(1, 3)) * 0.5, r.normal(size=(2, 3)) * 0.7,
                np.triu(r.normal(size=(3, 3))) * 0.6, r.normal(size=3) * 0.5)
    if exercise == "to_column_layout":  # kernel (D, H), recurrent_kernel (H, H)
        return r.normal(size=(2, 3)), np.triu(r.normal(size=(3, 3)))
    if exercise == "rnn_step_backward":  # dh_t, x_t, h_prev, h_t, W_x, W_h: B=2, D=2, H=3
        return (r.normal(size=(2, 3)), r.normal(size=(2, 2)), _uniform_states(r, (2, 3)),
                _uniform_states(r, (2, 3)), r.normal(size=(2, 3)) * 0.7,
                np.triu(r.normal(size=(3, 3))) * 0.6)
    if exercise == "rnn_backward":  # dh, x, h0, h, W_x, W_h: B=1, T=3, D=2, H=3
        return (r.normal(size=(1, 3, 3)), r.normal(size=(1, 3, 2)), _uniform_states(r, (1, 3)),
                _uniform_states(r, (1, 3, 3)), r.normal(size=(2, 3)) * 0.7,
                np.triu(r.normal(size=(3, 3))) * 0.6)
    if exercise == "jacobian_norms":  # h (B, T, H), W_h: B=1, T=4, H=3
        return _uniform_states(r, (1, 4, 3)), np.triu(r.normal(size=(3, 3)))
    if exercise == "clip_by_global_norm":  # grads (one None, one below the threshold), max_norm
        grads = [r.normal(size=(2, 3)) * 1.5, None, r.normal(size=3) * 0.3, r.normal(size=(1, 1))]
        return grads, 2.0
    if exercise == "tanh_slope":
        return (np.linspace(-0.95, 0.95, 9),)
    raise KeyError(f"no fingerprints for {exercise!r}")


def fingerprint(exercise: str, values, spec: dict) -> str:
    """The salted SHA-256 of `values` (a list of arrays), each rounded to the spec's grid."""
    digest = hashlib.sha256(f"{spec['salt']}:{exercise}".encode())
    for value in values:
        array = np.asarray(value, dtype=np.float64)
        digest.update(repr(array.shape).encode())
        grid = np.floor(array * 10.0 ** spec["decimals"] + spec["offset"] + 0.5).astype(np.int64)
        digest.update(grid.tobytes())
    return digest.hexdigest()


def name_mistake(exercise: str, function: Callable, *,
                 graded: tuple[int, ...] = (0,)) -> str | None:
    """The catalogued mistake `function` makes, in words, or None when its outputs on the fixed
    inputs match no fingerprint (or it raises, or returns something that is not numbers).

    Args:
        exercise: the exercise's name (`"rnn_forward"`).
        function: the student's function.
        graded: which of the values it returns are fingerprinted, for an exercise that
            `GRADED` does not list.
    """
    spec = TABLE.get(exercise)
    if spec is None:
        return None
    try:
        values = fingerprinted(exercise, function(*inputs(exercise)), graded)
    except Exception:  # a failing function is for the checks to describe
        return None
    if not all(np.all(np.isfinite(v)) for v in values):
        return None
    return spec["mistakes"].get(fingerprint(exercise, values, spec))


def fingerprinted(exercise: str, result, graded: tuple[int, ...] = (0,)) -> list:
    """The values of `result` (what the exercise's function returned) that are fingerprinted, as
    float64 arrays: its graded outputs, a list output entry by entry (a None entry as an empty
    array, so that leaving it out or moving it changes the fingerprint)."""
    single = not isinstance(result, (tuple, list)) or exercise in SINGLE
    result = [result] if single else list(result)
    values = []
    for i in GRADED.get(exercise, graded):
        if i in LISTS.get(exercise, ()):
            values += [np.empty(0) if v is None else np.asarray(v, dtype=np.float64)
                       for v in result[i]]
        else:
            values.append(np.asarray(result[i], dtype=np.float64))
    return values


# Which returned values are fingerprinted: rnn_forward's cache is the student's own business.
GRADED = {"rnn_step_forward": (0,), "rnn_forward": (0,), "to_column_layout": (0, 1),
          "rnn_step_backward": (0, 1, 2, 3, 4), "rnn_backward": (0, 1, 2, 3, 4),
          "jacobian_norms": (0,), "tanh_slope": (0,), "clip_by_global_norm": (0, 1)}
SINGLE = {"rnn_step_forward", "jacobian_norms", "tanh_slope"}  # functions returning one array
LISTS = {"clip_by_global_norm": (0,)}  # outputs that are lists of arrays

BEGIN = "# --- generated by python -m course_checks.mistakes.kit_fingerprints: do not edit ---"
END = "# --- end of the generated table ---"
# --- generated by python -m course_checks.mistakes.kit_fingerprints: do not edit ---
TABLE = {
    "clip_by_global_norm": {
        "decimals": 3,
        "offset": 0.8865979381443299,
        "salt": "f1d5fcd1e4ecc333",
        "mistakes": {
            "0e8ffb0a449d2f02ff464550d080ca1aa00a9268cf1ce2828c82135c29a789d0": (
                "clip_by_global_norm: your factor is upside down: clipping multiplies by the "
                "threshold over the norm, which is at most 1."
            ),
            "19c055264130dc1b93103d8a6371b6d758a1e72c7aedcaaa8be0d0a4f89478f1": (
                "clip_by_global_norm: your clipped gradients are each clipped to their own norm; "
                "global clipping scales all of them by one factor, from one norm over all of "
                "them."
            ),
            "269bd2d45ec77cd5f6a3eda5c81efe9c9a70250454c75f6014c422931d94eaed": (
                "clip_by_global_norm: your clipped gradients cut each entry to the range from "
                "minus the threshold to the threshold; clipping by norm scales whole gradients "
                "instead."
            ),
            "2bd0ba83e00eed9964c60e689f82bd776e00fba8e94f03897b328d3dc2c09ff4": (
                "clip_by_global_norm: your global norm adds up the norms of the gradients; it is "
                "the square root of the sum of all their squared entries."
            ),
            "3015733df5c0b0d899d5c557099098ab3ec58be6cad81b8cc2a8804d58ad70fe": (
                "clip_by_global_norm: your clipped list leaves out the None entries; each must "
                "stay None in its place."
            ),
            "5497d71861ac802ce9d89589a4c1ae3ca4e3497b4852e6d596d626151c670dd7": (
                "clip_by_global_norm: your global norm is the largest of the gradients' own "
                "norms; it takes all of their entries together."
            ),
            "5fbb41f6188e7cfcac3f6d106e6822fd24432211582b44eff6e9b89078b38fec": (
                "clip_by_global_norm: your global_norm is the norm after clipping; the function "
                "returns the norm before clipping."
            ),
            "f35df65c6d09c9cf7dfc14b6f0b663622428bbd1d35370c077f80a58d3ed8ae6": (
                "clip_by_global_norm: your global norm is the sum of the squares without the "
                "square root."
            ),
        },
    },
    "jacobian_norms": {
        "decimals": 3,
        "offset": 0.20618556701030927,
        "salt": "f1d5fcd1e4ecc333",
        "mistakes": {
            "34ce2cabd3e208e81d305c787fb74804f72933a41533143065185bead76bea71": (
                "jacobian_norms: your norms are listed by the early state's step instead of by "
                "the distance d from the last state."
            ),
            "59182fea0a12a3ba81374afb1b59beedd34017cf81117539afd582bac38ad368": (
                "jacobian_norms: your norms multiply each new factor on the wrong side: the "
                "factors of later steps stand to the left."
            ),
            "6f58712813c981a8745201731cc39d801ca6acff16c7f3916abefe9b224a6e6c": (
                "jacobian_norms: your norms leave out the tanh derivative in each factor."
            ),
            "7be05fc5ae756fafe8ad8a611ad3f0bae43de203daee1e7954f5db76e97235ef": (
                "jacobian_norms: your norms measure a single factor at each distance instead of "
                "the product of all the factors in between."
            ),
            "b46594a910948333eedf352d43367c50220644c61c25bbe35f4a42808e6b7087": (
                "jacobian_norms: your norms are Frobenius norms; the exercise asks for the "
                "spectral norm (the largest singular value)."
            ),
            "b5983dd3c9e68dde3f9d816c849814ae322ee75c357f3022d5056062ff1a89e2": (
                "jacobian_norms: your norms take each factor's tanh slope from the state one "
                "step too early; the factor of step t+1 uses h_{t+1}."
            ),
            "c1bf9cc512a98faa44c6d7177a8057b24eb93b48f11c637584c9d4fbc4e83305": (
                "jacobian_norms: your norms use the recurrent weights untransposed; in the row "
                "layout the one-step Jacobian holds their transpose."
            ),
        },
    },
    "rnn_backward": {
        "decimals": 3,
        "offset": 0.10309278350515463,
        "salt": "f1d5fcd1e4ecc333",
        "mistakes": {
            "3e73264a7cb34687af62375914e4b80228632b5a44241fa5900154df093216de": (
                "rnn_backward: the step inside your loop is wrong: your db sums over the hidden "
                "units instead of over the batch."
            ),
            "47db1ef312e36ce053990a46b98eada7eba65cded15723521a6130150ceab065": (
                "rnn_backward: the step inside your loop is wrong: your gradients use one minus "
                "the state as tanh's derivative; the derivative of tanh is one minus its output "
                "squared."
            ),
            "535e6fe6903d5188bf64419f6cccc5ac54e80226c6057042ba5bf05d823949a3": (
                "rnn_backward: the step inside your loop is wrong: your db keeps one row per "
                "example; every example adds its share, so it is a sum over the batch."
            ),
            "69b78787a79ce545ff4f0ee4b3b938ea158779a0a036dd4566513fbbedeae065": (
                "rnn_backward: the step inside your loop is wrong: your gradients are what you "
                "get when the tanh derivative is left out: the gradient must pass through tanh "
                "before the products."
            ),
            "70b55e0259b69a7d7da656d845ee48ba389ef130aeb57b7b8f3e6d6a430d5cf6": (
                "rnn_backward: the step inside your loop is wrong: your dh_prev is multiplied by "
                "the tanh derivative of the previous state: that factor belongs to the previous "
                "step's own backward pass."
            ),
            "73dd52cdd99cbfae8a8cb6ee2f78f48c754736dc6d5d99eb68bebba527fdad6c": (
                "rnn_backward: your gradients are what you get when each step sees only its "
                "direct gradient: the gradient flowing back from step t+1 must be added to it."
            ),
            "7e851d046aa9470b1e6b8c123a3c6e12a0ad256e5e4a0f1eb990e6144a380392": (
                "rnn_backward: the step inside your loop is wrong: your dW_h uses this step's "
                "output h_t; the recurrent weights multiplied the previous state."
            ),
            "7fc548b2688a6462421dd24b883bd23c4c78ba7d97ae3a5b383bd8311bc8633d": (
                "rnn_backward: your dh0 is the gradient reaching h_1; the gradient of h0 is what "
                "flows out of the first step's backward pass."
            ),
            "9b18e7dc423f6042d6647cef8f48b1f79e751ef247773c62314f7122951277eb": (
                "rnn_backward: the step inside your loop is wrong: your dh_prev multiplies by "
                "the recurrent weights as they are; going backwards through a product needs "
                "their transpose."
            ),
            "9f97daa2980999378308425083e82424195fe725717fb489791eb49d29c97777": (
                "rnn_backward: the step inside your loop is wrong: your gradients apply tanh to "
                "the state again before taking the derivative; h_t already is the tanh of z_t."
            ),
            "a3459ca6af324dda92a7cae6e9fceb4cd28acf3327e82d41c500d724cc5a9a76": (
                "rnn_backward: your loop runs forward in time; the gradient of a state needs the "
                "gradients of the later states first, so BPTT walks from the last step back."
            ),
            "ab1928f43adf20c32fd1376c18f066ce9a9e1a2836f6386cf0384946ec0030b8": (
                "rnn_backward: your weight gradients are averaged over time; the loss adds every "
                "step's share, so they are sums."
            ),
            "d08ec25662b8ad70ca64a862927bd30113485cda07c10282bd0c7c348c119c23": (
                "rnn_backward: your first step uses the last state as its previous state (an "
                "index of -1 wraps around); the state before the first step is h0."
            ),
            "d35c929cd77d07c91690c88fd1d5b3c50bc4fa9640ec8a4283f13c28a8b64a4e": (
                "rnn_backward: the step inside your loop is wrong: your gradients take the tanh "
                "derivative at the previous state; it belongs to this step's own output h_t."
            ),
            "ebe48ee0348cf15f3c250e9ca139342e1564e60bfe461183f8f6e3941c0f2e49": (
                "rnn_backward: your gradients drop each step's direct gradient except at the "
                "last step: the total gradient at a step is its direct gradient plus what flows "
                "back."
            ),
            "ef507049c807e2556bd0468919598ff2505ee8dedabaf3beb14e76eecce62169": (
                "rnn_backward: your weight gradients keep only one step's share: the weights are "
                "shared by every step, so their gradients add up every step's share."
            ),
            "f70513cf38fb9819fb64b412f5b9437107af26354679e24639ff2c87d5a5f3f6": (
                "rnn_backward: your dx holds one step; it must hold the gradient of every input "
                "step."
            ),
            "fccc29b22ae1cc17aa37973b62ffb8feb3831955f701f4d3a1e14063bbad77f6": (
                "rnn_backward: your loop hands the step the current and the previous state in "
                "each other's place."
            ),
        },
    },
    "rnn_forward": {
        "decimals": 3,
        "offset": 0.24742268041237114,
        "salt": "f1d5fcd1e4ecc333",
        "mistakes": {
            "1f9eb868b60237382b4afeb368cc3a5271923c8743009b35761f469f7839a9c3": (
                "rnn_forward: the step inside your loop is wrong: each state h_t it computes "
                "ignores the previous state h_prev."
            ),
            "23bd102df54cbe6431746c9c0070724de878875b3382f3705d98ffb9b4928468": (
                "rnn_forward: the step inside your loop is wrong: each state h_t it computes is "
                "the weighted sum before the squashing: tanh is missing."
            ),
            "2b6c55fd02d59d0f48ba4b85dc0763e9445a8d75ba664aeb6a443d5906882bf2": (
                "rnn_forward: the step inside your loop is wrong: each state h_t it computes "
                "adds the bias after the squashing instead of before."
            ),
            "403471db8a73533662b81556cb003e8914422e779aa332719b234222ddf09ce3": (
                "rnn_forward: the step inside your loop is wrong: each state h_t it computes has "
                "tanh applied twice."
            ),
            "6aecc1d150eb5135a30e2090313c8a50e33a04b58f57f80aceeeafe608b439b8": (
                "rnn_forward: your h holds only the last state; it must hold the states of every "
                "step, one (B, H) slice per step."
            ),
            "71f67aefbd8b7291886d4a504ac25d9d9ec1fba00945aafc2a17d0501ad9f150": (
                "rnn_forward: your h is what you get when the sequence is read from its last "
                "step to its first; the recurrence runs forward in time."
            ),
            "795f5b17c8bb4e9b2362b36f9e8ad82c862a41b3fee1d99d3bd9321f10526470": (
                "rnn_forward: your h uses the recurrent weights transposed; the row layout needs "
                "them as given (section 6 explains the difference)."
            ),
            "9ff151c96cf45b663ac9ce77a2d516343b84718371338635bd069f73c86ed522": (
                "rnn_forward: the step inside your loop is wrong: each state h_t it computes "
                "leaves out the bias."
            ),
            "a463d34025f14ff41483268d37319e3ca9d9741b521c2556c81f488355505759": (
                "rnn_forward: your h is what you get when every step reads the first input; step "
                "t reads the input of step t."
            ),
            "b48ed1d05424c0da1cf46414e8833a673e896f98afc44246efae15b43e16459f": (
                "rnn_forward: your h is all zeros where it should hold the states: it was "
                "created with an integer dtype, which truncates every value between -1 and 1."
            ),
            "bbba5c67bcf7e9dc6115cc38764d390ee43f374722937347ac44c4c14ee11f32": (
                "rnn_forward: your h is what you get when every step starts from h0: each new "
                "state must be fed back in as the next step's previous state."
            ),
            "bd87f3f5a23cced1a438a078d815babfba83f83518fe363c18ea301d60209884": (
                "rnn_forward: your h is shifted by one step: it holds h_0 ... h_{T-1}, the state "
                "before each step, instead of h_1 ... h_T."
            ),
            "c3795fd5a95933a77e3df56681fe4b3b40c8e509ad6e5db6528e1761d975850b": (
                "rnn_forward: the step inside your loop is wrong: each state h_t it computes "
                "ignores the input x_t."
            ),
            "de9370d6608f4fc967341afac313ac6cb3d3cf4219102ff69d056804526af244": (
                "rnn_forward: the step inside your loop is wrong: each state h_t it computes is "
                "what a ReLU gives; the step squashes with tanh."
            ),
            "e0b5ce89293e633141fbbe8f7d3a505ab2f34c7f8d2ffa0c206e8343868b8633": (
                "rnn_forward: the step inside your loop is wrong: each state h_t it computes is "
                "what the sigmoid gives; the step squashes with tanh."
            ),
        },
    },
    "rnn_step_backward": {
        "decimals": 3,
        "offset": 0.20618556701030927,
        "salt": "f1d5fcd1e4ecc333",
        "mistakes": {
            "0c6352ca70c0af90b3f8b1a9364a01128f5d8baa20df84760523ff959c3351bb": (
                "rnn_step_backward: your gradients use one minus the state as tanh's derivative; "
                "the derivative of tanh is one minus its output squared."
            ),
            "0d9c3ad823aa1c1aeca200fc89959d0f6e043840d4d1e0bf327a648201f97071": (
                "rnn_step_backward: your dh_prev is multiplied by the tanh derivative of the "
                "previous state: that factor belongs to the previous step's own backward pass."
            ),
            "212bd7868c4f0e0e25a2182751a9975bbe39d0e3227098c35e4597dcd4933766": (
                "rnn_step_backward: your gradients apply tanh to the state again before taking "
                "the derivative; h_t already is the tanh of z_t."
            ),
            "48a4dcf6b69baa922c0fbeabf018a6e8c37b48423d264fe0e53f717cb3b56024": (
                "rnn_step_backward: your db sums over the hidden units instead of over the "
                "batch."
            ),
            "72924073fb1fe3b7ab32359abbcb1211025ed32251573e0834a7fb8c16867ce9": (
                "rnn_step_backward: your dW_h uses this step's output h_t; the recurrent weights "
                "multiplied the previous state."
            ),
            "814c87950c2bcdbbd9229c9a47121908f9f63b0a2e529450e1111f463931e350": (
                "rnn_step_backward: your db averages over the batch; every example adds its "
                "share, so it is a sum."
            ),
            "8e1001de30403b41b2f4ac4964b59bbd79cfd247fdbfbe5bd57c3edc5a497683": (
                "rnn_step_backward: your gradients are what you get when the tanh derivative is "
                "left out: the gradient must pass through tanh before the products."
            ),
            "beb2ac41217f3143197b4518914be95f76724ad149fb90b953dae94e74721732": (
                "rnn_step_backward: your gradients take the tanh derivative at the previous "
                "state; it belongs to this step's own output h_t."
            ),
            "e984c8a4a77cbf91102bec194bd090d048a0202a4ac3643bce2de93de6ad6101": (
                "rnn_step_backward: your db keeps one row per example; every example adds its "
                "share, so it is a sum over the batch."
            ),
            "ef8fcf966b61ae797cbd67e231302d836008ac8be8c71550cfd4c2edd6593d47": (
                "rnn_step_backward: your dh_prev multiplies by the recurrent weights as they "
                "are; going backwards through a product needs their transpose."
            ),
            "f76be1b4a90574c903a2dc8aab8ac9d5aa0cdceea9c34f670b29d6ad0c0ce0dc": (
                "rnn_step_backward: your weight gradients come out transposed: each must have "
                "its weight's own shape and layout."
            ),
        },
    },
    "rnn_step_forward": {
        "decimals": 3,
        "offset": 0.36082474226804123,
        "salt": "f1d5fcd1e4ecc333",
        "mistakes": {
            "3ef36ccbf36acf0ceeaff7432aaeefec174260af3119c0e0e1ca38b520e997fd": (
                "rnn_step_forward: your h_t has tanh applied twice."
            ),
            "47533e20834947893fe8c17879236269c1725b256323521e446ba3754aa5719e": (
                "rnn_step_forward: your h_t uses the recurrent weights transposed, as in the "
                "lecture's column layout; in the row layout each state row multiplies W_h from "
                "the left (section 6 explains the difference)."
            ),
            "64eedafc45c7629c6fe3e59b4232dd95b2a6a84030d4522e54b67516c6579c0a": (
                "rnn_step_forward: your h_t leaves out the bias."
            ),
            "7bb18db8150240b2c40e5e42811b76fdfa3be512aa7b3c0a756ac6a97699b121": (
                "rnn_step_forward: your h_t is what the sigmoid gives; the step squashes with "
                "tanh."
            ),
            "a3007af7571dec6da22d8c36f179e69062441fb80c0c0858444ead15fe702860": (
                "rnn_step_forward: your h_t adds the bias after the squashing instead of before."
            ),
            "a86176a1f415681e8650afcdd90e0acaedecc7ba7accad8faae55fd86586bdc7": (
                "rnn_step_forward: your h_t ignores the previous state h_prev."
            ),
            "beca193b026246c933806cd2d8244ffeb3b6ee71641f60bac41ca9ffafe9f6d2": (
                "rnn_step_forward: your h_t ignores the input x_t."
            ),
            "bfc4cf4a6ba8c327e124c7e2b7e54695b4459d842909d12e2bc1f3b8db399fa0": (
                "rnn_step_forward: your h_t is what a ReLU gives; the step squashes with tanh."
            ),
            "cc68cabbbaa20db1e0a2e37758d5679a950c81f3bcfcb70d31fd97261c3e6d04": (
                "rnn_step_forward: your h_t is the weighted sum before the squashing: tanh is "
                "missing."
            ),
        },
    },
    "tanh_slope": {
        "decimals": 3,
        "offset": 0.7010309278350515,
        "salt": "f1d5fcd1e4ecc333",
        "mistakes": {
            "3f7fc3b1bc04893e8e5d70c175eb307ea23d916bf8259fd7fe07ae8a6fcc9d52": (
                "tanh_slope: your slope is the derivative of h squared; the question is the "
                "derivative of tanh."
            ),
            "67b2cc26c7bc7e4375a4375b2f35828f2be398441c4c661afe2515ed9ec9e328": (
                "tanh_slope: your slope is h squared; it is one minus that."
            ),
            "940dc8eeefe65f57a21d38b0bc86c02d014ca2c0ea84cece06207709aa46f6a7": (
                "tanh_slope: your slope has the wrong sign."
            ),
            "99d8151cb2fcd672159391282f0601cbee1a071cfcc989c945979942530f00d6": (
                "tanh_slope: your slope applies tanh to h again; h already is tanh(z)."
            ),
            "c0374ef43726202f26807c0c2a0dae62107f538dd0fbdcf38d6d54659a860cf7": (
                "tanh_slope: your slope is one minus h; the derivative of tanh is one minus its "
                "output squared."
            ),
        },
    },
    "to_column_layout": {
        "decimals": 3,
        "offset": 0.28865979381443296,
        "salt": "f1d5fcd1e4ecc333",
        "mistakes": {
            "2b35c0dc9bd3b21d34e5691396b8bb58173cf9068db62a3d63d136ec255d32cf": (
                "to_column_layout: it transposes the recurrent kernel but not the input kernel; "
                "both need it."
            ),
            "536ac65862904a758b53ac8e6c16a69c15042cd14743f6dbff919e6ee66a981f": (
                "to_column_layout: it transposes the input kernel but not the recurrent kernel; "
                "both need it."
            ),
            "8fb2c006fa8b73c7ca66d526f0159bc3c24feae7f89a2c0966349911069965be": (
                "to_column_layout: it returns the two matrices in each other's place."
            ),
            "932291554642d1e9d5498d7019b4e2900295571ed0bd7d1b448c282173e90a8c": (
                "to_column_layout: it inverts the recurrent kernel; changing layout only "
                "transposes."
            ),
            "f82f5b8a6857a3306e1c5e193ce6c2d8ae8f9824f059bdce9db1c6afb0250a13": (
                "to_column_layout: it returns Keras's matrices unchanged; the column layout is "
                "their transpose."
            ),
        },
    },
}
# --- end of the generated table ---
