"""The event schemas: one versioned JSON Schema per event type, enforced at both ends of Kafka.

Files live in the repository under ``schemas/events/<topic>/<Type>.v<N>.json`` (the
outbox topic, the event type, the payload's ``schema_version``). The relay refuses to
publish a payload its schema rejects (the event is set aside in the outbox with the
reason), and every consumer stage checks each record again before it handles it (a
record that fails goes to the dead-letter topic). An event with no schema at all is
refused the same way: a type is published only once it is declared.

Published versions only ever grow optional fields: ``folio.streaming.compatibility``
and ``scripts/event_schemas.py --check`` (in ``make lint``) hold every file to the
fields recorded in ``schemas/events/published.json``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema_rs

__all__ = [
    "DEFAULT_SCHEMAS_DIR",
    "EventSchemas",
    "SchemaKey",
    "SchemaViolationError",
]

DEFAULT_SCHEMAS_DIR = Path(__file__).resolve().parents[3] / "schemas" / "events"
"""The repository's ``schemas/events`` (Folio runs from its checkout: ``src`` layout, editable install)."""

_FILE = re.compile(r"^(?P<type>[A-Za-z0-9_.]+)\.v(?P<version>[1-9][0-9]*)\.json$")


class SchemaViolationError(ValueError):
    """A payload its event type's schema rejects, or an event type with no schema; the message says why."""


@dataclass(frozen=True, order=True)
class SchemaKey:
    """Which schema: the event family (outbox topic), the event type, the payload's version."""

    topic: str
    type: str
    version: int

    @property
    def name(self) -> str:
        """``<topic>/<Type>.v<N>``: the file's path under the schemas folder, less ``.json``."""
        return f"{self.topic}/{self.type}.v{self.version}"


class EventSchemas:
    """Every schema of a folder, compiled once; ``check`` validates one payload against its own."""

    def __init__(self, documents: Mapping[SchemaKey, dict[str, Any]]) -> None:
        self.documents = dict(documents)
        self._validators = {key: jsonschema_rs.validator_for(doc) for key, doc in self.documents.items()}

    @classmethod
    def load(cls, root: Path | None = None) -> EventSchemas:
        """The schemas under ``root`` (default: the repository's); ``ValueError`` names a bad file."""
        return cls(dict(read_schema_files(root or DEFAULT_SCHEMAS_DIR)))

    def check(self, topic: str, event_type: str, version: int, payload: object) -> None:
        """Raise ``SchemaViolationError`` unless ``payload`` matches ``<topic>/<event_type>.v<version>``."""
        key = SchemaKey(topic, event_type, version)
        validator = self._validators.get(key)
        if validator is None:
            raise SchemaViolationError(f"no schema {key.name} (declare it under schemas/events)")
        errors = [
            f"{'/'.join(str(part) for part in error.instance_path) or '(payload)'}: {error.message}"
            for error in validator.iter_errors(payload)
        ]
        if errors:
            raise SchemaViolationError(f"{key.name}: " + "; ".join(errors[:5]))


def read_schema_files(root: Path) -> Iterator[tuple[SchemaKey, dict[str, Any]]]:
    """Each ``<topic>/<Type>.v<N>.json`` under ``root`` with its document, in name order.

    Raises ``ValueError`` naming a file whose name does not say its version or whose
    document is not a JSON Schema object.
    """
    for path in sorted(root.glob("*/*.json")):
        match = _FILE.match(path.name)
        if match is None:
            raise ValueError(f"{path}: an event schema is named <Type>.v<N>.json")
        document = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(document, dict) or document.get("type") != "object":
            raise ValueError(f"{path}: an event schema describes a JSON object")
        try:
            jsonschema_rs.meta.validate(document)
        except jsonschema_rs.ValidationError as exc:
            raise ValueError(f"{path}: not a valid JSON Schema ({exc.message})") from exc
        yield SchemaKey(path.parent.name, match["type"], int(match["version"])), document
