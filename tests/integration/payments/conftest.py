"""A real gateway for the official ``stripe`` library: uvicorn on a loopback port, over PostgreSQL and Redis.

The gateway runs on an event loop of its own in a thread (as ``folio up`` runs it,
minus the process), started once for the package: its lifespan wires the platform
(PostgreSQL as the application role, so row-level security applies). The tests drive
it with the ``stripe`` library only, as a stranger would; the same loop also runs the
few service calls a test needs from outside the API (issuing a secret key, handing an
event to ``deliver_webhook``), so they share the gateway's database pools.

Each test gets a fresh shop (a random tenant id) and its own secret key, so tests never
see each other's customers, intents or events.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
import stripe
import uvicorn
from fastapi import FastAPI

from folio.core.db import Database
from folio.core.settings import Settings
from folio.entrypoints.gateway.app import create_app
from folio.payments import api as payments
from tests.conftest import free_port

T = TypeVar("T")

STARTUP_LIMIT_S = 30.0
SIMULATED_TIMEOUT_S = 2.0
"""The held-back answer of ``Folio-Simulate: timeout`` (the client gives up after ``CLIENT_TIMEOUT_S``)."""
CLIENT_TIMEOUT_S = 0.5


@dataclass
class Gateway:
    """The running gateway: its base URL, app and loop (to run service calls on its platform)."""

    url: str
    app: FastAPI
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        """Run ``coroutine`` on the gateway's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=30)

    @property
    def database(self) -> Database:
        """The gateway's own database (the application role)."""
        database: Database = self.app.state.platform.database
        return database

    @property
    def settings(self) -> Settings:
        """The settings the gateway runs with."""
        settings: Settings = self.app.state.settings
        return settings

    @property
    def api_base(self) -> str:
        """What ``stripe.api_base`` (or ``base_addresses["api"]``) is set to."""
        return f"{self.url}/stripe"


@pytest.fixture(scope="package")
def gateway(migrated_postgres: Settings, require_service: Any) -> Iterator[Gateway]:
    """The gateway under uvicorn on its own loop in a thread; stopped (lifespan and all) afterwards."""
    require_service("redis")
    settings = migrated_postgres.model_copy(
        update={
            "profile": "test",
            "payments": migrated_postgres.payments.model_copy(
                update={"simulated_timeout_s": SIMULATED_TIMEOUT_S}
            ),
        }
    )
    app = create_app(settings)
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on")
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="payments-gateway", daemon=True)
    thread.start()
    serving: Future[None] = asyncio.run_coroutine_threadsafe(server.serve(), loop)
    deadline = time.monotonic() + STARTUP_LIMIT_S
    while not server.started:
        if serving.done():
            serving.result()  # raises what stopped it
        assert time.monotonic() < deadline, "the gateway did not start in time"
        time.sleep(0.02)
    try:
        yield Gateway(url=f"http://127.0.0.1:{port}", app=app, loop=loop)
    finally:
        server.should_exit = True
        serving.result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        loop.close()


@dataclass
class Shop:
    """A fresh shop with a secret key, and a ``StripeClient`` pointed at Folio with it."""

    tenant_id: uuid.UUID
    key: str
    api_base: str
    http: stripe.HTTPClient

    def client_with(self, *, retries: int = 0, http: stripe.HTTPClient | None = None) -> stripe.StripeClient:
        """A client for this shop that retries (409s, 5xx, timeouts) ``retries`` times, over ``http``."""
        return stripe.StripeClient(
            self.key,
            base_addresses={"api": self.api_base},
            max_network_retries=retries,
            http_client=http or self.http,
        )

    @property
    def client(self) -> stripe.StripeClient:
        """The shop's client: no retries, so the test sees every answer."""
        return self.client_with()


def new_shop(gateway: Gateway, http: stripe.HTTPClient) -> Shop:
    """A shop of its own (a fresh tenant id) with a secret key issued through the payments api."""
    tenant_id = uuid.uuid4()
    issued = gateway.run(
        payments.issue_secret_key(
            gateway.database, tenant_id=tenant_id, name="tests", actor_kind="system", actor_id=None
        )
    )
    return Shop(tenant_id=tenant_id, key=issued.key, api_base=gateway.api_base, http=http)


@pytest.fixture
def http_client() -> Iterator[stripe.RequestsClient]:
    """The library's default transport, ``requests`` (closed afterwards, so no socket outlives the test).

    Its session is per thread: a test calling from other threads uses ``UrllibClient``,
    which keeps no connection open. (The library's httpx transport passes ``data=`` for
    a raw body, which httpx deprecates, and the suite turns warnings into errors.)
    """
    client = stripe.RequestsClient(timeout=10)
    yield client
    client.close()  # type: ignore[no-untyped-call]  # the library leaves close() unannotated


@pytest.fixture
def shop(gateway: Gateway, http_client: stripe.HTTPClient) -> Shop:
    """A fresh shop and its ``StripeClient`` (no retries: each test sees every answer)."""
    return new_shop(gateway, http_client)


@dataclass
class Received:
    """One webhook POST the receiver got."""

    body: str
    signature: str | None


@dataclass
class WebhookReceiver:
    """A loopback HTTP server that records the webhooks POSTed to it and answers ``status``."""

    url: str
    received: list[Received] = field(default_factory=list)
    status: int = 200

    def events(self) -> list[dict[str, Any]]:
        """The bodies received, parsed."""
        return [json.loads(item.body) for item in self.received]


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    """A webhook endpoint on a free loopback port (threaded ``http.server``); shut down afterwards."""
    port = free_port()
    state = WebhookReceiver(url=f"http://127.0.0.1:{port}/webhooks")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length).decode()
            state.received.append(Received(body=body, signature=self.headers.get("Stripe-Signature")))
            self.send_response(state.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            """Quiet: the test reads what was received, not the access log."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
