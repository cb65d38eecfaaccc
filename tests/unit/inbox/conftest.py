"""Inbox fixtures: a local lake in the test's folder, the inbox's settings, and a loader over them."""

from __future__ import annotations

from pathlib import Path

import pytest

from folio.core.db import Database
from folio.core.settings import Settings
from folio.inbox.api import inbox_datasets
from folio.inbox.loader import FileLoader
from folio.lake.api import Lake, lake_for


def with_local_lake(settings: Settings, root: Path, **inbox: object) -> Settings:
    """``settings`` with the lake in the folder ``root`` and ``inbox.*`` overridden by ``inbox``."""
    return settings.model_copy(
        update={
            "lake": settings.lake.model_copy(update={"backend": "local", "path": root}),
            "inbox": settings.inbox.model_copy(
                update={"first_backoff_s": 0.0, "max_backoff_s": 0.0, **inbox}
            ),
        }
    )


@pytest.fixture
def inbox_settings(settings: Settings, tmp_path: Path) -> Settings:
    """Settings with a lake in ``tmp_path/lake``, no backoff between attempts and a short settle time."""
    return with_local_lake(settings, tmp_path / "lake", settle_s=0.2, poll_interval_s=0.05)


@pytest.fixture
def lake(inbox_settings: Settings) -> Lake:
    """The local lake of ``inbox_settings``."""
    return lake_for(inbox_settings)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty inbox folder."""
    path = tmp_path / "inbox"
    path.mkdir()
    return path


def make_loader(database: Database, lake: Lake, settings: Settings, owner: str = "test:1") -> FileLoader:
    """A loader over ``database`` and ``lake`` with the built-in datasets."""
    return FileLoader(
        database=database, lake=lake, datasets=inbox_datasets(settings), settings=settings.inbox, owner=owner
    )


ORDERS_HEADER = "order_id,shop_id,date,placed_at,currency,total_minor,item_count,customer_email\n"


def orders_csv(rows: int, *, start: int = 0) -> str:
    """An ``orders`` CSV of ``rows`` valid rows over two shops and two days."""
    lines = [
        f"o-{n},shop-{n % 2},2026-12-0{1 + n % 2},2026-12-0{1 + n % 2}T10:00:00Z,EUR,{100 + n},{1 + n % 3},"
        for n in range(start, start + rows)
    ]
    return ORDERS_HEADER + "\n".join(lines) + "\n"
