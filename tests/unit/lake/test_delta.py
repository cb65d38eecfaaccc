"""Delta tables in a lake on a local folder: the Delta contract."""

from __future__ import annotations

from pathlib import Path

import pytest

from folio.core.settings import Settings
from folio.lake.api import Lake, lake_for
from tests.unit.lake.delta_contract import DeltaContract
from tests.unit.lake.test_local_lake import local_settings

pytestmark = pytest.mark.unit


class TestLocalDelta(DeltaContract):
    """The Delta contract on a folder."""

    @pytest.fixture
    def lake(self, settings: Settings, tmp_path: Path) -> Lake:
        """An empty lake in a temporary folder."""
        return lake_for(local_settings(settings, tmp_path / "lake"))
