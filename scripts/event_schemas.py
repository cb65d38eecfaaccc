"""Check the event schemas against the published versions, or publish the new ones.

``--check`` (``make lint``) fails, naming each problem, when a schema file is not a
valid JSON Schema, or when a version recorded in ``schemas/events/published.json``
lost, retyped or made required a field, gained a required one, or was deleted
(``folio.streaming.compatibility``). ``--publish`` records every version not yet
recorded (a published version keeps its record: it can only grow optional fields,
which ``--check`` accepts); run it when a new event type or version ships.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from folio.streaming.api import DEFAULT_SCHEMAS_DIR, breaking_changes, published_record, read_schema_files

PUBLISHED = "published.json"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the check or the publication; 0 when everything is compatible."""
    parser = argparse.ArgumentParser(description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument(
        "--check", action="store_true", help="Fail on a breaking change to a published version."
    )
    action.add_argument("--publish", action="store_true", help="Record the versions not yet published.")
    parser.add_argument("--root", type=Path, default=DEFAULT_SCHEMAS_DIR, help="The schemas folder.")
    args = parser.parse_args(argv)
    record_file: Path = args.root / PUBLISHED
    try:
        current = {key.name: document for key, document in read_schema_files(args.root)}
    except ValueError as exc:
        sys.stderr.write(f"event schemas: {exc}\n")
        return 1
    published = json.loads(record_file.read_text(encoding="utf-8")) if record_file.exists() else {}
    problems = breaking_changes(published, current)
    for problem in problems:
        sys.stderr.write(f"event schemas: {problem}\n")
    if problems:
        return 1
    if args.publish:
        fresh = {name: current[name] for name in current if name not in published}
        record_file.write_text(
            json.dumps({**published, **published_record(fresh)}, indent=2, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        sys.stdout.write(f"event schemas: {len(fresh)} version(s) published, {len(published)} already were\n")
    else:
        sys.stdout.write(
            f"event schemas: {len(current)} version(s), {len(published)} published, all compatible\n"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
