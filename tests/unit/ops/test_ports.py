"""Folio's ports: defaults outside the kernel's ephemeral range, warnings, and who holds a busy one."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from folio.core.settings import Settings
from folio.ops.apps import folio_processes
from folio.ops.manager import ServiceManager
from folio.ops.ports import env_var, ephemeral_range, ephemeral_warnings, port_owner
from folio.ops.process import ProcessError, ProcessSpec, ensure_ports_free
from tests.unit.ops.conftest import never_ready

pytestmark = pytest.mark.unit

LINUX_DEFAULT_EPHEMERAL = (32768, 60999)
"""Linux's default ``ip_local_port_range``; Folio's defaults must stay below it."""


def all_default_ports(settings: Settings) -> dict[str, int]:
    """Every port Folio binds with default settings: each server (helpers included) and its own processes."""
    ports = {
        setting: port
        for service in ServiceManager(settings).all.values()
        for setting, port in service.ports().items()
    }
    for spec in folio_processes(settings, {}):
        ports.update(spec.ports)
    return ports


def test_default_ports_lie_below_the_ephemeral_range(clean_env: Path) -> None:
    """No default port (gRPC, peering, rabbitmqctl ones included) can be taken by an outgoing connection."""
    ports = all_default_ports(Settings())

    assert ports["services.kafka.port"] == 21440
    assert "services.object_store.master_port + 1 (gRPC)" in ports
    assert "services.search.port - 1 (peering)" in ports
    assert "services.rabbitmq.dist_port + 7 (rabbitmqctl)" in ports
    assert {setting: port for setting, port in ports.items() if port >= LINUX_DEFAULT_EPHEMERAL[0]} == {}
    assert ephemeral_warnings(ports, LINUX_DEFAULT_EPHEMERAL) == []


def test_default_ports_are_distinct(clean_env: Path) -> None:
    """Two defaults never share a port, so the servers can all run at once."""
    ports = all_default_ports(Settings())

    assert len(set(ports.values())) == len(ports)


def test_default_ports_avoid_registered_services(clean_env: Path) -> None:
    """No default port is a port /etc/services registers (a well-known server could want it)."""
    services = Path("/etc/services")
    if not services.is_file():
        pytest.skip("no /etc/services on this machine")
    registered = {
        int(fields[1].split("/")[0])
        for line in services.read_text().splitlines()
        if (fields := line.split("#", 1)[0].split()) and len(fields) > 1
    }
    ports = all_default_ports(Settings())

    assert {setting: port for setting, port in ports.items() if port in registered} == {}


def test_a_port_in_the_range_is_named_with_its_variable() -> None:
    """A configured port inside the range is warned about by setting, value and the variable to change."""
    (warning,) = ephemeral_warnings({"services.kafka.port": 59092, "gateway.port": 8000}, (32768, 60999))

    assert warning.startswith("services.kafka.port = 59092 lies in the ephemeral port range 32768-60999")
    assert "set FOLIO_SERVICES_KAFKA_PORT below 32768" in warning


def test_ephemeral_range_reads_the_kernel_file(tmp_path: Path) -> None:
    """The range comes from ip_local_port_range; an unreadable file means no check, not a crash."""
    range_file = tmp_path / "ip_local_port_range"
    range_file.write_text("40000\t50000\n")

    assert ephemeral_range(range_file) == (40000, 50000)
    assert ephemeral_range(tmp_path / "missing") is None
    assert ephemeral_warnings({"x.port": 45000}, None) == []


def test_env_var_names_the_setting_a_derived_port_follows() -> None:
    """A derived port's message points at the variable of the setting it is computed from."""
    assert env_var("services.object_store.s3_port + 1 (gRPC)") == "FOLIO_SERVICES_OBJECT_STORE_S3_PORT"
    assert env_var("gateway.port") == "FOLIO_GATEWAY_PORT"


def test_port_owner_finds_the_listening_process() -> None:
    """A listening socket is traced to its process: this test's own PID and command line."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        owner = port_owner(port)

    assert owner is not None
    assert owner.pid == os.getpid()
    assert owner.describe().startswith(f"pid {os.getpid()} (")
    assert port_owner(port) is None


def test_ensure_ports_free_refuses_a_busy_port(tmp_path: Path) -> None:
    """A spec whose port is taken fails before launch, naming the setting, the port and its owner."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        spec = ProcessSpec(
            name="kafka",
            argv=["tansu"],
            log_file=tmp_path / "kafka.log",
            pid_file=tmp_path / "kafka.pid",
            probe=never_ready,
            ports={"services.kafka.port": port},
        )
        with pytest.raises(ProcessError) as excinfo:
            ensure_ports_free(spec)

    assert str(excinfo.value).startswith(
        f"kafka cannot start: services.kafka.port = {port} is already in use by pid {os.getpid()} ("
    )
    assert "set FOLIO_SERVICES_KAFKA_PORT to a free port" in str(excinfo.value)
    ensure_ports_free(spec)  # free again once the socket is closed
