"""Customers, errors and keys through the official ``stripe`` library against a real gateway."""

from __future__ import annotations

import pytest
import stripe

from folio.payments import api as payments
from tests.integration.payments.conftest import Gateway, Shop, new_shop

pytestmark = pytest.mark.integration


def test_a_customer_is_created_retrieved_updated_listed_and_deleted(shop: Shop) -> None:
    """The customer lifecycle reads back as Stripe's: metadata merges, deletion leaves a stub."""
    client = shop.client
    created = client.v1.customers.create(
        params={"email": "ada@example.com", "name": "Ada", "metadata": {"tier": "gold", "since": "2024"}}
    )
    assert created.id.startswith("cus_")
    assert created.object == "customer"
    assert created.livemode is False

    updated = client.v1.customers.update(created.id, params={"name": "Ada L.", "metadata": {"since": ""}})
    assert updated.name == "Ada L."
    assert updated.metadata is not None
    assert updated.metadata.to_dict() == {"tier": "gold"}
    assert client.v1.customers.retrieve(created.id).email == "ada@example.com"
    assert [c.id for c in client.v1.customers.list(params={"email": "ada@example.com"}).data] == [created.id]

    deleted = client.v1.customers.delete(created.id)
    assert deleted.deleted is True
    assert client.v1.customers.retrieve(created.id).to_dict() == {
        "id": created.id,
        "object": "customer",
        "deleted": True,
    }
    assert client.v1.customers.list().data == []


def test_the_global_api_base_style_works_too(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    """``stripe.api_key`` and ``stripe.api_base`` pointed at Folio serve the resource-class style."""
    monkeypatch.setattr(stripe, "api_key", shop.key)
    monkeypatch.setattr(stripe, "api_base", shop.api_base)
    monkeypatch.setattr(stripe, "default_http_client", shop.http)
    monkeypatch.setattr(stripe, "max_network_retries", 0)

    customer = stripe.Customer.create(email="grace@example.com")

    assert stripe.Customer.retrieve(customer.id).email == "grace@example.com"


def test_an_unknown_id_is_stripes_404(shop: Shop) -> None:
    """A missing object raises InvalidRequestError with code resource_missing and the param."""
    with pytest.raises(stripe.InvalidRequestError) as raised:
        shop.client.v1.customers.retrieve("cus_nope")

    assert raised.value.http_status == 404
    assert raised.value.code == "resource_missing"
    assert raised.value.param == "id"
    assert raised.value.json_body == {
        "error": {
            "type": "invalid_request_error",
            "code": "resource_missing",
            "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
            "message": "No such customer: 'cus_nope'",
            "param": "id",
        }
    }


def test_another_shops_object_is_not_found(shop: Shop, gateway: Gateway) -> None:
    """A customer of one shop is a 404 to another shop's key (ids name their shop)."""
    customer = shop.client.v1.customers.create(params={"email": "mine@example.com"})
    other = new_shop(gateway, shop.http)

    with pytest.raises(stripe.InvalidRequestError) as raised:
        other.client.v1.customers.retrieve(customer.id)

    assert raised.value.http_status == 404


@pytest.mark.parametrize(
    ("params", "code", "param", "message"),
    [
        ({"amount": 1000}, "parameter_missing", "currency", "Missing required param: currency."),
        ({"amount": "ten", "currency": "eur"}, "parameter_invalid_integer", "amount", "Invalid integer: ten"),
        ({"amount": 1000, "currency": "eur", "colour": "red"}, "parameter_unknown", "colour", None),
        ({"amount": 10, "currency": "eur"}, "amount_too_small", "amount", None),
    ],
)
def test_bad_parameters_are_stripes_400(
    shop: Shop, params: dict[str, object], code: str, param: str, message: str | None
) -> None:
    """Each kind of bad parameter gets Stripe's code and names the parameter."""
    with pytest.raises(stripe.InvalidRequestError) as raised:
        shop.client.v1.payment_intents.create(params=params)  # type: ignore[arg-type]  # deliberately wrong

    assert raised.value.http_status == 400
    assert (raised.value.code, raised.value.param) == (code, param)
    if message is not None:
        assert raised.value.user_message == message


def test_a_nested_bad_parameter_is_named_in_brackets(shop: Shop) -> None:
    """An error deep in a line item names it the way the form encoded it."""
    with pytest.raises(stripe.InvalidRequestError) as raised:
        shop.client.v1.checkout.sessions.create(
            params={
                "mode": "payment",
                "success_url": "https://shop.example/ok",
                "line_items": [
                    {"price_data": {"currency": "eur", "product_data": {"name": "Dune"}}, "quantity": 1}
                ],
            }
        )

    assert raised.value.param == "line_items[0][price_data][unit_amount]"


def test_keys_are_checked(shop: Shop, gateway: Gateway) -> None:
    """A wrong, malformed or revoked key is a 401 AuthenticationError; a live one works."""
    wrong = shop.key[:-4] + ("AAAA" if not shop.key.endswith("AAAA") else "BBBB")
    for key in (wrong, "sk_test_short", "sk_live_whatever"):
        client = stripe.StripeClient(key, base_addresses={"api": shop.api_base}, http_client=shop.http)
        with pytest.raises(stripe.AuthenticationError):
            client.v1.customers.list()

    keys = gateway.run(payments.list_secret_keys(gateway.database, tenant_id=shop.tenant_id))
    gateway.run(
        payments.revoke_secret_key(
            gateway.database, tenant_id=shop.tenant_id, key_id=keys[0].id, actor_kind="system", actor_id=None
        )
    )
    with pytest.raises(stripe.AuthenticationError):
        shop.client.v1.customers.list()


def test_an_unrecognised_path_is_stripes_404(shop: Shop) -> None:
    """A path Folio does not serve answers Stripe's envelope, not a problem document."""
    with pytest.raises(stripe.InvalidRequestError) as raised:
        shop.client.raw_request("get", "/v1/invoices")

    assert raised.value.http_status == 404
    assert "Unrecognized request URL (GET: /v1/invoices)" in str(raised.value.user_message)
