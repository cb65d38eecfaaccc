"""``folio mail outbox`` and ``folio mail deliver`` as a developer runs them (a real process, SQLite)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from folio.core.db import open_database
from folio.core.migrations import upgrade
from folio.core.settings import Settings
from folio.mail.api import list_outbox, queue_mail
from tests.e2e.conftest import folio_env

pytestmark = pytest.mark.integration


def _folio(tmp_path: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "folio", *args],
        cwd=tmp_path,
        env=folio_env({"FOLIO_DATABASE_URL": url}),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _folio_all(
    tmp_path: Path, url: str, *commands: tuple[str, ...]
) -> list[subprocess.CompletedProcess[str]]:
    """Run several ``folio`` commands at once (each process takes seconds to start)."""
    with ThreadPoolExecutor(max_workers=len(commands)) as pool:
        return list(pool.map(lambda args: _folio(tmp_path, url, *args), commands))


@pytest.fixture
def outbox_url(tmp_path: Path, settings: Settings) -> str:
    """A migrated SQLite file holding three mails (two to ada, one to bob), oldest first."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'mail.db'}"
    upgrade(url)

    async def fill() -> None:
        async def work(session: AsyncSession) -> None:
            await queue_mail(
                session, recipient="ada@example.com", subject="First for Ada", body="one", kind="test"
            )

        async def more(session: AsyncSession) -> None:
            await queue_mail(session, recipient="bob@example.com", subject="For Bob", body="two", kind="test")
            await queue_mail(
                session,
                recipient="ada@example.com",
                subject="Second for Ada",
                body="Reset: http://x/app/reset/t0k",
                kind="test",
            )

        async with open_database(settings.database, url) as db:
            await db.run(work)
            await db.run(more)

    asyncio.run(fill())
    return url


def test_outbox_lists_mail_newest_first(tmp_path: Path, outbox_url: str) -> None:
    """The table lists mail newest first; --to filters (saying so when none is left); --limit cuts."""
    listing, only_bob, newest, nobody = _folio_all(
        tmp_path,
        outbox_url,
        ("mail", "outbox"),
        ("mail", "outbox", "--to", "BOB@example.com"),
        ("mail", "outbox", "--limit", "1"),
        ("mail", "outbox", "--to", "nobody@example.com"),
    )
    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.index("Second for Ada") < listing.stdout.index("First for Ada")
    assert "For Bob" in listing.stdout
    assert "For Bob" in only_bob.stdout
    assert "Ada" not in only_bob.stdout
    assert nobody.returncode == 0
    assert "the outbox is empty for nobody@example.com" in nobody.stdout
    assert "For Bob" not in newest.stdout
    assert "First for Ada" not in newest.stdout


def test_show_prints_one_mail(tmp_path: Path, outbox_url: str, settings: Settings) -> None:
    """--show ID prints one mail in full; bad ids fail with a message; deliver keeps outbox mail."""

    async def newest_id() -> str:
        async with open_database(settings.database, outbox_url) as db:
            return str((await list_outbox(db, recipient="ada@example.com", limit=1))[0].id)

    mail_id = asyncio.run(newest_id())
    shown, unknown, malformed, deliver = _folio_all(
        tmp_path,
        outbox_url,
        ("mail", "outbox", "--show", mail_id),
        ("mail", "outbox", "--show", "00000000-0000-0000-0000-000000000000"),
        ("mail", "outbox", "--show", "nope"),
        ("mail", "deliver"),
    )
    assert shown.returncode == 0, shown.stderr
    assert "Subject: Second for Ada" in shown.stdout
    assert "http://x/app/reset/t0k" in shown.stdout
    assert unknown.returncode == 1
    assert "no mail with id" in unknown.stderr
    assert malformed.returncode == 1
    assert "is not a mail id" in malformed.stderr
    assert deliver.returncode == 0, deliver.stderr
    assert "stays in the outbox" in deliver.stdout
