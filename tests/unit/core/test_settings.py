"""The settings tree: sources and their precedence, errors that name their origin, prod checks."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from pydantic import SecretStr

from folio.core.settings import (
    GatewaySettings,
    SettingInfo,
    Settings,
    SettingsError,
    describe_settings,
    load_settings,
    unknown_setting_names,
)
from folio.core.settings.base import env_name_for
from folio.core.settings.fields import INSECURE_DEFAULT, has_marker
from folio.core.settings.loader import active_config_file, subsystems
from folio.core.settings.tree import insecure_defaults_in_use

pytestmark = pytest.mark.unit


def write(path: Path, text: str) -> Path:
    """Write dedented ``text`` to ``path`` and return the path."""
    path.write_text(textwrap.dedent(text).lstrip(), encoding="utf-8")
    return path


def problems_of(excinfo: pytest.ExceptionInfo[SettingsError]) -> dict[str, tuple[str, str]]:
    """``path -> (message, origin)`` of every problem a ``SettingsError`` carries."""
    return {problem.path: (problem.message, problem.origin) for problem in excinfo.value.problems}


def row(rows: list[SettingInfo], path: str) -> SettingInfo:
    """The ``describe_settings`` row for ``path``."""
    return next(r for r in rows if r.path == path)


def insecure_paths() -> list[str]:
    """Dotted paths of every field declared ``insecure_default``."""
    return [
        ".".join((*cls.settings_path, name))
        for cls in subsystems()
        for name, info in cls.model_fields.items()
        if has_marker(info, INSECURE_DEFAULT)
    ]


# --- defaults and single sources -------------------------------------------------------------


def test_defaults_without_any_source(clean_env: Path) -> None:
    """With no files and no FOLIO_* variables every setting holds its documented default."""
    settings = load_settings()

    assert settings.profile == "dev"
    assert settings.gateway.port == 8000
    assert settings.services.postgres.port == 21410
    assert settings.database.backend == "sqlite"
    assert settings.logging.level == "INFO"
    assert settings.security.secret_key.get_secret_value() == "folio-dev-secret-key-change-me"


def test_every_field_has_a_description() -> None:
    """The configuration reference is generated from the classes: every leaf and subsystem is described."""
    undocumented = [
        f"{cls.__name__}.{name}"
        for cls in subsystems()
        for name, info in cls.model_fields.items()
        if name not in cls.nested_subsystems() and not info.description
    ]

    assert undocumented == []
    assert [cls.__name__ for cls in subsystems() if not cls.__doc__] == []


@pytest.mark.parametrize(
    ("env_name", "value", "path"),
    [
        ("FOLIO_SERVICES_POSTGRES_PORT", "6543", ("services", "postgres", "port")),
        ("FOLIO_GATEWAY_PORT", "9001", ("gateway", "port")),
        ("FOLIO_SERVICE_NAME", "worker", ("service_name",)),
        ("folio_services_redis_instances", "3", ("services", "redis", "instances")),
    ],
)
def test_environment_variable_named_after_the_path_overrides(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, env_name: str, value: str, path: tuple[str, ...]
) -> None:
    """A variable named FOLIO_<PATH>_<FIELD> (any case) sets that field."""
    monkeypatch.setenv(env_name, value)

    node: object = load_settings()
    for part in path:
        node = getattr(node, part)

    assert str(node) == value
    assert env_name_for(path[:-1], path[-1]) == env_name.upper()


def test_dotenv_file_is_read(clean_env: Path) -> None:
    """``.env`` in the working folder sets values like the environment does."""
    write(clean_env / ".env", "FOLIO_GATEWAY_PORT=7001\nFOLIO_SERVICES_REDIS_PORT=7002\n")

    settings = load_settings()

    assert (settings.gateway.port, settings.services.redis.port) == (7001, 7002)


def test_dotenv_file_can_be_named_or_switched_off(clean_env: Path) -> None:
    """``env_file`` picks another file; ``env_file=None`` ignores ``.env`` entirely."""
    write(clean_env / ".env", "FOLIO_GATEWAY_PORT=7001\n")
    other = write(clean_env / "other.env", "FOLIO_GATEWAY_PORT=7003\n")

    assert load_settings(env_file=other).gateway.port == 7003
    assert load_settings(env_file=None).gateway.port == 8000


def test_toml_file_passed_explicitly(clean_env: Path) -> None:
    """``config_file=`` reads its tables, nested subsystems included."""
    (clean_env / "conf").mkdir()
    config = write(
        clean_env / "conf" / "custom.toml",
        """
        service_name = "from-toml"
        [gateway]
        port = 7100
        [services.postgres]
        replica_enabled = false
        """,
    )

    settings = load_settings(config_file=config)

    assert settings.service_name == "from-toml"
    assert settings.gateway.port == 7100
    assert settings.services.postgres.replica_enabled is False


def test_toml_file_named_by_folio_config_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """FOLIO_CONFIG_FILE names the TOML file when no argument does."""
    config = write(clean_env / "elsewhere.toml", "[gateway]\nport = 7200\n")
    monkeypatch.setenv("FOLIO_CONFIG_FILE", str(config))

    assert load_settings().gateway.port == 7200


def test_toml_file_in_working_folder_is_found(clean_env: Path) -> None:
    """``./folio.toml`` is read when nothing names a file."""
    write(clean_env / "folio.toml", "[gateway]\nport = 7300\n")

    assert load_settings().gateway.port == 7300


def test_explicit_config_file_wins_over_folio_toml(clean_env: Path) -> None:
    """A file passed explicitly replaces ``./folio.toml`` rather than merging with it."""
    write(clean_env / "folio.toml", "[gateway]\nport = 7300\nhost = '10.0.0.1'\n")
    explicit = write(clean_env / "explicit.toml", "[gateway]\nport = 7400\n")

    settings = load_settings(config_file=explicit)

    assert (settings.gateway.port, settings.gateway.host) == (7400, "127.0.0.1")


def test_keyword_overrides_win_over_every_source(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keyword arguments to ``load_settings`` beat the environment."""
    monkeypatch.setenv("FOLIO_SERVICE_NAME", "from-env")

    assert load_settings(service_name="from-kwarg").service_name == "from-kwarg"


# --- precedence ---------------------------------------------------------------------------------

LAYERS = ["env", "dotenv", "profile", "toml", "default"]
LAYER_PORTS = {"env": 1001, "dotenv": 1002, "profile": 1003, "toml": 1004, "default": 8000}


@pytest.mark.parametrize("top", LAYERS)
def test_precedence_env_dotenv_profile_toml_default(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, top: str
) -> None:
    """Precedence: env > .env > [profile.<p>] overlay > TOML table > default; the origin names the winner."""
    present = LAYERS[LAYERS.index(top) :]
    monkeypatch.setenv("FOLIO_PROFILE", "test")
    if "env" in present:
        monkeypatch.setenv("FOLIO_GATEWAY_PORT", str(LAYER_PORTS["env"]))
    if "dotenv" in present:
        write(clean_env / ".env", f"FOLIO_GATEWAY_PORT={LAYER_PORTS['dotenv']}\n")
    toml = ""
    if "toml" in present:
        toml += f"[gateway]\nport = {LAYER_PORTS['toml']}\n"
    if "profile" in present:
        toml += f"[profile.test.gateway]\nport = {LAYER_PORTS['profile']}\n"
    if toml:
        write(clean_env / "folio.toml", toml)

    settings = load_settings()
    origin = row(describe_settings(settings), "gateway.port").origin

    assert settings.gateway.port == LAYER_PORTS[top]
    expected_origin = {
        "env": "environment variable FOLIO_GATEWAY_PORT",
        "dotenv": ".env (FOLIO_GATEWAY_PORT)",
        "profile": "folio.toml [profile.test.gateway] port",
        "toml": "folio.toml [gateway] port",
        "default": "default",
    }[top]
    assert origin == expected_origin


def test_profile_overlay_applies_only_to_its_profile(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``[profile.test.*]`` is laid over the tables under the test profile and ignored otherwise."""
    write(
        clean_env / "folio.toml",
        """
        [gateway]
        port = 1004
        [profile.test]
        service_name = "overlaid"
        [profile.test.gateway]
        docs_enabled = false
        """,
    )

    plain = load_settings()
    monkeypatch.setenv("FOLIO_PROFILE", "test")
    overlaid = load_settings()

    assert (plain.profile, plain.service_name, plain.gateway.docs_enabled) == ("dev", "folio", True)
    assert (overlaid.service_name, overlaid.gateway.docs_enabled) == ("overlaid", False)
    assert overlaid.gateway.port == 1004


def test_profile_chosen_in_dotenv_selects_its_overlay(clean_env: Path) -> None:
    """FOLIO_PROFILE from ``.env`` both sets the profile and picks the overlay that goes with it."""
    write(clean_env / ".env", "FOLIO_PROFILE=test\n")
    write(clean_env / "folio.toml", "[profile.test.gateway]\nport = 1003\n")

    settings = load_settings()

    assert (settings.profile, settings.gateway.port) == ("test", 1003)
    assert row(describe_settings(settings), "gateway.port").origin == "folio.toml [profile.test.gateway] port"


def test_profile_chosen_at_toml_top_level(clean_env: Path) -> None:
    """A top-level ``profile = "test"`` in the TOML file selects the profile."""
    write(clean_env / "folio.toml", 'profile = "test"\n[gateway]\nport = 1004\n')

    settings = load_settings()

    assert (settings.profile, settings.gateway.port) == ("test", 1004)
    assert row(describe_settings(settings), "profile").origin == "folio.toml [top level] profile"


# --- invalid values -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("source", "expected_origin"),
    [
        ("env", "environment variable FOLIO_SERVICES_POSTGRES_PORT"),
        ("dotenv", ".env (FOLIO_SERVICES_POSTGRES_PORT)"),
        ("toml", "folio.toml [services.postgres] port"),
        ("profile", "folio.toml [profile.test.services.postgres] port"),
    ],
)
def test_invalid_value_names_path_message_and_origin(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, source: str, expected_origin: str
) -> None:
    """An out-of-range value fails with the dotted path, pydantic's message, the value and its source."""
    monkeypatch.setenv("FOLIO_PROFILE", "test")
    if source == "env":
        monkeypatch.setenv("FOLIO_SERVICES_POSTGRES_PORT", "70000")
    elif source == "dotenv":
        write(clean_env / ".env", "FOLIO_SERVICES_POSTGRES_PORT=70000\n")
    elif source == "toml":
        write(clean_env / "folio.toml", "[services.postgres]\nport = 70000\n")
    else:
        write(clean_env / "folio.toml", "[profile.test.services.postgres]\nport = 70000\n")

    with pytest.raises(SettingsError) as excinfo:
        load_settings()

    message, origin = problems_of(excinfo)["services.postgres.port"]
    assert "less than or equal to 65535" in message
    assert "70000" in message
    assert origin == expected_origin
    assert "services.postgres.port" in str(excinfo.value)
    assert expected_origin in str(excinfo.value)


def test_every_invalid_setting_is_reported_at_once(clean_env: Path) -> None:
    """Problems in several subsystems (and the root) come back together, not just the first one."""
    write(
        clean_env / "folio.toml",
        """
        profile = "staging"
        [gateway]
        port = 0
        [services]
        ready_timeout_s = -1
        [services.postgres]
        port = "not-a-port"
        [services.redis]
        instances = 99
        """,
    )

    with pytest.raises(SettingsError) as excinfo:
        load_settings()

    assert set(problems_of(excinfo)) == {
        "profile",
        "gateway.port",
        "services.ready_timeout_s",
        "services.postgres.port",
        "services.redis.instances",
    }
    assert problems_of(excinfo)["services.redis.instances"][1] == "folio.toml [services.redis] instances"


def test_unknown_toml_key_is_an_error(clean_env: Path) -> None:
    """A key in the TOML file that sets nothing is reported with its table, unlike stray env names."""
    write(clean_env / "folio.toml", "[gateway]\nprot = 8080\n[services.postgress]\nport = 1\n")

    with pytest.raises(SettingsError) as excinfo:
        load_settings()

    found = problems_of(excinfo)
    assert set(found) == {"gateway.prot", "services.postgress"}
    assert found["gateway.prot"][1] == "folio.toml [gateway] prot"


def test_invalid_sampling_rate_is_reported_on_the_field(clean_env: Path) -> None:
    """A sampling rate outside [0, 1] names logging.sampling and the file it came from."""
    write(clean_env / "folio.toml", "[logging.sampling]\n'http.request' = 1.5\n")

    with pytest.raises(SettingsError) as excinfo:
        load_settings()

    message, origin = problems_of(excinfo)["logging.sampling"]
    assert "http.request" in message
    assert origin == "folio.toml [logging] sampling"


def test_invalid_keyword_override_names_the_argument(clean_env: Path) -> None:
    """A bad value passed as a keyword argument cites the argument as its origin."""
    with pytest.raises(SettingsError) as excinfo:
        load_settings(profile="staging")

    assert problems_of(excinfo)["profile"][1] == "keyword argument"


@pytest.mark.parametrize(
    ("table", "key"),
    [("security", "secret_key"), ("services.postgres", "app_password"), ("database", "url")],
)
def test_secrets_are_never_echoed(clean_env: Path, table: str, key: str) -> None:
    """An invalid secret is reported without its value, in the problem and in the error's text."""
    write(clean_env / "folio.toml", f'[{table}]\n{key} = ["hunter2-leaked"]\n')

    with pytest.raises(SettingsError) as excinfo:
        load_settings()

    path = f"{table}.{key}"
    assert path in problems_of(excinfo)
    assert "hunter2-leaked" not in str(excinfo.value)
    assert all("hunter2-leaked" not in p.message for p in excinfo.value.problems)


def test_missing_explicit_config_file_is_one_clear_problem(clean_env: Path) -> None:
    """A config file named explicitly but absent is one problem naming the file."""
    missing = clean_env / "absent.toml"

    with pytest.raises(SettingsError) as excinfo:
        load_settings(config_file=missing)

    assert len(excinfo.value.problems) == 1
    problem = excinfo.value.problems[0]
    assert problem.path == "config_file"
    assert str(missing) in problem.message
    assert problem.origin == "--config / FOLIO_CONFIG_FILE"


def test_missing_file_named_by_env_is_one_clear_problem(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """FOLIO_CONFIG_FILE naming an absent file fails the same way as the argument."""
    monkeypatch.setenv("FOLIO_CONFIG_FILE", str(clean_env / "gone.toml"))

    with pytest.raises(SettingsError) as excinfo:
        load_settings()

    assert [p.path for p in excinfo.value.problems] == ["config_file"]
    assert "gone.toml" in excinfo.value.problems[0].message


@pytest.mark.parametrize("how", ["default", "argument", "env"])
def test_malformed_toml_is_one_clear_problem(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Invalid TOML is one problem that cites the file and says it is not valid TOML."""
    name = "folio.toml" if how == "default" else "broken.toml"
    broken = write(clean_env / name, "[gateway\nport = = 1\n")
    if how == "env":
        monkeypatch.setenv("FOLIO_CONFIG_FILE", str(broken))

    with pytest.raises(SettingsError) as excinfo:
        load_settings(config_file=broken if how == "argument" else None)

    assert len(excinfo.value.problems) == 1
    problem = excinfo.value.problems[0]
    assert "not valid TOML" in problem.message
    assert problem.path == "config_file"
    assert problem.origin.endswith(name)


def test_describe_settings_cites_an_explicit_config_file(clean_env: Path) -> None:
    """Origins name the file passed to describe_settings, not only ./folio.toml or FOLIO_CONFIG_FILE."""
    config = write(clean_env / "shop.toml", "[gateway]\nport = 8123\n")
    settings = load_settings(config_file=config)

    rows = describe_settings(settings, config_file=config)

    assert row(rows, "gateway.port").origin == f"{config} [gateway] port"


def test_unknown_names_without_a_dotenv_file() -> None:
    """With no .env, only the given environment is checked, and known names pass."""
    messages = unknown_setting_names(
        env_file=None, environ={"FOLIO_GATEWAY_PORT": "1", "FOLIO_GATEWAI_PORT": "2", "HOME": "/root"}
    )

    assert messages == ["FOLIO_GATEWAI_PORT is not a Folio setting (did you mean FOLIO_GATEWAY_PORT?)"]


def test_keyword_override_does_not_take_the_blame_for_the_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An invalid env value is traced to its variable even when another field is passed as a keyword."""
    monkeypatch.setenv("FOLIO_PROFILE", "staging")

    with pytest.raises(SettingsError) as excinfo:
        load_settings(service_name="gateway")

    assert problems_of(excinfo)["profile"][1] == "environment variable FOLIO_PROFILE"


# --- the prod profile ---------------------------------------------------------------------------


# Replacements for insecure defaults that are not plain strings.
PROD_VALUES = {
    "identity.jwt_keys": '{"dev-1": "prod-signing-key-of-at-least-32-characters"}',
    "identity.cookie_secure": "true",
    "grpc.service_keys": '{"dev-1": "prod-service-key-of-at-least-32-characters"}',
}


def _set_all_insecure(monkeypatch: pytest.MonkeyPatch, *, except_for: str | None = None) -> None:
    for path in insecure_paths():
        if path != except_for:
            *parents, field_name = path.split(".")
            value = PROD_VALUES.get(path, f"prod-value-for-{field_name}")
            monkeypatch.setenv(env_name_for(tuple(parents), field_name), value)


def test_there_are_insecure_defaults_to_guard() -> None:
    """The shared secret key is among the fields prod refuses to run with by default."""
    assert "security.secret_key" in insecure_paths()


@pytest.mark.parametrize("left_default", insecure_paths())
def test_prod_refuses_each_insecure_default(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch, left_default: str
) -> None:
    """Under prod, leaving any one insecure default in place fails and names exactly that setting."""
    monkeypatch.setenv("FOLIO_PROFILE", "prod")
    _set_all_insecure(monkeypatch, except_for=left_default)

    with pytest.raises(SettingsError) as excinfo:
        load_settings()

    message, origin = problems_of(excinfo)["profile"]
    assert left_default in message
    assert [p for p in insecure_paths() if p in message] == [left_default]
    assert origin == "environment variable FOLIO_PROFILE"


def test_prod_accepts_when_every_insecure_default_is_replaced(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Under prod, replacing every insecure default lets the settings load."""
    monkeypatch.setenv("FOLIO_PROFILE", "prod")
    _set_all_insecure(monkeypatch)

    settings = load_settings()

    assert settings.profile == "prod"
    assert settings.security.secret_key.get_secret_value() == "prod-value-for-secret_key"


def test_dev_accepts_insecure_defaults(clean_env: Path) -> None:
    """Outside prod the development defaults are fine."""
    assert load_settings(profile="test").security.secret_key.get_secret_value()


# --- describe_settings and unknown names -------------------------------------------------------


def test_describe_settings_rows(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each leaf row has its env name, value, origin, secret and reloadable flags."""
    monkeypatch.setenv("FOLIO_LOGGING_LEVEL", "DEBUG")
    write(clean_env / "folio.toml", "[security]\nsecret_key = 'hunter2'\n")
    settings = load_settings()

    rows = describe_settings(settings)

    level = row(rows, "logging.level")
    assert (level.env_name, level.value, level.origin) == (
        "FOLIO_LOGGING_LEVEL",
        "DEBUG",
        "environment variable FOLIO_LOGGING_LEVEL",
    )
    assert (level.secret, level.reloadable) == (False, True)
    secret = row(rows, "security.secret_key")
    assert (secret.secret, secret.reloadable, secret.origin) == (
        True,
        False,
        "folio.toml [security] secret_key",
    )
    assert isinstance(secret.value, SecretStr)
    assert "hunter2" not in repr(secret)
    port = row(rows, "gateway.port")
    assert (port.origin, port.reloadable, port.secret) == ("default", False, False)


def test_describe_settings_covers_every_leaf_once(clean_env: Path) -> None:
    """Every field of every subsystem appears exactly once, and no subsystem appears as a row."""
    rows = describe_settings(load_settings())
    expected = {
        ".".join((*cls.settings_path, name))
        for cls in subsystems()
        for name in cls.model_fields
        if name not in cls.nested_subsystems()
    }

    assert len(rows) == len({r.path for r in rows})
    assert {r.path for r in rows} == expected


def test_unknown_setting_names_suggest_the_close_match(clean_env: Path) -> None:
    """A FOLIO_* name that sets nothing is reported with the setting it probably meant."""
    environ = {
        "FOLIO_DATABASE_BAKEND": "postgres",
        "FOLIO_GATEWAY_PORT": "1",
        "FOLIO_CONFIG_FILE": "x.toml",
        "FOLIO_ZZZZZZZZZZZZZZZZZZZZZ": "1",
        "PATH": "/bin",
    }

    messages = unknown_setting_names(environ=environ)

    assert messages == [
        "FOLIO_DATABASE_BAKEND is not a Folio setting (did you mean FOLIO_DATABASE_BACKEND?)",
        "FOLIO_ZZZZZZZZZZZZZZZZZZZZZ is not a Folio setting",
    ]


def test_unknown_setting_names_reads_dotenv_and_the_environment(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Typos in ``.env`` and in the process environment are both found."""
    write(clean_env / ".env", "FOLIO_GATEWAY_PROT=1\nFOLIO_GATEWAY_PORT=2\n")
    monkeypatch.setenv("FOLIO_LOGING_LEVEL", "DEBUG")

    messages = unknown_setting_names()

    assert len(messages) == 2
    assert "FOLIO_GATEWAY_PROT is not a Folio setting (did you mean FOLIO_GATEWAY_PORT?)" in messages
    assert any(m.startswith("FOLIO_LOGING_LEVEL") and "FOLIO_LOGGING_LEVEL" in m for m in messages)


# --- database URLs ------------------------------------------------------------------------------


def test_database_url_sqlite_default(clean_env: Path) -> None:
    """The embedded default is an aiosqlite URL on ``database.sqlite_path`` with no replica."""
    settings = load_settings()
    settings.database.sqlite_path = clean_env / "data" / "f.db"

    assert settings.database_url == f"sqlite+aiosqlite:///{clean_env / 'data' / 'f.db'}"
    assert settings.database_replica_url is None


def test_database_url_postgres_backend(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The postgres backend points at the local server as the app role, reads at the replica."""
    monkeypatch.setenv("FOLIO_DATABASE_BACKEND", "postgres")
    monkeypatch.setenv("FOLIO_SERVICES_POSTGRES_PORT", "6000")
    monkeypatch.setenv("FOLIO_SERVICES_POSTGRES_REPLICA_PORT", "6001")
    monkeypatch.setenv("FOLIO_SERVICES_POSTGRES_APP_PASSWORD", "pw")

    settings = load_settings()

    assert settings.database_url == "postgresql+asyncpg://folio_app:pw@127.0.0.1:6000/folio"
    assert settings.database_replica_url == "postgresql+asyncpg://folio_app:pw@127.0.0.1:6001/folio"
    settings.services.postgres.replica_enabled = False
    assert settings.database_replica_url is None


def test_migration_url_is_the_owner_role_on_postgres(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Migrations connect to the local primary as the owner role with its own password, never the app role."""
    monkeypatch.setenv("FOLIO_DATABASE_BACKEND", "postgres")
    monkeypatch.setenv("FOLIO_SERVICES_POSTGRES_APP_PASSWORD", "app-pw")
    monkeypatch.setenv("FOLIO_SERVICES_POSTGRES_OWNER_PASSWORD", "owner-pw")

    settings = load_settings()

    assert (
        settings.database_migration_url == "postgresql+asyncpg://folio_owner:owner-pw@127.0.0.1:21410/folio"
    )
    assert settings.database_url == "postgresql+asyncpg://folio_app:app-pw@127.0.0.1:21410/folio"
    monkeypatch.setenv("FOLIO_DATABASE_MIGRATION_URL", "postgresql+asyncpg://admin:x@db.internal/app")
    assert load_settings().database_migration_url == "postgresql+asyncpg://admin:x@db.internal/app"


def test_migration_url_falls_back_to_the_database_url(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite migrates its own file; an explicit `database.url` is migrated as given."""
    settings = load_settings()
    assert settings.database_migration_url == settings.database_url
    assert settings.database_migration_url.startswith("sqlite+aiosqlite:///")
    monkeypatch.setenv("FOLIO_DATABASE_BACKEND", "postgres")
    monkeypatch.setenv("FOLIO_DATABASE_URL", "postgresql+asyncpg://u:p@db.internal/app")
    assert load_settings().database_migration_url == "postgresql+asyncpg://u:p@db.internal/app"


def test_owner_password_is_an_insecure_default_prod_refuses(clean_env: Path) -> None:
    """The owner role's development password is flagged, so the prod profile refuses it."""
    assert ("services", "postgres", "owner_password") in insecure_defaults_in_use(load_settings())


def test_explicit_database_urls_override_backend(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``database.url`` and ``database.replica_url`` win over whatever the backend would build."""
    monkeypatch.setenv("FOLIO_DATABASE_BACKEND", "postgres")
    monkeypatch.setenv("FOLIO_DATABASE_URL", "postgresql+asyncpg://u:p@db.internal/app")

    settings = load_settings()

    assert settings.database_url == "postgresql+asyncpg://u:p@db.internal/app"
    assert settings.database_replica_url is None
    monkeypatch.setenv("FOLIO_DATABASE_REPLICA_URL", "postgresql+asyncpg://u:p@replica.internal/app")
    assert load_settings().database_replica_url == "postgresql+asyncpg://u:p@replica.internal/app"


def test_settings_constructed_directly_read_the_same_sources(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``Settings()`` outside ``load_settings`` discovers the same files and environment."""
    write(clean_env / "folio.toml", "[gateway]\nport = 7500\n")
    monkeypatch.setenv("FOLIO_SERVICES_POSTGRES_PORT", "7501")

    settings = Settings()

    assert (settings.gateway.port, settings.services.postgres.port) == (7500, 7501)


def test_subsystem_given_a_value_instead_of_a_table(clean_env: Path) -> None:
    """``gateway = 5`` where the [gateway] table belongs is an error, not silently ignored."""
    write(clean_env / "folio.toml", 'gateway = 5\n[services]\npostgres = "x"\n')

    with pytest.raises(SettingsError) as excinfo:
        load_settings()

    found = problems_of(excinfo)
    assert set(found) == {"gateway", "services.postgres"}
    assert found["gateway"][1] == "folio.toml [top level] gateway"
    assert "dictionary" in found["services.postgres"][0]


def test_keyword_override_of_a_whole_subsystem(clean_env: Path) -> None:
    """A subsystem passed as a keyword argument replaces the one the sources would build."""
    settings = load_settings(gateway=GatewaySettings(port=8123))

    assert settings.gateway.port == 8123


def test_active_config_file(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The file a load would read: the argument, then FOLIO_CONFIG_FILE, then ./folio.toml, else none."""
    assert active_config_file() is None
    write(clean_env / "folio.toml", "")
    assert active_config_file() == Path("folio.toml")
    named = write(clean_env / "named.toml", "")
    monkeypatch.setenv("FOLIO_CONFIG_FILE", str(named))
    assert active_config_file() == named
    argument = write(clean_env / "argument.toml", "")
    assert active_config_file(argument) == argument


def test_service_urls_are_built_from_their_settings(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each subsystem's URL helpers combine its host, ports and credentials as clients expect."""
    monkeypatch.setenv("FOLIO_SERVICES_REDIS_INSTANCES", "3")
    monkeypatch.setenv("FOLIO_SERVICES_RABBITMQ_PASSWORD", "rmq")
    monkeypatch.setenv("FOLIO_SERVICES_POSTGRES_APP_PASSWORD", "app-secret")
    settings = load_settings()
    services = settings.services

    assert settings.gateway.url == "http://127.0.0.1:8000"
    assert services.redis.urls == [f"redis://127.0.0.1:{21420 + i}/0" for i in range(3)]
    assert services.rabbitmq.url == "amqp://folio:rmq@127.0.0.1:21431/folio"
    assert services.kafka.bootstrap == "127.0.0.1:21440"
    assert services.search.url == "http://127.0.0.1:21451"
    assert services.object_store.endpoint_url == "http://127.0.0.1:21460"
    assert services.nginx.url == "http://127.0.0.1:21400"
    assert services.prometheus.url == "http://127.0.0.1:21401"
    assert services.postgres.url(driver="postgresql") == (
        "postgresql://folio_app:app-secret@127.0.0.1:21410/folio"
    )


def test_external_endpoints_replace_the_local_ones(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An external Kafka cluster or S3 endpoint, when configured, is what clients get."""
    monkeypatch.setenv("FOLIO_SERVICES_KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    monkeypatch.setenv("FOLIO_SERVICES_OBJECT_STORE_ENDPOINT", "https://s3.example")

    services = load_settings().services

    assert services.kafka.bootstrap == "k1:9092,k2:9092"
    assert services.object_store.endpoint_url == "https://s3.example"


def test_prod_check_is_not_judged_on_a_broken_subsystem(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With a subsystem invalid, prod's whole-tree check is skipped rather than blaming good secrets."""
    monkeypatch.setenv("FOLIO_PROFILE", "prod")
    _set_all_insecure(monkeypatch)
    monkeypatch.setenv("FOLIO_SERVICES_POSTGRES_PORT", "0")

    with pytest.raises(SettingsError) as excinfo:
        load_settings()

    assert set(problems_of(excinfo)) == {"services.postgres.port"}


def test_links_follow_the_gateway_until_a_public_url_is_set(
    clean_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Unset mail.base_url: links name the gateway's own port; set, they name the public address."""
    monkeypatch.setenv("FOLIO_GATEWAY_PORT", "9100")
    assert load_settings().public_url == "http://127.0.0.1:9100"

    monkeypatch.setenv("FOLIO_MAIL_BASE_URL", "https://books.example")
    assert load_settings().public_url == "https://books.example"
