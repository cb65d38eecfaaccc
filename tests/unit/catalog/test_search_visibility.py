"""What the search index learns of a work's visibility: only published works reach "All works"."""

from __future__ import annotations

import uuid

import pytest

from folio.search.indexes import PUBLIC_TENANT, work_document
from tests.support.search import generated_work

pytestmark = pytest.mark.unit


def test_a_published_work_is_indexed_for_every_shop() -> None:
    """A published work's document carries the public tenant the "All works" search filters on."""
    work = generated_work("Generated Published Work").model_copy(update={"published": True})
    assert work_document(work)["tenant_id"] == PUBLIC_TENANT


def test_a_shops_private_work_is_indexed_for_that_shop_only() -> None:
    """An unpublished work of a shop is indexed under that shop's id, which no other shop's filter names."""
    shop = uuid.uuid4()
    work = generated_work("Generated Private Work").model_copy(
        update={"published": False, "owner_tenant_id": shop}
    )
    assert work_document(work)["tenant_id"] == str(shop)


def test_an_unowned_unpublished_work_is_indexed_for_nobody() -> None:
    """A work taken back by the curator with no owning shop matches neither public nor any shop."""
    work = generated_work("Generated Unpublished Work").model_copy(update={"published": False})
    tenant = work_document(work)["tenant_id"]
    assert tenant != PUBLIC_TENANT
    with pytest.raises(ValueError, match="badly formed"):
        uuid.UUID(tenant)
