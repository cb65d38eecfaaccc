"""The ``telemetry`` section: whether a process traces, where its spans go, how many it samples."""

from __future__ import annotations

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class TelemetrySettings(FolioSettingsBase):
    """OpenTelemetry in every process: on or off, the OTLP/HTTP endpoint, head sampling."""

    settings_path = ("telemetry",)

    enabled: bool = setting(
        default=False,
        description="Trace this process with OpenTelemetry; `folio up` turns it on for its processes. "
        "Off means off: no SDK, no exporter, no instrumentation.",
    )
    endpoint: str = setting(
        "http://127.0.0.1:21490",
        description="Base URL of an OTLP/HTTP receiver (spans go to `<endpoint>/v1/traces`): "
        "Folio's own (`folio traces collect`) or any OpenTelemetry collector.",
    )
    sample_ratio: float = setting(
        1.0,
        ge=0.0,
        le=1.0,
        description="Share of new traces recorded at their root (a caller's decision is followed); "
        "the receiver's tail sampling decides what is kept.",
    )
    export_timeout_s: float = setting(
        2.0, gt=0, description="How long one export may wait for the receiver before dropping its batch."
    )
    export_delay_ms: int = setting(
        500, ge=10, description="How long finished spans wait to be exported together in one batch."
    )
    service_name: str | None = setting(
        None, description="The `service.name` spans report; unset: the name the process logs as."
    )
