"""Where the benchmark data set lives and how a bench script starts Django against it.

The data set is a separate SQLite database under `var/bench/` (or `--var-dir`): the scripts point
`BANGFU_VAR_DIR` there before Django reads its settings, so the app's own database, secret and data key in
`var/` are never touched. `bench.json` beside the database records how the data set was built; it is written
last, so a data set without it was interrupted and is rebuilt.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_VAR_DIR = REPO / "var" / "bench"
META_NAME = "bench.json"
DB_NAME = "bangfu.sqlite3"
# Empty SQLite databases migrated once per set of migrations and dependencies (see `migrate`).
SCHEMA_DIR = REPO / "var" / "bench-schema"


def meta_path(var_dir: Path) -> Path:
    return var_dir / META_NAME


def read_meta(var_dir: Path) -> dict[str, Any] | None:
    path = meta_path(var_dir)
    if not path.exists() or not (var_dir / DB_NAME).exists():
        return None
    meta = json.loads(path.read_text())
    meta["today"] = dt.date.fromisoformat(meta["today"])
    return meta


def write_meta(var_dir: Path, meta: dict[str, Any]) -> None:
    data = {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in meta.items()}
    meta_path(var_dir).write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n")


def remove_data_set(var_dir: Path) -> None:
    """Delete the database (and its WAL files) and the record of how it was built; keys and media stay."""
    for name in (META_NAME, DB_NAME, DB_NAME + "-wal", DB_NAME + "-shm", DB_NAME + "-journal"):
        (var_dir / name).unlink(missing_ok=True)


def setup_django(var_dir: Path, database_url: str = "") -> None:
    """Configure the bench process for the SQLite data set in `var_dir` (or, given `database_url`, for that
    PostgreSQL database, with keys and media in `var_dir`), then start Django."""
    if database_url:
        os.environ["DATABASE_URL"] = database_url
    elif os.environ.pop("DATABASE_URL", ""):
        print("note: DATABASE_URL is ignored; the university-scale bench runs on SQLite in", var_dir)
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ["BANGFU_VAR_DIR"] = str(var_dir)
    os.environ["BANGFU_ENV"] = "development"
    # Measure what production runs: no debug toolbar of collected queries, no debug templates.
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ["DJANGO_SETTINGS_MODULE"] = "bangfu.settings"
    src = str(REPO / "src")
    if src not in sys.path:
        sys.path.insert(0, src)
    import django

    django.setup()


def migrate() -> None:
    """Bring the bench database up to the app's migrations.

    Migrating a new SQLite database from nothing costs some 15 s of CPU (Django renders the model states of every
    migration), and the bench scripts and their smoke tests build many: a new one starts instead as a copy of an
    empty database migrated once for this exact set of migration files and pinned dependencies, kept in
    `var/bench-schema/`. `migrate` then runs as usual and has nothing left to do. A database that already has
    tables (a copied data set, PostgreSQL) is simply migrated.
    """
    from django.core.management import call_command
    from django.db import connection

    if connection.vendor == "sqlite" and not connection.introspection.table_names():
        template = SCHEMA_DIR / f"{_schema_digest()}.sqlite3"
        if not template.exists():
            call_command("migrate", verbosity=0, skip_checks=True)
            SCHEMA_DIR.mkdir(parents=True, exist_ok=True)
            partial = template.with_name(f"{template.name}.{os.getpid()}")
            with connection.cursor() as cursor:
                cursor.execute("VACUUM INTO %s", [str(partial)])
            os.replace(partial, template)  # whole or not at all, whichever process finishes first
            return
        connection.close()
        shutil.copyfile(template, connection.settings_dict["NAME"])
    call_command("migrate", verbosity=0, skip_checks=True)


def _schema_digest() -> str:
    digest = hashlib.sha256((REPO / "requirements.lock").read_bytes())
    for path in sorted((REPO / "src" / "bangfu").glob("*/migrations/*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()[:16]
