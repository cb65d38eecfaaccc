"""The ``traces`` section: Folio's own trace receiver, its bounded store and its tail sampling.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the package.
"""

from __future__ import annotations

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting


class TracesSettings(FolioSettingsBase):
    """``folio traces collect``: where it listens, what it keeps, for how long."""

    settings_path = ("traces",)

    host: str = setting("127.0.0.1", description="Address the OTLP/HTTP receiver listens on.")
    port: int = setting(
        21490, ge=1, le=65535, description="Port of the OTLP/HTTP receiver (`POST /v1/traces`)."
    )
    max_traces: int = setting(
        20_000, ge=1, description="The most traces the store keeps; the oldest go first past it."
    )
    max_age_hours: float = setting(72.0, gt=0, description="Traces older than this are deleted.")
    keep_ratio: float = setting(
        0.1,
        ge=0.0,
        le=1.0,
        description="Share of the traces that are neither errors nor slow kept by tail sampling "
        "(1.0 keeps everything).",
    )
    slow_ms: dict[str, float] = setting(
        default_factory=lambda: {
            "POST /api/v1/orders": 1_000.0,
            "GET /api/v1/tasks": 300.0,
            "GET /api/v1/search": 300.0,
        },
        description="SLO latency threshold per root operation (span name), in milliseconds: a trace "
        "whose root took longer is always kept.",
    )
    default_slow_ms: float = setting(
        500.0, gt=0, description="The threshold of a root operation `slow_ms` does not name, in milliseconds."
    )
    quiet_s: float = setting(
        5.0,
        gt=0,
        description="How long a trace waits after its root span ended (or its last span came, "
        "for a trace whose root never arrives) before it is decided: late spans of other processes join it.",
    )
    max_buffered_spans: int = setting(
        50_000,
        ge=1,
        description="The most spans held undecided; past it the oldest traces are decided at once.",
    )
