"""What a student's kit install downloads and how long it takes, in a fresh virtual environment.

The kit is built as an instructor builds it (``rnn-grade student-kit``), a fresh venv is made
with this Python, and the venv's own pip (the one a student has) does the install in two timed
steps whose sum is the student's ``pip install wheels/*.whl``:

1. ``pip download --no-cache-dir`` of the kit's wheel with its dependencies from the package
   index: the bytes are the sizes of the files it wrote (the kit's own wheel, which comes with
   the kit, not counted), the time is the download's;
2. ``pip install --no-index --find-links`` of those files: the install's time;

then the venv's size on disk. ``--json`` (default ``benchmarks/results/kit_install.json``) gets
every file with its size, both times, the pip and Python that ran, the kit's dependencies
(``Requires-Dist``), the machine, its load and the versions.

``--quick`` runs the same steps offline with the kit's wheel alone (``--no-deps --no-index``),
into a venv made without pip by this Python's pip (``--python``): it checks that the kit builds,
installs into a fresh venv and that the measuring works, not the figures.

    python benchmarks/measure_kit_install.py            # about 730 MB from the package index
    python benchmarks/measure_kit_install.py --quick --kit KIT --json /tmp/kit_install.json
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import provenance

REPO = Path(__file__).resolve().parents[1]


def _run(argv: list[str], timeout: float = 3600) -> float:
    """Runs ``argv``; its wall time in seconds (stops the measurement if it fails)."""
    started = time.perf_counter()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed ({proc.returncode}):\n"
                         f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return round(seconds, 1)


def build_kit(out: Path) -> float:
    rnn_grade = Path(sys.executable).parent / "rnn-grade"
    return _run([str(rnn_grade) if rnn_grade.exists() else "rnn-grade", "student-kit", str(out)])


def requires_dist(wheel: Path) -> list[str]:
    """The wheel's dependencies as its METADATA states them (what pip resolves)."""
    with zipfile.ZipFile(wheel) as zf:
        metadata = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
        lines = zf.read(metadata).decode().splitlines()
    return [line.split(":", 1)[1].strip() for line in lines if line.startswith("Requires-Dist:")]


def bytes_on_disk(folder: Path) -> int:
    """Blocks used by the files under ``folder`` (links not followed, each file once)."""
    seen, total = set(), 0
    for root, _dirs, files in os.walk(folder):
        for name in files:
            st = os.lstat(os.path.join(root, name))
            if (st.st_dev, st.st_ino) not in seen:
                seen.add((st.st_dev, st.st_ino))
                total += st.st_blocks * 512
    return total


def measure(kit: Path, work: Path, quick: bool, python: str) -> dict:
    (wheel,) = sorted((kit / "wheels").glob("*.whl"))
    # Quick: a venv without pip (ensurepip is most of a venv's cost), filled by this pip.
    venv_s = _run([python, "-m", "venv", *(["--without-pip"] if quick else []),
                   str(work / "venv")])
    venv_python = str(work / "venv" / "bin" / "python")
    pip = [sys.executable, "-m", "pip", "--python", venv_python] if quick else \
        [venv_python, "-m", "pip"]
    pip_version = subprocess.run([*pip, "--version"], capture_output=True, text=True,
                                 check=True).stdout.split()[1]
    downloads = work / "downloads"
    offline = ["--no-deps", "--no-index", "--find-links", str(wheel.parent)] if quick else []
    download_s = _run([*pip, "download", "--no-cache-dir", "--progress-bar", "off",
                       "--dest", str(downloads), *offline, str(wheel)])
    install_s = _run([*pip, "install", "--no-cache-dir", "--progress-bar", "off", "--no-index",
                      "--find-links", str(downloads), *(["--no-deps"] if quick else []),
                      str(downloads / wheel.name)])
    files = sorted(({"file": f.name, "bytes": f.stat().st_size} for f in downloads.iterdir()),
                   key=lambda f: -f["bytes"])
    fetched = [f for f in files if f["file"] != wheel.name]  # the kit's wheel comes with the kit
    downloaded = sum(f["bytes"] for f in fetched)
    return {
        "quick": quick, "kit_wheel": wheel.name, "kit_wheel_bytes": wheel.stat().st_size,
        "requires_dist": requires_dist(wheel),
        "venv_python": subprocess.run([venv_python, "-c", "import platform; "
                                       "print(platform.python_version())"],
                                      capture_output=True, text=True, check=True).stdout.strip(),
        "pip": pip_version,
        "steps_s": {"venv": venv_s, "pip download": download_s, "pip install": install_s},
        "download_and_install_s": round(download_s + install_s, 1),
        "files_downloaded": len(fetched), "bytes_downloaded": downloaded,
        "files": files, "venv_bytes_on_disk": bytes_on_disk(work / "venv"),
        "rnn_check_installed": (work / "venv" / "bin" / "rnn-check").exists(),
        "summary": {"download_mb": round(downloaded / 1e6),
                    "on_disk_gb": round(bytes_on_disk(work / "venv") / 1e9, 1),
                    "minutes": round((download_s + install_s) / 60, 1)},
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true",
                        help="the kit's wheel alone, offline: checks the steps, not the figures")
    parser.add_argument("--kit", help="an already built kit (default: rnn-grade student-kit "
                                      "into a temporary folder)")
    parser.add_argument("--python", default=sys.executable,
                        help="the Python whose venv the student installs into (default this one)")
    parser.add_argument("--json", default=str(REPO / "benchmarks" / "results" /
                                              "kit_install.json"),
                        help="where to write the record (default "
                             "benchmarks/results/kit_install.json)")
    args = parser.parse_args(argv)
    record = provenance.header(__file__, sys.argv[1:] if argv is None else argv)
    work = Path(tempfile.mkdtemp(prefix="rnn-kit-install-"))
    try:
        kit = Path(args.kit) if args.kit else work / "kit"
        if not args.kit:
            record["kit_build_s"] = build_kit(kit)
        record["install"] = measure(kit, work, args.quick, args.python)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    summary = record["install"]["summary"]
    print(f"{record['install']['files_downloaded']} files, {summary['download_mb']} MB "
          f"downloaded; download + install {record['install']['download_and_install_s']} s; "
          f"{summary['on_disk_gb']} GB on disk")
    print(f"details: {provenance.write(args.json, record)}")
    return record


if __name__ == "__main__":
    main()
