"""The gateway's OpenAPI document, with every error response told the way the server answers it.

Routes declare the problems their own code raises (``folio.httpkit.problem_responses``);
what the gateway adds to every route, and what FastAPI documents on its own, is
completed here, once, when the document is first built:

- every 4xx/5xx response is ``application/problem+json`` with the ``Problem`` schema,
  including the 422 FastAPI adds by itself (it says ``application/json`` and a schema
  the server never sends);
- every operation with a request body documents 400 (a body that cannot be read as its
  media type, e.g. JSON that is not UTF-8) and 413 (over the route's body limit, with
  that limit);
- every operation that reaches the database (its dependencies include
  ``httpkit.DatabaseDep``, directly or through ``enforce_api_limits``) documents 503
  ``database-unavailable`` with ``Retry-After``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, get_args

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from folio.core.errors import PROBLEM_MEDIA_TYPE, Problem
from folio.httpkit import DatabaseDep
from folio.httpkit.body_limits import BodyLimits

__all__ = ["install_openapi"]

_SCHEMAS = "#/components/schemas/"
_PROBLEM_CONTENT = {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": _SCHEMAS + "Problem"}}}
_RETRY_AFTER = {
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}}
}
_FASTAPI_VALIDATION_SCHEMAS = ("HTTPValidationError", "ValidationError")

_database_dependency: Callable[..., Any] = get_args(DatabaseDep)[1].dependency


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any] | None]:
    for dependency in dependant.dependencies:
        yield dependency.call
        yield from _calls(dependency)


def _reaches_database(route: RouteContext) -> bool:
    # The route as included: its own dependencies and its routers' (enforce_api_limits).
    dependant: Dependant = route.dependant
    return any(call is _database_dependency for call in _calls(dependant))


def _complete_operation(operation: dict[str, Any], route: RouteContext, limits: BodyLimits) -> None:
    responses: dict[str, Any] = operation.setdefault("responses", {})
    if "requestBody" in operation:
        responses.setdefault(
            "400", {"description": "`bad-request`: the body could not be read as its media type."}
        )
        limit = limits.for_path(route.path_format or "")
        size = f"its {limit}-byte limit" if limit is not None else "the limit"
        responses.setdefault(
            "413", {"description": f"`payload-too-large`: the body is over {size}; it was not read."}
        )
    if _reaches_database(route):
        unavailable = responses.setdefault("503", {"description": "Service unavailable."})
        unavailable["description"] += (
            " `database-unavailable`: the database is down or its circuit breaker is open; "
            "`Retry-After` says when to try again."
        )
        unavailable.setdefault("headers", {}).update(_RETRY_AFTER)
    for status, response in responses.items():
        if status[0] in "45":
            response["content"] = _PROBLEM_CONTENT


def _complete_components(schema: dict[str, Any]) -> None:
    schemas: dict[str, Any] = schema.setdefault("components", {}).setdefault("schemas", {})
    problem = Problem.model_json_schema(ref_template=_SCHEMAS + "{model}")
    schemas.update(problem.pop("$defs", {}))
    schemas["Problem"] = problem
    text = json.dumps(schema["paths"])
    for name in _FASTAPI_VALIDATION_SCHEMAS:
        if f'"{_SCHEMAS}{name}"' not in text:
            schemas.pop(name, None)


def install_openapi(app: FastAPI, limits: BodyLimits) -> None:
    """Make ``app.openapi()`` complete FastAPI's document as the module docstring says (once, then cached)."""
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = build()
            for route in iter_route_contexts(app.routes):
                if not isinstance(route.original_route, APIRoute) or not route.include_in_schema:
                    continue
                operations = schema["paths"].get(route.path_format, {})
                for method in route.methods or ():
                    if method.lower() in operations:
                        _complete_operation(operations[method.lower()], route, limits)
            _complete_components(schema)
        return app.openapi_schema or {}

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema
