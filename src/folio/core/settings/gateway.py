"""The ``gateway`` section: where the HTTP gateway that fronts every context's API listens."""

from __future__ import annotations

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import LOOPBACK, setting


class GatewaySettings(FolioSettingsBase):
    """The HTTP gateway (FastAPI) that fronts every context's API."""

    settings_path = ("gateway",)

    host: str = setting(LOOPBACK, description="Interface the gateway binds.")
    port: int = setting(8000, ge=1, le=65535, description="Port the gateway binds.")
    docs_enabled: bool = setting(default=True, description="Serve OpenAPI docs at `/docs`.")
    request_budget_s: float = setting(
        10.0,
        gt=0,
        le=300,
        description="Time a request may take end to end; the rest of it becomes the deadline of every "
        "gRPC call the request makes.",
    )

    @property
    def url(self) -> str:
        """Base URL of the gateway."""
        return f"http://{self.host}:{self.port}"
