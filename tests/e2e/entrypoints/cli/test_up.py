"""`folio up` brings the platform up, serves, and stops only what it started (J1, J6)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from folio.core.settings import Settings
from tests.conftest import free_port
from tests.e2e.conftest import FolioRunner
from tests.support.folio_up import FolioUp, running_folio_up

pytestmark = pytest.mark.e2e

RECORD = Path(".folio/run/platform.env")
"""Where `folio up` records its choices for the commands after it."""


def _gateway_pid(home: Path) -> int:
    return int(json.loads((home / "run" / "gateway.pid").read_text())["pid"])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_lite_mode_serves_stops_cleanly_and_leaves_its_record(tmp_path: Path, folio: FolioRunner) -> None:
    """`folio up --lite` serves health on SQLite, says servers are off, and SIGTERM stops the gateway.

    It leaves the record of its choices behind, and the next command in that folder reads
    its backend from it (and finds the SQLite file the lite platform migrated).
    """
    with running_folio_up(tmp_path, "--lite", env={}) as up:
        gateway_pid = _gateway_pid(tmp_path / ".folio")
        ready = httpx.get(f"{up.url}/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "orders": "ok"}  # orders: its gRPC health
        missing = httpx.get(f"{up.url}/api/v1/nothing-yet", headers={"X-Request-ID": "lite-check-1"})
        assert missing.status_code == 404
        assert missing.headers["x-request-id"] == "lite-check-1"
        # The gRPC services run in lite mode too: the gateway reaches orders one way only.
        assert {"users.pid", "orders.pid"} <= {path.name for path in (tmp_path / ".folio" / "run").iterdir()}
    output = up.output
    assert up.proc.returncode == 0, output
    assert "off in lite mode" in output
    assert "stopped everything folio up started" in output
    assert not _alive(gateway_pid), Path(f"/proc/{gateway_pid}/status").read_text()[:300] + output
    assert not (tmp_path / ".folio" / "run" / "gateway.pid").exists()
    assert (tmp_path / ".folio" / "folio.db").is_file()
    lines = [
        json.loads(line) for line in (tmp_path / ".folio" / "logs" / "gateway.jsonl").read_text().splitlines()
    ]
    request_lines = [line for line in lines if line.get("correlation_id") == "lite-check-1"]
    assert request_lines
    assert all(line["service"] == "gateway" for line in request_lines)
    # Each line is written once: the captured stdout holds no log line.
    assert "lite-check-1" not in (tmp_path / ".folio" / "logs" / "gateway.out").read_text()

    record = (tmp_path / RECORD).read_text(encoding="utf-8")
    assert "`folio up` (lite)" in record
    assert 'FOLIO_DATABASE_BACKEND="sqlite"' in record
    rows = json.loads(folio("config", "show", "--json").stdout)
    assert rows["database.backend"]["origin"] == f"folio up ({RECORD})"
    assert rows["cache.backend"] == {
        "value": "memory",
        "origin": f"folio up ({RECORD})",
        "env": "FOLIO_CACHE_BACKEND",
        "reloadable": False,
    }
    listed = folio("tenants", "list", "--json")
    assert listed.returncode == 0, listed.stderr


def test_supervisor_restarts_a_crashed_gateway(tmp_path: Path) -> None:
    """Killing the gateway makes `folio up` start a new one that serves again."""
    with running_folio_up(tmp_path, "--lite", env={}) as up:
        url = up.url
        first = _gateway_pid(tmp_path / ".folio")
        os.kill(first, signal.SIGKILL)
        deadline = time.monotonic() + 60
        second = first
        while time.monotonic() < deadline:
            try:
                second = _gateway_pid(tmp_path / ".folio")
                if second != first and httpx.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except (httpx.HTTPError, OSError, ValueError):
                pass
            time.sleep(0.3)
        assert second != first, up.output
        assert httpx.get(f"{url}/healthz").status_code == 200


def _wait_for_shipped_lines(settings: Settings, request_id: str) -> list[dict[str, str]]:
    """The gateway's log lines for ``request_id`` once they reach the search server."""
    search = settings.services.search
    params = {"q": "*", "query_by": "event", "filter_by": f"correlation_id:={request_id}"}
    headers = {"X-TYPESENSE-API-KEY": search.api_key.get_secret_value()}
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = httpx.get(
            f"{search.url}/collections/{settings.logging.ship_collection}/documents/search",
            params=params,
            headers=headers,
        )
        if found.status_code == 200 and found.json()["found"]:
            return [hit["document"] for hit in found.json()["hits"]]
        time.sleep(0.5)
    pytest.fail(f"no log line of {request_id} reached the search server")


def test_full_mode_uses_postgres_and_ships_logs(settings: Settings, folio_platform: FolioUp) -> None:
    """`folio up` on the running servers readies PostgreSQL + replica and ships the gateway's logs.

    The shared platform adopted the servers `make test` started; its teardown checks that
    it stopped none of them (``folio_platform``).
    """
    ready = httpx.get(f"{folio_platform.url}/readyz", timeout=10)
    assert ready.status_code == 200, ready.text
    assert ready.json()["checks"] == {
        "database": "ok",
        "database-replica": "ok",
        "cache": "ok",
        "orders": "ok",
    }
    request_id = f"full-{uuid.uuid4().hex[:12]}"
    missing = httpx.get(f"{folio_platform.url}/api/v1/nothing-yet", headers={"X-Request-ID": request_id})
    assert missing.status_code == 404
    shipped = _wait_for_shipped_lines(settings, request_id)
    assert {line["event"] for line in shipped} == {"http.request"}
    assert {line["service"] for line in shipped} == {"gateway"}


def _gateway_events(home: Path, event: str) -> list[dict[str, object]]:
    path = home / "logs" / "gateway.jsonl"
    if not path.exists():
        return []
    lines = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [line for line in lines if line.get("event") == event]


def _wait_for_event(home: Path, event: str, count: int) -> list[dict[str, object]]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        found = _gateway_events(home, event)
        if len(found) >= count:
            return found
        time.sleep(0.2)
    pytest.fail(f"the gateway never logged {event!r} {count} time(s)")


def test_running_gateway_reloads_its_config(tmp_path: Path) -> None:
    """Editing folio.toml applies reloadable settings live; other changes are reported, not applied."""
    config = tmp_path / "folio.toml"
    config.write_text('[logging]\nlevel = "INFO"\n')
    home = tmp_path / ".folio"
    with running_folio_up(tmp_path, "--lite", env={}) as up:
        config.write_text('[logging]\nlevel = "DEBUG"\n')
        reloaded = _wait_for_event(home, "settings.reloaded", 1)
        assert reloaded[0]["paths"] == ["logging.level"]
        config.write_text('[logging]\nlevel = "DEBUG"\n[gateway]\ndocs_enabled = false\n')
        restart = _wait_for_event(home, "settings.restart_required", 1)
        assert restart[0]["paths"] == ["gateway.docs_enabled"]
        assert httpx.get(f"{up.url}/openapi.json").status_code == 200


@pytest.fixture
def private_services(settings: Settings) -> Iterator[dict[str, str]]:
    """Variables giving a `folio` run its own data folder (beside the suite's) and free Redis/nginx ports."""
    root = settings.services.data_dir.absolute() / f"test-failed-start-{uuid.uuid4().hex[:8]}"
    yield {
        "FOLIO_SERVICES_DATA_DIR": str(root),
        "FOLIO_SERVICES_REDIS_PORT": str(free_port()),
        "FOLIO_SERVICES_NGINX_PORT": str(free_port()),
    }
    shutil.rmtree(root, ignore_errors=True)


def _pid_files(data_dir: str) -> list[Path]:
    return sorted(Path(data_dir).glob("*/run/*.pid"))


def test_a_failed_services_up_stops_what_it_started(
    private_services: dict[str, str], folio: FolioRunner
) -> None:
    """A stranger on nginx's port makes `folio services up` stop the Redis it started; one error line."""
    env = private_services
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", int(env["FOLIO_SERVICES_NGINX_PORT"])))
        stranger.listen()
        failed = folio("services", "up", "redis", "nginx", env=env)
        assert stranger.fileno() != -1  # the stranger was not touched

    assert failed.returncode == 1, failed.stdout + failed.stderr
    (error,) = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert (
        f"services.nginx.port = {env['FOLIO_SERVICES_NGINX_PORT']} is already in use by pid {os.getpid()}"
        in error
    )
    # free_port() hands out ports from the kernel's ephemeral range: each is warned about by name.
    redis_port = env["FOLIO_SERVICES_REDIS_PORT"]
    assert f"warning: services.redis.port = {redis_port} lies in the ephemeral" in " ".join(
        failed.stderr.split()
    )
    assert _pid_files(env["FOLIO_SERVICES_DATA_DIR"]) == []
    redis_log = Path(env["FOLIO_SERVICES_DATA_DIR"]) / "redis" / "logs" / "instance-0.log"
    assert "Ready to accept connections" in redis_log.read_text()  # it did start, and was stopped again


def test_a_failed_services_up_leaves_adopted_servers_running(
    private_services: dict[str, str], folio: FolioRunner
) -> None:
    """Redis from an earlier `folio services up` is reported as adopted and keeps running when nginx fails."""
    env = private_services
    try:
        assert folio("services", "up", "redis", env=env).returncode == 0
        (redis_pid_file,) = _pid_files(env["FOLIO_SERVICES_DATA_DIR"])
        redis_pid = int(json.loads(redis_pid_file.read_text())["pid"])
        with socket.socket() as stranger:
            stranger.bind(("127.0.0.1", int(env["FOLIO_SERVICES_NGINX_PORT"])))
            stranger.listen()
            failed = folio("services", "up", "redis", "nginx", env=env)

        assert failed.returncode == 1, failed.stdout + failed.stderr
        assert (
            f"redis.instance-0: already running, started by an earlier `folio services up`, pid {redis_pid}"
            in failed.stdout
        )
        assert _alive(redis_pid)
        assert _pid_files(env["FOLIO_SERVICES_DATA_DIR"]) == [redis_pid_file]
    finally:
        folio("services", "down", env=env)


def test_folio_up_refuses_a_stranger_on_the_gateway_port(folio: FolioRunner) -> None:
    """`folio up` exits 1 with one line naming gateway.port and its owner, and leaves no gateway behind."""
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        port = stranger.getsockname()[1]
        failed = folio("up", "--lite", env={"FOLIO_GATEWAY_PORT": str(port)})

    assert failed.returncode == 1, failed.stdout + failed.stderr
    (error,) = [line for line in failed.stderr.splitlines() if line.startswith("error:")]
    assert f"gateway.port = {port} is already in use by pid {os.getpid()}" in error
    assert "Traceback" not in failed.stderr
