"""rnn-grade's subcommands, one module each.

A command module has ``NAME``, ``HELP``, ``add_arguments(parser)`` and ``run(args) -> exit
code``; listing it in ``commands()`` of autograder/cli.py is all it takes to add it to
``rnn-grade``.
"""
