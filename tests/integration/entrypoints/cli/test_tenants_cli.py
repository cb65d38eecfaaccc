"""`folio tenants ...` and `folio audit list` in-process (click's runner), on SQLite and PostgreSQL.

In-process so a test can hand `folio tenants migrate` its own data migrations (it
collects them from ``folio.bootstrap.data_migrations``).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncSession

from folio import bootstrap
from folio.core.data_migrations import DataMigration
from folio.core.db import open_database
from folio.core.settings import Settings
from folio.entrypoints.cli import build_cli
from folio.identity.api import RegisterShop, register_shop
from folio.usage.api import Meter, record_usage
from tests.support.identity import PASSWORD, unique_email, unique_slug
from tests.support.servers import postgres_env
from tests.support.tracing import recording_spans, spans_named

pytestmark = pytest.mark.integration

Folio = Callable[..., Awaitable[Result]]


@pytest.fixture
def sqlite_env(clean_env: Path) -> dict[str, str]:
    """Settings for a fresh SQLite file in the test's folder and in-memory counters."""
    return {
        "FOLIO_DATABASE_BACKEND": "sqlite",
        "FOLIO_DATABASE_URL": f"sqlite+aiosqlite:///{clean_env / 'folio.db'}",
        "FOLIO_CACHE_BACKEND": "memory",
    }


@pytest.fixture
def cli() -> Folio:
    """Run `folio ARGS` in-process with ``env``, off the event loop (the CLI runs its own)."""

    async def run(*args: str, env: dict[str, str]) -> Result:
        runner = CliRunner()
        return await asyncio.to_thread(
            runner.invoke, build_cli(), list(args), env={"COLUMNS": "200", "NO_COLOR": "1", **env}
        )

    return run


async def _register(settings: Settings, env: dict[str, str]) -> str:
    """Register a shop in the database ``env`` names; returns its slug."""
    slug = unique_slug("cli")
    database = settings.database.model_copy(update={"backend": env["FOLIO_DATABASE_BACKEND"], "url": None})
    url = env.get("FOLIO_DATABASE_URL") or settings.services.postgres.url()
    async with open_database(database, url) as db:
        await register_shop(
            db,
            settings=settings,
            data=RegisterShop(
                shop_name=f"Shop {slug}",
                shop_slug=slug,
                email=unique_email("cli"),
                display_name="CLI Owner",
                password=PASSWORD,
            ),
        )
    return slug


def _bump(*, fail_for_slug: str | None = None, slugs: dict[uuid.UUID, str] | None = None) -> DataMigration:
    async def apply(session: AsyncSession, tenant_id: uuid.UUID) -> int:
        await record_usage(session, tenant_id=tenant_id, meter=Meter.STORAGE_BYTES)
        if slugs is not None and slugs.get(tenant_id) == fail_for_slug:
            raise RuntimeError("broken for this shop")
        return 1

    return DataMigration("test.cli_bump", "add one byte of storage", apply)


def _use_migrations(monkeypatch: pytest.MonkeyPatch, *migrations: DataMigration) -> None:
    monkeypatch.setattr(bootstrap, "data_migrations", lambda: list(migrations))


async def _usage(cli: Folio, env: dict[str, str], slug: str) -> dict[str, object]:
    result = await cli("tenants", "usage", "--shop", slug, "--json", env=env)
    assert result.exit_code == 0, result.output
    document: dict[str, object] = json.loads(result.output)
    return document


async def _storage_used(cli: Folio, env: dict[str, str], slug: str) -> int:
    usage = await _usage(cli, env, slug)
    rows = usage["usage"]
    assert isinstance(rows, list)
    return sum(int(row["quantity"]) for row in rows if row["meter"] == "storage_bytes")


async def test_migrate_resumes_after_a_crash_on_sqlite(
    cli: Folio, sqlite_env: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A data migration failing on the 2nd shop exits non-zero; the re-run finishes the rest, once each."""
    _use_migrations(monkeypatch)
    created = await cli("tenants", "migrate", env=sqlite_env)
    assert created.exit_code == 0, created.output
    assert "nothing to do" not in created.output
    slugs = [await _register(settings, sqlite_env) for _ in range(3)]
    listing = await cli("tenants", "list", "--json", env=sqlite_env)
    ids = {
        uuid.UUID(json.loads(line)["id"]): json.loads(line)["slug"] for line in listing.output.splitlines()
    }
    assert sorted(ids.values()) == sorted(slugs)
    ordered = list(ids.values())

    _use_migrations(monkeypatch, _bump(fail_for_slug=ordered[1], slugs=ids))
    dry = await cli("tenants", "migrate", "--dry-run", env=sqlite_env)
    assert dry.exit_code == 0, dry.output
    assert "test.cli_bump" in dry.output
    assert "pending for 3 shop(s)" in dry.output
    crashed = await cli("tenants", "migrate", env=sqlite_env)
    assert crashed.exit_code != 0
    assert isinstance(crashed.exception, RuntimeError)
    assert [await _storage_used(cli, sqlite_env, slug) for slug in ordered] == [1, 0, 0]

    _use_migrations(monkeypatch, _bump())
    dry = await cli("tenants", "migrate", "--dry-run", env=sqlite_env)
    assert "pending for 2 shop(s)" in dry.output
    resumed = await cli("tenants", "migrate", env=sqlite_env)
    assert resumed.exit_code == 0, resumed.output
    assert "applied 2 data migration run(s), 2 row(s) touched" in resumed.output
    again = await cli("tenants", "migrate", env=sqlite_env)
    assert "applied 0 data migration run(s)" in again.output
    assert [await _storage_used(cli, sqlite_env, slug) for slug in ordered] == [1, 1, 1]
    nothing = await cli("tenants", "migrate", "--dry-run", env=sqlite_env)
    assert "nothing to do: 1 data migration(s), all applied" in nothing.output


async def _set_quota(
    cli: Folio, env: dict[str, str], slug: str, *, meter: str, limit: int
) -> tuple[object, object]:
    """`folio tenants quota set` for ``meter``; then (limit, overridden) as `tenants usage` reads it back."""
    result = await cli(
        "tenants", "quota", "set", "--shop", slug, "--meter", meter, "--limit", str(limit), env=env
    )
    assert result.exit_code == 0, result.output
    assert f"{meter} quota is now {limit} (the shop's own)" in result.output
    listed = (await _usage(cli, env, slug))["quotas"]
    assert isinstance(listed, list)
    quota = next(q for q in listed if q["meter"] == meter)
    return quota["limit"], quota["overridden"]


async def test_quota_usage_and_audit_commands_on_sqlite(
    cli: Folio, sqlite_env: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An operator sets a quota, reads it back with usage, and lists the shop's audit trail."""
    _use_migrations(monkeypatch)
    assert (await cli("tenants", "migrate", env=sqlite_env)).exit_code == 0
    slug = await _register(settings, sqlite_env)

    assert await _set_quota(cli, sqlite_env, slug, meter="tasks", limit=42) == (42, True)

    reset = await cli(
        "tenants", "quota", "set", "--shop", slug, "--meter", "tasks", "--default", env=sqlite_env
    )
    assert reset.exit_code == 0, reset.output
    assert f"tasks quota is now {settings.tenancy.quotas.tasks}" in reset.output
    both = await cli("tenants", "quota", "set", "--shop", slug, "--meter", "tasks", env=sqlite_env)
    assert both.exit_code != 0
    assert "--limit N or --default" in both.output

    table = await cli("tenants", "usage", "--shop", slug, env=sqlite_env)
    assert table.exit_code == 0, table.output
    assert "quotas" in table.output

    events = await cli("audit", "list", "--shop", slug, "--json", env=sqlite_env)
    assert events.exit_code == 0, events.output
    actions = [json.loads(line)["action"] for line in events.output.splitlines()]
    assert actions == ["tenant.registered"]
    pretty = await cli("audit", "list", "--shop", slug, "--action", "tenant.registered", env=sqlite_env)
    assert "tenant.registered" in pretty.output
    none = await cli("audit", "list", "--shop", slug, "--action", "nothing.happened", env=sqlite_env)
    assert "no audit events match" in none.output


async def test_quota_set_accepts_every_meter_listings_included(
    cli: Folio, sqlite_env: dict[str, str], settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`--meter listings` is a meter like the others: set, then read back as the shop's own limit."""
    _use_migrations(monkeypatch)
    assert (await cli("tenants", "migrate", env=sqlite_env)).exit_code == 0
    slug = await _register(settings, sqlite_env)

    assert await _set_quota(cli, sqlite_env, slug, meter="listings", limit=7) == (7, True)


async def test_unknown_shop_and_unmigrated_database_fail_clearly(
    cli: Folio, sqlite_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A shop that does not exist, or a database never migrated, ends with one clear error line."""
    unmigrated = await cli("audit", "list", "--shop", "nope", env=sqlite_env)
    assert unmigrated.exit_code == 1
    assert "folio db upgrade" in unmigrated.output
    _use_migrations(monkeypatch)
    assert (await cli("tenants", "migrate", env=sqlite_env)).exit_code == 0
    unknown = await cli("tenants", "usage", "--shop", "no-such-shop", env=sqlite_env)
    assert unknown.exit_code == 1
    assert "no shop called 'no-such-shop'" in unknown.output


async def test_migrate_one_shop_on_postgres(
    cli: Folio,
    clean_env: Path,
    migrated_postgres: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """On PostgreSQL (schema as owner, data as the app role) `--shop` migrates just that shop, once."""
    # The suite's PostgreSQL, from an empty folder with no FOLIO_* variable (clean_env):
    # named in full, since the default ports may be another checkout's servers.
    env = {
        "FOLIO_DATABASE_BACKEND": "postgres",
        "FOLIO_CACHE_BACKEND": "memory",
        **postgres_env(migrated_postgres),
    }
    slug = await _register(migrated_postgres, env)
    other = await _register(migrated_postgres, env)
    migration = DataMigration(f"test.pg_bump_{uuid.uuid4().hex[:8]}", "bump", _bump().apply)
    _use_migrations(monkeypatch, migration)
    first = await cli("tenants", "migrate", "--shop", slug, env=env)
    assert first.exit_code == 0, first.output
    assert "applied 1 data migration run(s), 1 row(s) touched" in first.output
    second = await cli("tenants", "migrate", "--shop", slug, env=env)
    assert "applied 0 data migration run(s)" in second.output
    assert await _storage_used(cli, env, slug) == 1
    assert await _storage_used(cli, env, other) == 0
    pending = await cli("tenants", "migrate", "--dry-run", "--shop", other, env=env)
    assert f"pending for 1 shop(s): {other}" in pending.output


async def test_a_command_started_with_traceparent_is_a_span_of_that_trace(
    cli: Folio, sqlite_env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The daily flow's tasks hand `folio` their TRACEPARENT: the command's work hangs below it."""
    _use_migrations(monkeypatch)
    assert (await cli("tenants", "migrate", env=sqlite_env)).exit_code == 0
    trace_id, parent_span = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    with recording_spans() as exporter:
        assert isinstance(exporter, InMemorySpanExporter)
        untraced = await cli("tenants", "list", "--json", env=sqlite_env)
        traced = await cli(
            "tenants", "list", "--json", env={**sqlite_env, "TRACEPARENT": f"00-{trace_id}-{parent_span}-01"}
        )
    assert (untraced.exit_code, traced.exit_code) == (0, 0), untraced.output + traced.output
    [command] = spans_named(exporter, "folio tenants list")  # the untraced run made none
    assert command.context is not None
    assert command.parent is not None
    assert (format(command.context.trace_id, "032x"), format(command.parent.span_id, "016x")) == (
        trace_id,
        parent_span,
    )
