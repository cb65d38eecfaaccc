"""``/graphql`` on the gateway: queries and mutations over HTTP, subscriptions over WebSocket.

HTTP ``POST /graphql`` is Folio's own route, so it is mounted like every REST router:
the gateway passes its rate-limit dependency (``limits``), which authenticates the
caller and counts the request against the same per-credential and per-shop windows and
daily quota as ``/api``. The route then resolves the persisted query, runs the
operation with a fresh ``GraphQLContext`` (its dataloaders), and answers through the
response cache. A request refused before execution (a limit, a persisted-query miss)
has no ``data`` and the HTTP status of its problem; an answer with ``data`` is a 200.

WebSocket ``/graphql`` (``graphql-transport-ws``) is strawberry's handler. The
connection authenticates in its ``connection_init`` payload (``Authorization: Bearer
...`` or ``X-API-Key``, or the same headers on the upgrade request) with the platform's
authenticator, the REST API's; a bad credential closes it with 4403. The gateway's
``admit_connection`` then counts the connection against the caller's rate limits: over
them it closes with 4429. Subscriptions then read only the caller's shop's channels.

The router's lifespan opens what the route needs (the persisted-query store and the
subscriptions' Redis client, the response cache and its commit listener) after the
gateway's lifespan wired the platform, and closes them before it is closed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Request, Response, WebSocket, params
from fastapi.routing import APIWebSocketRoute
from pydantic import BaseModel, ConfigDict, Field
from redis.asyncio import Redis
from strawberry.exceptions import ConnectionRejectionError
from strawberry.fastapi import GraphQLRouter
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage
from strawberry.types import ExecutionResult
from strawberry.types.graphql import OperationType

from folio.core.cache import CACHES
from folio.core.errors import FolioError, RateLimitedError, ValidationFailedError
from folio.core.platform import Platform
from folio.core.security import Principal
from folio.core.settings.graphql import GraphQLSettings
from folio.core.text import CleanText
from folio.graphqlkit.channels import Channels
from folio.graphqlkit.context import GraphQLContext
from folio.graphqlkit.persisted import PersistedQueries
from folio.graphqlkit.problems import problem_of, refusal_status
from folio.graphqlkit.response_cache import RESPONSES_CACHE, ResponseCache
from folio.graphqlkit.schema import ComposedSchema
from folio.httpkit.principal import AUTHENTICATOR, CurrentPrincipal
from folio.httpkit.wiring import platform_of

__all__ = ["CACHE_HEADER", "ConnectionAdmission", "GraphQLBody", "GraphQLRuntime", "graphql_router"]

CACHE_HEADER = "X-Folio-Cache"
"""Says whether the response cache answered (``hit``), filled (``miss``) or was not used (``bypass``)."""

_HTTP_OPERATIONS = frozenset({OperationType.QUERY, OperationType.MUTATION})

ConnectionAdmission = Callable[[Platform, Principal], Awaitable[None]]
"""Counts a subscription connection of a caller; raises ``RateLimitedError`` to refuse it (4429)."""
RATE_LIMITED_CLOSE_CODE = 4429


MAX_DOCUMENT_CHARS = 100_000
"""The longest query document accepted (the token limit refuses long ones earlier in practice)."""


class GraphQLBody(BaseModel):
    """A GraphQL-over-HTTP request body."""

    model_config = ConfigDict(populate_by_name=True)

    query: Annotated[str, CleanText(multiline=True, max_length=MAX_DOCUMENT_CHARS)] | None = Field(
        default=None, description="The document; leave it out to run a persisted query."
    )
    variables: dict[str, Any] | None = None
    operation_name: Annotated[str, CleanText(max_length=200)] | None = Field(
        default=None, alias="operationName"
    )
    extensions: dict[str, Any] | None = Field(
        default=None, description='`{"persistedQuery": {"version": 1, "sha256Hash": "..."}}` for APQ.'
    )


@dataclass(frozen=True)
class GraphQLRuntime:
    """What the route uses, opened in the router's lifespan."""

    persisted: PersistedQueries
    responses: ResponseCache
    channels: Channels


def _runtime(app: FastAPI) -> GraphQLRuntime:
    runtime: GraphQLRuntime = app.state.graphql
    return runtime


def _encoded(result: ExecutionResult) -> bytes:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [error.formatted for error in result.errors]
    return json.dumps(body, separators=(",", ":")).encode()


def _refused(error: FolioError, *, headers: Mapping[str, str]) -> Response:
    body = {"data": None, "errors": [{"message": str(error), "extensions": problem_of(error)}]}
    return Response(
        json.dumps(body), status_code=error.status, media_type="application/json", headers=headers
    )


def _bearer(authorization: object) -> str | None:
    if not isinstance(authorization, str):
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


class _TransportHandler(BaseGraphQLTransportWSHandler[GraphQLContext, None]):
    """``graphql-transport-ws``, closing a connection its caller's rate limits refuse with 4429."""

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        """Strawberry's, except that a ``RateLimitedError`` from ``on_ws_connect`` closes with 4429."""
        try:
            await super().handle_connection_init(message)
        except RateLimitedError as refused:
            await self.websocket.close(code=RATE_LIMITED_CLOSE_CODE, reason=str(refused)[:120])


class _SubscriptionRouter(GraphQLRouter[GraphQLContext, None]):
    """Strawberry's WebSocket handler, authenticating and admitting each connection as the REST API does."""

    graphql_transport_ws_handler_class = _TransportHandler
    admit: ConnectionAdmission | None = None

    async def on_ws_connect(self, context: GraphQLContext) -> dict[str, object] | None:
        """Authenticate the connection from its ``connection_init`` payload, else its upgrade headers.

        Then ``admit`` counts it (a ``RateLimitedError`` goes through: ``_TransportHandler``
        closes with 4429); any other refusal closes with 4403.
        """
        sent: dict[str, Any] = {str(k).lower(): v for k, v in (context.connection_params or {}).items()}
        headers = context.request.headers if context.request is not None else {}
        authenticate = context.platform.get(AUTHENTICATOR)
        try:
            context.principal = await authenticate(
                bearer=_bearer(sent.get("authorization", headers.get("authorization"))),
                api_key=sent.get("x-api-key", headers.get("x-api-key")),
            )
        except FolioError as refused:
            raise ConnectionRejectionError(problem_of(refused)) from None
        if self.admit is not None:
            try:
                await self.admit(context.platform, context.principal)
            except RateLimitedError:
                raise
            except FolioError as refused:
                raise ConnectionRejectionError(problem_of(refused)) from None
        return None


def graphql_router(
    composed: ComposedSchema,
    *,
    settings: GraphQLSettings,
    limits: Sequence[params.Depends] = (),
    admit_connection: ConnectionAdmission | None = None,
    path: str = "/graphql",
) -> APIRouter:
    """The ``path`` routes over ``composed``.

    ``limits``: the HTTP route's extra dependencies; ``admit_connection``: what counts a
    WebSocket connection once its caller is known (None: connections are not counted).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        platform: Platform = app.state.platform
        caches = platform.get(CACHES)
        redis = None if caches.lite else Redis.from_url(platform.settings.cache_url)
        responses = ResponseCache(
            caches.named(RESPONSES_CACHE), ttl_s=settings.response_cache_ttl_s, max_tokens=settings.max_tokens
        )
        app.state.graphql = GraphQLRuntime(
            persisted=PersistedQueries(
                redis, ttl_s=settings.persisted_ttl_s, persisted_only=settings.persisted_only
            ),
            responses=responses,
            channels=Channels(redis),
        )
        # Writes committed in this process forget their shop's answers at once; the
        # other processes hear it through the cache's invalidation broadcast.
        stop = platform.database.on_committed(responses.forget_changes)
        try:
            yield
        finally:
            await stop()
            if redis is not None:
                await redis.aclose()

    router = APIRouter(lifespan=lifespan, tags=["graphql"])

    @router.post(path, dependencies=list(limits), summary="Run a GraphQL query or mutation")
    async def run_graphql(
        request: Request, response: Response, body: GraphQLBody, principal: CurrentPrincipal
    ) -> Response:
        """Run one GraphQL operation as the caller (see the module docstring).

        ``response`` holds what the dependencies set (the ``RateLimit-*`` headers);
        FastAPI drops it when a route returns its own response, so its headers are copied.
        """
        runtime = _runtime(request.app)
        try:
            query = await runtime.persisted.resolve(query=body.query, extensions=body.extensions)
        except FolioError as refused:
            return _refused(refused, headers=response.headers)
        context = GraphQLContext(
            platform=platform_of(request),
            loaders=composed.loaders,
            principal=principal,
            channels=runtime.channels,
        )
        status = 200

        async def run() -> tuple[bytes, bool]:
            nonlocal status
            try:
                result = await composed.schema.execute(
                    query,
                    variable_values=body.variables,
                    context_value=context,
                    operation_name=body.operation_name,
                    allowed_operation_types=_HTTP_OPERATIONS,
                )
            except InvalidOperationTypeError:
                raise ValidationFailedError("subscriptions run over the WebSocket at this path") from None
            except CannotGetOperationTypeError:
                raise ValidationFailedError(f"no operation {body.operation_name!r} in the document") from None
            encoded = _encoded(result)
            if result.data is None and result.errors:
                status = refusal_status(result.errors)
            return encoded, bool(result.errors)

        encoded, outcome = await runtime.responses.answer(
            principal, query, body.variables, body.operation_name, run
        )
        headers = {**response.headers, CACHE_HEADER: outcome.value}
        return Response(encoded, status_code=status, media_type="application/json", headers=headers)

    async def subscription_context(websocket: WebSocket) -> GraphQLContext:
        return GraphQLContext(
            platform=platform_of(websocket),  # type: ignore[arg-type]  # it reads only .app
            loaders=composed.loaders,
            channels=_runtime(websocket.app).channels,
        )

    subscriptions = _SubscriptionRouter(
        composed.schema,
        path=path,
        graphql_ide=None,
        allow_queries_via_get=False,
        context_getter=subscription_context,
    )
    subscriptions.admit = admit_connection
    # Only strawberry's WebSocket route: HTTP is the route above (limits, APQ, the cache).
    router.routes.extend(route for route in subscriptions.routes if isinstance(route, APIWebSocketRoute))
    return router
