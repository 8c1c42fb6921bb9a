"""`bangfu rotate_data_key`: data made under key A; DATA_KEYS=[B, A]; rotate; then DATA_KEYS=[B] alone."""

from __future__ import annotations

import base64
import io

import pytest
from cryptography.fernet import InvalidToken
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from bangfu.operations.keys import key_status, rotate
from bangfu.students import idnumbers
from bangfu.students.models import Student
from bangfu.students.services import create_student, reveal_id_number, update_student
from tests.conftest import World, make_world
from tests.factories import make_id_number, system_user

KEY_A = base64.urlsafe_b64encode(b"A" * 32).decode()
KEY_B = base64.urlsafe_b64encode(b"B" * 32).decode()
KEY_C = base64.urlsafe_b64encode(b"C" * 32).decode()


@pytest.fixture
def made_under_a(db: None, settings) -> tuple[World, dict[int, str]]:  # type: ignore[no-untyped-def]
    settings.DATA_KEYS = [KEY_A]
    world = make_world()
    numbers = {pk: idnumbers.decrypt(c) for pk, c in Student.objects.values_list("pk", "id_number_cipher")}
    assert len(numbers) == 4 and all(len(n) == 18 for n in numbers.values())
    return world, numbers


def run(*args: str) -> str:
    out = io.StringIO()
    call_command("rotate_data_key", *args, stdout=out)
    return out.getvalue().strip()


def test_rotation_moves_every_id_number_to_the_new_key(made_under_a, settings) -> None:  # type: ignore[no-untyped-def]
    world, numbers = made_under_a
    settings.DATA_KEYS = [KEY_B, KEY_A]
    with pytest.raises(CommandError, match="before removing the old key"):
        run("--check")

    assert run() == "Re-encrypted 4 of 4 ID numbers with the newest key."
    assert run("--check") == "0 of 4 ID numbers are not yet on the newest key."
    assert run() == "Re-encrypted 0 of 4 ID numbers with the newest key."  # idempotent

    settings.DATA_KEYS = [KEY_B]
    assert {pk: idnumbers.decrypt(c) for pk, c in Student.objects.values_list("pk", "id_number_cipher")} == numbers
    assert reveal_id_number(actor=world.office, student=Student.objects.get(pk=world.own.pk)) == numbers[world.own.pk]
    # Look-up by ID number works under the new key: the same number is found again in the same school.
    own_number = numbers[world.own.pk]
    assert Student.objects.get(id_number_hash=idnumbers.keyed_hash(own_number)).pk == world.own.pk
    with pytest.raises(ValidationError, match="already has this ID number"):
        create_student(
            actor=system_user(),
            class_unit=world.class2,
            student_number="2021000099",
            name="张冒名",
            gender="M",
            cohort=2021,
            id_number=own_number,
        )
    classmate = Student.objects.get(pk=world.classmate.pk)
    with pytest.raises(ValidationError, match="already has this ID number"):
        update_student(actor=world.office, student=classmate, expected_version=classmate.version, id_number=own_number)
    # A number not in the school is accepted.
    create_student(
        actor=system_user(),
        class_unit=world.class2,
        student_number="2021000100",
        name="李新生",
        gender="F",
        cohort=2021,
        id_number=make_id_number(seq=777),
    )


def test_without_rotation_the_old_data_is_lost_once_the_old_key_goes(made_under_a, settings) -> None:  # type: ignore[no-untyped-def]
    """What the command prevents: with only the new key, nothing made under the old one opens or is found."""
    world, numbers = made_under_a
    settings.DATA_KEYS = [KEY_B]
    with pytest.raises(InvalidToken):
        idnumbers.decrypt(Student.objects.get(pk=world.own.pk).id_number_cipher)
    assert not Student.objects.filter(id_number_hash=idnumbers.keyed_hash(numbers[world.own.pk])).exists()
    stored = list(Student.objects.values_list("id_number_cipher", "id_number_hash"))
    with pytest.raises(CommandError, match="4 ID numbers cannot be decrypted with any configured key"):
        run()
    assert list(Student.objects.values_list("id_number_cipher", "id_number_hash")) == stored  # left as they were
    # Putting the old key back (after the new one) recovers everything.
    settings.DATA_KEYS = [KEY_B, KEY_A]
    assert run() == "Re-encrypted 4 of 4 ID numbers with the newest key."


def test_rotation_in_small_batches_and_a_restart_half_way(made_under_a, settings) -> None:  # type: ignore[no-untyped-def]
    _world, numbers = made_under_a
    settings.DATA_KEYS = [KEY_C, KEY_B, KEY_A]
    # As if a run had stopped after its first batch: one row is already on the newest key.
    first = Student.objects.order_by("pk").first()
    Student.objects.filter(pk=first.pk).update(
        id_number_cipher=idnumbers.encrypt(numbers[first.pk]), id_number_hash=idnumbers.keyed_hash(numbers[first.pk])
    )
    status = key_status()
    assert (status.total, status.stale, status.unreadable) == (4, 3, 0)

    status = rotate(batch_size=3)

    assert (status.total, status.rotated) == (4, 3)
    settings.DATA_KEYS = [KEY_C]
    assert {pk: idnumbers.decrypt(c) for pk, c in Student.objects.values_list("pk", "id_number_cipher")} == numbers
