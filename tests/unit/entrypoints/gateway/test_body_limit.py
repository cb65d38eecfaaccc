"""Request body limits over real HTTP: uvicorn answers 413 before the client has sent the body.

The gateway runs in a thread under uvicorn (as ``folio up`` runs it), and the client is
a raw socket, so the test controls exactly how much of a body it has sent when the
server answers: a 413 that arrives while most of the body is still unsent proves the
body was not read.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn

from folio.bootstrap import build_platform
from folio.core.db import Database
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings, load_settings
from folio.entrypoints.gateway import create_app
from folio.httpkit.body_limits import api_body_limits
from folio.ops.services.nginx import NginxService
from tests.conftest import free_port

pytestmark = pytest.mark.unit

AUTH_LIMIT = 16_384
DEFAULT_LIMIT = 1_048_576
SIXTY_MB = 60 * 1024 * 1024
STARTUP_LIMIT_S = 20.0


@dataclass
class Reply:
    """One HTTP response read off a raw socket."""

    status: int
    headers: dict[str, str]
    body: bytes

    def problem(self) -> dict[str, object]:
        """The body as a problem+json object."""
        assert self.headers["content-type"] == "application/problem+json"
        parsed: dict[str, object] = json.loads(self.body)
        return parsed


def read_reply(sock: socket.socket) -> Reply:
    """Read one response (status line, headers, a Content-Length body) from ``sock``."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status_line, *lines = head.decode("latin-1").split("\r\n")
    headers = {name.lower(): value.strip() for name, value in (line.split(":", 1) for line in lines)}
    while len(body) < int(headers.get("content-length", "0")):
        chunk = sock.recv(65536)
        assert chunk
        body += chunk
    return Reply(int(status_line.split()[1]), headers, body)


def request_head(path: str, **headers: str) -> bytes:
    """A POST request line and headers (names given with underscores for dashes)."""
    lines = [f"POST {path} HTTP/1.1", "Host: gateway.test", "Content-Type: application/json"]
    lines += [f"{name.replace('_', '-')}: {value}" for name, value in headers.items()]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


@pytest.fixture
def gateway_settings(clean_env: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings with SQLite in the test's own folder, counters in memory, and no .env file."""
    monkeypatch.setenv("FOLIO_CACHE_BACKEND", "memory")
    return load_settings(env_file=clean_env / "absent.env")


@pytest.fixture
async def database(gateway_settings: Settings, clean_env: Path) -> AsyncIterator[Database]:
    """An unmigrated SQLite database: a refused body never gets as far as a query."""
    db = Database.from_urls(gateway_settings.database, f"sqlite+aiosqlite:///{clean_env / 'gateway.db'}")
    yield db
    await db.dispose()


@pytest.fixture
def server(gateway_settings: Settings, database: Database) -> Iterator[tuple[str, int]]:
    """The gateway under uvicorn in a thread on a free loopback port; stopped afterwards."""
    platform = build_platform(gateway_settings, database=database, rate_limiter=RateLimiter("memory://"))
    app = create_app(gateway_settings, platform=platform)
    address = ("127.0.0.1", free_port())
    config = uvicorn.Config(app, host=address[0], port=address[1], log_config=None, access_log=False)
    uvicorn_server = uvicorn.Server(config)
    thread = threading.Thread(target=uvicorn_server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while not uvicorn_server.started:
        assert thread.is_alive(), "uvicorn exited before it started"
        assert time.monotonic() < deadline, "uvicorn did not start in time"
        time.sleep(0.02)
    try:
        yield address
    finally:
        uvicorn_server.should_exit = True
        thread.join(timeout=STARTUP_LIMIT_S)


def test_the_limits_are_the_settings(gateway_settings: Settings) -> None:
    """The API defaults to 1 MiB, auth endpoints to 16 KiB; the largest is what nginx allows."""
    limits = api_body_limits(gateway_settings.api)

    assert limits.for_path("/api/v1/tasks") == DEFAULT_LIMIT
    assert limits.for_path("/api/v1/auth/token") == AUTH_LIMIT
    assert limits.for_path("/app/login") is None
    assert limits.largest == DEFAULT_LIMIT


def test_nginx_lets_through_the_largest_limit_and_no_more(gateway_settings: Settings) -> None:
    """The rendered nginx.conf sets client_max_body_size to the largest API limit."""
    bigger = gateway_settings.model_copy(
        update={"api": gateway_settings.api.model_copy(update={"max_body_bytes": 3 * DEFAULT_LIMIT})}
    )

    assert f"client_max_body_size {DEFAULT_LIMIT};" in NginxService(gateway_settings).render()
    assert f"client_max_body_size {3 * DEFAULT_LIMIT};" in NginxService(bigger).render()


def test_declared_length_over_the_limit_is_refused_before_any_body_byte(server: tuple[str, int]) -> None:
    """60 MB declared to /auth/token, not one byte sent: 413 payload-too-large and the connection closes."""
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(request_head("/api/v1/auth/token", Content_Length=str(SIXTY_MB)))
        reply = read_reply(sock)

        assert reply.status == 413
        problem = reply.problem()
        assert problem["code"] == "payload-too-large"
        assert problem["limit_bytes"] == AUTH_LIMIT
        assert problem["correlation_id"] == reply.headers["x-request-id"]
        assert sock.recv(1) == b""


def test_default_limit_applies_before_authentication(server: tuple[str, int]) -> None:
    """2 MiB declared to an authenticated route: 413 at the 1 MiB default, not 401."""
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(request_head("/api/v1/tasks", Content_Length=str(2 * DEFAULT_LIMIT)))
        reply = read_reply(sock)

    assert reply.status == 413
    assert reply.problem()["limit_bytes"] == DEFAULT_LIMIT


def test_chunked_body_is_cut_off_at_the_limit_while_the_client_still_sends(server: tuple[str, int]) -> None:
    """A chunked body passing 16 KiB gets 413 though its last chunk was never sent."""
    chunk = b"x" * 4096
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(request_head("/api/v1/auth/token", Transfer_Encoding="chunked"))
        for _ in range(AUTH_LIMIT // len(chunk) + 1):
            sock.sendall(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
        reply = read_reply(sock)

    assert reply.status == 413
    assert reply.problem()["code"] == "payload-too-large"


def test_bodies_within_the_limit_reach_the_route(server: tuple[str, int]) -> None:
    """A small body, sized or chunked, is read and validated by the route (422), not refused."""
    body = b'{"shop_slug": 1}'
    with socket.create_connection(server, timeout=10) as sock:
        sock.sendall(request_head("/api/v1/auth/token", Content_Length=str(len(body))) + body)
        sized = read_reply(sock)
    with socket.create_connection(server, timeout=10) as sock:
        framed = f"{len(body):x}\r\n".encode() + body + b"\r\n0\r\n\r\n"
        sock.sendall(request_head("/api/v1/auth/token", Transfer_Encoding="chunked") + framed)
        chunked = read_reply(sock)

    assert (sized.status, chunked.status) == (422, 422)
    assert sized.problem()["code"] == chunked.problem()["code"] == "validation-failed"
