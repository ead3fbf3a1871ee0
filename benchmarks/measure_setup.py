"""What a new user waits for: the install, the demo, the test suite; and how many tests there are.

Each part is timed on its own and written to one JSON record (``--json``, default
``benchmarks/results/setup.json``) with the machine, its load and the versions:

- ``--install``: a fresh virtual environment and ``pip install -e ".[course,test]"``, the same
  commands ``./course.sh`` runs the first time (pip's download cache as it is: the record says
  whether one was there);
- ``--demo``: ``rnn-grade demo`` in this checkout's environment (release of the course, a
  sample class graded, the table printed), the isolation it ran under;
- ``--count-tests``: the tests pytest collects (``--collect-only``);
- ``--suite``: the whole suite as ``./course.sh test`` runs it (two workers; minutes).

    python benchmarks/measure_setup.py --count-tests --demo
    python benchmarks/measure_setup.py --install --suite
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import provenance

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict:
    """The checkout's environment first on PATH, as ./course.sh sets it."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")


def _timed(argv: list[str], cwd: Path, env: dict | None = None, timeout: float = 3600) -> dict:
    started = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, env=env or _env(), capture_output=True, text=True,
                          timeout=timeout)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n"
                         f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return {"command": " ".join(argv), "seconds": round(seconds, 1), "stdout": proc.stdout}


def install() -> dict:
    where = Path(tempfile.mkdtemp(prefix="rnn-course-venv-"))
    cache = Path(os.environ.get("PIP_CACHE_DIR", Path.home() / ".cache" / "pip"))
    had_cache = cache.is_dir() and any(cache.iterdir())
    try:
        venv = _timed([sys.executable, "-m", "venv", str(where / "venv")], REPO)
        python = str(where / "venv" / "bin" / "python")
        pip = _timed([python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"], REPO)
        deps = _timed([python, "-m", "pip", "install", "--quiet", "-e", ".[course,test]"], REPO)
    finally:
        shutil.rmtree(where, ignore_errors=True)
    return {"seconds": round(venv["seconds"] + pip["seconds"] + deps["seconds"], 1),
            "steps_s": {"venv": venv["seconds"], "pip upgrade": pip["seconds"],
                        "pip install -e .[course,test]": deps["seconds"]},
            "pip_cache_present": had_cache}


def demo() -> dict:
    from autograder.sandbox import isolation

    out = Path(tempfile.mkdtemp(prefix="rnn-course-demo-"))
    try:
        run = _timed([str(Path(sys.executable).parent / "rnn-grade"), "demo", "--out", str(out),
                      "--no-progress"], REPO)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    graded = re.search(r"grading a sample class of (\d+) notebooks", run["stdout"])
    return {"seconds": run["seconds"], "command": "rnn-grade demo",
            "notebooks": int(graded[1]) if graded else None,
            "isolation": provenance.isolation(isolation.choose("auto", warn=False))}


def count_tests() -> dict:
    run = _timed([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p",
                  "no:cacheprovider"], REPO)
    found = re.search(r"(\d+) tests? collected", run["stdout"]) or \
        re.search(r"^(\d+) tests?\b", run["stdout"], re.M)
    if not found:
        raise SystemExit("pytest --collect-only printed no count:\n" + run["stdout"][-2000:])
    return {"tests": int(found[1]), "seconds_to_collect": run["seconds"]}


def suite() -> dict:
    run = _timed([sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadfile", "-q",
                  "-p", "no:cacheprovider"],
                 REPO, timeout=7200)
    summary = run["stdout"].strip().splitlines()[-1] if run["stdout"].strip() else ""
    return {"seconds": run["seconds"], "command": "python -m pytest -n 2 --dist loadfile",
            "summary": summary}


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--install", action="store_true", help="time a fresh install")
    parser.add_argument("--demo", action="store_true", help="time rnn-grade demo")
    parser.add_argument("--count-tests", action="store_true", help="count the tests")
    parser.add_argument("--suite", action="store_true", help="time the whole test suite")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" / "setup.json"),
                        help="where to write the record (default benchmarks/results/setup.json)")
    args = parser.parse_args(argv)
    parts = {"install": args.install, "demo": args.demo, "count_tests": args.count_tests,
             "suite": args.suite}
    if not any(parts.values()):
        parser.error("say what to measure: --install, --demo, --count-tests and/or --suite")
    record = provenance.header(__file__, sys.argv[1:] if argv is None else argv)
    for name, wanted in parts.items():
        if wanted:
            print(f"{name} ...", flush=True)
            record[name] = globals()[name]()
            print(f"  {record[name]}", flush=True)
    print(f"details: {provenance.write(args.json, record)}")
    return record


if __name__ == "__main__":
    main()
