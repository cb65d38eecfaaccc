"""Delta tables in the lake's bucket on the running SeaweedFS: delta-rs's own S3 client, same contract."""

from __future__ import annotations

import pytest

from folio.lake.api import Lake
from tests.integration.lake.test_s3_lake import s3_lake
from tests.unit.lake.delta_contract import DeltaContract

pytestmark = pytest.mark.integration

__all__ = ["s3_lake"]


class TestS3Delta(DeltaContract):
    """The Delta contract on S3 (conditional puts make the commits atomic)."""

    commit_time_resolution_s = 1.0  # S3's Last-Modified, in whole seconds on SeaweedFS

    @pytest.fixture
    def lake(self, s3_lake: Lake) -> Lake:
        """An empty lake in its own bucket."""
        return s3_lake
