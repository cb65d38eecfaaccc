"""The gateway keeps its startup objects out of full collections while it serves, and only then."""

from __future__ import annotations

import gc

import pytest

from folio.entrypoints.gateway.app import startup_heap_frozen

pytestmark = pytest.mark.unit


def test_startup_objects_are_frozen_while_serving_and_released_after() -> None:
    """Inside the block the heap built so far is frozen; leaving it unfreezes everything."""
    assert gc.get_freeze_count() == 0
    built_at_startup = [object() for _ in range(1000)]
    with startup_heap_frozen():
        assert gc.get_freeze_count() >= len(built_at_startup)
    assert gc.get_freeze_count() == 0


def test_a_failed_serve_still_unfreezes() -> None:
    """An error while serving leaves nothing frozen behind."""
    with pytest.raises(RuntimeError), startup_heap_frozen():
        raise RuntimeError("serving failed")
    assert gc.get_freeze_count() == 0
