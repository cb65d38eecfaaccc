"""The clock identity's time rules read (lockouts, reset-token expiry, API-key last use).

Service functions take ``clock=`` (default ``utcnow``) so tests can move time
without patching a module attribute.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

__all__ = ["Clock"]

Clock = Callable[[], dt.datetime]
"""Returns the current time, timezone-aware UTC."""
