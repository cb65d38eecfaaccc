"""The catalog's HTTP adapter: ``/api/v1/catalog/...`` and ``/api/v2/catalog/listings``.

Thin by design: each handler turns HTTP into a service call (``folio.catalog.service``)
and the result back into HTTP (status, ``ETag``, ``Location``). Errors are
``FolioError``s the gateway renders as problem+json.

v2 differs from v1 only for listing lists: an opaque keyset ``cursor`` and ``limit``,
answering ``{data, next_cursor, has_more}``, instead of numbered pages.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse

from folio.catalog import service
from folio.catalog.read_cache import CATALOG_READS, CatalogReads
from folio.catalog.schemas import (
    ListingCreate,
    ListingCursorPage,
    ListingFilter,
    ListingPage,
    ListingRead,
    ListingUpdate,
    WorkCreate,
    WorkFilter,
    WorkPage,
    WorkRead,
    WorkUpdate,
)
from folio.core.text import CleanText
from folio.httpkit import (
    ETAG_HEADER,
    CurrentPrincipal,
    DatabaseDep,
    IfMatch,
    ObjectStoreDep,
    SettingsDep,
    expected_version,
    platform_of,
    problem_responses,
)

__all__ = ["OPENAPI_TAGS", "V1_TAG", "V2_TAG", "v1_router", "v2_router"]

V1_TAG = "catalog v1"
V2_TAG = "catalog v2"

OPENAPI_TAGS: list[dict[str, Any]] = [
    {
        "name": V1_TAG,
        "description": (
            "Works (bibliographic records, shared by every shop once the platform publishes "
            "them) and the shop's listings (its copies for sale). Members read; staff create "
            "works (private to the shop until published) and listings; owners and admins "
            "change their shop's unpublished works."
        ),
    },
    {
        "name": V2_TAG,
        "description": "Listings paged with an opaque keyset `cursor` (`{data, next_cursor, has_more}`).",
    },
]
"""Tag descriptions for the app's ``openapi_tags``."""

v1_router = APIRouter(prefix="/catalog", tags=[V1_TAG])
v2_router = APIRouter(prefix="/catalog", tags=[V2_TAG])

WorkId = Annotated[uuid.UUID, Path(description="The work's id.")]
ListingId = Annotated[uuid.UUID, Path(description="The listing's id.")]
PageNo = Annotated[int, Query(ge=1, le=1_000_000, description="Page number, from 1.")]
PerPage = Annotated[
    int | None,
    Query(ge=1, le=1000, description="Items per page; default and maximum come from the `api` settings."),
]
_READ_PROBLEMS = problem_responses(401, 404, 422, 429)
_LIST_PROBLEMS = problem_responses(401, 422, 429)
_WRITE_PROBLEMS = problem_responses(400, 401, 403, 404, 409, 422, 429)


async def _catalog_reads(request: Request) -> CatalogReads | None:
    # None on a platform built by hand without caches (some tests): reads go to the database.
    return platform_of(request).find(CATALOG_READS)


ReadsDep = Annotated[CatalogReads | None, Depends(_catalog_reads)]


# --- works --------------------------------------------------------------------------------------


@v1_router.get(
    "/works",
    operation_id="listWorksV1",
    summary="List works",
    description="Works matching every filter given, by title, one numbered page at a time.",
    response_model=WorkPage,
    responses=_LIST_PROBLEMS,
)
async def list_works_v1(
    *,
    db: DatabaseDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    filters: Annotated[WorkFilter, Query()],
    page: PageNo = 1,
    per_page: PerPage = None,
) -> WorkPage:
    """``GET /api/v1/catalog/works``."""
    return await service.list_works(
        db, settings=settings, principal=principal, filters=filters, page=page, per_page=per_page
    )


@v1_router.post(
    "/works",
    operation_id="createWorkV1",
    summary="Catalogue a work (staff)",
    description=(
        "The work is private to the shop (`published: false`) until the platform's curator "
        "publishes it. 409 `conflict` with `existing_id` when the ISBN is already catalogued."
    ),
    status_code=status.HTTP_201_CREATED,
    response_model=WorkRead,
    responses={201: {"headers": ETAG_HEADER}, **_WRITE_PROBLEMS},
)
async def create_work_v1(
    *,
    request: Request,
    response: Response,
    db: DatabaseDep,
    principal: CurrentPrincipal,
    data: Annotated[
        WorkCreate,
        Body(
            openapi_examples={
                "book": {
                    "summary": "A book with an ISBN",
                    "value": {
                        "isbn": "978-0-306-40615-7",
                        "title": "Data Reduction",
                        "authors": ["P. Bevington"],
                    },
                }
            }
        ),
    ],
) -> WorkRead:
    """``POST /api/v1/catalog/works``: 201 with ``Location`` and ``ETag``."""
    created = await service.create_work(db, principal=principal, data=data)
    response.headers["Location"] = str(request.url_for("get_work_v1", work_id=created.id))
    response.headers["ETag"] = created.etag
    return created


@v1_router.get(
    "/works/{work_id}",
    name="get_work_v1",
    operation_id="getWorkV1",
    summary="Get a work",
    response_model=WorkRead,
    responses={200: {"headers": ETAG_HEADER}, **_READ_PROBLEMS},
)
async def get_work_v1(
    *, response: Response, db: DatabaseDep, reads: ReadsDep, principal: CurrentPrincipal, work_id: WorkId
) -> WorkRead:
    """``GET /api/v1/catalog/works/{work_id}`` (through the catalogue's read cache)."""
    found = await service.get_work(db, principal=principal, work_id=work_id, reads=reads)
    response.headers["ETag"] = found.etag
    return found


@v1_router.patch(
    "/works/{work_id}",
    operation_id="updateWorkV1",
    summary="Change a work (owners and admins)",
    description="Only the shop's own unpublished works; a published work is 403 (the curator's).",
    response_model=WorkRead,
    responses={200: {"headers": ETAG_HEADER}, **_WRITE_PROBLEMS},
)
async def update_work_v1(
    *,
    response: Response,
    db: DatabaseDep,
    principal: CurrentPrincipal,
    work_id: WorkId,
    data: WorkUpdate,
    if_match: IfMatch = None,
) -> WorkRead:
    """``PATCH /api/v1/catalog/works/{work_id}``."""
    updated = await service.update_work(
        db,
        principal=principal,
        work_id=work_id,
        data=data,
        if_version=expected_version(if_match, entity="work"),
    )
    response.headers["ETag"] = updated.etag
    return updated


@v1_router.get(
    "/works/{work_id}/preview",
    operation_id="getWorkPreviewV1",
    summary="Sample-chapter PDF",
    description="The first pages of a public-domain text as a PDF; 404 when the work has no preview.",
    response_class=StreamingResponse,
    responses={
        200: {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}},
        **_READ_PROBLEMS,
    },
)
async def get_work_preview_v1(
    *, db: DatabaseDep, store: ObjectStoreDep, principal: CurrentPrincipal, work_id: WorkId
) -> StreamingResponse:
    """``GET /api/v1/catalog/works/{work_id}/preview``: streamed from the object store."""
    key = await service.get_work_preview_key(db, principal=principal, work_id=work_id)
    stream = await store.open(key)
    return StreamingResponse(
        stream.chunks,
        media_type="application/pdf",
        headers={
            "Content-Length": str(stream.size),
            "Content-Disposition": f'inline; filename="{work_id}.pdf"',
        },
    )


# --- listings -----------------------------------------------------------------------------------


@v1_router.get(
    "/listings",
    operation_id="listListingsV1",
    summary="List the shop's listings (numbered pages)",
    response_model=ListingPage,
    responses=_LIST_PROBLEMS,
)
async def list_listings_v1(
    *,
    db: DatabaseDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    filters: Annotated[ListingFilter, Query()],
    page: PageNo = 1,
    per_page: PerPage = None,
) -> ListingPage:
    """``GET /api/v1/catalog/listings``, newest first."""
    return await service.list_listings(
        db, settings=settings, principal=principal, filters=filters, page=page, per_page=per_page
    )


@v1_router.post(
    "/listings",
    operation_id="createListingV1",
    summary="List a work for sale (staff)",
    description="409 when the shop already lists the work in that condition; 403 `quota-exceeded` when full.",
    status_code=status.HTTP_201_CREATED,
    response_model=ListingRead,
    responses={201: {"headers": ETAG_HEADER}, **_WRITE_PROBLEMS},
)
async def create_listing_v1(
    *,
    request: Request,
    response: Response,
    db: DatabaseDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    data: ListingCreate,
) -> ListingRead:
    """``POST /api/v1/catalog/listings``: 201 with ``Location`` and ``ETag``."""
    created = await service.create_listing(db, settings=settings, principal=principal, data=data)
    response.headers["Location"] = str(request.url_for("get_listing_v1", listing_id=created.id))
    response.headers["ETag"] = created.etag
    return created


@v1_router.get(
    "/listings/{listing_id}",
    name="get_listing_v1",
    operation_id="getListingV1",
    summary="Get a listing",
    response_model=ListingRead,
    responses={200: {"headers": ETAG_HEADER}, **_READ_PROBLEMS},
)
async def get_listing_v1(
    *,
    response: Response,
    db: DatabaseDep,
    reads: ReadsDep,
    principal: CurrentPrincipal,
    listing_id: ListingId,
) -> ListingRead:
    """``GET /api/v1/catalog/listings/{listing_id}`` (read cache); another shop's listing is 404."""
    found = await service.get_listing(db, principal=principal, listing_id=listing_id, reads=reads)
    response.headers["ETag"] = found.etag
    return found


@v1_router.patch(
    "/listings/{listing_id}",
    operation_id="updateListingV1",
    summary="Change a listing (staff)",
    response_model=ListingRead,
    responses={200: {"headers": ETAG_HEADER}, **_WRITE_PROBLEMS},
)
async def update_listing_v1(
    *,
    response: Response,
    db: DatabaseDep,
    principal: CurrentPrincipal,
    listing_id: ListingId,
    data: ListingUpdate,
    if_match: IfMatch = None,
) -> ListingRead:
    """``PATCH /api/v1/catalog/listings/{listing_id}``."""
    updated = await service.update_listing(
        db,
        principal=principal,
        listing_id=listing_id,
        data=data,
        if_version=expected_version(if_match, entity="listing"),
    )
    response.headers["ETag"] = updated.etag
    return updated


@v1_router.delete(
    "/listings/{listing_id}",
    operation_id="deleteListingV1",
    summary="Delete a listing (staff)",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=_WRITE_PROBLEMS,
)
async def delete_listing_v1(
    *, db: DatabaseDep, principal: CurrentPrincipal, listing_id: ListingId, if_match: IfMatch = None
) -> Response:
    """``DELETE /api/v1/catalog/listings/{listing_id}``: 204."""
    await service.delete_listing(
        db,
        principal=principal,
        listing_id=listing_id,
        if_version=expected_version(if_match, entity="listing"),
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@v2_router.get(
    "/listings",
    operation_id="listListingsV2",
    summary="List the shop's listings (cursor pages)",
    description=(
        "Newest first. Pass `next_cursor` back as `cursor` for the next page; listings added "
        "meanwhile never make a page skip or repeat one. An edited or foreign cursor is a 400 "
        "`invalid-cursor` problem."
    ),
    response_model=ListingCursorPage,
    responses=problem_responses(400, 401, 422, 429),
)
async def list_listings_v2(
    *,
    db: DatabaseDep,
    settings: SettingsDep,
    principal: CurrentPrincipal,
    filters: Annotated[ListingFilter, Query()],
    cursor: Annotated[
        Annotated[str, CleanText(max_length=2048)] | None,
        Query(description="`next_cursor` of the previous page; omit for the first."),
    ] = None,
    limit: PerPage = None,
) -> ListingCursorPage:
    """``GET /api/v2/catalog/listings``."""
    return await service.list_listings_after(
        db, settings=settings, principal=principal, filters=filters, cursor=cursor, limit=limit
    )
