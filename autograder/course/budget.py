"""How long one notebook's student code may run: a generous multiple of the solution's run time.

``rnn-grade build`` executes every solution notebook anyway; it records how long each
took in ``<course>/solution-times.json``. ``rnn-grade autograde`` then gives each assignment a
notebook budget of ``FACTOR`` times that (at least ``FLOOR``), unless ``--notebook-timeout`` is
given, and prints the budgets it uses. The solution's time includes its set-up cells (the
TensorFlow import), which the budget does not have to cover, so the margin is larger still.
"""

import json
import os

FILE = "solution-times.json"
FACTOR = 10  # a correct but naive answer (Python loops, a loaded machine) is far slower
FLOOR = 60.0  # seconds: short solutions still leave room for a slow start


def save(course_dir, seconds: dict[str, float]) -> str:
    """Merges the measured solution run times (assignment -> seconds) into the course's file."""
    path = os.path.join(course_dir, FILE)
    times = load(course_dir)
    times.update({a: round(s, 2) for a, s in seconds.items()})
    with open(path, "w") as f:
        json.dump(dict(sorted(times.items())), f, indent=1)
        f.write("\n")
    return path


def load(course_dir) -> dict[str, float]:
    try:
        with open(os.path.join(course_dir, FILE)) as f:
            data = json.load(f)
    except (OSError, ValueError):
        return {}
    return {a: float(s) for a, s in data.items() if isinstance(s, (int, float)) and s > 0}


def budgets(course_dir, assignments, default: float) -> tuple[dict[str, float], list[str]]:
    """Per-assignment notebook budgets, and one line per assignment saying where each came from."""
    times = load(course_dir)
    out, lines = {}, []
    for a in assignments:
        if a in times:
            out[a] = max(FLOOR, FACTOR * times[a])
            lines.append(f"{a}: {out[a]:.0f} s ({FACTOR} x the solution's {times[a]:.1f} s, "
                         f"at least {FLOOR:.0f} s)")
        else:
            out[a] = default
            lines.append(f"{a}: {default:.0f} s (default: no solution time measured; "
                         "`rnn-grade build` records it)")
    return out, lines
