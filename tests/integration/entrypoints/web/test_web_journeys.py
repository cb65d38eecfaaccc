"""The staff web app in the running gateway: sign-up, sessions, CSRF, roles, shops apart, the board."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable

import pytest
from fastapi import FastAPI

from folio.core.security import Principal, Role
from folio.identity import api as identity
from folio.tasks import api as tasks
from folio.tasks.web import PER_PAGE
from folio.webkit.security import CONTENT_SECURITY_POLICY
from tests.integration.entrypoints.web.conftest import (
    LOCKOUT_THRESHOLD,
    PASSWORD,
    Browser,
    flashes,
    join,
    log_in,
    register_shop,
    reset_link_for,
    unique,
)

pytestmark = pytest.mark.integration

BrowserFactory = Callable[[], Browser]

_TASK_LINK = re.compile(r'href="/app/tasks/([0-9a-f-]{36})/edit"')


async def create_task(browser: Browser, title: str, **fields: str) -> uuid.UUID:
    """Create a task through the form; returns its id (read off the board)."""
    data = {"title": title, "notes": "", "status": "todo", "priority": "normal", "tags": "", **fields}
    response = await browser.submit("/app/tasks/new", data)
    assert ("success", f"Created “{title}”.") in flashes(response), flashes(response)
    board = await browser.get("/app/tasks", q=title)
    ids = _TASK_LINK.findall(board.text)
    assert ids, f"{title!r} is not on the board"
    return uuid.UUID(ids[0])


async def test_pages_carry_the_security_headers_through_the_gateway(browser: BrowserFactory) -> None:
    """Through the gateway, web pages keep the CSP and hardening headers and get a request id."""
    response = await browser().get("/app/login")
    assert response.status_code == 200
    assert response.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"
    assert response.headers["cross-origin-opener-policy"] == "same-origin"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"]
    metrics = await browser().get("/metrics")
    assert 'route="/app"' in metrics.text  # web pages are one bounded label, not "unmatched"


async def test_post_without_csrf_token_is_rejected(browser: BrowserFactory) -> None:
    """A form posted without its CSRF token is refused with 400, even by a signed-in member."""
    owner = browser()
    await register_shop(owner)
    response = await owner.client.post("/app/tasks/new", data={"title": "Sneaky"})
    assert response.status_code == 400
    assert "The form expired or was not sent by this site" in response.text
    board = await owner.get("/app/tasks", q="Sneaky")
    assert "Sneaky" not in board.text.split('<ul class="tasks">', 1)[1]


async def test_register_signs_the_owner_in_with_a_fresh_hardened_session(browser: BrowserFactory) -> None:
    """Registering moves the session to a new id and sets the cookie HttpOnly, SameSite=Lax, path /app."""
    visitor = browser()
    await visitor.get("/app/register")
    before = visitor.client.cookies.get("folio_session")
    assert before
    slug, email = unique("fresh"), f"{unique('owner')}@example.com"
    token = await visitor.token("/app/register")
    response = await visitor.client.post(
        "/app/register",
        data={
            "csrf_token": token,
            "shop_name": "Fresh Books",
            "shop_slug": slug,
            "display_name": "Fay",
            "email": email,
            "password": PASSWORD,
        },
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/app/tasks"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie
    assert "Path=/app" in cookie
    after = visitor.client.cookies.get("folio_session")
    assert after
    assert after != before  # no session fixation
    board = await visitor.get("/app/tasks")
    assert ("success", "Welcome to Folio! Fresh Books is open, and you are its owner.") in flashes(board)
    assert "Fresh Books" in board.text


async def test_planted_session_id_is_not_adopted(browser: BrowserFactory) -> None:
    """An id the server never issued is replaced, so an attacker cannot fix a victim's session id."""
    visitor = browser()
    visitor.client.cookies.set("folio_session", "attacker-chosen-id", domain="folio.test", path="/app")
    response = await visitor.client.get("/app/login")
    assert "folio_session=attacker-chosen-id" not in response.headers["set-cookie"]


async def test_logout_ends_the_session_for_good(browser: BrowserFactory) -> None:
    """After logout the board needs a login again, and the old session id no longer works."""
    owner = browser()
    await register_shop(owner)
    old_sid = owner.client.cookies.get("folio_session")
    response = await owner.press("/app/logout")
    assert response.url.path == "/app/login"
    assert ("info", "You have logged out.") in flashes(response)
    board = await owner.get("/app/tasks")
    assert board.url.path == "/app/login"
    thief = browser()
    thief.client.cookies.set("folio_session", old_sid or "", domain="folio.test", path="/app")
    assert (await thief.get("/app/tasks")).url.path == "/app/login"


async def test_login_logout_login(browser: BrowserFactory) -> None:
    """An owner can log out and back in, and lands on the board with a welcome."""
    owner = browser()
    shop = await register_shop(owner)
    await owner.press("/app/logout")
    response = await log_in(owner, shop, shop.owner_email)
    assert response.url.path == "/app/tasks"
    assert ("success", "Welcome back, Olga Owner.") in flashes(response)


async def test_wrong_password_then_lockout_then_reset_from_the_outbox(browser: BrowserFactory) -> None:
    """J2: wrong passwords, a clear lock message, the reset mail in the dev outbox, a new password."""
    owner = browser()
    shop = await register_shop(owner)
    await owner.press("/app/logout")
    response = await log_in(owner, shop, shop.owner_email, "not the password at all")
    assert response.status_code == 401
    assert ("error", "That shop, e-mail and password do not match an account.") in flashes(response)
    for _ in range(LOCKOUT_THRESHOLD):
        response = await log_in(owner, shop, shop.owner_email, "still not the password")
    assert response.status_code == 423
    [(category, message)] = flashes(response)
    assert category == "error"
    assert message.startswith("This account is locked after too many failed logins.")
    # Even the right password is refused while locked.
    assert (await log_in(owner, shop, shop.owner_email)).status_code == 423
    link = await reset_link_for(owner, shop.owner_email)
    new_password = "a brand new passphrase 7"
    response = await owner.submit(link, {"password": new_password, "confirm": new_password})
    assert ("success", "Your password is set. Log in with it now.") in flashes(response)
    response = await log_in(owner, shop, shop.owner_email, new_password)
    assert response.url.path == "/app/tasks"
    # The link was single-use.
    response = await owner.submit(link, {"password": new_password, "confirm": new_password})
    assert response.url.path == "/app/reset"
    assert flashes(response)[0][0] == "error"


async def test_reset_form_shows_the_password_policy(browser: BrowserFactory) -> None:
    """A too-short new password is refused under the field, with the policy's reason."""
    owner = browser()
    shop = await register_shop(owner)
    await owner.press("/app/logout")
    await owner.submit("/app/reset", {"email": shop.owner_email})
    link = await reset_link_for(owner, shop.owner_email)
    response = await owner.submit(link, {"password": "short", "confirm": "short"})
    assert response.url.path == link
    assert 'class="errors"' in response.text


async def test_register_refuses_a_taken_slug(browser: BrowserFactory) -> None:
    """A second shop with the same address gets a clear message, not an error page."""
    first = browser()
    shop = await register_shop(first)
    second = browser()
    response = await second.submit(
        "/app/register",
        {
            "shop_name": "Copy Books",
            "shop_slug": shop.slug,
            "display_name": "Cy",
            "email": f"{unique('cy')}@example.com",
            "password": PASSWORD,
        },
    )
    assert response.status_code in {409, 422}
    assert "already exists" in response.text or "taken" in response.text


async def test_customers_have_no_access_to_the_board(browser: BrowserFactory) -> None:
    """J3: a customer, invited by mail, logs in but gets the 403 page on the staff board and members page."""
    owner, customer = browser(), browser()
    shop = await register_shop(owner)
    await join(owner, customer, shop, role="customer", name="Cora Customer")
    landing = await customer.get("/app/")
    assert landing.url.path == "/app/welcome"
    response = await customer.get("/app/tasks")
    assert response.status_code == 403
    assert "Customers have no access to the staff board." in response.text
    assert (await customer.get("/app/tasks/new")).status_code == 403
    assert (await customer.get("/app/members")).status_code == 403


async def test_staff_use_the_board_but_not_the_members_page(browser: BrowserFactory) -> None:
    """Staff run the board; only owners and admins manage members."""
    owner, staff, admin = browser(), browser(), browser()
    shop = await register_shop(owner)
    await join(owner, staff, shop, role="staff", name="Sam Staff")
    await join(owner, admin, shop, role="admin", name="Ada Admin")
    assert (await staff.get("/app/tasks")).status_code == 200
    assert (await staff.get("/app/members")).status_code == 403
    members = await admin.get("/app/members")
    assert members.status_code == 200
    assert "Sam Staff" in members.text
    assert "Members</a>" not in (await staff.get("/app/tasks")).text


async def test_role_change_applies_on_the_next_click(browser: BrowserFactory) -> None:
    """A member demoted to customer loses the board at once; a removed member is signed out."""
    owner, staff = browser(), browser()
    shop = await register_shop(owner)
    email = await join(owner, staff, shop, role="staff", name="Sam Staff")
    page = await owner.get("/app/members")
    user_id = re.search(rf"{re.escape(email)}.*?/app/members/([0-9a-f-]{{36}})/role", page.text, re.S)
    assert user_id is not None
    member = uuid.UUID(user_id.group(1))
    response = await owner.submit(
        "/app/members", {f"m-{member.hex}-role": "customer"}, action=f"/app/members/{member}/role"
    )
    assert ("success", "Sam Staff is now customer.") in flashes(response)
    assert (await staff.get("/app/tasks")).status_code == 403
    response = await owner.press(f"/app/members/{member}/remove")
    assert ("success", "The member was removed from the shop.") in flashes(response)
    response = await staff.get("/app/tasks")
    assert response.url.path == "/app/login"
    assert any("no longer a member" in text for _, text in flashes(response))


async def test_admin_cannot_demote_the_owner(browser: BrowserFactory) -> None:
    """The identity service's refusal shows as a flash message on the members page."""
    owner, admin = browser(), browser()
    shop = await register_shop(owner)
    await join(owner, admin, shop, role="admin", name="Ada Admin")
    page = await admin.get("/app/members")
    owner_id = re.search(
        rf"{re.escape(shop.owner_email)}.*?/app/members/([0-9a-f-]{{36}})/role", page.text, re.S
    )
    assert owner_id is not None
    member = uuid.UUID(owner_id.group(1))
    response = await admin.submit(
        "/app/members", {f"m-{member.hex}-role": "staff"}, action=f"/app/members/{member}/role"
    )
    assert response.url.path == "/app/members"
    assert flashes(response)[0][0] == "error"


async def test_a_second_shop_cannot_reach_the_first(browser: BrowserFactory) -> None:
    """J4: Töölö's owner gets 404 for Kallio's task (view, edit, complete, delete), which stays intact."""
    kallio, toolo = browser(), browser()
    await register_shop(kallio, name="Kallio Books")
    await register_shop(toolo, name="Töölö Books")
    task_id = await create_task(kallio, "Kallio secret inventory")
    assert (await toolo.get(f"/app/tasks/{task_id}/edit")).status_code == 404
    assert (await toolo.get(f"/app/tasks/{task_id}/delete")).status_code == 404
    assert (await toolo.press(f"/app/tasks/{task_id}/complete")).status_code == 404
    assert (await toolo.press(f"/app/tasks/{task_id}/delete")).status_code == 404
    assert "Kallio secret inventory" not in (await toolo.get("/app/tasks")).text
    edit = await kallio.get(f"/app/tasks/{task_id}/edit")
    assert edit.status_code == 200
    assert "Kallio secret inventory" in edit.text


async def test_task_lifecycle_with_flash_messages(browser: BrowserFactory) -> None:
    """J3: create, edit, complete and delete a task, each confirmed by a flash message."""
    owner = browser()
    await register_shop(owner)
    task_id = await create_task(owner, "Reorder Moomin paperbacks", tags="orders, Children", priority="high")
    edit_page = f"/app/tasks/{task_id}/edit"
    form = await owner.get(edit_page)
    assert 'value="orders, children"' in form.text
    version = re.search(r'name="version" type="hidden" value="(\d+)"', form.text)
    assert version is not None
    response = await owner.submit(
        edit_page,
        {
            "title": "Reorder Moomin hardbacks",
            "notes": "Winter edition",
            "status": "in_progress",
            "priority": "urgent",
            "tags": "orders",
            "version": version.group(1),
        },
    )
    assert ("success", "Saved “Reorder Moomin hardbacks”.") in flashes(response)
    response = await owner.press(f"/app/tasks/{task_id}/complete", back="/app/tasks?status=done")
    assert response.url.path == "/app/tasks"
    assert response.url.params["status"] == "done"
    assert ("success", "Marked “Reorder Moomin hardbacks” done.") in flashes(response)
    assert "Reorder Moomin hardbacks" in response.text
    confirm = await owner.get(f"/app/tasks/{task_id}/delete")
    assert "This cannot be undone." in confirm.text
    response = await owner.press(f"/app/tasks/{task_id}/delete")
    assert ("success", "Deleted “Reorder Moomin hardbacks”.") in flashes(response)
    assert (await owner.get(edit_page)).status_code == 404


async def test_stale_edit_is_reported_not_overwritten(browser: BrowserFactory) -> None:
    """Saving an edit made on an old version says someone else changed the task."""
    owner = browser()
    await register_shop(owner)
    task_id = await create_task(owner, "Count the stock")
    edit_page = f"/app/tasks/{task_id}/edit"
    await owner.press(f"/app/tasks/{task_id}/complete")
    response = await owner.submit(
        edit_page, {"title": "Count it all", "status": "todo", "priority": "normal", "version": "1"}
    )
    assert response.url.path == edit_page
    assert flashes(response)[0][0] == "warning"
    assert "Someone else changed this task" in flashes(response)[0][1]


async def test_open_redirect_after_login_is_refused(browser: BrowserFactory) -> None:
    """A `next` pointing off-site is ignored: the member lands on the board."""
    owner = browser()
    shop = await register_shop(owner)
    await owner.press("/app/logout")
    token = await owner.token("/app/login")
    response = await owner.client.post(
        "/app/login?next=//evil.example/app/x",
        data={"csrf_token": token, "shop_slug": shop.slug, "email": shop.owner_email, "password": PASSWORD},
    )
    assert response.headers["location"] == "/app/tasks"


async def test_board_filters_sorts_counts_and_pages(browser: BrowserFactory, web_app: FastAPI) -> None:
    """J3: twelve tasks page as 10 + 2 with page links; filters narrow them and the counts follow."""
    owner = browser()
    shop = await register_shop(owner)
    platform = web_app.state.platform
    principal = await _owner_principal(web_app, shop.slug, shop.owner_email)
    for number in range(12):
        await tasks.create_task(
            platform.get(tasks.TASK_UNIT_OF_WORK),
            principal=principal,
            data=tasks.TaskCreate(
                title=f"Shelve batch {number:02d}",
                priority="urgent" if number % 4 == 0 else "normal",
                status="done" if number < 3 else "todo",
                tags=["shelving", "even"] if number % 2 == 0 else ["shelving"],
            ),
        )
    first = await owner.get("/app/tasks", sort="title")
    titles = re.findall(r'class="task-title"[^>]*>([^<]+)<', first.text)
    assert titles == [f"Shelve batch {n:02d}" for n in range(PER_PAGE)]
    assert "Showing 1\u201310 of 12 tasks." in first.text
    assert 'aria-current="page">1<' in first.text
    assert 'href="/app/tasks?sort=title&amp;page=2"' in first.text
    second = await owner.get("/app/tasks", sort="title", page="2")
    assert re.findall(r'class="task-title"[^>]*>([^<]+)<', second.text) == [
        "Shelve batch 10",
        "Shelve batch 11",
    ]
    urgent = await owner.get("/app/tasks", priority="urgent")
    assert "of 3 tasks" in urgent.text
    done_urgent = await owner.get("/app/tasks", priority="urgent", status="done")
    assert "Showing 1\u20131 of 1 task." in done_urgent.text
    assert "Done <b>1</b>" in done_urgent.text
    assert "To do <b>2</b>" in done_urgent.text
    tagged = await owner.get("/app/tasks", tag="even", q="batch 0")
    assert "of 5 tasks" in tagged.text  # 00, 02, 04, 06, 08
    mine = await owner.get("/app/tasks", assignee="me")
    assert "No tasks match." in mine.text


async def _owner_principal(web_app: FastAPI, slug: str, email: str) -> Principal:
    """The owner's principal, as a login would give it (the one member of a fresh shop)."""
    platform = web_app.state.platform
    tenant = await identity.get_tenant_by_slug(platform.database, slug)
    # Any manager-level principal of the shop may list its members; the lookup then
    # resolves the owner's real principal.
    probe = Principal(tenant_id=tenant.id, role=Role.OWNER, user_id=uuid.uuid4(), via="session")
    members = await identity.list_members(platform.database, principal=probe)
    owner = next(member for member in members if member.email == email)
    return await identity.principal_for(platform.database, tenant_id=tenant.id, user_id=owner.user_id)


async def test_owner_unlocks_a_locked_member(browser: BrowserFactory) -> None:
    """A staff member locked by wrong passwords shows as locked; the owner's Unlock lets them in again."""
    owner, staff = browser(), browser()
    shop = await register_shop(owner)
    email = await join(owner, staff, shop, role="staff", name="Sam Staff")
    await staff.press("/app/logout")
    for _ in range(LOCKOUT_THRESHOLD):
        response = await log_in(staff, shop, email, "wrong wrong wrong")
    assert response.status_code == 423
    page = await owner.get("/app/members")
    assert "badge-locked" in page.text
    user_id = re.search(r'action="/app/members/([0-9a-f-]{36})/unlock"', page.text)
    assert user_id is not None
    response = await owner.press(f"/app/members/{user_id.group(1)}/unlock")
    assert ("success", "The account is unlocked; they can log in again.") in flashes(response)
    assert "badge-locked" not in response.text
    assert (await log_in(staff, shop, email)).url.path == "/app/tasks"


async def test_inviting_a_member_twice_is_explained_under_the_field(browser: BrowserFactory) -> None:
    """Adding an address that is already a member is refused with the reason under the e-mail field."""
    owner = browser()
    shop = await register_shop(owner)
    response = await owner.submit(
        "/app/members", {"email": shop.owner_email, "display_name": "Me Again", "role": "staff"}
    )
    assert response.status_code == 409
    assert 'id="email-errors"' in response.text


async def test_admins_may_not_invite_admins(browser: BrowserFactory) -> None:
    """Only an owner is offered the admin role in the invite form; a forged choice is refused."""
    owner, admin = browser(), browser()
    shop = await register_shop(owner)
    assert '<option value="admin">' in (await owner.get("/app/members")).text
    await join(owner, admin, shop, role="admin", name="Ada Admin")
    page = await admin.get("/app/members")
    invite_form = page.text.split("Invite someone", 1)[1]
    assert '<option value="admin">' not in invite_form
    response = await admin.submit(
        "/app/members", {"email": f"{unique('x')}@example.com", "display_name": "X", "role": "admin"}
    )
    assert response.status_code == 422
    assert "Not a valid choice" in response.text


async def test_nonsense_filters_are_ignored_with_a_warning(browser: BrowserFactory) -> None:
    """A hand-edited query string never breaks the board: bad values are dropped and said so."""
    owner = browser()
    await register_shop(owner)
    response = await owner.get("/app/tasks", status="bogus", page="-3", sort="evil")
    assert response.status_code == 200
    assert any(category == "warning" for category, _ in flashes(response))
