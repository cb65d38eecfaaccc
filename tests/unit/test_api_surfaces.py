"""Each package's public surface, pinned: a name added or removed is a reviewed change here.

The surfaces of tasks, catalog, search, usage, audit, datasets and the core modules are
pinned beside their own tests; these are the rest (httpx's ``test_exported_members``).
"""

from __future__ import annotations

import importlib

import pytest

pytestmark = pytest.mark.unit

SURFACES: dict[str, list[str]] = {
    "folio.identity.api": [
        "API_KEYS",
        "API_KEYS_CACHE",
        "API_KEY_HEADER",
        "ApiKeyCreate",
        "ApiKeyIssued",
        "ApiKeyRead",
        "EVENT_TYPES",
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
    ],
    "folio.mail.api": [
        "MailRead",
        "deliver_pending",
        "get_mail",
        "list_outbox",
        "queue_mail",
    ],
    "folio.pdfindex.api": [
        "IndexFormatError",
        "IndexNotFoundError",
        "InvertedIndex",
        "PdfExtractionError",
        "QuerySyntaxError",
        "extract_pdf",
        "open_index",
    ],
    "folio.textanalysis.api": [
        "TermWeight",
        "TfidfModel",
        "WorkLabel",
        "WorkTerms",
        "analyze",
        "analyze_tokens",
        "build_tfidf",
        "commonest_spellings",
        "normalize_word",
        "render_csv",
        "render_html",
        "top_terms_by_work",
    ],
    "folio.httpkit": [
        "AUTHENTICATOR",
        "Authenticator",
        "CurrentPrincipal",
        "DatabaseDep",
        "ETAG_HEADER",
        "IfMatch",
        "ObjectStoreDep",
        "PlatformDep",
        "RateLimiterDep",
        "SettingsDep",
        "client_ip",
        "expected_version",
        "platform_of",
        "problem_responses",
    ],
    "folio.clikit": [
        "CliContext",
        "EXIT_CONFIG_ERROR",
        "EXIT_FAILURE",
        "PlatformFactory",
        "ShopResolver",
        "examples",
        "pass_cli",
        "run_on_platform",
        "shop_option",
    ],
    "folio.core.platform": [
        "Platform",
        "ReadinessCheck",
        "Slot",
        "SlotNotWiredError",
    ],
    "folio.core.outbox": [
        "ClaimedEvent",
        "ConsumerStatus",
        "EventDraft",
        "OutboxConsumer",
        "OutboxDelivery",
        "OutboxEvent",
        "RelayLoop",
        "RelayReport",
        "RetryPolicy",
        "ack_events",
        "add_outbox_event",
        "add_outbox_events",
        "claim_events",
        "consumer_status",
        "count_pending",
        "fail_event",
        "list_poisoned",
        "requeue_poisoned",
        "subscribe_consumer",
    ],
    "folio.core.paging": [
        "CursorPage",
        "Page",
        "api_page_size",
        "check_page_number",
        "keyset_after",
        "keyset_slice",
        "page_offset",
        "page_size",
    ],
    "folio.core.versioning": [
        "check_version",
    ],
}


@pytest.mark.parametrize("module", sorted(SURFACES))
def test_the_public_surface_is_what_we_mean_to_export(module: str) -> None:
    """The module's ``__all__`` is exactly the pinned list, and every name in it resolves."""
    imported = importlib.import_module(module)
    assert sorted(imported.__all__) == SURFACES[module]
    assert all(getattr(imported, name, None) is not None for name in imported.__all__)
