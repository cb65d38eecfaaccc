"""Running ``folio`` as a user would: a real process, in a folder of the test's own."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

FolioRunner = Callable[..., subprocess.CompletedProcess[str]]


def folio_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment without FOLIO_* variables, plus ``extra``."""
    env = {key: value for key, value in os.environ.items() if not key.upper().startswith("FOLIO_")}
    env.update({"NO_COLOR": "1", "COLUMNS": "200", **(extra or {})})
    return env


@pytest.fixture
def folio(tmp_path: Path) -> FolioRunner:
    """Run ``python -m folio ARGS`` in tmp_path; returns the completed process."""

    def run(
        *args: str, env: dict[str, str] | None = None, timeout: float = 120
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
