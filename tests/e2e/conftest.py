"""Running ``folio`` as a user would: a real process, in a folder of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

import pytest

FolioRunner = Callable[..., subprocess.CompletedProcess[str]]


def _passed_on(name: str) -> bool:
    return not name.startswith("FOLIO_") or (name.startswith("FOLIO_SERVICES_") and name.endswith("_PORT"))


def folio_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """The environment without FOLIO_* variables but the servers' ports, plus ``extra``.

    The ports (``FOLIO_SERVICES_*_PORT``) say where the suite's servers listen, so a
    checkout that moved them (``scripts/newcomer-check.sh --port-base``) reaches its own
    servers, not another checkout's on the default ports; every other setting is the
    child's own default. A variable ``extra`` maps to None is left out, so a test can
    have a port at its default (or decided by a ``folio up`` record) on any checkout.
    """
    env = {key: value for key, value in os.environ.items() if _passed_on(key.upper())}
    env.update({"NO_COLOR": "1", "COLUMNS": "200"})
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


@pytest.fixture
def folio(tmp_path: Path) -> FolioRunner:
    """Run ``python -m folio ARGS`` in tmp_path with ``folio_env(env)``; returns the completed process."""

    def run(
        *args: str, env: Mapping[str, str | None] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "folio", *args],
            cwd=tmp_path,
            env=folio_env(env),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    return run
