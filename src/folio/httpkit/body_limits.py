"""How large a request body each part of the API accepts: one table for the gateway and nginx.

The gateway's ``BodyLimitMiddleware`` enforces it (413 ``payload-too-large`` before the
body is read); nginx's ``client_max_body_size`` is rendered from ``BodyLimits.largest``,
so the proxy never refuses what the gateway would take, nor forwards more than it would.
A route that legitimately needs a larger body gets its own prefix in ``api_body_limits``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from folio.core.settings.api import ApiSettings

__all__ = ["API_PREFIX", "AUTH_PREFIX", "BodyLimits", "api_body_limits"]

API_PREFIX = "/api/"
AUTH_PREFIX = "/api/v1/auth/"
"""The unauthenticated endpoints (register, token, refresh, password reset): small JSON only."""


@dataclass(frozen=True)
class BodyLimits:
    """The largest request body, in bytes, per path prefix; the longest matching prefix wins."""

    by_prefix: Mapping[str, int]

    def for_path(self, path: str) -> int | None:
        """The limit for ``path``, or None when no prefix covers it."""
        matches = [prefix for prefix in self.by_prefix if path.startswith(prefix)]
        return self.by_prefix[max(matches, key=len)] if matches else None

    @property
    def largest(self) -> int:
        """The largest limit of all: what a proxy in front must let through."""
        return max(self.by_prefix.values())


def api_body_limits(settings: ApiSettings) -> BodyLimits:
    """The API's limits: ``api.max_body_bytes`` everywhere, ``api.auth_max_body_bytes`` on auth."""
    return BodyLimits({API_PREFIX: settings.max_body_bytes, AUTH_PREFIX: settings.auth_max_body_bytes})
