"""Print one version's section of a Keep-a-Changelog file: the release notes of a tag.

Usage: ``python scripts/changelog_section.py VERSION [--file CHANGELOG.md]``

``VERSION`` is ``1.2.3``, ``v1.2.3`` (a tag name) or ``Unreleased``. The section is the
text under its ``## [VERSION]`` heading up to the next ``## `` heading, without the
heading itself and without the link definitions that close the file. Exits 1, naming
the versions the file does have, when the version has no section or an empty one, so
a release can never go out with missing notes.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

_HEADING = re.compile(r"^## \[?(?P<version>[^\]\s]+)\]?(?:\s+-\s+.*)?\s*$")
_LINK_DEFINITION = re.compile(r"^\[[^\]]+\]:\s+\S+")


class SectionNotFoundError(LookupError):
    """The changelog has no (or an empty) section for the version asked for."""


def normalise(version: str) -> str:
    """``v1.2.3`` -> ``1.2.3``; ``unreleased`` -> ``Unreleased``; anything else unchanged."""
    version = version.strip()
    if version.lower() == "unreleased":
        return "Unreleased"
    return version[1:] if re.match(r"^v\d", version) else version


def versions(text: str) -> list[str]:
    """The versions that have a section in ``text``, in file order."""
    return [m.group("version") for line in text.splitlines() if (m := _HEADING.match(line))]


def section(text: str, version: str) -> str:
    """The body of ``version``'s section in ``text``, stripped; raises ``SectionNotFoundError``."""
    wanted = normalise(version)
    lines = text.splitlines()
    start = next(
        (i for i, line in enumerate(lines) if (m := _HEADING.match(line)) and m.group("version") == wanted),
        None,
    )
    if start is None:
        known = ", ".join(versions(text)) or "none"
        raise SectionNotFoundError(f"no section for version {wanted} (sections: {known})")
    body: list[str] = []
    for line in lines[start + 1 :]:
        if line.startswith("## "):
            break
        body.append(line)
    while body and (not body[-1].strip() or _LINK_DEFINITION.match(body[-1])):
        body.pop()
    notes = "\n".join(body).strip()
    if not notes:
        raise SectionNotFoundError(f"the section for version {wanted} is empty")
    return notes


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("version", help="1.2.3, v1.2.3 or Unreleased")
    parser.add_argument(
        "--file", type=Path, default=Path("CHANGELOG.md"), help="the changelog (default: %(default)s)"
    )
    args = parser.parse_args(argv)
    try:
        notes = section(args.file.read_text(encoding="utf-8"), args.version)
    except (OSError, SectionNotFoundError) as exc:
        sys.stderr.write(f"{args.file}: {exc}\n")
        return 1
    sys.stdout.write(notes + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
