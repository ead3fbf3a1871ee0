"""Each benchmark in its smallest mode: it still runs, and its JSON says what it measured.

The figures in README.md and benchmarks/RESULTS.md come from these scripts; a script that no
longer runs, or whose record lost the isolation, the machine, the versions or the raw times,
fails here. Sizes are the smallest that exercise every code path (the tiny test course, one
repetition), so the numbers themselves mean nothing and are not checked.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from autograder.sandbox import bwrap, isolation

REPO = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.slow


def run_benchmark(script: str, *args: str, tmp_path: Path) -> dict:
    record = tmp_path / f"{Path(script).stem}.json"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / script), *args,
                           "--json", str(record)], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(record.read_text())


def assert_says_where_it_ran(record: dict, script: str) -> None:
    assert record["script"] == f"benchmarks/{script}"
    machine = record["machine"]
    assert machine["cores"] == os.cpu_count() and machine["memory_gib"] > 0
    assert machine["cpu_model"] and len(machine["load_average"]) == 3
    for package in ("python", "tensorflow", "keras", "nbgrader", "numpy"):
        assert record["versions"][package], f"no {package} version in the record"
    assert len(record["load_average_at_end"]) == 3


def expected_mode() -> str:
    """What ``--sandbox auto`` must settle on here, found independently of the benchmark."""
    return "none" if isinstance(bwrap.probe(), str) else "bwrap"


def test_bench_grading_records_each_run_its_isolation_and_the_mistakes_it_scored(tmp_path):
    record = run_benchmark("bench_grading.py", "--tiny", "--quick", "--assignments", "tiny1",
                           "--sandbox", "auto", "--also-no-sandbox", tmp_path=tmp_path)
    assert_says_where_it_ran(record, "bench_grading.py")
    nbgrader, *ours = record["runs"]
    assert nbgrader["isolation"]["mode"] == "none"
    assert set(nbgrader["per_assignment_s"]) == {"tiny1"} and nbgrader["wall_s"] > 0
    modes = [run["isolation"]["mode"] for run in ours]
    # The first rnn-grade run is under what auto found; --also-no-sandbox adds a second,
    # unsandboxed run only when the first one was sandboxed.
    assert modes == (["bwrap", "none"] if expected_mode() == "bwrap" else ["none"])
    if modes[0] == "none":
        assert record["runs"][1]["isolation"]["why"], "a fallback must say why"
    for run in ours:
        assert run["name"].endswith(f"--sandbox {run['isolation']['mode']}")
        assert len(run["notebooks"]) == record["notebooks"] == 2
        for notebook in run["notebooks"]:  # raw per-notebook times, not only a mean
            assert notebook["timings"]["kernel_start_s"] > 0
            assert notebook["timings"]["setup_s"] is not None
        assert run["scores_disagreeing_with_nbgrader"] == []
        # The sample class's mistake is real: it costs points, in nbgrader and in rnn-grade.
        assert run["typical_mistakes_at_full_marks"] == []
        scores = {n["student"]: (n["score"], n["max_score"]) for n in run["notebooks"]}
        assert scores["typical_mistake"][0] < scores["correct"][0] == scores["correct"][1]
    assert record["ratio"] == ours[0]["ratio_to_nbgrader"] > 0


def test_bench_cluster_records_both_engines_and_their_isolation(tmp_path):
    record = run_benchmark("bench_cluster.py", "--tiny", "--quick", "--sandbox", "auto",
                           tmp_path=tmp_path)
    assert_says_where_it_ran(record, "bench_cluster.py")
    assert record["isolation"]["mode"] == expected_mode()
    assert len(record["pool_s"]) == len(record["dask_s"]) == 1
    assert record["same_verdicts"] is True
    for engine in ("pool", "dask"):
        notebooks = record[f"notebooks_{engine}"]
        assert len(notebooks) == record["notebooks"] == 4
        assert all(n["timings"]["kernel_start_s"] > 0 for n in notebooks)


def test_bench_sandbox_records_every_kernel_with_and_without_bubblewrap(tmp_path):
    found = bwrap.probe()
    if isinstance(found, str):
        pytest.skip(f"bench_sandbox.py needs bubblewrap ({found}): apt-get install bubblewrap")
    record = run_benchmark("bench_sandbox.py", "--runs", "1", tmp_path=tmp_path)
    assert_says_where_it_ran(record, "bench_sandbox.py")
    runs = {run["isolation"]["mode"]: run for run in record["runs"]}
    assert set(runs) == {"none", "bwrap"}
    assert runs["bwrap"]["isolation"]["summary"] == isolation.choose("bwrap").summary()
    for run in runs.values():
        (kernel,) = run["kernels"]
        assert kernel["start_s"] > 0 and kernel["shutdown_s"] >= 0


def test_bench_layer_records_every_timed_run(tmp_path):
    record = run_benchmark("bench_layer.py", "--shapes", "2,5,3,4", "--repeats", "2",
                           "--no-memory", tmp_path=tmp_path)
    assert_says_where_it_ran(record, "bench_layer.py")
    (row,) = record["rows"]
    assert row["shape"] == [2, 5, 3, 4] and row["max_abs_diff"] < 1e-5
    for what in ("forward", "train"):
        for layer in ("keras", "rnn_tf"):
            assert len(row["raw_s"][what][layer]) == 2 and min(row["raw_s"][what][layer]) > 0


def test_bench_layers_memory_child_reports_a_peak_per_shape():
    # One child of the peak-memory measurement (the parent starts three per layer).
    child = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_layer.py"),
                            "--memory-child", "rnn_tf", "--shapes", "2,5,3,4", "4,6,3,5"],
                           cwd=REPO, env=dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536"),
                           capture_output=True, text=True, timeout=600)
    assert child.returncode == 0, child.stderr[-3000:]
    peaks = json.loads(child.stdout.strip().splitlines()[-1])
    assert set(peaks) == {"(2, 5, 3, 4)", "(4, 6, 3, 5)"}
    assert all(peak >= 0 for peak in peaks.values())


def test_bench_grading_stops_rather_than_time_an_unsandboxed_run_by_default(tmp_path):
    # No bwrap on PATH: the default --sandbox bwrap must refuse, not fall back silently.
    record = tmp_path / "bench_grading.json"
    env = dict(os.environ, PATH=str(Path(sys.executable).parent))
    proc = subprocess.run([sys.executable, str(REPO / "benchmarks" / "bench_grading.py"), "--tiny",
                           "--quick", "--out", str(tmp_path / "work"), "--json", str(record)],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode != 0
    assert "--sandbox bwrap" in proc.stderr and "bubblewrap" in proc.stderr, proc.stderr[-2000:]
    assert not record.exists()


def _kit_figures(install: dict) -> list[str]:
    """How README.md and the kit's README state a full run's figures."""
    megabytes = round(install["bytes_downloaded"] / 1e6, -1)
    minutes = round(install["download_and_install_s"] / 60)
    return [f"about {megabytes:.0f} MB", f"{install['summary']['on_disk_gb']} GB",
            f"about {minutes} minute{'s' if minutes != 1 else ''}"]


def test_measure_kit_install_measures_the_kits_wheel_and_the_docs_state_the_full_run(tmp_path):
    kit = tmp_path / "kit"
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    built = subprocess.run(["rnn-grade", "student-kit", str(kit)], cwd=REPO, env=env,
                           capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr[-3000:]
    (wheel,) = (kit / "wheels").glob("*.whl")
    # Quick mode: the kit's wheel alone, offline, through the same venv, download and install.
    record = run_benchmark("measure_kit_install.py", "--quick", "--kit", str(kit),
                           tmp_path=tmp_path)
    assert_says_where_it_ran(record, "measure_kit_install.py")
    quick = record["install"]
    assert quick["quick"] is True and quick["kit_wheel"] == wheel.name
    assert quick["files"] == [{"file": wheel.name, "bytes": wheel.stat().st_size}]
    assert quick["bytes_downloaded"] == quick["files_downloaded"] == 0  # the kit's own wheel
    assert quick["rnn_check_installed"] and quick["venv_bytes_on_disk"] > wheel.stat().st_size
    assert all(seconds > 0 for seconds in quick["steps_s"].values()), quick["steps_s"]

    # The recorded full run is of this kit's dependencies, and the docs state its figures.
    full = json.loads((REPO / "benchmarks" / "results" / "kit_install.json").read_text())
    install = full["install"]
    assert install["quick"] is False and full["script"] == "benchmarks/measure_kit_install.py"
    assert install["requires_dist"] == quick["requires_dist"], (
        "the kit's dependencies changed: rerun python benchmarks/measure_kit_install.py")
    assert install["bytes_downloaded"] == sum(f["bytes"] for f in install["files"]
                                              if f["file"] != install["kit_wheel"]) > 0
    readme = (REPO / "README.md").read_text()
    students = readme[readme.index("## Students"):]
    students = students[:students.index("```")]
    kit_readme = (kit / "README.md").read_text()
    for figure in _kit_figures(install):
        assert figure in students, (figure, students)
        assert figure in kit_readme, (figure, kit_readme)
    assert "benchmarks/results/kit_install.json" in students
