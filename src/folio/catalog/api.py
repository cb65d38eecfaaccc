"""The catalog context's public surface: what other contexts and entry points may import.

Key contracts: service functions take ``(db, *, [settings,] principal, ...)`` and apply
the role rules themselves (another shop's listing is ``NotFoundError``); every work or
listing write publishes an outbox event (topic ``catalog``) in its own transaction,
which consumers (the search context) follow with ``claim_changes`` /
``mark_changes_synced`` / ``mark_change_failed`` (at-least-once, per consumer name;
see ``folio.catalog.outbox`` and ``folio.core.outbox``) and read back
with ``get_works``, ``iter_works``, ``get_listings_for_search`` and ``iter_listings``.
``get_visible_works`` is ``get_work`` for a batch of ids (one query, the same visibility
rule): GraphQL's work loader reads through it.
The orders context holds stock in its own transaction with ``take_stock`` /
``return_stock`` (``folio.catalog.stock``: no oversell under concurrent checkouts).
``snapshot_catalog_to_lake`` writes each shop's listings with their works to the data
lake's ``catalog_listings`` table, once a day per shop (``folio.catalog.lake_snapshot``).
"""

from __future__ import annotations

from folio.catalog.curation import (
    JUNK_REASONS,
    RemovalReport,
    find_junk_works,
    remove_works,
    set_work_published,
)
from folio.catalog.importer import BOOK_CROSSING, PUBLIC_DOMAIN_SOURCES, REASONS, import_works
from folio.catalog.isbn import InvalidIsbnError, Isbn, parse_isbn
from folio.catalog.lake_snapshot import CatalogSnapshot, catalog_listings_table, snapshot_catalog_to_lake
from folio.catalog.outbox import claim_changes, mark_change_failed, mark_changes_synced, pending_change_count
from folio.catalog.previews import PreviewReport, export_previews, generate_previews, render_preview
from folio.catalog.read_cache import CATALOG_READS, READS_CACHE, CatalogReads
from folio.catalog.runs import import_source, list_import_runs, list_quarantine, run_previews
from folio.catalog.schemas import (
    CatalogChangeRead,
    Condition,
    ImportRunRead,
    JunkWork,
    ListingCreate,
    ListingRead,
    ListingUpdate,
    ListingWithWork,
    QuarantinedRowRead,
    WorkCreate,
    WorkRead,
    WorkUpdate,
)
from folio.catalog.service import (
    create_listing,
    create_work,
    delete_listing,
    get_listing,
    get_listings_for_search,
    get_visible_works,
    get_work,
    get_works,
    iter_listings,
    iter_works,
    list_listings,
    list_listings_after,
    list_tenants_with_listings,
    list_works,
    update_listing,
    update_work,
)
from folio.catalog.stock import listings_by_id, return_stock, take_stock

__all__ = [
    "BOOK_CROSSING",
    "CATALOG_READS",
    "JUNK_REASONS",
    "PUBLIC_DOMAIN_SOURCES",
    "READS_CACHE",
    "REASONS",
    "CatalogChangeRead",
    "CatalogReads",
    "CatalogSnapshot",
    "Condition",
    "ImportRunRead",
    "InvalidIsbnError",
    "Isbn",
    "JunkWork",
    "ListingCreate",
    "ListingRead",
    "ListingUpdate",
    "ListingWithWork",
    "PreviewReport",
    "QuarantinedRowRead",
    "RemovalReport",
    "WorkCreate",
    "WorkRead",
    "WorkUpdate",
    "catalog_listings_table",
    "claim_changes",
    "create_listing",
    "create_work",
    "delete_listing",
    "export_previews",
    "find_junk_works",
    "generate_previews",
    "get_listing",
    "get_listings_for_search",
    "get_visible_works",
    "get_work",
    "get_works",
    "import_source",
    "import_works",
    "iter_listings",
    "iter_works",
    "list_import_runs",
    "list_listings",
    "list_listings_after",
    "list_quarantine",
    "list_tenants_with_listings",
    "list_works",
    "listings_by_id",
    "mark_change_failed",
    "mark_changes_synced",
    "parse_isbn",
    "pending_change_count",
    "remove_works",
    "render_preview",
    "return_stock",
    "run_previews",
    "set_work_published",
    "snapshot_catalog_to_lake",
    "take_stock",
    "update_listing",
    "update_work",
]
