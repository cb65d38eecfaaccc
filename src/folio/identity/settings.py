"""The ``identity`` section: password hashing, tokens, sessions, login throttling and resets.

A pure declaration: it imports nothing from Folio but the kernel's settings base, so
``folio.core.settings.tree`` composes it into the tree without loading the context.
"""

from __future__ import annotations

from typing import Self

from pydantic import SecretStr, model_validator

from folio.core.settings.base import FolioSettingsBase
from folio.core.settings.fields import setting

MIN_HMAC_KEY_CHARS = 32
"""RFC 7518 3.2: an HS256 key is at least as long as the hash output (256 bits)."""


class IdentitySettings(FolioSettingsBase):
    """Identity: password hashing, tokens, sessions, login throttling and resets."""

    settings_path = ("identity",)

    jwt_keys: dict[str, SecretStr] = setting(
        default_factory=lambda: {"dev-1": SecretStr("folio-dev-jwt-key-change-me-0123456789abcdef")},
        insecure_default=True,
        description=(
            "HMAC keys that sign and verify JWTs, by key id (`kid`). Rotate without downtime by "
            "adding the new key, making it active, and removing the old one after `refresh_ttl_s`."
        ),
    )
    jwt_active_kid: str = setting("dev-1", description="Key id (in `jwt_keys`) that signs new tokens.")
    jwt_issuer: str = setting("folio", description="`iss` claim of issued tokens, checked on verify.")
    access_ttl_s: int = setting(900, ge=30, le=86_400, description="Lifetime of an access token.")
    refresh_ttl_s: int = setting(
        14 * 86_400, ge=300, le=90 * 86_400, description="Lifetime of a refresh token (and its family)."
    )
    argon2_time_cost: int = setting(3, ge=1, le=20, description="argon2id iterations.")
    argon2_memory_kib: int = setting(65_536, ge=8_192, description="argon2id memory per hash, in KiB.")
    argon2_parallelism: int = setting(2, ge=1, le=16, description="argon2id lanes.")
    password_min_length: int = setting(12, ge=8, le=128, description="Shortest password accepted.")
    lockout_threshold: int = setting(
        5, ge=1, le=100, description="Consecutive failed logins that lock an account."
    )
    lockout_base_s: int = setting(60, ge=1, description="First lockout; each further lockout doubles it.")
    lockout_max_s: int = setting(3_600, ge=1, description="Longest lockout.")
    login_rate_per_ip: str = setting(
        "20/minute", description="Login attempts allowed per client IP (`limits` notation)."
    )
    login_rate_per_account: str = setting(
        "10/minute", description="Login attempts allowed per account (`limits` notation)."
    )
    anonymous_rate_per_ip: str = setting(
        "20/hour",
        description=(
            "Registrations and password-reset requests allowed per client IP (`limits` notation): "
            "both cost a slow hash or a mail and need no credential."
        ),
    )
    reset_token_ttl_s: int = setting(3_600, ge=60, description="Lifetime of a password-reset token.")
    session_ttl_s: int = setting(8 * 3_600, ge=60, description="Idle lifetime of a web session.")
    cookie_secure: bool = setting(
        default=False,
        insecure_default=True,
        description="Send session cookies only over HTTPS; `prod` refuses `false`.",
    )

    @model_validator(mode="after")
    def _active_key_is_known_and_long(self) -> Self:
        if self.jwt_active_kid not in self.jwt_keys:
            known = ", ".join(sorted(self.jwt_keys)) or "none"
            raise ValueError(f"jwt_active_kid {self.jwt_active_kid!r} is not in jwt_keys (known: {known})")
        short = sorted(
            kid for kid, key in self.jwt_keys.items() if len(key.get_secret_value()) < MIN_HMAC_KEY_CHARS
        )
        if short:
            raise ValueError(f"jwt_keys must be at least 32 characters long; too short: {', '.join(short)}")
        return self
