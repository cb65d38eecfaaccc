"""The shared ``If-Match`` parsing of versioned resources (tasks, works, listings)."""

from __future__ import annotations

import pytest

from folio.core.errors import ValidationFailedError
from folio.httpkit import expected_version

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("header", "version"), [(None, None), ("*", None), ('"3"', 3), ("3", 3), (' "12" ', 12)]
)
def test_if_match_values(header: str | None, version: int | None) -> None:
    """A strong ETag (or its bare number) names a version; absent or ``*`` names none."""
    assert expected_version(header, entity="task") == version


@pytest.mark.parametrize("header", ['W/"3"', '"3", "4"', "three", '"1234567890"'])
def test_malformed_if_match_is_a_validation_problem(header: str) -> None:
    """Weak, multiple, non-numeric or absurd ETags are refused (the route's pattern refuses them first)."""
    with pytest.raises(ValidationFailedError, match="the listing's ETag"):
        expected_version(header, entity="listing")
