"""The JupyterLab a student gets: started from a venv where the kit's wheel is installed, opened in
headless Chromium (127.0.0.1, a token), it offers nbgrader's student tools only (Validate and the
assignment list); nbgrader's Formgrader, Create Assignment and Course List are switched off by the
Jupyter configuration the kit's wheel installs. The negative control starts the same JupyterLab
without the kit's configuration files and finds the instructor's tools there.

The venv: the kit's wheel installed --no-deps, the instructor's packages on its path through a
.pth (as in tests/test_student_kit.py), and their files outside site-packages (nbgrader's and
JupyterLab's data files under etc/jupyter and share/jupyter) linked into the venv's prefix where
their own wheels would have put them (hard links), so that Jupyter finds them as in a real install.
"""

import os
import shutil
import socket
import subprocess
import sys
import sysconfig
import tempfile
import time
from importlib.metadata import distributions
from pathlib import Path

import pytest

from autograder.course import student_kit
from tests.test_feedback_browser import CHROMEDRIVER, CHROMIUM, _require_browser
from tests.test_student_kit import _instructor_packages

pytestmark = pytest.mark.slow
TOKEN = "kit-test-token"
KIT_CONFIG = ("etc/jupyter/jupyter_server_config.d/rnn_course_student.json",
              "etc/jupyter/labconfig/page_config.json")
PROJECT = {"rnn-course", "rnn_course", "rnn-course-student", "rnn_course_student"}


def _link_data_files(prefix: Path) -> None:
    """Every installed distribution's etc/jupyter and share/jupyter files, in `prefix`."""
    for dist in distributions():
        if dist.metadata["Name"] is None or dist.metadata["Name"].lower() in PROJECT:
            continue
        for file in dist.files or []:
            name = str(file).replace("\\", "/")
            rel = name.split("../")[-1] if name.startswith("../") else ""
            if not rel.startswith(("etc/jupyter/", "share/jupyter/")):
                continue
            target = prefix / rel
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                try:  # a hard link (JupyterLab's static handler refuses a symlink out of its root)
                    os.link(file.locate(), target)
                except OSError:
                    shutil.copy2(file.locate(), target)


@pytest.fixture(scope="module")
def student_venv(tmp_path_factory):
    root = tmp_path_factory.mktemp("lab")
    out = root / "kit"
    student_kit.build_kit(out)
    venv = root / "venv"
    subprocess.run([getattr(sys, "_base_executable", sys.executable), "-m", "venv",
                    "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    _link_data_files(venv)
    wheel = next((out / "wheels").glob("*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--no-index", "--quiet", str(wheel)], check=True)
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], check=True, capture_output=True, text=True).stdout
    Path(site.strip(), "instructor-packages.pth").write_text(f"{_instructor_packages(root)}\n")
    assert sysconfig.get_paths()["purelib"] != site.strip()
    return venv, out


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _lab(venv, root, browser):
    """{menus, nbgrader plugins, nbgrader commands, Nbgrader menu items} of a fresh JupyterLab."""
    port = _free_port()
    home = Path(tempfile.mkdtemp(prefix="rnn-lab-home-"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("JUPYTER")}
    env.update(HOME=str(home), JUPYTER_CONFIG_DIR=str(home / "config"),
               JUPYTER_DATA_DIR=str(home / "data"), JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    log = open(home / "server.log", "w")
    server = subprocess.Popen(
        [str(venv / "bin" / "python"), "-m", "jupyterlab", "--no-browser", "--allow-root",
         "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={root}",
         "--LabApp.expose_app_in_browser=True"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert server.poll() is None, (home / "server.log").read_text()
            try:
                socket.create_connection(("127.0.0.1", port), 1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, (home / "server.log").read_text()
                time.sleep(0.5)
        browser.get(f"http://127.0.0.1:{port}/lab?token={TOKEN}")
        ready = "return !!(window.jupyterapp && document.querySelector('.lm-MenuBar-itemLabel'))"
        deadline = time.monotonic() + 180
        while not browser.execute_script(ready):
            assert time.monotonic() < deadline, "JupyterLab did not start in the browser"
            time.sleep(0.5)
        time.sleep(2)  # plugins activate after the first menu appears
        found = browser.execute_script("""
            const app = window.jupyterapp;
            return {
              menus: [...document.querySelectorAll('.lm-MenuBar-itemLabel')]
                .map(e => e.textContent),
              plugins: app.listPlugins().filter(p => p.startsWith('@jupyter/nbgrader')),
              commands: app.commands.listCommands().filter(c => c.startsWith('nbgrader')),
            };""")
        labels = browser.find_elements("css selector", ".lm-MenuBar-itemLabel")
        nbgrader_menu = [e for e in labels if e.text == "Nbgrader"]
        found["items"] = []
        if nbgrader_menu:
            nbgrader_menu[0].click()
            time.sleep(1)
            found["items"] = browser.execute_script(
                "return [...document.querySelectorAll('.lm-Menu-itemLabel')]"
                ".map(e => e.textContent)")
        return found
    finally:
        server.terminate()
        server.wait(30)
        log.close()


@pytest.fixture(scope="module")
def browser():
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    options = Options()
    options.binary_location = CHROMIUM
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync",
                 f"--user-data-dir={tempfile.mkdtemp(prefix='rnn-lab-chromium-')}",
                 "--window-size=1400,900",
                 "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def test_the_students_jupyterlab_offers_validate_and_the_assignment_list_only(student_venv,
                                                                              browser):
    venv, kit = student_venv
    for path in KIT_CONFIG:
        assert (venv / path).is_file(), path  # installed by the wheel, not linked
    found = _lab(venv, kit, browser)
    assert set(found["plugins"]) == {"@jupyter/nbgrader:menu", "@jupyter/nbgrader:assignment-list",
                                     "@jupyter/nbgrader:validate-assignment"}, found
    assert "Nbgrader" in found["menus"], found
    assert "Assignment List" in found["items"], found
    for instructor_tool in ("Formgrader", "Course List"):
        assert instructor_tool not in found["items"], found
    assert not any("formgrader" in c or "course-list" in c or "create-assignment" in c
                   for c in found["commands"]), found


def test_negative_control_without_the_kits_configuration_the_instructor_tools_are_there(
        student_venv, browser):
    venv, kit = student_venv
    hidden = [(venv / path, venv / (path + ".off")) for path in KIT_CONFIG]
    for path, off in hidden:
        path.rename(off)
    try:
        found = _lab(venv, kit, browser)
    finally:
        for path, off in hidden:
            off.rename(path)
    assert {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
            "@jupyter/nbgrader:course-list"} <= set(found["plugins"]), found
    assert "Formgrader" in found["items"], found
