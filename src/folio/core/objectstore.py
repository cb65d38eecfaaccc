"""Object storage: bytes under string keys, in S3 (SeaweedFS locally) or in a folder for lite mode.

``ObjectStore`` is the port; ``S3ObjectStore`` (boto3, each blocking call run in a
worker thread with ``asyncio.to_thread``) and ``FileSystemObjectStore`` are the
adapters, and ``object_store_for(settings)`` picks one: lite mode
(``Settings.lite_mode``: SQLite, no servers) keeps objects under ``<home>/objects``,
everything else uses the S3 endpoint of ``services.object_store``.

Key contracts:

- Keys are relative paths of ``[A-Za-z0-9._=-]`` segments joined by ``/``, none starting
  with ``.`` or ``=`` (for example ``previews/<uuid>.pdf``, or the lake's
  ``orders/date=2026-12-04/part-<uuid>.parquet``); anything else is a ``ValueError``
  before any I/O, so a key can never climb out of the folder or the bucket.
- ``open`` fails with ``ObjectNotFoundError`` (a ``NotFoundError``: 404) *before*
  returning, so an HTTP handler can answer 404 rather than start a 200 it cannot finish.
- The S3 adapter uses one bucket, ``services.object_store.bucket`` (``folio`` by
  default), created on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Protocol

from folio.core.errors import NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

    from folio.core.settings import Settings
    from folio.core.settings.services import ObjectStoreSettings

__all__ = [
    "FileSystemObjectStore",
    "ObjectNotFoundError",
    "ObjectStore",
    "ObjectStream",
    "S3ObjectStore",
    "check_key",
    "object_store_for",
]


MAX_KEY_LENGTH = 512
"""Longest object key accepted."""

CHUNK_SIZE = 64 * 1024
"""Bytes per chunk when streaming an object out."""

# "=" may follow a segment's first character: Hive-style partition folders (`date=2026-12-04`) of the lake.
_KEY = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._=-]*(/[A-Za-z0-9_-][A-Za-z0-9._=-]*)*$")


class ObjectNotFoundError(NotFoundError):
    """No object is stored under the key."""


def check_key(key: str) -> str:
    """``key`` itself when it is a safe object key; ``ValueError`` otherwise (no ``..``, no leading ``/``)."""
    if len(key) > MAX_KEY_LENGTH or not _KEY.fullmatch(key) or ".." in key.split("/"):
        raise ValueError(f"not a valid object key: {key[:80]!r}")
    return key


@dataclass
class ObjectStream:
    """An object being read: its size and content type, and its bytes as an async iterator of chunks."""

    size: int
    content_type: str
    chunks: AsyncIterator[bytes]


class ObjectStore(Protocol):
    """Where Folio keeps blobs (PDF previews, covers, exports).

    Implementations are safe to share between tasks of one event loop; every method
    may block on I/O only off the loop (in a thread).
    """

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Store ``data`` under ``key``, replacing what was there (atomically: readers see old or new)."""
        ...

    async def get(self, key: str) -> bytes:
        """The whole object; ``ObjectNotFoundError`` when there is none."""
        ...

    async def open(self, key: str) -> ObjectStream:
        """Start reading the object in chunks; ``ObjectNotFoundError`` (raised here) when there is none."""
        ...

    async def exists(self, key: str) -> bool:
        """Whether an object is stored under ``key``."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; removing a missing one is not an error."""
        ...


# --- filesystem (lite mode) ---------------------------------------------------------------------


class FileSystemObjectStore:
    """Objects as files under ``root`` (``<key>`` is the relative path); for lite mode and tests.

    The content type is kept in a ``<file>.content-type`` sidecar. Writes go to a temporary
    file first and are renamed into place, so a reader never sees half an object.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def _put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(data)
            Path(temporary).replace(path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        path.with_name(path.name + ".content-type").write_text(content_type, encoding="utf-8")

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """Write the file (atomically, by rename)."""
        await asyncio.to_thread(self._put, key, data, content_type)

    async def get(self, key: str) -> bytes:
        """The file's bytes."""
        path = self._path(key)
        try:
            return await asyncio.to_thread(path.read_bytes)
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no object {key}", entity="object") from None

    def _open(self, key: str) -> tuple[BinaryIO, int, str]:
        path = self._path(key)
        try:
            handle = path.open("rb")
        except FileNotFoundError:
            raise ObjectNotFoundError(f"no object {key}", entity="object") from None
        sidecar = path.with_name(path.name + ".content-type")
        content_type = sidecar.read_text(encoding="utf-8") if sidecar.exists() else "application/octet-stream"
        return handle, os.fstat(handle.fileno()).st_size, content_type

    async def open(self, key: str) -> ObjectStream:
        """Open the file; its chunks are read in a worker thread."""
        handle, size, content_type = await asyncio.to_thread(self._open, key)

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await asyncio.to_thread(handle.read, CHUNK_SIZE):
                    yield chunk
            finally:
                handle.close()

        return ObjectStream(size=size, content_type=content_type, chunks=chunks())

    async def exists(self, key: str) -> bool:
        """Whether the file exists."""
        return await asyncio.to_thread(self._path(key).is_file)

    def _delete(self, key: str) -> None:
        path = self._path(key)
        path.unlink(missing_ok=True)
        path.with_name(path.name + ".content-type").unlink(missing_ok=True)

    async def delete(self, key: str) -> None:
        """Remove the file (and its sidecar)."""
        await asyncio.to_thread(self._delete, key)


# --- S3 ------------------------------------------------------------------------------------------


def _is_missing(exc: Exception) -> bool:
    response: Any = getattr(exc, "response", None) or {}
    code = str(response.get("Error", {}).get("Code", ""))
    return code in {"NoSuchKey", "404", "NotFound", "NoSuchBucket"}


class S3ObjectStore:
    """Objects in one bucket of an S3 service; boto3 calls run in worker threads.

    The client is built on first use (nothing connects at construction) and the bucket
    is created then if it does not exist yet.
    """

    def __init__(self, config: ObjectStoreSettings, *, bucket: str | None = None) -> None:
        self._config = config
        self.bucket = bucket or config.bucket
        self._client: S3Client | None = None
        self._lock = asyncio.Lock()

    def _make_client(self) -> S3Client:
        import boto3
        from botocore.config import Config
        from botocore.exceptions import ClientError

        config = self._config
        client = boto3.client(
            "s3",
            endpoint_url=config.endpoint_url,
            aws_access_key_id=config.access_key,
            aws_secret_access_key=config.secret_key.get_secret_value(),
            region_name=config.region,
            config=Config(signature_version="s3v4", retries={"max_attempts": 3, "mode": "standard"}),
        )
        try:
            client.head_bucket(Bucket=self.bucket)
        except ClientError as exc:
            if not _is_missing(exc):
                raise
            with contextlib.suppress(client.exceptions.BucketAlreadyOwnedByYou):
                client.create_bucket(Bucket=self.bucket)
        return client

    async def _s3(self) -> S3Client:
        if self._client is None:
            async with self._lock:
                if self._client is None:
                    self._client = await asyncio.to_thread(self._make_client)
        return self._client

    async def put(self, key: str, data: bytes, *, content_type: str) -> None:
        """``PutObject`` (S3 replaces objects atomically)."""
        s3 = await self._s3()
        await asyncio.to_thread(
            s3.put_object, Bucket=self.bucket, Key=check_key(key), Body=data, ContentType=content_type
        )

    async def get(self, key: str) -> bytes:
        """``GetObject``, read to the end."""
        stream = await self.open(key)
        return b"".join([chunk async for chunk in stream.chunks])

    async def open(self, key: str) -> ObjectStream:
        """``GetObject``; the body is read chunk by chunk in worker threads."""
        from botocore.exceptions import ClientError

        s3 = await self._s3()
        try:
            response = await asyncio.to_thread(s3.get_object, Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if _is_missing(exc):
                raise ObjectNotFoundError(f"no object {key}", entity="object") from None
            raise
        body = response["Body"]

        async def chunks() -> AsyncIterator[bytes]:
            try:
                while chunk := await asyncio.to_thread(body.read, CHUNK_SIZE):
                    yield chunk
            finally:
                body.close()

        return ObjectStream(
            size=int(response["ContentLength"]),
            content_type=response.get("ContentType") or "application/octet-stream",
            chunks=chunks(),
        )

    async def exists(self, key: str) -> bool:
        """``HeadObject``."""
        from botocore.exceptions import ClientError

        s3 = await self._s3()
        try:
            await asyncio.to_thread(s3.head_object, Bucket=self.bucket, Key=check_key(key))
        except ClientError as exc:
            if _is_missing(exc):
                return False
            raise
        return True

    async def delete(self, key: str) -> None:
        """``DeleteObject`` (S3 answers success for a missing key too)."""
        s3 = await self._s3()
        await asyncio.to_thread(s3.delete_object, Bucket=self.bucket, Key=check_key(key))


def object_store_for(settings: Settings) -> ObjectStore:
    """The object store the settings choose: a folder under ``<home>/objects`` in lite mode, else S3."""
    if settings.lite_mode:
        return FileSystemObjectStore(Path(settings.home) / "objects")
    return S3ObjectStore(settings.services.object_store)
