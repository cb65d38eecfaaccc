"""The one typed ``Platform`` every process runs on: what ``folio.bootstrap`` wired for it.

Key contracts:

- ``folio.bootstrap.build_platform`` is the only place a ``Platform`` is filled: the
  gateway (and the web app inside it), the CLI and every worker run on the one it
  returns, so a process never builds a client of its own.
- The fields are the adapters every tier needs (settings, database, rate limiter,
  object store) and the readiness checks. Adapters owned by a tier above core (the
  search engine client, the API-call meter, the caller's authenticator; later the
  broker, the Kafka producer, gRPC channels, flags) are *provided* under a typed
  ``Slot`` their owner declares, so core never imports the tiers above it and a reader
  still gets the right type back: ``platform.get(SEARCH_BACKEND)`` is a
  ``SearchBackend``.
- A slot left empty is a choice bootstrap made (lite mode has no search engine):
  ``get`` raises ``SlotNotWiredError`` naming it, ``find`` returns None.
- ``aclose`` releases what the platform owns, newest first: what bootstrap built and
  every adapter provided with a closer. A part a test passed in (``build_platform(...,
  database=shared)``) stays open for its owner.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar, cast

from folio.core.db import Database
from folio.core.objectstore import ObjectStore
from folio.core.ratelimit import RateLimiter
from folio.core.settings import Settings

__all__ = ["Platform", "ReadinessCheck", "Slot", "SlotNotWiredError"]

T = TypeVar("T")

ReadinessCheck = Callable[[], Awaitable[None]]
"""Raises when the dependency it checks is not usable; returns None when it is."""

Closer = Callable[[], Awaitable[None]]


@dataclass(frozen=True, eq=False)
class Slot(Generic[T]):
    """A typed place in the ``Platform`` for an adapter owned by a tier above core.

    Declare one next to the adapter's type (``SEARCH_BACKEND: Slot[SearchBackend] =
    Slot("search backend")``); bootstrap ``provide``s it, adapters ``get`` it. Slots are
    compared by identity, so two with one name are still two places.
    """

    name: str

    def __repr__(self) -> str:
        return f"Slot({self.name!r})"


class SlotNotWiredError(LookupError):
    """``Platform.get`` on a slot bootstrap left empty in this process."""

    def __init__(self, slot: Slot[object]) -> None:
        super().__init__(f"the platform has no {slot.name} (bootstrap did not wire one in this process)")
        self.slot = slot


@dataclass(eq=False)
class Platform:
    """The wired adapters a process uses, and the readiness checks they bring."""

    settings: Settings
    database: Database
    rate_limiter: RateLimiter
    object_store: ObjectStore
    readiness: dict[str, ReadinessCheck] = field(default_factory=dict)
    _provided: dict[Slot[object], object] = field(default_factory=dict, repr=False)
    _closers: list[Closer] = field(default_factory=list, repr=False)

    def own(self, aclose: Closer) -> None:
        """Run ``aclose`` when the platform closes (bootstrap, for each part it built)."""
        self._closers.append(aclose)

    def provide(self, slot: Slot[T], adapter: T, *, aclose: Closer | None = None) -> None:
        """Put ``adapter`` in ``slot``; ``aclose`` (if given) runs when the platform closes.

        Raises ``ValueError`` when the slot is filled already: a process has one of each.
        """
        if slot in self._provided:
            raise ValueError(f"the platform has a {slot.name} already")
        self._provided[cast("Slot[object]", slot)] = adapter
        if aclose is not None:
            self._closers.append(aclose)

    def get(self, slot: Slot[T]) -> T:
        """The adapter in ``slot``; ``SlotNotWiredError`` when bootstrap left it empty."""
        try:
            return cast("T", self._provided[cast("Slot[object]", slot)])
        except KeyError:
            raise SlotNotWiredError(cast("Slot[object]", slot)) from None

    def find(self, slot: Slot[T]) -> T | None:
        """The adapter in ``slot``, or None when bootstrap left it empty."""
        return cast("T | None", self._provided.get(cast("Slot[object]", slot)))

    async def aclose(self) -> None:
        """Release every connection the platform owns, newest first (see the module docstring)."""
        while self._closers:
            await self._closers.pop()()
