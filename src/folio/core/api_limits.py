"""The REST API's rate windows for a caller, in the form ``RateLimiter.admit`` takes.

One definition, because anything that spends the API's budget must count under the
same keys: the gateway's request limit (``entrypoints.gateway.limits``) and the live
streams' and GraphQL subscriptions' connection admission (``live.admission``). In the
kernel, not httpkit: the live context's api must not load a web framework.
"""

from __future__ import annotations

from folio.core.security import Principal
from folio.core.settings.api import ApiSettings

__all__ = ["api_rate_windows"]


def api_rate_windows(api: ApiSettings, principal: Principal) -> list[tuple[str, tuple[str, str]]]:
    """The caller's two windows: its credential's (``rate_limit_per_key``), then its shop's.

    The credential's comes first: ``admit`` stops at the first refused window, so a
    credential over its own limit does not eat into its shop's.
    """
    return [
        (api.rate_limit_per_key, ("api", principal.rate_limit_key)),
        (api.rate_limit_per_tenant, ("api-tenant", principal.tenant_id.hex)),
    ]
