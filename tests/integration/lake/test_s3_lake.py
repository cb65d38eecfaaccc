"""The lake on the running SeaweedFS (S3): the backend contract, and the checked local copies."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from folio.core.settings import Settings
from folio.lake.api import Lake, LakeChecksumError, lake_for
from folio.ops.services.object_store import s3_client
from tests.unit.lake.lake_contract import FOUR_SALES, LakeContract, sales, sales_table
from tests.unit.lake.replace_contract import ReplaceContract

pytestmark = pytest.mark.integration


@pytest.fixture
def s3_lake(settings: Settings, require_service: Callable[[str], None], tmp_path: Path) -> Iterator[Lake]:
    """An empty lake in a bucket of its own on SeaweedFS, emptied and removed afterwards."""
    require_service("object_store")
    bucket = f"test-lake-{uuid.uuid4().hex[:12]}"
    lake_settings = settings.model_copy(
        update={
            "lake": settings.lake.model_copy(
                update={"backend": "s3", "bucket": bucket, "cache_path": tmp_path / "cache"}
            )
        }
    )
    yield lake_for(lake_settings)
    client = s3_client(settings.services.object_store)
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


class TestS3Lake(LakeContract, ReplaceContract):
    """The contract on S3."""

    @pytest.fixture
    def lake(self, s3_lake: Lake) -> Lake:
        """An empty lake in its own bucket."""
        return s3_lake


def test_files_live_in_the_bucket_and_copies_are_checked(s3_lake: Lake) -> None:
    """DuckDB reads checked copies of the objects: a bad copy is fetched again, a bad object refused."""
    report = s3_lake.append(sales_table(), sales(FOUR_SALES))
    assert s3_lake.query("SELECT count(*) AS n FROM sales").to_pylist() == [{"n": 4}]
    assert s3_lake.cache_dir is not None
    copy = s3_lake.cache_dir / report.files[0]
    copy.write_bytes(b"half a file")  # what a crash mid-copy on another tool's part would leave

    assert s3_lake.query("SELECT count(*) AS n FROM sales").to_pylist() == [{"n": 4}]
    copy.unlink()
    stored = s3_lake._run(lambda: s3_lake.store.get(report.files[0]))
    s3_lake._put(report.files[0], stored[:-1] + b"X", "application/vnd.apache.parquet")
    with pytest.raises(LakeChecksumError):
        s3_lake.query("SELECT count(*) AS n FROM sales")
