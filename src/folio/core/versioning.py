"""Optimistic concurrency, once: a versioned record changes only at the version the client read.

Versioned records (tasks, works, listings) carry a ``version`` bumped by every change.
A client may name the version its change was made against, in the body (``version``)
or in HTTP's ``If-Match`` (``folio.httpkit.expected_version`` reads the header); every
version named must be the record's current one, else the change is refused with a 409
``conflict`` whose ``current_version`` member says where the record stands.
"""

from __future__ import annotations

from folio.core.errors import ConflictError

__all__ = ["check_version"]


def check_version(entity: str, current: int, *expected: int | None) -> None:
    """Raise ``ConflictError`` (409, member ``current_version``) unless each version given equals ``current``.

    ``expected`` are the versions the client named (None where it named none: the body
    without ``version``, a request without ``If-Match``); naming none always passes.
    ``entity`` names the kind of record in the message (``"task"``).
    """
    for version in expected:
        if version is not None and version != current:
            raise ConflictError(
                f"the {entity} is at version {current}, not {version}: it changed since you read it; "
                "fetch it again and re-apply your change",
                current_version=current,
            )
