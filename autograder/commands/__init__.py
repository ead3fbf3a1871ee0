"""rnn-grade's subcommands, one module each.

A command module has ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> exit
code``; listing it in ``COMMANDS`` is all it takes to add it to ``rnn-grade`` (autograder/cli.py).
"""

from .. import student_kit
from . import autograde, check, demo, export, feedback, release, similarity

COMMANDS = [release, autograde, feedback, export, similarity, check, demo, student_kit]
