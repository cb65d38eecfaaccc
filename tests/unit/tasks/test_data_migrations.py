"""The tasks data migrations' pure part: how legacy tags are cleaned, and what the context declares."""

from __future__ import annotations

import pytest

from folio.tasks.api import DATA_MIGRATIONS
from folio.tasks.data_migrations import clean_legacy_tags

pytestmark = pytest.mark.unit


def test_the_context_declares_its_migrations() -> None:
    """``DATA_MIGRATIONS`` lists the tag migration under its stable id."""
    assert [migration.id for migration in DATA_MIGRATIONS] == ["tasks.0001_normalise_tags"]


@pytest.mark.parametrize(
    ("legacy", "clean"),
    [
        ([" Orders", "orders", "", "  ", "KIDS"], ["orders", "kids"]),
        (["x" * 50], ["x" * 40]),
        ([f"t{i}" for i in range(25)], [f"t{i}" for i in range(20)]),
        (["ok", 3, None], ["ok"]),
        ("not a list", []),
        (["fine"], ["fine"]),
    ],
)
def test_clean_legacy_tags(legacy: object, clean: list[str]) -> None:
    """Legacy tags are trimmed, lower-cased, de-duplicated, cut to today's limits; junk is dropped."""
    assert clean_legacy_tags(legacy) == clean
