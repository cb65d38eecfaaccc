"""Code run in the flows environment (``flows/.venv``): it cannot import Folio's, nor Folio its."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Mapping
from typing import Any

import pytest

from folio.core.settings import Settings

__all__ = ["run_in_flows_env"]


def run_in_flows_env(settings: Settings, code: str, env: Mapping[str, str], *, timeout: float) -> Any:
    """Run ``code`` with the flows environment's Python; returns the JSON its last output line holds.

    Fails (never skips) when the environment is absent: `folio services up prefect` makes it.
    """
    if not settings.flows.python.exists():
        pytest.fail(f"no flows environment at {settings.flows.python}: `folio services up prefect` makes it")
    done = subprocess.run(
        [str(settings.flows.python), "-c", code],
        capture_output=True,
        text=True,
        check=False,
        env={"PATH": "/usr/bin:/bin", **env},
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])
