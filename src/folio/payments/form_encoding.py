"""Stripe's form encoding, read back: ``line_items[0][price_data][currency]=eur`` into nested values.

Stripe's API takes ``application/x-www-form-urlencoded`` bodies (and query strings for
GET and DELETE) whose keys spell a path: a name, then ``[segment]`` per level. The
official library writes lists with indexes (``expand[0]=customer``); ``expand[]=...``
(appending) is accepted too, as Stripe accepts it. A mapping whose keys are all
indexes becomes a list in index order. Values stay strings: the request's schema
coerces them (``"1000"`` to 1000, ``"true"`` to True), as Stripe does. An empty value
means "unset" to Stripe (``metadata[key]=`` removes a key); it is kept as ``""``.

Every way a body can be malformed is an ``InvalidRequestError`` naming the key.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from folio.payments.errors import InvalidRequestError

__all__ = ["MAX_DEPTH", "MAX_INDEX", "MAX_PAIRS", "decode_form"]

MAX_PAIRS = 2_000
"""The most ``key=value`` pairs one request may carry."""

MAX_DEPTH = 6
"""The deepest nesting accepted (``line_items[0][price_data][product_data][metadata][k]`` is 5)."""

MAX_INDEX = 999
"""The largest list index accepted: a list is built from its indexes, so they are bounded."""

_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")

_APPEND = object()
"""The segment ``[]``: add to the list."""


def _segments(key: str) -> list[Any]:
    match = _KEY.match(key)
    if match is None:
        raise InvalidRequestError(f"Invalid parameter name: {key}", code="parameter_unknown", param=key)
    path: list[Any] = [match.group(1)]
    path.extend(_APPEND if segment == "" else segment for segment in _SEGMENT.findall(match.group(2)))
    if len(path) > MAX_DEPTH:
        raise InvalidRequestError(
            f"Parameter {key} is nested more than {MAX_DEPTH} levels deep.",
            code="parameter_invalid",
            param=key,
        )
    return path


def _conflict(key: str) -> InvalidRequestError:
    return InvalidRequestError(
        f"Invalid value for {key}: it is given both as a value and as a hash.",
        code="parameter_invalid",
        param=key,
    )


def _insert(tree: dict[str, Any], path: list[Any], value: str, key: str) -> None:
    node: Any = tree
    for position, segment in enumerate(path):
        last = position == len(path) - 1
        if segment is _APPEND:
            if not isinstance(node, list):
                raise _conflict(key)
            if last:
                node.append(value)
                return
            child: Any = {}
            node.append(child)
            node = child
            continue
        if not isinstance(node, dict):
            raise _conflict(key)
        if last:
            if segment in node:
                existing = node[segment]
                if isinstance(existing, dict | list):
                    raise _conflict(key)
            node[segment] = value
            return
        following = path[position + 1]
        fresh: Any = [] if following is _APPEND else {}
        child = node.setdefault(segment, fresh)
        if isinstance(child, str):
            raise _conflict(key)
        node = child


def _listify(value: Any, key: str) -> Any:
    """Turn every mapping whose keys are all indexes into a list, in index order, depth first."""
    if isinstance(value, list):
        return [_listify(item, key) for item in value]
    if not isinstance(value, dict):
        return value
    items = {name: _listify(item, f"{key}[{name}]" if key else name) for name, item in value.items()}
    if items and all(name.isdecimal() for name in items):
        # Ordered by the number ("10" after "9"); gaps close up, as the library never leaves any.
        ordered = sorted((int(name), name) for name in items)
        if ordered[-1][0] > MAX_INDEX:
            raise InvalidRequestError(
                f"Invalid array index for {key}: at most {MAX_INDEX}.", code="parameter_invalid", param=key
            )
        return [items[name] for _, name in ordered]
    return items


def decode_form(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The nested parameters ``pairs`` spell (Stripe's bracket encoding), values as strings.

    Raises ``InvalidRequestError`` for more than ``MAX_PAIRS`` pairs, a malformed key, a
    key nested deeper than ``MAX_DEPTH``, an index above ``MAX_INDEX``, or a name used
    both as a value and as a hash or list.
    """
    tree: dict[str, Any] = {}
    for count, (key, value) in enumerate(pairs, start=1):
        if count > MAX_PAIRS:
            raise InvalidRequestError(f"A request may carry at most {MAX_PAIRS} parameters.")
        _insert(tree, _segments(key), value, key)
    result: dict[str, Any] = _listify(tree, "")
    return result
