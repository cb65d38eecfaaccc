"""PrioritySlots: urgent takers get a freed slot before normal ones, each in arrival order."""

from __future__ import annotations

import asyncio

import pytest

from folio.messaging.slots import PrioritySlots

pytestmark = pytest.mark.unit


async def _settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_a_freed_slot_goes_to_urgent_waiters_first_then_in_arrival_order() -> None:
    """With one slot held, waiters n1, n2, u1, u2 are served u1, u2, n1, n2."""
    slots = PrioritySlots(1)
    order: list[str] = []
    gate = asyncio.Event()

    async def take(name: str, *, urgent: bool, hold: asyncio.Event | None = None) -> None:
        async with slots.take(urgent=urgent):
            order.append(name)
            if hold is not None:
                await hold.wait()

    first = asyncio.create_task(take("first", urgent=False, hold=gate))
    await _settle()
    waiters = [
        asyncio.create_task(take(name, urgent=name.startswith("u"))) for name in ("n1", "n2", "u1", "u2")
    ]
    await _settle()
    assert (slots.busy, slots.waiting) == (1, 4)
    gate.set()
    await asyncio.gather(first, *waiters)
    assert order == ["first", "u1", "u2", "n1", "n2"]
    assert (slots.busy, slots.waiting) == (0, 0)


async def test_a_cancelled_waiter_gives_up_its_place_and_leaks_no_slot() -> None:
    """Cancelling a waiter removes it; the slot count is whole again afterwards."""
    slots = PrioritySlots(1)
    gate = asyncio.Event()

    async def hold() -> None:
        async with slots.take(urgent=False):
            await gate.wait()

    holder = asyncio.create_task(hold())
    await _settle()
    waiter = asyncio.create_task(hold())
    await _settle()
    waiter.cancel()
    await asyncio.gather(waiter, return_exceptions=True)
    assert slots.waiting == 0
    gate.set()
    await holder
    assert slots.busy == 0
    async with slots.take(urgent=True):
        assert slots.busy == 1


def test_slots_need_at_least_one() -> None:
    """Zero slots would block every message for ever."""
    with pytest.raises(ValueError, match="at least one"):
        PrioritySlots(0)
