"""The limits one notebook is graded under, with their defaults in one place.

``Limits`` is read by the command line (each field becomes an option such as ``--setup-timeout``)
and reaches the executor (autograder/preprocessors/execute.py) inside each notebook's
``GradingTask``, so a default changes here and nowhere else.
"""

from dataclasses import dataclass, field, fields


@dataclass
class Limits:
    cell_timeout: float = field(default=60.0, metadata={
        "flag": "--timeout", "help": "seconds per ordinary cell"})
    setup_timeout: float = field(default=300.0, metadata={
        "help": "seconds per set-up cell, grade id setup_* (imports on a busy machine must never "
                "cost points)"})
    notebook_timeout: float = field(default=600.0, metadata={
        "help": "seconds for all non-set-up cells of one notebook together (an infinite loop "
                "costs one cell timeout, not cells x timeout)"})
    memory_mb: int = field(default=2048, metadata={
        "help": "resident memory limit of one notebook's kernel and its children, in MB"})
    processes: int = field(default=512, metadata={
        "help": "processes and threads of one notebook's kernel together, under the bwrap "
                "sandbox (TensorFlow starts dozens of threads)"})


def flag(name: str) -> str:
    """The command-line option of a ``Limits`` field."""
    f = next(f for f in fields(Limits) if f.name == name)
    return f.metadata.get("flag", "--" + name.replace("_", "-"))
