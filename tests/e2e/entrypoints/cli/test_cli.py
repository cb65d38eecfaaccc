"""The ``folio`` command as a newcomer meets it (journey J1)."""

from __future__ import annotations

import asyncio
import json
import textwrap
from collections.abc import Callable
from pathlib import Path

import click
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from sqlalchemy.pool import NullPool

from folio.core.migrations import head_revision
from folio.core.settings import Settings, record_platform
from folio.entrypoints.cli import build_cli
from tests.conftest import free_port
from tests.e2e.conftest import FolioRunner
from tests.support.servers import postgres_env

pytestmark = pytest.mark.e2e

HEAD = head_revision()
"""The newest migration, which `folio db upgrade` must reach."""


def _all_commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    found: list[tuple[tuple[str, ...], click.Command]] = []
    for name, command in group.commands.items():
        path = (*prefix, name)
        found.append((path, command))
        if isinstance(command, click.Group):
            found.extend(_all_commands(command, path))
    return found


def test_top_level_help_lists_groups_and_examples(folio: FolioRunner) -> None:
    """`folio --help` names every command group and shows examples."""
    result = folio("--help")
    assert result.returncode == 0
    for group in ("up", "services", "config", "db", "plugins", "completion"):
        assert f"  {group} " in result.stdout
    assert "Examples:" in result.stdout
    assert "folio up --lite" in result.stdout


def test_every_leaf_command_has_help_with_examples() -> None:
    """Each command that does something documents itself and shows an example of its use."""
    missing = [
        " ".join(path)
        for path, command in _all_commands(build_cli())
        if not isinstance(command, click.Group)
        and ("Examples:" not in (command.epilog or "") or not command.help)
    ]
    assert missing == []


def test_version(folio: FolioRunner) -> None:
    """`folio --version` prints the package version."""
    result = folio("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("folio 0.")


def test_config_show_masks_secrets_and_names_origins(folio: FolioRunner, tmp_path: Path) -> None:
    """Secrets never print; each value says whether it came from env, a file or the default."""
    (tmp_path / "folio.toml").write_text("[gateway]\nport = 8123\n")
    result = folio(
        "config",
        "show",
        "--json",
        env={"FOLIO_SECURITY_SECRET_KEY": "hunter2-very-secret", "FOLIO_LOGGING_LEVEL": "DEBUG"},
    )
    assert result.returncode == 0, result.stderr
    assert "hunter2" not in result.stdout
    rows = json.loads(result.stdout)
    assert rows["security.secret_key"]["value"] == "••••••••"
    assert rows["security.secret_key"]["origin"] == "environment variable FOLIO_SECURITY_SECRET_KEY"
    assert rows["gateway.port"] == {
        "value": 8123,
        "origin": "folio.toml [gateway] port",
        "env": "FOLIO_GATEWAY_PORT",
        "reloadable": False,
    }
    assert rows["logging.level"]["reloadable"] is True
    assert rows["services.postgres.host"]["origin"] == "default"


def test_config_show_table_for_humans(folio: FolioRunner) -> None:
    """The table view lists settings with their env var and marks reloadable ones."""
    # The Redis port at its default even where the suite's servers moved theirs (the
    # runner passes their ports on), so it is a setting --changed must leave out.
    result = folio(
        "config", "show", "--changed", env={"FOLIO_GATEWAY_PORT": "9001", "FOLIO_SERVICES_REDIS_PORT": None}
    )
    assert result.returncode == 0
    assert "gateway.port" in result.stdout
    assert "FOLIO_GATEWAY_PORT" in result.stdout
    assert "services.redis.port" not in result.stdout


def test_bad_setting_is_one_human_line(folio: FolioRunner) -> None:
    """A mistyped value fails with exit 2 and one line: the setting, the problem, its source."""
    result = folio("config", "show", env={"FOLIO_SERVICES_POSTGRES_PORT": "five"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "setting services.postgres.port" in lines[0]
    assert "'five'" in lines[0]
    assert "environment variable FOLIO_SERVICES_POSTGRES_PORT" in lines[0]


def test_bad_setting_in_config_file_names_the_file(folio: FolioRunner, tmp_path: Path) -> None:
    """An invalid TOML value is traced to the file and table it came from."""
    config = tmp_path / "shop.toml"
    config.write_text('[logging]\nlevel = "LOUD"\n')
    result = folio("--config", str(config), "config", "check")
    assert result.returncode == 2
    assert "setting logging.level" in result.stderr
    assert f"{config} [logging] level" in result.stderr


def test_prod_profile_refuses_insecure_defaults(folio: FolioRunner) -> None:
    """The prod profile will not start with the development secret key."""
    result = folio("config", "check", env={"FOLIO_PROFILE": "prod"})
    assert result.returncode == 2
    assert "security.secret_key" in result.stderr


def test_config_check_warns_about_typos(folio: FolioRunner) -> None:
    """An unknown FOLIO_* variable is reported with the setting it probably meant."""
    result = folio("config", "check", env={"FOLIO_GATEWAY_PROT": "9000"})
    assert result.returncode == 1
    assert "FOLIO_GATEWAY_PROT is not a Folio setting (did you mean FOLIO_GATEWAY_PORT?)" in result.stderr


def test_config_check_passes_on_a_valid_config(folio: FolioRunner) -> None:
    """A valid configuration exits 0 and says so."""
    result = folio("config", "check")
    assert result.returncode == 0
    assert "configuration is valid" in result.stdout


def test_db_upgrade_current_downgrade_on_sqlite(folio: FolioRunner, tmp_path: Path) -> None:
    """Migrations run against the configured SQLite file and report their state."""
    env = {"FOLIO_DATABASE_SQLITE_PATH": str(tmp_path / "shop.db")}
    before = folio("db", "current", env=env)
    assert "base (never migrated)" in before.stdout
    assert folio("db", "upgrade", env=env).returncode == 0
    after = folio("db", "current", env=env)
    assert f"{HEAD}: up to date" in after.stdout
    assert (tmp_path / "shop.db").is_file()
    down = folio("db", "downgrade", "base", env=env)
    assert "database at base" in down.stdout
    history = folio("db", "history", env=env)
    assert f"{HEAD} (head)" in history.stdout
    assert "0001_baseline" in history.stdout


def test_db_downgrade_one_revision_and_back_on_sqlite(folio: FolioRunner, tmp_path: Path) -> None:
    """`folio db downgrade -- -1` steps one revision down, as docs/add-a-context.md checks a new table."""
    env = {"FOLIO_DATABASE_SQLITE_PATH": str(tmp_path / "shop.db")}
    assert folio("db", "upgrade", env=env).returncode == 0
    down = folio("db", "downgrade", "--", "-1", env=env)
    assert down.returncode == 0, down.stderr
    assert f"database at {HEAD}" not in down.stdout
    assert f"behind (newest is {HEAD})" in folio("db", "current", env=env).stdout
    assert f"database at {HEAD}" in folio("db", "upgrade", env=env).stdout


def test_db_upgrade_on_postgres_runs_as_the_owner_role(
    folio: FolioRunner, settings: Settings, require_service: Callable[[str], None]
) -> None:
    """`folio db upgrade` on PostgreSQL connects as the owner role, so the owner owns alembic_version."""
    require_service("postgres")
    pg = settings.services.postgres
    # The server require_service checked, wherever the suite's settings put it (this
    # command runs in another folder).
    env = {"FOLIO_DATABASE_BACKEND": "postgres", **postgres_env(settings)}
    upgraded = folio("db", "upgrade", env=env)
    assert upgraded.returncode == 0, upgraded.stderr
    assert f"database at {HEAD}" in upgraded.stdout
    assert f"{HEAD}: up to date" in folio("db", "current", env=env).stdout

    async def version_table_owner() -> str | None:
        engine = create_async_engine(pg.url(), poolclass=NullPool)
        try:
            async with engine.connect() as connection:
                owner: str | None = await connection.scalar(
                    text("SELECT tableowner FROM pg_tables WHERE tablename = 'alembic_version'")
                )
                return owner
        finally:
            await engine.dispose()

    assert asyncio.run(version_table_owner()) == pg.owner_user


def test_unknown_service_is_a_clear_error(folio: FolioRunner) -> None:
    """Naming a service Folio does not know fails with the list of known ones."""
    result = folio("services", "status", "oracle")
    assert result.returncode == 1
    assert "unknown service(s) oracle; known:" in result.stderr


def test_completion_script(folio: FolioRunner) -> None:
    """`folio completion bash` prints a script wired to _FOLIO_COMPLETE."""
    result = folio("completion", "bash")
    assert result.returncode == 0
    assert "_FOLIO_COMPLETE" in result.stdout


def _install_plugin(root: Path, name: str, module_source: str, target: str) -> None:
    """A minimal installed distribution declaring one `folio.plugins` entry point."""
    (root / f"{name}_plugin.py").write_text(textwrap.dedent(module_source))
    dist = root / f"{name}_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(f"[folio.plugins]\n{name} = {target}\n")


def test_plugins_add_commands_and_broken_ones_are_reported(folio: FolioRunner, tmp_path: Path) -> None:
    """An entry-point plugin becomes a command; a broken one is listed, not fatal."""
    site = tmp_path / "site"
    site.mkdir()
    _install_plugin(
        site,
        "hello",
        """
        import click

        @click.command()
        @click.argument("name")
        def command(name):
            \"\"\"Greet NAME.\"\"\"
            click.echo(f"hello, {name}")
        """,
        "hello_plugin:command",
    )
    _install_plugin(site, "broken", "raise ImportError('missing dependency')\n", "broken_plugin:command")
    env = {"PYTHONPATH": str(site)}
    greeted = folio("hello", "Kallio", env=env)
    assert greeted.returncode == 0, greeted.stderr
    assert greeted.stdout.strip() == "hello, Kallio"
    listed = folio("plugins", "list", env=env)
    assert "hello (hello_plugin:command): loaded" in listed.stdout
    assert (
        "broken (broken_plugin:command): not loaded: import failed: ImportError: missing dependency"
        in listed.stdout
    )


def test_no_plugins_is_said_plainly(folio: FolioRunner) -> None:
    """Without plugins, `folio plugins list` says none are installed."""
    result = folio("plugins", "list")
    assert "no plugins installed" in result.stdout


def test_services_status_down_and_up_round_trip(settings: Settings, folio: FolioRunner) -> None:
    """`folio services` stops one server by name, reports it stopped, and brings it back."""
    env = {"FOLIO_SERVICES_DATA_DIR": str(settings.services.data_dir.absolute())}
    before = folio("services", "status", "--json", env=env)
    assert before.returncode == 0, before.stdout + before.stderr
    assert {row["name"]: row["state"] for row in json.loads(before.stdout)}["redis"] == "running"
    down = folio("services", "down", "redis", env=env)
    assert "stopped redis.instance-0" in down.stdout
    stopped = folio("services", "status", "redis", env=env)
    assert stopped.returncode == 1
    assert "stopped" in stopped.stdout
    up = folio("services", "up", "redis", env=env)
    assert up.returncode == 0, up.stderr
    assert "started 1 process(es)" in up.stdout
    table = folio("services", "status", env=env)
    assert table.returncode == 0
    for name in ("postgres", "redis", "rabbitmq", "kafka", "search", "object_store", "nginx", "prometheus"):
        assert name in table.stdout


# --- the CLI agrees with the platform `folio up` started ------------------------------------

RECORD = Path(".folio/run/platform.env")
"""Where `folio up` records what it handed its processes (docs/configuration.md)."""

START_HINT = "start it with `folio services up` or `make run`"


def _record_full_mode(folder: Path, settings: Settings, **overrides: str) -> None:
    """Record, in ``folder``, what `folio up` (full mode) hands its processes, on the suite's servers."""
    environ = {
        "FOLIO_DATABASE_BACKEND": "postgres",
        "FOLIO_CACHE_BACKEND": "redis",
        "FOLIO_LOGGING_SHIP_TO_SEARCH": "true",
        # The servers require_service checked, wherever the suite's settings put them.
        **postgres_env(settings),
        **overrides,
    }
    record_platform(environ, mode="full", path=folder / RECORD)


def test_cli_uses_the_database_folio_up_ran_on(
    folio: FolioRunner, tmp_path: Path, migrated_postgres: Settings
) -> None:
    """With the platform recorded on PostgreSQL, config show, mail outbox and tenants list all use it."""
    _record_full_mode(tmp_path, migrated_postgres)
    shown = folio("config", "show", "--json")
    assert shown.returncode == 0, shown.stderr
    backend = json.loads(shown.stdout)["database.backend"]
    assert (backend["value"], backend["origin"]) == ("postgres", f"folio up ({RECORD})")
    for command in (("mail", "outbox"), ("tenants", "list", "--json")):
        result = folio(*command)
        assert result.returncode == 0, f"{command}: {result.stderr}"
    table = folio("config", "show")
    pg = migrated_postgres.services.postgres
    assert f"database: PostgreSQL at {pg.host}:{pg.port}" in table.stdout
    assert not (tmp_path / ".folio" / "folio.db").exists()  # no SQLite file was opened on the side


def test_platform_servers_down_is_one_line(folio: FolioRunner, tmp_path: Path, settings: Settings) -> None:
    """When the recorded platform's PostgreSQL is not running, commands say so and how to start it."""
    closed = str(free_port())
    _record_full_mode(
        tmp_path,
        settings,
        FOLIO_SERVICES_POSTGRES_PORT=closed,
        FOLIO_SERVICES_POSTGRES_REPLICA_ENABLED="false",
    )
    for command in (("tenants", "list"), ("mail", "outbox"), ("db", "current")):
        # The record's closed port decides: the suite's own port, which the runner passes
        # on where the servers moved, would override it (the environment beats the record).
        result = folio(*command, env={"FOLIO_SERVICES_POSTGRES_PORT": None})
        assert result.returncode == 1, f"{command}: {result.stdout}"
        assert "Traceback" not in result.stderr
        last = result.stderr.strip().splitlines()[-1]
        where = f"PostgreSQL at {settings.services.postgres.host}:{closed}"
        assert last == f"error: {where} is not answering; {START_HINT}"


def test_without_folio_up_the_cli_says_it_uses_the_default_sqlite_file(folio: FolioRunner) -> None:
    """Nothing started in this folder: `folio config show` says the database is the default SQLite file."""
    result = folio("config", "show")
    assert result.returncode == 0, result.stderr
    assert "database: the SQLite file .folio/folio.db; backend from default" in result.stdout


# --- expected failures: one line, never a traceback ------------------------------------------


@pytest.mark.parametrize(
    ("args", "exit_code", "says"),
    [
        (("mail", "outbox"), 1, "is not migrated (no such table: mail_outbox); run `folio db upgrade`"),
        (("tenants", "list"), 1, "run `folio db upgrade`"),
        (("audit", "list", "--shop", "nope"), 1, "run `folio db upgrade`"),
        (("catalog", "import", "book-crossing"), 1, "run `folio data fetch book-crossing` first"),
        (("pdf", "search", "hamlet"), None, "folio pdf index"),
        (("mail", "outbox", "--show", "not-an-id"), 1, "is not a mail id"),
        (("--config", "absent.toml", "config", "show"), 2, "config file absent.toml does not exist"),
    ],
    ids=[
        "mail-unmigrated",
        "tenants-unmigrated",
        "audit-unmigrated",
        "import-unfetched",
        "pdf-no-index",
        "bad-mail-id",
        "missing-config",
    ],
)
def test_expected_failures_are_one_line_without_traceback(
    folio: FolioRunner, args: tuple[str, ...], exit_code: int | None, says: str
) -> None:
    """An expected condition ends with one `error:` line naming what to do, and a non-zero exit."""
    result = folio(*args)
    assert "Traceback" not in result.stderr
    assert result.returncode != 0, result.stdout
    if exit_code is not None:  # None: the command's own choice (pdf search uses 2 for "no index")
        assert result.returncode == exit_code, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ")
    assert says in lines[0]


def test_a_folio_error_from_any_command_is_one_line_and_a_bug_keeps_its_traceback(
    folio: FolioRunner, tmp_path: Path
) -> None:
    """The root group maps failures for every command, plugins included; what it does not know is a bug."""
    site = tmp_path / "site"
    site.mkdir()
    _install_plugin(
        site,
        "shelf",
        """
        import click
        from folio.core.errors import NotFoundError

        @click.command()
        def command():
            \"\"\"Look for a shelf.\"\"\"
            raise NotFoundError("no shelf called generated-test-shelf")
        """,
        "shelf_plugin:command",
    )
    _install_plugin(
        site,
        "buggy",
        """
        import click

        @click.command()
        def command():
            \"\"\"Fail as a bug does.\"\"\"
            raise RuntimeError("generated test bug")
        """,
        "buggy_plugin:command",
    )
    env = {"PYTHONPATH": str(site)}
    expected = folio("shelf", env=env)
    assert expected.returncode == 1
    assert expected.stderr.strip() == "error: no shelf called generated-test-shelf"
    bug = folio("buggy", env=env)
    assert bug.returncode == 1
    assert "Traceback" in bug.stderr
    assert "RuntimeError: generated test bug" in bug.stderr
    detailed = folio("-vv", "shelf", env=env)
    assert "Traceback" in detailed.stderr  # -vv shows where an expected failure came from
