"""Which assignment a file is for, from the name a student or the LMS gave it.

Students upload ``rnn1_forward.ipynb``, but also ``rnn1_forward (2).ipynb`` (a second download),
``Copy of rnn1_forward.ipynb`` (Google Drive), ``RNN1-Forward.ipynb``; Canvas renames a
resubmitted file ``rnn1_forward-1.ipynb`` (``-N`` before the first dot). These all name
``rnn1_forward``. A name that contains no assignment id returns None: the caller then looks at
the notebook's grade ids (``normalise.which_assignment``), never at a guess from the name.
"""

import re

_COPY_OF = re.compile(r"^(copy of |copie de |kopie von )+", re.I)
_CANVAS_RESUBMIT = re.compile(r"-\d+(?=\.)")  # Canvas adds it before the first dot (once)
_DOWNLOAD_COPY = re.compile(r"\s*\(\d+\)$")
_SEPARATORS = re.compile(r"[\s\-_.]+")


def _squash(text: str) -> str:
    return _SEPARATORS.sub("_", text.strip().lower()).strip("_")


def stem(filename: str) -> str:
    """The name without extension, Canvas's resubmission suffix, ``(2)`` and ``Copy of``."""
    name = _CANVAS_RESUBMIT.sub("", filename, count=1)
    name = name.rsplit(".", 1)[0] if "." in name else name
    name = _COPY_OF.sub("", name)
    return _DOWNLOAD_COPY.sub("", name)


def assignment_from_name(filename: str, assignments: list[str]) -> tuple[str | None, bool]:
    """(assignment, exact): the assignment the name says, and whether the name is exactly it.

    Not exact: the assignment id appears inside a longer name (``smith_rnn1_forward_final``);
    the longest id that appears wins (so ``tiny12`` beats ``tiny1``). Separators and case are
    ignored (``RNN1-Forward`` is ``rnn1_forward``).
    """
    name = _squash(stem(filename))
    by_key = {_squash(a): a for a in assignments}
    if name in by_key:
        return by_key[name], True
    padded = f"_{name}_"
    inside = [a for key, a in by_key.items() if f"_{key}_" in padded]
    if not inside:
        return None, False
    return max(inside, key=len), False
