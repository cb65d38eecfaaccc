"""Wiring structlog and the standard library into one JSON pipeline.

Folio's own loggers (structlog) and third-party ones (uvicorn, SQLAlchemy, via the
standard library) go through the same processors, so every line, whoever wrote it,
has the schema of ``LOG_SCHEMA`` and the request's correlation id.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import structlog
from structlog.typing import Processor

from folio.core.logging.sampling import EventSampler
from folio.core.logging.shipping import SearchLogShipper
from folio.core.settings.logging import LoggingSettings
from folio.core.settings.services import SearchSettings
from folio.core.telemetry import add_trace_id

_FOLIO_HANDLER = "folio"


@dataclass
class LoggingRuntime:
    """Handles on the live logging setup, for reloads and a clean shutdown."""

    settings: LoggingSettings
    sampler: EventSampler
    shipper: SearchLogShipper | None = None
    handlers: list[logging.Handler] = field(default_factory=list)
    _leveled: set[str] = field(default_factory=set, init=False, repr=False)

    def apply_levels(self) -> None:
        """(Re)apply the root and per-logger levels and sampling rates from ``settings``.

        A logger dropped from ``settings.levels`` since the last call goes back to
        inheriting the root's level instead of keeping the one it was given.
        """
        logging.getLogger().setLevel(self.settings.level)
        for name in self._leveled - self.settings.levels.keys():
            logging.getLogger(name).setLevel(logging.NOTSET)
        for name, level in self.settings.levels.items():
            logging.getLogger(name).setLevel(level)
        self._leveled = set(self.settings.levels)
        self.sampler.rates = self.settings.sampling


_runtime: LoggingRuntime | None = None


def _service_adder(service: str) -> Processor:
    def add_service(_logger: Any, _method: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        event.setdefault("service", service)
        return event

    return add_service


def configure_logging(
    settings: LoggingSettings,
    *,
    service: str,
    log_format: str | None = None,
    search: SearchSettings | None = None,
    stream: TextIO | None = None,
) -> LoggingRuntime:
    """Configure logging for this process; safe to call again (it replaces the setup).

    ``log_format`` overrides ``settings.format`` (the CLI's ``--log-format``);
    ``search`` is required when ``settings.ship_to_search`` is on; ``stream`` replaces
    stdout (the CLI logs to stderr so its output stays clean).
    """
    global _runtime  # noqa: PLW0603 - one logging setup per process, replaced as a whole
    if settings.ship_to_search and search is None:
        # Checked before any handler exists, so a refused setup leaks no open log file.
        raise ValueError("logging.ship_to_search needs the search server's settings")
    shutdown_logging()
    sampler = EventSampler(settings.sampling)
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        add_trace_id,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        _service_adder(service),
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
    ]
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            # Right after the level check: a line sampled away costs no context, name or timestamp.
            sampler,
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    json_formatter = _formatter(shared, structlog.processors.JSONRenderer())
    chosen = log_format or settings.format
    stdout_formatter = (
        _formatter(shared, structlog.dev.ConsoleRenderer(colors=(stream or sys.stdout).isatty()))
        if chosen == "console"
        else json_formatter
    )
    handlers: list[logging.Handler] = []
    if settings.stdout or settings.file is None:
        # Without a file, stdout is the only place a line can go.
        console = logging.StreamHandler(stream or sys.stdout)
        console.setFormatter(stdout_formatter)
        handlers.append(console)
    if settings.file is not None:
        # One file per service: RotatingFileHandler cannot rotate a file other processes write.
        log_file = Path(str(settings.file).replace("{service}", service))
        log_file.parent.mkdir(parents=True, exist_ok=True)
        rotating = logging.handlers.RotatingFileHandler(
            log_file, maxBytes=settings.max_bytes, backupCount=settings.backup_count, encoding="utf-8"
        )
        rotating.setFormatter(json_formatter)
        handlers.append(rotating)
    shipper = None
    if settings.ship_to_search and search is not None:
        shipper = SearchLogShipper(search, settings)
        shipper.setFormatter(json_formatter)
        shipper.start()
        handlers.append(shipper)
    root = logging.getLogger()
    for handler in handlers:
        handler.set_name(_FOLIO_HANDLER)
        root.addHandler(handler)
    _runtime = LoggingRuntime(settings=settings, sampler=sampler, shipper=shipper, handlers=handlers)
    _runtime.apply_levels()
    logging.captureWarnings(capture=True)
    return _runtime


def _formatter(shared: list[Processor], renderer: Processor) -> logging.Formatter:
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            renderer,
        ],
    )


def shutdown_logging() -> None:
    """Flush and detach the handlers this module installed (ships what is queued)."""
    global _runtime  # noqa: PLW0603 - see configure_logging
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == _FOLIO_HANDLER:
            root.removeHandler(handler)
            handler.close()
    _runtime = None
