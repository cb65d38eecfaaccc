"""``Settings.lite_mode`` follows the database choice, and never reads the generated passwords to decide."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from folio.core.settings import Settings
from folio.core.settings.services import MissingPasswordError

pytestmark = pytest.mark.unit


def _with_database(settings: Settings, **database: object) -> Settings:
    return settings.model_copy(update={"database": settings.database.model_copy(update=database)})


def test_lite_mode_is_the_sqlite_choice(settings: Settings) -> None:
    """SQLite (by backend or by URL) is lite mode; PostgreSQL (either way) is not."""
    assert _with_database(settings, backend="sqlite", url=None).lite_mode
    assert not _with_database(settings, backend="postgres", url=None).lite_mode
    assert _with_database(settings, backend="postgres", url=SecretStr("sqlite+aiosqlite:///x.db")).lite_mode
    assert not _with_database(
        settings, backend="sqlite", url=SecretStr("postgresql+asyncpg://u:p@db/folio")
    ).lite_mode


def test_deciding_reads_no_password_file(settings: Settings, tmp_path: Path) -> None:
    """With PostgreSQL chosen and no password generated yet, the URL fails but lite_mode answers."""
    postgres = _with_database(settings, backend="postgres", url=None)
    # Copies all the way down: the suite's session settings share nested sections with
    # ``settings``, and changing them in place broke every later test's database URL.
    server = postgres.services.postgres.model_copy(update={"app_password": None})
    server.roles_file = tmp_path / "no-roles-yet.toml"  # a private attribute: the copy's own
    services = postgres.services.model_copy(update={"data_dir": tmp_path, "postgres": server})
    postgres = postgres.model_copy(update={"services": services})
    with pytest.raises(MissingPasswordError):
        _ = postgres.database_url
    assert postgres.lite_mode is False
