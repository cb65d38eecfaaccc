"""The ``api`` section: the public REST API's rate limits, paging and body limits."""

from __future__ import annotations

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class ApiSettings(FolioSettingsBase):
    """The public REST API: rate limits and paging."""

    settings_path = ("api",)

    rate_limit_per_key: str = setting(
        "100/minute",
        reloadable=True,
        description="Requests allowed per credential (token user or API key), `limits` notation.",
    )
    rate_limit_per_tenant: str = setting(
        "1000/minute", reloadable=True, description="Requests allowed per shop across all its credentials."
    )
    default_page_size: int = setting(20, ge=1, le=100, description="Items per page when none is asked for.")
    max_page_size: int = setting(100, ge=1, le=1000, description="Largest page a client may ask for.")
    max_body_bytes: int = setting(
        1_048_576,
        ge=1,
        description="Largest request body an API route accepts (else 413, unread); nginx allows the largest.",
    )
    auth_max_body_bytes: int = setting(
        16_384, ge=1, description="Largest request body the unauthenticated `/api/v1/auth/` endpoints accept."
    )
