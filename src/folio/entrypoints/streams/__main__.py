"""``python -m folio.entrypoints.streams <stage>|all``: one process of the Kafka event pipeline.

``all`` (what ``folio up`` runs) runs every stage as tasks of one process. ``relay``
publishes the outbox to Kafka (one relay at a time, under the lock
``streaming:kafka-relay``); ``transform``, ``sink`` and ``lake`` are consumer-group members: the
per-stage forms scale one stage out (several processes share its partitions). ``live``
is the live dashboard's stage (``folio.live``: the pipeline does not know it, this
entry point runs it beside the others; it needs the cache server). SIGTERM
or SIGINT stops every stage between batches; a consumer leaves its group so its
partitions move at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any

from redis.asyncio import Redis

from folio.bootstrap import build_platform
from folio.core.logging import configure_logging
from folio.core.process_telemetry import process_telemetry
from folio.core.settings import Settings, load_settings
from folio.lake.api import LAKE
from folio.live.api import STAGE as LIVE_STAGE
from folio.live.api import live_available, run_live_feed
from folio.locks.api import LOCKS
from folio.streaming.api import RELAY_LOCK, STAGES, STREAMS

ALL = "all"
"""Every stage in this one process."""


async def serve(settings: Settings, stage: str) -> None:
    """Run ``stage`` (or ``all``) until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    platform = build_platform(settings)
    try:
        locks = platform.get(LOCKS)
        lease_s = settings.streaming.relay_lease_s
        streams = platform.get(STREAMS)

        def exclusive() -> AbstractAsyncContextManager[object]:
            # One try per standby round, not a busy wait on the lock.
            return locks.hold(RELAY_LOCK, ttl_s=lease_s, wait_s=0)

        lake = platform.get(LAKE)
        if stage == ALL:
            await _with_live(
                settings,
                streams.run_all(platform.database, stop=stop, exclusive=exclusive, lake=lake),
                lambda redis: run_live_feed(streams, platform.database, redis, stop=stop),
                stop=stop,
            )
        elif stage == LIVE_STAGE:
            async with Redis.from_url(settings.cache_url) as redis:
                await run_live_feed(streams, platform.database, redis, stop=stop)
        else:
            await streams.run_stage(stage, platform.database, stop=stop, exclusive=exclusive, lake=lake)
    finally:
        await platform.aclose()


async def _with_live(
    settings: Settings,
    pipeline: Coroutine[Any, Any, None],
    live: Callable[[Redis], Coroutine[Any, Any, None]],
    *,
    stop: asyncio.Event,
) -> None:
    """Run the pipeline's stages and the live stage together; when one ends or fails, ``stop`` ends the other.

    Without a cache server (``cache.backend = "memory"``) there is no live stage.
    """
    if not live_available(settings):
        await pipeline
        return
    async with Redis.from_url(settings.cache_url) as redis:
        tasks = [
            asyncio.create_task(pipeline, name="pipeline"),
            asyncio.create_task(live(redis), name="live"),
        ]
        try:
            await asyncio.gather(*tasks)
        finally:
            stop.set()
            await asyncio.wait(tasks)


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the stage, load the settings, configure logging and serve."""
    parser = argparse.ArgumentParser(
        prog="python -m folio.entrypoints.streams",
        description="One stage of the Kafka event pipeline; SIGTERM stops it between batches.",
    )
    parser.add_argument(
        "stage",
        choices=(*STAGES, LIVE_STAGE, ALL),
        help="The stage this process runs (all: every stage, as tasks).",
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    service = f"{settings.service_name}-{args.stage}"
    configure_logging(settings.logging, service=service, search=settings.services.search)
    config = settings.streaming
    # The stages' RED metrics (folio.streaming.metrics); `folio up` has Prometheus scrape them.
    with (
        process_telemetry(
            settings.telemetry,
            service=service,
            metrics_port=config.metrics_port,
            metrics_host=config.metrics_host,
        ),
        contextlib.suppress(KeyboardInterrupt),
    ):
        asyncio.run(serve(settings, args.stage))


if __name__ == "__main__":
    main()
