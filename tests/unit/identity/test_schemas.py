"""Identity's DTOs: normalised addresses and slugs, role restrictions."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from folio.core.security import Role
from folio.identity.api import ApiKeyCreate, Login, MemberAdd, RegisterShop

pytestmark = pytest.mark.unit


def _register(**changes: str) -> RegisterShop:
    data = {
        "shop_name": "Lighthouse Books",
        "shop_slug": "lighthouse-books",
        "email": "ada@example.com",
        "display_name": "Ada",
        "password": "Tidy-Shelves-42",
        **changes,
    }
    return RegisterShop.model_validate(data)


def test_addresses_and_slugs_are_normalised() -> None:
    """Spaces go, case folds."""
    data = _register(email="  Ada@Example.COM ", shop_slug=" Lighthouse-Books ")
    assert (data.email, data.shop_slug) == ("ada@example.com", "lighthouse-books")


@pytest.mark.parametrize("slug", ["ab", "-books", "books-", "book shop", "bücher", "a" * 64, "books_1"])
def test_bad_slugs_are_refused(slug: str) -> None:
    """Slugs are 3..63 of a-z, 0-9 and inner hyphens."""
    with pytest.raises(ValidationError):
        _register(shop_slug=slug)


@pytest.mark.parametrize(
    "email", ["ada", "ada@", "@example.com", "ada@example", "a da@example.com", "a@b@c.com"]
)
def test_bad_addresses_are_refused(email: str) -> None:
    """An address needs one @, no spaces and a dotted domain."""
    with pytest.raises(ValidationError):
        _register(email=email)


def test_login_addresses_are_normalised_not_checked() -> None:
    """A login takes any address (a typo is just a failed login), normalised."""
    assert Login(shop_slug="x", email=" ADA ", password="p").email == "ada"


@pytest.mark.parametrize("model", [MemberAdd, ApiKeyCreate])
def test_owner_cannot_be_given_on_creation(model: type[MemberAdd] | type[ApiKeyCreate]) -> None:
    """Members and keys are created with admin, staff or customer, never owner."""
    fields = {"email": "ada@example.com", "display_name": "Ada", "name": "key"}
    with pytest.raises(ValidationError):
        model.model_validate({**fields, "role": "owner"})
    assert model.model_validate({**fields, "role": "staff"}).role is Role.STAFF
