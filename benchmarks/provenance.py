"""What a measurement was made on: machine, versions, load, and the isolation in force.

Every benchmark writes these next to its numbers, so a figure can be checked against the
conditions it was measured under (a ratio measured on a busy machine, or without the sandbox,
says so in its own file rather than in someone's memory).
"""

import datetime
import importlib.metadata
import json
import os
import platform
from pathlib import Path

# Distributions whose versions a result depends on; the first of each group that is installed.
PACKAGES = {"tensorflow": ("tensorflow", "tensorflow-cpu"), "keras": ("keras",),
            "nbgrader": ("nbgrader",), "numpy": ("numpy",), "dask": ("distributed",)}


def _installed(names) -> str | None:
    for name in names:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None


def _first_line_with(path: str, prefix: str) -> str | None:
    try:
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def machine() -> dict:
    """Cores, memory and CPU model of this machine, and its load when asked."""
    memory_kib = _first_line_with("/proc/meminfo", "MemTotal")
    return {
        "cpu_model": _first_line_with("/proc/cpuinfo", "model name") or platform.processor()
        or platform.machine(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "memory_gib": round(int(memory_kib.split()[0]) / 2**20, 1) if memory_kib else None,
        "system": f"{platform.system()} {platform.release()} {platform.machine()}",
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def versions() -> dict:
    return {"python": platform.python_version(),
            **{key: _installed(names) for key, names in PACKAGES.items()}}


def isolation(iso) -> dict:
    """What ``autograder.sandbox.isolation.choose`` settled on, in words and as fields."""
    out = {"mode": iso.mode, "summary": iso.summary(), "memory_bound": iso.memory_bound(),
           "process_bound": iso.process_bound()}
    if iso.mode == "none":
        out["why"] = iso.why_not
    return out


def header(script: str, argv: list[str]) -> dict:
    """The fields every benchmark's JSON starts with."""
    return {"script": f"benchmarks/{Path(script).name}", "argv": list(argv),
            "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
            "machine": machine(), "versions": versions()}


def write(path: str | os.PathLike, record: dict) -> Path:
    """Writes ``record`` as JSON (the load average at the end added); returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    record = dict(record, load_average_at_end=[round(x, 2) for x in os.getloadavg()])
    path.write_text(json.dumps(record, indent=1) + "\n")
    return path
