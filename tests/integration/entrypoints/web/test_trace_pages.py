"""The trace pages (/app/traces): platform operators only, whatever their role in the shop they are in."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from folio.core.settings import Settings
from tests.integration.entrypoints.web.conftest import Browser, join, register_shop

pytestmark = pytest.mark.integration

BrowserFactory = Callable[[], Browser]
TRACES_LINK = '<a href="/app/traces/">Traces</a>'
UNKNOWN_TRACE = "0" * 32


async def test_an_operator_opens_the_traces_even_as_a_customer(
    browser: BrowserFactory, operator_email: str
) -> None:
    """The shop's owner gets 403 and no link; the operator, a mere customer there, gets the pages."""
    owner, operator, anonymous = browser(), browser(), browser()
    shop = await register_shop(owner)
    await join(owner, operator, shop, role="customer", email=operator_email)

    assert (await owner.get("/app/traces/")).status_code == 403
    assert (await owner.get(f"/app/traces/{UNKNOWN_TRACE}")).status_code == 403
    assert TRACES_LINK not in (await owner.get("/app/members")).text

    search = await operator.get("/app/traces/", range="15m")
    assert search.status_code == 200
    assert TRACES_LINK in search.text
    assert (await operator.get(f"/app/traces/{UNKNOWN_TRACE}")).status_code == 404

    assert (await anonymous.get("/app/traces/")).url.path == "/app/login"


async def test_a_reloaded_operator_list_applies_on_the_next_click(
    browser: BrowserFactory, web_settings: Settings
) -> None:
    """The setting is read per request, as a reload leaves it: a newly listed owner gets in, delisted not."""
    owner = browser()
    shop = await register_shop(owner)
    assert (await owner.get("/app/traces/")).status_code == 403
    listed = web_settings.security.platform_operators
    web_settings.security.platform_operators = [*listed, shop.owner_email]  # what a reload's setattr does
    assert (await owner.get("/app/traces/")).status_code == 200
    web_settings.security.platform_operators = listed
    assert (await owner.get("/app/traces/")).status_code == 403
