"""Uploads and the live progress files of the import tests go to a temporary folder, not var/media/."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings.MEDIA_ROOT = tmp_path / "media"
