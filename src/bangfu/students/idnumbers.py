"""Resident ID numbers (居民身份证号码): validation, masking, encryption and a keyed hash for look-ups."""

import base64
import datetime as dt
import functools
import hashlib
import hmac
import operator
import os
import re
import time
from collections import defaultdict
from collections.abc import Callable, Sequence

from cryptography.fernet import Fernet, MultiFernet
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
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


def encrypt_many(numbers: Sequence[str]) -> list[str]:
    """`encrypt` for many numbers at once (an import encrypts 100,000): "" stays "", the rest each get a Fernet
    token with its own random IV, under the current key, as `encrypt` would make it."""
    return fernet_tokens(numbers, settings.DATA_KEYS[0], int(time.time()), os.urandom)


def fernet_tokens(numbers: Sequence[str], key: str, now: int, random_bytes: Callable[[int], bytes]) -> list[str]:
    """Fernet tokens (version, `now`, IV, AES-128-CBC of the PKCS7-padded text, HMAC-SHA256; base64url), made a
    batch at a time: `Fernet.encrypt` builds an AES context per token, which is most of its 20 µs. Here the AES
    runs once per block position over every token of a length (ECB over the batch), and the CBC chaining — each
    block XOR the previous ciphertext block, the first XOR the IV — is one XOR of the batch's bytes taken as a
    whole number. The same bytes as `Fernet(key)._encrypt_from_parts(text, now, iv)` for the same IVs."""
    raw_key = base64.urlsafe_b64decode(key)
    signing = hmac.new(raw_key[:16], digestmod=hashlib.sha256)  # copied per token: the key is prepared once
    encryptor = Cipher(algorithms.AES(raw_key[16:]), modes.ECB()).encryptor()
    header = b"\x80" + now.to_bytes(8, "big")
    tokens = [""] * len(numbers)
    by_size: dict[int, list[tuple[int, bytes]]] = defaultdict(list)
    for index, number in enumerate(numbers):
        if number:
            data = number.encode()
            pad = 16 - len(data) % 16
            by_size[len(data) + pad].append((index, data + bytes([pad]) * pad))
    for size, items in by_size.items():
        ivs = random_bytes(16 * len(items))
        previous, blocks = ivs, []
        for start in range(0, size, 16):
            column = b"".join(padded[start : start + 16] for _i, padded in items)
            previous = encryptor.update(_xor(column, previous))
            blocks.append(previous)
        for k, (index, _padded) in enumerate(items):
            at = 16 * k
            body = header + ivs[at : at + 16] + b"".join([b[at : at + 16] for b in blocks])
            mac = signing.copy()
            mac.update(body)
            tokens[index] = base64.urlsafe_b64encode(body + mac.digest()).decode()
    return tokens


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode() if token else ""


@functools.lru_cache(maxsize=4)
def _hasher(data_key: str) -> hmac.HMAC:
    """The HMAC keyed for `data_key`, to be copied per number (half the cost of keying it again each time)."""
    return hmac.new(hashlib.sha256(b"bangfu-id-number:" + data_key.encode()).digest(), digestmod=hashlib.sha256)


def keyed_hash(number: str) -> str:
    """A stable HMAC of the number, so duplicates can be found without decrypting every row."""
    if not number:
        return ""
    mac = _hasher(settings.DATA_KEYS[0]).copy()
    mac.update(number.encode())
    return mac.hexdigest()
