import datetime as dt
import hashlib
import hmac

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ValidationError

from bangfu.students import idnumbers
from tests.factories import make_id_number


def test_valid_number_with_x_check_digit_is_normalised():
    # 11010519491231002X is the textbook example with an X check digit.
    assert idnumbers.validate(" 11010519491231002x ") == "11010519491231002X"


def test_full_width_digits_are_accepted():
    number = make_id_number()
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert idnumbers.validate(full_width) == number


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ("13018220030517123", "format"),  # 17 characters
        ("99018220030517123X", "region"),
        ("130182200302301234", "birth"),  # 30 February
        ("130182200305171230", "checksum"),
    ],
)
def test_invalid_numbers_say_what_is_wrong(raw, code):
    with pytest.raises(ValidationError) as exc:
        idnumbers.validate(raw if code != "checksum" else _wrong_check(raw))
    assert exc.value.code == code


@pytest.mark.parametrize(
    ("first17", "check"),
    [
        ("11010519491231002", "X"),  # GB 11643's example
        ("44052418800101001", "4"),
        ("13018220030517001", "5"),
        ("00000000000000000", "1"),  # a weighted sum of 0
    ],
)
def test_check_digit_of_known_numbers(first17, check):
    assert idnumbers.check_digit(first17) == check


def test_digits_of_other_scripts_are_not_an_id_number():
    # Arabic-Indic digits are digits to Python's \d, but no ID card carries them.
    with pytest.raises(ValidationError) as exc:
        idnumbers.validate("١١٠١٠٥١٩٤٩١٢٣١٠٠٢X")
    assert exc.value.code == "format"


def test_birth_date_after_the_given_day_is_refused():
    number = "11010519491231002X"
    assert idnumbers.validate(number, today=dt.date(1950, 1, 1)) == number
    with pytest.raises(ValidationError) as exc:
        idnumbers.validate(number, today=dt.date(1949, 12, 30))
    assert exc.value.code == "birth"


def test_keyed_hash_follows_the_current_key(settings):
    number = "11010519491231002X"
    before = idnumbers.keyed_hash(number)
    assert before == idnumbers.keyed_hash(number) and len(before) == 64
    # Stored hashes find duplicates across imports: the formula never changes.
    key = hashlib.sha256(b"bangfu-id-number:" + settings.DATA_KEYS[0].encode()).digest()
    assert before == hmac.new(key, number.encode(), "sha256").hexdigest()
    settings.DATA_KEYS = [Fernet.generate_key().decode(), *settings.DATA_KEYS]
    assert idnumbers.keyed_hash(number) != before


def _wrong_check(raw: str) -> str:
    right = idnumbers.check_digit(raw[:17])
    return raw[:17] + ("1" if right != "1" else "2")


def test_mask_hides_birth_date_and_keeps_region_and_tail():
    assert idnumbers.mask("13018220030517123X") == "130182********123X"


def test_encryption_round_trips_and_is_not_plain_text(settings):
    token = idnumbers.encrypt("13018220030517123X")
    assert "13018220030517123X" not in token
    assert idnumbers.decrypt(token) == "13018220030517123X"


def test_a_batch_is_encrypted_to_the_very_tokens_fernet_makes():
    key = Fernet.generate_key().decode()
    texts = ["13018220030517123X", "", "11010519491231002X", "à" * 8, "x" * 16, "长度不同的文本也可以加密"]
    ivs = bytes(range(256)) * 2
    taken: list[int] = []

    def fixed_ivs(n: int) -> bytes:  # the IVs handed out in order, as os.urandom would
        start = sum(taken)
        taken.append(n)
        return ivs[start : start + n]

    tokens = idnumbers.fernet_tokens(texts, key, 1_764_300_000, fixed_ivs)

    fernet, expected, handed = Fernet(key.encode()), [], 0
    by_length: dict[int, list[int]] = {}
    for i, text in enumerate(texts):  # the batch takes IVs per padded length, in order of first appearance
        if text:
            by_length.setdefault(len(text.encode()) // 16, []).append(i)
    iv_of = {}
    for indexes in by_length.values():
        for i in indexes:
            iv_of[i] = ivs[handed : handed + 16]
            handed += 16
    for i, text in enumerate(texts):
        made = fernet._encrypt_from_parts(text.encode(), 1_764_300_000, iv_of[i]).decode() if text else ""
        expected.append(made)
    assert tokens == expected
    assert [fernet.decrypt(t.encode()).decode() for t in tokens if t] == [t for t in texts if t]


def test_a_batch_takes_the_current_key_and_fresh_ivs(settings):
    settings.DATA_KEYS = [Fernet.generate_key().decode(), *settings.DATA_KEYS]
    tokens = idnumbers.encrypt_many(["13018220030517123X"] * 3)
    assert len(set(tokens)) == 3  # each its own IV
    assert {Fernet(settings.DATA_KEYS[0].encode()).decrypt(t.encode()) for t in tokens} == {b"13018220030517123X"}
