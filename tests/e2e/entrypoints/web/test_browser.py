"""J2 and J3 in a real browser: Chromium against a real gateway process, PostgreSQL and Redis."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from tests.e2e.entrypoints.web.conftest import LOCKOUT_THRESHOLD, Gateway

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery staple 42"


@pytest.fixture
def page(chromium: Browser, gateway: Gateway) -> Iterator[Page]:
    """A fresh browser context (own cookies) on the gateway; fails on any CSP violation."""
    context = chromium.new_context(base_url=gateway.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    violations: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            violations.append(message.text)

    page.on("console", on_console)
    yield page
    context.close()
    assert not violations, f"the pages broke their own CSP: {violations}"


def flash(page: Page, text: str) -> None:
    """Expect a flash message containing ``text``."""
    expect(page.locator(".flash", has_text=text)).to_be_visible()


def register(page: Page, *, slug: str, email: str) -> None:
    """Open a shop through the registration form."""
    page.goto("/app/")
    expect(page).to_have_url(re.compile(r"/app/login$"))
    page.get_by_role("link", name="Open a shop").first.click()
    page.get_by_label("Shop name").fill("Kallio Books")
    page.get_by_label("Shop address").fill(slug)
    page.get_by_label("Your name").fill("Kaisa Kallio")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Open the shop").click()
    expect(page).to_have_url(re.compile(r"/app/tasks$"))
    flash(page, "Kallio Books is open, and you are its owner.")


def log_in(page: Page, *, slug: str, email: str, password: str) -> None:
    """Fill and send the login form."""
    page.goto("/app/login")
    page.get_by_label("Shop address").fill(slug)
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def test_owner_runs_the_board(
    page: Page,
    artifacts: Path,
    record_property: Callable[[str, object], None],
    request: pytest.FixtureRequest,
) -> None:
    """J3: register a shop, then create, edit, complete and delete a task, each with its flash message."""
    slug, email = f"kallio-{uuid.uuid4().hex[:8]}", f"kaisa-{uuid.uuid4().hex[:8]}@example.com"
    register(page, slug=slug, email=email)
    expect(page.locator(".topbar")).to_contain_text("Kallio Books")

    page.get_by_role("link", name="New task").click()
    page.get_by_label("Title").fill("Reorder Moomin paperbacks")
    page.get_by_label("Notes").fill("Ask the distributor about the winter edition.")
    page.get_by_label("Priority").select_option("high")
    page.get_by_label("Tags").fill("orders, Children")
    page.get_by_role("button", name="Create").click()
    flash(page, "Created “Reorder Moomin paperbacks”.")
    task = page.locator(".task", has_text="Reorder Moomin paperbacks")
    expect(task).to_contain_text("#children")

    task.get_by_role("link", name="Edit").click()
    page.get_by_label("Title").fill("Reorder Moomin hardbacks")
    page.get_by_label("Status").select_option("in_progress")
    page.get_by_role("button", name="Save").click()
    flash(page, "Saved “Reorder Moomin hardbacks”.")

    page.get_by_role("link", name="New task").click()
    page.get_by_label("Title").fill("Dust the poetry shelf")
    page.get_by_role("button", name="Create").click()
    flash(page, "Created “Dust the poetry shelf”.")

    task = page.locator(".task", has_text="Reorder Moomin hardbacks")
    task.get_by_role("button", name="Done").click()
    flash(page, "Marked “Reorder Moomin hardbacks” done.")
    expect(page.locator(".count.current")).to_contain_text("All")
    expect(page.locator(".counts")).to_contain_text("Done 1")

    page.get_by_label("Status", exact=True).select_option("done")
    page.get_by_role("button", name="Apply").click()
    expect(page.locator(".task")).to_have_count(1)
    page.get_by_role("link", name="Clear").click()
    expect(page.locator(".task")).to_have_count(2)

    screenshot = artifacts / "web-board.png"
    page.screenshot(path=str(screenshot), full_page=True)
    record_property("screenshot", str(screenshot))
    request.node.add_report_section("call", "artifacts", f"board screenshot: {screenshot}")

    page.locator(".task", has_text="Dust the poetry shelf").get_by_role("button", name="Delete").click()
    flash(page, "Deleted “Dust the poetry shelf”.")
    expect(page.locator(".task")).to_have_count(1)

    page.set_viewport_size({"width": 375, "height": 800})
    page.reload()
    fits = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert fits, "the board scrolls sideways at 375px"
    page.screenshot(path=str(artifacts / "web-board-375.png"), full_page=True)


def test_owner_invites_then_gets_locked_out_and_resets(page: Page) -> None:
    """J2: invite staff and a customer, log out, lock the account with wrong passwords, reset by mail."""
    slug, email = f"kallio-{uuid.uuid4().hex[:8]}", f"kaisa-{uuid.uuid4().hex[:8]}@example.com"
    register(page, slug=slug, email=email)

    page.get_by_role("link", name="Members").click()
    for name, role in (("Sami Staff", "staff"), ("Cia Customer", "customer")):
        page.get_by_label("Name").fill(name)
        page.get_by_label("Email").fill(f"{role}-{uuid.uuid4().hex[:8]}@example.com")
        page.get_by_label("Role").last.select_option(role)
        page.get_by_role("button", name="Invite").click()
        flash(page, f"as {role}; an invitation is on its way.")
        expect(page.locator(".member", has_text=name)).to_contain_text(role)

    page.get_by_role("button", name="Log out").click()
    flash(page, "You have logged out.")
    log_in(page, slug=slug, email=email, password=PASSWORD)
    flash(page, "Welcome back, Kaisa Kallio.")
    page.get_by_role("button", name="Log out").click()

    log_in(page, slug=slug, email=email, password="not my password")
    flash(page, "That shop, e-mail and password do not match an account.")
    for _ in range(LOCKOUT_THRESHOLD - 1):
        log_in(page, slug=slug, email=email, password="still not my password")
    flash(page, "This account is locked after too many failed logins.")

    page.goto(f"/app/dev/outbox?to={email}")
    mail = page.locator(".mail", has_text="Your Folio account was locked")
    expect(mail).to_be_visible()
    mail.locator("a[href*='/app/reset/']").first.click()
    new_password = "a brand new passphrase 7"
    page.get_by_label("New password").fill(new_password)
    page.get_by_label("Repeat it").fill(new_password)
    page.get_by_role("button", name="Set the password").click()
    flash(page, "Your password is set. Log in with it now.")

    log_in(page, slug=slug, email=email, password=new_password)
    expect(page).to_have_url(re.compile(r"/app/tasks$"))
    flash(page, "Welcome back, Kaisa Kallio.")
