"""The live dashboard page (/app/live) inside the whole gateway: staff only, its policy, its stream token."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest

from folio.core.security import Role
from folio.core.settings import Settings
from folio.identity.api import verify_access_token
from folio.live.web import LIVE_PAGE_POLICY
from tests.integration.entrypoints.web.conftest import Browser, join, register_shop

pytestmark = pytest.mark.integration

BrowserFactory = Callable[[], Browser]


async def test_the_owner_gets_the_page_and_a_token_of_their_shop(
    browser: BrowserFactory, web_settings: Settings
) -> None:
    """The page loads its own script under a policy that adds only script-src and connect-src 'self'."""
    owner = browser()
    await register_shop(owner)
    page = await owner.get("/app/live/")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == LIVE_PAGE_POLICY
    assert "script-src 'self'; connect-src 'self'" in LIVE_PAGE_POLICY
    assert re.findall(r"<script[^>]*>", page.text) == ['<script src="/app/live/static/live.js" defer>']
    assert " style=" not in page.text
    assert (await owner.get("/app/live/static/live.js")).status_code == 200
    issued = await owner.get("/app/live/token")
    assert issued.headers["cache-control"] == "no-store"
    principal = verify_access_token(web_settings, issued.json()["access_token"])
    assert principal.role is Role.OWNER
    assert (await owner.get("/app/tasks")).text.count('href="/app/live/"') == 1  # the nav link


async def test_customers_are_refused_and_visitors_sent_to_log_in(browser: BrowserFactory) -> None:
    """A customer gets the 403 page and no token; a visitor is sent to the login page."""
    owner, customer = browser(), browser()
    shop = await register_shop(owner)
    await join(owner, customer, shop, role="customer")
    assert (await customer.get("/app/live/")).status_code == 403
    assert (await customer.get("/app/live/token")).status_code == 403
    visitor = await browser().get("/app/live/token")
    assert visitor.url.path == "/app/login"
