"""Fixtures of the operations tests."""

import pytest


@pytest.fixture(autouse=True)
def real_migrations(settings) -> None:  # type: ignore[no-untyped-def]
    """Backups record and compare the applied migrations: show these tests the project's migration modules, which
    the suite's `--no-migrations` hides (see tests/conftest.py)."""
    settings.MIGRATION_MODULES = {}
