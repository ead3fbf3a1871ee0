"""No points for an exercise caught cheating: an error output in each of its test cells.

nbgrader scores a test cell with an error output 0, so putting one first is how a cheat loses its
points while ``SaveAutoGrades`` stays nbgrader's. An exercise (its answer cell, by grade id) is
caught by the static scan (monkeypatching or a forbidden call in its answer), by the runtime guard
(something a test trusts was replaced before one of its tests ran), by the sandbox (a refused
operation in its answer or tests), or by the course's own checks (an error named ``*Forbidden*``).
Fills ``findings.cheated``.
"""

from nbgrader.preprocessors import NbGraderPreprocessor

from .cells import error_output, grade_id

FLAG_NAME = "FlaggedByGrader"


class ZeroCheatedExercises(NbGraderPreprocessor):
    """Runs after the executor: it reads what the guard and the sandbox saw."""

    def preprocess(self, nb, resources):
        findings = resources["findings"]
        cheated = findings.cheated
        exercise_of, answers = findings.exercise_of, set(findings.answer_sources)

        def add(exercise, why):
            if why not in cheated.setdefault(exercise, []):
                cheated[exercise].append(why)

        for f in findings.scan:
            if f.kind in ("monkeypatch", "forbidden") and f.cell in answers:
                add(f.cell, f"{f.cell}: {f.detail}")
        for test, names in findings.execution.patched.items():
            exercise = exercise_of.get(test, test)
            add(exercise, f"{exercise}: replaced {', '.join(names)} before {test} ran")
        for report in findings.execution.sandbox:
            cell = report.get("cell")
            exercise = cell if cell in answers else exercise_of.get(cell)
            if exercise:
                add(exercise, f"{exercise}: {report.get('kind')} ({report.get('path')})")
        for cell in nb.cells:  # the course's own forbidden-call checks (course_checks.testing)
            gid = grade_id(cell)
            for o in cell.get("outputs", []):
                if o.get("output_type") == "error" and "forbidden" in o.get("ename", "").lower():
                    exercise = exercise_of.get(gid, gid)
                    add(exercise, f"{exercise}: {o.get('evalue', '')[:200]}")

        for cell in nb.cells:
            exercise = exercise_of.get(grade_id(cell) or "")
            if exercise in cheated:
                # First: nbgrader scores a cell by its first deciding output, and a numeric
                # result (partial credit) ahead of the error would win.
                cell.outputs = [*(error_output(FLAG_NAME, f"no points: {why}")
                                  for why in cheated[exercise]),
                                *cell.get("outputs", [])]
        return nb, resources
