"""Sampling for noisy events: keep a fixed fraction of lines per event name."""

from __future__ import annotations

import random
from collections.abc import Mapping, MutableMapping
from typing import Any

import structlog


class EventSampler:
    """A structlog processor that drops a share of the lines of listed events.

    Warnings and errors are never sampled away: sampling exists to thin out routine
    noise (health probes, per-request access lines), not to hide failures. The rates
    mapping is read on every call, so a settings reload takes effect at once.
    """

    def __init__(self, rates: Mapping[str, float], rng: random.Random | None = None) -> None:
        self.rates = rates
        self._rng = rng or random.Random()  # noqa: S311 - thinning out log lines needs no secrecy

    def __call__(
        self, _logger: Any, method: str, event: MutableMapping[str, Any]
    ) -> MutableMapping[str, Any]:
        """Pass ``event`` on, or raise ``DropEvent`` for the share its rate leaves out."""
        rate = self.rates.get(str(event.get("event")))
        if rate is None or method in {"warning", "error", "critical", "exception"}:
            return event
        if self._rng.random() >= rate:
            raise structlog.DropEvent
        if rate < 1.0:
            event["sample_rate"] = rate
        return event
