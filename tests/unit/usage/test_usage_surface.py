"""The usage context's public surface."""

from __future__ import annotations

import pytest

import folio.usage.api
from folio.usage.api import Meter

pytestmark = pytest.mark.unit


def test_public_surface() -> None:
    """folio.usage.api exports exactly what other contexts and entry points may use."""
    assert sorted(folio.usage.api.__all__) == [
        "API_CALL_METER",
        "ApiCallMeter",
        "LIMITS_CACHE",
        "Meter",
        "QuotaRead",
        "UsageRead",
        "claim_quota",
        "enforce_quota",
        "get_quotas",
        "get_tenant_quotas",
        "get_tenant_usage",
        "get_usage",
        "lock_quota",
        "quota_limit",
        "record_usage",
        "set_quota_override",
    ]


def test_meters_are_the_documented_five() -> None:
    """Meter values are stable strings stored in usage_daily.meter."""
    assert [m.value for m in Meter] == ["tasks", "members", "api_calls", "storage_bytes", "listings"]
