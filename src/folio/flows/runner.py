"""Running the flows environment's ``python -m folio_flows`` from Folio: the one way Folio talks to Prefect.

Folio shells into the flows environment instead of calling Prefect's REST API itself:
the same command works in full mode (against the server ``folio services up`` runs)
and in lite mode (Prefect's ephemeral server, no server to call), and Folio depends on
no Prefect schema. The child gets Folio's own interpreter as ``FOLIO_PYTHON`` (the
flow's tasks run ``$FOLIO_PYTHON -m folio ...``) and the invocation's ``FOLIO_*``
environment, so flow and Folio read the same settings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from folio.core.settings import Settings
from folio.flows.errors import FlowsEnvironmentMissingError, PrefectUnavailableError

__all__ = ["flows_environment", "run_flows_command"]


def flows_environment(settings: Settings, *, lite: bool | None = None) -> dict[str, str]:
    """What a flows process adds to its environment: Prefect's home and server, Folio's interpreter.

    ``lite`` (default: lite mode without an explicit ``flows.api_url``) runs on Prefect's
    ephemeral server. Full mode shares the server's ``PREFECT_HOME`` (so a run started here and a scheduled
    one share the cached results); lite mode keeps its own under ``<home>/flows``.
    """
    if lite is None:
        lite = _ephemeral(settings)
    home = (
        settings.home.absolute() / "flows" / "prefect"
        if lite
        else (settings.services.data_dir / "prefect" / "home").absolute()
    )
    return settings.flows.process_environment(home, lite=lite, folio_python=sys.executable)


def _ephemeral(settings: Settings) -> bool:
    """Whether runs go to Prefect's ephemeral server: lite mode, unless ``flows.api_url`` names a server."""
    return settings.lite_mode and settings.flows.api_url is None


def _check_ready(settings: Settings, lite: bool) -> None:
    if not settings.flows.python.exists():
        raise FlowsEnvironmentMissingError(
            f"no flows environment at {settings.flows.python.parent.parent}: run `folio services up prefect` "
            f"(or `uv sync --locked --project {settings.flows.project_dir}`)"
        )
    if lite:
        return
    url = f"{settings.flows.url}/health"
    try:
        httpx.get(url, timeout=3.0).raise_for_status()
    except httpx.HTTPError as exc:
        raise PrefectUnavailableError(
            f"the Prefect server at {settings.flows.url} does not answer ({type(exc).__name__}): "
            "start it with `folio services up prefect`, or use lite mode (`folio up --lite`)",
            service="prefect",
        ) from None


def run_flows_command(
    settings: Settings, args: Sequence[str], *, env: Mapping[str, str] | None = None
) -> tuple[int, list[Any]]:
    """``python -m folio_flows <args>`` in the flows environment: its exit status and its JSON lines.

    Prefect's logs go to this process's stderr as they come. Raises
    ``FlowsEnvironmentMissingError`` before anything runs when the environment is
    missing, ``PrefectUnavailableError`` in full mode when the server does not answer.
    """
    lite = _ephemeral(settings)
    _check_ready(settings, lite)
    child_env = {**os.environ, **(env or {}), **flows_environment(settings, lite=lite)}
    # Prefect makes its home's last folder only.
    Path(child_env["PREFECT_HOME"]).mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [str(settings.flows.python), "-m", "folio_flows", *args],
        stdout=subprocess.PIPE,
        stderr=None,
        env=child_env,
        check=False,
        text=True,
    )
    return done.returncode, [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
