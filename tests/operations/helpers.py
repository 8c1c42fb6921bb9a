"""Data the data-safety tests share: the world plus records that carry uploaded files."""

from __future__ import annotations

import datetime as dt
import io
import json
import tarfile
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from bangfu.assistance.models import Activity, ActivityKind
from bangfu.assistance.services import record_activity
from bangfu.outcomes.models import Destination, EvidenceKind
from bangfu.outcomes.services import attach_evidence, record_destination, verify_destination
from bangfu.students.models import LedgerEntry
from bangfu.students.services import attach_category_evidence
from tests.conftest import World
from tests.students.pages import PDF

CONTRACT = PDF + "田斌臣 劳动合同 石家庄华信科技有限公司".encode()
RESUME = PDF + "田斌臣 个人简历 第三版".encode()
CERTIFICATE = PDF + "脱贫户证明 辛集市扶贫办".encode()


def pdf(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def add_records_with_files(world: World, *, today: dt.date) -> tuple[Activity, Destination]:
    """For `own`: a résumé revision with its file, a verified labour contract, a poverty certificate."""
    activity = record_activity(
        actor=world.helper,
        student=world.own,
        kind=ActivityKind.RESUME_REVISION,
        occurred_on=today,
        today=today,
        notes="田斌臣的简历第三版：突出了服装设计实习经历。",
        attachment=pdf("田斌臣-简历.pdf", RESUME),
    )
    destination = record_destination(
        actor=world.helper,
        student=world.own,
        code="11",
        today=today,
        employer_name="石家庄华信科技有限公司",
        note="田斌臣签约，月薪4500元，离家近，方便照顾祖父母。",
        salary=4500,
    )
    destination = attach_evidence(
        actor=world.helper,
        destination=destination,
        evidence=pdf("劳动合同.pdf", CONTRACT),
        kind=EvidenceKind.LABOUR_CONTRACT,
    )
    destination = verify_destination(actor=world.leader, destination=destination, today=today)
    entry = LedgerEntry.objects.get(student=world.own)
    attach_category_evidence(
        actor=world.office, entry=entry, category="poverty_alleviated", evidence=pdf("证明.pdf", CERTIFICATE)
    )
    return activity, destination


def files_under(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def repack(source: Path, target: Path, *, manifest: Any = None, replace: dict[str, bytes] | None = None) -> None:
    """Copy an archive, changing its manifest (a function of the parsed one) or members' bytes on the way."""
    replace = replace or {}
    with tarfile.open(source, "r:gz") as old, tarfile.open(target, "w:gz") as new:
        for member in old.getmembers():
            data = old.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "manifest.json" and manifest is not None:
                data = json.dumps(manifest(json.loads(data))).encode()
            data = replace.get(member.name, data)
            member.size = len(data)
            new.addfile(member, io.BytesIO(data))
