"""The data migrations `folio tenants migrate` runs: collected from the contexts, uniquely named."""

from __future__ import annotations

import pytest

from folio.bootstrap import data_migrations
from folio.core.data_migrations import DataMigration
from folio.tasks.api import DATA_MIGRATIONS as TASKS_DATA_MIGRATIONS

pytestmark = pytest.mark.unit


def test_collects_every_contexts_migrations_in_order() -> None:
    """The tasks context's migrations are collected, in their declared order."""
    collected = data_migrations()
    assert [m.id for m in collected[: len(TASKS_DATA_MIGRATIONS)]] == [m.id for m in TASKS_DATA_MIGRATIONS]
    assert all(isinstance(m, DataMigration) for m in collected)


def test_ids_are_unique_and_namespaced() -> None:
    """No two migrations share a ledger id, and each id names its context."""
    ids = [m.id for m in data_migrations()]
    assert len(ids) == len(set(ids))
    assert all(m.count(".") >= 1 and m.split(".", 1)[0] for m in ids)
