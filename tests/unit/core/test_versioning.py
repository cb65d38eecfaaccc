"""Optimistic concurrency: a change names the version it read, and a record that moved on refuses it."""

from __future__ import annotations

import pytest

from folio.core.errors import ConflictError
from folio.core.versioning import check_version

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("expected", [(), (None,), (None, None), (3,), (3, 3), (None, 3)])
def test_naming_no_version_or_the_current_one_passes(expected: tuple[int | None, ...]) -> None:
    """No version named, or only the current one, lets the change through."""
    check_version("task", 3, *expected)


@pytest.mark.parametrize("expected", [(2,), (3, 2), (None, 4)])
def test_a_stale_version_is_a_409_naming_the_current_one(expected: tuple[int | None, ...]) -> None:
    """Any version named that is not the current one is a 409 conflict with ``current_version``."""
    with pytest.raises(ConflictError) as caught:
        check_version("listing", 3, *expected)
    assert caught.value.status == 409
    assert caught.value.extra == {"current_version": 3}
    assert str(caught.value).startswith("the listing is at version 3, not ")
