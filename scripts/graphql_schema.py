"""Export the gateway's GraphQL schema (SDL), and check it against the last released one.

``schema/folio.graphql`` is the composed schema as the code defines it, kept in the
repository so a change to it shows in review; ``schema/released.graphql`` is the last
released SDL, which clients may rely on.

- ``--write`` exports the current schema to ``schema/folio.graphql``.
- ``--check`` (``make lint``, CI) fails when that file is stale, or when the current
  schema breaks the released one (graphql-core's ``find_breaking_changes``: a type or
  field removed or retyped, an argument removed or made required, ...). Dangerous but
  compatible changes (a new enum value, an argument default changed) are printed.
- ``--release`` records the current schema as released, once it passes the check.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from graphql import build_schema, find_breaking_changes, find_dangerous_changes

from folio.entrypoints.gateway.graphql import gateway_schema

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schema"
CURRENT = "folio.graphql"
RELEASED = "released.graphql"


def current_sdl() -> str:
    """The composed schema's SDL, as exported."""
    return gateway_schema().schema.as_str() + "\n"


def check(root: Path, sdl: str) -> list[str]:
    """What is wrong with the files under ``root`` for the schema ``sdl``: staleness, breaking changes."""
    problems = []
    exported = root / CURRENT
    if not exported.exists() or exported.read_text(encoding="utf-8") != sdl:
        problems.append(f"{exported} is stale: run `python scripts/graphql_schema.py --write`")
    released = root / RELEASED
    if released.exists():
        old, new = build_schema(released.read_text(encoding="utf-8")), build_schema(sdl)
        problems += [
            f"breaks the released schema: {change.description}" for change in find_breaking_changes(old, new)
        ]
        for change in find_dangerous_changes(old, new):
            sys.stdout.write(f"graphql schema: dangerous (compatible) change: {change.description}\n")
    return problems


def main(argv: Sequence[str] | None = None) -> int:
    """Run the export, the check or the release; 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__)
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--write", action="store_true", help="Export the current schema.")
    action.add_argument(
        "--check", action="store_true", help="Fail when stale or breaking the released schema."
    )
    action.add_argument("--release", action="store_true", help="Record the current schema as released.")
    parser.add_argument("--root", type=Path, default=SCHEMA_DIR, help="The schema folder.")
    args = parser.parse_args(argv)
    sdl = current_sdl()
    if args.write:
        args.root.mkdir(parents=True, exist_ok=True)
        (args.root / CURRENT).write_text(sdl, encoding="utf-8")
        sys.stdout.write(f"graphql schema: wrote {args.root / CURRENT}\n")
        return 0
    problems = check(args.root, sdl)
    for problem in problems:
        sys.stderr.write(f"graphql schema: {problem}\n")
    if problems:
        return 1
    if args.release:
        (args.root / RELEASED).write_text(sdl, encoding="utf-8")
        sys.stdout.write(f"graphql schema: released {args.root / RELEASED}\n")
    else:
        sys.stdout.write("graphql schema: up to date and compatible with the released schema\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
