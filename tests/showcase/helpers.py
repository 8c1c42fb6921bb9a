"""Shared set-up for the exemplary-case tests: the default types, a student with everything a public page must
not show, and a case taken through the workflow up to a status."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from bangfu.organisation.models import User
from bangfu.showcase import services
from bangfu.showcase.models import Case, CaseStatus, CaseType, Consent
from bangfu.students.models import Student
from bangfu.students.services import join_ledger
from tests.conftest import TODAY, World
from tests.factories import make_student, system_user

S = CaseStatus
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"

# What the public page must never print unless consented (and some never at all).
PHONE = "13931186502"
FAMILY_LEDGER = "母亲常年卧病在床，父亲在邢台农村务农，家中还有一个正在读初中的弟弟。"
FAMILY_STORY = "家中母亲长期患病，父亲靠种地维持全家生计。"
FAMILY_STORY_EN = "Her mother has long been ill; her father farms to keep the family."
STORY = "她在校期间三次参加省级技能大赛，毕业前签约石家庄一家软件企业，成为测试团队的骨干。"
STORY_EN = "She entered the provincial skills contest three times and signed with a software company."


def png(name: str = "合影.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG, content_type="image/png")


def pdf(name: str = "授权书.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def install_types(world: World) -> dict[str, CaseType]:
    services.install_default_types(actor=world.office, school=world.school)
    return {t.code: t for t in CaseType.objects.filter(school=world.school)}


def private_student(world: World) -> Student:
    """王晓燕 of class1 (dept1): a phone, an ID number, a family situation in the ledger."""
    student = make_student(world.class1, name="王晓燕", phone=PHONE, address="河北省邢台市威县赵村乡东街村12号")
    join_ledger(
        actor=system_user(),
        student=student,
        joined_on=dt.date(2021, 11, 1),
        reason="入学普查：低保家庭",
        categories=["subsistence_allowance"],
        family_situation=FAMILY_LEDGER,
        today=TODAY,
    )
    return student


def nominate(world: World, student: Student, case_type: CaseType, *, by: User | None = None, **texts: Any) -> Case:
    fields = {
        "title": "从技能大赛走向软件测试岗位",
        "title_en": "From the skills contest to a software-testing job",
        "story": STORY,
        "story_en": STORY_EN,
        "family_story": FAMILY_STORY,
        "family_story_en": FAMILY_STORY_EN,
        "employer": "石家庄华信科技有限公司",
        "position": "软件测试工程师",
    }
    fields.update(texts)
    return services.nominate_case(
        actor=by or world.leader,
        student=student,
        case_type=case_type,
        today=TODAY,
        photo=fields.pop("photo", None),
        **fields,
    )


def consent(world: World, student: Student, *, by: User | None = None, **shown: Any) -> Consent:
    """A consent given on 2024-03-01: surname only and the story, unless told otherwise."""
    name_shown = shown.pop("name_shown", "surname")
    flags = {"show_story": True, **shown}
    return services.record_consent(
        actor=by or world.leader,
        student=student,
        given_on=dt.date(2024, 3, 1),
        name_shown=name_shown,
        today=TODAY,
        **flags,
    )


def take(world: World, case: Case, upto: str) -> Case:
    """Move a nominated case to `upto` (approved or published) as the office."""
    if upto in (S.APPROVED, S.PUBLISHED):
        case = services.approve_case(actor=world.office, case=case, today=TODAY)
    if upto == S.PUBLISHED:
        case = services.publish_case(actor=world.office, case=case, today=TODAY)
    return case
