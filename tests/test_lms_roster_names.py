"""A roster's names reach nbgrader's gradebook, which the formgrader prints unescaped: a name
that holds markup must arrive without it, while ordinary names (apostrophes, accents) stay."""

from types import SimpleNamespace

from nbgrader.api import Gradebook

from autograder.lms.intake import record_roster
from autograder.lms.roster import Roster, RosterStudent


def _record(tmp_path, students):
    course = SimpleNamespace(db_url=f"sqlite:///{tmp_path / 'gradebook.db'}")
    record_roster(course, Roster(lms="moodle", path="roster.csv", header=[], students=students))
    with Gradebook(course.db_url) as gb:
        return {s.id: (s.first_name, s.last_name) for s in gb.students}


def test_markup_in_a_name_never_reaches_the_gradebook(tmp_path):
    hostile = RosterStudent("s1", "", "1", row={
        "First name": '<img src=x onerror="alert(1)">',
        "Last name": "Smith</td><script>x()</script>"})
    names = _record(tmp_path, [hostile])
    first, last = names["s1"]
    assert not set("<>&\"`") & set(first + last), names
    assert "Smith" in last


def test_ordinary_names_are_kept_as_written(tmp_path):
    students = [RosterStudent("s1", "O'Brien, Siobhán", "1"),
                RosterStudent("s2", "", "2",
                              row={"First name": "Zoë", "Last name": "D'Arcy-Núñez"})]
    assert _record(tmp_path, students) == {"s1": ("Siobhán", "O'Brien"),
                                           "s2": ("Zoë", "D'Arcy-Núñez")}
