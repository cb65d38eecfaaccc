"""How a command's help ends: its examples, in the one layout every ``folio`` command uses."""

from __future__ import annotations

__all__ = ["examples"]


def examples(*command_lines: str) -> str:
    r"""A click ``epilog`` listing ``command_lines`` under "Examples:", one per line, indented.

    The leading ``\b`` tells click to keep the lines as written instead of rewrapping
    them into one paragraph.
    """
    if not command_lines:
        raise ValueError("a command's examples need at least one command line")
    return "\b\nExamples:\n" + "\n".join(f"  {line}" for line in command_lines)
