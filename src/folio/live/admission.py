"""Whether a live connection may open: the caller's request windows, and room in the shop's streams.

A connection attempt counts as one request of its caller in the REST API's windows
(``api.rate_limit_per_key`` under the credential's key, ``api.rate_limit_per_tenant``
under the shop's: ``core.api_limits``, which the gateway counts requests under too),
so opening streams over and over spends the same budget as calling the API. GraphQL's
subscription sockets, which read the same channels, are admitted by it too (the
gateway's GraphQL wiring passes it). Messages on an open stream are not counted.
"""

from __future__ import annotations

from folio.core.api_limits import api_rate_windows
from folio.core.errors import RateLimitedError
from folio.core.platform import Platform
from folio.core.security import Principal

__all__ = ["admit_connection"]


async def admit_connection(platform: Platform, principal: Principal) -> None:
    """Count one connection attempt of ``principal``; ``RateLimitedError`` (429) when a window is spent.

    The credential's window is checked first, as for a request: a credential over its
    own limit does not eat into its shop's.
    """
    admission = await platform.rate_limiter.admit(api_rate_windows(platform.settings.api, principal))
    refused = admission.refused_by
    if refused is None:
        return
    decision = admission.decisions[refused]
    whose = "credential" if refused == 0 else "shop"
    retry_after_s = max(decision.reset_after_s, 1)
    raise RateLimitedError(
        f"this {whose} opened or requested too much; retry in {retry_after_s}s",
        retry_after_s=retry_after_s,
        headers=decision.headers(),
        limit=decision.limit,
        window_s=decision.window_s,
    )
