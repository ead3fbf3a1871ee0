#!/usr/bin/env bash
# The project's one entry point: sets up a virtual environment (once) and runs a job in it.
#   ./course.sh demo   grade the bundled sample class and print the grade table
#   ./course.sh test   run the whole test suite
set -euo pipefail
cd "$(dirname "$0")"
venv=${RNN_COURSE_VENV:-.venv}
python=${PYTHON:-python3}

setup() {
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv"
    fi
    # Reinstall only when the dependency list changed since the last install.
    stamp="$venv/.installed-$(cksum pyproject.toml | cut -d' ' -f1)"
    if [ ! -f "$stamp" ]; then
        "$venv/bin/python" -m pip install --quiet --upgrade pip
        "$venv/bin/python" -m pip install --quiet -e ".[course,test]"
        touch "$stamp"
    fi
    # nbgrader shells out to alembic and jupyter: they must be on PATH.
    export PATH="$PWD/$venv/bin:$PATH"
}

case "${1:-}" in
    demo) setup; shift; exec rnn-grade demo "$@" ;;
    # loadfile: a module's tests share one worker, so a module-scoped graded batch is made once
    test) setup; shift; exec python -m pytest -n 2 --dist loadfile "$@" ;;
    *) echo "usage: ./course.sh demo | test [pytest args]" >&2; exit 2 ;;
esac
