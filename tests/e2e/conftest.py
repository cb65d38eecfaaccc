"""Running ``folio`` as a user would: a real process in a folder of its own; Chromium to drive its pages.

The browser is the system's ``/usr/bin/chromium`` (Debian package ``chromium``),
launched by Playwright; Playwright never downloads one. A missing Chromium is
installed from Debian's packages (as ``folio services up`` installs a missing server);
if that fails, the test fails naming the package.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import Browser, Playwright, sync_playwright

from folio.core.settings import Settings
from folio.ops.install import install
from folio.ops.process import ProcessError
from folio.ops.service import AptPackage
from tests.conftest import REPO_ROOT

if TYPE_CHECKING:
    from tests.support.folio_up import FolioUp

FolioRunner = Callable[..., subprocess.CompletedProcess[str]]

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = REPO_ROOT / ".folio" / "artifacts"


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


# Module scope, not session: the sync API keeps an event loop running in this thread
# while it is open, and every async test after it would find that loop in the way.
@pytest.fixture(scope="module")
def playwright() -> Iterator[Playwright]:
    """Playwright's sync API (its driver only: the browser is the system's Chromium)."""
    with sync_playwright() as running:
        yield running


@pytest.fixture(scope="module")
def chromium(playwright: Playwright, settings: Settings) -> Iterator[Browser]:
    """Debian's Chromium, headless; installed from Debian's packages when missing (never downloaded)."""
    package = AptPackage("chromium", CHROMIUM)
    if not package.is_present():
        log_file = settings.home.absolute() / "logs" / "install-chromium.log"
        try:
            install([package], log_file)
        except ProcessError as error:
            pytest.fail(f"{CHROMIUM} is missing and could not be installed: {error}", pytrace=False)
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    browser.close()


@pytest.fixture
def artifacts() -> Path:
    """Where browser tests leave screenshots (``.folio/artifacts``)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def folio_platform(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[FolioUp]:
    """One whole `folio up` (not lite) on the suite's servers, shared by the journeys that need every process.

    Its trace receiver keeps every trace (``traces.keep_ratio`` 1) and decides a trace one
    second after its last span, so a test finds a journey's whole trace in the store.

    It adopts the servers `make test` started, so its teardown checks the J6 promise
    that `folio up` stops only what it started: it exits 0 and every server still runs.
    A broken promise is an error at the teardown of the last test that used it.
    """
    from folio.ops.manager import ServiceManager, State
    from tests.support.folio_up import running_folio_up  # imports this module: not at its top
    from tests.support.gateway_server import FAST_ARGON2_ENV

    manager = ServiceManager(settings)
    before = {row.name: row.state for row in manager.status()}
    assert all(state is State.RUNNING for state in before.values()), before

    env = {
        "FOLIO_SERVICES_DATA_DIR": str(settings.services.data_dir.absolute()),
        "FOLIO_TRACES_KEEP_RATIO": "1.0",
        "FOLIO_TRACES_QUIET_S": "1.0",
        "FOLIO_STREAMING_LAKE_FLUSH_INTERVAL_S": "1",
        **FAST_ARGON2_ENV,
    }
    with running_folio_up(tmp_path_factory.mktemp("platform"), env=env) as running:
        yield running
    assert running.proc.returncode == 0, running.output
    assert {row.name: row.state for row in manager.status()} == before, "folio up stopped servers it adopted"
