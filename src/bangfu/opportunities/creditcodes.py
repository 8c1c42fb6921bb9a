"""Unified social credit codes (统一社会信用代码, GB 32100-2015): 18 characters with a check character."""

import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # 31 characters: no I, O, S, V, Z
_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def normalise(raw: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", raw or "")).upper()


def check_char(first17: str) -> str:
    total = sum(_CHARS.index(c) * w for c, w in zip(first17, _WEIGHTS, strict=True))
    return _CHARS[(31 - total % 31) % 31]


def validate(raw: str) -> str:
    """Return the normalised code or raise ValidationError saying what is wrong."""
    code = normalise(raw)
    if len(code) != 18 or any(c not in _CHARS for c in code):
        raise ValidationError(
            _("A unified social credit code has 18 characters: digits and capital letters except I, O, S, V and Z."),
            code="format",
        )
    if check_char(code[:17]) != code[17]:
        raise ValidationError(
            _("The credit code's check character is wrong: please check it for a typing error."), code="checksum"
        )
    return code


def name_key(name: str) -> str:
    """An employer name reduced for duplicate detection: width, spaces, brackets and case do not matter."""
    text = unicodedata.normalize("NFKC", name or "").lower()
    return re.sub(r"[\s()\[\]【】·.,，、\-]+", "", text)
