"""The event schemas: every published type has one, payloads are checked, breaking changes are refused."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from folio.catalog.outbox import EVENT_TYPES as CATALOG_TYPES
from folio.identity.api import EVENT_TYPES as IDENTITY_TYPES
from folio.orders.api import CART_ITEM_ADDED, CARTS_TOPIC
from folio.orders.api import EVENT_TYPES as ORDER_TYPES
from folio.payments.api import EVENT_TYPES as PAYMENT_TYPES
from folio.streaming.api import (
    DEFAULT_SCHEMAS_DIR,
    EventSchemas,
    SchemaViolationError,
    breaking_changes,
    fields_of,
    published_record,
)
from folio.tasks.api import EVENT_TYPES as TASK_TYPES
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.unit

ORDER = {
    "order_id": str(uuid.uuid4()),
    "status": "paid",
    "customer_id": None,
    "currency": "eur",
    "total_minor": 2500,
    "refunded_minor": 0,
    "lines": [{"listing_id": str(uuid.uuid4()), "work_id": str(uuid.uuid4()), "quantity": 2}],
    "version": 2,
}

SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "lines": {
            "type": "array",
            "items": {"type": "object", "properties": {"qty": {"type": "integer"}}, "required": ["qty"]},
        },
        "note": {"type": "string"},
    },
    "required": ["id", "lines"],
}


def test_every_event_type_the_contexts_publish_has_a_schema() -> None:
    """orders, carts, payments, catalog, identity and tasks types each have a v1 schema in schemas/events."""
    keys = {(key.topic, key.type) for key in EventSchemas.load().documents}
    expected = (
        {("orders", kind) for kind in ORDER_TYPES.values()}
        | {(CARTS_TOPIC, CART_ITEM_ADDED)}
        | {("payments", kind) for kind in PAYMENT_TYPES}
        | {("catalog", kind) for kind in CATALOG_TYPES.values()}
        | {("identity", kind) for kind in IDENTITY_TYPES}
        | {("tasks", kind) for kind in TASK_TYPES.values()}
    )
    assert expected - keys == set()


def test_a_payload_that_matches_passes_and_one_that_does_not_is_refused_with_the_reason() -> None:
    """A good OrderPaid passes; a retyped field and an unknown type are refused, naming the cause."""
    schemas = EventSchemas.load()
    schemas.check("orders", "OrderPaid", 1, ORDER)
    with pytest.raises(SchemaViolationError, match=r"orders/OrderPaid.v1: total_minor: .*integer"):
        schemas.check("orders", "OrderPaid", 1, {**ORDER, "total_minor": "25.00"})
    with pytest.raises(SchemaViolationError, match=r"no schema orders/OrderPaid\.v9"):
        schemas.check("orders", "OrderPaid", 9, ORDER)


def test_fields_are_paths_with_types_and_requiredness() -> None:
    """Nested array items become ``lines[].qty``; an optional field is not required."""
    assert fields_of(SCHEMA) == {
        "id": {"type": ["string"], "required": True},
        "lines": {"type": ["array"], "required": True},
        "lines[].qty": {"type": ["integer"], "required": True},
        "note": {"type": ["string"], "required": False},
    }


def test_adding_an_optional_field_to_a_published_version_is_compatible() -> None:
    """A new optional property breaks nothing."""
    grown = copy.deepcopy(SCHEMA)
    grown["properties"]["gift"] = {"type": "boolean"}
    assert breaking_changes(published_record({"t/A.v1": SCHEMA}), {"t/A.v1": grown}) == []


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda s: s["properties"].pop("note"), "field note was removed"),
        (
            lambda s: s["properties"]["lines"]["items"]["properties"].update(qty={"type": "string"}),
            "lines[].qty was retyped",
        ),
        (lambda s: s["required"].append("note"), "field note became required"),
        (
            lambda s: (s["properties"].update(x={"type": "string"}), s["required"].append("x")),
            "new field x is required",
        ),
    ],
)
def test_a_breaking_change_to_a_published_version_is_refused(change: Any, problem: str) -> None:
    """Removing, retyping, making required, or adding a required field is named as a problem."""
    changed = copy.deepcopy(SCHEMA)
    change(changed)
    problems = breaking_changes(published_record({"t/A.v1": SCHEMA}), {"t/A.v1": changed})
    assert len(problems) == 1
    assert problem in problems[0]


def test_deleting_a_published_version_is_refused() -> None:
    """A published version's file must stay."""
    assert breaking_changes(published_record({"t/A.v1": SCHEMA}), {}) == [
        "t/A.v1: a published version was deleted (keep it; add a new version)"
    ]


def test_the_check_script_passes_on_the_repository_and_fails_on_a_breaking_edit(tmp_path: Path) -> None:
    """``scripts/event_schemas.py --check`` exits 0 on the repo's schemas, 1 naming a removed field."""
    script = str(REPO_ROOT / "scripts" / "event_schemas.py")
    ok = subprocess.run([sys.executable, script, "--check"], capture_output=True, text=True, check=False)
    assert ok.returncode == 0, ok.stderr
    root = tmp_path / "events"
    (root / "t").mkdir(parents=True)
    (root / "t" / "A.v1.json").write_text(json.dumps(SCHEMA))
    published = subprocess.run(
        [sys.executable, script, "--publish", "--root", str(root)], capture_output=True, check=False
    )
    assert published.returncode == 0
    broken = copy.deepcopy(SCHEMA)
    del broken["properties"]["id"]
    broken["required"].remove("id")
    (root / "t" / "A.v1.json").write_text(json.dumps(broken))
    failed = subprocess.run(
        [sys.executable, script, "--check", "--root", str(root)], capture_output=True, text=True, check=False
    )
    assert failed.returncode == 1
    assert "t/A.v1: field id was removed" in failed.stderr
    assert DEFAULT_SCHEMAS_DIR == REPO_ROOT / "schemas" / "events"
