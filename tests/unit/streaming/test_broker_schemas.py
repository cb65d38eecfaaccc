"""The broker's copy of the event schemas: one Tansu registry document per event family's topic."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema_rs
import pytest

from folio.core.settings import Settings
from folio.ops.services.kafka import KafkaService
from folio.streaming.api import (
    FACTS_FAMILY,
    EventSchemas,
    TopicNames,
    broker_schemas,
    write_broker_schemas,
)
from folio.streaming.broker_schemas import main
from tests.unit.streaming.test_schemas import ORDER

pytestmark = pytest.mark.unit

NAMES = TopicNames("folio.")
ORDERS_TOPIC = NAMES.family("orders")

PAID = ORDER  # a paid order's payload, as the schema tests use it


@pytest.fixture(scope="module")
def documents() -> dict[str, dict[str, Any]]:
    """The documents generated from the repository's schemas, topics under ``folio.``."""
    return broker_schemas(EventSchemas.load().documents, NAMES)


def _value_validator(document: dict[str, Any]) -> Any:
    # Tansu compiles the value property on its own, so it must stand alone as a schema.
    return jsonschema_rs.validator_for(document["properties"]["value"])


def test_every_family_gets_its_topic_and_dead_letters_none(documents: dict[str, dict[str, Any]]) -> None:
    """One document per schema folder, named by its topic; the dead-letter and late topics have none."""
    families = {key.topic for key in EventSchemas.load().documents}

    assert set(documents) == {NAMES.family(family) for family in families}
    assert {ORDERS_TOPIC, NAMES.facts} <= set(documents)
    assert NAMES.dead_letters not in documents
    assert NAMES.late not in documents


def test_an_orders_value_that_matches_a_schema_passes_and_a_broken_one_is_refused(
    documents: dict[str, dict[str, Any]],
) -> None:
    """A paid order passes ``folio.orders``; a negative total, a missing id or a non-object do not."""
    validator = _value_validator(documents[ORDERS_TOPIC])

    assert validator.is_valid(PAID)
    assert not validator.is_valid({**PAID, "total_minor": -1})
    assert not validator.is_valid({key: value for key, value in PAID.items() if key != "order_id"})
    assert not validator.is_valid(["not", "an", "object"])


def test_a_value_of_another_family_is_refused(documents: dict[str, dict[str, Any]]) -> None:
    """An order payload is not an order fact: each topic takes only its own family's events."""
    assert not _value_validator(documents[NAMES.facts]).is_valid(PAID)


def test_the_key_is_left_free_because_folio_keys_are_not_json(documents: dict[str, dict[str, Any]]) -> None:
    """Tansu parses a constrained key as JSON; ``<shop>:<aggregate>`` is not, so no document has ``key``."""
    assert all(set(document["properties"]) == {"value"} for document in documents.values())


def test_writing_replaces_the_folder_and_drops_stale_topics(
    tmp_path: Path, documents: dict[str, dict[str, Any]]
) -> None:
    """Files of topics no longer generated go, so the broker stops checking them."""
    (tmp_path / "old-prefix.orders.json").write_text("{}")

    written = write_broker_schemas(tmp_path, documents)

    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(f"{topic}.json" for topic in documents)
    assert written == sorted(tmp_path / f"{topic}.json" for topic in documents)
    assert json.loads((tmp_path / f"{NAMES.facts}.json").read_text()) == documents[NAMES.facts]


def test_the_module_writes_the_files_for_a_prefix(tmp_path: Path) -> None:
    """``python -m folio.streaming.broker_schemas DIR --prefix P`` names each file after P's topics."""
    assert main([str(tmp_path), "--prefix", "shop-test."]) == 0

    assert (tmp_path / f"shop-test.{FACTS_FAMILY}.json").exists()
    assert not (tmp_path / f"{NAMES.facts}.json").exists()


def test_the_registry_is_passed_only_while_the_flag_is_on(settings: Settings, tmp_path: Path) -> None:
    """``services.kafka.validate_schemas`` off: no ``--schema-registry``, and prepare writes no schema."""
    services = settings.services.model_copy(update={"data_dir": tmp_path})
    on = settings.model_copy(update={"services": services})
    kafka_off = services.kafka.model_copy(update={"validate_schemas": False, "storage": "memory"})
    off = settings.model_copy(update={"services": services.model_copy(update={"kafka": kafka_off})})

    (spec_on,) = KafkaService(on).processes()
    (spec_off,) = KafkaService(off).processes()
    assert spec_on.argv[spec_on.argv.index("--schema-registry") + 1] == "file://./schemas"
    assert spec_on.cwd == tmp_path / "kafka"
    assert "--schema-registry" not in spec_off.argv
    assert spec_off.prepare is not None
    spec_off.prepare()
    assert not (tmp_path / "kafka" / "schemas").exists()
