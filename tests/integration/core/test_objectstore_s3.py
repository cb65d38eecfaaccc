"""``S3ObjectStore`` against the running SeaweedFS: the bucket appears on first use, objects round-trip."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from folio.core.objectstore import CHUNK_SIZE, ObjectNotFoundError, S3ObjectStore
from folio.core.settings import Settings

pytestmark = pytest.mark.integration


async def test_s3_round_trip(settings: Settings, require_service: Callable[[str], None]) -> None:
    """Put, stream back in chunks, exists, overwrite, delete; a missing key is ObjectNotFoundError."""
    require_service("object_store")
    store = S3ObjectStore(settings.services.object_store)
    key = f"test/{uuid.uuid4().hex}.bin"
    data = bytes(range(256)) * (CHUNK_SIZE // 128 + 1)
    await store.put(key, data, content_type="application/octet-stream")
    try:
        stream = await store.open(key)
        chunks = [chunk async for chunk in stream.chunks]
        assert (stream.size, stream.content_type) == (len(data), "application/octet-stream")
        assert b"".join(chunks) == data
        assert len(chunks) >= 2
        assert await store.exists(key)
        await store.put(key, b"%PDF-1.4 generated", content_type="application/pdf")
        assert await store.get(key) == b"%PDF-1.4 generated"
    finally:
        await store.delete(key)
    assert not await store.exists(key)
    with pytest.raises(ObjectNotFoundError):
        await store.open(key)


async def test_a_new_bucket_is_created_on_first_use(
    settings: Settings, require_service: Callable[[str], None]
) -> None:
    """A store over a bucket that does not exist yet creates it before the first write."""
    require_service("object_store")
    bucket = f"test-{uuid.uuid4().hex[:16]}"
    store = S3ObjectStore(settings.services.object_store, bucket=bucket)
    await store.put("a.txt", b"a", content_type="text/plain")
    assert await store.get("a.txt") == b"a"
    await store.delete("a.txt")
    s3 = await store._s3()
    s3.delete_bucket(Bucket=bucket)
