"""The usage context's public surface: what other contexts and entry points may import.

Key contracts: ``claim_quota(session, ...)`` (the lock, the count and the check in
their safe order) and ``enforce_quota(session, ...)`` raise ``QuotaExceededError`` (403
``quota-exceeded``) before a change would exceed the shop's quota, and
``record_usage(session, ...)`` adds to today's meter; all run in the caller's
transaction. ``ApiCallMeter`` counts API calls per shop per UTC day outside the
database and ``flush`` copies them in.
"""

from __future__ import annotations

from folio.usage.meter import API_CALL_METER, LIMITS_CACHE, ApiCallMeter
from folio.usage.schemas import Meter, QuotaRead, UsageRead
from folio.usage.service import (
    claim_quota,
    enforce_quota,
    get_quotas,
    get_tenant_quotas,
    get_tenant_usage,
    get_usage,
    lock_quota,
    quota_limit,
    record_usage,
    set_quota_override,
)

__all__ = [
    "API_CALL_METER",
    "LIMITS_CACHE",
    "ApiCallMeter",
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
