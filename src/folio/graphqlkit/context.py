"""What a GraphQL resolver is handed: the platform, the caller, and the request's dataloaders.

Key contracts:

- One ``GraphQLContext`` per operation (an HTTP request, or a WebSocket subscription's
  connection); its dataloaders, and so their caches, live exactly as long.
- ``context.load(name, key)`` goes through the loader the composed schema registered
  under ``name`` (``SchemaPart.loaders``): every ``load`` of one event-loop tick becomes
  one call of the loader's batch function, and a key is loaded once per request. That
  is how a field that fans out (an order's lines' listings) costs one query, not one
  per parent; a context reaches another context's objects this way too, by name,
  without importing its adapter.
- ``batching=False`` builds loaders that call the batch function once per key and keep
  nothing: what naive resolvers cost, for the benchmark's peer run.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from typing import Any

from strawberry.dataloader import DataLoader
from strawberry.fastapi import BaseContext
from strawberry.types import Info

from folio.core.errors import AuthenticationRequiredError
from folio.core.platform import Platform
from folio.core.security import Principal
from folio.graphqlkit.channels import Channels

__all__ = ["BatchLoad", "GraphQLContext", "context_of"]

BatchLoad = Callable[["GraphQLContext", list[uuid.UUID]], Awaitable[Sequence[Any]]]
"""A batch function: the values of ``keys`` in their order (None where there is none)."""


class GraphQLContext(BaseContext):
    """The context of one GraphQL operation (see the module docstring)."""

    def __init__(
        self,
        *,
        platform: Platform,
        loaders: Mapping[str, BatchLoad],
        channels: Channels,
        principal: Principal | None = None,
        batching: bool = True,
    ) -> None:
        """``principal`` is None until a WebSocket connection has authenticated."""
        super().__init__()
        self.platform = platform
        self.channels = channels
        self.principal = principal
        self._batch_loads = loaders
        self._batching = batching
        self._loaders: dict[str, DataLoader[uuid.UUID, Any]] = {}

    @property
    def caller(self) -> Principal:
        """The authenticated caller; ``AuthenticationRequiredError`` when there is none yet."""
        if self.principal is None:
            raise AuthenticationRequiredError("authenticate first: a bearer token or an API key")
        return self.principal

    async def load(self, name: str, key: uuid.UUID) -> Any:
        """The value the loader ``name`` finds for ``key`` (batched with this tick's other loads)."""
        return await self._loader(name).load(key)

    def _loader(self, name: str) -> DataLoader[uuid.UUID, Any]:
        found = self._loaders.get(name)
        if found is None:
            batch = partial(self._batch_loads[name], self)
            found = (
                DataLoader(load_fn=batch)
                if self._batching
                else DataLoader(load_fn=batch, max_batch_size=1, cache=False)
            )
            self._loaders[name] = found
        return found


def context_of(info: Info[GraphQLContext, Any]) -> GraphQLContext:
    """The operation's context, typed."""
    return info.context
