"""The record of the last ``folio up``: what it keeps, where it ranks among the sources."""

from __future__ import annotations

from pathlib import Path

import pytest

from folio.core.settings import describe_settings, load_settings, record_platform
from folio.core.settings.logging import LoggingSettings

pytestmark = pytest.mark.unit

RECORD = Path(".folio/run/platform.env")
"""Where `folio up` writes it, relative to the folder it ran in (docs/configuration.md)."""

FULL_MODE = {
    "FOLIO_DATABASE_BACKEND": "postgres",
    "FOLIO_CACHE_BACKEND": "redis",
    "FOLIO_LOGGING_SHIP_TO_SEARCH": "true",
}
"""What `folio up` hands its processes in full mode."""


def origin_of(path: str) -> str:
    """Where ``folio config show`` says the setting at ``path`` comes from."""
    return next(row.origin for row in describe_settings(load_settings()) if row.path == path)


def test_without_a_record_the_database_is_the_default_sqlite_file(clean_env: Path) -> None:
    """Nothing started here yet: the CLI uses the embedded SQLite file, from the default."""
    settings = load_settings()
    assert settings.database_url == "sqlite+aiosqlite:///.folio/folio.db"
    assert origin_of("database.backend") == "default"


def test_the_record_gives_the_cli_the_platforms_database(clean_env: Path) -> None:
    """After `folio up` recorded full mode, a later load is on PostgreSQL and says why."""
    record_platform({"PATH": "/usr/bin", **FULL_MODE}, mode="full")
    settings = load_settings()
    assert settings.database.backend == "postgres"
    assert settings.cache.backend == "redis"
    assert settings.logging.ship_to_search is True
    assert origin_of("database.backend") == f"folio up ({RECORD})"


def test_a_settings_class_built_outside_a_load_ignores_the_record(clean_env: Path) -> None:
    """Only load_settings applies the record: a class built directly (a test, a tool) does not see it."""
    record_platform(FULL_MODE, mode="full")
    assert LoggingSettings().ship_to_search is False
    assert load_settings().logging.ship_to_search is True


def test_the_environment_beats_the_record(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A variable exported for one command still wins over the record."""
    record_platform(FULL_MODE, mode="full")
    monkeypatch.setenv("FOLIO_DATABASE_BACKEND", "sqlite")
    assert load_settings().database.backend == "sqlite"
    assert origin_of("database.backend") == "environment variable FOLIO_DATABASE_BACKEND"


def test_the_record_beats_dotenv_and_the_config_file(clean_env: Path) -> None:
    """The platform's processes got these as variables, which beat .env and folio.toml: so does the record."""
    (clean_env / ".env").write_text("FOLIO_DATABASE_BACKEND=sqlite\n", encoding="utf-8")
    (clean_env / "folio.toml").write_text('[cache]\nbackend = "memory"\n', encoding="utf-8")
    record_platform(FULL_MODE, mode="full")
    settings = load_settings()
    assert (settings.database.backend, settings.cache.backend) == ("postgres", "redis")


def test_settings_the_record_lacks_come_from_the_files(clean_env: Path) -> None:
    """The record is one layer, not a snapshot: what it does not name still comes from below it."""
    (clean_env / "folio.toml").write_text("[gateway]\nport = 8123\n", encoding="utf-8")
    record_platform(FULL_MODE, mode="full")
    assert load_settings().gateway.port == 8123


def test_secrets_and_unknown_names_are_never_recorded(clean_env: Path) -> None:
    """Passwords and keys stay out of the file; so do variables that are no setting."""
    record_platform(
        {
            **FULL_MODE,
            "FOLIO_SERVICES_POSTGRES_APP_PASSWORD": "generated-test-secret",
            "FOLIO_SECURITY_SECRET_KEY": "generated-test-key",
            "FOLIO_GATEWAY_PROT": "9000",
            "HOME": "/root",
        },
        mode="full",
    )
    text = RECORD.read_text(encoding="utf-8")
    for absent in ("generated-test-secret", "generated-test-key", "PROT", "HOME"):
        assert absent not in text
    assert load_settings().services.postgres.app_password is None


def test_a_new_record_replaces_the_old_one(clean_env: Path) -> None:
    """`folio up --lite` after a full run puts the CLI back on SQLite, with no stale value left."""
    record_platform({**FULL_MODE, "FOLIO_SERVICES_POSTGRES_PORT": "21999"}, mode="full")
    record_platform({"FOLIO_DATABASE_BACKEND": "sqlite", "FOLIO_CACHE_BACKEND": "memory"}, mode="lite")
    settings = load_settings()
    assert settings.database.backend == "sqlite"
    assert settings.services.postgres.port != 21999


def test_values_read_back_unchanged(clean_env: Path) -> None:
    """Quotes, backslashes and spaces survive the .env syntax; a ${...} value is named, not mangled."""
    odd = 'generated test dir/with "quotes" and \\ backslash.db'
    record_platform(
        {"FOLIO_DATABASE_SQLITE_PATH": odd, "FOLIO_SERVICES_DATA_DIR": "/srv/${HOME}/data"}, mode="lite"
    )
    settings = load_settings()
    assert str(settings.database.sqlite_path) == odd
    assert str(settings.services.data_dir) != "/srv/${HOME}/data"
    assert "# FOLIO_SERVICES_DATA_DIR not recorded" in RECORD.read_text(encoding="utf-8")


def test_the_config_file_folio_up_used_is_the_cli_default(clean_env: Path) -> None:
    """`folio --config shop.toml up` makes shop.toml the file later commands read, recorded absolute."""
    (clean_env / "shop.toml").write_text("[gateway]\nport = 8124\n", encoding="utf-8")
    record_platform({**FULL_MODE, "FOLIO_CONFIG_FILE": "shop.toml"}, mode="full")
    assert f'FOLIO_CONFIG_FILE="{clean_env / "shop.toml"}"' in RECORD.read_text(encoding="utf-8")
    assert load_settings().gateway.port == 8124


def test_another_config_file_sets_the_record_aside(clean_env: Path) -> None:
    """A command given another config file is about another installation: the record does not apply."""
    other = clean_env / "prod.toml"
    other.write_text('[database]\nbackend = "sqlite"\n', encoding="utf-8")
    record_platform(FULL_MODE, mode="full")
    settings = load_settings(config_file=other)
    assert settings.database.backend == "sqlite"
    assert settings.logging.ship_to_search is False  # the default, not the record's


def test_a_suite_can_ignore_the_record(clean_env: Path) -> None:
    """``platform_file=None`` loads as if `folio up` had never run here (the test suite's own settings)."""
    record_platform(FULL_MODE, mode="full")
    assert load_settings(platform_file=None).database.backend == "sqlite"


def test_the_recorded_profile_selects_the_config_files_overlay(clean_env: Path) -> None:
    """A recorded FOLIO_PROFILE picks the [profile.*] table, as it did in the platform's processes."""
    (clean_env / "folio.toml").write_text("[profile.test.gateway]\nport = 8125\n", encoding="utf-8")
    record_platform({"FOLIO_PROFILE": "test"}, mode="full")
    assert load_settings().gateway.port == 8125
