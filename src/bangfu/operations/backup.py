"""One-file backups (tar + gzip) of the database and the uploaded files, and their verified restore.

The archive holds, in this order: the database dump (`database.sqlite3`, a consistent copy made with SQLite's online
backup API, or `database.pgdump`, PostgreSQL's custom format from `pg_dump -Fc`), every uploaded file under
`media/`, and last `manifest.json`: format and version, engine, the applied migrations, each table's row count
and checksum, and each member's size and SHA-256. The table checksums describe exactly the dump: on SQLite they
are computed on the copied file, on PostgreSQL in the same snapshot that `pg_dump` reads (`--snapshot`).

A restore first reads the whole archive and checks it against its manifest; a damaged or foreign archive is
refused before anything is touched. It then restores the database and the files and recomputes every checksum.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path, PurePosixPath
from typing import IO, Any

from django.conf import settings
from django.db import connections, transaction
from django.db.migrations.loader import MigrationLoader
from django.db.utils import load_backend
from django.utils import timezone
from django.utils.translation import gettext as _

from bangfu.operations.checksums import (
    HashingReader,
    applied_migrations,
    comparable_columns,
    compare_tables,
    database_checksums,
    media_files,
    media_manifest,
    sha256_stream,
)

FORMAT = "bangfu-backup"
FORMAT_VERSION = 1
MANIFEST = "manifest.json"
MEDIA_PREFIX = "media/"
DB_MEMBERS = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
SNAPSHOT_ALIAS = "bangfu_backup_snapshot"


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


def engine_of(using: str = "default") -> str:
    vendor = connections[using].vendor
    if vendor not in DB_MEMBERS:
        raise BackupError(_("Backups support SQLite and PostgreSQL, not %(vendor)s.") % {"vendor": vendor})
    return vendor


def default_archive_name(now: dt.datetime | None = None) -> str:
    now = timezone.localtime(now)
    return f"bangfu-backup-{now:%Y%m%d-%H%M%S}.tar.gz"


def _bangfu_version() -> str:
    try:
        return version("bangfu")
    except PackageNotFoundError:
        return ""


# --- PostgreSQL client tools ----------------------------------------------------------------------------------

_PG_OPTION_ENV = {
    "sslmode": "PGSSLMODE",
    "sslrootcert": "PGSSLROOTCERT",
    "sslcert": "PGSSLCERT",
    "sslkey": "PGSSLKEY",
}


def _pg_env(using: str) -> dict[str, str]:
    """The connection of `using` (settings.DATABASES, as Django runs it) as libpq environment variables."""
    s = connections[using].settings_dict
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if s.get(key):
            env[name] = str(s[key])
    env["PGDATABASE"] = str(s["NAME"])
    for option, name in _PG_OPTION_ENV.items():
        if s.get("OPTIONS", {}).get(option):
            env[name] = str(s["OPTIONS"][option])
    return env


def _run(command: list[str], env: dict[str, str]) -> None:
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError:
        raise BackupError(
            _("%(tool)s is not installed: install the PostgreSQL client tools of the server's version.")
            % {"tool": command[0]}
        ) from None
    if done.returncode != 0:
        raise BackupError(
            _("%(tool)s failed: %(error)s") % {"tool": command[0], "error": done.stderr.strip() or done.returncode}
        )


# --- Backup ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _sqlite_file(path: Path, like: str) -> Iterator[str]:
    """A database alias for a copied SQLite file, so its checksums are read through the ORM like the live one.
    The alias is not added to settings.DATABASES: it exists only for this block."""
    settings_dict = {**connections[like].settings_dict, "NAME": str(path), "OPTIONS": {}, "CONN_MAX_AGE": 0}
    wrapper = load_backend(settings_dict["ENGINE"]).DatabaseWrapper(settings_dict, SNAPSHOT_ALIAS)
    connections[SNAPSHOT_ALIAS] = wrapper
    try:
        yield SNAPSHOT_ALIAS
    finally:
        wrapper.close()
        del connections[SNAPSHOT_ALIAS]


def _dump_sqlite(dump: Path, using: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    connection = connections[using]
    connection.ensure_connection()
    target = sqlite3.connect(dump)
    try:
        # One step: the whole copy is made under one read lock, so it is consistent while the app writes.
        connection.connection.backup(target)
        target.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        target.close()
    with _sqlite_file(dump, using) as alias:
        return database_checksums(alias), applied_migrations(alias)


def _dump_postgres(dump: Path, using: str) -> tuple[dict[str, Any], dict[str, list[str]]]:
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError(_("A PostgreSQL backup cannot run inside a transaction."))
    connection.ensure_connection()
    with transaction.atomic(using=using), connection.cursor() as cursor:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cursor.execute("SELECT pg_export_snapshot()")
        (snapshot,) = cursor.fetchone()
        # pg_dump reads the snapshot this transaction holds; the checksums below read the very same one.
        # -Z0: the archive is gzipped as a whole, compressing twice would only cost time.
        _run(["pg_dump", "-Fc", "-Z0", f"--snapshot={snapshot}", "-f", str(dump)], _pg_env(using))
        return database_checksums(using), applied_migrations(using)


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]

    @property
    def size(self) -> int:
        return self.path.stat().st_size


def _add_member(tar: tarfile.TarFile, name: str, path: Path) -> dict[str, Any]:
    with path.open("rb") as f:
        info = tar.gettarinfo(fileobj=f, arcname=name)
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        reader = HashingReader(f)
        tar.addfile(info, reader)
    return {"path": name.removeprefix(MEDIA_PREFIX), "size": reader.size, "sha256": reader.digest.hexdigest()}


def create_backup(*, output: Path, using: str = "default", media_root: Path | None = None) -> BackupResult:
    """Write one archive to `output` (written beside it under another name, then renamed into place)."""
    engine = engine_of(using)
    media_root = Path(media_root or settings.MEDIA_ROOT)
    output = output.resolve()
    output.parent.mkdir(parents=True, exist_ok=True)
    partial = output.with_name(output.name + ".partial")
    with tempfile.TemporaryDirectory(prefix=".bangfu-backup-", dir=output.parent) as work:
        dump = Path(work) / DB_MEMBERS[engine]
        if engine == "sqlite":
            tables, migrations = _dump_sqlite(dump, using)
        else:
            tables, migrations = _dump_postgres(dump, using)
        try:
            with tarfile.open(partial, "w:gz", compresslevel=6) as tar:
                database = _add_member(tar, DB_MEMBERS[engine], dump)
                files = [_add_member(tar, MEDIA_PREFIX + name, path) for name, path in media_files(media_root)]
                manifest = {
                    "format": FORMAT,
                    "format_version": FORMAT_VERSION,
                    "created_at": timezone.now().isoformat(),
                    "bangfu_version": _bangfu_version(),
                    "engine": engine,
                    "database": {"member": database["path"], "size": database["size"], "sha256": database["sha256"]},
                    "migrations": migrations,
                    "tables": tables,
                    "files": files,
                }
                data = json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True).encode()
                info = tarfile.TarInfo(MANIFEST)
                info.size, info.mtime, info.mode = len(data), int(timezone.now().timestamp()), 0o600
                tar.addfile(info, io.BytesIO(data))
            os.chmod(partial, 0o600)  # it holds every student's data
            os.replace(partial, output)
        except OSError as e:
            partial.unlink(missing_ok=True)
            raise BackupError(_("Could not write the backup: %(error)s") % {"error": e}) from e
    return BackupResult(path=output, manifest=manifest)


# --- Restore --------------------------------------------------------------------------------------------------


@dataclass
class VerifiedArchive:
    """An archive read end to end and found to match its manifest; the database dump is staged in `workdir`."""

    path: Path
    manifest: dict[str, Any]
    dump: Path
    pending_migrations: list[str]
    workdir: tempfile.TemporaryDirectory[str]

    def cleanup(self) -> None:
        self.workdir.cleanup()


@dataclass
class RestoreReport:
    files_written: int = 0
    files_unchanged: int = 0
    files_removed: int = 0
    problems: list[str] = field(default_factory=list)
    pending_migrations: list[str] = field(default_factory=list)


def _damaged(path: Path, reason: object) -> BackupError:
    return BackupError(
        _("%(path)s is not a Bangfu backup or it is damaged (%(reason)s). Nothing was changed.")
        % {"path": path, "reason": reason}
    )


def _media_name(member: tarfile.TarInfo) -> str | None:
    """The file's path under MEDIA_ROOT for a safe media member; None for other members. Refuses what could
    write outside MEDIA_ROOT (absolute paths, `..`, links, devices)."""
    if not member.name.startswith(MEDIA_PREFIX):
        return None
    relative = PurePosixPath(member.name.removeprefix(MEDIA_PREFIX))
    if not member.isfile() or relative.is_absolute() or ".." in relative.parts or not relative.parts:
        raise BackupError(_("The archive holds an unsafe entry: %(name)s.") % {"name": member.name})
    return relative.as_posix()


@contextlib.contextmanager
def _reading(path: Path) -> Iterator[None]:
    """Errors of the compressed stream (truncated, corrupted, not gzip at all) mean a damaged archive."""
    try:
        yield
    except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as e:
        raise _damaged(path, e) from e


def _tar_members(path: Path) -> Iterator[tuple[tarfile.TarInfo, IO[bytes]]]:
    """The archive's regular members with a reader each, in one sequential pass (use inside `_reading`)."""
    with tarfile.open(path, "r|gz") as tar:
        for member in tar:
            reader = tar.extractfile(member)
            if reader is None:
                raise BackupError(_("The archive holds an unexpected entry: %(name)s.") % {"name": member.name})
            yield member, reader


def _known_migrations() -> set[tuple[str, str]]:
    return set(MigrationLoader(None, ignore_no_migrations=True).disk_migrations)


def verify_archive(path: Path, *, using: str = "default") -> VerifiedArchive:
    """Read the whole archive, stage its database dump and check every member against the manifest."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(_("%(path)s does not exist.") % {"path": path})
    engine = engine_of(using)
    work = tempfile.TemporaryDirectory(prefix=".bangfu-restore-", dir=settings.VAR_DIR)
    try:
        manifest: Any = None
        dump: Path | None = None
        seen: dict[str, tuple[int, str]] = {}
        with _reading(path):
            for member, reader in _tar_members(path):
                if member.name == MANIFEST:
                    try:
                        manifest = json.loads(reader.read())
                    except (ValueError, UnicodeDecodeError) as e:
                        raise _damaged(path, _("the manifest is not valid JSON")) from e
                elif member.name in DB_MEMBERS.values():
                    dump = Path(work.name) / member.name
                    with dump.open("wb") as out:
                        hashing = HashingReader(reader)
                        shutil.copyfileobj(hashing, out)
                    seen[member.name] = (hashing.size, hashing.digest.hexdigest())
                elif (name := _media_name(member)) is not None:
                    seen[MEDIA_PREFIX + name] = sha256_stream(reader)
                else:
                    raise _damaged(path, _("unexpected entry %(name)s") % {"name": member.name})
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise _damaged(path, _("it has no Bangfu manifest"))
        if manifest.get("format_version") != FORMAT_VERSION:
            raise BackupError(
                _("The backup has format version %(found)s; this Bangfu reads version %(ours)s. Nothing was changed.")
                % {"found": manifest.get("format_version"), "ours": FORMAT_VERSION}
            )
        if manifest.get("engine") != engine:
            raise BackupError(
                _(
                    "The backup was made from a %(theirs)s database; this installation uses %(ours)s. "
                    "Nothing was changed."
                )
                % {
                    "theirs": ENGINE_NAMES.get(str(manifest.get("engine")), manifest.get("engine")),
                    "ours": ENGINE_NAMES[engine],
                }
            )
        _check_members(path, manifest, seen, dump)
        applied = {(app, name) for app, names in manifest["migrations"].items() for name in names}
        known = _known_migrations()
        unknown = sorted(f"{app}.{name}" for app, name in applied - known)
        if unknown:
            raise BackupError(
                _(
                    "The backup was made by a newer version of Bangfu (migrations %(names)s are unknown here). "
                    "Install that version first. Nothing was changed."
                )
                % {"names": ", ".join(unknown[:5])}
            )
        pending = sorted(f"{app}.{name}" for app, name in known - applied)
        assert dump is not None
        return VerifiedArchive(path=path, manifest=manifest, dump=dump, pending_migrations=pending, workdir=work)
    except BaseException:
        work.cleanup()
        raise


def _check_members(path: Path, manifest: dict[str, Any], seen: dict[str, tuple[int, str]], dump: Path | None) -> None:
    try:
        database = manifest["database"]
        expected = {database["member"]: (database["size"], database["sha256"])}
        expected |= {MEDIA_PREFIX + f["path"]: (f["size"], f["sha256"]) for f in manifest["files"]}
        for entry in manifest["tables"].values():
            entry["rows"], entry["sha256"], list(entry["columns"])
        manifest["migrations"].items()
    except (KeyError, TypeError, AttributeError) as e:
        raise _damaged(path, _("the manifest is incomplete")) from e
    if dump is None or database["member"] != DB_MEMBERS[manifest["engine"]]:
        raise _damaged(path, _("the database dump is missing"))
    missing = sorted(set(expected) - set(seen))
    extra = sorted(set(seen) - set(expected))
    changed = sorted(name for name in set(expected) & set(seen) if expected[name] != seen[name])
    if missing or extra or changed:
        parts = []
        if missing:
            parts.append(_("missing: %(names)s") % {"names": ", ".join(missing[:5])})
        if extra:
            parts.append(_("not listed: %(names)s") % {"names": ", ".join(extra[:5])})
        if changed:
            parts.append(_("checksum differs: %(names)s") % {"names": ", ".join(changed[:5])})
        raise _damaged(path, "; ".join(parts))


def _restore_sqlite(dump: Path, using: str) -> None:
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError(_("A SQLite restore cannot run inside a transaction."))
    connection.ensure_connection()
    source = sqlite3.connect(dump)
    try:
        # The backup API in reverse: the live database's pages are replaced in one step, under its write lock.
        source.backup(connection.connection)
    finally:
        source.close()


def _restore_postgres(dump: Path, using: str) -> None:
    connection = connections[using]
    if connection.in_atomic_block:
        raise BackupError(_("A PostgreSQL restore cannot run inside a transaction."))
    connection.close()  # our own session must not hold a lock on a table pg_restore drops
    _run(
        [
            "pg_restore",
            "--clean",
            "--if-exists",
            "--single-transaction",  # all or nothing: a failed restore leaves the database as it was
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "-d",
            str(connections[using].settings_dict["NAME"]),
            str(dump),
        ],
        _pg_env(using),
    )


def _restore_media(verified: VerifiedArchive, root: Path, report: RestoreReport) -> None:
    """Make MEDIA_ROOT hold exactly the archived files: write what differs (through a temporary name, then
    renamed), leave what is equal, remove what the backup did not have."""
    listed = {f["path"]: f["sha256"] for f in verified.manifest["files"]}
    current = {name: path for name, path in media_files(root)}
    with _reading(verified.path):
        for member, reader in _tar_members(verified.path):
            name = _media_name(member)
            if name is None:
                continue
            target = root / name
            if name in current:
                with target.open("rb") as f:
                    if sha256_stream(f)[1] == listed[name]:
                        report.files_unchanged += 1
                        continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=target.parent, prefix=".restoring-", delete=False) as out:
                shutil.copyfileobj(reader, out)
            os.chmod(out.name, settings.FILE_UPLOAD_PERMISSIONS or 0o644)
            os.replace(out.name, target)
            report.files_written += 1
    for name, path in current.items():
        if name not in listed:
            path.unlink()
            report.files_removed += 1
    for directory in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        with contextlib.suppress(OSError):
            directory.rmdir()  # only empty ones go


def restore_verified(
    verified: VerifiedArchive, *, using: str = "default", media_root: Path | None = None
) -> RestoreReport:
    """Restore an archive `verify_archive` accepted, then check the result against the manifest."""
    media_root = Path(media_root or settings.MEDIA_ROOT)
    report = RestoreReport(pending_migrations=verified.pending_migrations)
    if verified.manifest["engine"] == "sqlite":
        _restore_sqlite(verified.dump, using)
    else:
        _restore_postgres(verified.dump, using)
    _restore_media(verified, media_root, report)
    columns, report.problems = comparable_columns(verified.manifest["tables"])
    expected = {table: entry for table, entry in verified.manifest["tables"].items() if table in columns}
    report.problems += compare_tables(expected, database_checksums(using, columns))
    files_now = {f["path"]: (f["size"], f["sha256"]) for f in media_manifest(media_root)}
    files_then = {f["path"]: (f["size"], f["sha256"]) for f in verified.manifest["files"]}
    for name in sorted(set(files_now) | set(files_then)):
        if files_now.get(name) != files_then.get(name):
            report.problems.append(f"media/{name}: differs from the backup")
    return report
