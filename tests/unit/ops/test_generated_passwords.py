"""Server passwords (PostgreSQL roles, RabbitMQ): generated once per installation unless configured."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from pydantic import SecretStr

from folio.core.settings import Settings, load_settings
from folio.core.settings.services import MissingPasswordError, PostgresSettings, ServicesSettings
from folio.core.settings.tree import insecure_defaults_in_use
from folio.ops.services.postgres import PostgresService, ensure_generated_passwords
from folio.ops.services.rabbitmq import RabbitMQService

pytestmark = pytest.mark.unit


def installation(data_dir: Path, owner_password: SecretStr | None = None) -> PostgresSettings:
    """The PostgreSQL settings of an installation keeping its server data in ``data_dir``."""
    postgres = PostgresSettings(owner_password=owner_password)
    return ServicesSettings(data_dir=data_dir, postgres=postgres).postgres


def test_the_roles_file_lives_with_the_server_data(tmp_path: Path) -> None:
    """The generated passwords are kept beside the data they unlock, under services.data_dir."""
    assert installation(tmp_path).roles_file == tmp_path / "postgres" / "auth" / "roles.toml"


def test_first_start_generates_owner_only_passwords(tmp_path: Path) -> None:
    """Both roles get a long random password, in a 0600 file, and the URLs carry them."""
    cfg = installation(tmp_path)
    ensure_generated_passwords(cfg)

    app, owner = cfg.password("app").get_secret_value(), cfg.password("owner").get_secret_value()
    assert app != owner
    assert min(len(app), len(owner)) >= 32
    assert cfg.roles_file is not None
    assert stat.S_IMODE(cfg.roles_file.stat().st_mode) == 0o600
    assert f":{app}@" in cfg.url()
    assert f":{owner}@" in cfg.url(role="owner")


def test_later_starts_and_other_processes_keep_the_same_passwords(tmp_path: Path) -> None:
    """A second start changes nothing, and a process loading the same settings reads the same password."""
    first = installation(tmp_path)
    ensure_generated_passwords(first)
    before = first.roles_file.read_text() if first.roles_file else ""

    second = installation(tmp_path)
    ensure_generated_passwords(second)

    assert second.roles_file is not None
    assert second.roles_file.read_text() == before
    assert second.password("app") == first.password("app")


def test_two_installations_never_share_a_password(tmp_path: Path) -> None:
    """Two data folders (two machines, two checkouts) get different passwords."""
    one, two = installation(tmp_path / "one"), installation(tmp_path / "two")
    ensure_generated_passwords(one)
    ensure_generated_passwords(two)

    assert one.password("app") != two.password("app")
    assert one.password("owner") != two.password("owner")


def test_a_configured_password_wins_and_is_not_generated(tmp_path: Path) -> None:
    """A password set in the settings is used as is; only the unset role gets a generated one."""
    cfg = installation(tmp_path, owner_password=SecretStr("configured-owner"))
    ensure_generated_passwords(cfg)

    assert cfg.password("owner").get_secret_value() == "configured-owner"
    assert cfg.roles_file is not None
    assert "configured-owner" not in cfg.roles_file.read_text()
    assert "owner" not in cfg.roles_file.read_text()
    assert cfg.password("app").get_secret_value()


def test_before_the_first_start_the_error_says_what_to_do(tmp_path: Path) -> None:
    """No configured and no generated password: the error names the setting and `folio services up`."""
    with pytest.raises(
        MissingPasswordError, match=r"services\.postgres\.app_password is not set.*folio services up"
    ):
        installation(tmp_path).url()


def test_the_prod_profile_still_refuses_unset_passwords(clean_env: Path) -> None:
    """Generated passwords are for development: prod must configure both roles' passwords."""
    unset = insecure_defaults_in_use(load_settings())

    assert ("services", "postgres", "app_password") in unset
    assert ("services", "postgres", "owner_password") in unset


class RecordingPostgres(PostgresService):
    """The PostgreSQL service with psql replaced by a recorder: the SQL a start would run."""

    scripts: list[str]

    def psql(self, process: str, script: str, *, database: str = "postgres") -> str:
        """Record ``script`` (run on ``process``, in ``database``) instead of running it."""
        self.scripts.append(f"-- {process}/{database}\n{script}")
        return ""


def test_every_start_sets_the_generated_passwords(clean_env: Path) -> None:
    """A start ALTERs both roles to this installation's passwords, so an old shared one stops working."""
    settings = Settings(services=ServicesSettings(data_dir=clean_env / "services"))
    service = RecordingPostgres(settings)
    service.scripts = []
    service.pgpass_file.parent.mkdir(parents=True)
    service.pgpass_file.write_text("*:*:*:folio_replicator:replication-secret\n")

    service._after_primary_ready()

    (script,) = service.scripts
    assert script.startswith("-- primary/postgres\n")
    cfg = settings.services.postgres
    for role in ("app", "owner"):
        user = cfg.app_user if role == "app" else cfg.owner_user
        assert f'ALTER ROLE "{user}" WITH LOGIN NOREPLICATION' in script
        assert f"PASSWORD '{cfg.password(role).get_secret_value()}';" in script
    assert "folio-dev-password" not in script


def test_the_broker_password_is_generated_once_and_read_by_clients(tmp_path: Path) -> None:
    """RabbitMQ's definitions carry a generated password's hash; the AMQP URL carries the password."""
    settings = Settings(services=ServicesSettings(data_dir=tmp_path))
    cfg = settings.services.rabbitmq
    with pytest.raises(MissingPasswordError, match=r"services\.rabbitmq\.password is not set"):
        _ = cfg.url

    RabbitMQService(settings)._definitions()

    password = cfg.secret().get_secret_value()
    assert len(password) >= 32
    assert f"amqp://folio:{password}@" in cfg.url
    assert cfg.password_file == tmp_path / "rabbitmq" / "auth.toml"
    assert stat.S_IMODE(cfg.password_file.stat().st_mode) == 0o600
    other = Settings(services=ServicesSettings(data_dir=tmp_path / "other")).services.rabbitmq
    RabbitMQService(Settings(services=ServicesSettings(data_dir=tmp_path / "other")))._definitions()
    assert other.secret() != cfg.secret()
    assert ("services", "rabbitmq", "password") in insecure_defaults_in_use(settings)
