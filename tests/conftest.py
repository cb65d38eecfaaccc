"""Fixtures shared by every test layer.

Integration tests use the servers ``make test`` started (``folio services up``) and
fail loudly, naming the command to run, when one is absent: a missing service is a
broken environment, never a reason to skip.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from folio.core.settings import Settings, load_settings
from folio.ops.manager import ServiceManager, State

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def settings() -> Settings:
    """The settings the suite runs under: the files and environment of this checkout."""
    os.chdir(REPO_ROOT)
    return load_settings()


@pytest.fixture(scope="session")
def require_service(settings: Settings) -> Callable[[str], None]:
    """Call with a service name; fails the test unless that server is running and healthy."""
    manager = ServiceManager(settings)
    checked: dict[str, str | None] = {}

    def require(name: str) -> None:
        if name not in checked:
            status = manager.status([name])[-1]
            usable = status.state in {State.RUNNING, State.EXTERNAL}
            checked[name] = None if usable else f"{status.state}: {status.detail}"
        if checked[name] is not None:
            pytest.fail(
                f"service {name!r} is not running ({checked[name]}); start it with `folio services up` "
                f"(make test does this)",
                pytrace=False,
            )

    return require


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Run in an empty folder with no ``FOLIO_*`` variables, so tests see only what they set."""
    for key in list(os.environ):
        if key.upper().startswith("FOLIO_"):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
