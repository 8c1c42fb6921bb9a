"""The Simplified Chinese catalogue is complete, compiled, keeps its placeholders, and the pages use it."""

import gettext
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bangfu.organisation.models import User
from tests.conftest import World

LC_MESSAGES = Path(__file__).resolve().parent.parent / "src" / "bangfu" / "locale" / "zh_Hans" / "LC_MESSAGES"
PO_PATH = LC_MESSAGES / "django.po"
MO_PATH = LC_MESSAGES / "django.mo"

# %(name)s, %(count)d, %(seconds).1f, %s, %d and {name}; "%%" is a literal percent sign, not a placeholder.
PLACEHOLDER = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[sdifrx]|\{[A-Za-z_]\w*\}")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}


@dataclass
class PoEntry:
    msgid: str = ""
    msgctxt: str | None = None
    msgid_plural: str | None = None
    msgstr: str = ""
    msgstr_plural: dict[int, str] = field(default_factory=dict)
    flags: set[str] = field(default_factory=set)
    line: int = 0

    @property
    def translations(self) -> list[str]:
        if self.msgid_plural is None:
            return [self.msgstr]
        return [self.msgstr_plural[k] for k in sorted(self.msgstr_plural)]


def _unquote(text: str) -> str:
    body = text.strip()[1:-1]
    return re.sub(r"\\(.)", lambda m: ESCAPES[m.group(1)], body)


def parse_po(path: Path) -> list[PoEntry]:
    """A small .po reader: enough for makemessages output (no obsolete `#~` entries are expected)."""
    entries: list[PoEntry] = []
    current = PoEntry()
    target: tuple[str, int | None] | None = None

    def finish() -> None:
        nonlocal current, target
        if target is not None:
            entries.append(current)
        current, target = PoEntry(), None

    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            finish()
        elif line.startswith("#,"):
            if target is not None:
                finish()
            current.flags |= {flag.strip() for flag in line[2:].split(",")}
        elif line.startswith("#"):
            if target is not None:
                finish()
        elif line.startswith('"'):
            assert target is not None, f"{path.name}:{number}: a string continues nothing"
            name, index = target
            if index is None:
                setattr(current, name, getattr(current, name) + _unquote(line))
            else:
                current.msgstr_plural[index] += _unquote(line)
        else:
            match = re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")', line)
            assert match, f"{path.name}:{number}: cannot read {line!r}"
            keyword, index, value = match.group(1), match.group(2), _unquote(match.group(3))
            if keyword in ("msgctxt", "msgid") and target is not None and target[0] not in ("msgctxt",):
                finish()
            if not current.line:
                current.line = number
            if index is not None:
                current.msgstr_plural[int(index)] = value
                target = (keyword, int(index))
            else:
                setattr(current, keyword, value)
                target = (keyword, None)
    finish()
    return entries


def header_fields(entries: list[PoEntry]) -> dict[str, str]:
    header = next(e for e in entries if e.msgid == "" and e.msgctxt is None)
    return dict(line.split(": ", 1) for line in header.msgstr.splitlines() if ": " in line)


@pytest.fixture(scope="module")
def po_entries() -> list[PoEntry]:
    return parse_po(PO_PATH)


@pytest.fixture(scope="module")
def messages(po_entries: list[PoEntry]) -> list[PoEntry]:
    return [e for e in po_entries if e.msgid != ""]


def _where(entry: PoEntry) -> str:
    return f"django.po:{entry.line} {entry.msgid!r}"


def test_header_is_simplified_chinese_with_one_plural_form(po_entries: list[PoEntry]) -> None:
    header = header_fields(po_entries)
    assert header["Language"] == "zh_Hans"
    assert header["Plural-Forms"] == "nplurals=1; plural=0;"
    assert header["Content-Type"] == "text/plain; charset=UTF-8"
    assert header["Language-Team"] == "Bangfu"
    assert header["Last-Translator"] == "Bangfu"
    assert "fuzzy" not in next(e for e in po_entries if e.msgid == "").flags


def test_every_entry_is_translated_and_not_fuzzy(messages: list[PoEntry]) -> None:
    assert len(messages) > 500  # the parser read the whole catalogue
    untranslated = [_where(e) for e in messages if not all(t.strip() for t in e.translations)]
    fuzzy = [_where(e) for e in messages if "fuzzy" in e.flags]
    assert untranslated == []
    assert fuzzy == []
    plural_forms = [_where(e) for e in messages if e.msgid_plural is not None and sorted(e.msgstr_plural) != [0]]
    assert plural_forms == []  # nplurals=1: exactly msgstr[0]


def test_placeholders_are_kept(messages: list[PoEntry]) -> None:
    wrong = []
    for entry in messages:
        expected = set(PLACEHOLDER.findall(entry.msgid))
        if entry.msgid_plural is not None:
            expected |= set(PLACEHOLDER.findall(entry.msgid_plural))
        for text in entry.translations:
            if set(PLACEHOLDER.findall(text)) != expected:
                wrong.append((_where(entry), sorted(expected), text))
    assert wrong == []


def test_compiled_catalogue_matches_the_po(messages: list[PoEntry]) -> None:
    """A .po edited without running compilemessages fails here: the .mo is what the app reads."""
    with MO_PATH.open("rb") as fp:
        mo = gettext.GNUTranslations(fp)
    assert mo.info().get("language") == "zh_Hans"
    stale = []
    for entry in messages:
        if entry.msgid_plural is None:
            got = mo.gettext(entry.msgid) if entry.msgctxt is None else mo.pgettext(entry.msgctxt, entry.msgid)
            if got != entry.msgstr:
                stale.append((_where(entry), got, entry.msgstr))
        else:
            for n in (1, 2, 5):
                if entry.msgctxt is None:
                    got = mo.ngettext(entry.msgid, entry.msgid_plural, n)
                else:
                    got = mo.npgettext(entry.msgctxt, entry.msgid, entry.msgid_plural, n)
                if got != entry.msgstr_plural[0]:
                    stale.append((_where(entry), got, entry.msgstr_plural[0]))
    assert stale == []


def test_student_list_is_in_chinese_until_the_user_switches_to_english(world: World, as_user, chinese_default) -> None:  # type: ignore[no-untyped-def]
    client = as_user(world.office)

    page = client.get("/students/").content.decode()
    for chinese in ("学生", "学号", "姓名", "班级", "帮扶责任人", "添加学生", "清除筛选"):
        assert chinese in page, chinese
    for english in ("Students", "Student number", "Add a student", "Clear filters", "Helper", "Log out"):
        assert english not in page, english
    assert '<html lang="zh-CN">' in page

    response = client.post("/language/", {"language": "en", "next": "/students/"})
    assert response.status_code == 302
    assert User.objects.get(pk=world.office.pk).language == "en"

    page = client.get("/students/").content.decode()
    for english in ("Students", "Number", "Add a student", "Clear filters", "Helper", "Log out"):
        assert english in page, english
    for chinese in ("学号", "添加学生", "清除筛选", "退出登录"):
        assert chinese not in page, chinese
