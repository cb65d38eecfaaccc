"""Prefect 3's server, for the daily flow (``folio flows``), from the flows project's own environment.

Prefect cannot share Folio's environment (it pins an older FastAPI and websockets), so
the flows live in their own uv project (``flows.project``, default ``flows/``) with a
committed ``uv.lock``. The service's ``prepare`` step runs ``uv sync --locked`` there
before every start (a no-op once the environment matches the lock), so a fresh machine
gets the environment from ``folio services up`` alone. The server keeps its SQLite
database and settings in ``PREFECT_HOME`` under this service's data folder.

With ``flows.api_url`` set, Folio uses that server instead and runs nothing locally.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from folio.ops.health import http_probe
from folio.ops.process import ProcessError, ProcessSpec
from folio.ops.service import Requirement, Service

_SYNC_TIMEOUT_S = 900
"""A first sync downloads Prefect and Great Expectations (about 150 MB)."""


def uv_executable() -> str:
    """The uv to sync with: ``UV`` (set by ``uv run``), the one beside Python, on PATH, or in ~/.local/bin."""
    candidates = [os.environ.get("UV"), str(Path(sys.executable).with_name("uv")), shutil.which("uv")]
    candidates.append(str(Path.home() / ".local" / "bin" / "uv"))
    for candidate in candidates:
        if candidate and Path(candidate).is_file():
            return candidate
    raise ProcessError("the flows environment needs uv: run `make uv` (or `pip install --user uv`)")


def sync_flows_environment(project: Path, log_file: Path) -> None:
    """``uv sync --locked`` of the flows project into ``<project>/.venv``; ``ProcessError`` naming the log.

    Folio's own virtualenv variables are dropped, so uv makes the project's environment
    and never touches Folio's.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT"}
    }
    argv = [uv_executable(), "sync", "--locked", "--no-dev", "--project", str(project)]
    log_file.parent.mkdir(parents=True, exist_ok=True)
    with log_file.open("ab") as log:
        try:
            done = subprocess.run(
                argv, stdout=log, stderr=subprocess.STDOUT, env=env, check=False, timeout=_SYNC_TIMEOUT_S
            )
        except subprocess.TimeoutExpired:
            raise ProcessError(f"`{' '.join(argv)}` took over {_SYNC_TIMEOUT_S} s; see {log_file}") from None
    if done.returncode != 0:
        raise ProcessError(f"`{' '.join(argv)}` failed with code {done.returncode}; see {log_file}")


class PrefectService(Service):
    """``prefect server start`` from the flows environment, its state under the service's data folder."""

    name = "prefect"
    summary = "Prefect 3 server (the daily data flow's runs, schedules and artifacts)"

    @property
    def external(self) -> bool:
        """Whether ``flows.api_url`` names a server elsewhere, so nothing runs locally."""
        return self.settings.flows.api_url is not None

    def requirements(self) -> list[Requirement]:
        """Nothing from apt or Folio's wheels: the flows environment is synced before each start."""
        return []

    def processes(self) -> list[ProcessSpec]:
        """One Prefect server on ``flows.host``:``flows.port``; none for an external server."""
        if self.external:
            return []
        cfg = self.settings.flows
        prefect = cfg.python.with_name("prefect")
        home = self.data_dir / "home"
        env = {
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "PREFECT_SERVER_API_HOST": cfg.host,
            "PREFECT_SERVER_API_PORT": str(cfg.port),
            # The server's own client must not follow a PREFECT_API_URL meant for something else.
            "PREFECT_API_URL": cfg.url,
        }

        def prepare() -> None:
            home.mkdir(parents=True, exist_ok=True)
            sync_flows_environment(cfg.project_dir, self.data_dir / "logs" / "sync.log")

        return [
            self.spec(
                self.name,
                [str(prefect), "server", "start", "--host", cfg.host, "--port", str(cfg.port)],
                http_probe(f"{cfg.url}/health"),
                ports={"flows.port": cfg.port},
                env=env,
                cwd=self.data_dir,
                prepare=prepare,
                ready_timeout_s=max(self.settings.services.ready_timeout_s, 90.0),
            )
        ]

    def endpoints(self) -> dict[str, str]:
        """The API, and the UI beside it."""
        url = self.settings.flows.url
        return {"api": url, "ui": url.removesuffix("/api")}
