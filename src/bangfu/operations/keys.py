"""Rotating the key of encrypted ID numbers (settings.DATA_KEYS, newest first).

The operator puts a new key first in BANGFU_DATA_KEY (keeping the old ones after it), runs
`bangfu rotate_data_key`, checks with `--check`, and only then removes the old keys. Every cipher is re-encrypted
with the newest key and every look-up hash recomputed with the key derived from it, in batches of one transaction
each; a row already on the newest key is left alone, so the command can be stopped and run again at will.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import transaction

from bangfu.students import idnumbers
from bangfu.students.models import Student

BATCH_SIZE = 1000


@dataclass
class KeyStatus:
    total: int = 0  # rows with an encrypted ID number
    stale: int = 0  # cipher or hash not yet on the newest key
    unreadable: int = 0  # cipher that none of the configured keys opens (a key was removed too early)
    rotated: int = 0


def _needs_rotation(cipher: str, digest: str, newest: Fernet, all_keys: MultiFernet) -> tuple[bool, str | None]:
    """(stale?, the plain number or None when no key opens it)."""
    try:
        number = newest.decrypt(cipher.encode()).decode()
        return idnumbers.keyed_hash(number) != digest, number
    except InvalidToken:
        pass
    try:
        return True, all_keys.decrypt(cipher.encode()).decode()
    except InvalidToken:
        return True, None


def _keys() -> tuple[Fernet, MultiFernet]:
    fernets = [Fernet(k.encode()) for k in settings.DATA_KEYS]
    return fernets[0], MultiFernet(fernets)


def key_status() -> KeyStatus:
    newest, all_keys = _keys()
    status = KeyStatus()
    rows = Student.objects.exclude(id_number_cipher="").values_list("id_number_cipher", "id_number_hash")
    for cipher, digest in rows.iterator(chunk_size=BATCH_SIZE):
        status.total += 1
        stale, number = _needs_rotation(cipher, digest, newest, all_keys)
        status.stale += stale
        status.unreadable += number is None
    return status


def rotate(*, batch_size: int = BATCH_SIZE) -> KeyStatus:
    """Re-encrypt and re-hash every ID number not yet on the newest key. Rows no key opens are counted, not
    changed."""
    newest, all_keys = _keys()
    status = KeyStatus()
    last = 0
    while True:
        with transaction.atomic():
            # Locked, so an edit of the same student waits instead of being overwritten with the old number.
            rows = list(
                Student.objects.select_for_update()
                .exclude(id_number_cipher="")
                .filter(pk__gt=last)
                .order_by("pk")
                .values_list("pk", "id_number_cipher", "id_number_hash")[:batch_size]
            )
            if not rows:
                return status
            changed = []
            for pk, cipher, digest in rows:
                status.total += 1
                stale, number = _needs_rotation(cipher, digest, newest, all_keys)
                if number is None:
                    status.unreadable += 1
                elif stale:
                    changed.append(
                        Student(
                            pk=pk,
                            id_number_cipher=newest.encrypt(number.encode()).decode(),
                            id_number_hash=idnumbers.keyed_hash(number),
                        )
                    )
            # Not `save()`: the rotation changes no value a person sees, so no history row and no version bump.
            Student.objects.bulk_update(changed, ["id_number_cipher", "id_number_hash"])
            status.rotated += len(changed)
            last = rows[-1][0]
