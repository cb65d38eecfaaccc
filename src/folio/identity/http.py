"""Identity's HTTP adapter: sign-up, tokens, password resets, the caller, members and API keys.

Two routers, both mounted under ``/api/v1`` by the gateway:

- ``auth_router`` (``/auth/...``): the endpoints a caller uses *before* it has a
  credential. They are not under the per-credential API rate limits (there is no
  credential to count); logins are throttled per IP and per account by
  ``authenticate_password`` instead.
- ``account_router`` (``/me``, ``/members``, ``/api-keys``): authenticated with
  ``CurrentPrincipal``, like every other API route.

``router`` includes both. Handlers only translate: every rule (roles, owner rules,
quotas, tenancy) is the service's, and every error a ``FolioError`` the gateway turns
into a problem. Another shop's member or key is a 404, never a 403.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status
from fastapi.routing import APIRoute

from folio.core.errors import AuthenticationRequiredError, RateLimitedError
from folio.httpkit import (
    CurrentPrincipal,
    DatabaseDep,
    RateLimiterDep,
    SettingsDep,
    client_ip,
    platform_of,
    problem_responses,
)
from folio.identity.api_keys import create_api_key, list_api_keys, revoke_api_key
from folio.identity.authentication import API_KEYS, CHALLENGE
from folio.identity.login import authenticate_password
from folio.identity.me import Me, get_me
from folio.identity.members import add_member, list_members, remove_member, unlock_member, update_member_role
from folio.identity.resets import request_password_reset, reset_password
from folio.identity.schemas import (
    ApiKeyCreate,
    ApiKeyIssued,
    ApiKeyRead,
    Login,
    MemberAdd,
    MemberRead,
    MemberUpdate,
    PasswordResetConfirm,
    PasswordResetRequest,
    RefreshRequest,
    RegisterShop,
    Registration,
    TokenPair,
)
from folio.identity.service import register_shop
from folio.identity.tokens import issue_token_pair, refresh_token_pair, revoke_refresh_family

__all__ = ["ChallengingRoute", "account_router", "auth_router", "router"]


class ChallengingRoute(APIRoute):
    """A route whose 401 problems always carry ``WWW-Authenticate: Bearer``.

    RFC 9110 requires a challenge on every 401; the services raise
    ``InvalidCredentialsError`` without one (they know nothing of HTTP), so the adapter
    adds it for failed logins, refreshes and resets.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """The route's handler, adding the challenge to authentication errors on their way out."""
        handler = super().get_route_handler()

        async def challenged(request: Request) -> Response:
            try:
                return await handler(request)
            except AuthenticationRequiredError as exc:
                for name, value in CHALLENGE.items():
                    exc.headers.setdefault(name, value)
                raise

        return challenged


auth_router = APIRouter(prefix="/auth", tags=["auth"], route_class=ChallengingRoute)
account_router = APIRouter(route_class=ChallengingRoute)
router = APIRouter()

UserId = Annotated[uuid.UUID, Path(description="The member's user id.")]
KeyId = Annotated[uuid.UUID, Path(description="The API key's id.")]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
"""Token responses must not be cached anywhere (RFC 6749 section 5.1)."""


def _no_store(response: Response) -> None:
    response.headers.update(_NO_STORE)


# --- /auth: before the caller has a credential ------------------------------------------------


async def throttle_anonymous(request: Request, limiter: RateLimiterDep, settings: SettingsDep) -> None:
    """Count the request against ``identity.anonymous_rate_per_ip``; 429 past it.

    Registering hashes a password and asking for a reset sends a mail: without a
    limit, one client could make the server do either without end.
    """
    decision = await limiter.hit(settings.identity.anonymous_rate_per_ip, "anonymous-ip", client_ip(request))
    if not decision.allowed:
        raise RateLimitedError(
            "too many requests from this address; wait before trying again",
            retry_after_s=max(decision.reset_after_s, 1),
            headers=decision.headers(),
        )


AnonymousThrottle = Depends(throttle_anonymous)


@auth_router.post(
    "/register",
    summary="Register a shop and its owner",
    status_code=status.HTTP_201_CREATED,
    response_model=Registration,
    responses=problem_responses(409, 422, 429),
    dependencies=[AnonymousThrottle],
)
async def register(data: RegisterShop, db: DatabaseDep, settings: SettingsDep) -> Registration:
    """Create a new shop with the person registering as its owner.

    The password must meet the password policy (422 lists every reason); a taken slug
    or e-mail address is a 409 whose `errors` name the field. Log in afterwards with
    `POST /api/v1/auth/token`.
    """
    return await register_shop(db, settings=settings, data=data)


@auth_router.post(
    "/token",
    summary="Log in: exchange a password for tokens",
    response_model=TokenPair,
    responses=problem_responses(401, 422, 423, 429),
)
async def issue_tokens(
    *,
    data: Login,
    request: Request,
    response: Response,
    db: DatabaseDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> TokenPair:
    """A member's e-mail and password for one shop give an access token and a refresh token.

    Wrong shop, unknown address and wrong password are one and the same 401. Attempts
    are throttled per client IP and per account (429 with `Retry-After`); repeated
    failures lock the account for a while (423 with `Retry-After`) and mail a reset link.
    """
    principal = await authenticate_password(
        db,
        settings=settings,
        limiter=limiter,
        shop_slug=data.shop_slug,
        email=data.email,
        password=data.password,
        client_ip=client_ip(request),
        via="token",
    )
    _no_store(response)
    return await issue_token_pair(db, settings=settings, principal=principal)


@auth_router.post(
    "/refresh",
    summary="Renew tokens with a refresh token",
    response_model=TokenPair,
    responses=problem_responses(401, 422),
)
async def refresh_tokens(
    data: RefreshRequest, response: Response, db: DatabaseDep, settings: SettingsDep
) -> TokenPair:
    """Exchange a refresh token for a new pair; the presented refresh token is used up.

    Refresh tokens rotate: keep only the newest. Presenting one that was already used
    is treated as theft: the whole login session (token family) is revoked, and both
    the replayed token and its successor stop working (401). The new access token
    carries the member's current role; a removed member gets a 401.
    """
    _no_store(response)
    return await refresh_token_pair(db, settings=settings, refresh_token=data.refresh_token)


@auth_router.post(
    "/logout",
    summary="Log out: revoke a refresh token's session",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 422),
)
async def logout(data: RefreshRequest, db: DatabaseDep, settings: SettingsDep) -> None:
    """Revoke the refresh token and every token rotated from the same login. Idempotent.

    Access tokens already issued stay valid until they expire (minutes); the client
    should drop them.
    """
    await revoke_refresh_family(db, settings=settings, refresh_token=data.refresh_token)


@auth_router.post(
    "/password-reset",
    summary="Ask for a password-reset mail",
    status_code=status.HTTP_202_ACCEPTED,
    responses=problem_responses(422, 429),
    dependencies=[AnonymousThrottle],
)
async def ask_for_password_reset(data: PasswordResetRequest, db: DatabaseDep, settings: SettingsDep) -> None:
    """Mail a single-use, expiring reset link if the address belongs to an account.

    Always 202, whether or not the address is known, so the endpoint cannot be used to
    find out who has an account.
    """
    await request_password_reset(db, settings=settings, email=data.email)


@auth_router.post(
    "/password-reset/confirm",
    summary="Set a new password with a reset token",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(401, 422),
)
async def confirm_password_reset(
    data: PasswordResetConfirm, db: DatabaseDep, settings: SettingsDep, limiter: RateLimiterDep
) -> None:
    """Set the new password with the token from a reset or invitation mail; unlocks the account.

    The account can log in at once: its lockout and its login throttling are cleared.
    An unknown, used or expired token is a 401; a password breaking the policy a 422.
    """
    await reset_password(
        db, settings=settings, limiter=limiter, token=data.token, new_password=data.new_password
    )


# --- the caller, members and API keys: authenticated ------------------------------------------

_AUTHENTICATED = (401, 429)


@account_router.get(
    "/me",
    summary="Who am I",
    tags=["account"],
    response_model=Me,
    responses=problem_responses(*_AUTHENTICATED, 404),
)
async def read_me(principal: CurrentPrincipal, db: DatabaseDep) -> Me:
    """The caller's shop, user (null for an API key) and the role this request acts with."""
    return await get_me(db, principal=principal)


@account_router.get(
    "/members",
    summary="List the shop's members",
    tags=["members"],
    response_model=list[MemberRead],
    responses=problem_responses(*_AUTHENTICATED, 403),
)
async def read_members(principal: CurrentPrincipal, db: DatabaseDep) -> list[MemberRead]:
    """Every member of the caller's shop with their role and lock state (staff roles only)."""
    return await list_members(db, principal=principal)


@account_router.post(
    "/members",
    summary="Add a member",
    tags=["members"],
    status_code=status.HTTP_201_CREATED,
    response_model=MemberRead,
    responses=problem_responses(*_AUTHENTICATED, 403, 409, 422),
)
async def create_member(
    data: MemberAdd, principal: CurrentPrincipal, db: DatabaseDep, settings: SettingsDep
) -> MemberRead:
    """Add a person to the shop with a role (owners and admins only).

    A new address gets an account without a password and an invitation mail to set
    one; an existing account just joins. Each member takes a seat of the `members`
    quota (403 `quota-exceeded` when none is left); an existing member is a 409.
    """
    return await add_member(db, settings=settings, principal=principal, data=data)


@account_router.patch(
    "/members/{user_id}",
    summary="Change a member's role",
    tags=["members"],
    response_model=MemberRead,
    responses=problem_responses(*_AUTHENTICATED, 403, 404, 409, 422),
)
async def change_member_role(
    user_id: UserId, data: MemberUpdate, principal: CurrentPrincipal, db: DatabaseDep
) -> MemberRead:
    """Give a member another role (owners and admins; only owners touch the `owner` role).

    The shop's last owner cannot be demoted (409).
    """
    return await update_member_role(db, principal=principal, user_id=user_id, data=data)


@account_router.delete(
    "/members/{user_id}",
    summary="Remove a member",
    tags=["members"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*_AUTHENTICATED, 403, 404, 409),
)
async def delete_member(user_id: UserId, principal: CurrentPrincipal, db: DatabaseDep) -> None:
    """Remove a member from the shop (owners and admins; only owners remove owners).

    The person keeps their account and other shops. The last owner cannot be removed
    (409). Their refresh tokens for this shop stop working at once; an access token
    already issued works until it expires.
    """
    await remove_member(db, principal=principal, user_id=user_id)


@account_router.post(
    "/members/{user_id}/unlock",
    summary="Unlock a member's account",
    tags=["members"],
    response_model=MemberRead,
    responses=problem_responses(*_AUTHENTICATED, 403, 404),
)
async def unlock(
    user_id: UserId,
    principal: CurrentPrincipal,
    db: DatabaseDep,
    settings: SettingsDep,
    limiter: RateLimiterDep,
) -> MemberRead:
    """Lift a lockout after failed logins, resetting failures and login throttling (owners and admins)."""
    return await unlock_member(db, settings=settings, limiter=limiter, principal=principal, user_id=user_id)


@account_router.get(
    "/api-keys",
    summary="List the shop's API keys",
    tags=["api-keys"],
    response_model=list[ApiKeyRead],
    responses=problem_responses(*_AUTHENTICATED, 403),
)
async def read_api_keys(principal: CurrentPrincipal, db: DatabaseDep) -> list[ApiKeyRead]:
    """Every API key of the shop, revoked ones included, newest first (owners and admins)."""
    return await list_api_keys(db, principal=principal)


@account_router.post(
    "/api-keys",
    summary="Create an API key",
    tags=["api-keys"],
    status_code=status.HTTP_201_CREATED,
    response_model=ApiKeyIssued,
    responses=problem_responses(*_AUTHENTICATED, 403, 422),
)
async def issue_api_key(
    data: ApiKeyCreate, principal: CurrentPrincipal, response: Response, db: DatabaseDep
) -> ApiKeyIssued:
    """Create a key that acts for the shop with a fixed role (owners and admins).

    The response is the only time the key itself is shown: store it now. Send it as
    the `X-API-Key` header.
    """
    _no_store(response)
    return await create_api_key(db, principal=principal, data=data)


@account_router.delete(
    "/api-keys/{key_id}",
    summary="Revoke an API key",
    tags=["api-keys"],
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(*_AUTHENTICATED, 403, 404),
)
async def delete_api_key(
    request: Request, key_id: KeyId, principal: CurrentPrincipal, db: DatabaseDep
) -> None:
    """Revoke a key: it stops working at once and stays listed, with `revoked_at` set."""
    await revoke_api_key(db, principal=principal, key_id=key_id)
    kept = platform_of(request).find(API_KEYS)
    if kept is not None:
        await kept.forget(key_id)


router.include_router(auth_router)
router.include_router(account_router)
