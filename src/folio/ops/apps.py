"""Folio's own processes, one declaration each: what ``folio up`` supervises.

Later issues add their processes (web app, gRPC servers, workers) here. Each is
started with ``sys.executable -m <module>`` so it runs in the same environment.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from folio.core.settings import Settings
from folio.ops.health import http_probe
from folio.ops.process import ProcessSpec, RestartPolicy


def folio_processes(settings: Settings, env: Mapping[str, str]) -> list[ProcessSpec]:
    """The Folio processes to supervise, with ``env`` added to their environment."""
    home = settings.home.absolute()
    gateway = settings.gateway
    return [
        ProcessSpec(
            name="gateway",
            argv=[sys.executable, "-m", "folio.entrypoints.gateway"],
            log_file=home / "logs" / "gateway.out",
            pid_file=home / "run" / "gateway.pid",
            probe=http_probe(f"{gateway.url}/healthz"),
            env={**env, "FOLIO_SERVICE_NAME": "gateway"},
            restart=RestartPolicy.ON_FAILURE,
            max_restarts=5,
            ready_timeout_s=60.0,
            stop_timeout_s=15.0,
        )
    ]
