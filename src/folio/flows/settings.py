"""The ``flows`` section: where the Prefect server listens, where the flows environment is, the schedule.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the package.
The harness (``folio.ops.services.prefect``) and ``folio up`` read it through the tree.
"""

from __future__ import annotations

from pathlib import Path

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import LOOPBACK, setting

_REPOSITORY = Path(__file__).resolve().parents[3]
"""The checkout holding ``src/folio``: its ``flows/`` folder is the flows project by default."""


class FlowsSettings(FolioSettingsBase):
    """The daily flow on Prefect 3: its server, its own uv project and virtualenv, schedule and checks."""

    settings_path = ("flows",)

    host: str = setting(
        LOOPBACK, description="Interface the Prefect server (`folio services up prefect`) binds."
    )
    port: int = setting(21485, ge=1, le=65_535, description="Port of the Prefect server (API and UI).")
    metrics_host: str = setting(
        LOOPBACK,
        description="Interface the served flow's (`folio up`'s `flows`) Prometheus `/metrics` binds.",
    )
    metrics_port: int = setting(
        21486,
        ge=0,
        le=65_535,
        description="Port of the served flow's Prometheus `/metrics` (Prefect's client metrics and the "
        "process's own); 0: not served. Only `serve` serves it, never a one-off run.",
    )
    api_url: str | None = setting(
        None,
        description="A Prefect server's API elsewhere (`http://host:4200/api`); unset: the local one on "
        "`host`:`port`. Lite mode runs flows on Prefect's ephemeral server unless this is set.",
    )
    project: Path | None = setting(
        None,
        description="The flows uv project (its `pyproject.toml` and `uv.lock`; its virtualenv in `.venv`); "
        "unset: `flows/` of the checkout Folio runs from.",
    )
    schedule_cron: str = setting(
        "30 2 * * *",
        min_length=9,
        description="When the served flow runs each day (cron, in `schedule_timezone`).",
    )
    schedule_timezone: str = setting("UTC", description="The time zone of `schedule_cron`.")
    drift_factor: float = setting(
        10.0,
        gt=1,
        le=1_000,
        description="A table's rows for the day may be at most this many times the previous day's (or that "
        "many times fewer) before the row-count drift check fails the run; no check without a previous day.",
    )

    @property
    def url(self) -> str:
        """The Prefect API the flows talk to in full mode: ``api_url``, else the local server's."""
        return self.api_url or f"http://{self.host}:{self.port}/api"

    @property
    def project_dir(self) -> Path:
        """The flows uv project's folder, absolute."""
        return (self.project or _REPOSITORY / "flows").absolute()

    @property
    def python(self) -> Path:
        """The flows environment's interpreter (``uv sync --project`` makes it)."""
        return self.project_dir / ".venv" / "bin" / "python"

    def process_environment(self, home: Path, *, lite: bool, folio_python: str) -> dict[str, str]:
        """What a ``python -m folio_flows`` process adds to its environment (``folio up``, ``folio flows``).

        Prefect's home and server: full mode talks to ``url``; lite mode empties
        ``PREFECT_API_URL`` so Prefect runs the flow on its ephemeral server (a temporary
        one, its database in ``home``). ``home`` also holds the cached task results, so
        runs that share it share the cache. ``folio_python`` is the interpreter whose
        ``folio`` the flow's tasks run; the schedule, drift factor and (for ``serve``) metrics
        port come from here.
        """
        env = {
            "FOLIO_PYTHON": folio_python,
            "FOLIO_FLOWS_SCHEDULE_CRON": self.schedule_cron,
            "FOLIO_FLOWS_SCHEDULE_TIMEZONE": self.schedule_timezone,
            "FOLIO_FLOWS_DRIFT_FACTOR": str(self.drift_factor),
            "FOLIO_FLOWS_METRICS_HOST": self.metrics_host,
            "FOLIO_FLOWS_METRICS_PORT": str(self.metrics_port),
            "PREFECT_HOME": str(home),
            "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
            "GX_ANALYTICS_ENABLED": "false",
            "PREFECT_API_URL": "" if lite else self.url,
        }
        if lite:
            env["PREFECT_SERVER_ALLOW_EPHEMERAL_MODE"] = "true"
        return env
