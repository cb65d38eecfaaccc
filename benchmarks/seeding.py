"""What several benchmarks set up the same way: a generated shop with an owner and a token."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from folio.core.db import Database
from folio.core.security import Principal, Role
from folio.core.settings import Settings


@dataclass(frozen=True)
class BenchShop:
    """A freshly registered shop (generated, not real data), its owner and an access token."""

    owner: Principal
    access_token: str


async def register_bench_shop(db: Database, settings: Settings) -> BenchShop:
    """Register a new generated shop and log its owner in."""
    from folio.identity import api as identity

    slug = f"bench-{secrets.token_hex(5)}"
    registration = await identity.register_shop(
        db,
        settings=settings,
        data=identity.RegisterShop(
            shop_name="Benchmark shop (generated)",
            shop_slug=slug,
            email=f"{slug}@bench.folio.localhost",
            display_name="Bench Owner",
            password=secrets.token_urlsafe(24),
        ),
    )
    owner = Principal(
        tenant_id=registration.tenant.id, role=Role.OWNER, user_id=registration.user.id, via="token"
    )
    pair = await identity.issue_token_pair(db, settings=settings, principal=owner)
    return BenchShop(owner=owner, access_token=pair.access_token)
