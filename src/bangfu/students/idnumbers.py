"""Resident ID numbers (居民身份证号码): validation, masking, encryption and a keyed hash for look-ups."""

import datetime as dt
import functools
import hashlib
import hmac
import operator
import re

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_CHECK = "10X98765432"
# First two digits: the province-level region codes in use.
_PROVINCES = {
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46,
    50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82, 91,
}  # fmt: skip
_FULLWIDTH = str.maketrans("０１２３４５６７８９ｘＸ", "0123456789XX")
_FORMAT = re.compile(r"[0-9]{17}[0-9X]")
_ZERO_WEIGHTED = ord("0") * sum(_WEIGHTS)  # the weighted sum of seventeen "0" characters' codes


def normalise(raw: str) -> str:
    return re.sub(r"\s+", "", raw or "").translate(_FULLWIDTH).upper()


def check_digit(first17: str) -> str:
    """The 18th character of the number whose first 17 digits (ASCII) are given (GB 11643, ISO 7064 MOD 11-2).

    Each digit's value is its character code less that of "0": the weighted sum is taken over the codes (a
    bulk import checks 100,000 numbers) and the zeros' share taken off once."""
    return _CHECK[(sum(map(operator.mul, first17.encode("ascii"), _WEIGHTS)) - _ZERO_WEIGHTED) % 11]


def validate(raw: str, today: dt.date | None = None) -> str:
    """Return the normalised number or raise ValidationError saying what is wrong (a birth date after `today`,
    by default the real date, is one)."""
    number = normalise(raw)
    if not _FORMAT.fullmatch(number):
        raise ValidationError(_("An ID number has 18 characters: 17 digits and a final digit or X."), code="format")
    if int(number[:2]) not in _PROVINCES:
        raise ValidationError(_("The ID number does not start with a valid region code."), code="region")
    try:
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("The birth date inside the ID number is not a real date."), code="birth") from None
    if born.year < 1900 or born > (today or dt.date.today()):
        raise ValidationError(_("The birth date inside the ID number is not plausible."), code="birth")
    if check_digit(number[:17]) != number[17]:
        raise ValidationError(
            _("The ID number's check digit is wrong: please check it for a typing error."), code="checksum"
        )
    return number


def birth_date(number: str) -> dt.date:
    return dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))


def mask(number: str) -> str:
    """`130182200301021234` → `130182********123X`-style: region shown, birth date and sequence hidden."""
    if not number:
        return ""
    return number[:6] + "*" * 8 + number[14:]


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(k.encode()) for k in settings.DATA_KEYS])


def encrypt(number: str) -> str:
    return _fernet().encrypt(number.encode()).decode() if number else ""


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode() if token else ""


@functools.lru_cache(maxsize=4)
def _hash_key(data_key: str) -> bytes:
    return hashlib.sha256(b"bangfu-id-number:" + data_key.encode()).digest()


def keyed_hash(number: str) -> str:
    """A stable HMAC of the number, so duplicates can be found without decrypting every row."""
    if not number:
        return ""
    return hmac.digest(_hash_key(settings.DATA_KEYS[0]), number.encode(), "sha256").hex()
