"""What every settings section declares its fields with: ``setting``, its markers, shared defaults."""

from __future__ import annotations

from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo

RELOADABLE = "reloadable"
INSECURE_DEFAULT = "insecure_default"
LOOPBACK = "127.0.0.1"
"""The interface local servers bind by default, and the host clients reach them on."""


def setting(
    default: Any = ...,
    *,
    description: str,
    reloadable: bool = False,
    insecure_default: bool = False,
    **kwargs: Any,
) -> Any:
    """A settings field with a required description and Folio's two markers.

    ``reloadable`` fields are re-read on SIGHUP or config-file change without a
    restart; ``insecure_default`` fields hold a development default that the
    ``prod`` profile refuses to run with.
    """
    extra: dict[str, Any] = {}
    if reloadable:
        extra[RELOADABLE] = True
    if insecure_default:
        extra[INSECURE_DEFAULT] = True
    return Field(default, description=description, json_schema_extra=extra or None, **kwargs)


def has_marker(info: FieldInfo, marker: str) -> bool:
    """Whether ``info`` was declared with ``marker`` set."""
    extra = info.json_schema_extra
    return isinstance(extra, dict) and bool(extra.get(marker))
