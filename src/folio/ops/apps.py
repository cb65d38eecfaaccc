"""Folio's own processes, one declaration each: what ``folio up`` supervises.

Later issues add their processes (gRPC servers, workers) here. Each is started with
``sys.executable -m <module>`` so it runs in the same environment.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping

from folio.core.settings import Settings
from folio.ops.health import http_probe
from folio.ops.process import ProcessSpec, RestartPolicy

_LOG_TO_FILE_ONLY = {"FOLIO_LOGGING_STDOUT": "false"}
"""A child's log lines go to its own ``.jsonl`` file only; its ``.out`` (the captured
stdout and stderr) keeps what is not a log line: a crash's traceback, a C library's
message. Without it every line was written to both files."""


def _started() -> str | None:
    """A worker serves nothing to probe: it is ready once it runs (the supervisor watches it)."""
    return None


def folio_processes(settings: Settings, env: Mapping[str, str], *, lite: bool = False) -> list[ProcessSpec]:
    """The Folio processes to supervise, with ``env`` added to their environment.

    Lite mode has no search engine, so no search worker.
    """
    home = settings.home.absolute()
    gateway = settings.gateway
    workers = (
        []
        if lite
        else [
            ProcessSpec(
                name="search-sync",
                argv=[sys.executable, "-m", "folio", "search", "sync"],
                log_file=home / "logs" / "search-sync.out",
                pid_file=home / "run" / "search-sync.pid",
                probe=_started,
                env={**env, **_LOG_TO_FILE_ONLY, "FOLIO_SERVICE_NAME": "search-sync"},
                restart=RestartPolicy.ON_FAILURE,
                max_restarts=5,
                stop_timeout_s=15.0,
            )
        ]
    )
    return [
        ProcessSpec(
            name="gateway",
            argv=[sys.executable, "-m", "folio.entrypoints.gateway"],
            log_file=home / "logs" / "gateway.out",
            pid_file=home / "run" / "gateway.pid",
            probe=http_probe(f"{gateway.url}/healthz"),
            ports={"gateway.port": gateway.port},
            env={**env, **_LOG_TO_FILE_ONLY, "FOLIO_SERVICE_NAME": "gateway"},
            restart=RestartPolicy.ON_FAILURE,
            max_restarts=5,
            ready_timeout_s=60.0,
            stop_timeout_s=15.0,
        ),
        *workers,
    ]
