"""The ``lake`` section: where the lake's Parquet files live and how they are cut.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the package
(or pyarrow). Which backend ``auto`` picks is decided by ``folio.lake.api.lake_for``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class LakeSettings(FolioSettingsBase):
    """The data lake: partitioned Parquet on the object store (S3) or in a local folder."""

    settings_path = ("lake",)

    backend: Literal["auto", "s3", "local"] = setting(
        "auto",
        description="`s3` (the bucket `bucket` of `services.object_store`, SeaweedFS locally or any S3 "
        "service), `local` (the folder `path`), or `auto`: `local` in lite mode, else `s3`.",
    )
    bucket: str = setting(
        "folio-lake",
        min_length=3,
        max_length=63,
        pattern=r"^[a-z0-9][a-z0-9.-]+[a-z0-9]$",
        description="The S3 bucket the lake lives in (created on first use), apart from Folio's blobs.",
    )
    path: Path | None = setting(
        None, description="The lake's folder for the `local` backend; empty: `<home>/lake`."
    )
    cache_path: Path | None = setting(
        None,
        description="Where the `s3` backend keeps verified copies of the Parquet files DuckDB reads "
        "(files are immutable, so a copy never goes stale); empty: `<home>/lake-cache/<bucket>`.",
    )
    row_group_rows: int = setting(
        128 * 1024,
        ge=1024,
        le=16 * 1024 * 1024,
        description="Rows per Parquet row group (the unit DuckDB skips by its min/max statistics).",
    )
    target_file_bytes: int = setting(
        128 * 1024 * 1024,
        ge=1024 * 1024,
        description="Size `folio lake compact` aims for when it merges a partition's small files; a "
        "partition whose files are all at least half this size is left alone.",
    )
    compression: Literal["zstd", "snappy", "gzip", "none"] = setting(
        "zstd", description="Parquet compression codec of the files the lake writes."
    )
