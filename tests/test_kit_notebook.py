"""The set-up's quieting at the level of file descriptors (where the GPU build of TensorFlow writes
"Could not find cuda drivers"), and the kit's Jupyter configuration that leaves students
nbgrader's student tools only."""

import json
import subprocess
import sys

from autograder.course import student_kit
from rnn_course_student.notebook import names_defined_in

NOISY = ("import os\nfrom rnn_course_student.notebook import descriptor_2_silenced\n"
         "def noisy():\n    os.write(2, b'Could not find cuda drivers on your machine\\n')\n")


def test_output_to_descriptor_2_is_silenced_inside_and_restored_after():
    program = NOISY + "with descriptor_2_silenced():\n    noisy()\nos.write(2, b'after\\n')\n"
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr == "after\n"


def test_negative_control_without_the_silencing_the_c_level_message_reaches_stderr():
    result = subprocess.run([sys.executable, "-c", NOISY + "noisy()\n"], capture_output=True,
                            text=True)
    assert "Could not find cuda drivers" in result.stderr


def test_names_a_cell_defines_are_read_without_compiling_it():
    source = ("def rnn_param_count(D, H):\n    return D * H)\n"
              "class Cell:\n    pass\nshapes = {}\nlimit: int = 3\nif x == 1:\n    y = 2\n")
    assert names_defined_in(source) == {"rnn_param_count", "Cell", "shapes", "limit"}


def test_the_kit_switches_off_nbgrader_instructor_tools_and_keeps_validate():
    files = student_kit._jupyter_config_files()
    server = json.loads(next(f for f in files["jupyter_server_config.d"]).read_text())
    extensions = server["ServerApp"]["jpserver_extensions"]
    assert extensions == {"nbgrader.server_extensions.formgrader": False,
                          "nbgrader.server_extensions.course_list": False}
    page = json.loads(next(f for f in files["labconfig"]).read_text())
    assert page["disabledExtensions"] == {"@jupyter/nbgrader:formgrader": True,
                                          "@jupyter/nbgrader:create-assignment": True,
                                          "@jupyter/nbgrader:course-list": True}
    # The names are nbgrader's own: its server extensions and its lab extension's plugin ids.
    from importlib.metadata import files as installed_files

    enabled = json.loads(next(f for f in installed_files("nbgrader")
                              if str(f).endswith("jupyter_server_config.d/nbgrader.json"))
                         .locate().read_text())["ServerApp"]["jpserver_extensions"]
    assert set(extensions) < set(enabled)
    assert {"nbgrader.server_extensions.validate_assignment",
            "nbgrader.server_extensions.assignment_list"} <= set(enabled) - set(extensions)
    bundles = [f.locate().read_text(errors="replace") for f in installed_files("nbgrader")
               if "labextensions/@jupyter/nbgrader/static/" in str(f) and str(f).endswith(".js")]
    for plugin in page["disabledExtensions"]:
        assert any(f'"{plugin}"' in text for text in bundles), plugin
    assert any('"@jupyter/nbgrader:validate-assignment"' in text for text in bundles)


def test_the_kit_widens_validates_lines_so_an_explanation_is_not_cut():
    config = json.loads(next(f for f in student_kit._jupyter_config_files()[""]
                             if f.name == "nbgrader_config.json").read_text())
    message = ("NameError: name 'rnn_param_count' is not defined: the cell that defines it has a "
               "syntax error at line 3: unmatched ')'. Fix that cell and run it again.")
    assert config["Validator"]["width"] >= len(message) > 90  # nbgrader's default cuts at 90
