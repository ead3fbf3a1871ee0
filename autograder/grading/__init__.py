"""Grading a batch of submissions: finding them (submissions.py), one task per notebook
(task.py), the pipeline a worker runs on it (pipeline.py, with the rebuild rules and the scan
rules it applies), recording the results (batch.py), resuming a stopped batch (resume.py) and the
grade table (table.py)."""
