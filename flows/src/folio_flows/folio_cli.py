"""Folio's command line as a subprocess: the one way the flows reach Folio.

``FOLIO_PYTHON`` names the interpreter of the Folio installation to drive (``folio up``
and ``folio flows`` set it to their own); the rest of the environment (``FOLIO_*``)
passes through, so the subprocess sees the same settings as whoever started the flow.
While tracing, the subprocess also gets ``TRACEPARENT`` naming the task run's span
(``folio_flows.telemetry``), so a Folio process that traces continues the flow's trace.
"""

from __future__ import annotations

import json
import os
import subprocess
from typing import Any

from folio_flows.telemetry import trace_environment

FOLIO_PYTHON = "FOLIO_PYTHON"
_TIMEOUT_S = 1800


class FolioCommandError(RuntimeError):
    """A Folio command exited with an error; the message carries its last lines of stderr."""

    def __init__(self, args: list[str], code: int, stderr: str) -> None:
        tail = "\n".join(stderr.strip().splitlines()[-5:])
        super().__init__(f"`folio {' '.join(args)}` exited with {code}: {tail}")
        self.code = code
        self.stderr = stderr


def folio(*args: str) -> str:
    """Run ``folio <args>`` and return its stdout; ``FolioCommandError`` when it fails."""
    python = os.environ.get(FOLIO_PYTHON)
    if not python:
        raise RuntimeError(
            f"{FOLIO_PYTHON} is not set: it names the Python of the Folio installation to drive"
        )
    argv = list(args)
    done = subprocess.run(
        [python, "-m", "folio", *argv],
        capture_output=True,
        text=True,
        timeout=_TIMEOUT_S,
        check=False,
        env={**os.environ, **trace_environment()},
    )
    if done.returncode != 0:
        raise FolioCommandError(argv, done.returncode, done.stderr)
    return done.stdout


def folio_json(*args: str) -> Any:
    """``folio <args>`` whose stdout is one JSON document."""
    return json.loads(folio(*args))


def folio_json_lines(*args: str) -> list[Any]:
    """``folio <args>`` whose stdout is JSON Lines (``folio lake query -o json``, ``--json`` listings)."""
    return [json.loads(line) for line in folio(*args).splitlines() if line.strip()]
