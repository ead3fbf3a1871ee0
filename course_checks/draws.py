"""Random cases drawn from the course secret: each hidden check gets its own generator, keyed by
the secret, the assignment, the check and the student, so cases differ per student and per term
and cannot be computed in advance.

The judge (autograder/judge/) opens `drawing_from(key)` around each hidden block; outside it (the
solutions build, the tests) the generators are fixed, so runs repeat.

    r = check_rng()
    B, T = r.integers(1, 5), r.integers(1, 9)
"""

from __future__ import annotations

import contextlib
import hashlib
import threading
from typing import Iterator

import numpy as np

_FIXED = hashlib.sha256(b"no course secret: a fixed generator").digest()
_state = threading.local()


@contextlib.contextmanager
def drawing_from(key: bytes) -> Iterator[None]:
    """Inside the block, `check_rng` and `case_rng` draw from `key` (32 bytes)."""
    before = getattr(_state, "key", None)
    _state.key = bytes(key)
    try:
        yield
    finally:
        _state.key = before


def current_key() -> bytes:
    """The key drawn from now (the fixed one outside the judge)."""
    return getattr(_state, "key", None) or _FIXED


def _words(key: bytes) -> list[int]:
    return [int.from_bytes(key[i:i + 4], "little") for i in range(0, len(key), 4)]


def check_rng() -> np.random.Generator:
    """A generator for the hidden check being judged (a new one, same draws, at each call)."""
    return np.random.default_rng(_words(current_key()))


def case_rng(seed: int) -> np.random.Generator:
    """A generator for the catalogue's case `seed` of the check being judged: the catalogue keeps
    its shapes (chosen so that every mistake shows), the values come from the key."""
    return np.random.default_rng([int(seed), *_words(current_key())])
