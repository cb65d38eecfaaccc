"""``folio traces collect``: an OTLP/HTTP receiver that tail-samples spans into the trace store.

Key contracts:

- ``POST /v1/traces`` takes what the standard OTLP/HTTP exporter sends (protobuf, gzip or
  not) and answers an empty ``ExportTraceServiceResponse``; a body that is not one is a 400,
  another content type a 415. Spans are buffered by the ``TailSampler`` and written when
  their trace is decided, so a kept trace is in the store about ``traces.quiet_s`` after
  its last span arrived.
- ``GET /metrics`` (Prometheus): spans received and kept, traces per decision, spans held
  undecided: the measure of what tail sampling saves.
- The receiver never traces itself (its process starts no SDK: its writes would be spans
  sent to itself). At the stop it decides and writes every buffered trace.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import gzip
import time
from collections.abc import Callable

import structlog
from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse
from prometheus_client import CollectorRegistry, Counter, Gauge, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from folio.core.db import Database
from folio.traces.otlp import MalformedExportError, decode_export
from folio.traces.sampling import DecidedTrace, Decision, TailSampler
from folio.traces.settings import TracesSettings
from folio.traces.store import prune_traces, save_traces

__all__ = ["TraceReceiver", "sampler_for"]

log = structlog.get_logger(__name__)

_PROTOBUF = "application/x-protobuf"
_PRUNE_EVERY_S = 60.0


def sampler_for(settings: TracesSettings) -> TailSampler:
    """The tail sampler ``settings`` describe."""
    return TailSampler(
        keep_ratio=settings.keep_ratio,
        slow_ms=settings.slow_ms,
        default_slow_ms=settings.default_slow_ms,
        quiet_s=settings.quiet_s,
        max_buffered_spans=settings.max_buffered_spans,
    )


class TraceReceiver:
    """The receiver's HTTP app, its sampler and its store (see the module docstring)."""

    def __init__(
        self,
        db: Database,
        settings: TracesSettings,
        *,
        sampler: TailSampler | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.settings = settings
        self.sampler = sampler or sampler_for(settings)
        self.clock = clock
        self.registry = CollectorRegistry()
        self._received = Counter(
            "folio_traces_spans_received", "Spans the receiver was sent.", registry=self.registry
        )
        self._kept = Counter(
            "folio_traces_spans_kept", "Spans tail sampling kept (stored).", registry=self.registry
        )
        self._decided = Counter(
            "folio_traces_decided", "Traces decided, by decision.", ["decision"], registry=self.registry
        )
        for decision in Decision:
            self._decided.labels(decision.value)
        Gauge("folio_traces_buffered_spans", "Spans held undecided.", registry=self.registry).set_function(
            lambda: self.sampler.buffered_spans
        )
        self._lock = asyncio.Lock()

    def app(self) -> web.Application:
        """The aiohttp application: ``POST /v1/traces``, ``GET /metrics``."""
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_post("/v1/traces", self._export)
        app.router.add_get("/metrics", self._metrics)
        return app

    async def _export(self, request: web.Request) -> web.Response:
        if request.content_type != _PROTOBUF:
            return web.Response(status=415, text=f"send {_PROTOBUF} (OTLP/HTTP protobuf)")
        body = await request.read()
        if request.headers.get("Content-Encoding", "").lower() == "gzip":
            body = gzip.decompress(body)
        try:
            spans = decode_export(body)
        except MalformedExportError as exc:
            return web.Response(status=400, text=str(exc))
        self._received.inc(len(spans))
        await self._store(self.sampler.add(spans, now=self.clock()))
        return web.Response(body=ExportTraceServiceResponse().SerializeToString(), content_type=_PROTOBUF)

    async def _metrics(self, _request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.registry), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

    async def flush(self, *, everything: bool = False) -> None:
        """Decide the traces whose quiet period passed (all with ``everything``) and store the kept."""
        decided = self.sampler.drain() if everything else self.sampler.due(now=self.clock())
        await self._store(decided)

    async def _store(self, decided: list[DecidedTrace]) -> None:
        if not decided:
            return
        for trace in decided:
            self._decided.labels(trace.decision.value).inc()
        async with self._lock:
            written = await save_traces(self.db, decided)
        self._kept.inc(written)

    async def serve(self, stop: asyncio.Event, *, tick_s: float = 0.5) -> None:
        """Listen on ``traces.host:port`` until ``stop``; decide every ``tick_s``, prune every minute."""
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.settings.host, self.settings.port)
        await site.start()
        log.info("traces.receiving", host=self.settings.host, port=self.settings.port)
        last_prune = 0.0
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=tick_s)
                await self.flush()
                if self.clock() - last_prune >= _PRUNE_EVERY_S:
                    last_prune = self.clock()
                    pruned = await prune_traces(
                        self.db,
                        max_traces=self.settings.max_traces,
                        max_age=dt.timedelta(hours=self.settings.max_age_hours),
                    )
                    if pruned:
                        log.info("traces.pruned", traces=pruned)
        finally:
            await runner.cleanup()
            await self.flush(everything=True)
