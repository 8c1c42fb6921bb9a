"""`bangfu backup` and `bangfu restore` on the configured engine: SQLite in `make test`, PostgreSQL in the
PostgreSQL pass (pg_dump -Fc / pg_restore into the worker's own test database, in a transactional test, so the
restore replaces only what this test made and the flush after it cleans up as usual)."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
import subprocess
import tarfile
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from bangfu.assistance.models import Activity
from bangfu.audit.models import AccessAction, AccessLog
from bangfu.operations.backup import FORMAT_VERSION
from bangfu.operations.checksums import _canonical, database_checksums, table_checksum
from bangfu.organisation.models import OrgUnit, User
from bangfu.students.models import Student
from bangfu.subsidies.models import Budget, SubsidyType
from tests.conftest import TODAY
from tests.operations.helpers import CERTIFICATE, CONTRACT, RESUME, add_records_with_files, files_under, repack


@pytest.fixture
def media(settings, tmp_path: Path) -> Path:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def members(path: Path) -> dict[str, bytes]:
    with tarfile.open(path, "r:gz") as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]


def backup(path: Path) -> str:
    out = io.StringIO()
    call_command("backup", "--output", str(path), stdout=out)
    return out.getvalue()


def restore(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("restore", str(path), *args, stdout=out, stderr=out)
    return out.getvalue()


def assert_real_dump(path: Path, data: bytes) -> None:
    """The dump in the archive is the engine's own format, readable by its own tools."""
    path.write_bytes(data)
    if connection.vendor == "sqlite":
        db = sqlite3.connect(path)
        assert db.execute("PRAGMA journal_mode").fetchone() == ("delete",)
        names = db.execute("SELECT name FROM students_student ORDER BY name").fetchall()
        db.close()
        assert names == [("刘洋",), ("孙磊",), ("田斌臣",), ("陈静",)]
    else:
        assert data.startswith(b"PGDMP")
        listing = subprocess.run(["pg_restore", "--list", str(path)], capture_output=True, text=True, check=True)
        assert "TABLE DATA public students_student" in listing.stdout


def test_round_trip_restores_every_table_and_file(transactional_db: None, world, media: Path, tmp_path: Path) -> None:
    activity, destination = add_records_with_files(world, today=TODAY)
    archive = tmp_path / "nightly.tar.gz"
    before = database_checksums()
    files_before = files_under(media)
    assert sorted(files_before.values()) == sorted([RESUME, CONTRACT, CERTIFICATE])

    said = backup(archive)

    assert f"Backup written to {archive}" in said
    contents = members(archive)
    manifest = json.loads(contents["manifest.json"])
    engine = connection.vendor
    assert (manifest["format"], manifest["format_version"], manifest["engine"]) == ("bangfu-backup", 1, engine)
    assert manifest["tables"] == before
    assert manifest["tables"]["students_student"]["rows"] == 4
    assert manifest["migrations"]["operations"] == ["0001_initial"]
    assert {f["path"]: f["size"] for f in manifest["files"]} == {k: len(v) for k, v in files_before.items()}
    assert {f"media/{k}": v for k, v in files_before.items()}.items() <= contents.items()
    dump_name = "database.sqlite3" if engine == "sqlite" else "database.pgdump"
    assert_real_dump(tmp_path / dump_name, contents[dump_name])

    # Everything changes after the backup: a record edited, a student and an activity deleted, rows added,
    # one file overwritten, one deleted, one added.
    Student.objects.filter(pk=world.own.pk).update(name="改掉的名字", phone="13800000000")
    Student.objects.filter(pk=world.dept2_student.pk).delete()
    AccessLog.objects.create(actor=world.office, action=AccessAction.EXPORT, detail="after the backup")
    (media / destination.evidence.name).write_bytes(b"%PDF-1.4 overwritten")
    (media / activity.attachment.name).unlink()
    (media / "evidence" / "later.pdf").write_bytes(b"%PDF-1.4 uploaded after the backup")
    changed = database_checksums()
    assert changed["students_student"]["rows"] == 3
    assert changed["audit_accesslog"]["rows"] == before["audit_accesslog"]["rows"] + 1
    assert changed["students_student"] != before["students_student"]

    said = restore(archive, "--yes")

    assert "Every table's row count and checksum and every file match the backup." in said
    # Two files differed from the backup (one overwritten, one deleted), one did not, one was not in it.
    assert "2 written, 1 unchanged, 1 removed" in said
    assert database_checksums() == before
    assert files_under(media) == files_before
    own = Student.objects.get(pk=world.own.pk)
    assert (own.name, own.phone) == ("田斌臣", "")
    assert Student.objects.filter(pk=world.dept2_student.pk).exists()
    assert Activity.objects.get(pk=activity.pk).attachment.read() == RESUME


def test_damaged_or_foreign_archives_are_refused_and_mismatches_reported(
    transactional_db: None, world, media: Path, tmp_path: Path
) -> None:
    add_records_with_files(world, today=TODAY)
    good = tmp_path / "good.tar.gz"
    backup(good)
    raw = good.read_bytes()
    manifest = json.loads(members(good)["manifest.json"])
    some_file = "media/" + manifest["files"][0]["path"]
    other_engine = "postgresql" if connection.vendor == "sqlite" else "sqlite"
    Student.objects.filter(pk=world.own.pk).update(name="备份之后改的")
    (media / "later.pdf").write_bytes(b"%PDF-1.4 after")
    state, files = database_checksums(), files_under(media)

    def refused(path: Path, *args: str) -> str:
        with pytest.raises(CommandError) as e:
            restore(path, *args)
        assert files_under(media) == files
        return str(e.value)

    not_gzip = tmp_path / "notes.tar.gz"
    not_gzip.write_text("not a backup at all")
    assert "is not a Bangfu backup or it is damaged" in refused(not_gzip, "--yes")

    foreign = tmp_path / "foreign.tar.gz"
    with tarfile.open(foreign, "w:gz") as tar:
        data = b"some other program's backup"
        info = tarfile.TarInfo("dump.sql")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    assert "unexpected entry dump.sql" in refused(foreign, "--yes")

    truncated = tmp_path / "truncated.tar.gz"
    truncated.write_bytes(raw[: len(raw) // 2])
    assert "is not a Bangfu backup or it is damaged" in refused(truncated, "--yes")

    flipped = tmp_path / "flipped.tar.gz"
    middle = len(raw) // 2
    flipped.write_bytes(raw[:middle] + bytes([raw[middle] ^ 0xFF]) + raw[middle + 1 :])
    assert "is not a Bangfu backup or it is damaged" in refused(flipped, "--yes")

    tampered = tmp_path / "tampered.tar.gz"
    repack(good, tampered, replace={some_file: b"%PDF-1.4 forged"})
    assert f"checksum differs: {some_file}" in refused(tampered, "--yes")

    no_manifest = tmp_path / "no-manifest.tar.gz"
    repack(good, no_manifest, manifest=lambda m: {"something": "else"})
    assert "it has no Bangfu manifest" in refused(no_manifest, "--yes")

    newer_format = tmp_path / "newer.tar.gz"
    repack(good, newer_format, manifest=lambda m: m | {"format_version": FORMAT_VERSION + 1})
    assert "has format version 2" in refused(newer_format, "--yes")

    wrong_engine = tmp_path / "engine.tar.gz"
    repack(good, wrong_engine, manifest=lambda m: m | {"engine": other_engine})
    assert "was made from a" in refused(wrong_engine, "--yes")

    newer_code = tmp_path / "newer-code.tar.gz"
    later = {"students": [*manifest["migrations"]["students"], "9999_from_the_future"]}
    repack(good, newer_code, manifest=lambda m: m | {"migrations": m["migrations"] | later})
    assert "students.9999_from_the_future" in refused(newer_code, "--yes")

    # A good archive still needs a "yes": without a terminal the answer is no.
    assert "Not restored: nothing was changed" in refused(good)
    assert database_checksums() == state  # no refusal touched a table

    # An archive whose members are intact but whose data does not match its own table checksums is restored,
    # and every difference is reported with a non-zero exit.
    def wrong_counts(m: dict) -> dict:  # type: ignore[type-arg]
        m["tables"]["students_student"]["rows"] += 1
        m["tables"]["students_ledgerentry"]["sha256"] = "0" * 64
        return m

    inconsistent = tmp_path / "inconsistent.tar.gz"
    repack(good, inconsistent, manifest=wrong_counts)
    out = io.StringIO()
    with pytest.raises(CommandError, match="differs from the backup in 2 places"):
        call_command("restore", str(inconsistent), "--yes", stdout=out, stderr=out)
    assert "students_student: 4 rows, the backup had 5" in out.getvalue()
    assert "students_ledgerentry: same number of rows (1) but different contents" in out.getvalue()
    assert Student.objects.get(pk=world.own.pk).name == "田斌臣"  # the backup's data is back all the same


def test_checksums_do_not_depend_on_the_engine(db: None) -> None:
    """The same rows give the same checksum on SQLite and PostgreSQL: the expected values below were computed
    once and hold on both (decimals, JSON key order, time zones, IP addresses, NULLs)."""
    school = OrgUnit.objects.bulk_create(
        [OrgUnit(pk=7, public_id=uuid.UUID(int=7), kind="school", code="S", name="示例大学", path="/S/")]
    )[0]
    SubsidyType.objects.bulk_create(
        [
            SubsidyType(
                pk=3,
                public_id=uuid.UUID(int=3),
                school=school,
                code="job_search",
                name="求职创业补贴",
                name_en="Job-search subsidy",
                categories={"b": [1, 2.5], "a": "低保"},
                stages=["job_search"],
                amount=Decimal("1500.50"),
            )
        ]
    )
    Budget.objects.bulk_create([Budget(pk=1, subsidy_type_id=3, year=2024, amount=Decimal("200000"))])
    user = User.objects.create(pk=11, username="checker", date_joined=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    shanghai = dt.timezone(dt.timedelta(hours=8))
    AccessLog.objects.bulk_create(
        [
            AccessLog(pk=1, actor=user, action="export", detail="全校名单", ip_address="10.1.2.3"),
            AccessLog(pk=2, actor=user, action="reveal_id", fields="id_number", ip_address=None),
        ]
    )
    AccessLog.objects.filter(pk=1).update(at=dt.datetime(2024, 3, 15, 9, 30, 0, 123456, tzinfo=shanghai))
    AccessLog.objects.filter(pk=2).update(at=dt.datetime(2024, 3, 15, 1, 30, tzinfo=dt.UTC))

    assert _canonical(Decimal("1500.50")) == _canonical(Decimal("1500.5")) == "1500.5"
    assert _canonical({"b": 1, "a": 2}) == _canonical({"a": 2, "b": 1})
    assert _canonical(dt.datetime(2024, 3, 15, 9, 30, tzinfo=shanghai)) == "2024-03-15T01:30:00+00:00"
    assert {m.__name__: table_checksum(m) for m in (OrgUnit, SubsidyType, Budget, AccessLog)} == {
        "OrgUnit": {"rows": 1, "sha256": "69732b9d7cb0e872f43c780ddc53ba005088b69f39afa576c238fe17d595de4a"},
        "SubsidyType": {"rows": 1, "sha256": "ebbe226fdb767670eae300ae2ff117577eb2b3b8bb233689d97f19d805cf6efb"},
        "Budget": {"rows": 1, "sha256": "92c984f690ced13f671e52df306e4eed981cfb07ca90d8adab2d1f7100bd8525"},
        "AccessLog": {"rows": 2, "sha256": "7c9040571fd26722cf1991e4c7faa9a6c4e8f784a947086804d41415e0662a80"},
    }


@pytest.mark.postgres
def test_postgres_backup_is_one_snapshot_even_while_others_write(
    transactional_db: None, world, media: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A write committed by another session after the backup's snapshot is taken (just before pg_dump starts) is
    neither in the dump nor in the manifest's checksums: both describe the same moment."""
    import psycopg

    from bangfu.operations import backup as backup_module

    settings_dict = connection.settings_dict
    real_run = backup_module._run
    before = database_checksums()

    def run_after_another_write(command: list[str], env: dict[str, str]) -> None:
        other = psycopg.connect(
            host=settings_dict["HOST"], port=settings_dict["PORT"], user=settings_dict["USER"],
            dbname=settings_dict["NAME"], autocommit=True,
        )  # fmt: skip
        other.execute("UPDATE students_student SET name = '并发写入' WHERE id = %s", [world.own.pk])
        other.close()
        real_run(command, env)

    monkeypatch.setattr(backup_module, "_run", run_after_another_write)
    archive = tmp_path / "b.tar.gz"
    backup(archive)

    assert Student.objects.get(pk=world.own.pk).name == "并发写入"  # the write happened, during the backup
    contents = members(archive)
    assert json.loads(contents["manifest.json"])["tables"] == before
    dump = tmp_path / "database.pgdump"
    dump.write_bytes(contents["database.pgdump"])
    rows = subprocess.run(
        ["pg_restore", "--data-only", "--table=students_student", "-f", "-", str(dump)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "田斌臣" in rows and "并发写入" not in rows
