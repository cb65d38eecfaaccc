"""Redis: the shared instance (cache, counters, pub/sub), and Redlock's independent instances (L4-18)."""

from __future__ import annotations

import socket

from folio.core.settings.services import RedisSettings
from folio.ops.health import Probe
from folio.ops.process import ProcessSpec
from folio.ops.service import AptPackage, Requirement, Service


def redis_ping_probe(host: str, port: int) -> Probe:
    """Healthy once the server answers ``PING`` with ``+PONG`` (not merely accepts TCP)."""

    def probe() -> str | None:
        try:
            with socket.create_connection((host, port), timeout=1.0) as conn:
                conn.sendall(b"PING\r\n")
                reply = conn.recv(64)
        except OSError as exc:
            return f"redis {host}:{port} unreachable ({exc.strerror or exc})"
        return None if reply.startswith(b"+PONG") else f"redis {host}:{port} answered {reply[:40]!r}"

    return probe


class RedisService(Service):
    """``redis-server`` from Debian, N instances on consecutive ports, AOF persistence."""

    name = "redis"
    summary = "Redis (cache, counters, locks, pub/sub)"

    def requirements(self) -> list[Requirement]:
        """Debian's redis-server."""
        return [AptPackage("redis-server", "redis-server")]

    def config(self) -> RedisSettings:
        """This service's section of the settings (``services.redis``)."""
        return self.settings.services.redis

    def processes(self) -> list[ProcessSpec]:
        """One ``redis-server`` per configured instance."""
        cfg = self.config()
        specs = []
        for index in range(cfg.instances):
            port = cfg.port + index
            data = self.data_dir / f"instance-{index}"
            specs.append(
                self.spec(
                    f"instance-{index}",
                    [
                        "redis-server",
                        "--bind",
                        cfg.host,
                        "--port",
                        str(port),
                        "--dir",
                        str(data),
                        "--appendonly",
                        "yes",
                        "--save",
                        "",
                        "--protected-mode",
                        "yes",
                        "--daemonize",
                        "no",
                    ],
                    redis_ping_probe(cfg.host, port),
                    ports={f"services.{self.name}.port" + (f" + {index}" if index else ""): port},
                    prepare=lambda data=data: data.mkdir(parents=True, exist_ok=True),
                )
            )
        return specs

    def endpoints(self) -> dict[str, str]:
        """The URL of every instance."""
        return {f"instance {i}": url for i, url in enumerate(self.config().urls)}


class RedlockService(RedisService):
    """The Redis instances Redlock takes its majority of: ``services.redlock``, 3 by default.

    Separate from ``redis`` so that a lock never shares an instance (or a failure) with
    the cache, and so that killing one lock instance leaves the others' data alone: the
    instances must be independent for a majority to mean anything.
    """

    name = "redlock"
    summary = "Redis instances for Redlock (distributed locks, fencing counters)"

    def config(self) -> RedisSettings:
        """``services.redlock``."""
        return self.settings.services.redlock
