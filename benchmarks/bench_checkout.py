"""Checkout end to end (cart to paid order, webhooks included) vs a bare checkout: orders/s and p99.

Folio's side is a whole ``folio up`` (gateway, users and orders gRPC servers, workers,
search sync; on the services' PostgreSQL, Redis and RabbitMQ), started in a folder of
its own on free ports. ``CUSTOMERS`` customers of one shop each buy one copy at a time,
the J7 path of ``tests/e2e/orders/test_j7_over_http.py``:

1. **cart**: ``PUT /api/v1/cart/items/{listing}``;
2. **checkout**: ``POST /api/v1/orders`` with an ``Idempotency-Key`` (gateway, orders
   gRPC, users gRPC; the stock held, the Checkout Session opened with the stripe library);
3. **payment**: the hosted page's card form (``GET`` then ``POST`` with card 4242);
4. **paid**: outbox, relay, RabbitMQ, webhook worker, signed POST, ``ConfirmPayment``;
   the benchmark notices the paid row (one query for every waiting order, every
   ``WATCH_POLL_S``), then the customer reads the order over the API, which must say
   ``paid``. Steps 3 to 4 are "webhook to paid".

No peer is named for checkout (L4-09), so the peer is the floor any shop pays: bare
FastAPI (``benchmarks.peers.bare_checkout``) taking a copy on condition and inserting the
order and its line in one transaction, then marking it paid in a second, on the same
tables as the same role. The ratio is what the saga (cart, gRPC hops, payment API,
hosted page, outbox, broker, signed webhook) costs over that minimum.

The same customers run the same closed loop on both sides, one after the other, for
``SECONDS`` after an unmeasured warm-up; latency is cart to paid as the customer sees
it. CPU per order is every Folio process's (``folio up`` and its children, from
``/proc``) against the peer's one process; PostgreSQL's own CPU is in neither. The shop
(``Benchmark shop (generated)``) lists real catalogue works, topped up with generated
ones (``bench-synthetic-work-N``) where the catalogue has fewer; its customers are
generated (``Bench customer N (generated)``).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import httpx
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from benchmarks.harness import (
    BenchResult,
    Measurement,
    free_port,
    process_cpu_seconds,
    serve_process,
    uvicorn_argv,
)
from benchmarks.peers import SET_TENANT
from benchmarks.seeding import register_bench_shop
from folio.core.db import open_database
from folio.core.migrations import upgrade
from folio.core.security import Principal, Role
from folio.core.settings import Settings, load_settings
from folio.ops.process import read_pid_file

NAME = "checkout"
SECONDS = int(os.environ.get("FOLIO_BENCH_SECONDS", "30"))
WARMUP_S = 5
CUSTOMERS = 12
"""Customers buying at once: enough to keep two cores busy without queueing for minutes."""
LISTINGS = 20
STOCK = 1_000_000
PRICE_MINOR = 1490
PAID_WITHIN_S = 60.0
"""How long one order may take to turn paid before it counts as an error."""
WATCH_POLL_S = 0.02
STARTUP_S = 120.0
"""How long the whole platform may take to take its first order."""
CARD = {"email": "", "number": "4242 4242 4242 4242", "expiry": "12 / 34", "cvc": "123"}
STEPS = ("cart", "checkout", "payment", "webhook_to_paid")

# Limits far above what the run reaches: the benchmark measures the cost of checking
# them, not the 429s (a customer's checkout makes about three API calls).
FOLIO_ENV = {
    "FOLIO_DATABASE_BACKEND": "postgres",
    "FOLIO_CACHE_BACKEND": "redis",
    "FOLIO_API_RATE_LIMIT_PER_KEY": "100000000/minute",
    "FOLIO_API_RATE_LIMIT_PER_TENANT": "100000000/minute",
    "FOLIO_TENANCY_QUOTAS_API_CALLS_PER_DAY": "1000000000",
    "FOLIO_IDENTITY_ACCESS_TTL_S": "3600",
}

_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')
PAID_AMONG = text("SELECT id FROM orders WHERE id = ANY(:ids) AND status = 'paid'")


@dataclass(frozen=True)
class Customer:
    """A generated customer of the benchmark's shop and their access token."""

    user_id: uuid.UUID
    access_token: str


@dataclass(frozen=True)
class Shop:
    """The benchmark's shop: what it sells and who buys."""

    tenant_id: uuid.UUID
    listings: list[uuid.UUID]
    customers: list[Customer]
    real_works: int


async def seed_shop(settings: Settings) -> Shop:
    """A new shop listing ``LISTINGS`` works with ``STOCK`` copies each, and ``CUSTOMERS`` customers."""
    from folio.catalog import api as catalog
    from folio.identity import api as identity

    async with open_database(settings.database, settings.database_url) as db:
        shop = await register_bench_shop(db, settings)
        owner = shop.owner
        works = (await catalog.list_works(db, settings=settings, principal=owner, per_page=LISTINGS)).items
        generated = [
            await catalog.create_work(
                db, principal=owner, data=catalog.WorkCreate(title=f"bench-synthetic-work-{n}")
            )
            for n in range(LISTINGS - len(works))
        ]
        listings = []
        for work in [*works, *generated]:
            offer = catalog.ListingCreate(
                work_id=work.id, price_cents=PRICE_MINOR, currency="EUR", stock=STOCK
            )
            listed = await catalog.create_listing(db, settings=settings, principal=owner, data=offer)
            listings.append(listed.id)
        batch = secrets.token_hex(4)
        customers = []
        for n in range(CUSTOMERS):
            member = await identity.add_member(
                db,
                settings=settings,
                principal=owner,
                data=identity.MemberAdd(
                    email=f"customer-{n}-{batch}@bench.folio.localhost",
                    display_name=f"Bench customer {n} (generated)",
                    role=Role.CUSTOMER,
                ),
            )
            principal = Principal(
                tenant_id=owner.tenant_id, role=Role.CUSTOMER, user_id=member.user_id, via="token"
            )
            pair = await identity.issue_token_pair(db, settings=settings, principal=principal)
            customers.append(Customer(member.user_id, pair.access_token))
    return Shop(owner.tenant_id, listings, customers, real_works=len(works))


# --- the load: the same closed loop for both sides -----------------------------------------------

Steps = dict[str, float]
"""Seconds each step of one order took (Folio's side), or just the whole order (the peer's)."""

CpuClock = Callable[[], dict[str, float]]
"""CPU seconds each server process has used so far, by process name."""


@dataclass
class Run:
    """What one side's customers did in one phase."""

    orders: list[Steps]
    errors: list[str]
    seconds: float
    cpu_seconds: dict[str, float]
    """CPU seconds each server process used during the phase, by process name."""


async def closed_loop(buy: Callable[[int, int], Awaitable[Steps]], seconds: float, cpu: CpuClock) -> Run:
    """Every customer buys (``buy(customer, n)``) one order after another until ``seconds`` pass.

    An order started before the end is finished and counted; a failed one is an error.
    """
    orders: list[Steps] = []
    errors: list[str] = []
    stop_at = time.perf_counter() + seconds

    async def customer(index: int) -> None:
        n = 0
        while time.perf_counter() < stop_at:
            n += 1
            try:
                orders.append(await buy(index, n))
            except Exception as exc:  # noqa: BLE001 - a failed order is counted and shown, not fatal
                errors.append(f"{type(exc).__name__}: {exc}"[:300])

    cpu_before, started = cpu(), time.perf_counter()
    await asyncio.gather(*(customer(index) for index in range(CUSTOMERS)))
    cpu_after = cpu()
    spent = {name: cpu_after[name] - cpu_before.get(name, 0.0) for name in cpu_after}
    return Run(orders, errors, time.perf_counter() - started, spent)


def _quantiles_ms(values: list[float]) -> dict[str, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return {"p50": cuts[49] * 1000, "p95": cuts[94] * 1000, "p99": cuts[98] * 1000}


def measurement(label: str, run: Run) -> Measurement:
    """Orders/s and cart-to-paid percentiles of ``run`` (at least two orders)."""
    if len(run.orders) < 2:  # noqa: PLR2004 - percentiles need two
        raise RuntimeError(f"{label}: {len(run.orders)} orders completed; errors: {run.errors[:3]}")
    total = _quantiles_ms([sum(steps.values()) for steps in run.orders])
    return Measurement(
        label=label,
        requests=len(run.orders),
        seconds=round(run.seconds, 2),
        rps=len(run.orders) / run.seconds,
        p50_ms=total["p50"],
        p95_ms=total["p95"],
        p99_ms=total["p99"],
        errors=len(run.errors),
        cpu_ms_per_request=sum(run.cpu_seconds.values()) * 1000 / len(run.orders),
    )


# --- Folio: a whole `folio up` -------------------------------------------------------------------


class PaidOrders:
    """Tells each waiting customer when its order is paid, from one query for all of them."""

    def __init__(self, engine: AsyncEngine, tenant_id: uuid.UUID) -> None:
        self._engine = engine
        self._tenant = str(tenant_id)
        self._waiting: dict[uuid.UUID, asyncio.Future[None]] = {}

    async def wait(self, order_id: uuid.UUID) -> None:
        """Return once the order's row says ``paid``; ``TimeoutError`` after ``PAID_WITHIN_S``."""
        paid = asyncio.get_running_loop().create_future()
        self._waiting[order_id] = paid
        try:
            await asyncio.wait_for(paid, PAID_WITHIN_S)
        finally:
            del self._waiting[order_id]

    async def watch(self) -> None:
        """Poll for the waiting orders every ``WATCH_POLL_S`` until cancelled."""
        while True:
            if self._waiting:
                async with self._engine.begin() as connection:
                    await connection.execute(SET_TENANT, {"tenant": self._tenant})
                    rows = await connection.execute(PAID_AMONG, {"ids": list(self._waiting)})
                    paid = [uuid.UUID(str(order_id)) for order_id in rows.scalars()]
                for order_id in paid:
                    future = self._waiting.get(order_id)
                    if future is not None and not future.done():
                        future.set_result(None)
            await asyncio.sleep(WATCH_POLL_S)


class Checkout:
    """The customers' HTTP clients against one running Folio: the J7 path, step by step."""

    def __init__(self, base: str, shop: Shop, paid: PaidOrders) -> None:
        self.shop = shop
        self.paid = paid
        self.api = [
            httpx.AsyncClient(
                base_url=base, headers={"Authorization": f"Bearer {customer.access_token}"}, timeout=30
            )
            for customer in shop.customers
        ]
        # A browser per customer: the hosted page's CSRF token lives in its session cookie.
        self.browsers = [httpx.AsyncClient(timeout=30) for _ in shop.customers]

    async def buy(self, customer: int, n: int) -> Steps:
        """One order by ``customer``, from an empty cart to paid; the seconds of each step."""
        api, browser = self.api[customer], self.browsers[customer]
        listing = self.shop.listings[(customer + n) % len(self.shop.listings)]
        marks = [time.perf_counter()]
        (await api.put(f"/api/v1/cart/items/{listing}", json={"quantity": 1})).raise_for_status()
        marks.append(time.perf_counter())
        placed = await api.post("/api/v1/orders", headers={"Idempotency-Key": str(uuid.uuid4())})
        placed.raise_for_status()
        order = placed.json()
        marks.append(time.perf_counter())
        if order["payment_url"] is None:
            raise RuntimeError(f"order {order['id']} has no payment page yet")
        page = (await browser.get(order["payment_url"])).raise_for_status()
        token = _CSRF.search(page.text)
        if token is None:
            raise RuntimeError(f"no CSRF token on {order['payment_url']}")
        paying = await browser.post(order["payment_url"], data={"csrf_token": token.group(1), **CARD})
        if paying.status_code != httpx.codes.SEE_OTHER:
            raise RuntimeError(f"the card form answered {paying.status_code}")
        marks.append(time.perf_counter())
        await self.paid.wait(uuid.UUID(order["id"]))
        seen = (await api.get(f"/api/v1/orders/{order['id']}")).raise_for_status().json()
        if seen["status"] != "paid":
            raise RuntimeError(f"the API says order {order['id']} is {seen['status']} after it was paid")
        marks.append(time.perf_counter())
        return {step: end - start for step, (start, end) in zip(STEPS, pairwise(marks), strict=True)}

    async def aclose(self) -> None:
        """Close every client."""
        for client in [*self.api, *self.browsers]:
            await client.aclose()


@contextmanager
def folio_up(settings: Settings) -> Iterator[tuple[str, CpuClock]]:
    """``folio up`` in a temporary folder on free ports: its gateway URL and its processes' CPU seconds.

    It adopts the running servers (``services.data_dir``) and signs with this process's
    secret key, so the tokens issued here are valid there.
    """
    port = free_port()
    env = {
        "FOLIO_GATEWAY_PORT": str(port),
        "FOLIO_SERVICES_DATA_DIR": str(settings.services.data_dir.absolute()),
        "FOLIO_SECURITY_SECRET_KEY": settings.security.secret_key.get_secret_value(),
        **{
            f"FOLIO_GRPC_{service}_{kind}": str(free_port())
            for service in ("USERS", "ORDERS")
            for kind in ("PORT", "METRICS_PORT")
        },
    }
    argv = [sys.executable, "-m", "folio", "up"]
    # `folio up` stops its workers gracefully: let it.
    stop_s = settings.messaging.shutdown_grace_s + 30
    with (
        tempfile.TemporaryDirectory(prefix="folio-bench-checkout-") as home,
        serve_process(
            argv, env, port=port, ready_path="/readyz", cwd=Path(home), stop_timeout_s=stop_s
        ) as up,
    ):
        run_dir = Path(home) / ".folio" / "run"

        def cpu() -> dict[str, float]:
            children = (read_pid_file(path) for path in run_dir.glob("*.pid"))
            alive = {child.name: child.pid for child in children if child is not None and child.is_alive()}
            return {name: process_cpu_seconds(pid) for name, pid in {"folio up": up.pid, **alive}.items()}

        yield up.base, cpu


async def first_order(checkout: Checkout) -> None:
    """Buy until an order goes through: ``folio up`` answers before its gRPC servers and workers do."""
    deadline = time.monotonic() + STARTUP_S
    while True:
        try:
            await checkout.buy(0, 0)
        except (httpx.HTTPError, RuntimeError, TimeoutError):
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(1.0)
        else:
            return


async def measure_folio(base: str, cpu: CpuClock, shop: Shop, settings: Settings) -> Run:
    """The first order alone (the platform starting), a warm-up, then the measured run."""
    engine = create_async_engine(settings.database_url, pool_size=2)
    paid = PaidOrders(engine, shop.tenant_id)
    watcher = asyncio.create_task(paid.watch())
    checkout = Checkout(base, shop, paid)
    try:
        await first_order(checkout)
        await closed_loop(checkout.buy, WARMUP_S, cpu)
        return await closed_loop(checkout.buy, SECONDS, cpu)
    finally:
        watcher.cancel()
        await checkout.aclose()
        await engine.dispose()


# --- the peer --------------------------------------------------------------------------------------


async def measure_peer(base: str, cpu: CpuClock, shop: Shop) -> Run:
    """The same customers and listings, one ``POST /checkout`` per paid order."""
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:

        async def buy(customer: int, n: int) -> Steps:
            listing = shop.listings[(customer + n) % len(shop.listings)]
            body = {"listing_id": str(listing), "customer_id": str(shop.customers[customer].user_id)}
            started = time.perf_counter()
            (await client.post("/checkout", json=body)).raise_for_status()
            return {"order": time.perf_counter() - started}

        await closed_loop(buy, WARMUP_S, cpu)
        return await closed_loop(buy, SECONDS, cpu)


def run() -> BenchResult:
    """Seed a shop, then run the customers against ``folio up`` and against the bare checkout."""
    os.environ.update(FOLIO_ENV)
    settings = load_settings()
    upgrade(settings.database_migration_url)
    shop = asyncio.run(seed_shop(settings))
    with folio_up(settings) as (base, cpu):
        folio_run = asyncio.run(measure_folio(base, cpu, shop, settings))
    port = free_port()
    peer_argv = uvicorn_argv(sys.executable, "benchmarks.peers:bare_checkout", port, factory=True)
    peer_env = {**FOLIO_ENV, "FOLIO_BENCH_TENANT_ID": str(shop.tenant_id)}
    with serve_process(peer_argv, peer_env, port=port, ready_path="/healthz") as peer_server:

        def peer_cpu() -> dict[str, float]:
            return {"peer": peer_server.cpu_seconds()}

        peer_run = asyncio.run(measure_peer(peer_server.base, peer_cpu, shop))
    folio = measurement("folio up (J7 path)", folio_run)
    steps = {step: _quantiles_ms([order[step] for order in folio_run.orders]) for step in STEPS}
    cpu_by_process = {
        name: round(spent * 1000 / folio.requests, 1) for name, spent in sorted(folio_run.cpu_seconds.items())
    }
    print(
        "checkout steps (folio, ms): "
        + "; ".join(f"{step} p50 {q['p50']:.0f} p99 {q['p99']:.0f}" for step, q in steps.items())
        + "\ncheckout CPU per order (folio, ms): "
        + ", ".join(f"{name} {ms}" for name, ms in cpu_by_process.items())
    )
    return BenchResult.comparing(
        __doc__,
        name=NAME,
        folio=folio,
        peer=measurement("bare FastAPI 2 transactions", peer_run),
        ratio_label="folio/bare paid orders/s",
        parameters={
            "seconds": SECONDS,
            "warmup_s": WARMUP_S,
            "customers": CUSTOMERS,
            "listings": f"{LISTINGS} ({shop.real_works} real catalogue works), {STOCK} copies each",
            "folio_steps_ms": steps,
            "folio_cpu_ms_per_order": cpu_by_process,
            "folio_first_errors": folio_run.errors[:3],
            "peer_first_errors": peer_run.errors[:3],
            "paid_seen_by": f"one query every {WATCH_POLL_S * 1000:.0f} ms, then GET /api/v1/orders/{{id}}",
            "database": "PostgreSQL 15 (primary), application role, row-level security",
            "cpu": "folio: folio up and its children; peer: its uvicorn process; PostgreSQL in neither",
        },
    )
