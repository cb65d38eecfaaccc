"""FastAPI plumbing every context's HTTP adapter shares.

The wired platform as dependencies (``wiring``), the caller (``principal``), the
``If-Match`` version check and the problem entries of OpenAPI responses. Keep this
package to plumbing: no domain logic.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import Header
from pydantic import Field
from pydantic.json_schema import SkipJsonSchema

from folio.core.errors import PROBLEM_MEDIA_TYPE, InvalidParam, ValidationFailedError
from folio.httpkit.principal import AUTHENTICATOR, Authenticator, CurrentPrincipal
from folio.httpkit.wiring import (
    DatabaseDep,
    ObjectStoreDep,
    PlatformDep,
    RateLimiterDep,
    SettingsDep,
    client_ip,
    platform_of,
)

__all__ = [
    "AUTHENTICATOR",
    "ETAG_HEADER",
    "Authenticator",
    "CurrentPrincipal",
    "DatabaseDep",
    "IfMatch",
    "ObjectStoreDep",
    "PlatformDep",
    "RateLimiterDep",
    "SettingsDep",
    "client_ip",
    "expected_version",
    "platform_of",
    "problem_responses",
]

IfMatch = Annotated[
    # The pattern sits on the string so the schema shows it; SkipJsonSchema: a header
    # is absent or a string, never JSON null.
    Annotated[str, Field(pattern=r'^("[0-9]{1,9}"|[0-9]{1,9}|\*)$')] | SkipJsonSchema[None],
    Header(
        alias="If-Match",
        description=(
            'Change only if the resource is still at this version: its `ETag`, e.g. `"3"` '
            "(the bare number is accepted too), or `*` for any version."
        ),
        examples=['"3"'],
    ),
]
"""The optional ``If-Match`` header of versioned resources (tasks, listings, works)."""

ETAG_HEADER = {"ETag": {"description": 'The version as a strong entity tag, e.g. `"3"`.'}}
"""The OpenAPI ``headers`` entry of a response that carries a resource's ``ETag``."""

_PROBLEM_REF = "#/components/schemas/Problem"
_ETAG = re.compile(r'^\s*"?([0-9]{1,9})"?\s*$')


def expected_version(if_match: str | None, *, entity: str) -> int | None:
    """The version an ``If-Match`` header asks for (None for absent or ``*``); 422 when malformed."""
    if if_match is None or if_match.strip() == "*":
        return None
    match = _ETAG.match(if_match)
    if match is None:
        raise ValidationFailedError(
            f'If-Match must be the {entity}\'s ETag, e.g. "3", or *',
            errors=[InvalidParam(name="header.If-Match", reason='expected a strong ETag like "3", or *')],
        )
    return int(match.group(1))


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """OpenAPI ``responses`` entries documenting each status as a problem+json body.

    Only the problems the route's own code raises: the gateway adds those every route
    shares (400 and 413 for a body, 503 where the database is reached) and registers
    the ``Problem`` schema (``folio.entrypoints.gateway.openapi``).
    """
    content = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _PROBLEM_REF}}}
    return {status: {"content": content} for status in statuses}
