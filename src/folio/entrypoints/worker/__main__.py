"""``python -m folio.entrypoints.worker [--registrar module:function ...] [--no-relay]``: one worker process.

It consumes the registered work queues, runs the registered periodic jobs (one round
per interval across the replicas, under the job's locks, ``folio.locks``) and relays the
outbox. SIGTERM or SIGINT stops it gracefully (``folio.messaging.worker``): in-flight messages get
``messaging.shutdown_grace_s`` to finish, the rest go back to their queues.
``--registrar`` adds handlers beyond ``REGISTRARS`` (a companion app's, a test's).
It serves the queues' RED metrics (``folio.messaging.metrics``) on ``messaging.metrics_port``
(``folio up`` gives each replica its own) unless that is 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import signal
from collections.abc import Sequence

from folio.bootstrap import build_platform
from folio.core.logging import configure_logging
from folio.core.process_telemetry import process_telemetry
from folio.core.settings import Settings, load_settings
from folio.entrypoints.worker.registrars import REGISTRARS
from folio.locks.api import LOCKS
from folio.messaging.api import BROKER, HandlerRegistry, JobRounds, OutboxRelay, Registrar, Worker

RELAY_LOCK = "messaging:outbox-relay"
"""The lock the replicas' relays take turns on."""
JOB_LEASE_S = 30.0
"""The lease of a periodic job's lock: renewed while the round runs, so only a dead holder's lapses."""


def _registrar(path: str) -> Registrar:
    module, _, name = path.partition(":")
    if not module or not name:
        raise argparse.ArgumentTypeError(f"{path!r} is not module:function")
    registrar: Registrar = getattr(importlib.import_module(module), name)
    return registrar


async def serve(settings: Settings, registrars: Sequence[Registrar], *, relay: bool = True) -> None:
    """Run the worker (and the relay, unless ``relay`` is False) until SIGTERM or SIGINT."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    platform = build_platform(settings)
    try:
        registry = HandlerRegistry()
        for register in registrars:
            register(registry, platform)
        broker = platform.get(BROKER)
        locks = platform.get(LOCKS)
        worker = Worker(
            platform.database,
            broker,
            registry,
            settings.messaging,
            # One round per job and interval across the replicas (folio.messaging.jobs).
            rounds=JobRounds(locks, lease_s=JOB_LEASE_S),
        )
        tasks = [asyncio.create_task(worker.run(stop), name="worker")]
        messaging = settings.messaging
        if relay and messaging.relay_topics:
            outbox_relay = OutboxRelay(
                platform.database,
                broker,
                topics=messaging.relay_topics,
                urgent_events=messaging.urgent_events,
                batch_size=messaging.relay_batch_size,
            )
            tasks.append(
                asyncio.create_task(
                    outbox_relay.run_forever(
                        stop=stop,
                        poll_interval_s=messaging.relay_poll_interval_s,
                        # One try per standby round, not a busy wait on the lock.
                        exclusive=lambda: locks.hold(RELAY_LOCK, ttl_s=messaging.relay_lease_s, wait_s=0),
                        standby_s=messaging.relay_lease_s / 3,
                    ),
                    name="outbox-relay",
                )
            )
        try:
            await asyncio.gather(*tasks)
        finally:
            stop.set()  # one of them failed: the other stops too, before the platform closes
            await asyncio.wait(tasks, timeout=messaging.shutdown_grace_s + 10.0)
    finally:
        await platform.aclose()


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the arguments, load the settings, configure logging and serve."""
    parser = argparse.ArgumentParser(
        prog="python -m folio.entrypoints.worker",
        description="One worker: consumes the work queues, relays the outbox; SIGTERM stops it gracefully.",
    )
    parser.add_argument(
        "--registrar",
        action="append",
        default=[],
        type=_registrar,
        metavar="MODULE:FUNCTION",
        help="Also register this function's handlers (repeatable).",
    )
    parser.add_argument("--no-relay", action="store_true", help="Consume only; do not relay the outbox.")
    parser.add_argument(
        "--only-given",
        action="store_true",
        help="Register only the --registrar handlers, not the contexts' (a test's worker, its own queues).",
    )
    args = parser.parse_args(argv)
    registrars = [*([] if args.only_given else REGISTRARS), *args.registrar]
    settings = load_settings()
    configure_logging(settings.logging, service=settings.service_name, search=settings.services.search)
    messaging = settings.messaging
    # `folio up` has Prometheus scrape the metrics once the port answers.
    with (
        process_telemetry(
            settings.telemetry,
            service=settings.service_name,
            metrics_port=messaging.metrics_port,
            metrics_host=messaging.metrics_host,
            libraries=("redis", "httpx"),
        ),
        contextlib.suppress(KeyboardInterrupt),
    ):
        asyncio.run(serve(settings, registrars, relay=not args.no_relay))


if __name__ == "__main__":
    main()
