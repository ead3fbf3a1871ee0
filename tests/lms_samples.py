"""Canvas and Moodle downloads and rosters, named exactly as the LMS names them.

Test support: a class's notebooks go in, a zip comes out that looks like what an instructor
downloads (autograder/lms/canvas.py and moodle.py read the formats), and roster CSVs like the
LMS's exports.
"""

import csv
import zipfile


def canvas_entry(user_id: str, attachment_id: int, filename: str, sortable_name: str = "",
                 late: bool = False, anonymous_id: str | None = None) -> str:
    """A Canvas "Download Submissions" entry name (canvas-lms ``ContentZipper#get_filename``)."""
    if anonymous_id is not None:
        prefix = "_".join(p for p in ("LATE" if late else "", f"anon_{anonymous_id}") if p)
    else:
        prefix = "_".join(p for p in (sortable_name, "LATE" if late else "", str(user_id)) if p)
    return f"{prefix}_{attachment_id}_{filename}"


def moodle_entry(full_name: str, participant: int, filename: str, flat: bool = False,
                 blind: bool = False, plugin: str = "file") -> str:
    """A Moodle "Download all submissions" path (folders since 3.1, or the older flat name)."""
    prefix = f"{'Participant' if blind else full_name.replace('_', ' ')}_{participant}"
    folder = f"{prefix}_assignsubmission_{plugin}"
    return f"{folder}_{filename}" if flat else f"{folder}/{filename}"


class _NoUtf8Flag(zipfile.ZipInfo):
    """A member whose UTF-8 name is stored without the UTF-8 flag, as some zip writers do."""

    def _encodeFilenameFlags(self):  # noqa: N802 (zipfile's name)
        return self.filename.encode("utf-8"), self.flag_bits & ~0x800


def write_zip(out: str, members: list[tuple], utf8_flag: bool = True) -> str:
    """``members``: (name, bytes) or (name, bytes, (Y, M, D, h, m, s)) in zip order."""
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data, *when in members:
            cls = zipfile.ZipInfo if utf8_flag else _NoUtf8Flag
            info = cls(name, date_time=when[0] if when else (2026, 11, 30, 12, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, data)
    return out


def canvas_roster(out: str, students: list[dict], assignments: dict[str, int],
                  points: dict[str, float] | None = None) -> str:
    """A Canvas gradebook export: ``students`` rows with Student, ID, SIS User ID, SIS Login ID,
    Section; ``assignments`` title -> Canvas id; the Points Possible row; Canvas's computed
    columns at the end."""
    titles = [f"{t} ({i})" for t, i in assignments.items()]
    header = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *titles,
              "Current Score", "Final Score"]
    with open(out, "w", newline="", encoding="utf-8-sig") as f:  # Canvas writes a BOM
        w = csv.writer(f)
        w.writerow(header)
        w.writerow(["    Points Possible", "", "", "", ""]
                   + [f"{(points or {}).get(t, 0):g}" for t in assignments]
                   + ["(read only)", "(read only)"])
        for s in students:
            w.writerow([s["Student"], s["ID"], s.get("SIS User ID", ""),
                        s.get("SIS Login ID", ""), s.get("Section", "")]
                       + [""] * len(titles) + ["", ""])
    return out


def moodle_worksheet(out: str, students: list[dict], max_grade: float = 100) -> str:
    """A Moodle assignment grading worksheet: Identifier ("Participant N"), Full name, Email."""
    header = ["Identifier", "Full name", "Email address", "Status", "Grade", "Maximum Grade",
              "Grade can be changed", "Last modified (submission)", "Last modified (grade)",
              "Feedback comments"]
    with open(out, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        for s in students:
            w.writerow([f"Participant {s['participant']}", s["Full name"],
                        s.get("Email address", ""), "Submitted for grading", "",
                        f"{max_grade:.2f}", "Yes", "", "-", ""])
    return out
