"""``lake_for``: the lake the settings choose, on the kernel's object store; and the ``LAKE`` slot."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from folio.core.objectstore import FileSystemObjectStore, S3ObjectStore
from folio.core.platform import Slot
from folio.lake.delta import DeltaLocation
from folio.lake.lake import Lake

if TYPE_CHECKING:
    from folio.core.settings import Settings

__all__ = ["LAKE", "lake_backend", "lake_for"]

LAKE: Slot[Lake] = Slot("data lake")
"""The process's lake; bootstrap fills it in every process (constructing one connects to nothing)."""


def lake_backend(settings: Settings) -> str:
    """``local`` or ``s3``: ``lake.backend``, where ``auto`` means ``local`` in lite mode."""
    if settings.lake.backend != "auto":
        return settings.lake.backend
    return "local" if settings.lite_mode else "s3"


def lake_for(settings: Settings) -> Lake:
    """The lake of ``settings``: the bucket ``lake.bucket`` of the object store, or the folder ``lake.path``.

    Relative folders are resolved against the working directory now, so DuckDB, which
    is handed absolute paths, reads the same files wherever the process moves.
    """
    config = settings.lake
    if lake_backend(settings) == "local":
        root = Path(config.path or Path(settings.home) / "lake").absolute()
        return Lake(FileSystemObjectStore(root), config=config, location=str(root), local_root=root)
    object_store = settings.services.object_store
    cache = Path(config.cache_path or Path(settings.home) / "lake-cache" / config.bucket).absolute()
    # delta-rs's own S3 client: a conditional put (If-None-Match) makes its commits atomic
    # without a lock service; SeaweedFS honours it (tests/integration/lake/test_s3_delta.py).
    delta = DeltaLocation(
        uri=f"s3://{config.bucket}",
        storage_options={
            "AWS_ENDPOINT_URL": object_store.endpoint_url,
            "AWS_ACCESS_KEY_ID": object_store.access_key,
            "AWS_SECRET_ACCESS_KEY": object_store.secret_key.get_secret_value(),
            "AWS_REGION": object_store.region,
            "AWS_ALLOW_HTTP": str(object_store.endpoint_url.startswith("http://")).lower(),
            "conditional_put": "etag",
        },
    )
    return Lake(
        S3ObjectStore(object_store, bucket=config.bucket),
        config=config,
        location=f"s3://{config.bucket} at {object_store.endpoint_url}",
        cache_dir=cache,
        delta=delta,
    )
