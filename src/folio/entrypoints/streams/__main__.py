"""``python -m folio.entrypoints.streams <stage>|all``: one process of the Kafka event pipeline.

``all`` (what ``folio up`` runs) runs the three stages as tasks of one process. ``relay``
publishes the outbox to Kafka (one relay at a time, under the lock
``streaming:kafka-relay``); ``transform`` and ``sink`` are consumer-group members: the
per-stage forms scale one stage out (several processes share its partitions). SIGTERM
or SIGINT stops every stage between batches; a consumer leaves its group so its
partitions move at once.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager

from folio.bootstrap import build_platform
from folio.core.logging import configure_logging
from folio.core.settings import Settings, load_settings
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

        if stage == ALL:
            await streams.run_all(platform.database, stop=stop, exclusive=exclusive)
        else:
            await streams.run_stage(stage, platform.database, stop=stop, exclusive=exclusive)
    finally:
        await platform.aclose()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the stage, load the settings, configure logging and serve."""
    parser = argparse.ArgumentParser(
        prog="python -m folio.entrypoints.streams",
        description="One stage of the Kafka event pipeline; SIGTERM stops it between batches.",
    )
    parser.add_argument(
        "stage", choices=(*STAGES, ALL), help="The stage this process runs (all: the three, as tasks)."
    )
    args = parser.parse_args(argv)
    settings = load_settings()
    configure_logging(
        settings.logging, service=f"{settings.service_name}-{args.stage}", search=settings.services.search
    )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(settings, args.stage))


if __name__ == "__main__":
    main()
