"""The filesystem object store (lite mode), the key rules, and how settings choose a store."""

from __future__ import annotations

from pathlib import Path

import pytest

from folio.core.objectstore import (
    CHUNK_SIZE,
    FileSystemObjectStore,
    ObjectNotFoundError,
    S3ObjectStore,
    check_key,
    object_store_for,
)
from folio.core.settings import Settings

pytestmark = pytest.mark.unit


async def test_filesystem_round_trip(tmp_path: Path) -> None:
    """Put, get, stream in chunks, exists and delete behave like the S3 store."""
    store = FileSystemObjectStore(tmp_path)
    data = bytes(range(256)) * (CHUNK_SIZE // 128)
    await store.put("previews/a.pdf", data, content_type="application/pdf")
    assert await store.get("previews/a.pdf") == data
    stream = await store.open("previews/a.pdf")
    chunks = [chunk async for chunk in stream.chunks]
    assert (stream.size, stream.content_type, len(chunks)) == (len(data), "application/pdf", 2)
    assert b"".join(chunks) == data
    assert await store.exists("previews/a.pdf")
    await store.put("previews/a.pdf", b"new", content_type="application/pdf")
    assert await store.get("previews/a.pdf") == b"new"
    await store.delete("previews/a.pdf")
    await store.delete("previews/a.pdf")
    assert not await store.exists("previews/a.pdf")
    with pytest.raises(ObjectNotFoundError):
        await store.open("previews/a.pdf")
    with pytest.raises(ObjectNotFoundError):
        await store.get("previews/a.pdf")
    assert [p.name for p in (tmp_path / "previews").iterdir()] == []


@pytest.mark.parametrize(
    "key", ["../etc/passwd", "/abs", "a//b", "a/../b", "a/./b", "", "sp ace", "a\\b", ".hidden"]
)
def test_unsafe_keys_are_refused(key: str) -> None:
    """Keys that could leave the folder or bucket are refused before any I/O."""
    with pytest.raises(ValueError, match="not a valid object key"):
        check_key(key)


def test_settings_choose_the_store(settings: Settings) -> None:
    """Lite mode (an SQLite database, no servers) keeps objects in a folder; otherwise S3."""
    lite = settings.model_copy(
        update={"database": settings.database.model_copy(update={"backend": "sqlite", "url": None})}
    )
    full = settings.model_copy(
        update={"database": settings.database.model_copy(update={"backend": "postgres", "url": None})}
    )
    assert lite.lite_mode
    assert not full.lite_mode
    store = object_store_for(lite)
    assert isinstance(store, FileSystemObjectStore)
    assert store.root == Path(lite.home) / "objects"
    assert isinstance(object_store_for(full), S3ObjectStore)
