"""The TCP ports Folio's processes bind: who holds one, and whether the kernel may hand it out.

Linux picks the local port of every outgoing connection from the ephemeral range
(``/proc/sys/net/ipv4/ip_local_port_range``, 32768-60999 by default). A server port
inside that range can be taken by any client socket a moment before the server
binds it (the Kafka broker once failed with ``AddrInUse`` because the broker's own
connection to the object store held its port), so Folio's defaults lie below it
and ``folio services up`` / ``folio up`` warn about configured ports inside it.

Every port is named by the setting that chooses it (``services.kafka.port``), so a
message says what to change.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
_TCP_TABLES = (Path("/proc/net/tcp"), Path("/proc/net/tcp6"))
_LISTEN = "0A"  # TCP_LISTEN in /proc/net/tcp's "st" column


def env_var(setting: str) -> str:
    """The environment variable that sets ``setting``.

    ``services.kafka.port`` -> ``FOLIO_SERVICES_KAFKA_PORT``; a derived port
    (``services.object_store.s3_port + 1 (gRPC)``) names the setting it follows.
    """
    path = setting.split(" ", 1)[0]
    return "FOLIO_" + path.replace(".", "_").upper()


def ephemeral_range(path: Path = RANGE_FILE) -> tuple[int, int] | None:
    """The kernel's ephemeral port range, or None where it cannot be read (not Linux)."""
    try:
        low, high = (int(part) for part in path.read_text().split())
    except (OSError, ValueError):
        return None
    return low, high


def ephemeral_warnings(ports: Mapping[str, int], port_range: tuple[int, int] | None) -> list[str]:
    """One line per port in ``ports`` (setting -> port) that lies inside ``port_range``."""
    if port_range is None:
        return []
    low, high = port_range
    return [
        f"{setting} = {port} lies in the ephemeral port range {low}-{high} ({RANGE_FILE}): an "
        f"outgoing connection may hold it when the server starts; set {env_var(setting)} below {low}"
        for setting, port in ports.items()
        if low <= port <= high
    ]


@dataclass(frozen=True)
class PortOwner:
    """A process listening on a port: its PID and command line (None when it is not visible)."""

    pid: int | None
    command: str | None

    def describe(self) -> str:
        """``pid 123 (redis-server 127.0.0.1:21420)``, or why the owner is unknown."""
        if self.pid is None:
            return "a process this user cannot see (try `ss -ltnp` as root)"
        return f"pid {self.pid} ({self.command or '?'})"


def listening_inodes(port: int, tables: Iterable[Path] = _TCP_TABLES) -> set[str]:
    """Socket inodes of TCP listeners on ``port``, any address, IPv4 and IPv6."""
    inodes: set[str] = set()
    for table in tables:
        try:
            lines = table.read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == _LISTEN:
                inodes.add(fields[9])
    return inodes


def port_owner(port: int) -> PortOwner | None:
    """Who listens on ``port`` (from /proc), or None when nothing does."""
    inodes = listening_inodes(port)
    if not inodes:
        return None
    targets = {f"socket:[{inode}]" for inode in inodes}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if str(fd.readlink()) in targets:
                    command = (proc / "cmdline").read_bytes().replace(b"\0", b" ")
                    return PortOwner(int(proc.name), command.decode(errors="replace").strip())
            except OSError:
                continue
    return PortOwner(None, None)
