"""The class's grades out of rnn-grade, as nbgrader ExportPlugins and behind ``rnn-grade export``:
the per-cell CSV (course_csv.py) and CSVs for Canvas's and Moodle's gradebook imports
(lms_csv.py, lms_plugins.py), all reading the grades through one reader (grades.py)."""
