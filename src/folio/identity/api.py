"""The identity context's public surface: what other contexts and entry points may import."""

from __future__ import annotations

from folio.identity.api_keys import (
    authenticate_api_key,
    create_api_key,
    last_used_buffer,
    list_api_keys,
    principal_for_api_key,
    revoke_api_key,
)
from folio.identity.authentication import (
    API_KEY_HEADER,
    API_KEYS,
    API_KEYS_CACHE,
    VerifiedApiKeys,
    VerifiedTokens,
    authenticate_credentials,
)
from folio.identity.events import EVENT_TYPES
from folio.identity.login import authenticate_password
from folio.identity.me import Me, get_me
from folio.identity.members import add_member, list_members, remove_member, unlock_member, update_member_role
from folio.identity.passwords import check_password_policy
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
    TenantRead,
    TokenPair,
    UserRead,
)
from folio.identity.service import (
    get_tenant_by_slug,
    get_user,
    is_platform_operator,
    list_tenants,
    principal_for,
    register_shop,
)
from folio.identity.tokens import (
    issue_access_token,
    issue_token_pair,
    refresh_token_pair,
    revoke_refresh_family,
    verify_access_token,
)

__all__ = [
    "API_KEYS",
    "API_KEYS_CACHE",
    "API_KEY_HEADER",
    "EVENT_TYPES",
    "ApiKeyCreate",
    "ApiKeyIssued",
    "ApiKeyRead",
    "Login",
    "Me",
    "MemberAdd",
    "MemberRead",
    "MemberUpdate",
    "PasswordResetConfirm",
    "PasswordResetRequest",
    "RefreshRequest",
    "RegisterShop",
    "Registration",
    "TenantRead",
    "TokenPair",
    "UserRead",
    "VerifiedApiKeys",
    "VerifiedTokens",
    "add_member",
    "authenticate_api_key",
    "authenticate_credentials",
    "authenticate_password",
    "check_password_policy",
    "create_api_key",
    "get_me",
    "get_tenant_by_slug",
    "get_user",
    "is_platform_operator",
    "issue_access_token",
    "issue_token_pair",
    "last_used_buffer",
    "list_api_keys",
    "list_members",
    "list_tenants",
    "principal_for",
    "principal_for_api_key",
    "refresh_token_pair",
    "register_shop",
    "remove_member",
    "request_password_reset",
    "reset_password",
    "revoke_api_key",
    "revoke_refresh_family",
    "unlock_member",
    "update_member_role",
    "verify_access_token",
]
