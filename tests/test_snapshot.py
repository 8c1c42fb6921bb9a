"""The replayed world (tests/snapshot.py) is the world the services build: the same rows in every table."""

from __future__ import annotations

from django.db import transaction

from bangfu.students.models import Student
from tests.conftest import make_world
from tests.factories import make_student
from tests.snapshot import Snapshot, _read, _tables


def _everything() -> dict[str, list[object]]:
    return {table: sorted(_read(table), key=repr) for table in _tables()}


def test_a_replayed_world_has_exactly_the_rows_and_objects_of_a_built_one(db: None) -> None:
    snapshot = Snapshot(make_world)
    with transaction.atomic():
        built = snapshot.get()
        rows_built = _everything()
        transaction.set_rollback(True)
    assert Student.objects.count() == 0

    replayed = snapshot.get()

    assert _everything() == rows_built
    assert replayed is not built and replayed.own is not built.own
    for name in ("own", "classmate", "helper", "office", "dept1"):
        assert getattr(replayed, name).pk == getattr(built, name).pk
    assert Student.objects.get(pk=replayed.own.pk).name == "田斌臣"
    later = make_student(replayed.class1, name="王芳")
    assert later.pk > max(Student.objects.exclude(pk=later.pk).values_list("pk", flat=True))  # sequences moved on
