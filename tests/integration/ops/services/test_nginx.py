"""nginx as the front door: request IDs, conf.d locations and validated reloads."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from folio.core.settings import Settings
from folio.ops.process import ProcessError
from folio.ops.services.nginx import NginxService

pytestmark = pytest.mark.integration

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass
class Upstream:
    """A tiny HTTP server in a thread that records the headers of each request it gets."""

    port: int
    seen: list[dict[str, str]] = field(default_factory=list)


@pytest.fixture
def upstream() -> Iterator[Upstream]:
    """An HTTP server on an ephemeral loopback port answering ``upstream:<path>``."""
    seen: list[dict[str, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({key.lower(): value for key, value in self.headers.items()})
            body = f"upstream:{self.path}".encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002, ARG002 (the stdlib signature)
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Upstream(port=server.server_address[1], seen=seen)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def nginx(settings: Settings, require_service: Callable[[str], None]) -> NginxService:
    """The running nginx service."""
    require_service("nginx")
    return NginxService(settings)


@pytest.fixture
def test_location(nginx: NginxService, upstream: Upstream) -> Iterator[str]:
    """A conf.d location ``/__test/<unique>/`` proxying to ``upstream``; removed (and reloaded) after."""
    prefix = f"/__test/{uuid.uuid4().hex[:12]}/"
    conf = nginx.conf_d / f"test-{prefix.strip('/').replace('/', '-')}.conf"
    conf.write_text(f"location {prefix} {{\n    proxy_pass http://127.0.0.1:{upstream.port};\n}}\n")
    try:
        nginx.reload()
        yield prefix
    finally:
        conf.unlink(missing_ok=True)
        nginx.reload()


def test_client_request_id_reaches_upstream_and_comes_back(
    settings: Settings, upstream: Upstream, test_location: str
) -> None:
    """A request through nginx reaches the conf.d upstream carrying the client's X-Request-ID."""
    response = httpx.get(
        f"{settings.services.nginx.url}{test_location}books", headers={"X-Request-ID": "req-from-client-1"}
    )
    assert response.status_code == 200
    assert response.text == f"upstream:{test_location}books"
    assert response.headers["x-request-id"] == "req-from-client-1"
    assert [seen["x-request-id"] for seen in upstream.seen] == ["req-from-client-1"]
    assert upstream.seen[0]["x-forwarded-for"] == "127.0.0.1"
    assert upstream.seen[0]["host"] == f"{settings.services.nginx.host}:{settings.services.nginx.port}"


def test_nginx_generates_a_request_id_when_the_client_sends_none(
    settings: Settings, upstream: Upstream, test_location: str
) -> None:
    """Without an X-Request-ID, nginx invents one, sends it upstream and returns it to the client."""
    response = httpx.get(f"{settings.services.nginx.url}{test_location}")
    assert response.status_code == 200
    generated = upstream.seen[0]["x-request-id"]
    assert GENERATED_ID.match(generated)
    assert response.headers["x-request-id"] == generated


def test_invalid_configuration_is_refused_and_nginx_keeps_serving(
    settings: Settings, nginx: NginxService
) -> None:
    """reload() raises with nginx's complaint on a broken conf.d file, and the old config stays live."""
    broken = nginx.conf_d / f"test-broken-{uuid.uuid4().hex[:8]}.conf"
    broken.write_text("location /__broken/ { proxy_pass; }\n")
    try:
        with pytest.raises(ProcessError, match="proxy_pass"):
            nginx.reload()
    finally:
        broken.unlink()
    assert httpx.get(f"{settings.services.nginx.url}/nginx-health").text == "ok\n"


def test_removed_location_stops_routing_after_reload(
    settings: Settings, nginx: NginxService, upstream: Upstream
) -> None:
    """Once its conf.d file is removed and nginx reloaded, a location no longer reaches its upstream."""
    conf = nginx.conf_d / f"test-removed-{uuid.uuid4().hex[:8]}.conf"
    conf.write_text(f"location /__test/removed/ {{\n    proxy_pass http://127.0.0.1:{upstream.port};\n}}\n")
    try:
        nginx.reload()
        assert httpx.get(f"{settings.services.nginx.url}/__test/removed/").status_code == 200
    finally:
        conf.unlink()
        nginx.reload()
    httpx.get(f"{settings.services.nginx.url}/__test/removed/")
    assert len(upstream.seen) == 1
