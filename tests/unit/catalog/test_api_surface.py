"""``folio.catalog.api`` exports what the search context and the entry points use."""

from __future__ import annotations

import pytest

import folio.catalog.api

pytestmark = pytest.mark.unit


def test_catalog_api_exports_the_search_contract() -> None:
    """The outbox and read functions the search context codes against are exported by these names."""
    for name in (
        "claim_changes",
        "mark_changes_synced",
        "mark_change_failed",
        "pending_change_count",
        "get_works",
        "iter_works",
        "get_listings_for_search",
        "iter_listings",
        "list_tenants_with_listings",
        "CatalogChangeRead",
        "ListingWithWork",
        "WorkRead",
    ):
        assert name in folio.catalog.api.__all__
    for name in folio.catalog.api.__all__:
        assert getattr(folio.catalog.api, name) is not None
