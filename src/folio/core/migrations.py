"""Running Alembic migrations programmatically (``folio db ...``, ``folio up``)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import redirect_stdout
from dataclasses import dataclass
from importlib.resources import files
from io import StringIO

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import create_async_engine


def alembic_config(url: str) -> Config:
    """An Alembic config for Folio's packaged migrations against ``url``."""
    config = Config()
    config.set_main_option("script_location", str(files("folio") / "migrations"))
    config.attributes["url"] = url
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Migrate the database at ``url`` up to ``revision``."""
    _in_worker_thread(lambda: command.upgrade(alembic_config(url), revision))


def downgrade(url: str, revision: str) -> None:
    """Migrate the database at ``url`` down to ``revision``."""
    _in_worker_thread(lambda: command.downgrade(alembic_config(url), revision))


def _in_worker_thread(action: object) -> None:
    """Run an Alembic command where no event loop runs (env.py starts its own)."""
    import threading

    errors: list[BaseException] = []

    def run() -> None:
        try:
            action()  # type: ignore[operator]
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    thread = threading.Thread(target=run, name="alembic")
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


@dataclass(frozen=True)
class Revision:
    """One migration of the history."""

    revision: str
    down_revision: str | None
    doc: str
    is_head: bool


def history(url: str = "sqlite+aiosqlite://") -> Iterator[Revision]:
    """The packaged migrations, newest first."""
    script = ScriptDirectory.from_config(alembic_config(url))
    heads = set(script.get_heads())
    for rev in script.walk_revisions():
        down = (
            rev.down_revision
            if isinstance(rev.down_revision, str) or rev.down_revision is None
            else ",".join(rev.down_revision)
        )
        yield Revision(rev.revision, down, (rev.doc or "").strip(), rev.revision in heads)


def head_revision() -> str:
    """The newest packaged revision."""
    with redirect_stdout(StringIO()):
        heads = ScriptDirectory.from_config(alembic_config("sqlite+aiosqlite://")).get_heads()
    return ",".join(heads)


async def current_revision(url: str) -> str | None:
    """The revision the database at ``url`` is at, or None when it was never migrated."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as connection:

            def read(sync: Connection) -> str | None:
                return MigrationContext.configure(sync).get_current_revision()

            return await connection.run_sync(read)
    finally:
        await engine.dispose()


def current_revision_sync(url: str) -> str | None:
    """``current_revision`` for synchronous callers."""
    return asyncio.run(current_revision(url))
