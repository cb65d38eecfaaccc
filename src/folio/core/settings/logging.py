"""The ``logging`` section: structured logging's format, destinations, levels, sampling and shipping."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import field_validator

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class LoggingSettings(FolioSettingsBase):
    """Structured logging: format, destinations, levels, sampling and shipping."""

    settings_path = ("logging",)

    level: LogLevel = setting("INFO", reloadable=True, description="Root log level.")
    levels: dict[str, LogLevel] = setting(
        default_factory=lambda: {"uvicorn.access": "WARNING", "sqlalchemy.engine": "WARNING"},
        reloadable=True,
        description='Per-logger levels, e.g. `{"sqlalchemy.engine": "INFO"}`.',
    )
    format: Literal["json", "console"] = setting(
        "json", description="`json` lines for machines or `console` for humans."
    )
    file: Path | None = setting(
        Path(".folio/logs/{service}.jsonl"),
        description="Rotating JSON log file (`{service}` becomes the process name); unset for stdout only.",
    )
    stdout: bool = setting(
        default=True,
        description="Also write each line to stdout; `folio up` turns it off for its processes, "
        "whose stdout it captures (each line is then written once, to `file`).",
    )
    max_bytes: int = setting(10_000_000, ge=1024, description="Size at which the log file rotates.")
    backup_count: int = setting(5, ge=0, description="Rotated log files kept.")
    sampling: dict[str, float] = setting(
        default_factory=lambda: {"http.request.health": 0.01, "grpc.call.health": 0.01},
        reloadable=True,
        description="Keep-rate in [0, 1] per event name; events not listed are all kept.",
    )
    ship_to_search: bool = setting(
        default=False, description="Also ship log lines to the search server (Typesense)."
    )
    ship_collection: str = setting("folio-logs", description="Search collection logs go to.")
    ship_batch_size: int = setting(200, ge=1, description="Lines per bulk import to the search server.")
    ship_interval_s: float = setting(1.0, gt=0, description="Longest wait before a partial batch ships.")

    @field_validator("sampling")
    @classmethod
    def _sampling_rates_are_probabilities(cls, sampling: dict[str, float]) -> dict[str, float]:
        bad = {name: rate for name, rate in sampling.items() if not 0.0 <= rate <= 1.0}
        if bad:
            raise ValueError(f"sampling rates must lie in [0, 1]; out of range: {', '.join(sorted(bad))}")
        return sampling
