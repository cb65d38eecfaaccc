"""Stripe's bracket form encoding read back, checked against the official library's own encoder."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

import pytest
from stripe._encode import _api_encode

from folio.payments.errors import InvalidRequestError
from folio.payments.form_encoding import MAX_DEPTH, MAX_INDEX, decode_form

pytestmark = pytest.mark.unit


def _as_the_library_sends(params: dict[str, Any]) -> list[tuple[str, str]]:
    """The pairs the ``stripe`` library puts on the wire for ``params`` (its encoder, then a form body)."""
    body = urlencode(list(_api_encode(params)))
    return parse_qsl(body, keep_blank_values=True)


def _strings(value: Any) -> Any:
    """``value`` with every leaf as the string the form carries (booleans as the library writes them)."""
    if isinstance(value, dict):
        return {key: _strings(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_strings(item) for item in value]
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


@pytest.mark.parametrize(
    "params",
    [
        {"amount": 1000, "currency": "eur", "confirm": True},
        {"metadata": {"order": "42", "note": ""}, "expand": ["latest_charge", "customer"]},
        {
            "mode": "payment",
            "line_items": [
                {
                    "price_data": {"currency": "eur", "unit_amount": 1250, "product_data": {"name": "Dune"}},
                    "quantity": 2,
                }
                for _ in range(12)
            ],
        },
        {"card": {"number": "4242 4242 4242 4242", "exp_month": 12}, "enabled_events": ["*"]},
    ],
    ids=["flat", "hash-and-list", "twelve-line-items", "nested"],
)
def test_what_the_library_encodes_decodes_to_the_same_parameters(params: dict[str, Any]) -> None:
    """decode_form inverts the library's encoding (lists in index order past 9, empty values kept)."""
    assert decode_form(_as_the_library_sends(params)) == _strings(params)


def test_appending_brackets_build_a_list() -> None:
    """``expand[]=a&expand[]=b`` (Stripe accepts it too) is the list [a, b]."""
    assert decode_form([("expand[]", "a"), ("expand[]", "b")]) == {"expand": ["a", "b"]}


@pytest.mark.parametrize(
    ("pairs", "param"),
    [
        ([("metadata", "x"), ("metadata[k]", "v")], "metadata[k]"),
        ([("metadata[k]", "v"), ("metadata", "x")], "metadata"),
        ([("a]b", "x")], "a]b"),
        ([("a" + "[b]" * MAX_DEPTH, "x")], "a" + "[b]" * MAX_DEPTH),
        ([(f"items[{MAX_INDEX + 1}]", "x")], "items"),
    ],
    ids=["value-then-hash", "hash-then-value", "malformed", "too-deep", "index-too-large"],
)
def test_malformed_bodies_are_invalid_requests_naming_the_key(
    pairs: list[tuple[str, str]], param: str
) -> None:
    """A key used two ways, a broken key, too deep a key or too large an index is refused, named."""
    with pytest.raises(InvalidRequestError) as raised:
        decode_form(pairs)

    assert raised.value.param == param
