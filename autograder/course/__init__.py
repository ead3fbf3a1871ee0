"""The course: its folder as nbgrader sees it (folder.py: ``Course``, the assignment list, the
release), what is regenerated from its source and the drift check (build.py), and the student kit
(student_kit.py, kit_pythons.py)."""
